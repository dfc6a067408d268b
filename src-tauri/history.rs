//! The history of every record, read from the audit log that every write transaction appends to
//! (nothing is recorded twice): a lead's or client's timeline on its card, notes people add to
//! it, and the administrator's History page of every change.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{Crm, Page, PageRequest};
use crate::db::{reading, transact, Query, Tx};
use crate::domain::id::{ClientId, LeadId, UserId};
use crate::domain::{date, text};
use crate::error::{Error, FieldError, Result};
use crate::permission::{Actor, Permission};

/// A lead or a client: the records with a card, an owner, tasks and notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Record {
    Lead(LeadId),
    Client(ClientId),
}

impl Record {
    /// The audit log's entity name and the record's id.
    pub fn parts(self) -> (&'static str, i64) {
        match self {
            Self::Lead(id) => ("lead", id.get()),
            Self::Client(id) => ("client", id.get()),
        }
    }

    /// The permission to view this kind of record.
    pub(crate) fn view_permission(self) -> Permission {
        match self {
            Self::Lead(_) => Permission::LeadsView,
            Self::Client(_) => Permission::ClientsView,
        }
    }

    /// Fails with `NotFound` unless the record exists.
    pub(crate) async fn ensure_exists(self, tx: &mut Tx) -> Result<()> {
        let (entity, id) = self.parts();
        let table = if entity == "lead" { "leads" } else { "clients" };
        let found: Option<(i64,)> =
            tx.fetch_optional(Query::new(format!("select id from {table} where id = $1")).bind(id)).await?;
        found.map(drop).ok_or(Error::NotFound { entity, id })
    }
}

/// One field of an edit: its name, and its value before and after as the user saw it (names of
/// referenced records, not their ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// The changes of one edit; collects only the fields whose value differs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Changes(pub Vec<Change>);

impl Changes {
    pub(crate) fn field(&mut self, field: &str, old: Option<&str>, new: Option<&str>) -> &mut Self {
        let (old, new) = (old.unwrap_or_default(), new.unwrap_or_default());
        if old != new {
            self.0.push(Change { field: field.to_owned(), old: old.to_owned(), new: new.to_owned() });
        }
        self
    }

    /// The stored form: JSON, or '' for no changes.
    pub(crate) fn to_text(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&self.0).unwrap_or_default()
        }
    }
}

impl TryFrom<String> for Changes {
    type Error = serde_json::Error;

    fn try_from(stored: String) -> Result<Self, serde_json::Error> {
        if stored.is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(&stored).map(Self)
    }
}

/// One entry of a timeline or of the History page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    pub user_name: Option<String>,
    /// `create`, `update`, `note`, `status`, `owner`, `convert`, `archive`, `restore`,
    /// `attach_document`, `task_added`, `task_done`, ...
    pub action: String,
    /// `lead`, `client`, `contract`, `service`, `campaign`, `channel`, `user`, `role`, ...
    pub entity: String,
    pub entity_id: Option<i64>,
    /// The record's name at the time, a note's text, a task's subject.
    pub details: String,
    #[sqlx(try_from = "String")]
    pub changes: Changes,
}

const ENTRY: &str = "select a.id, a.at, a.user_id, u.full_name as user_name, a.action, a.entity, a.entity_id,
    a.details, a.changes from audit_log a left join users u on u.id = a.user_id";

/// The kinds of record the History page filters by.
pub const ENTITIES: [&str; 12] = [
    "lead",
    "client",
    "contract",
    "task",
    "service",
    "campaign",
    "channel",
    "lost_reason",
    "user",
    "role",
    "saved_filter",
    "import",
];

/// What the History page asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HistoryFilter {
    pub user_id: Option<UserId>,
    /// One of [`ENTITIES`].
    pub entity: Option<String>,
    /// First local day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last local day, inclusive.
    pub to: Option<NaiveDate>,
    pub page: PageRequest,
}

/// The History page counts its entries up to this many.
pub const COUNT_BOUND: i64 = 10_000;

/// Longest note.
pub const MAX_NOTE: usize = 10_000;

impl Crm {
    /// A lead's or client's timeline, newest first. A client's includes its lead's story and its
    /// contracts' entries.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn timeline(&self, actor: &Actor, record: Record, page: PageRequest) -> Result<Page<Entry>> {
        actor.require(record.view_permission())?;
        reading!(actor.db, |tx| {
            record.ensure_exists(tx).await?;
            let timeline = read_timeline(tx, record, page).await?;
            Ok(timeline)
        })
    }

    /// Adds a note (plain text, several lines) to a lead's or client's timeline.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn add_note(&self, actor: &Actor, record: Record, body: &str) -> Result<Entry> {
        actor.require(Permission::NotesAdd)?;
        actor.require(record.view_permission())?;
        let body = text::free_text("note", body, MAX_NOTE).map_err(|e| Error::Invalid(vec![e]))?;
        if body.trim().is_empty() {
            return Err(Error::field("note", "required"));
        }
        transact!(actor.db, |tx| {
            record.ensure_exists(tx).await?;
            let (entity, id) = record.parts();
            crate::app::audit_entry(tx, actor, "note", entity, id, &body, &Changes::default()).await?;
            // this transaction's own entry: the newest of this user on this record
            let entry = tx
                .fetch_one(
                    Query::new(format!(
                        "{ENTRY} where a.entity = $1 and a.entity_id = $2 and a.user_id = $3 order by a.id desc limit 1"
                    ))
                    .bind(entity)
                    .bind(id)
                    .bind(actor.user_id),
                )
                .await?;
            Ok(entry)
        })
    }

    /// Every change, latest first, filtered by user, kind of record and period.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn history(&self, actor: &Actor, filter: &HistoryFilter) -> Result<Page<Entry>> {
        actor.require(Permission::HistoryView)?;
        date::check_period(("from", filter.from), ("to", filter.to))?;
        let entity = match filter.entity.as_deref().filter(|e| !e.is_empty()) {
            None => None,
            Some(entity) => match ENTITIES.iter().find(|e| **e == entity) {
                Some(known) => Some(*known),
                None => return Err(Error::Invalid(vec![FieldError::new("entity", "not_allowed")])),
            },
        };
        let mut conditions = Query::new(" where 1 = 1");
        if let Some(user) = filter.user_id {
            conditions.push(" and a.user_id = ").push_bind(user);
        }
        // one kind (within a period or not), latest first: one range of `audit_log_kind_at`, in
        // its order (migration 0045); one user's (of a kind or not): of `audit_log_user`. SQLite
        // is told: its connections chose by statistics read when each opened, and one read the
        // leads' 2,000,000 entries by the index of records and sorted them (6.3 s at a million
        // leads), another counted a month's by the index of dates testing each one's kind (250
        // ms)
        let source = match (actor.db.backend(), entity, filter.user_id) {
            (crate::db::Backend::Sqlite, _, Some(_)) => " from audit_log a indexed by audit_log_user",
            (crate::db::Backend::Sqlite, Some(_), None) => " from audit_log a indexed by audit_log_kind_at",
            _ => " from audit_log a",
        };
        if let Some(entity) = entity {
            conditions.push(" and a.entity = ").push_bind(entity);
        }
        if let Some(from) = filter.from {
            conditions.push(" and a.at >= ").push_bind(date::local_day_start(from));
        }
        if let Some(end) = filter.to.and_then(date::local_day_end) {
            conditions.push(" and a.at < ").push_bind(end);
        }
        // millions of entries: count up to a bound, then say "more than"
        let mut count = conditions.clone().prefixed(&format!("select count(*) from (select 1{source}"));
        count.push(" limit ").push_bind(COUNT_BOUND + 1).push(") counted");
        let mut select = conditions.prefixed(&ENTRY.replacen(" from audit_log a", source, 1));
        // by when it happened (the ids follow the order of writing, which a generated or
        // imported story need not keep); `audit_log_at`, `audit_log_user` and `audit_log_kind_at`
        // end in `at, id`
        select.push(" order by a.at desc, a.id desc");
        filter.page.push_to(&mut select);
        let (counted, items): (i64, _) = reading!(actor.db, |tx| {
            let counted: i64 = tx.scalar(count.clone()).await?;
            Ok((counted, tx.fetch_all(select.clone()).await?))
        })?;
        let mut page = filter.page.page(items, counted.min(COUNT_BOUND));
        page.capped = counted > COUNT_BOUND;
        Ok(page)
    }
}

/// A record's timeline as one query: a `union all` of branches, each a plain index look-up on
/// `audit_log_entity` (entries of the record itself; of the leads merged into it; for a client
/// also its lead's and its contracts'). One `or` across them made PostgreSQL scan the whole log
/// (1.1 s at 5,000,000 entries); each branch alone is a few index probes.
fn timeline_union(record: Record) -> Query {
    let branches: &[&str] = match record {
        Record::Lead(_) => &[
            "a.entity = 'lead' and a.entity_id = $1",
            "a.entity = 'lead' and a.entity_id in (select id from leads where merged_into = $1)",
        ],
        Record::Client(_) => &[
            "a.entity = 'client' and a.entity_id = $1",
            "a.entity = 'lead' and a.entity_id = (select lead_id from clients where id = $1)",
            "a.entity = 'lead' and a.entity_id in
               (select id from leads where merged_into = (select lead_id from clients where id = $1))",
            "a.entity = 'contract' and a.entity_id in (select id from contracts where client_id = $1)",
        ],
    };
    let union: Vec<String> = branches.iter().map(|b| format!("{ENTRY} where {b}")).collect();
    Query::new(format!(" from ({}) t", union.join(" union all "))).bind(record.parts().1)
}

/// The first page (or any) of a record's timeline, in the caller's transaction.
pub(crate) async fn read_timeline(tx: &mut Tx, record: Record, page: PageRequest) -> Result<Page<Entry>> {
    let union = timeline_union(record);
    let total: i64 = tx.scalar(union.clone().prefixed("select count(*)")).await?;
    let mut query = union.prefixed("select t.*");
    query.push(" order by t.at desc, t.id desc");
    page.push_to(&mut query);
    let items = tx.fetch_all(query).await?;
    Ok(page.page(items, total))
}
