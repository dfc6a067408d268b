//! Services the company sells: name, description, price. Marketers edit them; campaigns and
//! contracts refer to them, so a referenced service is archived rather than deleted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{audit, now, Crm, Direction, Keyset, ListQuery, Page, PageRequest};
use crate::db::{reading, transact, Query, Tx};
use crate::domain::id::{ImportId, ServiceId, Version};
use crate::domain::text::Name;
use crate::domain::{text, Money};
use crate::error::{Checks, Error, Result};
use crate::permission::{Actor, Permission};
use crate::store::{delete_unreferenced, ensure_name_free, name_race, set_archived, update_versioned};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "i64")]
    pub price: Money,
    pub is_archived: bool,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a form sends: raw text, parsed and checked by the core.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceInput {
    pub name: String,
    pub description: String,
    pub price: String,
}

struct ValidService {
    name: Name,
    description: String,
    price: Money,
}

impl ServiceInput {
    fn validate(&self) -> Result<ValidService> {
        let mut checks = Checks::new();
        let name = checks.take(Name::parse("name", &self.name, 200));
        let description = checks.take(text::free_text("description", &self.description, 5000));
        let price = checks.take(Money::parse("price", &self.price));
        checks.finish()?;
        Ok(ValidService {
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            price: price.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceSort {
    #[default]
    Name,
    Price,
    CreatedAt,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceFilter {
    pub search: String,
    pub include_archived: bool,
    pub sort: ServiceSort,
    pub direction: Option<Direction>,
    pub page: PageRequest,
}

const COLUMNS: &str = "id, name, description, price, is_archived, version, created_at, updated_at";

impl Crm {
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_services(&self, actor: &Actor, filter: &ServiceFilter) -> Result<Page<Service>> {
        let list = self.services_query(actor, filter)?;
        self.read_page(actor, list, filter.page).await
    }

    /// The query of the services list for `filter`, after the checks every reader of it needs.
    pub(crate) fn services_query(&self, actor: &Actor, filter: &ServiceFilter) -> Result<ListQuery> {
        actor.require(Permission::ServicesView)?;
        crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
        let mut clause = Query::new(" from services where 1 = 1");
        if !filter.include_archived {
            clause.push(" and is_archived = false");
        }
        if !filter.search.trim().is_empty() {
            clause.push(" and name_key like ").push_bind(text::like_pattern(&filter.search)).push(" escape '\\'");
        }
        let (column, default_direction) = match filter.sort {
            ServiceSort::Name => ("name_key", Direction::Asc),
            ServiceSort::Price => ("price", Direction::Desc),
            ServiceSort::CreatedAt => ("created_at", Direction::Desc),
        };
        let keyset = Keyset::new(&[column, "id"], filter.direction.unwrap_or(default_direction), " from services");
        Ok(ListQuery::keyed(clause, "select count(*)", &format!("select {COLUMNS}"), keyset))
    }

    /// Live services for pickers (campaign and contract forms, statistics filters).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn service_options(&self, actor: &Actor, search: &str) -> Result<Vec<(ServiceId, String)>> {
        actor.require_any(&[
            Permission::ServicesView,
            Permission::CampaignsEdit,
            Permission::ContractsEdit,
            Permission::StatsView,
        ])?;
        crate::store::options(actor, "services", search).await
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_service(&self, actor: &Actor, id: ServiceId) -> Result<Service> {
        actor.require(Permission::ServicesView)?;
        reading!(actor.db, |tx| {
            let service = fetch(tx, id).await?;
            Ok(service)
        })
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_service(&self, actor: &Actor, input: &ServiceInput) -> Result<Service> {
        actor.require(Permission::ServicesEdit)?;
        transact!(actor.db, |tx| {
            let id = add_service(tx, actor, input, None).await?;
            let service = fetch(tx, id).await?;
            Ok(service)
        })
    }

    /// Saves an edit made on `version`; someone else's newer save is a `Conflict`.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_service(
        &self,
        actor: &Actor,
        id: ServiceId,
        version: Version,
        input: &ServiceInput,
    ) -> Result<Service> {
        actor.require(Permission::ServicesEdit)?;
        let valid = input.validate()?;
        transact!(actor.db, |tx| {
            ensure_name_free(tx, "services", &valid.name, Some(id)).await?;
            let update = Query::new(
                "update services set name = $1, name_key = $2, description = $3, price = $4,
                 version = version + 1, updated_at = $5 where id = $6 and version = $7",
            )
            .bind(&valid.name)
            .bind(text::key(&valid.name))
            .bind(&valid.description)
            .bind(valid.price.kopecks())
            .bind(now())
            .bind(id)
            .bind(version);
            update_versioned(tx, "services", "service", id, update).await.map_err(name_race)?;
            audit(tx, actor, "update", "service", id, &valid.name).await?;
            let service = fetch(tx, id).await?;
            Ok(service)
        })
    }

    /// Archives (or restores) a service: it disappears from pickers but its history stays.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_service_archived(
        &self,
        actor: &Actor,
        id: ServiceId,
        version: Version,
        archived: bool,
    ) -> Result<Service> {
        actor.require(Permission::ServicesEdit)?;
        transact!(actor.db, |tx| {
            set_archived(tx, actor, "services", "service", id, version, archived).await?;
            let service = fetch(tx, id).await?;
            Ok(service)
        })
    }

    /// Deletes a service nobody refers to; one with campaigns or contracts must be archived.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn delete_service(&self, actor: &Actor, id: ServiceId) -> Result<()> {
        actor.require(Permission::ServicesEdit)?;
        transact!(actor.db, |tx| {
            fetch(tx, id).await?;
            delete_unreferenced(tx, "services", id, &[("campaigns", "service_id"), ("contracts", "service_id")])
                .await?;
            audit(tx, actor, "delete", "service", id, "").await?;
            Ok(())
        })
    }
}

async fn fetch(tx: &mut Tx, id: ServiceId) -> Result<Service> {
    tx.fetch_optional(Query::new(format!("select {COLUMNS} from services where id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound { entity: "service", id: id.get() })
}
/// Adds a service in the caller's transaction after checking it as the form does; `import_id`
/// marks one an import created. Returns its id.
pub(crate) async fn add_service(
    tx: &mut Tx,
    actor: &Actor,
    input: &ServiceInput,
    import_id: Option<ImportId>,
) -> Result<ServiceId> {
    let valid = input.validate()?;
    ensure_name_free(tx, "services", &valid.name, None::<ServiceId>).await?;
    let at = now();
    let id: ServiceId = tx
        .scalar(
            Query::new(
                "insert into services (name, name_key, description, price, created_by, created_at, updated_at, import_id)
                 values ($1, $2, $3, $4, $5, $6, $6, $7) returning id",
            )
            .bind(&valid.name)
            .bind(text::key(&valid.name))
            .bind(&valid.description)
            .bind(valid.price.kopecks())
            .bind(actor.user_id)
            .bind(at)
            .bind(import_id),
        )
        .await
        // two marketers saving the same name at once: the unique index decides
        .map_err(name_race)?;
    let action = if import_id.is_some() { "import" } else { "create" };
    audit(tx, actor, action, "service", id, &valid.name).await?;
    Ok(id)
}
