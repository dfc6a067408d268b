//! Campaigns and channels, leads, clients and contracts. Thin adapters over the core's use cases;
//! a picked document travels as a token (see `documents.rs`).

use serde::Deserialize;
use tauri::State;

use super::error::Reply;
use super::state::Desktop;
use crate::app::Page;
use crate::campaigns::{Campaign, CampaignFilter, CampaignInput, Channel};
use crate::clients::{Client, ClientFilter, ClientInput, Conversion};
use crate::contracts::{Contract, ContractFilter, ContractInput};
use crate::domain::id::{CampaignId, ChannelId, ClientId, ContractId, LeadId, Version};
use crate::leads::{Lead, LeadFilter, LeadInput};

// ------------------------------------------------------------------ campaigns and channels

#[tauri::command(rename_all = "snake_case")]
pub async fn list_campaigns(state: State<'_, Desktop>, filter: CampaignFilter) -> Reply<Page<Campaign>> {
    let s = state.session().await?;
    s.reply(s.crm.list_campaigns(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn campaign_options(state: State<'_, Desktop>, search: Option<String>) -> Reply<Vec<(CampaignId, String)>> {
    let s = state.session().await?;
    s.reply(s.crm.campaign_options(&s.actor, search.as_deref().unwrap_or_default()).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_campaign(state: State<'_, Desktop>, input: CampaignInput) -> Reply<Campaign> {
    let s = state.session().await?;
    s.reply(s.crm.create_campaign(&s.actor, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_campaign(
    state: State<'_, Desktop>,
    id: CampaignId,
    version: Version,
    input: CampaignInput,
) -> Reply<Campaign> {
    let s = state.session().await?;
    s.reply(s.crm.update_campaign(&s.actor, id, version, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn start_campaign(state: State<'_, Desktop>, id: CampaignId, version: Version) -> Reply<Campaign> {
    let s = state.session().await?;
    s.reply(s.crm.start_campaign(&s.actor, id, version).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn finish_campaign(state: State<'_, Desktop>, id: CampaignId, version: Version) -> Reply<Campaign> {
    let s = state.session().await?;
    s.reply(s.crm.finish_campaign(&s.actor, id, version).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_campaign_archived(
    state: State<'_, Desktop>,
    id: CampaignId,
    version: Version,
    archived: bool,
) -> Reply<Campaign> {
    let s = state.session().await?;
    s.reply(s.crm.set_campaign_archived(&s.actor, id, version, archived).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_channels(state: State<'_, Desktop>, include_archived: bool) -> Reply<Vec<Channel>> {
    let s = state.session().await?;
    s.reply(s.crm.list_channels(&s.actor, include_archived).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_channel(state: State<'_, Desktop>, name: String) -> Reply<Channel> {
    let s = state.session().await?;
    s.reply(s.crm.create_channel(&s.actor, &name).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn rename_channel(
    state: State<'_, Desktop>,
    id: ChannelId,
    version: Version,
    name: String,
) -> Reply<Channel> {
    let s = state.session().await?;
    s.reply(s.crm.rename_channel(&s.actor, id, version, &name).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_channel_archived(
    state: State<'_, Desktop>,
    id: ChannelId,
    version: Version,
    archived: bool,
) -> Reply<Channel> {
    let s = state.session().await?;
    s.reply(s.crm.set_channel_archived(&s.actor, id, version, archived).await)
}

// ------------------------------------------------------------------ leads

#[tauri::command(rename_all = "snake_case")]
pub async fn list_leads(state: State<'_, Desktop>, filter: LeadFilter) -> Reply<Page<Lead>> {
    let s = state.session().await?;
    s.reply(s.crm.list_leads(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_lead(state: State<'_, Desktop>, id: LeadId) -> Reply<Lead> {
    let s = state.session().await?;
    s.reply(s.crm.get_lead(&s.actor, id).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_lead(state: State<'_, Desktop>, input: LeadInput) -> Reply<Lead> {
    let s = state.session().await?;
    s.reply(s.crm.create_lead(&s.actor, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_lead(state: State<'_, Desktop>, id: LeadId, version: Version, input: LeadInput) -> Reply<Lead> {
    let s = state.session().await?;
    s.reply(s.crm.update_lead(&s.actor, id, version, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_lead_archived(state: State<'_, Desktop>, id: LeadId, version: Version, archived: bool) -> Reply<Lead> {
    let s = state.session().await?;
    s.reply(s.crm.set_lead_archived(&s.actor, id, version, archived).await)
}

/// How the window asks for a conversion: a new contract with an optional picked document
/// (token), or an existing unassigned contract.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConversionRequest {
    NewContract {
        contract: ContractInput,
        #[serde(default)]
        document: Option<u64>,
    },
    ExistingContract {
        contract_id: ContractId,
    },
}

#[tauri::command(rename_all = "snake_case")]
pub async fn convert_lead(
    state: State<'_, Desktop>,
    lead_id: LeadId,
    lead_version: Version,
    conversion: ConversionRequest,
) -> Reply<Client> {
    let s = state.session().await?;
    let conversion = match conversion {
        ConversionRequest::NewContract { contract, document } => {
            Conversion::NewContract { contract, document: state.upload(document, s.lang)? }
        }
        ConversionRequest::ExistingContract { contract_id } => Conversion::ExistingContract { contract_id },
    };
    s.reply(s.crm.convert_lead(&s.actor, lead_id, lead_version, conversion).await)
}

// ------------------------------------------------------------------ clients

#[tauri::command(rename_all = "snake_case")]
pub async fn list_clients(state: State<'_, Desktop>, filter: ClientFilter) -> Reply<Page<Client>> {
    let s = state.session().await?;
    s.reply(s.crm.list_clients(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_client(
    state: State<'_, Desktop>,
    id: ClientId,
    version: Version,
    input: ClientInput,
) -> Reply<Client> {
    let s = state.session().await?;
    s.reply(s.crm.update_client(&s.actor, id, version, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_client_archived(
    state: State<'_, Desktop>,
    id: ClientId,
    version: Version,
    archived: bool,
) -> Reply<Client> {
    let s = state.session().await?;
    s.reply(s.crm.set_client_archived(&s.actor, id, version, archived).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_contract_to_client(
    state: State<'_, Desktop>,
    client_id: ClientId,
    input: ContractInput,
    document: Option<u64>,
) -> Reply<Contract> {
    let s = state.session().await?;
    let document = state.upload(document, s.lang)?;
    s.reply(s.crm.add_contract_to_client(&s.actor, client_id, &input, document).await)
}

// ------------------------------------------------------------------ contracts

#[tauri::command(rename_all = "snake_case")]
pub async fn list_contracts(state: State<'_, Desktop>, filter: ContractFilter) -> Reply<Page<Contract>> {
    let s = state.session().await?;
    s.reply(s.crm.list_contracts(&s.actor, &filter).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_contract(
    state: State<'_, Desktop>,
    input: ContractInput,
    document: Option<u64>,
) -> Reply<Contract> {
    let s = state.session().await?;
    let document = state.upload(document, s.lang)?;
    s.reply(s.crm.create_contract(&s.actor, &input, document).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_contract(
    state: State<'_, Desktop>,
    id: ContractId,
    version: Version,
    input: ContractInput,
) -> Reply<Contract> {
    let s = state.session().await?;
    s.reply(s.crm.update_contract(&s.actor, id, version, &input).await)
}

/// Attaches the picked document (token from `pick_document`) to a contract.
#[tauri::command(rename_all = "snake_case")]
pub async fn attach_document(
    state: State<'_, Desktop>,
    contract_id: ContractId,
    version: Version,
    document: Option<u64>,
) -> Reply<Contract> {
    let s = state.session().await?;
    // no file yet is the core's `file_empty` on the document field
    let upload = state.upload(document, s.lang)?.unwrap_or_default();
    s.reply(s.crm.attach_document(&s.actor, contract_id, version, upload).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_contract_archived(
    state: State<'_, Desktop>,
    id: ContractId,
    version: Version,
    archived: bool,
) -> Reply<Contract> {
    let s = state.session().await?;
    s.reply(s.crm.set_contract_archived(&s.actor, id, version, archived).await)
}
