//! `crm agenda --user NAME [--json]`: a person's open tasks, overdue first, and the contracts that
//! run out soon (for those who see contracts), as on their "my day" page.

use chrono::{Local, Utc};
use serde::Serialize;

use super::{printable, read_secret};
use crate::app::{Crm, PageRequest};
use crate::contracts::Contract;
use crate::error::{Error, Result};
use crate::tasks::{Task, TaskFilter};

#[derive(Serialize)]
struct Agenda {
    tasks: Vec<Task>,
    tasks_total: i64,
    expiring_contracts: Vec<Contract>,
    expiring_days: u32,
}

pub async fn run(crm: &Crm, user: &str, json: bool) -> Result<()> {
    let password = read_secret("CRM_PASSWORD", &format!("Password for {user}: "))?;
    let actor = crm.sign_in(user, &password).await?;
    let filter = TaskFilter { page: PageRequest::new(0, PageRequest::MAX_LIMIT), ..Default::default() };
    let tasks = crm.list_tasks(&actor, &filter).await?;
    let day = crm.my_day(&actor).await?;
    let agenda = Agenda {
        tasks: tasks.items,
        tasks_total: tasks.total,
        expiring_contracts: day.expiring.map(|page| page.items).unwrap_or_default(),
        expiring_days: day.expiring_days,
    };
    if json {
        let text = serde_json::to_string_pretty(&agenda).map_err(|e| Error::Internal(e.to_string()))?;
        out!("{text}");
        return Ok(());
    }
    let now = Utc::now();
    out!("open tasks: {}", agenda.tasks_total);
    for task in &agenda.tasks {
        let due = task.due_at.with_timezone(&Local).format("%Y-%m-%d %H:%M");
        let mark = if task.due_at < now { "OVERDUE " } else { "" };
        let about = task.record_name.as_deref().map(|name| format!(" ({})", printable(name))).unwrap_or_default();
        out!("  {mark}{due}  {:<8} {}{about}", task.kind.code(), printable(&task.subject));
    }
    if agenda.tasks.len() < usize::try_from(agenda.tasks_total).unwrap_or(usize::MAX) {
        out!("  ... and {} more", agenda.tasks_total - agenda.tasks.len() as i64);
    }
    if !agenda.expiring_contracts.is_empty() {
        out!("contracts ending within {} days:", agenda.expiring_days);
        for c in &agenda.expiring_contracts {
            let client = c.client_name.as_deref().map(printable).unwrap_or_default();
            out!("  {}  {}  {}", c.valid_to, printable(&c.name), client);
        }
    }
    Ok(())
}
