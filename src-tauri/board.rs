//! Leads as a board: a column per status with its count, each paged on its own (so the board
//! opens as fast at a million leads as four first pages of the list), and each card with the
//! lead's next open task. Moving a card is `set_lead_status` or the conversion.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{Crm, Page, PageRequest};
use crate::db::{reading, Query};
use crate::domain::id::LeadId;
use crate::error::Result;
use crate::leads::{Lead, LeadFilter, LeadStatus};
use crate::permission::{Actor, Permission};

/// A lead on the board, with the next thing to do about it (of the tasks the actor may see).
#[derive(Debug, Clone, Serialize)]
pub struct BoardCard {
    #[serde(flatten)]
    pub lead: Lead,
    pub next_task: Option<NextTask>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NextTask {
    pub lead_id: LeadId,
    pub subject: String,
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardColumn {
    pub status: LeadStatus,
    pub cards: Page<BoardCard>,
}

/// What the board asks for: the lead list's search and filters (its status and sort aside), and
/// how many cards each column shows first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BoardFilter {
    #[serde(flatten)]
    pub leads: LeadFilter,
    pub per_column: Option<i64>,
}

/// Cards per column before "more": about two screens of a column at 1366x768. Each card the
/// window draws costs its layout and paint (at a million leads, software-painted, a board of
/// 20 a column spent 40 ms laying out, of 8 a column 22).
const PER_COLUMN: i64 = 8;

impl Crm {
    /// Every status's column: its count and its first cards, newest first. The four are read
    /// at once, each on its own connection (a searched board at a million leads: each column
    /// counts its matches to the bound, 5-20 ms apiece).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn lead_board(&self, actor: &Actor, filter: &BoardFilter) -> Result<Vec<BoardColumn>> {
        actor.require(Permission::LeadsView)?;
        let page = PageRequest::new(0, filter.per_column.unwrap_or(PER_COLUMN));
        let column = |status| self.board_column(actor, &filter.leads, status, page);
        let [new, in_work, converted, lost] = LeadStatus::ALL;
        let (new, in_work, converted, lost) =
            tokio::try_join!(column(new), column(in_work), column(converted), column(lost))?;
        Ok(vec![new, in_work, converted, lost])
    }

    /// One column's page of cards (for "more" under a column).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn board_column(
        &self,
        actor: &Actor,
        filter: &LeadFilter,
        status: LeadStatus,
        page: PageRequest,
    ) -> Result<BoardColumn> {
        actor.require(Permission::LeadsView)?;
        let filter =
            LeadFilter { status: Some(status), sort: Default::default(), direction: None, page, ..filter.clone() };
        let leads = self.list_leads(actor, &filter).await?;
        let next = self.next_tasks(actor, &leads.items).await?;
        let cards = leads.map(|lead| {
            let next_task = next.iter().find(|t| t.lead_id == lead.id).cloned();
            BoardCard { lead, next_task }
        });
        Ok(BoardColumn { status, cards })
    }

    /// The soonest open task of each of `leads` that the actor may see, in one query.
    async fn next_tasks(&self, actor: &Actor, leads: &[Lead]) -> Result<Vec<NextTask>> {
        if leads.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::new(
            "select t.lead_id, t.subject, t.due_at from tasks t
             where t.is_done = false and t.lead_id in ",
        );
        q.push_list(leads.iter().map(|lead| lead.id));
        if !actor.can(Permission::TasksAll) {
            q.push(" and (t.assignee_id = ").push_bind(actor.user_id);
            q.push(" or t.created_by = ").push_bind(actor.user_id).push(")");
        }
        q.push(" order by t.due_at, t.id");
        let all: Vec<NextTask> = reading!(actor.db, |tx| { tx.fetch_all(q.clone()).await })?;
        // the first of each lead, as they come soonest first
        let mut seen = std::collections::HashSet::new();
        Ok(all.into_iter().filter(|t| seen.insert(t.lead_id)).collect())
    }
}
