//! Advertising campaigns: which service is advertised on which channel, with what budget and
//! when. The status (planned, active, finished) is derived from the dates and the start/finish
//! actions rather than stored, so it never goes stale as days pass. Leads refer to campaigns, so
//! a campaign with leads is archived rather than deleted.

mod channels;
mod input;

/// The old path of [`crate::domain::date::optional`], kept for callers outside the core.
pub use crate::domain::date::optional as parse_date;
pub use channels::Channel;
pub use input::CampaignInput;

use chrono::{DateTime, Local, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{audit, now, Crm, Direction, Keyset, ListQuery, Page, PageRequest};
use crate::db::{reading, transact, Query, Tx};
use crate::domain::id::{CampaignId, ChannelId, ImportId, ServiceId, Version};
use crate::domain::{text, Money};
use crate::error::{Error, Result};
use crate::permission::{Actor, Permission};
use crate::store::{delete_unreferenced, name_race, set_archived, update_versioned};

/// Where a campaign stands, derived from its dates and the start/finish actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    #[default]
    Planned,
    Active,
    Finished,
}

impl CampaignStatus {
    /// Finished once finished by hand or past its end date; else active once started by hand or
    /// on its start date; else planned.
    pub fn derive(
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
        started: bool,
        finished: bool,
        today: NaiveDate,
    ) -> Self {
        if finished || ends_on.is_some_and(|end| end < today) {
            Self::Finished
        } else if started || starts_on <= today {
            Self::Active
        } else {
            Self::Planned
        }
    }

    /// Appends the SQL condition equivalent to [`CampaignStatus::derive`] for alias `c`, so a
    /// status filter runs in the database and pages stay correct.
    fn push_condition(self, q: &mut Query, today: NaiveDate) {
        let not_finished = |q: &mut Query| {
            q.push(" and c.finished_at is null and (c.ends_on is null or c.ends_on >= ").push_bind(today).push(")");
        };
        match self {
            Self::Finished => {
                q.push(" and (c.finished_at is not null or c.ends_on < ").push_bind(today).push(")");
            }
            Self::Active => {
                not_finished(q);
                q.push(" and (c.started_at is not null or c.starts_on <= ").push_bind(today).push(")");
            }
            Self::Planned => {
                not_finished(q);
                q.push(" and c.started_at is null and c.starts_on > ").push_bind(today);
            }
        }
    }
}

/// The office's calendar day: campaign dates are typed in local days.
pub fn today() -> NaiveDate {
    Local::now().date_naive()
}

/// A campaign as lists and forms show it, with its service's and channel's names.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub service_id: ServiceId,
    pub service_name: String,
    pub channel_id: ChannelId,
    pub channel_name: String,
    #[sqlx(try_from = "i64")]
    pub budget: Money,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Filled in after reading, from the columns above and today's date.
    #[sqlx(skip)]
    pub status: CampaignStatus,
    pub is_archived: bool,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    fn with_status(mut self, today: NaiveDate) -> Self {
        self.status = CampaignStatus::derive(
            self.starts_on,
            self.ends_on,
            self.started_at.is_some(),
            self.finished_at.is_some(),
            today,
        );
        self
    }
}

/// Columns the campaign list may be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignSort {
    #[default]
    Name,
    StartsOn,
    Budget,
    CreatedAt,
}

/// What the campaign list asks for: search text (name), filters, sort and page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CampaignFilter {
    pub search: String,
    pub status: Option<CampaignStatus>,
    pub channel_id: Option<ChannelId>,
    pub service_id: Option<ServiceId>,
    pub include_archived: bool,
    pub sort: CampaignSort,
    pub direction: Option<Direction>,
    pub page: PageRequest,
}

const COLUMNS: &str = "c.id, c.name, c.service_id, s.name as service_name, c.channel_id, ch.name as channel_name,
    c.budget, c.starts_on, c.ends_on, c.started_at, c.finished_at, c.is_archived, c.version, c.created_at, c.updated_at";
const FROM: &str = " from campaigns c join services s on s.id = c.service_id join channels ch on ch.id = c.channel_id";

impl Crm {
    /// One page of campaigns and how many match; archived ones only when asked for.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_campaigns(&self, actor: &Actor, filter: &CampaignFilter) -> Result<Page<Campaign>> {
        let today = today();
        let list = self.campaigns_query(actor, filter, today)?;
        let page: Page<Campaign> = self.read_page(actor, list, filter.page).await?;
        Ok(page.map(|c| c.with_status(today)))
    }

    /// Every campaign of the list for `filter` in its order, one at a time (exports).
    pub(crate) async fn each_campaign(
        &self,
        actor: &Actor,
        filter: &CampaignFilter,
        start: impl FnOnce(u64),
        mut each: impl FnMut(Campaign) -> Result<()>,
    ) -> Result<u64> {
        let today = today();
        let list = self.campaigns_query(actor, filter, today)?;
        self.read_all(actor, list, start, |c: Campaign| each(c.with_status(today))).await
    }

    /// The query of the campaigns list for `filter` as of `today` (rows need
    /// [`Campaign::with_status`]), after the checks every reader of it needs.
    pub(crate) fn campaigns_query(
        &self,
        actor: &Actor,
        filter: &CampaignFilter,
        today: NaiveDate,
    ) -> Result<ListQuery> {
        actor.require(Permission::CampaignsView)?;
        crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
        let mut clause = Query::new(format!("{FROM} where 1 = 1"));
        if !filter.include_archived {
            clause.push(" and c.is_archived = false");
        }
        if !filter.search.trim().is_empty() {
            clause.push(" and c.search like ").push_bind(text::like_pattern(&filter.search)).push(" escape '\\'");
        }
        if let Some(channel) = filter.channel_id {
            clause.push(" and c.channel_id = ").push_bind(channel);
        }
        if let Some(service) = filter.service_id {
            clause.push(" and c.service_id = ").push_bind(service);
        }
        if let Some(status) = filter.status {
            status.push_condition(&mut clause, today);
        }
        let (column, default_direction) = match filter.sort {
            CampaignSort::Name => ("c.name_key", Direction::Asc),
            CampaignSort::StartsOn => ("c.starts_on", Direction::Desc),
            CampaignSort::Budget => ("c.budget", Direction::Desc),
            CampaignSort::CreatedAt => ("c.created_at", Direction::Desc),
        };
        let keyset = Keyset::new(&[column, "c.id"], filter.direction.unwrap_or(default_direction), " from campaigns c");
        Ok(ListQuery::keyed(clause, "select count(*)", &format!("select {COLUMNS}"), keyset))
    }

    /// Live campaigns for pickers: the lead form and the statistics filters.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn campaign_options(&self, actor: &Actor, search: &str) -> Result<Vec<(CampaignId, String)>> {
        actor.require_any(&[
            Permission::LeadsView,
            Permission::LeadsEdit,
            Permission::CampaignsView,
            Permission::StatsView,
        ])?;
        crate::store::options(actor, "campaigns", search).await
    }

    /// One campaign with its status as of today.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_campaign(&self, actor: &Actor, id: CampaignId) -> Result<Campaign> {
        actor.require(Permission::CampaignsView)?;
        reading!(actor.db, |tx| {
            let campaign = fetch(tx, id).await?;
            Ok(campaign)
        })
    }

    /// Creates a campaign after checking every field, its service and its channel.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_campaign(&self, actor: &Actor, input: &CampaignInput) -> Result<Campaign> {
        actor.require(Permission::CampaignsEdit)?;
        transact!(actor.db, |tx| {
            let id = add_campaign(tx, actor, input, None).await?;
            let campaign = fetch(tx, id).await?;
            Ok(campaign)
        })
    }

    /// Saves an edit made on `version`; someone else's newer save is a `Conflict`.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        version: Version,
        input: &CampaignInput,
    ) -> Result<Campaign> {
        actor.require(Permission::CampaignsEdit)?;
        transact!(actor.db, |tx| {
            let current = fetch(tx, id).await?;
            let valid = input.validate(tx, Some(&current)).await?;
            let update = Query::new(
                "update campaigns set name = $1, name_key = $2, search = $2, service_id = $3, channel_id = $4,
                 budget = $5, starts_on = $6, ends_on = $7, version = version + 1, updated_at = $8
                 where id = $9 and version = $10",
            )
            .bind(&valid.name)
            .bind(text::key(&valid.name))
            .bind(valid.service_id)
            .bind(valid.channel_id)
            .bind(valid.budget.kopecks())
            .bind(valid.starts_on)
            .bind(valid.ends_on)
            .bind(now())
            .bind(id)
            .bind(version);
            update_versioned(tx, "campaigns", "campaign", id, update).await.map_err(name_race)?;
            audit(tx, actor, "update", "campaign", id, &valid.name).await?;
            let campaign = fetch(tx, id).await?;
            Ok(campaign)
        })
    }

    /// Starts a planned campaign now; a start date still ahead moves to today.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn start_campaign(&self, actor: &Actor, id: CampaignId, version: Version) -> Result<Campaign> {
        actor.require(Permission::CampaignsEdit)?;
        let today = today();
        transact!(actor.db, |tx| {
            let current = fetch(tx, id).await?;
            if current.status != CampaignStatus::Planned {
                return Err(Error::state("campaign_not_planned"));
            }
            let query = Query::new("update campaigns set started_at = $1, starts_on = $2");
            stamp(tx, actor, "start", &current, version, query.bind(now()).bind(today.min(current.starts_on))).await
        })
    }

    /// Finishes an active campaign now; an end date still ahead (or none) becomes today, but
    /// never before the start date.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn finish_campaign(&self, actor: &Actor, id: CampaignId, version: Version) -> Result<Campaign> {
        actor.require(Permission::CampaignsEdit)?;
        let today = today();
        transact!(actor.db, |tx| {
            let current = fetch(tx, id).await?;
            if current.status != CampaignStatus::Active {
                return Err(Error::state("campaign_not_active"));
            }
            let ends_on = match current.ends_on {
                Some(end) if end <= today => end,
                _ => today.max(current.starts_on),
            };
            let query = Query::new("update campaigns set finished_at = $1, ends_on = $2");
            stamp(tx, actor, "finish", &current, version, query.bind(now()).bind(ends_on)).await
        })
    }

    /// Archives (or restores) a campaign: it leaves the lead form's picker, its leads and
    /// statistics stay.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_campaign_archived(
        &self,
        actor: &Actor,
        id: CampaignId,
        version: Version,
        archived: bool,
    ) -> Result<Campaign> {
        actor.require(Permission::CampaignsEdit)?;
        transact!(actor.db, |tx| {
            set_archived(tx, actor, "campaigns", "campaign", id, version, archived).await?;
            let campaign = fetch(tx, id).await?;
            Ok(campaign)
        })
    }

    /// Deletes a campaign no lead refers to; one with leads must be archived instead.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn delete_campaign(&self, actor: &Actor, id: CampaignId) -> Result<()> {
        actor.require(Permission::CampaignsEdit)?;
        transact!(actor.db, |tx| {
            fetch(tx, id).await?;
            delete_unreferenced(tx, "campaigns", id, &[("leads", "campaign_id")]).await?;
            audit(tx, actor, "delete", "campaign", id, "").await
        })
    }
}

/// Finishes `update` (which sets two columns from `$1`, `$2`) with the version check, the
/// audit entry shared by start and finish.
async fn stamp(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    current: &Campaign,
    version: Version,
    mut update: Query,
) -> Result<Campaign> {
    update.push(", version = version + 1, updated_at = ").push_bind(now());
    update.push(" where id = ").push_bind(current.id).push(" and version = ").push_bind(version);
    update_versioned(tx, "campaigns", "campaign", current.id, update).await?;
    audit(tx, actor, action, "campaign", current.id, &current.name).await?;
    fetch(tx, current.id).await
}

async fn fetch(tx: &mut Tx, id: CampaignId) -> Result<Campaign> {
    let campaign: Option<Campaign> =
        tx.fetch_optional(Query::new(format!("select {COLUMNS}{FROM} where c.id = $1")).bind(id)).await?;
    campaign.map(|c| c.with_status(today())).ok_or(Error::NotFound { entity: "campaign", id: id.get() })
}

/// Adds a campaign in the caller's transaction after checking it as the form does;
/// `import_id` marks one an import created. Returns its id.
pub(crate) async fn add_campaign(
    tx: &mut Tx,
    actor: &Actor,
    input: &CampaignInput,
    import_id: Option<ImportId>,
) -> Result<CampaignId> {
    let valid = input.validate(tx, None).await?;
    let at = now();
    let id: CampaignId = tx
        .scalar(
            Query::new(
                "insert into campaigns (name, name_key, search, service_id, channel_id, budget, starts_on, ends_on,
                 created_by, created_at, updated_at, import_id)
                 values ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) returning id",
            )
            .bind(&valid.name)
            .bind(text::key(&valid.name))
            .bind(valid.service_id)
            .bind(valid.channel_id)
            .bind(valid.budget.kopecks())
            .bind(valid.starts_on)
            .bind(valid.ends_on)
            .bind(actor.user_id)
            .bind(at)
            .bind(import_id),
        )
        .await
        .map_err(name_race)?;
    let action = if import_id.is_some() { "import" } else { "create" };
    audit(tx, actor, action, "campaign", id, &valid.name).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn status_follows_the_dates_and_the_actions() {
        let today = day("2025-06-15");
        let derive = |start, end: Option<&str>, started, finished| {
            CampaignStatus::derive(day(start), end.map(day), started, finished, today)
        };
        assert_eq!(derive("2025-07-01", None, false, false), CampaignStatus::Planned);
        assert_eq!(derive("2025-07-01", None, true, false), CampaignStatus::Active);
        assert_eq!(derive("2025-06-15", Some("2025-06-15"), false, false), CampaignStatus::Active);
        assert_eq!(derive("2025-06-01", Some("2025-06-14"), false, false), CampaignStatus::Finished);
        assert_eq!(derive("2025-06-01", None, true, true), CampaignStatus::Finished);
    }
}
