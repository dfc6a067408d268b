//! Services and statistics. Thin adapters over the core's use cases.

use tauri::State;

use super::error::Reply;
use super::state::Desktop;
use crate::app::Page;
use crate::domain::id::{ServiceId, Version};
use crate::services::{Service, ServiceFilter, ServiceInput};
use crate::stats::series::{Series, SeriesFilter};
use crate::stats::{CampaignStatsPage, CampaignView, ClientSales, ClientSalesFilter, StatsFilter};

#[tauri::command(rename_all = "snake_case")]
pub async fn list_services(state: State<'_, Desktop>, filter: ServiceFilter) -> Reply<Page<Service>> {
    let s = state.session().await?;
    s.reply(s.crm.list_services(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_service(state: State<'_, Desktop>, id: ServiceId) -> Reply<Service> {
    let s = state.session().await?;
    s.reply(s.crm.get_service(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_service(state: State<'_, Desktop>, input: ServiceInput) -> Reply<Service> {
    let s = state.session().await?;
    s.reply(s.crm.create_service(&s.actor, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_service(
    state: State<'_, Desktop>,
    id: ServiceId,
    version: Version,
    input: ServiceInput,
) -> Reply<Service> {
    let s = state.session().await?;
    s.reply(s.crm.update_service(&s.actor, id, version, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_service_archived(
    state: State<'_, Desktop>,
    id: ServiceId,
    version: Version,
    archived: bool,
) -> Reply<Service> {
    let s = state.session().await?;
    s.reply(s.crm.set_service_archived(&s.actor, id, version, archived).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_service(state: State<'_, Desktop>, id: ServiceId) -> Reply<()> {
    let s = state.session().await?;
    s.reply(s.crm.delete_service(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn service_options(state: State<'_, Desktop>, search: Option<String>) -> Reply<Vec<(ServiceId, String)>> {
    let s = state.session().await?;
    s.reply(s.crm.service_options(&s.actor, search.as_deref().unwrap_or_default()).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn campaign_stats(
    state: State<'_, Desktop>,
    filter: StatsFilter,
    view: Option<CampaignView>,
) -> Reply<CampaignStatsPage> {
    let s = state.session().await?;
    s.reply(s.crm.campaign_stats_page(&s.actor, &filter, &view.unwrap_or_default()).await)
}

/// What an administrator should hear about the database at sign-in, in words.
#[tauri::command(rename_all = "snake_case")]
pub async fn server_notices(state: State<'_, Desktop>) -> Reply<Vec<String>> {
    let s = state.session().await?;
    let codes = s.reply(s.crm.server_notices(&s.actor).await)?;
    Ok(codes.into_iter().map(|code| crate::i18n::message(s.lang, code, &[])).collect())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn stats_series(state: State<'_, Desktop>, filter: SeriesFilter) -> Reply<Series> {
    let s = state.session().await?;
    s.reply(s.crm.stats_series(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn client_sales(state: State<'_, Desktop>, filter: ClientSalesFilter) -> Reply<Page<ClientSales>> {
    let s = state.session().await?;
    s.reply(s.crm.client_sales(&s.actor, &filter).await)
}
