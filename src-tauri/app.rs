//! The CRM's entry point for every adapter: a database and the settings, with one method per use
//! case spread over the entity modules (`impl Crm` blocks in `services.rs`, `leads.rs`, ...).

use chrono::{DateTime, Utc};
use phonenumber::country::Id as Country;

use crate::config::{Location, OfficeServer};
use crate::db::{reading, Db, Query, Row, Tx, Value};
use crate::domain::contact::parse_region;
use crate::error::{Error, Result};
use crate::history::Changes;
use crate::permission::Actor;

/// Behaviour an office may tune.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Region for phone numbers typed without a country code.
    pub phone_region: Country,
    /// Largest contract document accepted.
    pub max_document_bytes: usize,
    /// On an office PostgreSQL: the prefix of this database's PostgreSQL roles (`crm` gives
    /// `crm_olga`, `crm:role:operator`, ...). Roles belong to the whole server, so a second CRM
    /// database on the same server needs a prefix of its own, set when it is first migrated.
    pub role_prefix: String,
    /// Accept contract documents that can run code (PDF scripts, Word macros): off unless the
    /// office needs them (`allow_active_documents = true` in config.toml).
    pub allow_active_documents: bool,
    /// Contracts whose validity ends within this many days show on "my day" and under the
    /// contracts list's "expiring" filter.
    pub expiring_days: u32,
}

impl Settings {
    /// The settings of the config file (`config.toml`) over the defaults; `CRM_ROLE_PREFIX`
    /// overrides the file's `role_prefix`.
    pub fn from_config(file: &crate::config::ConfigFile) -> Result<Self> {
        let mut settings = Self::default();
        if let Some(code) = file.phone_region.as_deref() {
            settings.phone_region =
                parse_region(code).ok_or_else(|| Error::Config(format!("unknown phone_region {code:?}")))?;
        }
        settings.allow_active_documents = file.allow_active_documents.unwrap_or(false);
        if let Some(days) = file.expiring_days {
            if !(1..=366).contains(&days) {
                return Err(Error::Config(format!("expiring_days {days}: from 1 to 366")));
            }
            settings.expiring_days = days;
        }
        if let Some(prefix) = std::env::var("CRM_ROLE_PREFIX").ok().or_else(|| file.role_prefix.clone()) {
            let valid = prefix.len() <= 16
                && prefix.starts_with(|c: char| c.is_ascii_lowercase())
                && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !valid {
                return Err(Error::Config(format!(
                    "role_prefix {prefix:?}: 1 to 16 lower-case Latin letters and digits, starting with a letter"
                )));
            }
            settings.role_prefix = prefix;
        }
        Ok(settings)
    }

    pub(crate) fn document_rules(&self) -> crate::contracts::DocumentRules {
        crate::contracts::DocumentRules {
            max_bytes: self.max_document_bytes,
            allow_active: self.allow_active_documents,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            phone_region: Country::RU,
            max_document_bytes: 20 * 1024 * 1024,
            role_prefix: "crm".into(),
            allow_active_documents: false,
            expiring_days: 30,
        }
    }
}

#[derive(Clone)]
pub struct Crm {
    /// The local file's pool; on an office server the owner's pool, or (`gateway`) a pool that
    /// never connects, whose options sign-in completes with each person's own login.
    pub(crate) db: Db,
    pub(crate) settings: Settings,
    gateway: bool,
}

impl Crm {
    pub fn new(db: Db, settings: Settings) -> Self {
        Self { db, settings, gateway: false }
    }

    /// Connects to `url`, brings the schema up to date and returns the CRM.
    pub async fn open(url: &str, settings: Settings) -> Result<Self> {
        let db = Db::connect(url).await?;
        db.migrate(&settings.role_prefix).await?;
        Ok(Self::new(db, settings))
    }

    /// An office server that people sign in to as themselves: nothing connects until someone
    /// signs in, and nothing here may migrate (the owner's `crm migrate` does).
    pub fn open_office(server: &OfficeServer, settings: Settings) -> Self {
        let db = Db::gateway(server.connect_options("crm", ""), !server.pgbouncer);
        Self { gateway: true, ..Self::new(db, settings) }
    }

    /// The office server as its owner (the login that owns the database, with CREATEROLE): brings
    /// the schema up to date, and can create the first administrator. Only for setting an office
    /// up: the owner's password is never kept.
    pub async fn open_as_owner(
        server: &OfficeServer,
        username: &str,
        password: &str,
        settings: Settings,
    ) -> Result<Self> {
        // the owner's set-up (migrations hold session locks) needs the server itself
        let db = Db::connect_as(server.connect_options(username, password), true).await?;
        db.migrate(&settings.role_prefix).await?;
        Ok(Self::new(db, settings))
    }

    /// Opens what [`crate::config::resolve_location`] found.
    pub async fn open_location(location: &Location, settings: Settings) -> Result<Self> {
        match location {
            Location::Url(url) => Self::open(url, settings).await,
            Location::Office(server) => Ok(Self::open_office(server, settings)),
        }
    }

    /// Whether this is an office server reached with no login of its own (see [`Crm::open_office`]).
    pub fn is_gateway(&self) -> bool {
        self.gateway
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// One page of a list and the count of all its rows, read in one snapshot.
    pub(crate) async fn read_page<T: Row>(&self, actor: &Actor, list: ListQuery, page: PageRequest) -> Result<Page<T>> {
        reading!(actor.db, |tx| { list.page(tx, page).await })
    }

    /// Every row of a list in its order, handed to `each` as it is read (never all in memory),
    /// after `start` hears how many there are; one snapshot. Returns the number of rows.
    pub(crate) async fn read_all<T: Row>(
        &self,
        actor: &Actor,
        list: ListQuery,
        start: impl FnOnce(u64),
        each: impl FnMut(T) -> Result<()>,
    ) -> Result<u64> {
        // not retried: rows already handed on cannot be taken back
        let mut tx = actor.db.read().await?;
        let total: i64 = tx.scalar(list.count()).await?;
        start(total.max(0) as u64);
        let rows = tx.for_each(list.rows(), each).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

/// [`Crm::read_all`] in the caller's transaction (an export that reads more in the same snapshot),
/// for rows read as `kinds` say ([`Tx::for_each_values`]: a whole table's way).
pub(crate) async fn read_list_values(
    tx: &mut Tx,
    list: ListQuery,
    kinds: &[crate::db::Kind],
    start: impl FnOnce(u64),
    each: impl FnMut(Vec<Value>) -> Result<()>,
) -> Result<u64> {
    let total: i64 = tx.scalar(list.count()).await?;
    start(total.max(0) as u64);
    tx.for_each_values(list.rows(), kinds, each).await
}

/// A list's query: the `from ... where ...` clause its count and its rows share, what goes in
/// front of it for each, and the order (an ` order by ...`, after a ` group by ...` if any).
#[derive(Clone)]
pub(crate) struct ListQuery {
    pub clause: Query,
    pub count: String,
    pub select: String,
    pub order: String,
    /// The total read from kept counts instead of counting the rows, where the filter allows.
    pub kept_count: Option<Query>,
    /// The sort as key columns, where pages are found by key rather than by skipping rows.
    keyset: Option<Keyset>,
    /// A substring search's bounded count, and how its rows are read past the bound.
    searched: Option<Searched>,
    /// How a page read by key is fenced from the rest of the query, if it is.
    fence: Option<Fence>,
    /// The select of a page's rows by their ids, where it is not `select` (see
    /// [`ListQuery::paged_by`]).
    page_select: Option<String>,
    /// A second clause whose rows the list holds too (no row matches both), and whether its
    /// page is read fenced: see [`ListQuery::union`].
    other: Option<(Query, bool)>,
    /// The list's rows counted ahead of time in parts of its sort (per day, say), where "go to
    /// page N" may find its row by them: see [`ListQuery::nth_by_parts`].
    kept_parts: Option<KeptParts>,
}

/// A list's rows counted ahead of time in consecutive parts of its sort: `per_part`, a query
/// `select part, n` (a part may come more than once: its rows are summed), names each part by
/// text that sorts as the parts do (compared by code point), and `start` of a name gives the
/// values of the sort's first key columns (as many as it gives) at and after which that part's
/// rows lie, before the next part's (`None`: a name it does not know; the counts are not used).
#[derive(Clone)]
pub(crate) struct KeptParts {
    pub per_part: String,
    pub start: PartStart,
}

/// Where a kept part's rows start in the list's sort, from the part's name: see [`KeptParts`].
pub(crate) type PartStart = fn(&str) -> Option<Vec<Value>>;

/// What a page read by key is cut from before the list's joins see it.
#[derive(Clone)]
enum Fence {
    /// `head` + the page's query + `tail`, then the order again: see [`ListQuery::fenced`].
    Rows(String, String),
    /// The page's ids read from the clause alone, then their rows: see [`ListQuery::cut_by_ids`].
    Ids,
}

/// A list searched for a substring: the ids of its rows, read only up to one past
/// [`crate::leads::SEARCH_COUNT_BOUND`] (`ids`, in the order of the table's ids where the
/// backend reads them so). No more than the bound: the list is those rows (the search is not
/// run twice). More: the total says "more than", and the pages are read as `past` says.
/// Where `probed` is given, the probe's count picks the first of its routes whose `from` it
/// reaches, and `route` where it reaches none (see [`ListQuery::routed`]).
#[derive(Clone)]
struct Searched {
    route: Route,
    probed: Option<(Query, Vec<(i64, Route)>)>,
}

/// One way of reading a searched list: see [`Searched`]. `enough`, where given, counts some of
/// the matches up to one past the bound, cheaper than `ids` reads them: past it, the list is
/// past the bound without reading `ids`.
#[derive(Clone)]
pub(crate) struct Route {
    pub ids: Query,
    pub past: PastBound,
    pub enough: Option<Query>,
}

/// How a searched list with more matches than the bound reads its pages.
#[derive(Clone)]
pub(crate) enum PastBound {
    /// As this list: the list's own conditions (read along an index named, say), or the same
    /// conditions testing each row along the sort's index (with matches that dense a page is
    /// found within a few thousand rows, where sorting every candidate the trigram index names
    /// cost 47 ms for a common surname).
    List(Box<ListQuery>),
    /// As the matches' density says. Dense: `walk`, the sort's index walked testing each row
    /// (a page within a few hundred rows). Sparse: `sorted`, the list whose candidates are read
    /// first and sorted; walking the index of names for a surname's matches, which all sit
    /// together late in the alphabet, read 790,000 rows (1.1 s at a million leads), where
    /// reading and sorting its 12,659 matches takes 38 ms (PostgreSQL) to 90 ms (SQLite, where
    /// the trigram index checks each candidate's text). `last_id` reads the table's largest id: the
    /// matches' ids come about in the table's order, so how close together they are tells how
    /// many there are in all (see [`estimated_matches`]).
    /// `most`: the most matches estimated for reading `sorted` (more: `walk`); fewer, as the
    /// [`Probe`] (if any) says.
    ByDensity { last_id: Query, walk: Query, sorted: Box<ListQuery>, most: i64, probe: Option<Probe> },
    /// As the matches' number says: `count` counts them up to one past `most` (where they are
    /// one range of an index); more, the list `walk`; no more, the list `sorted`.
    ByCount { count: Query, walk: Box<ListQuery>, sorted: Box<ListQuery>, most: i64 },
}

/// Whether a searched list sorted by its search text with fewer matches than
/// [`PastBound::ByDensity`]'s `most` walks its sort's index or sorts its matches. `starting`
/// counts the rows whose text starts with the search, up to one past the count's bound: more
/// (a surname), they sort: the list reads its first page from their range. Fewer, `spread`
/// counts the matches among the first rows of the sort's order: at least `enough`, they lie
/// all along it (a first name: a page within a few thousand rows, where sorting its 20,000
/// matches took 37 ms), and the list walks; fewer, they sit together (an e-mail's part, the
/// names of "yakovlev" at the end of the alphabet): the list walks the range of the sort's
/// index that `cluster` proves holds them all, if it can, else it sorts them.
#[derive(Clone)]
pub(crate) struct Probe {
    pub starting: Query,
    pub spread: Query,
    pub enough: i64,
    pub cluster: Option<crate::leads::Cluster>,
}

/// The ids `query` (`select ... id ...`) reads. SQLite's come as one text: sqlx hands each row
/// from the connection's thread to the caller's, which for a searched list's thousand ids cost
/// about as much as finding them (the board searched at a million leads, medians of 300 runs,
/// twice each way, interleaved: a surname 14.6 / 18.3 -> 12.4 / 14.4 ms, two letters 15.0 /
/// 14.7 -> 9.8 / 11.2; passing them back as one JSON text, `json_each`, gained nothing).
async fn searched_ids(tx: &mut Tx, query: Query) -> Result<Vec<(i64,)>> {
    if tx.backend() == crate::db::Backend::Postgres {
        return tx.fetch_all(query).await;
    }
    let mut joined = Query::new("select group_concat(id) from (");
    joined.append(query).push(")");
    let text: Option<String> = tx.scalar(joined).await?;
    let Some(text) = text else { return Ok(Vec::new()) };
    text.split(',').map(|id| id.parse().map(|id| (id,)).map_err(|e| sqlx::Error::Decode(Box::new(e)).into())).collect()
}

/// How many rows match in all, estimated from the ids of the first matches a scan found, of a
/// table whose ids go up to `last`: the smaller of two estimates, each blind where the other
/// sees.
/// - From the gaps between them, the largest tenth left out. The scan reads the table's pages
///   in order, but PostgreSQL's starts where another left off (synchronized scans: ids 121,087
///   to 124,289, then round from the start), and a row updated since its creation sits near the
///   end whatever its id: from the largest id found, a third of a million matches looked like
///   7,000. Matches spread at random come out about a third more. Runs of consecutive matches
///   fool it: the demo's phones are given out in blocks (ids 13,974 to 13,977 hold "8 912 3"),
///   and 1,002 matches looked like 942,408, the list walking 50,000 rows for a page (0.15-0.2 s
///   on both backends).
/// - From the stretch of ids they cover, less its largest gap (a scan round the end of the
///   table, or rows moved there): as many again for each such stretch. Runs do not fool it;
///   rows moved to the end, a few tenths of the matches, make it up to half too small, which
///   still reads as dense.
fn estimated_matches(ids: &[i64], last: i64) -> i64 {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut gaps: Vec<i64> = ids.windows(2).map(|pair| (pair[1] - pair[0]).max(1)).collect();
    gaps.sort_unstable();
    let largest = gaps.last().copied().unwrap_or(1);
    let covered = match (ids.first(), ids.last()) {
        (Some(first), Some(end)) => (end - first + 1) - (largest - 1),
        _ => 0,
    };
    gaps.truncate((gaps.len() * 9 / 10).max(1));
    let spanned: i64 = gaps.iter().sum();
    if spanned <= 0 || covered <= 0 {
        return ids.len() as i64;
    }
    let found = i128::from(ids.len() as i64);
    let by_gaps = i128::from(gaps.len() as i64) * i128::from(last.max(1)) / i128::from(spanned);
    let by_stretch = found * i128::from(last.max(1)) / i128::from(covered);
    i64::try_from(by_gaps.min(by_stretch)).unwrap_or(i64::MAX).max(ids.len() as i64)
}

impl ListQuery {
    pub fn new(clause: Query, count: &str, select: &str, order: &str) -> Self {
        Self {
            clause,
            count: count.to_owned(),
            select: select.to_owned(),
            order: order.to_owned(),
            kept_count: None,
            keyset: None,
            searched: None,
            fence: None,
            page_select: None,
            other: None,
            kept_parts: None,
        }
    }

    /// The same list for a substring search: its ids found by `ids` (which stops one row past
    /// the bound), and read as `past` says when more rows match than the bound.
    pub(crate) fn searched(mut self, ids: Query, past: PastBound) -> Self {
        self.searched = Some(Searched { route: Route { ids, past, enough: None }, probed: None });
        self.kept_parts = None;
        self
    }

    /// The same list for a substring search whose matches are found one of several ways, as
    /// `probe` counts (how many of the rows a walk of the list would read first match, say):
    /// the first of `routes` whose least count (`.0`) the count reaches, else `otherwise`.
    pub(crate) fn routed(mut self, probe: Query, routes: Vec<(i64, Route)>, otherwise: Route) -> Self {
        self.searched = Some(Searched { route: otherwise, probed: Some((probe, routes)) });
        self.kept_parts = None;
        self
    }

    /// The same keyed list read from the rows of `table` `alias` that `conditions` keep, fenced
    /// (`from (select * from leads l where ... offset 0) l`): PostgreSQL's planner then finds
    /// those rows first, by whatever index serves the conditions, and sorts them, instead of
    /// walking the sort's index testing each row. A page is sorted and cut inside, and only its
    /// rows are joined to what the list shows (joined first, all 12,659 rows of a surname cost
    /// a hash of every client: 105 ms instead of 45).
    pub(crate) fn fenced(&self, table: &str, alias: &str, conditions: Query) -> Self {
        let from = format!(" from {table} {alias}");
        let Some(at) = self.select.find(&from) else {
            return self.clone();
        };
        let head = format!("{} from (", &self.select[..at]);
        let tail = format!(") {alias}{}", &self.select[at + from.len()..]);
        let mut clause = conditions;
        clause.push(&format!(" offset 0) {alias} where 1 = 1"));
        Self {
            clause,
            select: format!("select * from (select * from {table} {alias}"),
            count: format!("select count(*) from (select * from {table} {alias}"),
            searched: None,
            kept_count: None,
            kept_parts: None,
            fence: Some(Fence::Rows(head, tail)),
            ..self.clone()
        }
    }

    /// The same keyed list whose pages are cut as ids first, from its clause and the sort's
    /// columns alone (`... where c.id in (select c.id from contracts c where ... order by ...
    /// limit 50)`), then read with their joins (`count` must read the list's table alone).
    /// Joined, the planner may start from a small joined table: the contracts' first page was
    /// read service by service through `contracts_service` and all 143,854 contracts sorted
    /// (182 ms on SQLite, where sampled statistics said 2,001 contracts a service instead of
    /// 18,000); and where the clause's rows are found by an index other than the sort's, each
    /// of them was joined whole and sorted for one page (the contracts ending within 30 days by
    /// signing date: 13,000 rows, 35-48 ms), where an index holding the sort's columns sorts
    /// them without visiting a row.
    pub(crate) fn cut_by_ids(self) -> Self {
        Self { fence: Some(Fence::Ids), ..self }
    }

    /// The same list whose pages PostgreSQL reads by id with `select` (the same columns as the
    /// list's own, say with a scalar subquery for each name instead of a join): it plans every
    /// statement for its values (migration 0020), and planning the leads' page of 50 ids joined
    /// to five tables took 1.9-2.1 ms (psql, warm) where reading it took 1.6; with subqueries
    /// 0.6-0.7 and 1.0-1.2. (SQLite, which plans a statement once, read pages about a
    /// millisecond slower so: it keeps the joins.)
    pub(crate) fn paged_by(self, select: String) -> Self {
        Self { page_select: Some(select), ..self }
    }

    /// The select of a page's rows by their ids on PostgreSQL.
    fn page_select(&self) -> &str {
        self.page_select.as_deref().unwrap_or(&self.select)
    }

    /// The same keyed list whose rows are those `clause` keeps and those `other` keeps, which
    /// no row matches both of, each read along its own index: a page is read from each up to
    /// its length, by key, and the two merged in the list's order. A condition of either part
    /// may choose an index that a condition on both (an `or`) would hide from the planner.
    /// Every statement reads each clause after the list's `count` select (`select count(*)
    /// from leads l`, the count replaced by the columns it needs), never after `select` and its
    /// joins: a clause may start by naming how its table is read (SQLite's ` indexed by ...`).
    pub(crate) fn union(&self, clause: Query, other: Query) -> Self {
        self.joined(clause, other, false)
    }

    /// [`ListQuery::union`], the page of `other` read fenced (`select * from (select ... where
    /// ... offset 0) l where ...`): PostgreSQL's planner then finds its rows first and sorts
    /// them, where it walked the sort's index testing each row (an e-mail's 25,000 matches, the
    /// names of "yakovlev", sit at the end of the alphabet: 975,000 rows, 224 ms).
    pub(crate) fn union_fenced(&self, clause: Query, other: Query) -> Self {
        self.joined(clause, other, true)
    }

    fn joined(&self, clause: Query, other: Query, fenced: bool) -> Self {
        Self {
            clause,
            other: Some((other, fenced)),
            searched: None,
            kept_count: None,
            kept_parts: None,
            ..self.clone()
        }
    }

    /// The direction of the list's sort, where it is keyed.
    pub(crate) fn direction(&self) -> Option<Direction> {
        self.keyset.as_ref().map(|keys| keys.direction)
    }

    /// A list sorted by `keyset`, whose pages are read by key (see [`ListQuery::page`]).
    pub fn keyed(clause: Query, count: &str, select: &str, keyset: Keyset) -> Self {
        let order = keyset.order(keyset.direction);
        Self { keyset: Some(keyset), ..Self::new(clause, count, select, &order) }
    }

    /// The same list whose total is `count` (a sum of kept counts: exact, and a few thousand
    /// rows where counting would read a million).
    pub fn with_kept_count(mut self, count: Query) -> Self {
        self.kept_count = Some(count);
        self
    }

    /// The same list whose rows are also counted in parts of its sort by `parts`: a page by
    /// number finds its row by those counts where they add up to the list's total (see
    /// [`ListQuery::nth_by_parts`]). Only for a list whose clause keeps exactly the rows counted,
    /// keyed by the parts' column first.
    pub(crate) fn with_kept_parts(mut self, parts: KeptParts) -> Self {
        self.kept_parts = Some(parts);
        self
    }

    /// The same list of the rows `clause` keeps.
    pub(crate) fn with_clause(&self, clause: Query) -> Self {
        Self { clause, kept_parts: None, ..self.clone() }
    }

    /// The same list whose count, ids and (cut by ids) pages read `count` (`select count(*) from
    /// ...`), its table with an index named, say.
    pub(crate) fn counted_from(&self, count: &str) -> Self {
        Self { count: count.to_owned(), ..self.clone() }
    }

    /// The same list with other columns (an export's own, say).
    pub fn with_select(mut self, select: &str) -> Self {
        select.clone_into(&mut self.select);
        self.page_select = None;
        self
    }

    fn count(&self) -> Query {
        match (&self.kept_count, &self.other) {
            (Some(kept), _) => kept.clone(),
            (None, None) => self.clause.clone().prefixed(&self.count),
            (None, Some((other, _))) => {
                let mut q = self.clause.clone().prefixed(&format!("select ({}", self.count));
                q.push(&format!(") + ({}", self.count)).append(other.clone()).push(")");
                q
            }
        }
    }

    /// The ids of every row the list holds, as `id_column` (e.g. `c.id`), in no order yet.
    pub fn ids(self, id_column: &str) -> Query {
        let select = self.count.replacen("count(*)", id_column, 1);
        let mut ids = self.clause.prefixed(&select);
        if let Some((other, _)) = self.other {
            ids.push(&format!(" union all {select}")).append(other);
        }
        ids
    }

    fn rows(self) -> Query {
        if self.other.is_some() {
            let (order, id) = (self.order.clone(), self.keyset.as_ref().map_or("id", Keyset::id));
            let mut query = Query::new(format!("{} where {id} in (", self.select));
            query.append(self.ids(id)).push(")").push(&order);
            return query;
        }
        let mut query = self.clause.prefixed(&self.select);
        query.push(&self.order);
        query
    }

    /// The page `request` asks for, with the list's total.
    ///
    /// A keyed list never skips rows with OFFSET, which reads (and joins) every row it skips: a
    /// page in the middle of a million leads took 2 s. The next or previous page starts at the
    /// key of the edge row the screen already shows (`after` / `before`: its id), the last page
    /// is the first read backwards, and a page by number ("go to page 20,000") finds its edge
    /// row's id by skipping entries of the sort's index alone, from whichever end is nearer,
    /// then reads the page from that key. Others (short lists) use OFFSET.
    pub async fn page<T: Row>(&self, tx: &mut Tx, request: PageRequest) -> Result<Page<T>> {
        let Some(searched) = &self.searched else {
            let total: i64 = tx.scalar(self.count()).await?;
            return self.page_of(tx, request, total, false).await;
        };
        let bound = crate::leads::SEARCH_COUNT_BOUND;
        let mut route = &searched.route;
        if let Some((probe, routes)) = &searched.probed {
            let count: i64 = tx.scalar(probe.clone()).await?;
            tracing::debug!(count, "a searched list's probe");
            if let Some((_, chosen)) = routes.iter().find(|(from, _)| count >= *from) {
                route = chosen;
            }
        }
        if let (Some(enough), PastBound::List(list)) = (&route.enough, &route.past) {
            if tx.scalar::<i64>(enough.clone()).await? > bound {
                return list.page_of(tx, request, bound, true).await;
            }
        }
        let ids = searched_ids(tx, route.ids.clone()).await?;
        let plain = Self { searched: None, ..self.clone() };
        if ids.len() as i64 > bound {
            let (walks, walk, sorted) = match &route.past {
                PastBound::List(list) => return list.page_of(tx, request, bound, true).await,
                PastBound::ByDensity { last_id, walk, sorted, most, probe } => {
                    let last: Option<i64> = tx.scalar(last_id.clone()).await?;
                    let found: Vec<i64> = ids.iter().map(|(id,)| *id).collect();
                    let matches = estimated_matches(&found, last.unwrap_or_default());
                    let (spread, clustered) = match probe {
                        Some(probe) if matches <= *most => {
                            if tx.scalar::<i64>(probe.starting.clone()).await? > bound {
                                (false, None)
                            } else {
                                // (before the spread's probe, which a proven range spares: a
                                // sample of names sharing no start costs 0.4 ms at 1M leads)
                                let clustered = match &probe.cluster {
                                    Some(cluster) => cluster.range(tx, &found).await?,
                                    None => None,
                                };
                                let spread = clustered.is_none()
                                    && tx.scalar::<i64>(probe.spread.clone()).await? >= probe.enough;
                                (spread, clustered)
                            }
                        }
                        _ => (false, None),
                    };
                    tracing::debug!(matches, spread, clustered = clustered.is_some(), "a searched list past its bound");
                    // where the matches are proven to lie in one range of the sort's index: the
                    // pages are read walking that range
                    if let Some(range) = clustered {
                        let mut clause = walk.clone();
                        clause.append(range);
                        return Self { clause, ..plain }.page_of(tx, request, bound, true).await;
                    }
                    (matches > *most || spread, walk, sorted)
                }
                PastBound::ByCount { count, walk, sorted, most } => {
                    let matches: i64 = tx.scalar(count.clone()).await?;
                    let list = if matches > *most { walk } else { sorted };
                    return list.page_of(tx, request, bound, true).await;
                }
            };
            let list = if walks { Self { clause: walk.clone(), ..plain } } else { (**sorted).clone() };
            return list.page_of(tx, request, bound, true).await;
        }
        // the list is these rows: read by id, in the list's order
        let id = self.keyset.as_ref().map_or("id", Keyset::id);
        let clause = match tx.backend() {
            // one array, as text: PostgreSQL planned a statement with a thousand arguments anew
            // each time (977 ids, psql, warm: 4.0-5.7 ms against 2.2-2.4 with one array)
            crate::db::Backend::Postgres => {
                let list: Vec<String> = ids.iter().map(|(found,)| found.to_string()).collect();
                let mut clause = Query::new(format!(" where {id} = any(cast("));
                clause.push_bind(format!("{{{}}}", list.join(","))).push(" as bigint[]))");
                clause
            }
            // (`null` first: an empty list is still valid SQL, and matches nothing)
            crate::db::Backend::Sqlite => {
                let mut clause = Query::new(format!(" where {id} in (null"));
                for (found,) in &ids {
                    clause.push(", ").push_bind(*found);
                }
                clause.push(")");
                clause
            }
        };
        Self { clause, ..plain }.page_of(tx, request, ids.len() as i64, false).await
    }

    /// The page `request` asks for of a list of `total` rows (at least `total` when `capped`:
    /// then the rows are counted from the top only, and there is no last page to read).
    async fn page_of<T: Row>(&self, tx: &mut Tx, request: PageRequest, total: i64, capped: bool) -> Result<Page<T>> {
        let (offset, limit) = request.clamped();
        let Some(keys) = &self.keyset else {
            let mut query = self.clone().rows();
            request.push_to(&mut query);
            let mut page = request.page(tx.fetch_all(query).await?, total);
            page.capped = capped;
            return Ok(page);
        };
        let page = |items, offset| Page { items, total, offset, limit, capped };
        if let Some(edge) = request.after {
            let items = self.read_from(tx, keys, Some((edge, false)), Way::Forwards, limit).await?;
            // (an edge row deleted since, e.g. merged into another: found by position instead)
            if !items.is_empty() || !self.edge_missing(tx, keys, edge).await? {
                return Ok(page(items, offset));
            }
        } else if let Some(edge) = request.before {
            let mut items = self.read_from(tx, keys, Some((edge, false)), Way::Backwards, limit).await?;
            items.reverse();
            // a short page is the top of the list (rows added above since): read the first page
            if items.len() as i64 == limit && offset > 0 {
                return Ok(page(items, offset));
            }
            if !items.is_empty() || !self.edge_missing(tx, keys, edge).await? {
                return Ok(page(self.read_from(tx, keys, None, Way::Forwards, limit).await?, 0));
            }
        }
        let offset = if request.last && !capped { (total - 1).max(0) / limit * limit } else { offset };
        if offset >= total && !capped {
            return Ok(page(Vec::new(), offset));
        }
        let end = (offset + limit).min(total);
        if capped || offset <= total - end {
            // nearer the top: the first row of the page, then the page from it down
            let edge = match offset {
                0 => None,
                _ => match self.nth_id(tx, keys, Way::Forwards, offset, total).await? {
                    Some(id) => Some((id, true)),
                    // past the end (of a list counted only up to a bound)
                    None => return Ok(page(Vec::new(), offset)),
                },
            };
            Ok(page(self.read_from(tx, keys, edge, Way::Forwards, limit).await?, offset))
        } else {
            // nearer the bottom: the last row of the page, then the page from it up
            let edge = match total - end {
                0 => None,
                back => self.nth_id(tx, keys, Way::Backwards, back, total).await?.map(|id| (id, true)),
            };
            let mut items = self.read_from(tx, keys, edge, Way::Backwards, end - offset).await?;
            items.reverse();
            Ok(page(items, offset))
        }
    }

    /// The list's first `limit` rows, uncounted (a card's open tasks, say).
    pub async fn first<T: Row>(self, tx: &mut Tx, limit: i64) -> Result<Vec<T>> {
        let mut query = self.rows();
        query.push(" limit ").push_bind(limit);
        tx.fetch_all(query).await
    }

    /// Up to `limit` rows read `way` from the key of row `edge` (included if `.1`), or from
    /// the list's end.
    async fn read_from<T: Row>(
        &self,
        tx: &mut Tx,
        keys: &Keyset,
        edge: Option<(i64, bool)>,
        way: Way,
        limit: i64,
    ) -> Result<Vec<T>> {
        let direction = keys.reading(way);
        if let Some((other, fenced)) = &self.other {
            // each part's page by key, then the list's page of the two
            let keyed = self.keys_select(keys);
            let part = |clause: &Query, name: &str, fenced: bool| {
                let mut q = if fenced {
                    let mut q = clause.clone().prefixed(&format!("select * from (select * from ({keyed}"));
                    q.push(&format!(" offset 0) {} where 1 = 1", keys.alias()));
                    q
                } else {
                    clause.clone().prefixed(&format!("select * from ({keyed}"))
                };
                if let Some((id, inclusive)) = edge {
                    keys.push_after(&mut q, direction, id, inclusive);
                }
                q.push(&keys.order(direction)).push(" limit ").push_bind(limit).push(&format!(") {name}"));
                q
            };
            let (id, alias) = (keys.id(), keys.alias());
            let mut query = Query::new(format!("{} where {id} in (select {id} from (", self.select));
            query.append(part(&self.clause, "a", false)).push(" union all ").append(part(other, "b", *fenced));
            query.push(&format!(") {alias}{} limit ", keys.order(direction))).push_bind(limit).push(")");
            query.push(&keys.order(direction));
            return tx.fetch_all(query).await;
        }
        let select = match self.fence {
            Some(Fence::Ids) => self.count.replacen("count(*)", keys.id(), 1),
            _ => self.select.clone(),
        };
        let mut query = self.clause.clone().prefixed(&select);
        if let Some((id, inclusive)) = edge {
            keys.push_after(&mut query, direction, id, inclusive);
        }
        query.push(&keys.order(direction)).push(" limit ").push_bind(limit);
        let outside = match &self.fence {
            // PostgreSQL: the page's ids, then their rows, in two statements, where one (`...
            // where id in (select id ... limit 50)`) took 3.1-3.7 ms to plan (each time: plans
            // are made for the values, migration 0020), the two 1.7-1.9 ms
            Some(Fence::Ids) if tx.backend() == crate::db::Backend::Postgres => {
                let ids: Vec<(i64,)> = tx.fetch_all(query).await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                // (as many places as the page's limit, the rest NULL: one statement text)
                let places = ids.iter().map(|(id,)| Some(*id)).chain(std::iter::repeat(None));
                let mut rows = Query::new(format!("{} where {} in ", self.page_select(), keys.id()));
                rows.push_list(places.take(limit.max(ids.len() as i64) as usize)).push(&keys.order(direction));
                return tx.fetch_all(rows).await;
            }
            Some(Fence::Rows(head, tail)) => Some((head.clone(), tail.as_str())),
            Some(Fence::Ids) => Some((format!("{} where {} in (", self.select, keys.id()), ")")),
            None => None,
        };
        if let Some((head, tail)) = outside {
            let page = std::mem::replace(&mut query, Query::new(head));
            query.append(page).push(tail).push(&keys.order(direction));
        }
        tx.fetch_all(query).await
    }

    /// The id of the row `skip` rows from the top (or the bottom) of the list of `total` rows;
    /// read from the sort's index alone where the filter allows.
    async fn nth_id(&self, tx: &mut Tx, keys: &Keyset, way: Way, skip: i64, total: i64) -> Result<Option<i64>> {
        let direction = keys.reading(way);
        if let Some(parts) = &self.kept_parts {
            if let Some(id) = self.nth_by_parts(tx, keys, parts, direction, skip, total).await? {
                return Ok(Some(id));
            }
        }
        let mut query = match &self.other {
            None => self.clone().ids(keys.id()),
            Some((other, _)) => {
                let keyed = self.keys_select(keys);
                let mut q = self.clause.clone().prefixed(&format!("select {} from ({keyed}", keys.id()));
                q.push(&format!(" union all {keyed}")).append(other.clone());
                q.push(&format!(") {}", keys.alias()));
                q
            }
        };
        query.push(&keys.order(direction)).push(" limit 1 offset ").push_bind(skip);
        Ok(tx.fetch_optional::<(i64,)>(query).await?.map(|(id,)| id))
    }

    /// [`ListQuery::nth_id`] from the list's rows counted in parts of its sort: the part
    /// holding the row, by a running sum over the parts (a few hundred to a few thousand rows),
    /// then the row skipped to within that part alone. Skipping half a million entries of the
    /// dates' index took 45-76 ms (PostgreSQL, psql, warm), of the names' 53-139; the day and the
    /// 1,204 entries within it 0.4-2.2. `None` where the parts do not add up to the list's
    /// `total` (a write committed between the two reads, say) or a part's name is not known:
    /// the caller skips the index's entries.
    async fn nth_by_parts(
        &self,
        tx: &mut Tx,
        keys: &Keyset,
        parts: &KeptParts,
        direction: Direction,
        skip: i64,
        total: i64,
    ) -> Result<Option<i64>> {
        // the row's part and those after it (read in `direction`) are the rows past a bound: in
        // the list's order, the row's part's own start; the other way, the start of the part
        // after it (none: the last part)
        let order = direction.sql();
        let (bound, edge) = match direction {
            Direction::Asc => ("r.part", ">="),
            Direction::Desc => ("r.before", "<"),
        };
        let mut query = Query::new(format!(
            "with d as (select part, sum(n) as n from ({}) p group by part),
             r as (select part, n, sum(n) over (order by part{order}) as upto,
                          lag(part) over (order by part{order}) as before from d)
             select {bound}, cast(r.upto - r.n as bigint), cast((select sum(n) from d) as bigint)
             from r where r.upto > ",
            parts.per_part
        ));
        query.push_bind(skip).push(&format!(" order by r.part{order} limit 1"));
        let Some((part, above, whole)) = tx.fetch_optional::<(Option<String>, i64, i64)>(query).await? else {
            return Ok(None);
        };
        if whole != total {
            tracing::debug!(whole, total, "the kept parts do not add up to the list");
            return Ok(None);
        }
        let bound = match part.map(|part| (parts.start)(&part)) {
            None => Vec::new(),
            Some(Some(values)) if !values.is_empty() && values.len() < keys.columns.len() => values,
            Some(_) => {
                tracing::debug!("a kept part of unknown name");
                return Ok(None);
            }
        };
        let mut query = self.clone().ids(keys.id());
        if !bound.is_empty() {
            // (a row value of the first columns: one range of the sort's index)
            let columns = keys.columns[..bound.len()].join(", ");
            query.push(&format!(" and ({columns}) {edge} ")).push_list(bound);
        }
        query.push(&keys.order(direction)).push(" limit 1 offset ").push_bind(skip - above);
        Ok(tx.fetch_optional::<(i64,)>(query).await?.map(|(id,)| id))
    }

    /// `select` of the key columns of each row the list's count reads (its own table and
    /// joins), for a part of a [`ListQuery::union`].
    fn keys_select(&self, keys: &Keyset) -> String {
        self.count.replacen("count(*)", &keys.columns.join(", "), 1)
    }

    async fn edge_missing(&self, tx: &mut Tx, keys: &Keyset, id: i64) -> Result<bool> {
        let query = Query::new(format!("select count(*){} where {} = $1", keys.table, keys.id())).bind(id);
        Ok(tx.scalar::<i64>(query).await? == 0)
    }
}

#[derive(Clone, Copy)]
enum Way {
    Forwards,
    Backwards,
}

/// A list's sort as key columns, the row's id last, all in one direction (so that one index on
/// them is read forwards or backwards), and the table the columns are read from (` from leads l`):
/// the key of a row is read by its id.
#[derive(Clone, Debug)]
pub(crate) struct Keyset {
    columns: Vec<&'static str>,
    direction: Direction,
    table: &'static str,
}

impl Keyset {
    /// Sorted by `columns` (the id last: ties broken by it, so that pages neither repeat nor
    /// skip rows) in `direction`, read from `table`.
    pub fn new(columns: &[&'static str], direction: Direction, table: &'static str) -> Self {
        Self { columns: columns.to_vec(), direction, table }
    }

    /// The order rows are read in going `way`: the list's, or its reverse.
    fn reading(&self, way: Way) -> Direction {
        match way {
            Way::Forwards => self.direction,
            Way::Backwards => self.direction.reversed(),
        }
    }

    fn id(&self) -> &'static str {
        self.columns.last().copied().unwrap_or("id")
    }

    /// The alias the columns are read on (`l` of ` from leads l`).
    fn alias(&self) -> &'static str {
        self.table.rsplit(' ').next().unwrap_or_default()
    }

    /// ` order by a desc, b desc, id desc`.
    fn order(&self, direction: Direction) -> String {
        // one direction for all: `desc, id` (ascending) made SQLite sort every client for the
        // first page (190 ms at a hundred thousand clients; 1 ms read from the index)
        let columns: Vec<String> = self.columns.iter().map(|c| format!("{c}{}", direction.sql())).collect();
        format!(" order by {}", columns.join(", "))
    }

    /// ` and (a, b, id) > (the key of row $n)`: the rows after that row in `direction`. A row
    /// value compared in one direction, so both backends read it as a range of the index.
    fn push_after(&self, query: &mut Query, direction: Direction, id: i64, inclusive: bool) {
        let columns = self.columns.join(", ");
        let operator = match (direction, inclusive) {
            (Direction::Asc, false) => ">",
            (Direction::Asc, true) => ">=",
            (Direction::Desc, false) => "<",
            (Direction::Desc, true) => "<=",
        };
        query.push(&format!(" and ({columns}) {operator} (select {columns}{} where {} = ", self.table, self.id()));
        query.push_bind(id).push(")");
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Records a write in the audit log, inside the writing transaction.
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: impl Into<i64>,
    details: &str,
) -> Result<()> {
    audit_entry(tx, actor, action, entity, id, details, &Changes::default()).await
}

/// Records a write with the fields it changed (a record's timeline shows them). No `returning`:
/// on an office server most staff may append to the audit log but not read it.
pub(crate) async fn audit_entry(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: impl Into<i64>,
    details: &str,
    changes: &Changes,
) -> Result<()> {
    audit_entries(tx, actor, action, entity, &[(id.into(), details, changes)]).await
}

/// [`audit_entry`] of many records at once: one insert of `(entity id, details, changes)` each.
pub(crate) async fn audit_entries(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    entries: &[(i64, &str, &Changes)],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let at = now();
    let mut q = Query::new("insert into audit_log (at, user_id, action, entity, entity_id, details, changes) values ");
    for (i, (id, details, changes)) in entries.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" }).push_bind(at).push(", ").push_bind(actor.user_id).push(", ");
        q.push_bind(action).push(", ").push_bind(entity).push(", ").push_bind(*id).push(", ");
        q.push_bind(*details).push(", ").push_bind(changes.to_text()).push(")");
    }
    tx.execute(q).await?;
    Ok(())
}

/// One page of a list and how many rows match in all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    /// The total was counted only up to a bound (`total` rows at least): a list of millions
    /// of history entries says "more than 10,000" rather than count them on every page.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
}

impl<T> Page<T> {
    /// The same page with every item converted.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        let Page { items, total, offset, limit, capped } = self;
        Page { items: items.into_iter().map(convert).collect(), total, offset, limit, capped }
    }
}

/// Paging asked for by a list screen; bounded so that no request loads a whole table. `offset`
/// is the page's place in the list; a screen moving to the next or previous page also names the
/// edge row it shows (`after` its last row, `before` its first), and `last` asks for the last.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(default)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub last: bool,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { offset: 0, limit: 50, after: None, before: None, last: false }
    }
}

impl PageRequest {
    pub const MAX_LIMIT: i64 = 500;

    pub fn new(offset: i64, limit: i64) -> Self {
        Self { offset, limit, ..Self::default() }
    }

    /// The page after row `id` (the last one shown), at `offset`.
    pub fn after(self, id: i64) -> Self {
        Self { after: Some(id), before: None, ..self }
    }

    /// The page before row `id` (the first one shown), at `offset`.
    pub fn before(self, id: i64) -> Self {
        Self { before: Some(id), after: None, ..self }
    }

    /// The last page of `limit` rows.
    pub fn last(limit: i64) -> Self {
        Self { last: true, ..Self::new(0, limit) }
    }

    /// Offset and limit clamped to sane bounds.
    pub fn clamped(self) -> (i64, i64) {
        (self.offset.max(0), self.limit.clamp(1, Self::MAX_LIMIT))
    }

    /// Appends ` limit $n offset $m`.
    pub(crate) fn push_to(self, query: &mut Query) {
        let (offset, limit) = self.clamped();
        query.push(" limit ").push_bind(limit).push(" offset ").push_bind(offset);
    }

    pub(crate) fn page<T>(self, items: Vec<T>, total: i64) -> Page<T> {
        let (offset, limit) = self.clamped();
        Page { items, total, offset, limit, capped: false }
    }
}

/// Sort direction of a list column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    #[default]
    Desc,
}

impl Direction {
    pub fn sql(self) -> &'static str {
        match self {
            Self::Asc => " asc",
            Self::Desc => " desc",
        }
    }

    pub fn reversed(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::estimated_matches;

    #[test]
    fn matches_are_estimated_from_the_gaps_between_their_ids() {
        // a third of a million rows: 1,001 matches among 3,003 ids, from the start or elsewhere
        let dense: Vec<i64> = (1..=1001).map(|n| n * 3).collect();
        assert_eq!(estimated_matches(&dense, 1_000_000), 333_333);
        let later: Vec<i64> = dense.iter().map(|id| id + 121_087).collect();
        assert_eq!(estimated_matches(&later, 1_000_000), 333_333);
        // a scan round the end of the table, and rows updated since (at its end on PostgreSQL)
        let round: Vec<i64> = dense.iter().map(|&id| if id > 1500 { id - 1500 } else { 998_000 + id }).collect();
        assert!((300_000..400_000).contains(&estimated_matches(&round, 1_000_000)));
        let moved: Vec<i64> = dense.iter().map(|&id| if id % 30 == 0 { 990_000 + id } else { id }).collect();
        // (the stretch less its gap: up to half too small, which still reads as dense)
        assert!((150_000..450_000).contains(&estimated_matches(&moved, 1_000_000)));
        // matches all along the table: about as many as were found
        let sparse: Vec<i64> = (1..=1001).map(|n| n * 999).collect();
        assert!((1_001..1_120).contains(&estimated_matches(&sparse, 1_000_000)));
        assert_eq!(estimated_matches(&[], 10), 0);
        assert_eq!(estimated_matches(&[7], 10), 1);
        assert_eq!(estimated_matches(&[3, 3], 10), 10);
    }

    #[test]
    fn runs_of_consecutive_matches_all_along_the_table_are_as_many_as_found() {
        let runs: Vec<i64> = (0..1001).map(|n| (n / 20) * 19_600 + n % 20 + 1).collect();
        assert!((1_001..1_100).contains(&estimated_matches(&runs, 1_000_000)));
        // and in one stretch of the table, dense
        let early: Vec<i64> = (0..1001).map(|n| (n / 20) * 60 + n % 20 + 1).collect();
        assert!(estimated_matches(&early, 1_000_000) > 300_000);
    }
}
