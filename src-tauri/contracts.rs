//! Contracts: a service sold for an amount over a period, with the signed document. A contract may
//! be prepared before its client exists and attached when the lead converts (`clients.rs`); a
//! client may get more later. Managers edit them; a contract is archived, never deleted.

mod document;
mod input;
mod row;
#[doc(hidden)]
pub mod samples;
mod structure;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{audit, now, Crm, Direction, Keyset, ListQuery, Page, PageRequest};
use crate::db::{reading, transact, Backend, Lock, Query, Tx};
use crate::domain::id::{ClientId, ContractId, ImportId, ServiceId, Version};
use crate::domain::{text, Money};
use crate::error::{Checks, Error, Result};
use crate::leads::{Search, SearchedSort};
use crate::permission::{Actor, Permission};
use crate::store::{name_race, refresh_client_totals, set_archived, update_versioned};

use document::store_document;
pub use document::{extension_of, Document, DocumentInfo, DocumentRules, DocumentUpload};
pub use input::ContractInput;
use input::{check_input, ValidContract};
pub(crate) use row::fetch_contract;
use row::{ensure_exists, ContractRow, COLUMNS, FROM};

/// A contract as screens show it, with its service's and client's names.
#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub id: ContractId,
    pub name: String,
    pub service_id: ServiceId,
    pub service_name: String,
    pub client_id: Option<ClientId>,
    pub client_name: Option<String>,
    pub signed_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub amount: Money,
    /// The document's details; its bytes come only from [`Crm::get_document`].
    pub document: Option<DocumentInfo>,
    pub is_archived: bool,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractSort {
    #[default]
    SignedOn,
    Name,
    Amount,
    ValidTo,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContractFilter {
    /// Matches the contract's name and its client's name, ignoring case.
    pub search: String,
    pub service_id: Option<ServiceId>,
    pub client_id: Option<ClientId>,
    /// Only contracts with no client yet: the picker of a lead conversion.
    pub unassigned_only: bool,
    /// Only live contracts whose validity ends within the office's warning period
    /// (`Settings::expiring_days`) from today.
    pub expiring: bool,
    pub signed_from: Option<NaiveDate>,
    pub signed_to: Option<NaiveDate>,
    pub include_archived: bool,
    pub sort: ContractSort,
    pub direction: Option<Direction>,
    pub page: PageRequest,
}

impl Crm {
    /// One page of contracts, latest signed first unless asked otherwise, with the total.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_contracts(&self, actor: &Actor, filter: &ContractFilter) -> Result<Page<Contract>> {
        let list = self.contracts_query(actor, filter)?;
        let page: Page<ContractRow> = self.read_page(actor, list, filter.page).await?;
        Ok(page.map(Contract::from))
    }

    /// Every contract of the list for `filter` in its order, one at a time (exports).
    pub(crate) async fn each_contract(
        &self,
        actor: &Actor,
        filter: &ContractFilter,
        start: impl FnOnce(u64),
        mut each: impl FnMut(Contract) -> Result<()>,
    ) -> Result<u64> {
        let list = self.contracts_query(actor, filter)?;
        self.read_all(actor, list, start, |row: ContractRow| each(Contract::from(row))).await
    }

    /// The query of the contracts list for `filter` (rows are [`ContractRow`]s), after the checks
    /// every reader of it needs.
    pub(crate) fn contracts_query(&self, actor: &Actor, filter: &ContractFilter) -> Result<ListQuery> {
        actor.require(Permission::ContractsView)?;
        crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
        crate::domain::date::check_period(("signed_from", filter.signed_from), ("signed_to", filter.signed_to))?;
        let backend = self.db.backend();
        let clause = filter_clause(filter, self.settings.expiring_days, backend, false);
        let (column, default_direction) = match filter.sort {
            // The contracts ending soon were signed long ago: read backwards along the signing
            // index, PostgreSQL skipped every recent contract for a page (31,000 rows, 28 ms at
            // a million leads). They are a few weeks' worth (13,000), found by the validity
            // index that also holds the signing day: sorted from it they take 5 ms. The key as
            // an expression no index serves keeps the planner there (SQLite sorts them anyway).
            ContractSort::SignedOn if filter.expiring => ("coalesce(c.signed_on, c.signed_on)", Direction::Desc),
            ContractSort::SignedOn => ("c.signed_on", Direction::Desc),
            ContractSort::Name => ("c.name_key", Direction::Asc),
            ContractSort::Amount => ("c.amount", Direction::Desc),
            ContractSort::ValidTo => ("c.valid_to", Direction::Asc),
        };
        let keyset = Keyset::new(&[column, "c.id"], filter.direction.unwrap_or(default_direction), " from contracts c");
        // the filters read contracts only and each join adds columns of at most one row, so
        // the count joins nothing (143,854 contracts: 100 ms joined, 6 ms alone)
        let (count, select) = ("select count(*) from contracts c", format!("{COLUMNS}{FROM}"));
        // the page is cut before the joins (the contracts ending soon from the validity index,
        // which migration 0024 makes hold the signing day and amount too)
        let list = ListQuery::keyed(clause, count, &select, keyset).cut_by_ids();
        // a search counts its matches up to a bound and reads past it as their density says,
        // as the lists of people do (a common fragment is in a third of the contracts)
        if let Some(search) = Search::substring(&filter.search) {
            let on_row = filter_clause(filter, self.settings.expiring_days, backend, true);
            return Ok(search.bounded_list(list, backend, ("contracts", "c"), on_row, SearchedSort::Other));
        }
        Ok(match kept_contract_count(filter) {
            Some(kept) => list.with_kept_count(kept),
            None => list,
        })
    }

    /// One contract with its document's details (not its bytes).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_contract(&self, actor: &Actor, id: ContractId) -> Result<Contract> {
        actor.require(Permission::ContractsView)?;
        reading!(actor.db, |tx| {
            let contract = fetch_contract(tx, id).await?;
            Ok(contract)
        })
    }

    /// Creates a contract with no client yet (it is attached when a lead converts), optionally
    /// with its document; every field error, the document's included, comes back at once.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_contract(
        &self,
        actor: &Actor,
        input: &ContractInput,
        document: Option<DocumentUpload>,
    ) -> Result<Contract> {
        actor.require(Permission::ContractsEdit)?;
        transact!(actor.db, |tx| {
            let id = self.insert_checked(tx, actor, input, document.clone(), None, None).await?;
            let contract = fetch_contract(tx, id).await?;
            Ok(contract)
        })
    }

    /// Saves an edit made on `version`; someone else's newer save is a `Conflict`. The client and
    /// the document are changed by their own use cases.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_contract(
        &self,
        actor: &Actor,
        id: ContractId,
        version: Version,
        input: &ContractInput,
    ) -> Result<Contract> {
        actor.require(Permission::ContractsEdit)?;
        transact!(actor.db, |tx| {
            let mut current = fetch_contract(tx, id).await?;
            if let Some(client_id) = current.client_id {
                // the client before its contracts, as a client's edit takes them (no deadlock);
                // read again once it is held: the client's name may have changed meanwhile
                tx.lock(Lock::Client(client_id)).await?;
                current = fetch_contract(tx, id).await?;
            }
            let mut checks = Checks::new();
            let valid = check_input(tx, &mut checks, input, Some(&current)).await?;
            checks.finish()?;
            let update = Query::new(
                "update contracts set name = $1, name_key = $2, service_id = $3, signed_on = $4, valid_from = $5,
                 valid_to = $6, amount = $7, search = $8, version = version + 1, updated_at = $9
                 where id = $10 and version = $11",
            )
            .bind(&valid.name)
            .bind(text::key(&valid.name))
            .bind(valid.service_id)
            .bind(valid.signed_on)
            .bind(valid.valid_from)
            .bind(valid.valid_to)
            .bind(valid.amount.kopecks())
            .bind(search_text(&valid.name, current.client_name.as_deref()))
            .bind(now())
            .bind(id)
            .bind(version);
            update_versioned(tx, "contracts", "contract", id, update).await.map_err(name_race)?;
            if let Some(client_id) = current.client_id {
                refresh_client_totals(tx, client_id).await?;
            }
            audit(tx, actor, "update", "contract", id, &valid.name).await?;
            let contract = fetch_contract(tx, id).await?;
            Ok(contract)
        })
    }

    /// Stores the contract's document, replacing any earlier one; a new version of the contract.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn attach_document(
        &self,
        actor: &Actor,
        contract_id: ContractId,
        version: Version,
        document: DocumentUpload,
    ) -> Result<Contract> {
        actor.require(Permission::ContractsEdit)?;
        let checked = document.check(self.settings.document_rules()).map_err(|e| Error::Invalid(vec![e]))?;
        transact!(actor.db, |tx| {
            let update = Query::new(
                "update contracts set version = version + 1, updated_at = $1 where id = $2 and version = $3",
            )
            .bind(now())
            .bind(contract_id)
            .bind(version);
            update_versioned(tx, "contracts", "contract", contract_id, update).await?;
            let file_name = checked.file_name().to_owned();
            store_document(tx, actor, contract_id, checked.clone()).await?;
            audit(tx, actor, "attach_document", "contract", contract_id, &file_name).await?;
            let contract = fetch_contract(tx, contract_id).await?;
            Ok(contract)
        })
    }

    /// Whether `actor` may pick document files at all: the window asks before it opens a file
    /// dialog, so nobody chooses a file only to be refused.
    pub fn may_read_document_files(&self, actor: &Actor) -> Result<()> {
        actor.require(Permission::ContractsEdit)
    }

    /// Reads a document file the user picked (see [`DocumentUpload::read_picked`]) for a contract
    /// form: only those who may save contracts may load files through the CRM.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn read_document_file(&self, actor: &Actor, path: std::path::PathBuf) -> Result<DocumentUpload> {
        self.may_read_document_files(actor)?;
        let rules = self.settings.document_rules();
        tokio::task::spawn_blocking(move || DocumentUpload::read_picked(&path, rules))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| Error::Invalid(vec![e]))
    }

    /// The contract's document with its bytes; `no_document` when it has none.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_document(&self, actor: &Actor, contract_id: ContractId) -> Result<Document> {
        actor.require(Permission::ContractsView)?;
        let document = reading!(actor.db, |tx| {
            ensure_exists(tx, contract_id).await?;
            document::load_document(tx, contract_id).await
        })?;
        document.ok_or_else(|| Error::state("no_document"))
    }

    /// Archives (or restores) a contract: it leaves the lists and pickers, its history stays.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_contract_archived(
        &self,
        actor: &Actor,
        id: ContractId,
        version: Version,
        archived: bool,
    ) -> Result<Contract> {
        actor.require(Permission::ContractsEdit)?;
        transact!(actor.db, |tx| {
            set_archived(tx, actor, "contracts", "contract", id, version, archived).await?;
            let contract = fetch_contract(tx, id).await?;
            Ok(contract)
        })
    }

    /// Validates a new contract and its document together, inserts both and returns the new id.
    /// Shared by [`Crm::create_contract`], adding a contract to a client and lead conversion.
    pub(crate) async fn insert_checked(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        input: &ContractInput,
        document: Option<DocumentUpload>,
        client: Option<(ClientId, &str)>,
        import_id: Option<ImportId>,
    ) -> Result<ContractId> {
        let mut checks = Checks::new();
        let valid = check_input(tx, &mut checks, input, None).await?;
        let document = document.and_then(|d| checks.take(d.check(self.settings.document_rules())));
        checks.finish()?;
        let id = insert_contract(tx, actor, &valid, client, import_id).await?;
        audit(tx, actor, "create", "contract", id, &valid.name).await?;
        if let Some(document) = document {
            store_document(tx, actor, id, document).await?;
        }
        Ok(id)
    }
}

/// The total of a contracts list from the counts kept per archived or not
/// (migrations/*/0028_list_counts.sql), when nothing else filters it.
fn kept_contract_count(filter: &ContractFilter) -> Option<Query> {
    // every field named: a filter added later must say here whether the counts serve it
    let ContractFilter {
        search,
        service_id,
        client_id,
        unassigned_only,
        expiring,
        signed_from,
        signed_to,
        include_archived,
        sort: _,
        direction: _,
        page: _,
    } = filter;
    let filtered = *expiring
        || !search.trim().is_empty()
        || service_id.is_some()
        || client_id.is_some()
        || *unassigned_only
        || signed_from.is_some()
        || signed_to.is_some();
    if filtered {
        return None;
    }
    let mut q =
        Query::new("select cast(coalesce(sum(k.n), 0) as bigint) from list_counts k where k.list = 'contracts'");
    if !include_archived {
        q.push(" and k.is_archived = false");
    }
    Some(q)
}

/// ` where ...` for a contract filter, on alias `c`; a search tested `on_row` only if asked (see
/// [`Search::push_on_row`]).
fn filter_clause(filter: &ContractFilter, expiring_days: u32, backend: Backend, on_row: bool) -> Query {
    let mut clause = Query::new(" where 1 = 1");
    if !filter.include_archived || filter.expiring {
        clause.push(" and c.is_archived = false");
    }
    if filter.expiring {
        let today = chrono::Local::now().date_naive();
        let last = today.checked_add_days(chrono::Days::new(expiring_days.into())).unwrap_or(today);
        clause.push(" and c.valid_to >= ").push_bind(today).push(" and c.valid_to <= ").push_bind(last);
    }
    match Search::substring(&filter.search) {
        Some(search) if on_row => search.push_on_row(&mut clause, backend, "contracts", "c"),
        Some(search) => search.push_condition(&mut clause, backend, "contracts", "c"),
        None => {}
    }
    if let Some(service_id) = filter.service_id {
        clause.push(" and c.service_id = ").push_bind(service_id);
    }
    if let Some(client_id) = filter.client_id {
        clause.push(" and c.client_id = ").push_bind(client_id);
    }
    if filter.unassigned_only {
        clause.push(" and c.client_id is null");
    }
    if let Some(from) = filter.signed_from {
        clause.push(" and c.signed_on >= ").push_bind(from);
    }
    if let Some(to) = filter.signed_to {
        clause.push(" and c.signed_on <= ").push_bind(to);
    }
    clause
}

/// What list search matches: the contract's name and its client's, lower-cased.
pub(crate) fn search_text(name: &str, client_name: Option<&str>) -> String {
    text::key(format!("{name} {}", client_name.unwrap_or_default()).trim_end())
}

async fn insert_contract(
    tx: &mut Tx,
    actor: &Actor,
    valid: &ValidContract,
    client: Option<(ClientId, &str)>,
    import_id: Option<ImportId>,
) -> Result<ContractId> {
    let at = now();
    let id = tx
        .scalar(
            Query::new(
                "insert into contracts (name, name_key, service_id, client_id, signed_on, valid_from, valid_to, amount,
                                    search, created_by, created_at, updated_at, import_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) returning id",
            )
            .bind(&valid.name)
            .bind(text::key(&valid.name))
            .bind(valid.service_id)
            .bind(client.map(|c| c.0))
            .bind(valid.signed_on)
            .bind(valid.valid_from)
            .bind(valid.valid_to)
            .bind(valid.amount.kopecks())
            .bind(search_text(&valid.name, client.map(|c| c.1)))
            .bind(actor.user_id)
            .bind(at)
            .bind(import_id),
        )
        .await
        .map_err(name_race)?;
    if let Some((client_id, _)) = client {
        refresh_client_totals(tx, client_id).await?;
    }
    Ok(id)
}
