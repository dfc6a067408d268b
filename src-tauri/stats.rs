//! Campaign statistics: what each campaign brought (leads, clients, revenue) against what it cost.
//!
//! Definitions (a cohort view):
//! - leads: live (not archived) leads of the campaign created in the period;
//! - clients: those leads converted to active clients; conversion = clients / leads;
//! - revenue: the amounts of all contracts of those clients (a client may have several);
//! - budget: the campaign's whole budget (not pro-rated to the period);
//! - ROAS = revenue / budget (the spec's profitability ratio); cost per lead = budget / leads;
//!   cost per client = budget / clients.
//! - With a period, campaigns that ran in it or brought leads in it are shown.
//! - Archived campaigns keep their figures (archiving tidies the working lists; it does not
//!   rewrite history) and are marked so; archived leads (duplicates, spam) are not counted;
//!   archived contracts are (the sale happened; a mistaken one is corrected by editing it).
//!
//! Every role sees statistics, not the rows behind them: the queries read the `stat_*` views,
//! which on an office PostgreSQL run with the owner's rights and show only what is aggregated
//! (migrations/*/0008_office_roles.sql).
//!
//! Sums and counts come from aggregate SQL in the database (one round trip, no rows loaded into
//! Rust); the ratios are exact decimal arithmetic here, and a zero denominator gives `None`
//! ("no value", shown as a dash), never infinity, NaN or an error. Keep every statistics query in
//! this module so that pre-aggregated rollups can replace them without touching callers.

use chrono::{Datelike as _, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

pub mod series;

use crate::app::{Crm, Page, PageRequest};
use crate::db::{reading, transact, Backend, Query, Tx};
use crate::domain::id::{CampaignId, ChannelId, ClientId, ServiceId};
use crate::domain::{date, text, Money};
use crate::error::{Error, Result};
use crate::leads::Search;
use crate::permission::{Actor, Permission};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatsFilter {
    /// First day of the period (inclusive), in the office's local time.
    pub from: Option<NaiveDate>,
    /// Last day of the period (inclusive).
    pub to: Option<NaiveDate>,
    pub channel_id: Option<ChannelId>,
    pub service_id: Option<ServiceId>,
}

/// The figures of one campaign, one channel, or the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub leads: i64,
    pub clients: i64,
    /// clients / leads, a fraction (0.25 = 25 %), four decimals.
    pub conversion: Option<Decimal>,
    pub revenue: Money,
    pub budget: Money,
    /// revenue / budget, four decimals.
    pub roas: Option<Decimal>,
    pub cost_per_lead: Option<Money>,
    pub cost_per_client: Option<Money>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignRow {
    pub campaign_id: CampaignId,
    pub name: String,
    pub channel_id: ChannelId,
    pub channel: String,
    pub service_id: ServiceId,
    pub service: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub is_archived: bool,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChannelRow {
    pub channel_id: ChannelId,
    pub channel: String,
    pub campaigns: i64,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignStats {
    pub campaigns: Vec<CampaignRow>,
    pub channels: Vec<ChannelRow>,
    pub total: Figures,
}

/// A column the statistics page sorts its campaigns by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignSort {
    Name,
    Leads,
    Clients,
    Conversion,
    #[default]
    Revenue,
    Budget,
    Roas,
    CostPerLead,
    CostPerClient,
}

/// What the statistics page shows of the campaigns: sorted by a column, one page of them.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct CampaignView {
    pub sort: CampaignSort,
    pub direction: crate::app::Direction,
    pub page: PageRequest,
}

/// The statistics as the page shows them: the totals and channels whole, the campaigns one page
/// at a time (`campaigns`, with how many there are in all), and the campaigns of the largest
/// revenue for the chart. All 2,000 campaigns of a busy office sent at every change of period were 700 KB
/// of JSON for the window to take in, for the 50 rows it draws.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignStatsPage {
    pub campaigns: Page<CampaignRow>,
    /// The campaigns of the largest revenue (most [`TOP_CAMPAIGNS`]), largest first.
    pub top: Vec<CampaignRow>,
    pub channels: Vec<ChannelRow>,
    pub total: Figures,
}

/// How many campaigns the chart of revenue against budget draws.
pub const TOP_CAMPAIGNS: usize = 8;

impl CampaignStats {
    /// The page `view` asks for: the campaigns sorted by its column (names alphabetically, case
    /// aside; a figure that has no value, such as the conversion of a campaign without leads,
    /// below every value), ties in the order of names.
    pub fn page(self, view: &CampaignView) -> CampaignStatsPage {
        let CampaignStats { campaigns, channels, total } = self;
        let mut by_revenue: Vec<&CampaignRow> = campaigns.iter().collect();
        by_revenue.sort_by_key(|row| std::cmp::Reverse(row.figures.revenue));
        let top = by_revenue.into_iter().take(TOP_CAMPAIGNS).cloned().collect();
        let key = |row: &CampaignRow| -> (Option<Decimal>, Option<String>) {
            let f = &row.figures;
            let figure = match view.sort {
                CampaignSort::Name => return (None, Some(row.name.to_lowercase())),
                CampaignSort::Leads => Some(f.leads.into()),
                CampaignSort::Clients => Some(f.clients.into()),
                CampaignSort::Conversion => f.conversion,
                CampaignSort::Revenue => Some(f.revenue.amount()),
                CampaignSort::Budget => Some(f.budget.amount()),
                CampaignSort::Roas => f.roas,
                CampaignSort::CostPerLead => f.cost_per_lead.map(Money::amount),
                CampaignSort::CostPerClient => f.cost_per_client.map(Money::amount),
            };
            (figure, None)
        };
        let mut keyed: Vec<_> = campaigns.into_iter().map(|row| (key(&row), row)).collect();
        // stable: ties keep the order of names the rows come in, either way
        keyed.sort_by(|(a, _), (b, _)| match view.direction {
            crate::app::Direction::Asc => a.cmp(b),
            crate::app::Direction::Desc => b.cmp(a),
        });
        let campaigns: Vec<CampaignRow> = keyed.into_iter().map(|(_, row)| row).collect();
        let (offset, limit) = view.page.clamped();
        let count = campaigns.len() as i64;
        let items = campaigns.into_iter().skip(offset as usize).take(limit as usize).collect();
        CampaignStatsPage { campaigns: view.page.page(items, count), top, channels, total }
    }
}

/// A campaign's row of the statistics, as [`campaign_rows`] reads it (on SQLite from an array
/// of its fields in this order).
#[derive(Deserialize, sqlx::FromRow)]
struct RawRow {
    campaign_id: CampaignId,
    name: String,
    channel_id: ChannelId,
    channel: String,
    service_id: ServiceId,
    service: String,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    is_archived: bool,
    budget: i64,
    leads: i64,
    clients: i64,
    revenue: i64,
}

/// A campaign and day (or month) where the kept roll-up and the rows disagree (`crm stats
/// --verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollupDifference {
    pub campaign_id: i64,
    /// The day, or the first day of the month.
    pub day: NaiveDate,
    /// `day` (stat_days), `month` (stat_months) or `share of all campaigns' day`
    /// (stat_day_totals: then `campaign_id` is the share, campaign ids modulo 16).
    pub period: &'static str,
    /// What the roll-up holds: leads, clients, revenue in kopecks.
    pub kept_leads: i64,
    pub kept_clients: i64,
    pub kept_revenue: i64,
    /// What the rows say.
    pub leads: i64,
    pub clients: i64,
    pub revenue: i64,
}

/// A kept count of leads (per campaign, owner, status, archived; 0 for none) that differs from
/// the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountDifference {
    pub campaign_id: i64,
    pub owner_id: i64,
    pub status: String,
    pub is_archived: bool,
    pub kept: i64,
    pub counted: i64,
}

/// A kept count of a list's rows (migrations/*/0028_list_counts.sql: `contracts`, `clients`
/// or `sold_clients`, the clients with a contract; archived or not) that differs from the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ListCountDifference {
    pub list: String,
    pub is_archived: bool,
    pub kept: i64,
    pub counted: i64,
}

/// A day whose kept contract counts (migrations/*/0029_signing_days.sql: contracts of a client
/// signed that day, and contracts following one signed that day) differ from the contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SigningDayDifference {
    pub day: NaiveDate,
    pub kept_signed: i64,
    pub signed: i64,
    pub kept_continued: i64,
    pub continued: i64,
}

/// What `crm stats --verify` found: nothing, when the kept figures agree with the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub roll_ups: Vec<RollupDifference>,
    pub lead_counts: Vec<CountDifference>,
    pub list_counts: Vec<ListCountDifference>,
    pub signing_days: Vec<SigningDayDifference>,
    /// At most [`SIGNING_LISTED`].
    pub signing_order: Vec<SigningDifference>,
}

impl Verification {
    pub fn is_empty(&self) -> bool {
        self.roll_ups.is_empty()
            && self.lead_counts.is_empty()
            && self.list_counts.is_empty()
            && self.signing_days.is_empty()
            && self.signing_order.is_empty()
    }

    pub fn len(&self) -> usize {
        self.roll_ups.len()
            + self.lead_counts.len()
            + self.list_counts.len()
            + self.signing_days.len()
            + self.signing_order.len()
    }
}

/// A contract whose kept signing day of its client's previous contract
/// (`contracts.prev_signed_on`) is not what the contracts say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SigningDifference {
    pub contract_id: i64,
    pub kept: Option<NaiveDate>,
    pub signed_before: Option<NaiveDate>,
}

/// The most contracts `crm stats --verify` lists with a wrong previous signing day.
pub const SIGNING_LISTED: i64 = 1000;

/// One row of a roll-up, kept or recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
struct Tally {
    campaign_id: i64,
    day: NaiveDate,
    leads: i64,
    clients: i64,
    revenue: i64,
}

/// Sales volume of one client: how many contracts and for how much.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClientSales {
    pub client_id: ClientId,
    pub full_name: String,
    pub campaign: Option<String>,
    pub contracts: i64,
    #[sqlx(try_from = "i64")]
    pub revenue: Money,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientSalesFilter {
    pub search: String,
    /// Contracts signed from this day (inclusive).
    pub from: Option<NaiveDate>,
    /// Contracts signed up to this day (inclusive).
    pub to: Option<NaiveDate>,
    pub page: PageRequest,
}

impl Figures {
    /// Figures from the raw sums, with every ratio guarded against a zero denominator.
    pub fn new(leads: i64, clients: i64, revenue_kopecks: i64, budget_kopecks: i64) -> Self {
        let (revenue, budget) = (Money::from_kopecks(revenue_kopecks), Money::from_kopecks(budget_kopecks));
        Self {
            leads,
            clients,
            conversion: ratio(Decimal::from(clients), Decimal::from(leads)),
            revenue,
            budget,
            roas: ratio(revenue.amount(), budget.amount()),
            cost_per_lead: per(budget, leads),
            cost_per_client: per(budget, clients),
        }
    }
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    numerator
        .checked_div(denominator)
        .map(|r| r.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero).normalize())
}

fn per(amount: Money, count: i64) -> Option<Money> {
    let each = amount.amount().checked_div(Decimal::from(count))?;
    let kopecks = (each * Decimal::ONE_HUNDRED).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(kopecks).ok().map(Money::from_kopecks)
}

/// The period and the campaign filters, on leads aliased `l`.
fn push_lead_conditions(q: &mut Query, filter: &StatsFilter) {
    if let Some(from) = filter.from {
        q.push(" and l.created_at >= ").push_bind(date::local_day_start(from));
    }
    if let Some(end) = filter.to.and_then(date::local_day_end) {
        q.push(" and l.created_at < ").push_bind(end);
    }
    if filter.channel_id.is_some() || filter.service_id.is_some() {
        // only the leads of the campaigns asked for are aggregated
        q.push(" and l.campaign_id in (select f.id from campaigns f where 1 = 1");
        push_campaign_conditions(q, filter, "f");
        q.push(")");
    }
}

/// The channel and service filters on campaigns aliased `alias` (a fixed identifier).
fn push_campaign_conditions(q: &mut Query, filter: &StatsFilter, alias: &'static str) {
    if let Some(channel) = filter.channel_id {
        q.push(" and ").push(alias).push(".channel_id = ").push_bind(channel);
    }
    if let Some(service) = filter.service_id {
        q.push(" and ").push(alias).push(".service_id = ").push_bind(service);
    }
}

/// The roll-up rows (campaign_id, leads, clients, revenue) that make up a period: its whole
/// months from `stat_months`, the days of the broken months at its edges from `stat_days`.
/// (A year is twelve rows a campaign and at most sixty days.)
fn push_rollup_rows(q: &mut Query, from: Option<NaiveDate>, to: Option<NaiveDate>) {
    push_rollup_rows_by(q, from, to, false);
}

/// [`push_rollup_rows`], with each row's `day` too (a month's first day for a whole month) when
/// `with_day`.
pub(crate) fn push_rollup_rows_by(q: &mut Query, from: Option<NaiveDate>, to: Option<NaiveDate>, with_day: bool) {
    let (day_rows, month_rows) = if with_day {
        (
            "select campaign_id, day, leads, clients, revenue from stat_days",
            "select campaign_id, month as day, leads, clients, revenue from stat_months",
        )
    } else {
        (
            "select campaign_id, leads, clients, revenue from stat_days",
            "select campaign_id, leads, clients, revenue from stat_months",
        )
    };
    let month_after = |d: NaiveDate| d.with_day(1).and_then(|m| m.checked_add_months(chrono::Months::new(1)));
    // whole months from `first` (inclusive) to `end` (exclusive); None: no bound
    let first = from.map(|d| if d.day() == 1 { Some(d) } else { month_after(d) });
    let end = to.map(|d| match d.succ_opt() {
        Some(next) if next.day() == 1 => Some(next),
        Some(_) => d.with_day(1),
        None => None,
    });
    let whole_months = match (first, end) {
        (Some(None), _) => false,
        (Some(Some(first)), Some(Some(end))) => first < end,
        _ => true,
    };
    if !whole_months {
        q.push(day_rows).push(" where 1 = 1");
        if let Some(from) = from {
            q.push(" and day >= ").push_bind(from);
        }
        if let Some(to) = to {
            q.push(" and day <= ").push_bind(to);
        }
        return;
    }
    q.push(month_rows).push(" where 1 = 1");
    if let Some(Some(first)) = first {
        q.push(" and month >= ").push_bind(first);
    }
    if let Some(Some(end)) = end {
        q.push(" and month < ").push_bind(end);
    }
    // one select per edge: an OR of the two ranges would read every day (no index serves it)
    if let (Some(from), Some(Some(first))) = (from, first) {
        q.push(" union all ")
            .push(day_rows)
            .push(" where day >= ")
            .push_bind(from)
            .push(" and day < ")
            .push_bind(first);
    }
    if let (Some(to), Some(Some(end))) = (to, end) {
        q.push(" union all ").push(day_rows).push(" where day >= ").push_bind(end).push(" and day <= ").push_bind(to);
    }
}

/// With a period, the campaigns that ran during it or brought leads in it (`x.leads`), in the
/// campaigns' order.
fn push_period_conditions(q: &mut Query, filter: &StatsFilter) {
    if filter.from.is_some() || filter.to.is_some() {
        q.push(" and (coalesce(x.leads, 0) > 0 or (1 = 1");
        if let Some(to) = filter.to {
            q.push(" and c.starts_on <= ").push_bind(to);
        }
        if let Some(from) = filter.from {
            q.push(" and (c.ends_on is null or c.ends_on >= ").push_bind(from).push(")");
        }
        q.push("))");
    }
    q.push(" order by c.name_key, c.id");
}

fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<()> {
    date::check_period(("from", from), ("to", to))
}

impl Crm {
    /// Statistics per campaign, per channel and in total for a period and filters, from the
    /// roll-ups (`stat_days`, one row per campaign and day, kept by the database in the
    /// transaction of every write: migrations/*/0014_stat_days.sql).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn campaign_stats(&self, actor: &Actor, filter: &StatsFilter) -> Result<CampaignStats> {
        actor.require(Permission::StatsView)?;
        check_period(filter.from, filter.to)?;
        let mut q = Query::new(format!(
            "{CAMPAIGN_COLUMNS} coalesce(x.leads, 0) as leads, coalesce(x.clients, 0) as clients,
                    coalesce(x.revenue, 0) as revenue
             {CAMPAIGN_JOINS}
             left join (
                 select d.campaign_id, cast(sum(d.leads) as bigint) as leads,
                        cast(sum(d.clients) as bigint) as clients, cast(sum(d.revenue) as bigint) as revenue
                 from ("
        ));
        push_rollup_rows(&mut q, filter.from, filter.to);
        q.push(") d group by d.campaign_id) x on x.campaign_id = c.id where 1 = 1");
        campaign_rows(actor, q, filter).await
    }

    /// [`Crm::campaign_stats`] as the statistics page shows them: the campaigns sorted and cut
    /// to the page `view` asks for (see [`CampaignStats::page`]).
    pub async fn campaign_stats_page(
        &self,
        actor: &Actor,
        filter: &StatsFilter,
        view: &CampaignView,
    ) -> Result<CampaignStatsPage> {
        Ok(self.campaign_stats(actor, filter).await?.page(view))
    }

    /// The same figures as [`Crm::campaign_stats`], aggregated from the raw rows: the
    /// definitions' reference, which the roll-ups are tested against (and `--verify`'s witness).
    /// Hundreds of milliseconds at a million leads: never on a screen.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn campaign_stats_reference(&self, actor: &Actor, filter: &StatsFilter) -> Result<CampaignStats> {
        actor.require(Permission::StatsView)?;
        check_period(filter.from, filter.to)?;
        // Leads are counted from the partial index on live leads, and clients with their
        // revenue from the (much smaller) clients table, whose rows keep their contracts' total
        // (store::refresh_client_totals): one row per client, so nothing is counted twice, and
        // no client is probed once per lead.
        let mut q = Query::new(format!(
            "{CAMPAIGN_COLUMNS} coalesce(x.leads, 0) as leads, coalesce(y.clients, 0) as clients,
                    coalesce(y.revenue, 0) as revenue
             {CAMPAIGN_JOINS}
             left join (
                 select l.campaign_id, count(*) as leads from stat_leads l
                 where l.is_archived = false and l.campaign_id is not null"
        ));
        push_lead_conditions(&mut q, filter);
        q.push(
            " group by l.campaign_id) x on x.campaign_id = c.id
             left join (
                 select l.campaign_id, count(*) as clients, cast(coalesce(sum(cl.revenue), 0) as bigint) as revenue
                 from stat_clients cl
                 join stat_leads l on l.id = cl.lead_id
                 where l.is_archived = false and l.campaign_id is not null",
        );
        push_lead_conditions(&mut q, filter);
        q.push(" group by l.campaign_id) y on y.campaign_id = c.id where 1 = 1");
        campaign_rows(actor, q, filter).await
    }

    /// Every campaign and day (and month) where the kept roll-ups differ from the rows,
    /// recomputed (a whole read of the leads: seconds at a million). Empty when they agree.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn verify_stats(&self, actor: &Actor) -> Result<Verification> {
        actor.require(Permission::StatsView)?;
        let counts_too = actor.can(Permission::LeadsView);
        let contracts_too = actor.can(Permission::ContractsView);
        let owners_too = actor.can(Permission::ClientsView);
        type Kept = (Vec<Tally>, Vec<Tally>, Vec<Tally>);
        type Others =
            (Vec<CountDifference>, Vec<ListCountDifference>, Vec<SigningDayDifference>, Vec<SigningDifference>);
        let ((kept_days, kept_months, kept_totals), rows, (lead_counts, list_counts, signing_days, signing_order)): (
            Kept,
            Vec<Tally>,
            Others,
        ) = reading!(actor.db, |tx| {
            let live = " where leads <> 0 or clients <> 0 or revenue <> 0 order by 1, 2";
            let days = tx
                .fetch_all(Query::new(format!("select campaign_id, day, leads, clients, revenue from stat_days{live}")))
                .await?;
            let months = tx
                .fetch_all(Query::new(format!(
                    "select campaign_id, month as day, leads, clients, revenue from stat_months{live}"
                )))
                .await?;
            let totals = tx
                .fetch_all(Query::new(format!(
                    "select shard as campaign_id, day, leads, clients, revenue from stat_day_totals{live}"
                )))
                .await?;
            let rows = tx.fetch_all(Query::new(format!("{} order by 1, 2", recomputed(tx.backend())))).await?;
            // the counts are compared where the leads may be read (every role that counts them)
            let counts = if counts_too {
                let kept: Vec<Count> = tx
                    .fetch_all(Query::new(
                        "select campaign_id, owner_id, status, is_archived, n from lead_counts where n <> 0
                             order by 1, 2, 3, 4",
                    ))
                    .await?;
                let counted: Vec<Count> = tx
                    .fetch_all(Query::new(
                        "select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status,
                                    is_archived, count(*) as n
                             from leads group by 1, 2, 3, 4 order by 1, 2, 3, 4",
                    ))
                    .await?;
                compare_counts(kept, counted)
            } else {
                Vec::new()
            };
            // the clients are the statistics' own; the contracts are compared where they may
            // be read
            let contracts = if contracts_too {
                " union all select 'contracts', is_archived, count(*) from contracts group by is_archived"
            } else {
                ""
            };
            // and the clients of each owner where the clients may be read (the statistics'
            // view of them has no owner)
            let owners = if owners_too {
                " union all select 'clients_of:' || coalesce(owner_id, 0), is_archived, count(*) from clients
                  group by 1, 2"
            } else {
                ""
            };
            // and the leads per first characters of their names, and per status or owner and
            // (UTC's) day, where the leads may be read
            let names = if counts_too {
                format!(" union all {}", crate::leads::parts_counted(tx.backend()))
            } else {
                String::new()
            };
            let (names_list, status_days, owner_days) =
                (crate::leads::NAMES, crate::leads::STATUS_DAYS, crate::leads::OWNER_DAYS);
            let lists = tx
                    .fetch_all(Query::new(format!(
                        "select list, is_archived, cast(sum(kept) as bigint) as kept, cast(sum(counted) as bigint) as counted from (
                             select list, is_archived, n as kept, 0 as counted from list_counts
                             where (list <> 'contracts' or {contracts_too})
                                 and (list not like 'clients_of:%' or {owners_too})
                                 and (list not like '{names_list}%' and list not like '{status_days}%'
                                     and list not like '{owner_days}%' or {counts_too})
                             union all
                             select list, is_archived, 0, n from (
                                 select 'clients' as list, is_archived, count(*) as n from stat_clients
                                 group by is_archived
                                 union all
                                 select 'sold_clients', is_archived, count(*) from stat_clients
                                 where contracts > 0 group by is_archived{contracts}{owners}{names}) c
                         ) x
                         group by list, is_archived having sum(kept) <> sum(counted) order by list, is_archived"
                    )))
                    .await?;
            // the contracts signed per day, and following one signed that day
            let signing_days = tx
                .fetch_all(Query::new(
                    "select day, cast(sum(kept_signed) as bigint) as kept_signed, cast(sum(signed) as bigint) as signed,
                            cast(sum(kept_continued) as bigint) as kept_continued,
                            cast(sum(continued) as bigint) as continued
                     from (
                         select day, signed as kept_signed, 0 as signed, continued as kept_continued, 0 as continued
                         from signing_days
                         union all
                         select signed_on, 0, count(*), 0, 0 from stat_contracts group by signed_on
                         union all
                         select prev_signed_on, 0, 0, 0, count(*) from stat_contracts
                         where prev_signed_on is not null group by prev_signed_on
                     ) x
                     group by day
                     having sum(kept_signed) <> sum(signed) or sum(kept_continued) <> sum(continued)
                     order by day",
                ))
                .await?;
            // the previous signing day each contract keeps (store::signing_order)
            let order = tx
                .fetch_all(Query::new(format!(
                    "select id as contract_id, prev_signed_on as kept, prev as signed_before from (
                             select id, prev_signed_on,
                                    lag(signed_on) over (partition by client_id order by signed_on, id) as prev
                             from stat_contracts) k
                         where prev_signed_on is distinct from prev order by id limit {SIGNING_LISTED}"
                )))
                .await?;
            Ok(((days, months, totals), rows, (counts, lists, signing_days, order)))
        })?;
        let row_months = by_month(&rows);
        let mut roll_ups = compare(&kept_days, &rows, "day");
        roll_ups.extend(compare(&kept_months, &row_months, "month"));
        roll_ups.extend(compare(&kept_totals, &by_share(&rows), SHARE_PERIOD));
        Ok(Verification { roll_ups, lead_counts, list_counts, signing_days, signing_order })
    }

    /// Makes the roll-ups again from the rows (administrators): the repair for what
    /// [`Crm::verify_stats`] reports. Returns the number of campaign-days kept.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn rebuild_stats(&self, actor: &Actor) -> Result<i64> {
        actor.require(Permission::UsersManage)?;
        transact!(actor.db, |tx| {
            let made: i64 = match tx.backend() {
                Backend::Sqlite => {
                    tx.execute(Query::new("delete from stat_days")).await?;
                    tx.execute(Query::new("delete from stat_months")).await?;
                    let insert = format!(
                        "insert into stat_days (campaign_id, day, leads, clients, revenue) select * from ({}) r where true",
                        recomputed(Backend::Sqlite)
                    );
                    let made = i64::try_from(tx.execute(Query::new(insert)).await?).unwrap_or(i64::MAX);
                    tx.execute(Query::new(
                        "insert into stat_months (campaign_id, month, leads, clients, revenue)
                         select campaign_id, date(day, 'start of month'), sum(leads), sum(clients), sum(revenue)
                         from stat_days group by 1, 2",
                    ))
                    .await?;
                    // (its triggers followed the days; whatever the totals held before, this
                    // is the repair)
                    tx.execute(Query::new("delete from stat_day_totals")).await?;
                    tx.execute(Query::new(format!(
                        "insert into stat_day_totals (day, shard, leads, clients, revenue)
                         select day, campaign_id % {SHARES}, sum(leads), sum(clients), sum(revenue)
                         from stat_days group by 1, 2"
                    )))
                    .await?;
                    tx.execute(Query::new("delete from lead_counts")).await?;
                    tx.execute(Query::new(
                        "insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
                         select coalesce(campaign_id, 0), coalesce(owner_id, 0), status, is_archived, count(*)
                         from leads group by 1, 2, 3, 4",
                    ))
                    .await?;
                    tx.execute(Query::new("delete from list_counts")).await?;
                    let parts = crate::leads::parts_counted(Backend::Sqlite);
                    tx.execute(Query::new(format!("{LIST_COUNTED} union all {parts}"))).await?;
                    tx.execute(Query::new("delete from signing_days")).await?;
                    tx.execute(Query::new(SIGNING_COUNTED)).await?;
                    made
                }
                Backend::Postgres => tx.scalar(Query::new("select crm_stat_rebuild()")).await?,
            };
            // (a previous signing day it mends moves the signing days with it, by their triggers)
            crate::store::refresh_signing_order(tx).await?;
            // the History page's "database" entries, as a restore is
            tx.execute(
                Query::new(
                    "insert into audit_log (at, user_id, action, entity, entity_id, details)
                     values ($1, $2, 'rebuild_stats', 'database', null, $3)",
                )
                .bind(crate::app::now())
                .bind(actor.user_id)
                .bind(made.to_string()),
            )
            .await?;
            Ok(made)
        })
    }

    /// Sales volume per client, largest first: contracts signed in the period and their sum.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn client_sales(&self, actor: &Actor, filter: &ClientSalesFilter) -> Result<Page<ClientSales>> {
        actor.require(Permission::StatsView)?;
        check_period(filter.from, filter.to)?;
        text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
        let search = Search::parse(&filter.search, self.settings.phone_region);
        let period = filter.from.is_some() || filter.to.is_some();
        let sales = |candidates: Option<i64>| {
            let mut clause = sales_clause(filter, candidates);
            if let Some(search) = &search {
                search.push_condition(&mut clause, self.db.backend(), "stat_clients", "cl");
            }
            clause
        };
        let (offset, limit) = filter.page.clamped();
        let page = reading!(actor.db, |tx| {
            if !period || search.is_some() {
                // all time without a search: the clients with a contract, counted as they change
                // (migrations/*/0028_list_counts.sql)
                let count = match search {
                    None => Query::new(
                        "select cast(coalesce(sum(n), 0) as bigint) from list_counts
                         where list = 'sold_clients' and is_archived = false",
                    ),
                    Some(_) => sales(None).prefixed("select count(*)"),
                };
                let total: i64 = tx.scalar(count).await?;
                return Ok(filter.page.page(tx.fetch_all(sales_page(sales(None), filter)).await?, total));
            }
            // A period without a search: the clients counted from the signing order each
            // contract keeps (store::signing_order), and the first pages from the clients of the
            // largest totals of all time: a client's sales in a period are at most their total,
            // so once a page's last row sold more in the period than the next client's total,
            // no client further down the totals can be on it.
            let (signed, total) = period_counts(tx, filter).await?;
            let mut candidates = (4 * (offset + limit)).max(256);
            while signed > DIRECT_SALES && offset + limit <= WALKED_SALES_PAGES && candidates <= WALKED_SALES {
                let bound: Option<(i64,)> = tx
                    .fetch_optional(
                        Query::new(
                            "select revenue from stat_clients where is_archived = false and contracts > 0
                             order by revenue desc, id desc limit 1 offset $1",
                        )
                        .bind(candidates - 1),
                    )
                    .await?;
                let items: Vec<ClientSales> = tx.fetch_all(sales_page(sales(Some(candidates)), filter)).await?;
                let whole = bound.is_none() || offset + items.len() as i64 >= total;
                let beyond = items.len() as i64 == limit
                    && items.last().zip(bound).is_some_and(|(last, (bound,))| last.revenue.kopecks() > bound);
                if whole || beyond {
                    return Ok(filter.page.page(items, total));
                }
                candidates *= 8;
            }
            Ok(filter.page.page(tx.fetch_all(sales_page(sales(None), filter)).await?, total))
        })?;
        Ok(page)
    }
}

/// A period with at most this many contracts signed in it is summed whole (a few milliseconds);
/// more, and the first pages come from the clients of the largest totals.
const DIRECT_SALES: i64 = 1_000;
/// The most clients of the largest totals looked at before a period is summed whole.
const WALKED_SALES: i64 = 16_384;
/// How deep (offset and limit) a page of sales may be to come from the largest totals.
const WALKED_SALES_PAGES: i64 = 1_000;

/// What sales per client read (`s`: the client's contracts in the period or all time, `cl`: the
/// live client), from `from` on; `candidates`: only the clients of that many largest totals.
fn sales_clause(filter: &ClientSalesFilter, candidates: Option<i64>) -> Query {
    // All time: the totals each client keeps (store::refresh_client_totals), in the order of an
    // index. A period: the contracts signed in it, summed per client before the join.
    if filter.from.is_none() && filter.to.is_none() {
        return Query::new(" from stat_clients cl where cl.is_archived = false and cl.contracts > 0");
    }
    let mut clause = Query::new(
        " from (select client_id, count(*) as contracts, cast(sum(amount) as bigint) as revenue
                from stat_contracts where client_id is not null",
    );
    push_between(&mut clause, "signed_on", filter);
    if let Some(candidates) = candidates {
        clause
            .push(
                " and client_id in (select id from stat_clients where is_archived = false and contracts > 0
                                    order by revenue desc, id desc limit ",
            )
            .push_bind(candidates)
            .push(")");
    }
    // (`cross join`: SQLite keeps the sums outside, made once; with the clients outside it
    // could make them again for each client, 17 s at 2,000 clients)
    clause
        .push(" group by client_id) s cross join stat_clients cl where cl.id = s.client_id and cl.is_archived = false");
    clause
}

/// ` and {column} >= from and {column} <= to`, of the period's bounds that are set.
fn push_between(q: &mut Query, column: &str, filter: &ClientSalesFilter) {
    if let Some(from) = filter.from {
        q.push(&format!(" and {column} >= ")).push_bind(from);
    }
    if let Some(to) = filter.to {
        q.push(&format!(" and {column} <= ")).push_bind(to);
    }
}

/// The page of [`sales_clause`] `clause`, the campaign looked up for its rows only.
fn sales_page(clause: Query, filter: &ClientSalesFilter) -> Query {
    let period = filter.from.is_some() || filter.to.is_some();
    let (select, order) = if period {
        (
            "select cl.id as client_id, cl.full_name, cl.lead_id, s.contracts, s.revenue",
            " order by s.revenue desc, cl.id desc",
        )
    } else {
        (
            "select cl.id as client_id, cl.full_name, cl.lead_id, cl.contracts, cl.revenue",
            " order by cl.revenue desc, cl.id desc",
        )
    };
    let mut query = clause.prefixed(&format!(
        "select x.client_id, x.full_name, c.name as campaign, x.contracts, x.revenue from ({select}"
    ));
    query.push(order);
    filter.page.push_to(&mut query);
    query.push(
        ") x join stat_leads l on l.id = x.lead_id left join campaigns c on c.id = l.campaign_id
         order by x.revenue desc, x.client_id desc",
    );
    query
}

/// How many contracts of a client were signed in the period, and how many live clients signed
/// one. The clients who signed are the period's contracts whose previous one (by their client)
/// is older than the period: all the period's contracts less those following one signed in it,
/// which are the contracts following one of the period's days (`continued`) less those of them
/// signed after the period. The days' sums come from the signing days kept per day
/// (migrations/*/0029_signing_days.sql); the contracts signed after the period, where there
/// are any, are counted from whichever index range is the shorter: the contracts signed after
/// the period, or those following one of its days. The archived clients are then taken away.
async fn period_counts(tx: &mut Tx, filter: &ClientSalesFilter) -> Result<(i64, i64)> {
    let mut q = Query::new("select cast(coalesce(sum(case when true");
    push_between(&mut q, "day", filter);
    q.push(" then signed else 0 end), 0) as bigint), cast(coalesce(sum(case when true");
    push_between(&mut q, "day", filter);
    q.push(" then continued else 0 end), 0) as bigint), cast(coalesce(sum(case when ");
    match filter.to {
        Some(to) => q.push("day > ").push_bind(to),
        None => q.push("false"),
    };
    q.push(
        " then signed else 0 end), 0) as bigint), (select count(*) from stat_clients cl where cl.is_archived = true
             and cl.contracts > 0 and exists (select 1 from stat_contracts k where k.client_id = cl.id",
    );
    push_between(&mut q, "signed_on", filter);
    q.push(")) from signing_days where true");
    if let Some(from) = filter.from {
        q.push(" and day >= ").push_bind(from);
    }
    let (signed, continued, signed_after, archived): (i64, i64, i64, i64) = tx.fetch_one(q).await?;
    // the contracts following one signed in the period and signed in it too (each count
    // written so that only its own range can lead: `coalesce(x, x)` is no index's column)
    let within = match filter.to {
        Some(to) if signed_after > 0 => {
            let after = signed_after <= continued;
            let previous = if after { "coalesce(prev_signed_on, prev_signed_on)" } else { "prev_signed_on" };
            let mut q = Query::new(format!("select count(*) from stat_contracts where {previous} <= "));
            q.push_bind(to);
            if let Some(from) = filter.from {
                q.push(&format!(" and {previous} >= ")).push_bind(from);
            }
            if after {
                q.push(" and signed_on > ").push_bind(to);
                continued - tx.scalar::<i64>(q).await?
            } else {
                q.push(" and coalesce(signed_on, signed_on) <= ").push_bind(to);
                tx.scalar(q).await?
            }
        }
        _ => continued,
    };
    Ok((signed, signed - within - archived))
}

/// The roll-up recomputed from the rows, per campaign and day: the day a lead was created as
/// the triggers of migrations/*/0014_stat_days.sql book it (this computer's zone on SQLite, the
/// office's on PostgreSQL).
fn recomputed(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "select l.campaign_id, date(l.created_at, 'localtime') as day, count(*) as leads, count(c.id) as clients,
                    coalesce(sum(c.revenue), 0) as revenue
             from stat_leads l left join stat_clients c on c.lead_id = l.id
             where l.is_archived = false and l.campaign_id is not null
             group by 1, 2"
        }
        Backend::Postgres => {
            "select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day, count(*) as leads,
                    count(c.id) as clients, cast(coalesce(sum(c.revenue), 0) as bigint) as revenue
             from stat_leads l cross join office o left join stat_clients c on c.lead_id = l.id
             where l.is_archived = false and l.campaign_id is not null
             group by 1, 2"
        }
    }
}

/// For a bulk load (the demo generator, a restore, a move): on an office server, when the
/// session is the database owner's, the roll-up triggers of this transaction stand aside
/// (`crm.stat_bulk`) and [`finish_bulk_load`] makes the roll-ups once at the end. Returns
/// whether they stand aside; anyone else's load keeps them by the triggers, only slower.
pub(crate) async fn start_bulk_load(tx: &mut Tx) -> Result<bool> {
    match tx.backend() {
        Backend::Sqlite => Ok(false),
        Backend::Postgres => {
            tx.scalar(Query::new(
                "select pg_has_role(session_user, d.datdba, 'member') and set_config('crm.stat_bulk', 'on', true) = 'on'
                 from pg_database d where d.datname = current_database()",
            ))
            .await
        }
    }
}

/// Ends what [`start_bulk_load`] started: the roll-ups made from the rows, the triggers back,
/// and each contract's previous signing day (`store::refresh_signing_order`).
/// On PostgreSQL the load's commit then waits until it is on disk, whatever the server's
/// `synchronous_commit`: until it is, no vacuum may mark the loaded rows visible to everyone
/// (with it off, the vacuum right after the demo left all of leads' pages unmarked, and "go to
/// page" fetched half a million heap rows: 400 ms instead of 36).
pub(crate) async fn finish_bulk_load(tx: &mut Tx, deferred: bool) -> Result<()> {
    // (loads write contracts by the thousand, not through refresh_client_totals)
    crate::store::refresh_signing_order(tx).await?;
    if deferred {
        tx.scalar::<i64>(Query::new("select crm_stat_rebuild()")).await?;
        tx.execute(Query::new("select set_config('crm.stat_bulk', 'off', true)")).await?;
    }
    if tx.backend() == Backend::Postgres {
        tx.execute(Query::new("select set_config('synchronous_commit', 'on', true)")).await?;
    }
    Ok(())
}

/// What a campaign's row shows besides its figures, and where it comes from (`c`, `ch`, `s`).
const CAMPAIGN_COLUMNS: &str =
    "select c.id as campaign_id, c.name, c.name_key, ch.id as channel_id, ch.name as channel,
    s.id as service_id, s.name as service, c.starts_on, c.ends_on, c.is_archived, c.budget,";
const CAMPAIGN_JOINS: &str =
    "from campaigns c join channels ch on ch.id = c.channel_id join services s on s.id = c.service_id";

/// The campaign rows of `q` (their figures joined, ending in `where 1 = 1`) narrowed by the
/// filter, with the channels and the total.
///
/// SQLite's rows come as one JSON array, aggregated by the database: a query's rows each cross
/// from SQLite's thread to the app's one by one (a wake-up each), which for 2,000 campaigns cost
/// 20-25 ms of the 26-32 the statistics took at a million leads, where sqlite3 runs the query
/// in 5. PostgreSQL's come as rows: building that JSON was half its statement (2,000 campaigns,
/// a slow day: 14.5 ms, 6.6 of them `json_agg`; psql, the rows 9.5-10.3 ms, the JSON 14.8-15.6).
async fn campaign_rows(actor: &Actor, mut q: Query, filter: &StatsFilter) -> Result<CampaignStats> {
    push_campaign_conditions(&mut q, filter, "c");
    push_period_conditions(&mut q, filter);
    reading!(actor.db, |tx| {
        if tx.backend() == Backend::Postgres {
            let mut rows = q.clone().prefixed(
                "select r.campaign_id, r.name, r.channel_id, r.channel, r.service_id, r.service, r.starts_on,
                        r.ends_on, r.is_archived, r.budget, r.leads, r.clients, r.revenue
                 from (",
            );
            rows.push(") r order by r.name_key, r.campaign_id");
            return Ok(assemble(tx.fetch_all(rows).await?));
        }
        // (SQLite keeps a boolean as 0 or 1: made JSON's true or false)
        let mut whole = q.clone().prefixed(
            "select cast(coalesce(json_group_array(json_array(r.campaign_id, r.name, r.channel_id, r.channel,
                     r.service_id, r.service, r.starts_on, r.ends_on,
                     json(case when r.is_archived then 'true' else 'false' end), r.budget, r.leads, r.clients,
                     r.revenue) order by r.name_key, r.campaign_id), '[]') as text)
             from (",
        );
        whole.push(") r");
        let json: String = tx.scalar(whole).await?;
        Ok(assemble(parse_rows(&json)?))
    })
}

/// The campaign rows of [`campaign_rows`]'s JSON array, each an array of [`RawRow`]'s fields.
fn parse_rows(json: &str) -> Result<Vec<RawRow>> {
    serde_json::from_str(json).map_err(|e| Error::Internal(format!("campaign statistics rows: {e}")))
}

/// The list counts of migrations/*/0028_list_counts.sql (and 0041) made from the rows (a rebuild;
/// the leads' parts of 0043 are [`crate::leads::parts_counted`]).
const LIST_COUNTED: &str = "insert into list_counts (list, is_archived, n)
     select 'contracts', is_archived, count(*) from contracts group by is_archived
     union all
     select 'clients', is_archived, count(*) from clients group by is_archived
     union all
     select 'sold_clients', is_archived, count(*) from clients where contracts > 0 group by is_archived
     union all
     select 'clients_of:' || coalesce(owner_id, 0), is_archived, count(*) from clients group by 1, 2";

/// The signing days of migrations/*/0029_signing_days.sql made from the contracts (a rebuild).
const SIGNING_COUNTED: &str = "insert into signing_days (day, signed, continued)
     select day, sum(signed), sum(continued) from (
         select signed_on as day, 1 as signed, 0 as continued from contracts where client_id is not null
         union all
         select prev_signed_on, 0, 1 from contracts where client_id is not null and prev_signed_on is not null
     ) x
     group by day";

/// A kept or counted number of leads.
#[derive(sqlx::FromRow)]
struct Count {
    campaign_id: i64,
    owner_id: i64,
    status: String,
    is_archived: bool,
    n: i64,
}

/// The differences of the kept counts and the counted ones, each ordered by their key.
fn compare_counts(kept: Vec<Count>, counted: Vec<Count>) -> Vec<CountDifference> {
    let mut all: std::collections::BTreeMap<(i64, i64, String, bool), (i64, i64)> = Default::default();
    for c in kept {
        all.entry((c.campaign_id, c.owner_id, c.status, c.is_archived)).or_default().0 = c.n;
    }
    for c in counted {
        all.entry((c.campaign_id, c.owner_id, c.status, c.is_archived)).or_default().1 = c.n;
    }
    all.into_iter()
        .filter(|(_, (kept, counted))| kept != counted)
        .map(|((campaign_id, owner_id, status, is_archived), (kept, counted))| CountDifference {
            campaign_id,
            owner_id,
            status,
            is_archived,
            kept,
            counted,
        })
        .collect()
}

/// Days summed into their months (`rows` ordered by campaign and day, as is the result).
fn by_month(rows: &[Tally]) -> Vec<Tally> {
    let mut months: Vec<Tally> = Vec::new();
    for row in rows {
        let month = row.day.with_day(1).unwrap_or(row.day);
        match months.last_mut() {
            Some(last) if last.campaign_id == row.campaign_id && last.day == month => {
                last.leads += row.leads;
                last.clients += row.clients;
                last.revenue += row.revenue;
            }
            _ => months.push(Tally { day: month, ..*row }),
        }
    }
    months
}

/// The `period` of a difference in the all-campaign totals (its `campaign_id` is the share).
pub const SHARE_PERIOD: &str = "share of all campaigns' day";

/// How many shares `stat_day_totals` keeps each day in (a campaign's share: its id modulo this);
/// migrations/*/0022_stat_day_totals.sql write the same number.
pub(crate) const SHARES: i64 = 16;

/// The days of all campaigns in their [`SHARES`] shares, as [`Tally`]s whose `campaign_id` is
/// the share, ordered by share and day.
fn by_share(rows: &[Tally]) -> Vec<Tally> {
    let mut shares: std::collections::BTreeMap<(i64, NaiveDate), Tally> = std::collections::BTreeMap::new();
    for row in rows {
        let share = row.campaign_id.rem_euclid(SHARES);
        let sum = shares.entry((share, row.day)).or_insert(Tally {
            campaign_id: share,
            leads: 0,
            clients: 0,
            revenue: 0,
            ..*row
        });
        sum.leads += row.leads;
        sum.clients += row.clients;
        sum.revenue += row.revenue;
    }
    shares.into_values().filter(|t| t.leads != 0 || t.clients != 0 || t.revenue != 0).collect()
}

/// The differences of two roll-ups, each ordered by campaign and day.
fn compare(kept: &[Tally], rows: &[Tally], period: &'static str) -> Vec<RollupDifference> {
    let zero = |t: Tally| Tally { leads: 0, clients: 0, revenue: 0, ..t };
    let key = |t: &Tally| (t.campaign_id, t.day);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < kept.len() || j < rows.len() {
        let (kept, row) = match (kept.get(i), rows.get(j)) {
            (Some(a), Some(b)) if key(a) == key(b) => {
                (i, j) = (i + 1, j + 1);
                (*a, *b)
            }
            (Some(a), Some(b)) if key(a) < key(b) => {
                i += 1;
                (*a, zero(*a))
            }
            (Some(a), None) => {
                i += 1;
                (*a, zero(*a))
            }
            (_, Some(b)) => {
                j += 1;
                (zero(*b), *b)
            }
            (None, None) => break,
        };
        if kept != row {
            out.push(RollupDifference {
                campaign_id: kept.campaign_id,
                day: kept.day,
                period,
                kept_leads: kept.leads,
                kept_clients: kept.clients,
                kept_revenue: kept.revenue,
                leads: row.leads,
                clients: row.clients,
                revenue: row.revenue,
            });
        }
    }
    out
}

/// Campaign rows with their ratios, the per-channel roll-up and the total, from the raw sums.
fn assemble(raw: Vec<RawRow>) -> CampaignStats {
    let mut channels: Vec<(ChannelId, String, i64, [i64; 4])> = Vec::new();
    let mut total = [0i64; 4];
    let campaigns = raw
        .into_iter()
        .map(|r| {
            let sums = [r.leads, r.clients, r.revenue, r.budget];
            let slot = match channels.iter().position(|c| c.0 == r.channel_id) {
                Some(i) => i,
                None => {
                    channels.push((r.channel_id, r.channel.clone(), 0, [0; 4]));
                    channels.len() - 1
                }
            };
            channels[slot].2 += 1;
            for i in 0..4 {
                // Saturating: a sum past i64 kopecks (92 quadrillion roubles) stays at the bound
                // instead of panicking or wrapping.
                channels[slot].3[i] = channels[slot].3[i].saturating_add(sums[i]);
                total[i] = total[i].saturating_add(sums[i]);
            }
            CampaignRow {
                campaign_id: r.campaign_id,
                name: r.name,
                channel_id: r.channel_id,
                channel: r.channel,
                service_id: r.service_id,
                service: r.service,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
                is_archived: r.is_archived,
                figures: Figures::new(r.leads, r.clients, r.revenue, r.budget),
            }
        })
        .collect();
    let mut channels: Vec<ChannelRow> = channels
        .into_iter()
        .map(|(channel_id, channel, campaigns, s)| ChannelRow {
            channel_id,
            channel,
            campaigns,
            figures: Figures::new(s[0], s[1], s[2], s[3]),
        })
        .collect();
    channels.sort_by(|a, b| a.channel.cmp(&b.channel));
    CampaignStats { campaigns, channels, total: Figures::new(total[0], total[1], total[2], total[3]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_example_gives_a_ratio_of_two() {
        let f = Figures::new(3, 2, 200_000, 100_000);
        assert_eq!(f.roas, Some(Decimal::from(2)));
        assert_eq!(f.conversion.unwrap().to_string(), "0.6667");
        assert_eq!(f.cost_per_lead.unwrap().to_string(), "333.33");
        assert_eq!(f.cost_per_client.unwrap().to_string(), "500.00");
    }

    #[test]
    fn zero_denominators_give_no_value() {
        let f = Figures::new(0, 0, 0, 0);
        assert_eq!((f.conversion, f.roas, f.cost_per_lead, f.cost_per_client), (None, None, None, None));
        let free = Figures::new(4, 1, 50_000, 0);
        assert_eq!(free.roas, None);
        assert_eq!(free.cost_per_lead, Some(Money::ZERO));
    }

    fn campaign(id: i64, name: &str, (leads, clients, revenue, budget): (i64, i64, i64, i64)) -> CampaignRow {
        CampaignRow {
            campaign_id: CampaignId::new(id),
            name: name.to_owned(),
            channel_id: ChannelId::new(1),
            channel: "Поиск".to_owned(),
            service_id: ServiceId::new(1),
            service: "Аудит".to_owned(),
            starts_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            ends_on: None,
            is_archived: false,
            figures: Figures::new(leads, clients, revenue, budget),
        }
    }

    fn names(page: &CampaignStatsPage) -> Vec<&str> {
        page.campaigns.items.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn the_page_of_campaigns_is_sorted_whole_then_cut_and_the_chart_gets_the_largest_revenues() {
        // in the order of names, as the statistics come
        let stats = CampaignStats {
            campaigns: vec![
                campaign(1, "весна", (10, 1, 500, 100)),
                campaign(2, "Зима", (0, 0, 0, 100)),
                campaign(3, "лето", (10, 5, 900, 0)),
                campaign(4, "Осень", (30, 1, 100, 100)),
            ],
            channels: Vec::new(),
            total: Figures::new(50, 7, 1500, 300),
        };
        let view =
            |sort, direction, offset, limit| CampaignView { sort, direction, page: PageRequest::new(offset, limit) };
        let page = |v| stats.clone().page(&v);
        use crate::app::Direction::{Asc, Desc};
        // names alphabetically whatever their case
        assert_eq!(names(&page(view(CampaignSort::Name, Asc, 0, 10))), ["весна", "Зима", "лето", "Осень"]);
        assert_eq!(names(&page(view(CampaignSort::Name, Desc, 0, 10))), ["Осень", "лето", "Зима", "весна"]);
        // ties keep the order of names either way; no conversion (no leads) is below every value
        assert_eq!(names(&page(view(CampaignSort::Leads, Desc, 0, 10))), ["Осень", "весна", "лето", "Зима"]);
        assert_eq!(names(&page(view(CampaignSort::Leads, Asc, 0, 10))), ["Зима", "весна", "лето", "Осень"]);
        assert_eq!(names(&page(view(CampaignSort::Conversion, Desc, 0, 10))), ["лето", "весна", "Осень", "Зима"]);
        assert_eq!(names(&page(view(CampaignSort::Roas, Asc, 0, 10))), ["лето", "Зима", "Осень", "весна"]);
        // a page of the sorted whole, with the whole's count
        let second = page(view(CampaignSort::Revenue, Desc, 1, 2));
        assert_eq!(names(&second), ["весна", "Осень"]);
        assert_eq!((second.campaigns.total, second.campaigns.offset), (4, 1));
        let top: Vec<&str> = second.top.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(top, ["лето", "весна", "Осень", "Зима"]);
        assert_eq!(second.total, stats.total);
    }
}
