//! Saved filters: a list's search, filters and sort, named by one user for themselves and picked
//! again later. Each person sees only their own (on an office server, row-level security too).

use serde::{Deserialize, Serialize};

use crate::app::{audit, now, Crm};
use crate::db::{reading, transact, Query};
use crate::domain::id::SavedFilterId;
use crate::domain::text;
use crate::domain::text::Name;
use crate::error::{Error, FieldError, Result};
use crate::permission::Actor;

/// The lists whose filters can be saved.
pub const LISTS: [&str; 6] = ["leads", "clients", "contracts", "campaigns", "services", "board"];

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SavedFilter {
    pub id: SavedFilterId,
    pub list: String,
    pub name: String,
    /// The list's filter as the window sent it: an object, given back as it was.
    #[sqlx(try_from = "String")]
    pub filter: FilterJson,
}

/// A saved filter's JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FilterJson(pub serde_json::Value);

impl TryFrom<String> for FilterJson {
    type Error = serde_json::Error;

    fn try_from(stored: String) -> Result<Self, serde_json::Error> {
        serde_json::from_str(&stored).map(Self)
    }
}

/// Longest name, and the most a saved filter's JSON may take.
const MAX_NAME: usize = 100;
const MAX_FILTER_BYTES: usize = 4096;

impl Crm {
    /// The actor's saved filters of `list`, by name.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn saved_filters(&self, actor: &Actor, list: &str) -> Result<Vec<SavedFilter>> {
        actor.require_signed_in()?;
        let list = known(list)?;
        reading!(actor.db, |tx| {
            let found = tx
                .fetch_all(
                    Query::new(
                        "select id, list, name, filter from saved_filters where user_id = $1 and list = $2 order by name_key",
                    )
                    .bind(actor.user_id)
                    .bind(list),
                )
                .await?;
            Ok(found)
        })
    }

    /// Saves `filter` under `name` for the actor; a filter of the same name is replaced.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn save_filter(
        &self,
        actor: &Actor,
        list: &str,
        name: &str,
        filter: &serde_json::Value,
    ) -> Result<SavedFilter> {
        actor.require_signed_in()?;
        let list = known(list)?;
        let name = Name::parse("name", name, MAX_NAME).map_err(|e| Error::Invalid(vec![e]))?;
        if !filter.is_object() {
            return Err(Error::field("filter", "not_allowed"));
        }
        let json = filter.to_string();
        if json.len() > MAX_FILTER_BYTES {
            return Err(Error::Invalid(vec![FieldError::new("filter", "too_long").with("max", MAX_FILTER_BYTES)]));
        }
        let key = text::key(&name);
        transact!(actor.db, |tx| {
            tx.execute(
                Query::new("delete from saved_filters where user_id = $1 and list = $2 and name_key = $3")
                    .bind(actor.user_id)
                    .bind(list)
                    .bind(key.as_str()),
            )
            .await?;
            let id: SavedFilterId = tx
                .scalar(
                    Query::new(
                        "insert into saved_filters (user_id, list, name, name_key, filter, created_at)
                         values ($1, $2, $3, $4, $5, $6) returning id",
                    )
                    .bind(actor.user_id)
                    .bind(list)
                    .bind(name.as_str())
                    .bind(key.as_str())
                    .bind(json.as_str())
                    .bind(now()),
                )
                .await?;
            audit(tx, actor, "create", "saved_filter", id, &name).await?;
            Ok(SavedFilter {
                id,
                list: list.to_owned(),
                name: name.as_str().to_owned(),
                filter: FilterJson(filter.clone()),
            })
        })
    }

    /// Deletes one of the actor's saved filters.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn delete_saved_filter(&self, actor: &Actor, id: SavedFilterId) -> Result<()> {
        actor.require_signed_in()?;
        transact!(actor.db, |tx| {
            let deleted = tx
                .execute(
                    Query::new("delete from saved_filters where id = $1 and user_id = $2").bind(id).bind(actor.user_id),
                )
                .await?;
            if deleted == 0 {
                return Err(Error::NotFound { entity: "saved_filter", id: id.get() });
            }
            audit(tx, actor, "delete", "saved_filter", id, "").await?;
            Ok(())
        })
    }
}

fn known(list: &str) -> Result<&'static str> {
    LISTS.iter().find(|l| **l == list).copied().ok_or_else(|| Error::field("list", "not_allowed"))
}
