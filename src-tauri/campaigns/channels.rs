//! Advertising channels: a short reference list (context ads, social networks, e-mail, ...) that
//! marketers extend, so statistics can group campaigns by channel. Campaigns refer to channels,
//! so a channel is archived, never deleted.

use crate::app::Crm;
use crate::domain::id::{ChannelId, Version};
use crate::error::Result;
use crate::permission::{Actor, Permission};
use crate::reference::CHANNELS;

/// One advertising channel of the reference list.
pub type Channel = crate::reference::Item<ChannelId>;

impl Crm {
    /// Channels by name; the campaign form, statistics and the lead screens all show them.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_channels(&self, actor: &Actor, include_archived: bool) -> Result<Vec<Channel>> {
        actor.require_any(&[
            Permission::CampaignsView,
            Permission::CampaignsEdit,
            Permission::StatsView,
            Permission::LeadsEdit,
        ])?;
        CHANNELS.list(actor, include_archived).await
    }

    /// Adds a channel; names are unique ignoring case.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_channel(&self, actor: &Actor, name: &str) -> Result<Channel> {
        actor.require(Permission::ChannelsEdit)?;
        CHANNELS.create(actor, name).await
    }

    /// Renames a channel read at `version`; campaigns follow since they refer to it by id.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn rename_channel(&self, actor: &Actor, id: ChannelId, version: Version, name: &str) -> Result<Channel> {
        actor.require(Permission::ChannelsEdit)?;
        CHANNELS.rename(actor, id, version, name).await
    }

    /// Archives (or restores) a channel: it leaves the campaign form's picker; campaigns keep it.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_channel_archived(
        &self,
        actor: &Actor,
        id: ChannelId,
        version: Version,
        archived: bool,
    ) -> Result<Channel> {
        actor.require(Permission::ChannelsEdit)?;
        CHANNELS.set_archived(actor, id, version, archived).await
    }
}
