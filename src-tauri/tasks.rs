//! Tasks and reminders: what someone has to do next, by when, usually about a lead or a client
//! ("call back tomorrow at 10:00"). Everyone sees and works their own tasks (assigned to them or
//! set by them); holders of `tasks.all` everyone's. "My day" gathers the overdue, today's and
//! upcoming tasks, and the contracts that run out soon for those who see contracts.

use chrono::{DateTime, Days, Local, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{audit_entry, now, Crm, Page, PageRequest};
use crate::contracts::{Contract, ContractFilter, ContractSort};
use crate::db::{reading, transact, Query, Tx};
use crate::domain::id::{ClientId, LeadId, TaskId, UserId, Version};
use crate::domain::text::Name;
use crate::domain::{date, text};
use crate::error::{Checks, Error, FieldError, Result};
use crate::history::{Change, Changes, Record};
use crate::permission::{Actor, Permission};
use crate::store::update_versioned;

/// What kind of work a task is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    #[default]
    Call,
    Meeting,
    Email,
    Other,
}

impl TaskKind {
    pub const ALL: [TaskKind; 4] = [Self::Call, Self::Meeting, Self::Email, Self::Other];

    pub fn code(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Meeting => "meeting",
            Self::Email => "email",
            Self::Other => "other",
        }
    }
}

impl TryFrom<String> for TaskKind {
    type Error = String;

    fn try_from(code: String) -> Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.code() == code).ok_or_else(|| format!("unknown task kind {code:?}"))
    }
}

/// A task as lists and cards show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: TaskId,
    pub subject: String,
    #[sqlx(try_from = "String")]
    pub kind: TaskKind,
    pub due_at: DateTime<Utc>,
    pub assignee_id: UserId,
    pub assignee_name: String,
    pub lead_id: Option<LeadId>,
    pub client_id: Option<ClientId>,
    /// The lead's or client's name.
    pub record_name: Option<String>,
    pub is_done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub result: String,
    pub version: Version,
    pub created_by: UserId,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
}

/// `select ... from ...` of tasks, with the name of the lead or client when the actor may see
/// that kind of record (on an office server the others are not theirs to read).
fn select(actor: &Actor) -> String {
    let lead = actor.can(Permission::LeadsView);
    let client = actor.can(Permission::ClientsView);
    format!(
        "select t.id, t.subject, t.kind, t.due_at, t.assignee_id, a.full_name as assignee_name, t.lead_id, t.client_id,
         coalesce({client_name}, {lead_name}) as record_name, t.is_done, t.done_at, t.result, t.version, t.created_by,
         c.full_name as created_by_name, t.created_at
         from tasks t join users a on a.id = t.assignee_id join users c on c.id = t.created_by{lead_join}{client_join}",
        client_name = if client { "cl.full_name" } else { "cast(null as text)" },
        lead_name = if lead { "l.full_name" } else { "cast(null as text)" },
        lead_join = if lead { " left join leads l on l.id = t.lead_id" } else { "" },
        client_join = if client { " left join clients cl on cl.id = t.client_id" } else { "" },
    )
}

/// The task form: raw text, parsed and checked by the core.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TaskInput {
    pub subject: String,
    pub kind: TaskKind,
    /// Local date and time: `2026-11-30T10:00` (what a date-time input sends), `2026-11-30 10:00`
    /// or `30.11.2026 10:00`.
    pub due_at: String,
    /// Whose task it is; the author's own when empty.
    pub assignee_id: Option<UserId>,
    /// The lead or client it is about, if any. Fixed once the task exists.
    pub record: Option<Record>,
}

/// Which tasks a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    #[default]
    Open,
    Done,
    All,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TaskFilter {
    /// Whose tasks: the actor's own when empty; someone else's needs `tasks.all`.
    pub assignee_id: Option<UserId>,
    /// Everyone's (needs `tasks.all`).
    pub everyone: bool,
    pub record: Option<Record>,
    pub state: TaskState,
    pub page: PageRequest,
}

/// The counts of the navigation's badge, and the next task to fall due so that the window can
/// announce it when it does.
#[derive(Debug, Clone, Serialize)]
pub struct TaskCounts {
    pub overdue: i64,
    pub today: i64,
    pub upcoming: i64,
    pub next_due: Option<Task>,
}

/// The "my day" page.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub counts: TaskCounts,
    pub overdue: Vec<Task>,
    pub today: Vec<Task>,
    pub upcoming: Vec<Task>,
    /// Live contracts whose validity ends within `expiring_days` (for those who see contracts).
    pub expiring: Option<Page<Contract>>,
    pub expiring_days: u32,
}

/// Longest subject and result note.
const MAX_SUBJECT: usize = 200;
const MAX_RESULT: usize = 5000;
/// Tasks per group on the day page.
const DAY_ROWS: i64 = 50;

/// Reads a local date and time typed in a form.
fn parse_due(input: &str) -> Result<DateTime<Utc>, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new("due_at", "required"));
    }
    let formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M"];
    let local = formats.iter().find_map(|f| NaiveDateTime::parse_from_str(trimmed, f).ok()).ok_or_else(|| {
        // a good day with a bad or missing time says which half is wrong
        let day = trimmed.split(['T', ' ']).next().unwrap_or_default();
        let day_ok = ["%Y-%m-%d", "%d.%m.%Y"].iter().any(|f| chrono::NaiveDate::parse_from_str(day, f).is_ok());
        FieldError::new("due_at", if day_ok { "time_invalid" } else { "date_invalid" })
    })?;
    date::plausible("due_at", local.date())?;
    // a time inside a daylight-saving gap is taken as the first instant after it
    Ok(local.and_local_timezone(Local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc)))
}

impl Crm {
    /// Creates a task, the author's own unless assigned to a colleague; about a lead or client
    /// the author may view.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_task(&self, actor: &Actor, input: &TaskInput) -> Result<Task> {
        actor.require_signed_in()?;
        if let Some(record) = input.record {
            actor.require(record.view_permission())?;
        }
        transact!(actor.db, |tx| {
            let valid = validate(tx, actor, input).await?;
            let (lead_id, client_id) = match input.record {
                Some(Record::Lead(id)) => (Some(id), None),
                Some(Record::Client(id)) => (None, Some(id)),
                None => (None, None),
            };
            if let Some(record) = input.record {
                match record.ensure_exists(tx).await {
                    Err(Error::NotFound { .. }) => return Err(Error::field("record", "unknown")),
                    other => other?,
                }
            }
            let at = now();
            let id: TaskId = tx
                .scalar(
                    Query::new(
                        "insert into tasks (subject, kind, due_at, assignee_id, lead_id, client_id, created_by, created_at,
                         updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning id",
                    )
                    .bind(&valid.subject)
                    .bind(input.kind.code())
                    .bind(valid.due_at)
                    .bind(valid.assignee_id)
                    .bind(lead_id)
                    .bind(client_id)
                    .bind(actor.user_id)
                    .bind(at),
                )
                .await?;
            let task = fetch(tx, actor, id).await?;
            record_event(tx, actor, &task, "task_added", Changes::default()).await?;
            Ok(task)
        })
    }

    /// Changes a task's subject, kind, due time or assignee (its record stays).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_task(&self, actor: &Actor, id: TaskId, version: Version, input: &TaskInput) -> Result<Task> {
        actor.require_signed_in()?;
        transact!(actor.db, |tx| {
            let current = fetch(tx, actor, id).await?;
            let valid = validate(tx, actor, input).await?;
            let update = Query::new(
                "update tasks set subject = $1, kind = $2, due_at = $3, assignee_id = $4, version = version + 1,
                 updated_at = $5 where id = $6 and version = $7",
            )
            .bind(&valid.subject)
            .bind(input.kind.code())
            .bind(valid.due_at)
            .bind(valid.assignee_id)
            .bind(now())
            .bind(id)
            .bind(version);
            update_versioned(tx, "tasks", "task", id, update).await?;
            let task = fetch(tx, actor, id).await?;
            let mut changes = Changes::default();
            changes
                .field("subject", Some(&current.subject), Some(&task.subject))
                .field("kind", Some(current.kind.code()), Some(task.kind.code()))
                .field("due_at", Some(&current.due_at.to_rfc3339()), Some(&task.due_at.to_rfc3339()))
                .field("assignee", Some(&current.assignee_name), Some(&task.assignee_name));
            record_event(tx, actor, &task, "task_changed", changes).await?;
            Ok(task)
        })
    }

    /// Marks a task done, with what came of it, or open again.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_task_done(
        &self,
        actor: &Actor,
        id: TaskId,
        version: Version,
        done: bool,
        result: &str,
    ) -> Result<Task> {
        actor.require_signed_in()?;
        let result = text::free_text("result", result, MAX_RESULT).map_err(|e| Error::Invalid(vec![e]))?;
        transact!(actor.db, |tx| {
            fetch(tx, actor, id).await?;
            let at = now();
            let update = Query::new(
                "update tasks set is_done = $1, done_at = $2, result = $3, version = version + 1, updated_at = $4
                 where id = $5 and version = $6",
            )
            .bind(done)
            .bind(done.then_some(at))
            .bind(if done { result.as_str() } else { "" })
            .bind(at)
            .bind(id)
            .bind(version);
            update_versioned(tx, "tasks", "task", id, update).await?;
            let task = fetch(tx, actor, id).await?;
            let mut changes = Changes::default();
            if done && !task.result.is_empty() {
                changes.0.push(Change { field: "result".into(), old: String::new(), new: task.result.clone() });
            }
            record_event(tx, actor, &task, if done { "task_done" } else { "task_reopened" }, changes).await?;
            Ok(task)
        })
    }

    /// One page of tasks, soonest due first (done ones: latest done first).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_tasks(&self, actor: &Actor, filter: &TaskFilter) -> Result<Page<Task>> {
        let list = self.tasks_query(actor, filter)?;
        self.read_page(actor, list, filter.page).await
    }

    /// The query of a task list for `filter`, after the checks every reader of it needs.
    pub(crate) fn tasks_query(&self, actor: &Actor, filter: &TaskFilter) -> Result<crate::app::ListQuery> {
        actor.require_signed_in()?;
        if filter.everyone || filter.assignee_id.is_some_and(|a| a != actor.user_id) {
            actor.require(Permission::TasksAll)?;
        }
        if let Some(record) = filter.record {
            actor.require(record.view_permission())?;
        }
        let mut q = Query::new(" where 1 = 1");
        visible(&mut q, actor);
        if !filter.everyone && filter.record.is_none() {
            q.push(" and t.assignee_id = ").push_bind(filter.assignee_id.unwrap_or(actor.user_id));
        } else if let Some(assignee) = filter.assignee_id {
            q.push(" and t.assignee_id = ").push_bind(assignee);
        }
        match filter.record {
            Some(Record::Lead(id)) => {
                // with the tasks of the leads merged into it (one `in`, not an `or` around it,
                // so PostgreSQL probes the index instead of scanning every task)
                q.push(" and t.lead_id in (select id from leads where id = ").push_bind(id);
                q.push(" or merged_into = ").push_bind(id).push(")");
            }
            Some(Record::Client(id)) => {
                q.push(" and t.client_id = ").push_bind(id);
            }
            None => {}
        }
        let order = match filter.state {
            TaskState::Open => {
                q.push(" and t.is_done = false");
                " order by t.due_at, t.id"
            }
            TaskState::Done => {
                q.push(" and t.is_done = true");
                " order by t.done_at desc, t.id desc"
            }
            TaskState::All => " order by t.is_done, t.due_at, t.id",
        };
        Ok(crate::app::ListQuery::new(q, "select count(*) from tasks t", &select(actor), order))
    }

    /// The actor's open tasks counted as overdue, due today and later, with the next to fall due.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn task_counts(&self, actor: &Actor) -> Result<TaskCounts> {
        actor.require_signed_in()?;
        reading!(actor.db, |tx| {
            let counts = counts(tx, actor).await?;
            Ok(counts)
        })
    }

    /// "My day": the actor's overdue, today's and upcoming open tasks, and the contracts that run
    /// out within the office's warning period when the actor may see contracts.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn my_day(&self, actor: &Actor) -> Result<Day> {
        actor.require_signed_in()?;
        let end = end_of_today();
        let at = now();
        let (counts, groups) = reading!(actor.db, |tx| {
            let counts = counts(tx, actor).await?;
            let mut groups = Vec::new();
            for (from, to) in [(None, Some(at)), (Some(at), Some(end)), (Some(end), None)] {
                let mut q = Query::new(format!("{} where t.is_done = false and t.assignee_id = $1", select(actor)))
                    .bind(actor.user_id);
                if let Some(from) = from {
                    q.push(" and t.due_at >= ").push_bind(from);
                }
                if let Some(to) = to {
                    q.push(" and t.due_at < ").push_bind(to);
                }
                q.push(" order by t.due_at, t.id limit ").push_bind(DAY_ROWS);
                groups.push(tx.fetch_all(q).await?);
            }
            Ok((counts, groups))
        })?;
        let [overdue, today, upcoming]: [Vec<Task>; 3] =
            groups.try_into().map_err(|_| Error::Internal("three groups of tasks".into()))?;
        let expiring = if actor.can(Permission::ContractsView) {
            let filter = ContractFilter {
                expiring: true,
                sort: ContractSort::ValidTo,
                direction: Some(crate::app::Direction::Asc),
                page: PageRequest::new(0, DAY_ROWS),
                ..Default::default()
            };
            Some(self.list_contracts(actor, &filter).await?)
        } else {
            None
        };
        Ok(Day { counts, overdue, today, upcoming, expiring, expiring_days: self.settings.expiring_days })
    }
}

struct ValidTask {
    subject: Name,
    due_at: DateTime<Utc>,
    assignee_id: UserId,
}

async fn validate(tx: &mut Tx, actor: &Actor, input: &TaskInput) -> Result<ValidTask> {
    let mut checks = Checks::new();
    let subject = checks.take(Name::parse("subject", &input.subject, MAX_SUBJECT));
    let due_at = checks.take(parse_due(&input.due_at));
    let assignee_id = input.assignee_id.unwrap_or(actor.user_id);
    crate::leads::active_user(tx, &mut checks, "assignee_id", assignee_id).await?;
    checks.finish()?;
    Ok(ValidTask { subject: subject.unwrap_or_default(), due_at: due_at.unwrap_or_else(now), assignee_id })
}

/// ` and (...)`: the tasks the actor may see (on an office server the database applies the same
/// rule itself).
fn visible(q: &mut Query, actor: &Actor) {
    if !actor.can(Permission::TasksAll) {
        q.push(" and (t.assignee_id = ").push_bind(actor.user_id);
        q.push(" or t.created_by = ").push_bind(actor.user_id).push(")");
    }
}

/// Task `id` if the actor may see it; `NotFound` otherwise, as on an office server.
async fn fetch(tx: &mut Tx, actor: &Actor, id: TaskId) -> Result<Task> {
    let mut q = Query::new(format!("{} where t.id = $1", select(actor))).bind(id);
    visible(&mut q, actor);
    tx.fetch_optional(q).await?.ok_or(Error::NotFound { entity: "task", id: id.get() })
}

/// The start of tomorrow, local time: the end of "today" on the day page.
fn end_of_today() -> DateTime<Utc> {
    let day = Local::now().date_naive();
    date::local_day_start(day.checked_add_days(Days::new(1)).unwrap_or(day))
}

async fn counts(tx: &mut Tx, actor: &Actor) -> Result<TaskCounts> {
    let end = end_of_today();
    let at = now();
    let (overdue, today, upcoming): (i64, i64, i64) = tx
        .fetch_one(
            Query::new(
                "select
                   (select count(*) from tasks where is_done = false and assignee_id = $1 and due_at < $2),
                   (select count(*) from tasks where is_done = false and assignee_id = $1 and due_at >= $2 and due_at < $3),
                   (select count(*) from tasks where is_done = false and assignee_id = $1 and due_at >= $3)",
            )
            .bind(actor.user_id)
            .bind(at)
            .bind(end),
        )
        .await?;
    let next_due = tx
        .fetch_optional(
            Query::new(format!(
                "{} where t.is_done = false and t.assignee_id = $1 and t.due_at >= $2 order by t.due_at, t.id limit 1",
                select(actor)
            ))
            .bind(actor.user_id)
            .bind(at),
        )
        .await?;
    Ok(TaskCounts { overdue, today, upcoming, next_due })
}

/// A task's entry on its record's timeline (or, for a task about nobody, under its own id).
async fn record_event(tx: &mut Tx, actor: &Actor, task: &Task, action: &str, changes: Changes) -> Result<()> {
    let (entity, id) = match (task.lead_id, task.client_id) {
        (Some(lead), _) => ("lead", lead.get()),
        (None, Some(client)) => ("client", client.get()),
        (None, None) => ("task", task.id.get()),
    };
    audit_entry(tx, actor, action, entity, id, &task.subject, &changes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_are_read_in_the_forms_people_type() {
        for typed in ["2026-11-30T10:00", "2026-11-30 10:00", "30.11.2026 10:00", "2026-11-30T10:00:00"] {
            let due = parse_due(typed).unwrap().with_timezone(&Local);
            assert_eq!(due.format("%Y-%m-%d %H:%M").to_string(), "2026-11-30 10:00", "{typed}");
        }
        assert_eq!(parse_due(" ").unwrap_err().code, "required");
        assert_eq!(parse_due("завтра").unwrap_err().code, "date_invalid");
        assert_eq!(parse_due("2026-12-05T").unwrap_err().code, "time_invalid");
        assert_eq!(parse_due("2026-12-05T25:00").unwrap_err().code, "time_invalid");
        assert_eq!(parse_due("2026-13-05T10:00").unwrap_err().code, "date_invalid");
        assert_eq!(parse_due("0001-01-01T10:00").unwrap_err().code, "date_invalid");
        assert_eq!(parse_due("30.02.2026 10:00").unwrap_err().code, "date_invalid");
    }

    #[test]
    fn kinds_round_trip_through_their_codes() {
        for kind in TaskKind::ALL {
            assert_eq!(TaskKind::try_from(kind.code().to_owned()), Ok(kind));
        }
    }
}
