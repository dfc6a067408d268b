//! Leads: people who answered a campaign and may become clients. Operators create and work
//! them; phone and e-mail are unique among live leads so nobody is called twice. Conversion
//! (in `clients`) is the only way to the status `converted`, after which the lead is frozen so
//! the campaign that brought the client is never lost.

mod input;
mod search;

pub(crate) use input::{active_user, duplicates, holders, lost_reason, not_active, Refused, ValidLead};
pub use input::{search_text, LeadInput};
pub use search::SEARCH_COUNT_BOUND;
pub(crate) use search::{Cluster, LeadConditions, Search, SearchedSort};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use self::input::violated_contact;
use phonenumber::country::Id as Country;

use crate::app::{audit, audit_entry, now, Crm, Direction, KeptParts, Keyset, ListQuery, Page, PageRequest, PartStart};
use crate::db::{reading, transact, Backend, Query, Tx, Value};
use crate::domain::date;
use crate::domain::id::{CampaignId, ClientId, ImportId, LeadId, LostReasonId, UserId, Version};
use crate::error::{Error, FieldError, Result};
use crate::history::Changes;
use crate::permission::{Actor, Permission};
use crate::store::{set_archived, update_versioned};

/// Where a lead is in the sales funnel; stored as its snake_case code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    #[default]
    New,
    InWork,
    Converted,
    Lost,
}

impl LeadStatus {
    /// Every status, in funnel order.
    pub const ALL: [LeadStatus; 4] = [Self::New, Self::InWork, Self::Converted, Self::Lost];

    /// The stored code, the same as the serde name.
    pub fn code(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InWork => "in_work",
            Self::Converted => "converted",
            Self::Lost => "lost",
        }
    }
}

impl TryFrom<String> for LeadStatus {
    type Error = String;

    fn try_from(code: String) -> Result<Self, String> {
        Self::ALL.into_iter().find(|s| s.code() == code).ok_or_else(|| format!("unknown lead status {code:?}"))
    }
}

/// A lead as lists and forms show it, with its campaign's and creator's names.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Lead {
    pub id: LeadId,
    pub full_name: String,
    /// E.164, e.g. `+79123456789`; serialized as people read it (`+7 912 345-67-89`).
    #[serde(serialize_with = "crate::domain::contact::serialize_phone")]
    pub phone: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    pub campaign_id: Option<CampaignId>,
    pub campaign_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: LeadStatus,
    pub note: String,
    pub is_archived: bool,
    pub version: Version,
    pub created_by: UserId,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The active client this lead became, once converted.
    pub client_id: Option<ClientId>,
    /// Who is responsible for the lead (its creator unless someone else was chosen).
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
    /// Why the lead was lost, when its status is `lost`.
    pub lost_reason_id: Option<LostReasonId>,
    pub lost_reason: Option<String>,
    /// The lead this one was merged into (it is archived then).
    pub merged_into: Option<LeadId>,
}

/// Columns the lead list may be sorted by; each has an index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadSort {
    #[default]
    CreatedAt,
    FullName,
    Status,
}

/// What the lead list asks for: search text, filters, sort and page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeadFilter {
    /// Part of a name, phone or e-mail; phone-like text also matches other national forms.
    pub search: String,
    pub status: Option<LeadStatus>,
    pub campaign_id: Option<CampaignId>,
    /// The responsible person's leads ("mine": the actor's own id).
    pub owner_id: Option<UserId>,
    /// First day of creation (local calendar day), inclusive.
    pub created_from: Option<NaiveDate>,
    /// Last day of creation (local calendar day), inclusive.
    pub created_to: Option<NaiveDate>,
    pub include_archived: bool,
    /// Only leads that share their phone or e-mail with another lead, live or archived (leads
    /// merged away aside): the office-wide list of probable duplicates. A card also finds the
    /// same name with a close phone or e-mail, which no index can pair across a million leads.
    pub duplicates: bool,
    pub sort: LeadSort,
    pub direction: Option<Direction>,
    pub page: PageRequest,
}

/// The leads kept counted in parts of the list's `sort` (migrations/*/0043_page_parts.sql), the
/// archived ones too where asked, by which "go to page N" finds its row (see
/// [`crate::app::ListQuery::nth_by_parts`]): by name, per first three characters of the search
/// text (`names:ива`); by status, per status and UTC day of creation
/// (`status_days:in_work:2026-09-02`); by date, those days summed over the statuses. Of one
/// status, its days alone; of one owner by date, the owner's days (`owner_days:2:2026-09-02`);
/// none for the other filters (a search among them: the caller's kept count has none).
fn kept_parts(backend: Backend, filter: &LeadFilter) -> Option<KeptParts> {
    let others = LeadFilter { include_archived: false, status: None, owner_id: None, ..filter.clone() };
    if !others.asks_every_live_lead() {
        return None;
    }
    // (PostgreSQL: compared by code point, as the search text is; statuses and days sort alike
    // either way)
    let collated = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " collate \"C\"",
    };
    // (the name's end, its last ten characters)
    let day: (String, PartStart) =
        ("substr(k.list, length(k.list) - 9)".to_owned(), |day| Some(vec![utc_day_start(day)?]));
    // (past the list name; a status's code holds no character that sorts before the colon)
    let status_day: (String, PartStart) = (format!("substr(k.list, {}){collated}", STATUS_DAYS.len() + 1), |part| {
        let (status, day) = part.split_once(':')?;
        Some(vec![status.into(), utc_day_start(day)?])
    });
    let ((part, start), list) = match (filter.sort, filter.status, filter.owner_id) {
        (LeadSort::FullName, None, None) => {
            let prefix: PartStart = |prefix| Some(vec![prefix.into()]);
            ((format!("substr(k.list, {}){collated}", NAMES.len() + 1), prefix), NAMES.to_owned())
        }
        (LeadSort::Status, status, None) => (status_day, status_days(status)),
        (LeadSort::CreatedAt, status, None) => (day, status_days(status)),
        (LeadSort::CreatedAt, None, Some(owner)) => (day, format!("{OWNER_DAYS}{}:", owner.get())),
        _ => return None,
    };
    let live = if filter.include_archived { "" } else { " and k.is_archived = false" };
    // (the names' exact beginning: `like` would read the underscore of `status_days` or
    // `in_work` as any character)
    Some(KeptParts {
        per_part: format!(
            "select {part} as part, k.n from list_counts k where substr(k.list, 1, {}) = '{list}'{live}",
            list.chars().count()
        ),
        start,
    })
}

/// The beginning of the names of the leads kept counted per status and day, of one status or
/// all.
fn status_days(status: Option<LeadStatus>) -> String {
    match status {
        Some(status) => format!("{STATUS_DAYS}{}:", status.code()),
        None => STATUS_DAYS.to_owned(),
    }
}

/// The list names of the leads kept counted in parts (migrations/*/0043_page_parts.sql), each
/// followed by the part: `names:ива`, `status_days:in_work:2026-09-02`,
/// `owner_days:2:2026-09-02` (owner 0: none).
pub(crate) const NAMES: &str = "names:";
pub(crate) const STATUS_DAYS: &str = "status_days:";
pub(crate) const OWNER_DAYS: &str = "owner_days:";

/// The leads' parts counted from their rows as migration 0043's triggers count them (`select
/// list, is_archived, n`, three selects in a union): what a rebuild writes and `--verify`
/// compares.
pub(crate) fn parts_counted(backend: Backend) -> String {
    // (UTC's day of the time: SQLite stores it as RFC 3339 text in UTC)
    let day = match backend {
        Backend::Sqlite => "substr(created_at, 1, 10)",
        Backend::Postgres => "to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')",
    };
    format!(
        "select '{NAMES}' || substr(search, 1, 3), is_archived, count(*) from leads group by 1, 2
         union all
         select '{STATUS_DAYS}' || status || ':' || {day}, is_archived, count(*) from leads group by 1, 2
         union all
         select '{OWNER_DAYS}' || coalesce(owner_id, 0) || ':' || {day}, is_archived, count(*) from leads group by 1, 2"
    )
}

/// The UTC days wholly within the instants `from` (inclusive) and `to` (exclusive), either
/// open: the first of them and the day after the last (`None`: unbounded). `None` where no
/// whole day lies between them.
fn whole_utc_days(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
    let first = match from {
        Some(from) if from.time() == chrono::NaiveTime::MIN => Some(from.date_naive()),
        Some(from) => Some(from.date_naive().succ_opt()?),
        None => None,
    };
    let after = to.map(|to| to.date_naive());
    match (first, after) {
        (Some(first), Some(after)) if first >= after => None,
        days => Some(days),
    }
}

/// The instant UTC's day `YYYY-MM-DD` starts at.
fn utc_day_start(day: &str) -> Option<Value> {
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(day.and_time(chrono::NaiveTime::MIN).and_utc().into())
}

impl LeadFilter {
    /// Whether the filter keeps every live lead (its sort and page aside; its search too,
    /// which [`Search::parse`] weighs).
    fn asks_every_live_lead(&self) -> bool {
        self.status.is_none() && self.asks_nothing_besides_status()
    }

    /// Whether the filter keeps live leads of one status and asks nothing else (its search,
    /// sort and page aside): the board's columns.
    fn asks_status_alone(&self) -> bool {
        self.status.is_some() && self.asks_nothing_besides_status()
    }

    /// Whether the filter keeps live leads and asks nothing but (perhaps) a status, its search,
    /// sort and page aside.
    fn asks_nothing_besides_status(&self) -> bool {
        // (every field named: a filter added later must be weighed here)
        let Self {
            search: _,
            status: _,
            campaign_id,
            owner_id,
            created_from,
            created_to,
            include_archived,
            duplicates,
            sort: _,
            direction: _,
            page: _,
        } = self;
        campaign_id.is_none()
            && owner_id.is_none()
            && created_from.is_none()
            && created_to.is_none()
            && !include_archived
            && !duplicates
    }

    /// Whether the filter keeps live leads created within dates and asks nothing else (its
    /// search, sort and page aside).
    fn asks_dates_alone(&self) -> bool {
        let undated = Self { created_from: None, created_to: None, ..self.clone() };
        (self.created_from.is_some() || self.created_to.is_some())
            && self.status.is_none()
            && undated.asks_nothing_besides_status()
    }

    /// Whether the filter keeps leads created within dates, of one campaign or of one owner
    /// (fewer than a status does).
    fn is_narrowed(&self) -> bool {
        self.created_from.is_some()
            || self.created_to.is_some()
            || self.campaign_id.is_some()
            || self.owner_id.is_some()
    }
}

pub(crate) const COLUMNS: &str =
    "l.id, l.full_name, l.phone, l.email, l.campaign_id, c.name as campaign_name, l.status, l.note,
    l.is_archived, l.version, l.created_by, u.full_name as created_by_name, l.created_at, l.updated_at,
    cl.id as client_id, l.owner_id, o.full_name as owner_name, l.lost_reason_id, lr.name as lost_reason,
    l.merged_into";
/// [`COLUMNS`] with a scalar subquery for each joined column, for a page's rows read by id
/// (see [`crate::app::ListQuery::paged_by`]).
const PAGE_COLUMNS: &str = "l.id, l.full_name, l.phone, l.email, l.campaign_id,
    (select c.name from campaigns c where c.id = l.campaign_id) as campaign_name, l.status, l.note,
    l.is_archived, l.version, l.created_by,
    (select u.full_name from users u where u.id = l.created_by) as created_by_name, l.created_at, l.updated_at,
    (select cl.id from clients cl where cl.lead_id = l.id) as client_id, l.owner_id,
    (select o.full_name from users o where o.id = l.owner_id) as owner_name, l.lost_reason_id,
    (select lr.name from lost_reasons lr where lr.id = l.lost_reason_id) as lost_reason, l.merged_into";
/// The joins only add columns (each matches at most one row), so counts need none of them.
pub(crate) const JOINS: &str = " join users u on u.id = l.created_by left join campaigns c on c.id = l.campaign_id
    left join clients cl on cl.lead_id = l.id left join users o on o.id = l.owner_id
    left join lost_reasons lr on lr.id = l.lost_reason_id";

impl Crm {
    /// One page of leads, newest first unless asked otherwise. Every filter and sort is served by
    /// an index of migration 0003, so pages stay fast at a million leads; only substring search
    /// scans (see `search`).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_leads(&self, actor: &Actor, filter: &LeadFilter) -> Result<Page<Lead>> {
        let list = self.leads_query(actor, filter)?;
        self.read_page(actor, list, filter.page).await
    }

    /// The query of the leads list for `filter`, after the checks every reader of it needs.
    pub(crate) fn leads_query(&self, actor: &Actor, filter: &LeadFilter) -> Result<ListQuery> {
        actor.require(Permission::LeadsView)?;
        crate::domain::text::check_search(&filter.search).map_err(|e| Error::Invalid(vec![e]))?;
        crate::domain::date::check_period(("created_from", filter.created_from), ("created_to", filter.created_to))?;
        let searched = Search::parse(&filter.search, self.settings.phone_region).filter(Search::is_substring);
        let clause = self.lead_conditions(filter);
        let direction = filter.direction.unwrap_or(match filter.sort {
            LeadSort::CreatedAt => Direction::Desc,
            LeadSort::FullName | LeadSort::Status => Direction::Asc,
        });
        let columns: &[&'static str] = match filter.sort {
            LeadSort::CreatedAt => &["l.created_at", "l.id"],
            // the search text starts with the lower-cased name: case does not split the alphabet
            // (migration 0026), and a search's matches that start with it are one range
            LeadSort::FullName => &["l.search", "l.id"],
            LeadSort::Status => &["l.status", "l.created_at", "l.id"],
        };
        let keyset = Keyset::new(columns, direction, " from leads l");
        let select = format!("select {COLUMNS} from leads l{JOINS}");
        let list = ListQuery::keyed(clause, "select count(*) from leads l", &select, keyset)
            .cut_by_ids()
            .paged_by(format!("select {PAGE_COLUMNS} from leads l"));
        if let Some(search) = searched {
            let sorted = match filter.sort {
                LeadSort::CreatedAt | LeadSort::Status => SearchedSort::TableOrder,
                LeadSort::FullName => SearchedSort::BySearchText,
            };
            let on_row = self.conditions(filter, true);
            let others = LeadConditions {
                filters: self.lead_conditions(&LeadFilter { search: String::new(), ..filter.clone() }),
                // (the trigram index codes archived leads apart from their status: migration 0035)
                status: filter.status.filter(|_| !filter.include_archived),
                status_alone: filter.asks_status_alone(),
                narrowed: filter.is_narrowed(),
            };
            return Ok(search.bounded_leads_list(list, self.db.backend(), on_row, others, sorted));
        }
        let kept = self.kept_lead_count(filter).or_else(|| self.kept_dated_count(filter));
        let Some(kept) = kept.or_else(|| self.kept_status_dated_count(filter)) else {
            return Ok(list);
        };
        let list = list.with_kept_count(kept);
        // (kept counts: no search either)
        Ok(match kept_parts(self.db.backend(), filter) {
            Some(parts) => list.with_kept_parts(parts),
            None => list,
        })
    }

    /// The total of a lead list from the counts kept per campaign, owner, status and archived
    /// (migrations/*/0015_lead_counts.sql), when the filter is made of those alone.
    fn kept_lead_count(&self, filter: &LeadFilter) -> Option<Query> {
        let searched = Search::parse(&filter.search, self.settings.phone_region).is_some();
        // (ids below 1 exist nowhere, while the counts keep "none" as 0)
        let unknown =
            filter.campaign_id.is_some_and(|id| id.get() < 1) || filter.owner_id.is_some_and(|id| id.get() < 1);
        let dated = filter.created_from.is_some() || filter.created_to.is_some();
        if searched || unknown || dated || filter.duplicates {
            return None;
        }
        let mut q = Query::new("select cast(coalesce(sum(k.n), 0) as bigint) from lead_counts k where 1 = 1");
        if !filter.include_archived {
            q.push(" and k.is_archived = false");
        }
        if let Some(status) = filter.status {
            q.push(" and k.status = ").push_bind(status.code());
        }
        if let Some(campaign) = filter.campaign_id {
            q.push(" and k.campaign_id = ").push_bind(campaign);
        }
        if let Some(owner) = filter.owner_id {
            q.push(" and k.owner_id = ").push_bind(owner);
        }
        Some(q)
    }

    /// The total of a list of the live leads created within dates (and nothing else) from the
    /// roll-ups' live leads per local day (migrations/*/0022_stat_day_totals.sql), which count
    /// the leads of a campaign, and the leads without one counted from their rows: a month's
    /// 94,000 leads counted from the dates' index took 13-18 ms at a million leads, a year's
    /// 42 (SQLite) and 80 (PostgreSQL); the days' totals are a few hundred rows.
    ///
    /// The roll-ups' days are this computer's on SQLite, as the list's are. On PostgreSQL they
    /// are the office's (its time zone): where this computer's days start at other instants
    /// (another zone), the rows are counted as before.
    fn kept_dated_count(&self, filter: &LeadFilter) -> Option<Query> {
        if !filter.asks_dates_alone() || Search::parse(&filter.search, self.settings.phone_region).is_some() {
            return None;
        }
        let (created_from, created_to) = (&filter.created_from, &filter.created_to);
        // the list's own rows counted (its bounds: the instants this computer's days start at)
        let counted = self.lead_conditions(filter).prefixed("select count(*) from leads l");
        let mut without_campaign = counted.clone();
        without_campaign.push(" and l.campaign_id is null");
        let days = |q: &mut Query, day: &str| {
            if let Some(from) = created_from {
                q.push(&format!(" and {day} >= ")).push_bind(*from);
            }
            if let Some(to) = created_to {
                q.push(&format!(" and {day} <= ")).push_bind(*to);
            }
        };
        Some(match self.db.backend() {
            Backend::Sqlite => {
                let mut q = Query::new("select (select coalesce(sum(t.leads), 0) from stat_day_totals t where 1 = 1");
                days(&mut q, "t.day");
                q.push(") + (").append(without_campaign).push(")");
                q
            }
            Backend::Postgres => {
                // the office's days start where this computer's do (midnight, office time),
                // else every row is counted
                let mut q = Query::new("select case when true");
                // (the day after the last, as the list's upper bound is)
                let after = created_to.and_then(date::next_day);
                for day in [created_from, &after].into_iter().flatten() {
                    q.push(" and cast(cast(")
                        .push_bind(*day)
                        .push(" as date) as timestamp) at time zone o.time_zone = ");
                    q.push_bind(date::local_day_start(*day));
                }
                q.push(" then cast((select coalesce(sum(p.n), 0) from crm_live_leads_per_day() p where 1 = 1");
                days(&mut q, "p.day");
                q.push(") as bigint) + (").append(without_campaign).push(")");
                q.push(" else (").append(counted).push(") end from office o");
                q
            }
        })
    }

    /// The total of a list of the live leads of one status created within dates (and nothing
    /// else) from the leads kept counted per status and UTC day (migrations/*/0043): the days
    /// wholly within the dates summed, and the hours at either end (this computer's days need
    /// not start at UTC's midnight) counted from the rows, along the index of a status's dates
    /// (a few hours of one status). Counted from that index, a month of leads in work took
    /// 7-12 ms at a million leads on SQLite, 13-15 on PostgreSQL, and the board within a month
    /// counts each of its columns. `None` where no whole UTC day lies within the dates (the
    /// rows are few).
    fn kept_status_dated_count(&self, filter: &LeadFilter) -> Option<Query> {
        let status = filter.status?;
        let undated = LeadFilter { created_from: None, created_to: None, ..filter.clone() };
        let dated = filter.created_from.is_some() || filter.created_to.is_some();
        if !dated || !undated.asks_status_alone() || Search::parse(&filter.search, self.settings.phone_region).is_some()
        {
            return None;
        }
        // the list's bounds (as `conditions` writes them), and the whole UTC days between
        let from = filter.created_from.map(date::local_day_start);
        let to = filter.created_to.and_then(date::local_day_end);
        let (first, after) = whole_utc_days(from, to)?;
        let list = status_days(Some(status));
        let length = list.chars().count();
        let day = match self.db.backend() {
            Backend::Sqlite => format!("substr(k.list, {})", length + 1),
            // (compared by code point, as the parts are read: see `kept_parts`)
            Backend::Postgres => format!("substr(k.list, {}) collate \"C\"", length + 1),
        };
        let mut q = Query::new(format!(
            "select cast((select coalesce(sum(k.n), 0) from list_counts k
             where substr(k.list, 1, {length}) = '{list}' and k.is_archived = false"
        ));
        if let Some(first) = first {
            q.push(&format!(" and {day} >= ")).push_bind(first.to_string());
        }
        if let Some(after) = after {
            q.push(&format!(" and {day} < ")).push_bind(after.to_string());
        }
        q.push(") as bigint)");
        let mut hours = |start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>| {
            let (Some(start), Some(end)) = (start, end) else { return };
            if start < end {
                q.push(" + (select count(*) from leads l where l.is_archived = false and l.status = ");
                q.push_bind(status.code()).push(" and l.created_at >= ").push_bind(start);
                q.push(" and l.created_at < ").push_bind(end).push(")");
            }
        };
        let midnight = |day: NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc();
        hours(from, first.map(midnight));
        hours(after.map(midnight), to);
        Some(q)
    }

    /// ` where ...` for a lead filter, on alias `l`.
    pub(crate) fn lead_conditions(&self, filter: &LeadFilter) -> Query {
        self.conditions(filter, false)
    }

    /// ` where ...` for a lead filter, on alias `l`; a substring search tested `on_row` only
    /// (see [`Search::push_on_row`]).
    fn conditions(&self, filter: &LeadFilter, on_row: bool) -> Query {
        let mut q = Query::new(" where 1 = 1");
        if !filter.include_archived {
            // written exactly as in the partial indexes' predicate, so both backends use them
            q.push(" and l.is_archived = false");
        }
        if let Some(status) = filter.status {
            q.push(" and l.status = ").push_bind(status.code());
        }
        if let Some(campaign) = filter.campaign_id {
            q.push(" and l.campaign_id = ").push_bind(campaign);
        }
        if let Some(owner) = filter.owner_id {
            q.push(" and l.owner_id = ").push_bind(owner);
        }
        if let Some(from) = filter.created_from {
            q.push(" and l.created_at >= ").push_bind(date::local_day_start(from));
        }
        if let Some(end) = filter.created_to.and_then(date::local_day_end) {
            q.push(" and l.created_at < ").push_bind(end);
        }
        match Search::parse(&filter.search, self.settings.phone_region) {
            Some(search) if on_row => search.push_on_row(&mut q, self.db.backend(), "leads", "l"),
            Some(search) => search.push_condition(&mut q, self.db.backend(), "leads", "l"),
            None => {}
        }
        if filter.duplicates {
            push_duplicated(&mut q, self.db.backend());
        }
        q
    }

    /// One lead, archived or not.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_lead(&self, actor: &Actor, id: LeadId) -> Result<Lead> {
        actor.require(Permission::LeadsView)?;
        reading!(actor.db, |tx| {
            let lead = fetch(tx, id).await?;
            Ok(lead)
        })
    }

    /// Creates a lead (status `new` unless the form says otherwise), refusing a phone or e-mail
    /// that a live lead already has.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_lead(&self, actor: &Actor, input: &LeadInput) -> Result<Lead> {
        actor.require(Permission::LeadsEdit)?;
        if input.owner_id.is_some_and(|owner| owner != actor.user_id) {
            actor.require(Permission::OwnersAssign)?;
        }
        let created = self.insert_lead(actor, input).await;
        let (phone, email) = input.normalised_contacts(self.settings.phone_region);
        self.explain_duplicate(actor, created, (phone.as_deref(), email.as_deref()), None).await
    }

    async fn insert_lead(&self, actor: &Actor, input: &LeadInput) -> Result<Lead> {
        transact!(actor.db, |tx| {
            let id = add_lead(tx, actor, input, self.settings.phone_region, None).await?;
            let lead = fetch(tx, id).await?;
            Ok(lead)
        })
    }

    /// Saves an edit made on `version`; someone else's newer save is a `Conflict`, and a
    /// converted lead is frozen.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_lead(&self, actor: &Actor, id: LeadId, version: Version, input: &LeadInput) -> Result<Lead> {
        actor.require(Permission::LeadsEdit)?;
        let updated = self.save_lead(actor, id, version, input).await;
        let (phone, email) = input.normalised_contacts(self.settings.phone_region);
        self.explain_duplicate(actor, updated, (phone.as_deref(), email.as_deref()), Some(id)).await
    }

    async fn save_lead(&self, actor: &Actor, id: LeadId, version: Version, input: &LeadInput) -> Result<Lead> {
        transact!(actor.db, |tx| {
            let lead = change_lead(tx, actor, id, Some(version), input, self.settings.phone_region).await?;
            Ok(lead)
        })
    }
    /// Archives a lead (it leaves the lists and frees its phone and e-mail) or restores it, which
    /// is refused while a live lead holds the same phone or e-mail.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_lead_archived(&self, actor: &Actor, id: LeadId, version: Version, archived: bool) -> Result<Lead> {
        actor.require(Permission::LeadsEdit)?;
        let result = self.archive_lead(actor, id, version, archived).await;
        if result.as_ref().err().and_then(violated_contact).is_none() {
            return result;
        }
        let lead = reading!(actor.db, |tx| { fetch(tx, id).await })?;
        self.explain_duplicate(actor, result, (lead.phone.as_deref(), lead.email.as_deref()), Some(id)).await
    }

    async fn archive_lead(&self, actor: &Actor, id: LeadId, version: Version, archived: bool) -> Result<Lead> {
        transact!(actor.db, |tx| {
            let current = fetch(tx, id).await?;
            change_archived(tx, actor, &current, version, archived).await?;
            let lead = fetch(tx, id).await?;
            Ok(lead)
        })
    }

    /// Turns a unique violation (two operators saving the same phone at the same moment: both
    /// checks passed, the index refused the second) into the field error the check would have
    /// given, naming the lead that won. `contacts` are the phone and e-mail being saved.
    async fn explain_duplicate(
        &self,
        actor: &Actor,
        result: Result<Lead>,
        contacts: (Option<&str>, Option<&str>),
        except: Option<LeadId>,
    ) -> Result<Lead> {
        let Some(field) = result.as_ref().err().and_then(violated_contact) else { return result };
        let (phone, email) = contacts;
        let mut found = reading!(actor.db, |tx| { duplicates(tx, phone, email, except).await })?;
        found.retain(|e| e.field == field);
        if found.is_empty() {
            // the winner was archived meanwhile; still say what was wrong
            let code = if field == "email" { "email_taken" } else { "phone_taken" };
            found.push(FieldError::new(field, code).with("lead", "?").with("id", "?"));
        }
        Err(Error::Invalid(found))
    }
}

/// Archives or restores `current` (read at `version`) in the caller's transaction: a converted
/// lead is frozen, and a restore is refused while a live lead holds the same phone or e-mail.
pub(crate) async fn change_archived(
    tx: &mut Tx,
    actor: &Actor,
    current: &Lead,
    version: Version,
    archived: bool,
) -> Result<()> {
    ensure_not_converted(current)?;
    if !archived && current.is_archived {
        let taken = duplicates(tx, current.phone.as_deref(), current.email.as_deref(), Some(current.id)).await?;
        if !taken.is_empty() {
            return Err(Error::Invalid(taken));
        }
    }
    set_archived(tx, actor, "leads", "lead", current.id, version, archived).await
}

/// The fields an edit changed, as the timeline shows them.
fn changes(before: &Lead, after: &Lead) -> Changes {
    let mut changes = Changes::default();
    changes
        .field("full_name", Some(&before.full_name), Some(&after.full_name))
        .field("phone", before.phone.as_deref(), after.phone.as_deref())
        .field("email", before.email.as_deref(), after.email.as_deref())
        .field("campaign", before.campaign_name.as_deref(), after.campaign_name.as_deref())
        .field("status", Some(before.status.code()), Some(after.status.code()))
        .field("lost_reason", before.lost_reason.as_deref(), after.lost_reason.as_deref())
        .field("note", Some(&before.note), Some(&after.note));
    changes
}

/// A converted lead belongs to its client now: its data is edited there.
pub(crate) fn ensure_not_converted(lead: &Lead) -> Result<()> {
    if lead.status == LeadStatus::Converted {
        return Err(Error::state("lead_converted_locked"));
    }
    Ok(())
}

pub(crate) async fn fetch(tx: &mut Tx, id: LeadId) -> Result<Lead> {
    tx.fetch_optional(Query::new(format!("select {COLUMNS} from leads l{JOINS} where l.id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound { entity: "lead", id: id.get() })
}

/// The leads of `ids` that exist (and that the reader may see), by id, read at once
/// ([`crate::store::fetch_in`]).
pub(crate) async fn fetch_each(tx: &mut Tx, ids: &[i64]) -> Result<std::collections::HashMap<i64, Lead>> {
    let leads: Vec<Lead> =
        crate::store::fetch_in(tx, &format!("select {COLUMNS} from leads l{JOINS} where l.id"), ids).await?;
    Ok(leads.into_iter().map(|lead| (lead.id.get(), lead)).collect())
}

const INSERT_LEADS: &str = "insert into leads (full_name, phone, email, campaign_id, status, note, search,
    created_by, created_at, updated_at, owner_id, lost_reason_id, import_id) values ";

/// One lead's `(...)` after [`INSERT_LEADS`], made by `actor` at `at` (its owner unless it names
/// one), by import `import_id` if any.
fn push_values(q: &mut Query, lead: &ValidLead, actor: &Actor, at: DateTime<Utc>, import_id: Option<ImportId>) {
    q.push("(").push_bind(lead.full_name.as_str()).push(", ");
    q.push_bind(lead.phone.as_deref()).push(", ");
    q.push_bind(lead.email.as_deref()).push(", ");
    q.push_bind(lead.campaign_id).push(", ");
    q.push_bind(lead.status.unwrap_or_default().code()).push(", ");
    q.push_bind(lead.note.as_str()).push(", ");
    q.push_bind(lead.search()).push(", ");
    q.push_bind(actor.user_id).push(", ");
    q.push_bind(at).push(", ");
    q.push_bind(at).push(", ");
    q.push_bind(lead.owner_id.unwrap_or(actor.user_id)).push(", ");
    q.push_bind(lead.lost_reason_id).push(", ");
    q.push_bind(import_id).push(")");
}

/// Adds a lead in the caller's transaction after checking it as the form does; `import_id`
/// marks a lead an import created (its timeline says so). Returns its id.
pub(crate) async fn add_lead(
    tx: &mut Tx,
    actor: &Actor,
    input: &LeadInput,
    region: Country,
    import_id: Option<ImportId>,
) -> Result<LeadId> {
    let valid = input.validate(tx, region, None).await?;
    let mut q = Query::new(INSERT_LEADS);
    push_values(&mut q, &valid, actor, now(), import_id);
    q.push(" returning id");
    let id: LeadId = tx.scalar(q).await?;
    let action = if import_id.is_some() { "import" } else { "create" };
    audit(tx, actor, action, "lead", id, &valid.full_name).await?;
    Ok(id)
}

/// Inserts leads of import `import_id` that passed [`LeadInput::check_new`] and whose contacts
/// no live lead holds, with their history entries: two multi-row statements for 300 leads where
/// [`add_lead`] makes several for each lead. A contact taken meanwhile fails the batch with the
/// unique index's error (the caller goes back to one lead at a time).
pub(crate) async fn add_leads(tx: &mut Tx, actor: &Actor, leads: &[ValidLead], import_id: ImportId) -> Result<()> {
    let at = now();
    // 13 values a lead: 300 leads stay well inside both backends' limits on parameters
    for chunk in leads.chunks(300) {
        // the history entries are written from the new rows (ids above this, of this import)
        // rather than from a `returning` list: SQLite hands each returned row over on its own,
        // which cost a third of an import's time
        let before: i64 = tx.scalar(Query::new("select coalesce(max(id), 0) from leads")).await?;
        let mut q = Query::new(INSERT_LEADS);
        for (i, lead) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            push_values(&mut q, lead, actor, at, Some(import_id));
        }
        tx.execute(q).await?;
        tx.execute(
            Query::new(
                "insert into audit_log (at, user_id, action, entity, entity_id, details)
                 select $1, $2, 'import', 'lead', id, full_name from leads
                 where import_id = $3 and id > $4 order by id",
            )
            .bind(at)
            .bind(actor.user_id)
            .bind(import_id)
            .bind(before),
        )
        .await?;
    }
    Ok(())
}

/// Saves an edit of lead `id` in the caller's transaction after checking it as the form does:
/// made on `version` (someone else's newer save is a `Conflict`; `None`: the current one), and
/// refused for a converted lead, which is frozen.
pub(crate) async fn change_lead(
    tx: &mut Tx,
    actor: &Actor,
    id: LeadId,
    version: Option<Version>,
    input: &LeadInput,
    region: Country,
) -> Result<Lead> {
    let current = fetch(tx, id).await?;
    ensure_not_converted(&current)?;
    let version = version.unwrap_or(current.version);
    let valid = input.validate(tx, region, Some(&current)).await?;
    let update = Query::new(
        "update leads set full_name = $1, phone = $2, email = $3, campaign_id = $4, status = $5,
         note = $6, search = $7, version = version + 1, updated_at = $8, lost_reason_id = $11
         where id = $9 and version = $10 and status <> 'converted'",
    )
    .bind(&valid.full_name)
    .bind(valid.phone.as_deref())
    .bind(valid.email.as_deref())
    .bind(valid.campaign_id)
    .bind(valid.status.unwrap_or(current.status).code())
    .bind(&valid.note)
    .bind(valid.search())
    .bind(now())
    .bind(id)
    .bind(version)
    .bind(valid.lost_reason_id);
    update_versioned(tx, "leads", "lead", id, update).await?;
    let lead = fetch(tx, id).await?;
    audit_entry(tx, actor, "update", "lead", id, &lead.full_name, &changes(&current, &lead)).await?;
    Ok(lead)
}

/// ` and l.id in (...)`: the leads that share a phone or an e-mail with another lead, neither
/// merged away. Live leads cannot share one (unique indexes), so each such pair holds an archived
/// lead `a`, found through the archived leads' own indexes (migrations/*/0019), and its twin `d`
/// through the index over all leads; both ends of every pair are listed, from the pairs found
/// once (36 ms at a million leads with 25,000 archived on SQLite; 62 ms finding them twice).
/// SQLite is told which index: where `analyze` had found the archived leads' index empty (an
/// office that had archived nobody yet, or not since the statistics were taken), the bundled
/// SQLite 3.51 read every lead's phone and e-mail through the index of all leads to find the
/// archived ones (1.4-1.5 s at a million leads, for no pair; 1.7 ms so).
fn push_duplicated(q: &mut Query, backend: Backend) {
    let pairs = |contact: &str| {
        let index = match backend {
            Backend::Sqlite => format!(" indexed by leads_archived_{contact}"),
            Backend::Postgres => String::new(),
        };
        format!(
            "select a.id as a_id, d.id as d_id from leads a{index} join leads d on d.{contact} = a.{contact} \
             where a.is_archived = true and a.merged_into is null and a.{contact} is not null \
             and d.id <> a.id and d.merged_into is null"
        )
    };
    q.push(" and l.merged_into is null and l.id in (with pairs as materialized (")
        .push(&pairs("phone"))
        .push(" union all ")
        .push(&pairs("email"))
        .push(") select a_id from pairs union all select d_id from pairs)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_codes() {
        for status in LeadStatus::ALL {
            assert_eq!(LeadStatus::try_from(status.code().to_owned()), Ok(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.code());
        }
        assert!(LeadStatus::try_from("won".to_owned()).is_err());
    }

    /// The names of a select list's columns (`l.x` or `... as x`), in order.
    fn column_names(columns: &str) -> Vec<String> {
        columns
            .split(',')
            .map(|column| {
                let column = column.trim();
                let name = column.rsplit_once(" as ").map_or(column, |(_, name)| name);
                name.trim_start_matches("l.").to_owned()
            })
            .collect()
    }

    #[test]
    fn the_whole_utc_days_within_two_instants_leave_their_hours_out() {
        let at = |text: &str| Some(DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc));
        let day = |text: &str| Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap());
        // UTC's own days (a computer in UTC)
        assert_eq!(
            whole_utc_days(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")),
            Some((day("2026-03-01"), day("2026-04-01")))
        );
        // Moscow's March: from 21:00 UTC on February 28 to 21:00 on March 31
        assert_eq!(
            whole_utc_days(at("2026-02-28T21:00:00Z"), at("2026-03-31T21:00:00Z")),
            Some((day("2026-03-01"), day("2026-03-31")))
        );
        // New York's: from 05:00 UTC on March 1 (EST) to 04:00 on April 1 (EDT)
        assert_eq!(
            whole_utc_days(at("2026-03-01T05:00:00Z"), at("2026-04-01T04:00:00Z")),
            Some((day("2026-03-02"), day("2026-04-01")))
        );
        // open ends
        assert_eq!(whole_utc_days(None, at("2026-03-01T03:00:00Z")), Some((None, day("2026-03-01"))));
        assert_eq!(whole_utc_days(at("2026-03-01T03:00:00Z"), None), Some((day("2026-03-02"), None)));
        // one local day holds no whole UTC day unless the zone is UTC's
        assert_eq!(whole_utc_days(at("2026-02-28T21:00:00Z"), at("2026-03-01T21:00:00Z")), None);
        assert_eq!(
            whole_utc_days(at("2026-03-01T00:00:00Z"), at("2026-03-02T00:00:00Z")),
            Some((day("2026-03-01"), day("2026-03-02")))
        );
    }

    #[test]
    fn a_page_by_id_reads_the_same_columns_as_the_list() {
        let (list, page) = (column_names(COLUMNS), column_names(PAGE_COLUMNS));
        assert_eq!(list.len(), 20, "{list:?}");
        assert_eq!(page, list);
    }
}
