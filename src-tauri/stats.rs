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
//!
//! Sums and counts come from aggregate SQL in the database (one round trip, no rows loaded into
//! Rust); the ratios are exact decimal arithmetic here, and a zero denominator gives `None`
//! ("no value", shown as a dash), never infinity, NaN or an error. Keep every statistics query in
//! this module so that pre-aggregated rollups can replace them without touching callers.

use chrono::{DateTime, Local, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::app::{Crm, Page, PageRequest};
use crate::db::Query;
use crate::domain::{text, Money};
use crate::error::{Error, Result};
use crate::permission::{Actor, Permission};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatsFilter {
    /// First day of the period (inclusive), in the office's local time.
    pub from: Option<NaiveDate>,
    /// Last day of the period (inclusive).
    pub to: Option<NaiveDate>,
    pub channel_id: Option<i64>,
    pub service_id: Option<i64>,
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
    pub campaign_id: i64,
    pub name: String,
    pub channel_id: i64,
    pub channel: String,
    pub service_id: i64,
    pub service: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChannelRow {
    pub channel_id: i64,
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

#[derive(sqlx::FromRow)]
struct RawRow {
    campaign_id: i64,
    name: String,
    channel_id: i64,
    channel: String,
    service_id: i64,
    service: String,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    budget: i64,
    leads: i64,
    clients: i64,
    revenue: i64,
}

/// Sales volume of one client: how many contracts and for how much.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClientSales {
    pub client_id: i64,
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

/// The UTC instant a local calendar day starts at.
fn day_start(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    midnight.and_local_timezone(Local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| midnight.and_utc())
}

/// The period and the campaign filters, on leads aliased `l`.
fn push_lead_conditions(q: &mut Query, filter: &StatsFilter) {
    if let Some(from) = filter.from {
        q.push(" and l.created_at >= ").push_bind(day_start(from));
    }
    if let Some(to) = filter.to {
        q.push(" and l.created_at < ").push_bind(day_start(to + chrono::Days::new(1)));
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

fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<()> {
    match (from, to) {
        (Some(from), Some(to)) if to < from => Err(Error::field("to", "end_before_start")),
        _ => Ok(()),
    }
}

impl Crm {
    /// Statistics per campaign, per channel and in total for a period and filters.
    pub async fn campaign_stats(&self, actor: &Actor, filter: &StatsFilter) -> Result<CampaignStats> {
        actor.require(Permission::StatsView)?;
        check_period(filter.from, filter.to)?;
        // Leads are counted from the partial index on live leads, and clients with their
        // revenue from the (much smaller) clients table: probing clients once per lead would
        // cost a million index look-ups at a million leads.
        let mut q = Query::new(
            "select c.id as campaign_id, c.name, ch.id as channel_id, ch.name as channel,
                    s.id as service_id, s.name as service, c.starts_on, c.ends_on, c.budget,
                    coalesce(x.leads, 0) as leads, coalesce(y.clients, 0) as clients,
                    coalesce(y.revenue, 0) as revenue
             from campaigns c
             join channels ch on ch.id = c.channel_id
             join services s on s.id = c.service_id
             left join (
                 select l.campaign_id, count(*) as leads from leads l
                 where l.is_archived = false and l.campaign_id is not null",
        );
        push_lead_conditions(&mut q, filter);
        q.push(
            " group by l.campaign_id) x on x.campaign_id = c.id
             left join (
                 select l.campaign_id, count(*) as clients, cast(coalesce(sum(r.revenue), 0) as bigint) as revenue
                 from clients cl
                 join leads l on l.id = cl.lead_id
                 -- revenue per client first, so a client's several contracts are not
                 -- multiplied by the join, nor the budget by the leads
                 left join (select client_id, sum(amount) as revenue from contracts
                            where client_id is not null group by client_id) r on r.client_id = cl.id
                 where l.is_archived = false and l.campaign_id is not null",
        );
        push_lead_conditions(&mut q, filter);
        q.push(" group by l.campaign_id) y on y.campaign_id = c.id where c.is_archived = false");
        push_campaign_conditions(&mut q, filter, "c");
        if filter.from.is_some() || filter.to.is_some() {
            // ran during the period, or brought leads in it
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

        let mut tx = self.db.read().await?;
        let raw: Vec<RawRow> = tx.fetch_all(q).await?;
        tx.commit().await?;
        Ok(assemble(raw))
    }

    /// Sales volume per client, largest first: contracts signed in the period and their sum.
    pub async fn client_sales(&self, actor: &Actor, filter: &ClientSalesFilter) -> Result<Page<ClientSales>> {
        actor.require(Permission::StatsView)?;
        check_period(filter.from, filter.to)?;
        let mut clause = Query::new(
            " from clients cl
              join leads l on l.id = cl.lead_id
              left join campaigns c on c.id = l.campaign_id
              join contracts ct on ct.client_id = cl.id
              where cl.is_archived = false",
        );
        if let Some(from) = filter.from {
            clause.push(" and ct.signed_on >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            clause.push(" and ct.signed_on <= ").push_bind(to);
        }
        if !filter.search.trim().is_empty() {
            clause.push(" and cl.search like ").push_bind(text::like_pattern(&filter.search)).push(" escape '\\'");
        }
        let select = "select cl.id as client_id, cl.full_name, c.name as campaign, count(ct.id) as contracts,
                    cast(sum(ct.amount) as bigint) as revenue";
        let order = " group by cl.id, cl.full_name, c.name order by revenue desc, cl.id";
        self.read_page(clause, "select count(distinct cl.id)", select, order, filter.page).await
    }
}

/// Campaign rows with their ratios, the per-channel roll-up and the total, from the raw sums.
fn assemble(raw: Vec<RawRow>) -> CampaignStats {
    let mut channels: Vec<(i64, String, i64, [i64; 4])> = Vec::new();
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
                channels[slot].3[i] += sums[i];
                total[i] += sums[i];
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
}
