//! Short reference lists that some users extend and everyone picks from: advertising channels
//! (campaigns refer to them, statistics group by them) and the reasons leads are lost. Rows that
//! records refer to are archived, never deleted; names are unique ignoring case. The use cases
//! (`list_channels`, `create_lost_reason`, ...) check their own permissions and call these.

use std::marker::PhantomData;

use serde::Serialize;

use crate::app::{audit, now};
use crate::db::{reading, transact, Query, Row, Tx};
use crate::domain::id::{ChannelId, LostReasonId, Version};
use crate::domain::text;
use crate::domain::text::Name;
use crate::error::{Error, Result};
use crate::permission::Actor;
use crate::store::{archive_action, ensure_name_free, name_race, update_versioned};

/// One entry of a reference list, whose ids are `I`.
#[derive(Debug, Clone, Serialize)]
pub struct Item<I> {
    pub id: I,
    pub name: String,
    pub is_archived: bool,
    pub version: Version,
}

/// A reference list's table (with `name`, `name_key`, `is_archived`, `version`, `created_at`)
/// and its rows' name in errors and the audit log (both literals of this module); its ids are `I`.
pub(crate) struct List<I> {
    table: &'static str,
    entity: &'static str,
    ids: PhantomData<I>,
}

pub(crate) const CHANNELS: List<ChannelId> = List { table: "channels", entity: "channel", ids: PhantomData };
pub(crate) const LOST_REASONS: List<LostReasonId> =
    List { table: "lost_reasons", entity: "lost_reason", ids: PhantomData };

/// A row as read: id, name, archived, version.
type ItemRow<I> = (I, String, bool, Version);

/// Longest name: it is a label in pickers and statistics tables.
const MAX_NAME: usize = 100;

impl<I: Copy + Into<i64>> List<I>
where
    ItemRow<I>: Row,
    (I,): Row,
{
    fn item((id, name, is_archived, version): ItemRow<I>) -> Item<I> {
        Item { id, name, is_archived, version }
    }

    /// The entries by name, archived ones too when asked.
    pub(crate) async fn list(&self, actor: &Actor, include_archived: bool) -> Result<Vec<Item<I>>> {
        let mut q = Query::new(format!("select id, name, is_archived, version from {}", self.table));
        if !include_archived {
            q.push(" where is_archived = false");
        }
        q.push(" order by name_key");
        let rows: Vec<ItemRow<I>> = reading!(actor.db, |tx| {
            let rows = tx.fetch_all(q.clone()).await?;
            Ok(rows)
        })?;
        Ok(rows.into_iter().map(Self::item).collect())
    }

    pub(crate) async fn create(&self, actor: &Actor, name: &str) -> Result<Item<I>> {
        let name = Name::parse("name", name, MAX_NAME).map_err(|e| Error::Invalid(vec![e]))?;
        transact!(actor.db, |tx| {
            ensure_name_free(tx, self.table, &name, None::<I>).await?;
            let insert =
                format!("insert into {} (name, name_key, created_at) values ($1, $2, $3) returning id", self.table);
            let id: I = tx
                .scalar(Query::new(insert).bind(&name).bind(text::key(&name)).bind(now()))
                .await
                .map_err(name_race)?;
            audit(tx, actor, "create", self.entity, id, &name).await?;
            let item = self.fetch(tx, id).await?;
            Ok(item)
        })
    }

    /// Renames entry `id` read at `version`; records follow since they refer to it by id.
    pub(crate) async fn rename(&self, actor: &Actor, id: I, version: Version, name: &str) -> Result<Item<I>> {
        let name = Name::parse("name", name, MAX_NAME).map_err(|e| Error::Invalid(vec![e]))?;
        transact!(actor.db, |tx| {
            ensure_name_free(tx, self.table, &name, Some(id)).await?;
            let update =
                Query::new(format!("update {} set name = $1, name_key = $2, version = version + 1", self.table))
                    .bind(&name)
                    .bind(text::key(&name));
            self.save(tx, update, id, version).await?;
            audit(tx, actor, "update", self.entity, id, &name).await?;
            let item = self.fetch(tx, id).await?;
            Ok(item)
        })
    }

    /// Archives (or restores) entry `id`: it leaves the pickers; records keep it.
    pub(crate) async fn set_archived(&self, actor: &Actor, id: I, version: Version, archived: bool) -> Result<Item<I>> {
        transact!(actor.db, |tx| {
            let update =
                Query::new(format!("update {} set is_archived = $1, version = version + 1", self.table)).bind(archived);
            self.save(tx, update, id, version).await?;
            let item = self.fetch(tx, id).await?;
            audit(tx, actor, archive_action(archived), self.entity, id, &item.name).await?;
            Ok(item)
        })
    }

    /// Runs `update` (an `update {table} set ...`) for row `id` at `version`. These tables have
    /// no `updated_at`, so the shared `set_archived` helper does not apply.
    async fn save(&self, tx: &mut Tx, mut update: Query, id: I, version: Version) -> Result<()> {
        let id: i64 = id.into();
        update.push(" where id = ").push_bind(id).push(" and version = ").push_bind(version);
        update_versioned(tx, self.table, self.entity, id, update).await.map_err(name_race)
    }

    async fn fetch(&self, tx: &mut Tx, id: I) -> Result<Item<I>> {
        let id: i64 = id.into();
        let select = format!("select id, name, is_archived, version from {} where id = $1", self.table);
        let row: Option<ItemRow<I>> = tx.fetch_optional(Query::new(select).bind(id)).await?;
        row.map(Self::item).ok_or(Error::NotFound { entity: self.entity, id })
    }
}
