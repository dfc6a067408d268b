//! A lead's or client's card: the record, where it came from, who owns it, its open tasks and the
//! first page of its timeline, read in one snapshot. Also what is done from a card on its own:
//! setting a lead's status (a lost lead says why), reassigning the owner, and the reasons list.

use serde::Serialize;

use crate::app::{audit_entry, now, Crm, Page, PageRequest};
use crate::clients::{fetch_client, Client};
use crate::contracts::{Contract, ContractFilter};
use crate::db::{reading, transact, Query, Tx};
use crate::domain::Money;
use crate::error::{Checks, Error, Result};
use crate::history::{read_timeline, Changes, Entry, Record};
use crate::leads::{self, Lead, LeadStatus};
use crate::permission::{Actor, Permission};
use crate::reference::{Item, LOST_REASONS};

/// A reason a lead was lost, from the reference list.
pub type LostReason = Item<LostReasonId>;
use crate::domain::id::{CampaignId, ClientId, LeadId, LostReasonId, ServiceId, UserId, Version};
use crate::store::update_versioned;
use crate::tasks::{Task, TaskFilter, TaskState};

/// Where a lead came from: its campaign's channel and advertised service (whose price the
/// conversion's contract starts from).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Origin {
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    pub channel_name: String,
    pub service_id: ServiceId,
    pub service_name: String,
    #[sqlx(try_from = "i64")]
    pub service_price: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadCard {
    pub lead: Lead,
    pub origin: Option<Origin>,
    /// The open tasks about this lead that the actor may see, soonest first.
    pub tasks: Vec<Task>,
    pub timeline: Page<Entry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientCard {
    pub client: Client,
    /// The lead it was converted from: where the client came from.
    pub lead: Lead,
    pub origin: Option<Origin>,
    /// All its contracts, with their documents' details, for those who see contracts.
    pub contracts: Option<Vec<Contract>>,
    pub tasks: Vec<Task>,
    /// The client's entries, its lead's story and its contracts', newest first.
    pub timeline: Page<Entry>,
}

/// A person to pick as an owner or assignee.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserOption {
    pub id: UserId,
    pub full_name: String,
}

/// Entries on a card before "more".
const FIRST_ENTRIES: i64 = 20;
/// Contracts a client card lists (a client with more is rare; the contracts list has them all).
const CARD_CONTRACTS: i64 = 100;
/// Open tasks a card lists (the task list pages through any more).
const CARD_TASKS: i64 = 100;

impl Crm {
    /// A lead's card, for everyone who may view leads.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn lead_card(&self, actor: &Actor, id: LeadId) -> Result<LeadCard> {
        actor.require(Permission::LeadsView)?;
        let open_tasks = self.record_tasks(actor, Record::Lead(id))?;
        let (lead, origin, timeline, tasks) = reading!(actor.db, |tx| {
            let lead = leads::fetch(tx, id).await?;
            let origin = origin(tx, lead.campaign_id).await?;
            let timeline = read_timeline(tx, Record::Lead(id), PageRequest::new(0, FIRST_ENTRIES)).await?;
            let tasks = open_tasks.clone().first(tx, CARD_TASKS).await?;
            Ok((lead, origin, timeline, tasks))
        })?;
        Ok(LeadCard { lead, origin, tasks, timeline })
    }

    /// A client's card, for everyone who may view clients; contracts for those who see them.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn client_card(&self, actor: &Actor, id: ClientId) -> Result<ClientCard> {
        actor.require(Permission::ClientsView)?;
        let open_tasks = self.record_tasks(actor, Record::Client(id))?;
        let (client, lead, origin, timeline, tasks) = reading!(actor.db, |tx| {
            let client = fetch_client(tx, id).await?;
            let lead = leads::fetch(tx, client.lead_id).await?;
            let origin = origin(tx, lead.campaign_id).await?;
            let timeline = read_timeline(tx, Record::Client(id), PageRequest::new(0, FIRST_ENTRIES)).await?;
            let tasks = open_tasks.clone().first(tx, CARD_TASKS).await?;
            Ok((client, lead, origin, timeline, tasks))
        })?;
        let contracts = if actor.can(Permission::ContractsView) {
            let filter = ContractFilter {
                client_id: Some(id),
                include_archived: true,
                page: PageRequest::new(0, CARD_CONTRACTS),
                ..Default::default()
            };
            Some(self.list_contracts(actor, &filter).await?.items)
        } else {
            None
        };
        Ok(ClientCard { client, lead, origin, contracts, tasks, timeline })
    }

    /// The open tasks of a record that the actor may see, soonest first (read with the card, in
    /// its snapshot).
    fn record_tasks(&self, actor: &Actor, record: Record) -> Result<crate::app::ListQuery> {
        let filter = TaskFilter { record: Some(record), state: TaskState::Open, ..Default::default() };
        self.tasks_query(actor, &filter)
    }

    /// Moves a lead (read at `version`) to another status; `lost` needs a reason from the list.
    /// `converted` is reached only by converting.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_lead_status(
        &self,
        actor: &Actor,
        id: LeadId,
        version: Version,
        status: LeadStatus,
        lost_reason_id: Option<LostReasonId>,
    ) -> Result<Lead> {
        actor.require(Permission::LeadsEdit)?;
        transact!(actor.db, |tx| {
            let before = leads::fetch(tx, id).await?;
            change_status(tx, actor, &before, version, status, lost_reason_id).await?;
            let lead = leads::fetch(tx, id).await?;
            Ok(lead)
        })
    }

    /// Makes `owner_id` responsible for a lead or client read at `version`.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_owner(&self, actor: &Actor, record: Record, version: Version, owner_id: UserId) -> Result<()> {
        actor.require(Permission::OwnersAssign)?;
        actor.require(record.view_permission())?;
        transact!(actor.db, |tx| {
            let owner = NewOwner::read(tx, owner_id).await?;
            change_owner(tx, actor, record, version, &owner).await?;
            Ok(())
        })
    }

    /// Active colleagues by name, for owner and assignee pickers: every signed-in user may see
    /// who works here.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn user_options(&self, actor: &Actor) -> Result<Vec<UserOption>> {
        actor.require_signed_in()?;
        reading!(actor.db, |tx| {
            let users = tx
                .fetch_all(Query::new("select id, full_name from users where is_active = true order by full_name, id"))
                .await?;
            Ok(users)
        })
    }

    /// Why leads are lost, by name: for everyone who sets a lead's status or reads statistics.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_lost_reasons(&self, actor: &Actor, include_archived: bool) -> Result<Vec<LostReason>> {
        actor.require_any(&[
            Permission::LeadsView,
            Permission::LeadsEdit,
            Permission::ReasonsEdit,
            Permission::StatsView,
        ])?;
        LOST_REASONS.list(actor, include_archived).await
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_lost_reason(&self, actor: &Actor, name: &str) -> Result<LostReason> {
        actor.require(Permission::ReasonsEdit)?;
        LOST_REASONS.create(actor, name).await
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn rename_lost_reason(
        &self,
        actor: &Actor,
        id: LostReasonId,
        version: Version,
        name: &str,
    ) -> Result<LostReason> {
        actor.require(Permission::ReasonsEdit)?;
        LOST_REASONS.rename(actor, id, version, name).await
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_lost_reason_archived(
        &self,
        actor: &Actor,
        id: LostReasonId,
        version: Version,
        archived: bool,
    ) -> Result<LostReason> {
        actor.require(Permission::ReasonsEdit)?;
        LOST_REASONS.set_archived(actor, id, version, archived).await
    }
}

/// Moves `before` (read at `version`) to `status` in the caller's transaction; `lost` needs a
/// reason, `converted` is the conversion's, and a converted lead is frozen.
pub(crate) async fn change_status(
    tx: &mut Tx,
    actor: &Actor,
    before: &Lead,
    version: Version,
    status: LeadStatus,
    lost_reason_id: Option<LostReasonId>,
) -> Result<()> {
    if status == LeadStatus::Converted {
        return Err(Error::field("status", "convert_instead"));
    }
    leads::ensure_not_converted(before)?;
    let mut checks = Checks::new();
    let reason = leads::lost_reason(tx, &mut checks, status, lost_reason_id, Some(before)).await?;
    checks.finish()?;
    let update = Query::new(
        "update leads set status = $1, lost_reason_id = $2, version = version + 1, updated_at = $3
         where id = $4 and version = $5 and status <> 'converted'",
    )
    .bind(status.code())
    .bind(reason)
    .bind(now())
    .bind(before.id)
    .bind(version);
    update_versioned(tx, "leads", "lead", before.id, update).await?;
    let lead = leads::fetch(tx, before.id).await?;
    let mut changes = Changes::default();
    changes.field("status", Some(before.status.code()), Some(lead.status.code())).field(
        "lost_reason",
        before.lost_reason.as_deref(),
        lead.lost_reason.as_deref(),
    );
    audit_entry(tx, actor, "status", "lead", before.id, &lead.full_name, &changes).await
}

/// Who is to become responsible for a record: whether that user exists and is active, and
/// their name, read once (a bulk change of 50 records reads them once, not 50 times).
pub(crate) struct NewOwner {
    id: UserId,
    /// `is_active` and `full_name`, when the user exists.
    user: Option<(bool, String)>,
}

impl NewOwner {
    pub(crate) async fn read(tx: &mut Tx, id: UserId) -> Result<Self> {
        let user =
            tx.fetch_optional(Query::new("select is_active, full_name from users where id = $1").bind(id)).await?;
        Ok(Self { id, user })
    }

    pub(crate) fn id(&self) -> UserId {
        self.id
    }

    /// The owner's name, or why they may not be one (as `leads::active_user` says it).
    pub(crate) fn check(&self) -> Result<&str> {
        if let Some(error) = leads::not_active("owner_id", self.user.as_ref().map(|(is_active, _)| *is_active)) {
            return Err(Error::Invalid(vec![error]));
        }
        Ok(self.user.as_ref().map_or("", |(_, name)| name.as_str()))
    }
}

/// Makes `owner_id` responsible for `record` (read at `version`) in the caller's transaction.
pub(crate) async fn change_owner(
    tx: &mut Tx,
    actor: &Actor,
    record: Record,
    version: Version,
    owner: &NewOwner,
) -> Result<()> {
    let (entity, id) = record.parts();
    let table = if entity == "lead" { "leads" } else { "clients" };
    let before: Option<(String, Option<String>, String)> = tx
        .fetch_optional(
            Query::new(format!(
                "select r.full_name, o.full_name, {status} from {table} r left join users o on o.id = r.owner_id
                 where r.id = $1",
                status = if entity == "lead" { "r.status" } else { "'client'" }
            ))
            .bind(id),
        )
        .await?;
    let Some((name, old_owner, status)) = before else { return Err(Error::NotFound { entity, id }) };
    if status == LeadStatus::Converted.code() {
        return Err(Error::state("lead_converted_locked"));
    }
    let new_owner = owner.check()?;
    let update = Query::new(format!(
        "update {table} set owner_id = $1, version = version + 1, updated_at = $2 where id = $3 and version = $4"
    ))
    .bind(owner.id)
    .bind(now())
    .bind(id)
    .bind(version);
    update_versioned(tx, table, entity, id, update).await?;
    let mut changes = Changes::default();
    changes.field("owner", old_owner.as_deref(), Some(new_owner));
    audit_entry(tx, actor, "owner", entity, id, &name, &changes).await
}

async fn origin(tx: &mut Tx, campaign: Option<CampaignId>) -> Result<Option<Origin>> {
    let Some(campaign) = campaign else { return Ok(None) };
    tx.fetch_optional(
        Query::new(
            "select cp.id as campaign_id, cp.name as campaign_name, ch.name as channel_name, s.id as service_id,
             s.name as service_name, s.price as service_price
             from campaigns cp join channels ch on ch.id = cp.channel_id join services s on s.id = cp.service_id
             where cp.id = $1",
        )
        .bind(campaign),
    )
    .await
}
