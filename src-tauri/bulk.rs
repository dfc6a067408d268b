//! Bulk actions on the lists: change status, assign an owner, archive or restore the selected
//! rows (picked one by one, or every row matching the list's filter) of leads and clients, and
//! archive or restore contracts, campaigns and services. One transaction per action; each record
//! goes through the same rules as on its own, and one that may not change is refused with its
//! reason while the others are changed, a few hundred a statement ([`change_at_once`]).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::app::{audit_entries, now, Crm};
use crate::cards::{change_owner, change_status, NewOwner};
use crate::clients::ClientFilter;
use crate::db::{reading, transact, Query, Tx, Value};
use crate::domain::id::{ClientId, LeadId, LostReasonId, UserId, Version};
use crate::error::{Checks, Error, FieldError, Result};
use crate::history::{Changes, Record};
use crate::leads::{self, LeadFilter, LeadStatus};
use crate::permission::{Actor, Permission};
use crate::store::{archive_action, fetch_in, set_archived};

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

impl BulkOutcome {
    /// The same, each list in the order of the records' ids.
    fn in_order(mut self) -> Self {
        self.changed.sort_unstable();
        self.refused.sort_by_key(|refusal| refusal.id);
        self
    }
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
            // every record read at once (each as this transaction first sees it)
            let found = leads::fetch_each(tx, &ids).await?;
            let leads = found_or_refused(&mut outcome, "lead", &ids, found);
            // (the lead a record left to be changed on its own was read as)
            let lead_of =
                |picked: &Picked| leads.get(&picked.id).ok_or(Error::NotFound { entity: "lead", id: picked.id });
            match action {
                LeadAction::SetOwner { owner_id } => {
                    let owner = NewOwner::read(tx, *owner_id).await?;
                    let picked = pick(&mut outcome, leads.values(), |lead| {
                        leads::ensure_not_converted(lead)?;
                        Ok(Picked::of(lead.id.get(), lead.version, &lead.full_name).change(
                            "owner",
                            lead.owner_name.as_deref(),
                            Some(owner.check()?),
                        ))
                    });
                    let lead = |id| Record::Lead(LeadId::new(id));
                    owner_each(tx, actor, &owner, ("leads", lead), picked, &mut outcome).await?;
                }
                LeadAction::SetStatus { status, lost_reason_id } => {
                    // the reason each lead is left with (its own, if it had one and none is given)
                    let mut reasons = Reasons::default();
                    let mut groups: BTreeMap<Option<LostReasonId>, Vec<Picked>> = BTreeMap::new();
                    for lead in leads.values() {
                        let reason = match leads::ensure_not_converted(lead) {
                            Ok(()) => reasons.of(tx, lead, *status, *lost_reason_id).await?,
                            Err(error) => Err(error),
                        };
                        match reason {
                            Ok((reason, name)) => groups.entry(reason).or_default().push(
                                Picked::of(lead.id.get(), lead.version, &lead.full_name)
                                    .change("status", Some(lead.status.code()), Some(status.code()))
                                    .change("lost_reason", lead.lost_reason.as_deref(), name.as_deref()),
                            ),
                            Err(error) => {
                                outcome.refused.push(Refusal { id: lead.id.get(), name: lead.full_name.clone(), error })
                            }
                        }
                    }
                    for (reason, picked) in groups {
                        let change = AtOnce::new("leads", "lead", "status")
                            .set("status", status.code())
                            .set("lost_reason_id", reason)
                            .guard(" and status <> 'converted'");
                        for picked in change_at_once(tx, actor, &change, picked, &mut outcome).await? {
                            let result = savepoint(tx, async |tx: &mut Tx| {
                                let lead = lead_of(&picked)?;
                                change_status(tx, actor, lead, lead.version, *status, *lost_reason_id).await
                            })
                            .await?;
                            record(&mut outcome, picked.id, picked.name, result);
                        }
                    }
                }
                // a restored lead's phone and e-mail may be no other live lead's: the live holders
                // of them all looked up at once; a lead whose contact one holds, or one restored
                // before it in this action, is restored on its own (refused, naming the holder)
                LeadAction::Archive | LeadAction::Restore => {
                    let archived = matches!(action, LeadAction::Archive);
                    let holders = if archived {
                        HashMap::new()
                    } else {
                        let phones: Vec<&str> = leads.values().filter_map(|lead| lead.phone.as_deref()).collect();
                        let emails: Vec<&str> = leads.values().filter_map(|lead| lead.email.as_deref()).collect();
                        leads::holders(tx, &phones, &emails).await?
                    };
                    let mut restored: HashSet<&str> = HashSet::new();
                    let (mut picked, mut alone) = (Vec::new(), Vec::new());
                    for lead in leads.values() {
                        if let Err(error) = leads::ensure_not_converted(lead) {
                            outcome.refused.push(Refusal { id: lead.id.get(), name: lead.full_name.clone(), error });
                            continue;
                        }
                        let contacts = [lead.phone.as_deref(), lead.email.as_deref()];
                        let clash = !archived
                            && contacts.iter().flatten().any(|contact| {
                                holders.get(*contact).is_some_and(|(holder, _)| *holder != lead.id)
                                    || !restored.insert(contact)
                            });
                        let one = Picked::of(lead.id.get(), lead.version, &lead.full_name);
                        if clash {
                            alone.push(one)
                        } else {
                            picked.push(one)
                        }
                    }
                    let change = AtOnce::new("leads", "lead", archive_action(archived)).set("is_archived", archived);
                    alone.extend(change_at_once(tx, actor, &change, picked, &mut outcome).await?);
                    for picked in alone {
                        let result = savepoint(tx, async |tx: &mut Tx| {
                            let lead = lead_of(&picked)?;
                            leads::change_archived(tx, actor, lead, lead.version, archived).await
                        })
                        .await?;
                        record(&mut outcome, picked.id, picked.name, result);
                    }
                }
            }
            Ok(outcome.in_order())
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
            let found = crate::clients::fetch_each(tx, &ids).await?;
            let clients = found_or_refused(&mut outcome, "client", &ids, found);
            match action {
                ClientAction::SetOwner { owner_id } => {
                    let owner = NewOwner::read(tx, *owner_id).await?;
                    let picked = pick(&mut outcome, clients.values(), |client| {
                        Ok(Picked::of(client.id.get(), client.version, &client.full_name).change(
                            "owner",
                            client.owner_name.as_deref(),
                            Some(owner.check()?),
                        ))
                    });
                    let client = |id| Record::Client(ClientId::new(id));
                    owner_each(tx, actor, &owner, ("clients", client), picked, &mut outcome).await?;
                }
                ClientAction::Archive | ClientAction::Restore => {
                    let archived = matches!(action, ClientAction::Archive);
                    let picked = pick(&mut outcome, clients.values(), |client| {
                        Ok(Picked::of(client.id.get(), client.version, &client.full_name))
                    });
                    archive_each(tx, actor, ("clients", "client"), archived, picked, &mut outcome).await?;
                }
            }
            Ok(outcome.in_order())
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
            let rows: Vec<(i64, String, Version, bool)> =
                fetch_in(tx, &format!("select id, name, version, is_archived from {table} where id"), &ids).await?;
            let found = rows.into_iter().map(|row| (row.0, row)).collect();
            let rows = found_or_refused(&mut outcome, entity, &ids, found);
            // (one already so: nothing to change, nothing to record)
            let picked = rows
                .into_values()
                .filter(|(.., is_archived)| *is_archived != archived)
                .map(|(id, name, version, _)| Picked::of(id, version, &name))
                .collect();
            archive_each(tx, actor, (table, entity), archived, picked, &mut outcome).await?;
            Ok(outcome.in_order())
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

/// The records of `ids` that `found` holds, by id; each of the others refused as not found.
fn found_or_refused<R>(
    outcome: &mut BulkOutcome,
    entity: &'static str,
    ids: &[i64],
    mut found: HashMap<i64, R>,
) -> BTreeMap<i64, R> {
    let mut records = BTreeMap::new();
    for &id in ids {
        match found.remove(&id) {
            Some(record) => {
                records.insert(id, record);
            }
            None => outcome.refused.push(Refusal { id, name: String::new(), error: Error::NotFound { entity, id } }),
        }
    }
    records
}

/// The records `take` takes for a change, each of the others refused with its error.
fn pick<'a, R: Named + 'a>(
    outcome: &mut BulkOutcome,
    records: impl Iterator<Item = &'a R>,
    take: impl Fn(&R) -> Result<Picked>,
) -> Vec<Picked> {
    let mut picked = Vec::new();
    for record in records {
        match take(record) {
            Ok(one) => picked.push(one),
            Err(error) => outcome.refused.push(Refusal { id: record.id(), name: record.name().to_owned(), error }),
        }
    }
    picked
}

/// A record a bulk action reads: its id and name.
trait Named {
    fn id(&self) -> i64;
    fn name(&self) -> &str;
}

impl Named for leads::Lead {
    fn id(&self) -> i64 {
        self.id.get()
    }
    fn name(&self) -> &str {
        &self.full_name
    }
}

impl Named for crate::clients::Client {
    fn id(&self) -> i64 {
        self.id.get()
    }
    fn name(&self) -> &str {
        &self.full_name
    }
}

/// A record a bulk action changes, as its transaction read it, with what its timeline is to say.
struct Picked {
    id: i64,
    version: Version,
    name: String,
    changes: Changes,
}

impl Picked {
    fn of(id: i64, version: Version, name: &str) -> Self {
        Self { id, version, name: name.to_owned(), changes: Changes::default() }
    }

    fn change(mut self, field: &str, old: Option<&str>, new: Option<&str>) -> Self {
        self.changes.field(field, old, new);
        self
    }
}

/// What a bulk action writes to each record it changes at once: the columns it sets (each to
/// one value for all) besides `version` and `updated_at`, what every row must still be
/// (` and ...`), and the audit log's action.
struct AtOnce {
    table: &'static str,
    entity: &'static str,
    action: &'static str,
    set: Vec<(&'static str, Value)>,
    guard: &'static str,
}

impl AtOnce {
    fn new(table: &'static str, entity: &'static str, action: &'static str) -> Self {
        Self { table, entity, action, set: Vec::new(), guard: "" }
    }

    fn set(mut self, column: &'static str, value: impl Into<Value>) -> Self {
        self.set.push((column, value.into()));
        self
    }

    fn guard(mut self, guard: &'static str) -> Self {
        self.guard = guard;
        self
    }
}

/// How many records [`change_at_once`] changes with one statement.
const AT_ONCE: usize = 500;

/// Makes `change` to each of `records`: [`AT_ONCE`] of them with one update and one insert into
/// the audit log. A savepoint, a read, an update and an audit entry for each record took 50
/// leads 80-112 ms on PostgreSQL (its leads' triggers keep counts once a statement, and each
/// update adds an entry to every one of the table's 23 indexes), now 21-28 ms; SQLite 13 -> 4.
/// A part whose statement fails, or one of whose records was saved since it was read (a
/// colleague's change on the office server), is undone and returned: the caller changes those
/// one by one as it changes one record, each refusal its own.
async fn change_at_once(
    tx: &mut Tx,
    actor: &Actor,
    change: &AtOnce,
    records: Vec<Picked>,
    outcome: &mut BulkOutcome,
) -> Result<Vec<Picked>> {
    let mut left = Vec::new();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let part: Vec<Picked> = records.by_ref().take(AT_ONCE).collect();
        tx.execute(Query::new("savepoint bulk_part")).await?;
        let done = at_once(tx, actor, change, &part).await.unwrap_or_else(|error| {
            tracing::warn!(%error, table = change.table, "a bulk change's part is done record by record");
            false
        });
        if done {
            tx.execute(Query::new("release savepoint bulk_part")).await?;
            outcome.changed.extend(part.iter().map(|picked| picked.id));
        } else {
            tx.execute(Query::new("rollback to savepoint bulk_part")).await?;
            tx.execute(Query::new("release savepoint bulk_part")).await?;
            left.extend(part);
        }
    }
    Ok(left)
}

/// Makes `owner` responsible for each of `records` of `table` at once, as [`change_owner`] does
/// for one (`record_of` naming one by id).
async fn owner_each(
    tx: &mut Tx,
    actor: &Actor,
    owner: &NewOwner,
    (table, record_of): (&'static str, fn(i64) -> Record),
    records: Vec<Picked>,
    outcome: &mut BulkOutcome,
) -> Result<()> {
    let Some(first) = records.first() else { return Ok(()) };
    let (entity, _) = record_of(first.id).parts();
    let change = AtOnce::new(table, entity, "owner").set("owner_id", owner.id());
    for picked in change_at_once(tx, actor, &change, records, outcome).await? {
        let result = savepoint(tx, async |tx: &mut Tx| {
            change_owner(tx, actor, record_of(picked.id), picked.version, owner).await
        })
        .await?;
        record(outcome, picked.id, picked.name, result);
    }
    Ok(())
}

/// Archives (or restores) each of `records` of `table` (`entity` in the audit log) at once, as
/// [`set_archived`] does one.
async fn archive_each(
    tx: &mut Tx,
    actor: &Actor,
    (table, entity): (&'static str, &'static str),
    archived: bool,
    records: Vec<Picked>,
    outcome: &mut BulkOutcome,
) -> Result<()> {
    let change = AtOnce::new(table, entity, archive_action(archived)).set("is_archived", archived);
    for picked in change_at_once(tx, actor, &change, records, outcome).await? {
        let result = savepoint(tx, async |tx: &mut Tx| {
            set_archived(tx, actor, table, entity, picked.id, picked.version, archived).await
        })
        .await?;
        record(outcome, picked.id, picked.name, result);
    }
    Ok(())
}

/// One statement's part of [`change_at_once`]: whether every record in `part` was changed from the
/// version it was read at (if not, the caller undoes the part).
async fn at_once(tx: &mut Tx, actor: &Actor, change: &AtOnce, part: &[Picked]) -> Result<bool> {
    let mut update = Query::new(format!("update {} set ", change.table));
    for (column, value) in &change.set {
        update.push(column).push(" = ").push_bind(value.clone()).push(", ");
    }
    update.push("version = version + 1, updated_at = ").push_bind(now());
    update.push(" where id in ").push_list(part.iter().map(|picked| picked.id)).push(change.guard);
    update.push(" returning id, version");
    let changed: HashMap<i64, Version> = tx.fetch_all(update).await?.into_iter().collect();
    if changed.len() != part.len() || part.iter().any(|picked| changed.get(&picked.id) != Some(&picked.version.next()))
    {
        return Ok(false);
    }
    let entries: Vec<(i64, &str, &Changes)> =
        part.iter().map(|picked| (picked.id, picked.name.as_str(), &picked.changes)).collect();
    audit_entries(tx, actor, change.action, change.entity, &entries).await?;
    Ok(true)
}

/// The lost reason each lead of a bulk status change is left with, as
/// [`leads::lost_reason`] decides for one, and its name: read once for each reason the leads
/// had and whether they were lost, not once a lead.
#[derive(Default)]
struct Reasons {
    /// By the reason a lead had and whether it was lost: the reason it is left with, or why not.
    decided: HashMap<(Option<LostReasonId>, bool), Decided>,
    names: HashMap<LostReasonId, Option<String>>,
}

type Decided = std::result::Result<Option<LostReasonId>, Vec<FieldError>>;

impl Reasons {
    async fn of(
        &mut self,
        tx: &mut Tx,
        lead: &leads::Lead,
        status: LeadStatus,
        given: Option<LostReasonId>,
    ) -> Result<Result<(Option<LostReasonId>, Option<String>)>> {
        let decided = match self.decided.entry((lead.lost_reason_id, lead.status == LeadStatus::Lost)) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let mut checks = Checks::new();
                let reason = leads::lost_reason(tx, &mut checks, status, given, Some(lead)).await?;
                new.insert(match checks.finish() {
                    Ok(()) => Ok(reason),
                    Err(Error::Invalid(errors)) => Err(errors),
                    Err(other) => return Err(other),
                })
            }
        };
        let reason = match decided {
            Ok(reason) => *reason,
            Err(errors) => return Ok(Err(Error::Invalid(errors.clone()))),
        };
        let Some(id) = reason else { return Ok(Ok((None, None))) };
        let name = match self.names.entry(id) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(new) => {
                let name: Option<(String,)> =
                    tx.fetch_optional(Query::new("select name from lost_reasons where id = $1").bind(id)).await?;
                new.insert(name.map(|(name,)| name)).clone()
            }
        };
        Ok(Ok((reason, name)))
    }
}

fn record(outcome: &mut BulkOutcome, id: i64, name: String, result: Result<()>) {
    match result {
        Ok(()) => outcome.changed.push(id),
        Err(error) => outcome.refused.push(Refusal { id, name, error }),
    }
}
