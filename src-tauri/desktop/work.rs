//! The day's work: cards, timelines, notes, statuses, owners, tasks, "my day" and the History
//! page. Thin adapters over the core's use cases.

use serde::Serialize;
use tauri::State;

use super::error::Reply;
use super::state::Desktop;
use crate::app::{Page, PageRequest};
use crate::board::{BoardColumn, BoardFilter};
use crate::bulk::{ArchiveList, BulkOutcome, ClientAction, LeadAction, Selection};
use crate::cards::LostReason;
use crate::cards::{ClientCard, LeadCard, UserOption};
use crate::clients::ClientFilter;
use crate::domain::id::{ClientId, LeadId, LostReasonId, SavedFilterId, TaskId, UserId, Version};
use crate::history::{Entry, HistoryFilter, Record};
use crate::i18n::{error_message, Lang};
use crate::leads::{Lead, LeadFilter, LeadStatus};
use crate::merge::{Duplicate, MergeInput};
use crate::saved_filters::SavedFilter;
use crate::tasks::{Day, Task, TaskCounts, TaskFilter, TaskInput};

#[tauri::command(rename_all = "snake_case")]
pub async fn lead_card(state: State<'_, Desktop>, id: LeadId) -> Reply<LeadCard> {
    let s = state.session().await?;
    s.reply(s.crm.lead_card(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn client_card(state: State<'_, Desktop>, id: ClientId) -> Reply<ClientCard> {
    let s = state.session().await?;
    s.reply(s.crm.client_card(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn timeline(state: State<'_, Desktop>, record: Record, page: PageRequest) -> Reply<Page<Entry>> {
    let s = state.session().await?;
    s.reply(s.crm.timeline(&s.actor, record, page).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_note(state: State<'_, Desktop>, record: Record, body: String) -> Reply<Entry> {
    let s = state.session().await?;
    s.reply(s.crm.add_note(&s.actor, record, &body).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn history(state: State<'_, Desktop>, filter: HistoryFilter) -> Reply<Page<Entry>> {
    let s = state.session().await?;
    s.reply(s.crm.history(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_lead_status(
    state: State<'_, Desktop>,
    id: LeadId,
    version: Version,
    status: LeadStatus,
    lost_reason_id: Option<LostReasonId>,
) -> Reply<Lead> {
    let s = state.session().await?;
    s.reply(s.crm.set_lead_status(&s.actor, id, version, status, lost_reason_id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_owner(state: State<'_, Desktop>, record: Record, version: Version, owner_id: UserId) -> Reply<()> {
    let s = state.session().await?;
    s.reply(s.crm.set_owner(&s.actor, record, version, owner_id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn user_options(state: State<'_, Desktop>) -> Reply<Vec<UserOption>> {
    let s = state.session().await?;
    s.reply(s.crm.user_options(&s.actor).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_lost_reasons(state: State<'_, Desktop>, include_archived: bool) -> Reply<Vec<LostReason>> {
    let s = state.session().await?;
    s.reply(s.crm.list_lost_reasons(&s.actor, include_archived).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_lost_reason(state: State<'_, Desktop>, name: String) -> Reply<LostReason> {
    let s = state.session().await?;
    s.reply(s.crm.create_lost_reason(&s.actor, &name).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn rename_lost_reason(
    state: State<'_, Desktop>,
    id: LostReasonId,
    version: Version,
    name: String,
) -> Reply<LostReason> {
    let s = state.session().await?;
    s.reply(s.crm.rename_lost_reason(&s.actor, id, version, &name).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_lost_reason_archived(
    state: State<'_, Desktop>,
    id: LostReasonId,
    version: Version,
    archived: bool,
) -> Reply<LostReason> {
    let s = state.session().await?;
    s.reply(s.crm.set_lost_reason_archived(&s.actor, id, version, archived).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_task(state: State<'_, Desktop>, input: TaskInput) -> Reply<Task> {
    let s = state.session().await?;
    s.reply(s.crm.create_task(&s.actor, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_task(state: State<'_, Desktop>, id: TaskId, version: Version, input: TaskInput) -> Reply<Task> {
    let s = state.session().await?;
    s.reply(s.crm.update_task(&s.actor, id, version, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_task_done(
    state: State<'_, Desktop>,
    id: TaskId,
    version: Version,
    done: bool,
    result: String,
) -> Reply<Task> {
    let s = state.session().await?;
    s.reply(s.crm.set_task_done(&s.actor, id, version, done, &result).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_tasks(state: State<'_, Desktop>, filter: TaskFilter) -> Reply<Page<Task>> {
    let s = state.session().await?;
    s.reply(s.crm.list_tasks(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn task_counts(state: State<'_, Desktop>) -> Reply<TaskCounts> {
    let s = state.session().await?;
    s.reply(s.crm.task_counts(&s.actor).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn my_day(state: State<'_, Desktop>) -> Reply<Day> {
    let s = state.session().await?;
    s.reply(s.crm.my_day(&s.actor).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn lead_board(state: State<'_, Desktop>, filter: BoardFilter) -> Reply<Vec<BoardColumn>> {
    let s = state.session().await?;
    s.reply(s.crm.lead_board(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn board_column(
    state: State<'_, Desktop>,
    filter: LeadFilter,
    status: LeadStatus,
    page: PageRequest,
) -> Reply<BoardColumn> {
    let s = state.session().await?;
    s.reply(s.crm.board_column(&s.actor, &filter, status, page).await)
}

/// A bulk action's summary for the window: how many changed, and each refusal in words.
#[derive(Debug, Serialize)]
pub struct BulkSummary {
    pub changed: usize,
    pub refused: Vec<Refused>,
}

#[derive(Debug, Serialize)]
pub struct Refused {
    pub id: i64,
    pub name: String,
    pub message: String,
}

fn summary(lang: Lang, outcome: BulkOutcome) -> BulkSummary {
    BulkSummary {
        changed: outcome.changed.len(),
        refused: outcome
            .refused
            .into_iter()
            .map(|r| Refused { id: r.id, name: r.name, message: error_message(lang, &r.error) })
            .collect(),
    }
}

#[tauri::command(rename_all = "snake_case")]
pub async fn bulk_leads(
    state: State<'_, Desktop>,
    selection: Selection<LeadFilter>,
    action: LeadAction,
) -> Reply<BulkSummary> {
    let s = state.session().await?;
    s.reply(s.crm.bulk_leads(&s.actor, &selection, &action).await.map(|o| summary(s.lang, o)))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn bulk_clients(
    state: State<'_, Desktop>,
    selection: Selection<ClientFilter>,
    action: ClientAction,
) -> Reply<BulkSummary> {
    let s = state.session().await?;
    s.reply(s.crm.bulk_clients(&s.actor, &selection, &action).await.map(|o| summary(s.lang, o)))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn saved_filters(state: State<'_, Desktop>, list: String) -> Reply<Vec<SavedFilter>> {
    let s = state.session().await?;
    s.reply(s.crm.saved_filters(&s.actor, &list).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_filter(
    state: State<'_, Desktop>,
    list: String,
    name: String,
    filter: serde_json::Value,
) -> Reply<SavedFilter> {
    let s = state.session().await?;
    s.reply(s.crm.save_filter(&s.actor, &list, &name, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_saved_filter(state: State<'_, Desktop>, id: SavedFilterId) -> Reply<()> {
    let s = state.session().await?;
    s.reply(s.crm.delete_saved_filter(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn lead_duplicates(state: State<'_, Desktop>, id: LeadId) -> Reply<Vec<Duplicate>> {
    let s = state.session().await?;
    s.reply(s.crm.lead_duplicates(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn merge_leads(state: State<'_, Desktop>, input: MergeInput) -> Reply<Lead> {
    let s = state.session().await?;
    s.reply(s.crm.merge_leads(&s.actor, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn bulk_archive(
    state: State<'_, Desktop>,
    list: ArchiveList,
    selection: Selection<serde_json::Value>,
    archived: bool,
) -> Reply<BulkSummary> {
    let s = state.session().await?;
    s.reply(s.crm.bulk_archive(&s.actor, list, &selection, archived).await.map(|o| summary(s.lang, o)))
}
