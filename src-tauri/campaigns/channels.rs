//! Advertising channels: a short reference list (context ads, social networks, e-mail, ...) that
//! marketers extend, so statistics can group campaigns by channel. Campaigns refer to channels,
//! so a channel is archived, never deleted.

use serde::Serialize;

use crate::app::{audit, now, Crm};
use crate::db::{Query, Tx};
use crate::domain::text;
use crate::error::{Error, Result};
use crate::permission::{Actor, Permission};
use crate::store::{archive_action, ensure_name_free, name_race, update_versioned};

/// One advertising channel of the reference list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub is_archived: bool,
    pub version: i64,
}

/// Longest channel name: it is a label in pickers and statistics tables.
const MAX_NAME: usize = 100;

impl Crm {
    /// Channels by name; the campaign form, statistics and the lead screens all show them.
    pub async fn list_channels(&self, actor: &Actor, include_archived: bool) -> Result<Vec<Channel>> {
        actor.require_any(&[
            Permission::CampaignsView,
            Permission::CampaignsEdit,
            Permission::StatsView,
            Permission::LeadsEdit,
        ])?;
        let mut q = Query::new("select id, name, is_archived, version from channels");
        if !include_archived {
            q.push(" where is_archived = false");
        }
        q.push(" order by name_key");
        let mut tx = actor.db.read().await?;
        let channels = tx.fetch_all(q).await?;
        tx.commit().await?;
        Ok(channels)
    }

    /// Adds a channel; names are unique ignoring case.
    pub async fn create_channel(&self, actor: &Actor, name: &str) -> Result<Channel> {
        actor.require(Permission::ChannelsEdit)?;
        let name = text::name("name", name, MAX_NAME).map_err(|e| Error::Invalid(vec![e]))?;
        let mut tx = actor.db.write().await?;
        ensure_name_free(&mut tx, "channels", &name, None).await?;
        let id: i64 = tx
            .scalar(
                Query::new("insert into channels (name, name_key, created_at) values ($1, $2, $3) returning id")
                    .bind(&name)
                    .bind(text::key(&name))
                    .bind(now()),
            )
            .await
            .map_err(name_race)?;
        audit(&mut tx, actor, "create", "channel", id, &name).await?;
        let channel = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(channel)
    }

    /// Renames a channel read at `version`; campaigns follow since they refer to it by id.
    pub async fn rename_channel(&self, actor: &Actor, id: i64, version: i64, name: &str) -> Result<Channel> {
        actor.require(Permission::ChannelsEdit)?;
        let name = text::name("name", name, MAX_NAME).map_err(|e| Error::Invalid(vec![e]))?;
        let mut tx = actor.db.write().await?;
        ensure_name_free(&mut tx, "channels", &name, Some(id)).await?;
        let update = Query::new("update channels set name = $1, name_key = $2, version = version + 1")
            .bind(&name)
            .bind(text::key(&name));
        save(&mut tx, update, id, version).await?;
        audit(&mut tx, actor, "update", "channel", id, &name).await?;
        let channel = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(channel)
    }

    /// Archives (or restores) a channel: it leaves the campaign form's picker; campaigns keep it.
    pub async fn set_channel_archived(&self, actor: &Actor, id: i64, version: i64, archived: bool) -> Result<Channel> {
        actor.require(Permission::ChannelsEdit)?;
        let mut tx = actor.db.write().await?;
        let update = Query::new("update channels set is_archived = $1, version = version + 1").bind(archived);
        save(&mut tx, update, id, version).await?;
        audit(&mut tx, actor, archive_action(archived), "channel", id, "").await?;
        let channel = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(channel)
    }
}

/// Runs `update` (an `update channels set ...`) for row `id` at `version`. Channels have no
/// `updated_at`, so the shared `set_archived` helper does not apply.
async fn save(tx: &mut Tx, mut update: Query, id: i64, version: i64) -> Result<()> {
    update.push(" where id = ").push_bind(id).push(" and version = ").push_bind(version);
    update_versioned(tx, "channels", "channel", id, update).await.map_err(name_race)
}

async fn fetch(tx: &mut Tx, id: i64) -> Result<Channel> {
    tx.fetch_optional(Query::new("select id, name, is_archived, version from channels where id = $1").bind(id))
        .await?
        .ok_or(Error::NotFound { entity: "channel", id })
}
