//! Bulk actions on the lead and client lists: change status, assign an owner, archive or restore
//! the selected rows (picked one by one, or every row matching the list's filter). One
//! transaction per action; each record goes through the same rules as on its own, and one that
//! may not change is refused with its reason while the others are changed.

use serde::Deserialize;

use crate::app::{audit_entries, now, Crm};
use crate::cards::{change_owner, change_status, NewOwner};
use crate::clients::ClientFilter;
use crate::db::{reading, transact, Query, Tx};
use crate::domain::id::{ClientId, LeadId, LostReasonId, UserId, Version};
use crate::error::{Error, FieldError, Result};
use crate::history::{Changes, Record};
use crate::leads::{self, LeadFilter, LeadStatus};
use crate::permission::{Actor, Permission};
use crate::store::set_archived;

/// Which rows: the ids ticked in the list, or every row the list's filter matches. The ids are
/// of the list's kind of record (leads, clients, ...), one mechanism for all of them: each
/// action types them as it reads its rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Selection<F> {
    Ids { ids: Vec<i64> },
    Matching { filter: F },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LeadAction {
    SetStatus { status: LeadStatus, lost_reason_id: Option<LostReasonId> },
    SetOwner { owner_id: UserId },
    Archive,
    Restore,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ClientAction {
    SetOwner { owner_id: UserId },
    Archive,
    Restore,
}

/// The lists whose rows are only archived or restored in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveList {
    Contracts,
    Campaigns,
    Services,
}

impl ArchiveList {
    /// The table, its rows' name in the audit log, and the permission that archives them.
    fn parts(self) -> (&'static str, &'static str, Permission) {
        match self {
            Self::Contracts => ("contracts", "contract", Permission::ContractsEdit),
            Self::Campaigns => ("campaigns", "campaign", Permission::CampaignsEdit),
            Self::Services => ("services", "service", Permission::ServicesEdit),
        }
    }
}

/// What a bulk action did: the records changed, and each refused one with why.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub changed: Vec<i64>,
    pub refused: Vec<Refusal>,
}

#[derive(Debug)]
pub struct Refusal {
    pub id: i64,
    pub name: String,
    pub error: Error,
}

/// The most rows one action takes: beyond it, narrow the filter (a bigger change is a job for
/// the administrator's tools, not a click).
pub const MAX_ROWS: usize = 10_000;

impl Crm {
    /// Applies `action` to the selected leads. Status and archive need `leads.edit`, an owner
    /// `owners.assign`; a converted lead, a restore whose phone is taken, a lost status without
    /// a reason are refused per record.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn bulk_leads(
        &self,
        actor: &Actor,
        selection: &Selection<LeadFilter>,
        action: &LeadAction,
    ) -> Result<BulkOutcome> {
        actor.require(Permission::LeadsView)?;
        match action {
            LeadAction::SetOwner { .. } => actor.require(Permission::OwnersAssign)?,
            _ => actor.require(Permission::LeadsEdit)?,
        }
        if let LeadAction::SetStatus { status: LeadStatus::Converted, .. } = action {
            return Err(Error::field("status", "convert_instead"));
        }
        let ids = match selection {
            Selection::Ids { ids } => checked(ids.clone())?,
            Selection::Matching { filter } => {
                crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
                let mut q = self.lead_conditions(filter).prefixed("select l.id from leads l");
                q.push(" order by l.id limit ").push_bind(MAX_ROWS as i64 + 1);
                self.ids(actor, q).await?
            }
        };
        transact!(actor.db, |tx| {
            let mut outcome = BulkOutcome::default();
            // read once, at the first record it is needed for
            let mut owner: Option<NewOwner> = None;
            // every record read at once (each as this transaction first sees it)
            let mut found = leads::fetch_each(tx, &ids).await?;
            if let LeadAction::SetOwner { owner_id } = action {
                let owned = owned(&mut outcome, "lead", &ids, found, |lead| match lead.status {
                    LeadStatus::Converted => Err((lead.full_name, Error::state("lead_converted_locked"))),
                    _ => Ok(Owned {
                        id: lead.id.get(),
                        version: lead.version,
                        name: lead.full_name,
                        owner: lead.owner_name,
                    }),
                });
                let owner = NewOwner::read(tx, *owner_id).await?;
                set_owners(tx, actor, |id| Record::Lead(LeadId::new(id)), owned, &owner, &mut outcome).await?;
                return Ok(outcome);
            }
            for &id in &ids {
                let Some(lead) = found.remove(&id) else {
                    let error = Error::NotFound { entity: "lead", id };
                    outcome.refused.push(Refusal { id, name: String::new(), error });
                    continue;
                };
                let result = savepoint(tx, async |tx: &mut Tx| match action {
                    LeadAction::SetStatus { status, lost_reason_id } => {
                        change_status(tx, actor, &lead, lead.version, *status, *lost_reason_id).await
                    }
                    LeadAction::SetOwner { owner_id } => {
                        let owner = NewOwner::once(&mut owner, tx, *owner_id).await?;
                        change_owner(tx, actor, Record::Lead(lead.id), lead.version, owner).await
                    }
                    LeadAction::Archive => leads::change_archived(tx, actor, &lead, lead.version, true).await,
                    LeadAction::Restore => leads::change_archived(tx, actor, &lead, lead.version, false).await,
                })
                .await?;
                record(&mut outcome, id, lead.full_name, result);
            }
            Ok(outcome)
        })
    }

    /// Applies `action` to the selected clients: an owner needs `owners.assign`, archiving
    /// `clients.edit`.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn bulk_clients(
        &self,
        actor: &Actor,
        selection: &Selection<ClientFilter>,
        action: &ClientAction,
    ) -> Result<BulkOutcome> {
        actor.require(Permission::ClientsView)?;
        match action {
            ClientAction::SetOwner { .. } => actor.require(Permission::OwnersAssign)?,
            _ => actor.require(Permission::ClientsEdit)?,
        }
        let ids = match selection {
            Selection::Ids { ids } => checked(ids.clone())?,
            Selection::Matching { filter } => {
                crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
                let mut q = crate::clients::filter_clause(filter, self.settings.phone_region, self.db.backend())
                    .prefixed("select cl.id from clients cl");
                q.push(" order by cl.id limit ").push_bind(MAX_ROWS as i64 + 1);
                self.ids(actor, q).await?
            }
        };
        transact!(actor.db, |tx| {
            let mut outcome = BulkOutcome::default();
            // read once, at the first record it is needed for
            let mut owner: Option<NewOwner> = None;
            let mut found = crate::clients::fetch_each(tx, &ids).await?;
            if let ClientAction::SetOwner { owner_id } = action {
                let owned = owned(&mut outcome, "client", &ids, found, |client| {
                    let (id, version) = (client.id.get(), client.version);
                    Ok(Owned { id, version, name: client.full_name, owner: client.owner_name })
                });
                let owner = NewOwner::read(tx, *owner_id).await?;
                set_owners(tx, actor, |id| Record::Client(ClientId::new(id)), owned, &owner, &mut outcome).await?;
                return Ok(outcome);
            }
            for &id in &ids {
                let Some(client) = found.remove(&id) else {
                    let error = Error::NotFound { entity: "client", id };
                    outcome.refused.push(Refusal { id, name: String::new(), error });
                    continue;
                };
                let result = savepoint(tx, async |tx: &mut Tx| match action {
                    ClientAction::SetOwner { owner_id } => {
                        let owner = NewOwner::once(&mut owner, tx, *owner_id).await?;
                        change_owner(tx, actor, Record::Client(client.id), client.version, owner).await
                    }
                    ClientAction::Archive | ClientAction::Restore => {
                        let archived = matches!(action, ClientAction::Archive);
                        set_archived(tx, actor, "clients", "client", id, client.version, archived).await
                    }
                })
                .await?;
                record(&mut outcome, id, client.full_name, result);
            }
            Ok(outcome)
        })
    }

    /// Archives (or restores) the ticked contracts, campaigns or services, or every one the
    /// list's filter matches (the filter as the list page sends it), each as it is now, with
    /// the permission that archives one of them.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn bulk_archive(
        &self,
        actor: &Actor,
        list: ArchiveList,
        selection: &Selection<serde_json::Value>,
        archived: bool,
    ) -> Result<BulkOutcome> {
        let (table, entity, permission) = list.parts();
        actor.require(permission)?;
        let ids = match selection {
            Selection::Ids { ids } => checked(ids.clone())?,
            Selection::Matching { filter } => {
                fn parse<F: serde::de::DeserializeOwned>(filter: &serde_json::Value) -> Result<F> {
                    serde_json::from_value(filter.clone()).map_err(|_| Error::field("selection", "not_allowed"))
                }
                let (list, id) = match list {
                    ArchiveList::Contracts => (self.contracts_query(actor, &parse(filter)?)?, "c.id"),
                    ArchiveList::Campaigns => {
                        (self.campaigns_query(actor, &parse(filter)?, crate::campaigns::today())?, "c.id")
                    }
                    ArchiveList::Services => (self.services_query(actor, &parse(filter)?)?, "id"),
                };
                let mut q = list.ids(id);
                q.push(" order by ").push(id).push(" limit ").push_bind(MAX_ROWS as i64 + 1);
                self.ids(actor, q).await?
            }
        };
        transact!(actor.db, |tx| {
            let mut outcome = BulkOutcome::default();
            for &id in &ids {
                let row: Option<(String, Version, bool)> = tx
                    .fetch_optional(
                        Query::new(format!("select name, version, is_archived from {table} where id = $1")).bind(id),
                    )
                    .await?;
                let Some((name, version, is_archived)) = row else {
                    outcome.refused.push(Refusal { id, name: String::new(), error: Error::NotFound { entity, id } });
                    continue;
                };
                if is_archived == archived {
                    // already so: nothing to change, nothing to record
                    continue;
                }
                let result = savepoint(tx, async |tx: &mut Tx| {
                    set_archived(tx, actor, table, entity, id, version, archived).await
                })
                .await?;
                record(&mut outcome, id, name, result);
            }
            Ok(outcome)
        })
    }

    async fn ids(&self, actor: &Actor, query: Query) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = reading!(actor.db, |tx| { tx.fetch_all(query.clone()).await })?;
        checked(rows.into_iter().map(|(id,)| id).collect())
    }
}

/// The ids without repeats, refused when there are none or more than [`MAX_ROWS`].
fn checked(mut ids: Vec<i64>) -> Result<Vec<i64>> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(Error::field("selection", "nothing_selected"));
    }
    if ids.len() > MAX_ROWS {
        return Err(Error::Invalid(vec![FieldError::new("selection", "too_many_rows").with("max", MAX_ROWS)]));
    }
    Ok(ids)
}

/// Runs one record's change inside a savepoint: a refusal (or a failed statement, which would
/// otherwise abort the whole transaction on PostgreSQL) undoes that record only. Only a failure
/// of the savepoint itself ends the action.
async fn savepoint<F>(tx: &mut Tx, change: F) -> Result<Result<()>>
where
    F: AsyncFnOnce(&mut Tx) -> Result<()>,
{
    tx.execute(Query::new("savepoint bulk_record")).await?;
    match change(tx).await {
        Ok(()) => {
            tx.execute(Query::new("release savepoint bulk_record")).await?;
            Ok(Ok(()))
        }
        Err(error) => {
            tx.execute(Query::new("rollback to savepoint bulk_record")).await?;
            tx.execute(Query::new("release savepoint bulk_record")).await?;
            Ok(Err(error))
        }
    }
}

/// A record whose owner a bulk change sets, as its transaction read it.
struct Owned {
    id: i64,
    version: Version,
    name: String,
    /// The present owner's name.
    owner: Option<String>,
}

/// The records of `ids` found (in `found`) for [`set_owners`], as `own` takes each (or refuses
/// it, with its name); those not found are refused.
fn owned<R>(
    outcome: &mut BulkOutcome,
    entity: &'static str,
    ids: &[i64],
    mut found: std::collections::HashMap<i64, R>,
    own: impl Fn(R) -> std::result::Result<Owned, (String, Error)>,
) -> Vec<Owned> {
    let mut owned = Vec::with_capacity(ids.len());
    for &id in ids {
        match found.remove(&id).map(&own) {
            Some(Ok(record)) => owned.push(record),
            Some(Err((name, error))) => outcome.refused.push(Refusal { id, name, error }),
            None => outcome.refused.push(Refusal { id, name: String::new(), error: Error::NotFound { entity, id } }),
        }
    }
    owned
}

/// How many records [`set_owners`] changes with one statement.
const OWNERS_AT_ONCE: usize = 500;

/// Makes `owner` responsible for each of `records` (leads or clients, as `record_of` names one
/// by id), as [`change_owner`] does one: [`OWNERS_AT_ONCE`] of them with one update and one
/// insert into the audit log. A savepoint, a read, an update and an audit entry for each record
/// took 50 leads 80-112 ms on PostgreSQL (its leads' triggers keep counts once a statement, and
/// each update adds an entry to every one of the table's 23 indexes), now 21-28; on SQLite 13
/// -> 4. A part whose statement fails, or one of whose records was saved since it was read (a
/// colleague's change on the office server), is undone and done record by record as before,
/// each refusal its own.
async fn set_owners(
    tx: &mut Tx,
    actor: &Actor,
    record_of: fn(i64) -> Record,
    records: Vec<Owned>,
    owner: &NewOwner,
    outcome: &mut BulkOutcome,
) -> Result<()> {
    let Ok(new_owner) = owner.check() else {
        // (each refusal its own error, as each record's own change said it)
        for Owned { id, name, .. } in records {
            if let Err(error) = owner.check() {
                outcome.refused.push(Refusal { id, name, error });
            }
        }
        outcome.refused.sort_by_key(|refusal| refusal.id);
        return Ok(());
    };
    for part in records.chunks(OWNERS_AT_ONCE) {
        tx.execute(Query::new("savepoint bulk_owners")).await?;
        let (entity, _) = record_of(part[0].id).parts();
        if owners_at_once(tx, actor, entity, part, owner.id(), new_owner).await.unwrap_or(false) {
            tx.execute(Query::new("release savepoint bulk_owners")).await?;
            outcome.changed.extend(part.iter().map(|owned| owned.id));
            continue;
        }
        tx.execute(Query::new("rollback to savepoint bulk_owners")).await?;
        tx.execute(Query::new("release savepoint bulk_owners")).await?;
        for owned in part {
            let result = savepoint(tx, async |tx: &mut Tx| {
                change_owner(tx, actor, record_of(owned.id), owned.version, owner).await
            })
            .await?;
            record(outcome, owned.id, owned.name.clone(), result);
        }
    }
    outcome.changed.sort_unstable();
    outcome.refused.sort_by_key(|refusal| refusal.id);
    Ok(())
}

/// One statement's part of [`set_owners`]: whether every record in `part` was changed from the
/// version it was read at (if not, the caller undoes the part).
async fn owners_at_once(
    tx: &mut Tx,
    actor: &Actor,
    entity: &str,
    part: &[Owned],
    owner: UserId,
    owner_name: &str,
) -> Result<bool> {
    let table = if entity == "lead" { "leads" } else { "clients" };
    let mut update = Query::new(format!("update {table} set owner_id = "));
    update.push_bind(owner).push(", version = version + 1, updated_at = ").push_bind(now());
    update.push(" where id in ").push_list(part.iter().map(|owned| owned.id)).push(" returning id, version");
    let changed: std::collections::HashMap<i64, Version> = tx.fetch_all(update).await?.into_iter().collect();
    if changed.len() != part.len() || part.iter().any(|owned| changed.get(&owned.id) != Some(&owned.version.next())) {
        return Ok(false);
    }
    let changes: Vec<Changes> = part
        .iter()
        .map(|owned| {
            let mut changes = Changes::default();
            changes.field("owner", owned.owner.as_deref(), Some(owner_name));
            changes
        })
        .collect();
    let entries: Vec<(i64, &str, &Changes)> =
        part.iter().zip(&changes).map(|(owned, changes)| (owned.id, owned.name.as_str(), changes)).collect();
    audit_entries(tx, actor, "owner", entity, &entries).await?;
    Ok(true)
}

fn record(outcome: &mut BulkOutcome, id: i64, name: String, result: Result<()>) {
    match result {
        Ok(()) => outcome.changed.push(id),
        Err(error) => outcome.refused.push(Refusal { id, name, error }),
    }
}
