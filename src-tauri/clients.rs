//! Active clients: one per converted lead (see [`Conversion`]). The lead stays, frozen, so the
//! campaign that brought the client is never lost; a client may get more contracts later.
//! Managers view and edit clients; a client is archived, never deleted.

mod conversion;

use chrono::{DateTime, Utc};
use phonenumber::country::Id as Country;
use serde::{Deserialize, Serialize};

use crate::app::{audit_entry, now, Crm, Direction, Keyset, ListQuery, Page, PageRequest};
use crate::contracts::{fetch_contract, Contract, ContractInput, DocumentUpload};
use crate::db::{reading, transact, Backend, Lock, Query, Tx};
use crate::domain::contact::{self, Email, Phone};
use crate::domain::id::{CampaignId, ClientId, LeadId, UserId, Version};
use crate::domain::text::{self, PersonName};
use crate::domain::Money;
use crate::error::{Checks, Error, Result};
use crate::history::Changes;
use crate::leads::{Search, SearchedSort};
use crate::permission::{Actor, Permission};
use crate::store::{set_archived, update_versioned};

pub use conversion::Conversion;

/// An active client with what it has bought so far.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Client {
    pub id: ClientId,
    /// The lead this client was converted from.
    pub lead_id: LeadId,
    pub full_name: String,
    /// E.164, e.g. `+79123456789`; serialized as people read it (`+7 912 345-67-89`).
    #[serde(serialize_with = "crate::domain::contact::serialize_phone")]
    pub phone: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    pub note: String,
    /// The campaign that brought the client, through the lead.
    pub campaign_id: Option<CampaignId>,
    pub campaign_name: Option<String>,
    /// How many contracts the client has.
    pub contracts: i64,
    /// The sum of the client's contracts' amounts.
    #[sqlx(try_from = "i64")]
    pub revenue: Money,
    pub is_archived: bool,
    pub version: Version,
    pub converted_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who is responsible for the client (the manager who converted it unless reassigned).
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
}

/// The client form: the contact details copied from the lead, now the client's own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientInput {
    pub full_name: String,
    /// Any common form (`8 (912) 345-67-89`, `+7 912 ...`); stored as E.164.
    pub phone: String,
    pub email: String,
    pub note: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    CreatedAt,
    FullName,
    Revenue,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientFilter {
    /// Part of a name, phone or e-mail; phone-like text also matches other national forms, as
    /// in the lead list.
    pub search: String,
    /// Clients brought by this campaign (through their lead).
    pub campaign_id: Option<CampaignId>,
    /// The responsible person's clients.
    pub owner_id: Option<UserId>,
    pub include_archived: bool,
    pub sort: ClientSort,
    pub direction: Option<Direction>,
    pub page: PageRequest,
}

/// The total of a clients list from the counts kept per archived or not, and per owner
/// (migrations/*/0028_list_counts.sql, 0041), when nothing else filters it.
fn kept_client_count(filter: &ClientFilter) -> Option<Query> {
    // every field named: a filter added later must say here whether the counts serve it
    let ClientFilter { search, campaign_id, owner_id, include_archived, sort: _, direction: _, page: _ } = filter;
    if !search.trim().is_empty() || campaign_id.is_some() {
        return None;
    }
    let list = match owner_id {
        // (ids below 1 exist nowhere, while the counts keep "no owner" as 0)
        Some(owner) if owner.get() < 1 => return None,
        Some(owner) => format!("clients_of:{}", owner.get()),
        None => "clients".to_owned(),
    };
    let mut q = Query::new("select cast(coalesce(sum(k.n), 0) as bigint) from list_counts k where k.list = ");
    q.push_bind(list);
    if !include_archived {
        q.push(" and k.is_archived = false");
    }
    Some(q)
}

/// Contract counts and revenue are the client's totals kept by every contract write
/// (`store::refresh_client_totals`), so a page never aggregates the contracts table.
const COLUMNS: &str = "select cl.id, cl.lead_id, cl.full_name, cl.phone, cl.email, cl.note, l.campaign_id,
    cp.name as campaign_name, cl.contracts, cl.revenue,
    cl.is_archived, cl.version, u.full_name as converted_by_name, cl.created_at, cl.updated_at,
    cl.owner_id, o.full_name as owner_name
    from clients cl
    join leads l on l.id = cl.lead_id
    join users u on u.id = cl.converted_by
    left join campaigns cp on cp.id = l.campaign_id
    left join users o on o.id = cl.owner_id";

/// Longest note on a client, as on a lead.
const MAX_NOTE: usize = 5000;

impl Crm {
    /// One page of clients, newest first unless asked otherwise, with the total.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_clients(&self, actor: &Actor, filter: &ClientFilter) -> Result<Page<Client>> {
        let list = self.clients_query(actor, filter)?;
        self.read_page(actor, list, filter.page).await
    }

    /// The query of the clients list for `filter`, after the checks every reader of it needs.
    pub(crate) fn clients_query(&self, actor: &Actor, filter: &ClientFilter) -> Result<ListQuery> {
        actor.require(Permission::ClientsView)?;
        crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
        let clause = filter_clause(filter, self.settings.phone_region, self.db.backend());
        let (column, default_direction) = match filter.sort {
            ClientSort::CreatedAt => ("cl.created_at", Direction::Desc),
            // the search text starts with the lower-cased name: case does not split the alphabet
            ClientSort::FullName => ("cl.search", Direction::Asc),
            ClientSort::Revenue => ("cl.revenue", Direction::Desc),
        };
        let keyset = Keyset::new(&[column, "cl.id"], filter.direction.unwrap_or(default_direction), " from clients cl");
        // the filters read clients only (the campaign through a subquery), so the count joins
        // nothing: at a million leads, joining each client to its lead cost ~0.3 s per page
        let count = "select count(*) from clients cl";
        let list = ListQuery::keyed(clause, count, COLUMNS, keyset).cut_by_ids();
        let region = self.settings.phone_region;
        Ok(match Search::parse(&filter.search, region).filter(Search::is_substring) {
            Some(search) => {
                let backend = self.db.backend();
                let on_row = conditions(filter, region, backend, true);
                let sorted = match filter.sort {
                    ClientSort::CreatedAt => SearchedSort::TableOrder,
                    ClientSort::FullName => SearchedSort::BySearchText,
                    ClientSort::Revenue => SearchedSort::Other,
                };
                search.bounded_list(list, backend, ("clients", "cl"), on_row, sorted)
            }
            None => match kept_client_count(filter) {
                Some(kept) => list.with_kept_count(kept),
                None => list,
            },
        })
    }

    /// One client with its contract count and revenue.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_client(&self, actor: &Actor, id: ClientId) -> Result<Client> {
        actor.require(Permission::ClientsView)?;
        reading!(actor.db, |tx| {
            let client = fetch_client(tx, id).await?;
            Ok(client)
        })
    }

    /// Saves an edit made on `version`; someone else's newer save is a `Conflict`. The client's
    /// contracts are searched by its name too, so their search text follows.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_client(
        &self,
        actor: &Actor,
        id: ClientId,
        version: Version,
        input: &ClientInput,
    ) -> Result<Client> {
        actor.require(Permission::ClientsEdit)?;
        let valid = self.validate_client(input)?;
        transact!(actor.db, |tx| {
            // a client before its contracts, as every contract write takes them (no deadlock)
            tx.lock(Lock::Client(id)).await?;
            let before = fetch_client(tx, id).await?;
            let update = Query::new(
                "update clients set full_name = $1, phone = $2, email = $3, note = $4, search = $5,
                 version = version + 1, updated_at = $6 where id = $7 and version = $8",
            )
            .bind(&valid.full_name)
            .bind(valid.phone.clone())
            .bind(valid.email.clone())
            .bind(&valid.note)
            .bind(crate::leads::search_text(&valid.full_name, valid.phone.as_deref(), valid.email.as_deref()))
            .bind(now())
            .bind(id)
            .bind(version);
            update_versioned(tx, "clients", "client", id, update).await?;
            // name_key is the contract's name lower-cased, so this equals contracts::search_text
            tx.execute(
                Query::new("update contracts set search = name_key || ' ' || $1 where client_id = $2")
                    .bind(text::key(&valid.full_name))
                    .bind(id),
            )
            .await?;
            let client = fetch_client(tx, id).await?;
            let mut changes = Changes::default();
            changes
                .field("full_name", Some(&before.full_name), Some(&client.full_name))
                .field("phone", before.phone.as_deref(), client.phone.as_deref())
                .field("email", before.email.as_deref(), client.email.as_deref())
                .field("note", Some(&before.note), Some(&client.note));
            audit_entry(tx, actor, "update", "client", id, &client.full_name, &changes).await?;
            Ok(client)
        })
    }

    /// Archives (or restores) a client: it leaves the list and takes no new contracts; its
    /// contracts and the statistics keep it.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_client_archived(
        &self,
        actor: &Actor,
        id: ClientId,
        version: Version,
        archived: bool,
    ) -> Result<Client> {
        actor.require(Permission::ClientsEdit)?;
        transact!(actor.db, |tx| {
            set_archived(tx, actor, "clients", "client", id, version, archived).await?;
            let client = fetch_client(tx, id).await?;
            Ok(client)
        })
    }

    /// A further contract for an existing, live client, optionally with its document.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn add_contract_to_client(
        &self,
        actor: &Actor,
        client_id: ClientId,
        input: &ContractInput,
        document: Option<DocumentUpload>,
    ) -> Result<Contract> {
        actor.require(Permission::ContractsEdit)?;
        transact!(actor.db, |tx| {
            // the client first, then its name: a client's edit at the same moment rewrites the
            // search text of the contracts it sees, and this one must be found by the new name
            tx.lock(Lock::Client(client_id)).await?;
            let holder: Option<(String, bool)> = tx
                .fetch_optional(Query::new("select full_name, is_archived from clients where id = $1").bind(client_id))
                .await?;
            let Some((name, archived)) = holder else {
                return Err(Error::NotFound { entity: "client", id: client_id.get() });
            };
            if archived {
                return Err(Error::state("client_archived"));
            }
            let id = self.insert_checked(tx, actor, input, document.clone(), Some((client_id, &name)), None).await?;
            let contract = fetch_contract(tx, id).await?;
            Ok(contract)
        })
    }

    fn validate_client(&self, input: &ClientInput) -> Result<ValidClient> {
        let mut checks = Checks::new();
        let full_name = checks.take(PersonName::parse("full_name", &input.full_name));
        let region = self.settings.phone_region;
        let (phone, email) = contact::parse_contacts(&mut checks, &input.phone, &input.email, region);
        let note = checks.take(text::free_text("note", &input.note, MAX_NOTE));
        checks.finish()?;
        Ok(ValidClient { full_name: full_name.unwrap_or_default(), phone, email, note: note.unwrap_or_default() })
    }
}

struct ValidClient {
    full_name: PersonName,
    phone: Option<Phone>,
    email: Option<Email>,
    note: String,
}

/// `where` over clients `cl` and their leads `l`, shared by the count and the page. The search
/// box reads as the lead list's does (see [`Search`]).
pub(crate) fn filter_clause(filter: &ClientFilter, region: Country, backend: Backend) -> Query {
    conditions(filter, region, backend, false)
}

/// [`filter_clause`], with a substring search tested `on_row` only if asked.
fn conditions(filter: &ClientFilter, region: Country, backend: Backend, on_row: bool) -> Query {
    let mut clause = Query::new(" where 1 = 1");
    if !filter.include_archived {
        clause.push(" and cl.is_archived = false");
    }
    match Search::parse(&filter.search, region) {
        Some(search) if on_row => search.push_on_row(&mut clause, backend, "clients", "cl"),
        Some(search) => search.push_condition(&mut clause, backend, "clients", "cl"),
        None => {}
    }
    if let Some(campaign_id) = filter.campaign_id {
        clause.push(" and cl.lead_id in (select id from leads where campaign_id = ").push_bind(campaign_id).push(")");
    }
    if let Some(owner) = filter.owner_id {
        clause.push(" and cl.owner_id = ").push_bind(owner);
    }
    clause
}

/// The clients of `ids` that exist, by id, read at once ([`crate::store::fetch_in`]).
pub(crate) async fn fetch_each(tx: &mut Tx, ids: &[i64]) -> Result<std::collections::HashMap<i64, Client>> {
    let clients: Vec<Client> = crate::store::fetch_in(tx, &format!("{COLUMNS} where cl.id"), ids).await?;
    Ok(clients.into_iter().map(|client| (client.id.get(), client)).collect())
}

pub(crate) async fn fetch_client(tx: &mut Tx, id: ClientId) -> Result<Client> {
    tx.fetch_optional(Query::new(format!("{COLUMNS} where cl.id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound { entity: "client", id: id.get() })
}
