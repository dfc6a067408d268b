//! What the search box of a list of people (leads, clients) means. A whole phone number or e-mail
//! address is looked up exactly (for leads through the unique indexes on live leads: instant at
//! a million leads). Part of a phone number matches the stored phones, in national form too.
//! Anything else of three characters or more is a case-insensitive substring of name, phone
//! digits and e-mail, which trigram indexes serve; one or two characters are the start of the
//! name (a substring that short is in most names, and no index serves it: a rarer one, or one
//! whose names sit late in the alphabet, took 0.3 s at a million leads).

use phonenumber::country::Id as Country;

use crate::app::{ListQuery, PastBound, Probe, Route};
use crate::db::{Backend, Query, Tx};
use crate::domain::{contact, text};
use crate::error::Result;
use crate::leads::LeadStatus;
use crate::permission::Actor;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Search {
    /// A complete number, as stored (E.164).
    Phone(String),
    /// A complete address, as stored (lower case).
    Email(String),
    /// LIKE patterns over the stored phone for part of a number.
    PhoneDigits(Vec<String>),
    /// A LIKE pattern over the `search` column.
    Text(String),
    /// The start of the `search` column (lower case), which starts with the name: one range of
    /// the index of names.
    Prefix(String),
}

/// Fewest digits that make a search look for phones rather than text.
const MIN_PHONE_DIGITS: usize = 3;

impl Search {
    /// A substring of the search text, whatever it looks like: the search box of a list whose
    /// text holds no phone or e-mail (contracts: their name and their client's).
    pub(crate) fn substring(input: &str) -> Option<Self> {
        (!text::fold_search(input).is_empty()).then(|| Self::Text(text::like_pattern(input)))
    }

    /// Reads the search box; `None` when it is empty.
    pub(crate) fn parse(input: &str, region: Country) -> Option<Self> {
        let folded = text::fold_search(input);
        let input = folded.as_str();
        if input.is_empty() {
            return None;
        }
        let phone_like = input.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if phone_like && digits.len() >= MIN_PHONE_DIGITS {
            return Some(match contact::parse_phone("search", input, region) {
                Ok(phone) => Self::Phone(phone),
                Err(_) => Self::PhoneDigits(digit_patterns(input, &digits, region)),
            });
        }
        if let Ok(email) = contact::parse_email("search", input) {
            return Some(Self::Email(email));
        }
        if input.chars().count() < text::MIN_SUBSTRING_CHARS {
            return Some(Self::Prefix(text::key(input)));
        }
        Some(Self::Text(text::like_pattern(input)))
    }

    /// Appends ` and ...` on `alias`, a row of `table` (`leads` or `clients`: both have `id`,
    /// `phone`, `email` and `search`). On SQLite substring matches are a subquery: the planner
    /// then finds the matches first and sorts only those, where a plain condition made it walk
    /// the whole date index testing row after row (2 s instead of 0.3 s at a million leads); of
    /// three characters or more, the table's trigram index (`{table}_search`, leads and clients)
    /// names them. On PostgreSQL the condition is on the row, where the planner combines pg_trgm's
    /// index with the list's other conditions.
    pub(crate) fn push_condition(&self, q: &mut Query, backend: Backend, table: &'static str, alias: &'static str) {
        match self {
            Self::Phone(phone) => {
                q.push(&format!(" and {alias}.phone = ")).push_bind(phone.as_str());
            }
            Self::Email(email) => {
                q.push(&format!(" and {alias}.email = ")).push_bind(email.as_str());
            }
            Self::PhoneDigits(patterns) if matches!(table, "leads" | "clients") => {
                // The phone's digits are part of the search text, whose trigram index names the
                // candidates (SQLite's FTS5 table takes one `like` a select; PostgreSQL combines
                // its GIN index over an `or` on the row itself); the stored phone is then
                // checked as before.
                if let Some(candidates) = self.trigram_candidates(backend, table, None) {
                    q.push(&format!(" and {alias}.id in (")).append(candidates).push(")");
                } else {
                    push_holds(q, backend, table, alias, patterns, false);
                }
                push_like_any(q, &format!("{alias}.phone"), patterns);
            }
            Self::PhoneDigits(patterns) => {
                q.push(&format!(" and {alias}.id in (select s.id from {table} s where 1 = 1"));
                push_like_any(q, "s.phone", patterns);
                q.push(")");
            }
            Self::Text(pattern) if matches!(table, "leads" | "clients" | "contracts") && backend == Backend::Sqlite => {
                // the trigram index names the candidates (migrations/sqlite/0016); the same
                // `like` on each keeps the answer exactly what a scan would give
                match self.trigram_candidates(backend, table, None) {
                    Some(candidates) => {
                        q.push(&format!(" and {alias}.id in (")).append(candidates).push(")");
                        push_like(q, alias, pattern);
                    }
                    None => push_scanned(q, table, alias, pattern),
                }
            }
            Self::Text(pattern)
                if backend == Backend::Postgres && matches!(table, "leads" | "clients" | "contracts") =>
            {
                // pg_trgm's index serves this (migrations/postgres/0016, 0026, 0030), on the row itself
                push_holds(q, backend, table, alias, std::slice::from_ref(pattern), true);
            }
            Self::Text(pattern) => push_scanned(q, table, alias, pattern),
            Self::Prefix(needle) => {
                q.push(" and ");
                push_prefix(q, alias, needle);
            }
        }
    }
}

/// A substring search counts its matches up to this many, then says "more than": a common
/// surname matches thousands of a million leads, and counting them all cost more than the page.
pub const SEARCH_COUNT_BOUND: i64 = 1_000;

impl Search {
    /// Whether the search is part of the search text or of the phones, which may match a great
    /// many rows (a whole phone or e-mail matches one). Part of a phone matched thousands too:
    /// three digits of an operator's code, `(912)`, 15,490 of a million leads, all counted (75 ms
    /// in the window), where a name was counted to the bound.
    pub(crate) fn is_substring(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Prefix(_) | Self::PhoneDigits(_))
    }

    /// Appends the condition as a test of each row (` and {alias}.search like ...`; leads on
    /// PostgreSQL: [`push_contains`]; part of a phone: the stored phone's `like`), without the
    /// trigram index's candidates: for reading along the sort's index when matches are dense.
    /// Other searches as [`Search::push_condition`].
    pub(crate) fn push_on_row(&self, q: &mut Query, backend: Backend, table: &'static str, alias: &'static str) {
        match self {
            // (on PostgreSQL not as [`push_holds`]: its `or` costs twice the `like` on each
            // row, 74 instead of 41 ms for a fragment a third of a million names hold)
            Self::Text(pattern) if backend == Backend::Postgres && table == "leads" => {
                push_contains(q, alias, &needle_of(pattern));
            }
            Self::Text(pattern) => push_like(q, alias, pattern),
            // (not the trigram index's candidates, which SQLite's planner read all and sorted:
            // three digits of an operator's code, 17,898 candidates, 21 ms a page)
            Self::PhoneDigits(patterns) if matches!(table, "leads" | "clients") => {
                // SQLite's leads: the search text's test first, which holds the phone's digits:
                // the index a status's walk reads holds that text (migration 0033), and SQLite
                // tests it there before it reads the row, which then only a match needs (a
                // column of the board walked for three digits of a phone: 1.6-4.7 ms a page,
                // now 0.1-0.3)
                if backend == Backend::Sqlite && table == "leads" {
                    push_like_any(q, &format!("{alias}.search"), patterns);
                }
                push_like_any(q, &format!("{alias}.phone"), patterns);
            }
            // (not the range, which the planner would read instead of the sort's index)
            Self::Prefix(needle) => {
                q.push(" and ");
                push_leading(q, alias, needle);
            }
            _ => self.push_condition(q, backend, table, alias),
        }
    }

    /// The ids the trigram index names for this search (`select rowid as id from
    /// {table}_search where ...`), where SQLite's index serves it. Part of a phone in a list of
    /// the live leads of one `status` (the board's columns) asks the index of the text past its
    /// first character, which codes each lead's status (migration 0035): that status's leads
    /// alone, where each of all the candidates was read for its status (three digits of an
    /// operator's code: 17,898 candidates for the 693 new leads among them).
    fn trigram_candidates(&self, backend: Backend, table: &'static str, status: Option<LeadStatus>) -> Option<Query> {
        let (index, query) = match self {
            Self::Text(pattern) if backend == Backend::Sqlite && trigram_ready(pattern) => {
                (format!("{table}_search"), trigram_query(pattern))
            }
            Self::PhoneDigits(patterns) if backend == Backend::Sqlite && matches!(table, "leads" | "clients") => {
                match (table, status) {
                    ("leads", Some(status)) => (
                        "leads_search_tail".to_owned(),
                        format!("({}) AND \"{}\"", trigrams_of_any(patterns), status_trigram(status)),
                    ),
                    _ => (format!("{table}_search"), trigrams_of_any(patterns)),
                }
            }
            _ => return None,
        };
        let mut q = Query::new(format!("select rowid as id from {index} where {index} match "));
        q.push_bind(query);
        Some(q)
    }

    /// `list` searched for this substring: its matching ids read no further than one past
    /// [`SEARCH_COUNT_BOUND`] (their number is the total, or "more than"; fewer, they are the
    /// list), from the rows of `table` `alias` that `on_row` keeps (the list's conditions, the
    /// search as [`Search::push_on_row`]). On SQLite the trigram index's candidates drive that
    /// look-up (FTS5 yields them one by one, in id order, so it stops at the bound: 6 ms for a
    /// surname a million leads hold 12,659 times, where all the candidates cost 54 ms).
    ///
    /// Past the bound, a list sorted in the table's own order (by creation) walks its sort's
    /// index testing each row where the matches are dense, else sorts them. Other sorts
    /// depend on how many rows match (see [`PastBound::ByDensity`]): a surname's matches sit
    /// together in the index of names, so walking it to them reads most of the table, while a
    /// fragment most names hold is found within a few rows of any start. Few enough to read,
    /// a list sorted by its search text reads them in two parts (see [`Search::split`]); others
    /// read every match and sort them.
    pub(crate) fn bounded_list(
        &self,
        list: ListQuery,
        backend: Backend,
        (table, alias): (&'static str, &'static str),
        on_row: Query,
        sorted: SearchedSort,
    ) -> ListQuery {
        self.bounded(list, backend, (table, alias), on_row, None, sorted)
    }

    /// [`Search::bounded_list`] of the leads, whose matching ids are read in two parts (see
    /// [`Search::split_ids`]) from the list's other conditions; on PostgreSQL a list of one
    /// status in the table's order, as dense the matches are (see [`Search::status_routes`]).
    pub(crate) fn bounded_leads_list(
        &self,
        list: ListQuery,
        backend: Backend,
        on_row: Query,
        others: LeadConditions,
        sorted: SearchedSort,
    ) -> ListQuery {
        if let (Backend::Postgres, SearchedSort::TableOrder, Some(status), true) =
            (backend, sorted, others.status, others.status_alone)
        {
            if let Some(routed) = self.status_routes(&list, status, &on_row) {
                return routed;
            }
            if let Self::PhoneDigits(patterns) = self {
                return status_phone_list(list, status, patterns, on_row);
            }
        }
        if let (SearchedSort::TableOrder, true) = (sorted, others.narrowed) {
            if let Some(routed) = self.narrowed_routes(&list, backend, &others.filters, &on_row) {
                return routed;
            }
        }
        if let (Backend::Sqlite, SearchedSort::TableOrder, Some(status), true) =
            (backend, sorted, others.status, others.status_alone)
        {
            if let Some(ids) = self.status_phrase_ids(status) {
                return list.clone().searched(ids, PastBound::List(Box::new(list.with_clause(on_row))));
            }
        }
        self.bounded(list, backend, ("leads", "l"), on_row, Some(others), sorted)
    }

    /// SQLite: the ids of the live leads of `status` that hold the search, up to one past
    /// [`SEARCH_COUNT_BOUND`], from two indexes without reading a row: those holding it past
    /// their first character are a phrase of the trigram index of that part, which keeps each
    /// trigram's position and each lead's status (archived leads coded apart: migration
    /// 0035); those starting with it are one range of the index of names, which holds the
    /// status (0031). A lead in both parts counts once; each part stops one past the bound,
    /// so their union holds as many ids as the list up to the bound. Each of the index's
    /// candidates was read to test its text and whether it was archived: a first name's board
    /// at a million leads read 977 new leads and 1,001 of each other status, 27 ms of SQLite's
    /// time for the four columns (sqlite3, warm), now 14.
    ///
    /// `None` where a phrase would not be exact or cheap: a search the trigram index cannot
    /// serve, longer than [`PHRASE_CHARS`], or holding one of the index's private-use codes.
    fn status_phrase_ids(&self, status: LeadStatus) -> Option<Query> {
        let Self::Text(pattern) = self else { return None };
        let needle = needle_of(pattern);
        let coded = needle.chars().any(|c| ('\u{e000}'..='\u{e0ff}').contains(&c));
        if !trigram_ready(pattern) || needle.chars().count() > PHRASE_CHARS || coded {
            return None;
        }
        let above = prefix_bound(&needle)?;
        let bound = SEARCH_COUNT_BOUND + 1;
        let phrase = format!("\"{}\" AND \"{}\"", needle.replace('"', "\"\""), status_trigram(status));
        let mut q =
            Query::new("select id from (select rowid as id from leads_search_tail where leads_search_tail match ");
        q.push_bind(phrase).push(" limit ").push_bind(bound);
        q.push(") union select id from (select l.id from leads l indexed by leads_name where l.is_archived = false");
        q.push(" and l.status = ").push_bind(status.code()).push(" and ");
        push_starts_with(&mut q, "l", &needle, &above);
        q.push(" limit ").push_bind(bound).push(") limit ").push_bind(bound);
        Some(q)
    }

    fn bounded(
        &self,
        list: ListQuery,
        backend: Backend,
        (table, alias): (&'static str, &'static str),
        on_row: Query,
        conditions: Option<LeadConditions>,
        sorted: SearchedSort,
    ) -> ListQuery {
        if let Self::Prefix(needle) = self {
            return prefix_list(list, backend, (table, alias), on_row, sorted, needle);
        }
        let status = conditions.as_ref().and_then(|c| c.status);
        let filters = conditions.as_ref().map(|c| c.filters.clone());
        let split = conditions.and_then(|c| self.split_ids(backend, (table, alias), c.filters, c.status));
        let in_two_parts = split.is_some();
        let candidates = self.trigram_candidates(backend, table, status);
        let mut ids = match (split, candidates.clone()) {
            (Some(split), _) => split,
            (None, Some(candidates)) => {
                let mut q = Query::new("select s.id from (");
                q.append(candidates).push(&format!(") s cross join {table} {alias}"));
                q.append(on_row.clone()).push(&format!(" and {alias}.id = s.id"));
                q
            }
            // PostgreSQL: the list's own conditions, whose search its trigram index serves
            (None, None) if backend == Backend::Postgres => {
                list.clause.clone().prefixed(&format!("select {alias}.id from {table} {alias}"))
            }
            (None, None) => on_row.clone().prefixed(&format!("select {alias}.id from {table} {alias}")),
        };
        ids.push(" limit ").push_bind(SEARCH_COUNT_BOUND + 1);
        let past = match (sorted, backend) {
            // walking the date index testing the `like` on each row finds a surname's page in
            // 7.5 ms where PostgreSQL's planner, given the list's own conditions, may read and
            // sort all 12,659 (25-37 ms); sparser matches are read and sorted (a walk reads
            // about 50 rows for each match a page needs: as many as the matches at 7,000). On
            // SQLite too since stop 43: it walked whatever the density, and a search with a
            // little over 1,000 matches ("смирнова е", 1,061; "8 912 3", 1,002) read 50,000 rows
            // for its first page (115-230 ms), where the trigram index's candidates, sorted, take
            // 6-28. Ids read in two parts (SQLite) come partly in name order, which tells
            // nothing of their density: a list of one status walks, as before; others count the
            // trigram index's candidates, the index alone (2-13 ms), to 5,000 or more.
            (SearchedSort::TableOrder, _) => match (in_two_parts, status, candidates) {
                (true, Some(_), _) => PastBound::List(Box::new(list.with_clause(on_row))),
                (true, None, Some(candidates)) => {
                    let in_parts = filters.and_then(|filters| self.sorted_in_parts(&list, &filters, &on_row));
                    let (count, sorted) = match in_parts {
                        Some((count, sorted)) => (count, sorted),
                        None => {
                            let mut count = Query::new("select count(*) from (");
                            count.append(candidates).push(" limit ").push_bind(DATE_SORTED_MATCHES + 1).push(") s");
                            (count, list.clone())
                        }
                    };
                    PastBound::ByCount {
                        count,
                        walk: Box::new(list.with_clause(on_row)),
                        sorted: Box::new(sorted),
                        most: DATE_SORTED_MATCHES,
                    }
                }
                // part of a phone among one status's live leads (SQLite: the board's columns):
                // past the bound, one in a few hundred of the status's leads holds it, and the
                // walk tests the search text in the status's index (migration 0033) before it
                // reads a row (a column's page: 0.1-0.3 ms). Sorting the status's candidates
                // read each of them (2,000-4,000 for three digits of an operator's code: 13-25
                // ms a column, the board's four at once).
                (false, Some(_), Some(_)) => PastBound::List(Box::new(list.with_clause(on_row))),
                _ => PastBound::ByDensity {
                    last_id: Query::new(format!("select max(id) from {table}")),
                    walk: on_row,
                    sorted: Box::new(list.clone()),
                    most: DATE_SORTED_MATCHES,
                    probe: None,
                },
            },
            (SearchedSort::BySearchText | SearchedSort::Other, _) => {
                let split = match sorted {
                    SearchedSort::BySearchText => self.split(&list, backend, (table, alias), &on_row),
                    _ => None,
                };
                // SQLite sorts the trigram index's candidates (the list's own clause); PostgreSQL
                // is told to find the matches first (its planner would walk the names)
                let read_sorted = split.unwrap_or_else(|| match backend {
                    Backend::Sqlite => list.clone(),
                    Backend::Postgres => list.fenced(table, alias, on_row.clone()),
                });
                let last_id = Query::new(format!("select max(id) from {table}"));
                let probe = match (self, sorted, list.direction()) {
                    (Self::Text(pattern), SearchedSort::BySearchText, Some(direction)) => Some(Probe {
                        starting: starting_count((table, alias), &needle_of(pattern), SEARCH_COUNT_BOUND),
                        spread: spread_probe((table, alias), backend, pattern, direction),
                        enough: SPREAD_MATCHES,
                        cluster: (backend == Backend::Sqlite && table == "leads" && trigram_ready(pattern))
                            .then(|| Cluster { pattern: pattern.clone() }),
                    }),
                    _ => None,
                };
                // sorted by anything else (clients by revenue), matches lie all along it: a walk
                // reads about 50 rows for each match a page needs, as many as the matches at 7,000
                let most = if sorted == SearchedSort::Other { DATE_SORTED_MATCHES } else { SORTED_MATCHES };
                PastBound::ByDensity { last_id, walk: on_row, sorted: Box::new(read_sorted), most, probe }
            }
        };
        list.searched(ids, past)
    }

    /// The ids of the rows of `table` `alias` (leads, on SQLite) that `filters` keep and that
    /// hold the search: first those holding it past their first character, which the trigram
    /// index of that part names in id order, then those starting with it, one range of the
    /// index of names, which holds the status too (migration 0031): a list or the board's
    /// column filtered by status counts a surname's matches without reading a row, where each
    /// of the trigram index's candidates was read for its status (12,509 of "смирнова" for the
    /// 559 new ones: 38 -> 4 ms). Those past the start come first: their ids, in the table's
    /// order, tell how dense the matches are (see [`PastBound::ByDensity`]). That trigram
    /// index holds each lead's status too (migration 0032): with a `status`, it names only that
    /// status's leads (a first name's 20,736 candidates for the board's 977 new ones: 50 -> 10
    /// ms).
    ///
    /// `None` elsewhere. (Not on PostgreSQL: its planner built the whole bitmap of the second
    /// part's trigram index for a fragment a third of the names hold, 89 ms, where it scanned
    /// the table for the first 1,001 matches in 5; and the range's ids, in name order, would no
    /// longer tell it how dense the matches are.)
    fn split_ids(
        &self,
        backend: Backend,
        (table, alias): (&'static str, &'static str),
        filters: Query,
        status: Option<LeadStatus>,
    ) -> Option<Query> {
        let Self::Text(pattern) = self else { return None };
        if backend != Backend::Sqlite || table != "leads" || !trigram_ready(pattern) {
            return None;
        }
        let needle = needle_of(pattern);
        let above = prefix_bound(&needle)?;
        let mut trigrams = trigram_query(pattern);
        if let Some(status) = status {
            trigrams.push_str(&format!(" AND \"{}\"", status_trigram(status)));
        }
        let mut q = tail_ids(filters.clone(), trigrams, pattern);
        q.push(" and not (");
        push_starts_with(&mut q, alias, &needle, &above);
        q.push(") union all ").append(starting_ids(backend, filters, &needle, &above));
        Some(q)
    }

    /// SQLite: `list` (the leads `filters`, ` where ...`, keep, in the table's order: by date or
    /// status) searched, read as the union of the two parts no match is in both of, each a page
    /// by key (see [`ListQuery::union`]), and a count of them up to one past
    /// [`DATE_SORTED_MATCHES`] that reads no row. Those starting with the search are one range
    /// of the index of names, which holds the dates, the status, the campaign and the owner too
    /// (migration 0038): their page is sorted from the index alone. Those holding it past their
    /// first character are what the trigram index of that part names (each read and tested:
    /// few, where most matches start with the search, as a name's do). Read as one list, each
    /// match was read from the table and sorted (a little over 1,000 of a surname and an
    /// initial, "смирнова е", at a million leads: 8-12 ms), after counting the whole text's
    /// trigram index (5-9 ms: its trigrams of the surname name every Smirnova). The count is
    /// the range's (exact) and the second index's candidates (untested): at most one past the
    /// bound each, no fewer than the matches. `None` where the search is not a substring that
    /// index serves.
    fn sorted_in_parts(&self, list: &ListQuery, filters: &Query, on_row: &Query) -> Option<(Query, ListQuery)> {
        let (starting, further) = self.two_clauses(Backend::Sqlite, "l", on_row)?;
        let Self::Text(pattern) = self else { return None };
        let needle = needle_of(pattern);
        let above = prefix_bound(&needle)?;
        let mut count = Query::new("select (select count(*) from (");
        count.append(starting_ids(Backend::Sqlite, filters.clone(), &needle, &above));
        count.push(" limit ").push_bind(DATE_SORTED_MATCHES + 1);
        count.push(") s) + (select count(*) from (select rowid from leads_search_tail where leads_search_tail match ");
        count.push_bind(trigram_query(pattern)).push(" limit ").push_bind(DATE_SORTED_MATCHES + 1).push(") s)");
        // each part's clause names how its rows are read (both follow `from leads l` in every
        // statement of a list that is a union: see ListQuery::union): the range through the
        // index of names; the rest by id from the trigram index, never along the date index
        // the order would tempt the planner to walk (reading every row, as few match)
        let mut ranged = Query::new(" indexed by leads_name");
        ranged.append(starting);
        let mut named = Query::new(" not indexed");
        named.append(further);
        Some((count, list.union(ranged, named)))
    }

    /// PostgreSQL: `list`, the live leads of one `status` (nothing else asked besides the
    /// search) in the table's order (the board's columns), read as dense the matches are among
    /// the leads a walk of the list reads first: a probe counts them among the first
    /// [`PROBE_ROWS`] (the index of a status's leads with their text, migration 0034: index
    /// only, under a millisecond at a million leads). Its planner cannot tell: it built the
    /// trigram index's bitmap of a fragment's 74,828 lost leads for the first 1,001 (30-45
    /// ms), and read a surname's 12,509 rows for the status of the 559 new ones (20-30 ms).
    ///
    /// One in [`DENSE_PROBED`] or more: the ids and the pages come from that walk (a fragment
    /// a third of the names hold: its first 1,001 lost leads in 3 ms), unless those starting
    /// with the search are past the bound alone (one range of the index of names, which holds
    /// the status: 0031), which the count of that range tells without the walk. Sparser: the
    /// ids in two parts, those starting with it (that range), then those holding it past
    /// their first character, from the status's own partial trigram index (0036; 0034 keyed
    /// one index by status: a first name's 977 new leads, where its 20,736 candidates had
    /// each been read for their status); past the bound, the pages are walked where one in
    /// [`WALKED_PROBED`] matched (a page within a few thousand leads), else the matches are
    /// read and sorted. `None` where the search is not a substring the trigram index serves.
    fn status_routes(&self, list: &ListQuery, status: LeadStatus, on_row: &Query) -> Option<ListQuery> {
        let code = status.code();
        let mut own = Query::new(" where l.is_archived = false and l.status = ");
        own.push_bind(code);
        // (the status written as the predicate of its partial trigram index, migration 0036:
        // a literal, one of four codes, which a generic plan can prove where a bound one could
        // not; and `|| ''`, which no btree index of the status serves: given `status = ...`,
        // the planner walked a status's leads for a match it expected rare)
        let further = Query::new(format!(" where l.is_archived = false and l.status || '' = '{code}'"));
        let parts = self.parts(Backend::Postgres, own.clone(), further)?;
        let probe = parts.probe(list, &own, PROBE_ROWS);
        let walk = || PastBound::List(Box::new(list.with_clause(on_row.clone())));
        let mut every = Query::new(" where l.id in (");
        every.append(parts.split.clone()).push(")");
        let sorted = PastBound::List(Box::new(list.with_clause(every)));
        Some(list.clone().routed(
            probe,
            vec![
                (DENSE_PROBED, Route { ids: walked_ids(list, on_row), past: walk(), enough: None }),
                (WALKED_PROBED, Route { ids: parts.ids(), past: walk(), enough: None }),
            ],
            Route { ids: parts.ids(), past: sorted, enough: None },
        ))
    }

    /// `list`, narrower than a status (created within dates, one campaign, one owner;
    /// `filters`: its conditions besides the search) in the table's order, read as dense the
    /// matches are among the first [`NARROWED_PROBE_ROWS`] rows of the list's own order (the
    /// index of dates, of a campaign's or an owner's dates; each row read). One in
    /// [`NARROWED_DENSE`] or more: the pages are walked, and past the bound alone or not, the
    /// matches starting with the search (one range of the index of names, which holds the
    /// filters: migrations/sqlite/0038, postgres/0044; read alone) are counted before the
    /// list walks for its first 1,001. Sparser: the matches in two parts, those starting with
    /// the search (that range) and those holding it past their first character (the trigram
    /// index of that part, beside the list's filters); past the bound, PostgreSQL walks the
    /// pages where one in [`NARROWED_WALKED`] matched, else the matches are counted up to
    /// [`DATE_SORTED_MATCHES`]: no more, they are read and sorted, else the pages are walked.
    ///
    /// The two parts alone read a patronymic's tail ("иванов": 58,834 candidates) where the
    /// month's first rows hold a page: a month searched by it took 150-280 ms at a million
    /// leads on SQLite (counting the matches to 5,001 to choose), and PostgreSQL's planner,
    /// given the list's own conditions, read each of a surname's 12,509 leads for its date,
    /// twice (the count to the bound, then the page: 28-31 ms).
    fn narrowed_routes(
        &self,
        list: &ListQuery,
        backend: Backend,
        filters: &Query,
        on_row: &Query,
    ) -> Option<ListQuery> {
        let parts = self.parts(backend, filters.clone(), filters.clone())?;
        let probe = parts.probe(list, filters, NARROWED_PROBE_ROWS);
        let walk = Box::new(list.with_clause(on_row.clone()));
        let mut count = Query::new("select count(*) from (");
        count.append(parts.split.clone()).push(" limit ").push_bind(DATE_SORTED_MATCHES + 1).push(") s");
        // SQLite reads the page from the two parts by key (see Search::sorted_in_parts), each
        // match of the range from the index of names, where it read each match's row to sort
        // them; its count stays that of the list's matches (the candidates of every lead would
        // tell little of a month's)
        let sorted = match backend {
            Backend::Sqlite => self.sorted_in_parts(list, filters, on_row).map(|(_, sorted)| sorted),
            Backend::Postgres => None,
        };
        let sorted = sorted.unwrap_or_else(|| {
            let mut every = filters.clone();
            every.push(" and l.id in (").append(parts.split.clone()).push(")");
            list.with_clause(every)
        });
        let past =
            PastBound::ByCount { count, walk: walk.clone(), sorted: Box::new(sorted), most: DATE_SORTED_MATCHES };
        let sparse = Route { ids: parts.ids(), past, enough: None };
        let mut routes = vec![(
            NARROWED_DENSE,
            Route {
                ids: walked_ids(list, on_row),
                past: PastBound::List(walk.clone()),
                enough: Some(parts.starting_count.clone()),
            },
        )];
        // PostgreSQL walks sparser matches too: its rows lie in the order of their creation, so
        // a walk of the dates reads neighbours, where the matches read by id lie all over (a
        // month's 1,175 "смирнова": 11-16 ms by id, 5 walking 4,000 rows); SQLite read each
        // row of the walk apart (15-23 ms), and sorts them (6-8)
        if backend == Backend::Postgres {
            routes.push((NARROWED_WALKED, Route { ids: parts.ids(), past: PastBound::List(walk), enough: None }));
        }
        Some(list.clone().routed(probe, routes, sparse))
    }

    /// The matches of this search in two parts (see [`Parts`]), among the rows `starting` (`
    /// where ...`) keeps and, past their first character, among those `further` keeps. `None`
    /// where the search is not a substring the trigram index serves.
    fn parts(&self, backend: Backend, starting: Query, further: Query) -> Option<Parts> {
        let Self::Text(pattern) = self else { return None };
        if !trigram_ready(pattern) {
            return None;
        }
        let needle = needle_of(pattern);
        let above = prefix_bound(&needle)?;
        let mut split = starting_ids(backend, starting, &needle, &above);
        let mut starting_count = split.clone().prefixed("select count(*) from (");
        starting_count.push(" limit ").push_bind(SEARCH_COUNT_BOUND + 1).push(") s");
        split.push(" union all ");
        match backend {
            Backend::Sqlite => {
                split.append(tail_ids(further, trigram_query(pattern), pattern));
            }
            Backend::Postgres => {
                split.append(further.prefixed("select l.id from leads l"));
                split.push(" and substr(l.search, 2) like ").push_bind(pattern.as_str()).push(" escape '\\'");
            }
        }
        split.push(" and not (");
        push_starts_with(&mut split, "l", &needle, &above);
        split.push(")");
        Some(Parts { backend, pattern: pattern.clone(), split, starting_count })
    }

    /// `list`, sorted by the search text of `table` (leads: it starts with the lower-cased
    /// name), as the union of two parts that no row is in both of: the rows whose text starts
    /// with the needle, one range of the sort's index read in its order (the index holds the
    /// text, so its `like` needs no row), and the rows that hold the needle further on, which
    /// the trigram index of the text without its first character names (migration 0026: a
    /// match at the very start leaves no trigram of it there). A surname's 12,659 matches at a
    /// million leads all start their text: the page is read from the range, and the second
    /// index names none (each match read and sorted: 27-58 ms). `None` where that index is
    /// missing or cannot serve the needle.
    fn split(
        &self,
        list: &ListQuery,
        backend: Backend,
        (table, alias): (&str, &str),
        on_row: &Query,
    ) -> Option<ListQuery> {
        if table != "leads" {
            return None;
        }
        let (starting, further) = self.two_clauses(backend, alias, on_row)?;
        Some(match backend {
            Backend::Sqlite => list.union(starting, further),
            // (its planner walks the names for the second part: see ListQuery::union_fenced)
            Backend::Postgres => list.union_fenced(starting, further),
        })
    }

    /// The clauses of the two parts of a list of leads (`on_row`: its conditions, this search
    /// tested on each row) that no row is in both of: the rows whose text starts with the
    /// needle, one range of the index of names, and those holding it further on, which the
    /// trigram index of the text past its first character names (PostgreSQL: serves the
    /// `like`). `None` where the search is not a substring that index serves.
    fn two_clauses(&self, backend: Backend, alias: &str, on_row: &Query) -> Option<(Query, Query)> {
        let Self::Text(pattern) = self else { return None };
        if !trigram_ready(pattern) {
            return None;
        }
        let needle = needle_of(pattern);
        let above = prefix_bound(&needle)?;
        let mut starting = on_row.clone();
        starting.push(" and ");
        push_starts_with(&mut starting, alias, &needle, &above);
        let mut further = on_row.clone();
        match backend {
            Backend::Sqlite => {
                further.push(&format!(
                    " and {alias}.id in (select rowid from leads_search_tail where leads_search_tail match "
                ));
                further.push_bind(trigram_query(pattern)).push(")");
            }
            // pg_trgm's index of the expression serves this `like` (or, without pg_trgm, a scan)
            Backend::Postgres => {
                further.push(&format!(" and substr({alias}.search, 2) like ")).push_bind(pattern.as_str());
                further.push(" escape '\\'");
            }
        }
        further.push(" and not (");
        push_starts_with(&mut further, alias, &needle, &above);
        further.push(")");
        Some((starting, further))
    }
}

/// `list` searched for the start of the name ([`Search::Prefix`]), all of whose matches are one
/// range of the index of names: its first 1,001 ids read from there. Past the bound, a list
/// sorted by name reads its pages from the range, in its order. Others count the live rows of
/// the range up to [`DATE_SORTED_MATCHES`], the index alone whatever else the list asks: more,
/// they are dense enough in any order for the list to walk its sort's index testing each row
/// (`on_row`: a page within a few thousand rows); fewer, the list reads the range and sorts
/// it. (Counted with the list's status, one letter's 125,000 names were read for the board's
/// 5,600 new ones: 27 ms.)
///
/// On SQLite leads read the range through the index named (`indexed by`), which holds the
/// status too: its planner otherwise chose by sampled statistics, and read the board's
/// column "in work" (62 % of the leads) along the index of statuses testing each row, where
/// the range holds the answer (two letters, the board: 1.9-3.3 s at a million leads).
fn prefix_list(
    list: ListQuery,
    backend: Backend,
    (table, alias): (&'static str, &'static str),
    on_row: Query,
    sorted: SearchedSort,
    needle: &str,
) -> ListQuery {
    let from = format!(" from {table} {alias}{}", named_index(backend, table));
    let ranged = list.counted_from(&format!("select count(*){from}"));
    let mut ids = list.clause.clone().prefixed(&format!("select {alias}.id{from}"));
    ids.push(" limit ").push_bind(SEARCH_COUNT_BOUND + 1);
    let past = match sorted {
        SearchedSort::BySearchText => PastBound::List(Box::new(ranged)),
        SearchedSort::TableOrder | SearchedSort::Other => PastBound::ByCount {
            count: starting_count((table, alias), needle, DATE_SORTED_MATCHES),
            walk: Box::new(list.with_clause(on_row)),
            sorted: Box::new(ranged),
            most: DATE_SORTED_MATCHES,
        },
    };
    // (no more matches than the bound: read by id, not through the index named)
    list.searched(ids, past)
}

/// `select l.id from leads l ...`: the leads `filters` (` where ...`) keep whose search text
/// starts with `needle` (below `above`), one range of the index of names (named on SQLite).
fn starting_ids(backend: Backend, filters: Query, needle: &str, above: &str) -> Query {
    let mut q = filters.prefixed(&format!("select l.id from leads l{}", named_index(backend, "leads")));
    q.push(" and ");
    push_starts_with(&mut q, "l", needle, above);
    q
}

/// SQLite: `select s.id ...`: the leads `filters` (` where ...`) keep that SQLite's trigram index
/// of the text past its first character names for `trigrams` (its query), tested for `pattern`.
fn tail_ids(filters: Query, trigrams: String, pattern: &str) -> Query {
    let mut q =
        Query::new("select s.id from (select rowid as id from leads_search_tail where leads_search_tail match ");
    q.push_bind(trigrams).push(") s cross join leads l");
    q.append(filters).push(" and l.id = s.id");
    push_like(&mut q, "l", pattern);
    q
}

/// ` indexed by leads_name` where `table`'s rows are read by the range of its index of names
/// (SQLite's leads: migrations/sqlite/0031), for [`prefix_list`] and [`Search::split_ids`].
fn named_index(backend: Backend, table: &str) -> &'static str {
    match (backend, table) {
        (Backend::Sqlite, "leads") => " indexed by leads_name",
        _ => "",
    }
}

/// The count of the live rows of `table` whose search text starts with `needle`, up to one past
/// `most` (one range of the index of names, read alone).
fn starting_count((table, alias): (&str, &str), needle: &str, most: i64) -> Query {
    let mut q = Query::new(format!(
        "select count(*) from (select 1 from {table} {alias} where {alias}.is_archived = false and "
    ));
    push_prefix(&mut q, alias, needle);
    q.push(" limit ").push_bind(most + 1).push(") s");
    q
}

/// The count of the live rows of `table` among the first [`SPREAD_ROWS`] of the index of their
/// search text, in `direction`, that hold `pattern` (see [`PastBound::ByDensity`]).
fn spread_probe(
    (table, alias): (&str, &str),
    backend: Backend,
    pattern: &str,
    direction: crate::app::Direction,
) -> Query {
    let mut q = Query::new(format!(
        "select count(*) from (select {alias}.search from {table} {alias} where {alias}.is_archived = false
         order by {alias}.search{} limit {SPREAD_ROWS}) {alias} where 1 = 1",
        direction.sql()
    ));
    match backend {
        Backend::Sqlite => push_like(&mut q, alias, pattern),
        Backend::Postgres => push_contains(&mut q, alias, &needle_of(pattern)),
    }
    q
}

/// SQLite's leads sorted by name, searched for a substring whose matches sit together in the
/// names rather than all along them (part of an e-mail, "yakovlev": 14,972 of a million leads,
/// all Яковлев and Яковлева, at the end of the alphabet). Sorting them read every match's row
/// (45 ms on a good day); walking the index of names from where they start reads the index
/// alone, a few times faster a row, but only a proof says where that is:
/// - the names of a sample of the matches share a start, the range of the names it starts;
/// - the trigram index counts every row that may hold the search (archived too);
/// - walking that range, the index alone, finds as many rows holding it.
///
/// Then no match lies outside the range, and the list's pages are read walking it.
#[derive(Clone)]
pub(crate) struct Cluster {
    pattern: String,
}

impl Cluster {
    /// ` and ...`: the range of the names that holds every match, proven as [`Cluster`] says,
    /// from the matches `found` first; `None` where it is not proven.
    pub(crate) async fn range(&self, tx: &mut Tx, found: &[i64]) -> Result<Option<Query>> {
        let mut sample = Query::new("select min(l.search), max(l.search) from leads l where l.id in (null");
        for id in found.iter().take(CLUSTER_SAMPLE) {
            sample.push(", ").push_bind(*id);
        }
        sample.push(")");
        let (Some(low), Some(high)) = tx.fetch_one::<(Option<String>, Option<String>)>(sample).await? else {
            return Ok(None);
        };
        let start: String = low.chars().zip(high.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect();
        if start.is_empty() {
            return Ok(None);
        }
        let Some(above) = prefix_bound(&start) else { return Ok(None) };
        let mut candidates = Query::new("select count(*) from leads_search where leads_search match ");
        candidates.push_bind(trigram_query(&self.pattern));
        let candidates: i64 = tx.scalar(candidates).await?;
        // (no further than twice as many rows as the candidates: sorting them costs more a row)
        let mut held = Query::new("select count(*) from (select l.search from leads l indexed by leads_name where ");
        push_starts_with(&mut held, "l", &start, &above);
        held.push(" order by l.search limit ").push_bind(2 * candidates + CLUSTER_SLACK);
        held.push(") l where 1 = 1");
        push_like(&mut held, "l", &self.pattern);
        let held: i64 = tx.scalar(held).await?;
        tracing::debug!(start, candidates, held, "a searched list's cluster");
        // (none at all would be a trigram index out of step with the matches found)
        if held != candidates || candidates == 0 {
            return Ok(None);
        }
        let mut range = Query::new(" and ");
        push_starts_with(&mut range, "l", &start, &above);
        Ok(Some(range))
    }
}

/// How many of the first matches found [`Cluster`] reads for the start of their names.
const CLUSTER_SAMPLE: usize = 100;

/// How many rows more than twice the candidates [`Cluster`] walks at most (not all Яковлев hold
/// "yakovlev": 14,972 of the 24,957).
const CLUSTER_SLACK: i64 = 1_000;

/// How many rows from the top of a list sorted by its search text [`spread_probe`] reads (the
/// index alone: 2-4 ms at a million leads). Names sort by surname, then first name: a first
/// name's matches lie in every surname's block, the first of them 14,000 rows down.
const SPREAD_ROWS: i64 = 20_000;

/// How many of [`SPREAD_ROWS`] must match for the list to walk the index rather than sort its
/// matches.
const SPREAD_MATCHES: i64 = 25;

/// A search's matches in two parts that no row is in both of (`split`, their ids): those
/// starting with it, one range of the index of names, first (past the bound, their range alone
/// may read the first 1,001, where the trigram index would name a patronymic's tail,
/// "иванов"), then those holding it past their first character, which the trigram index of that
/// part names. `starting_count` counts the first part up to one past the bound.
struct Parts {
    backend: Backend,
    pattern: String,
    split: Query,
    starting_count: Query,
}

impl Parts {
    /// The ids of the matches, up to one past the bound.
    fn ids(&self) -> Query {
        let mut ids = self.split.clone();
        ids.push(" limit ").push_bind(SEARCH_COUNT_BOUND + 1);
        ids
    }

    /// The count of the matches among the first `rows` of `list`'s rows that `filters` keep, in
    /// its order.
    fn probe(&self, list: &ListQuery, filters: &Query, rows: i64) -> Query {
        let mut probe = filters.clone().prefixed("select count(*) from (select l.search from leads l");
        probe.push(&list.order).push(" limit ").push_bind(rows).push(") l where 1 = 1");
        match self.backend {
            Backend::Sqlite => push_like(&mut probe, "l", &self.pattern),
            Backend::Postgres => push_contains(&mut probe, "l", &needle_of(&self.pattern)),
        }
        probe
    }
}

/// The ids of `list`'s first matches, up to one past the bound, walking its order testing each
/// row (`on_row`).
fn walked_ids(list: &ListQuery, on_row: &Query) -> Query {
    let mut walked = on_row.clone().prefixed("select l.id from leads l");
    walked.push(&list.order).push(" limit ").push_bind(SEARCH_COUNT_BOUND + 1);
    walked
}

/// How many rows of a narrowed list [`Search::narrowed_routes`] probes, in the list's order
/// (each read from the table: 2,000 cost 8-12 ms on SQLite at a million leads).
const NARROWED_PROBE_ROWS: i64 = 500;

/// Matches among [`NARROWED_PROBE_ROWS`] from which a narrowed list walks (one in 20: a page
/// within about a thousand rows).
const NARROWED_DENSE: i64 = 25;

/// Matches among [`NARROWED_PROBE_ROWS`] from which a narrowed list past the bound walks on
/// PostgreSQL (one in 167: a page within about 8,000 rows).
const NARROWED_WALKED: i64 = 3;

/// How many of a status's leads [`Search::status_routes`] probes, in the list's order.
const PROBE_ROWS: i64 = 2_000;

/// Matches among [`PROBE_ROWS`] from which a status's list finds its ids by walking (one in
/// 20: the first 1,001 within 20,000 leads, index only: 8 ms at most).
const DENSE_PROBED: i64 = 100;

/// Matches among [`PROBE_ROWS`] from which a status's list past the bound walks for its pages
/// (one in 400: a page of 50 within 20,000 leads).
const WALKED_PROBED: i64 = 5;

/// The leads list's conditions besides its search, for [`Search::bounded_leads_list`].
pub(crate) struct LeadConditions {
    /// ` where ...`: the list's conditions without the search.
    pub filters: Query,
    /// The status the list keeps, if it keeps live leads only (SQLite's trigram index holds the
    /// status of live leads: migration 0035).
    pub status: Option<LeadStatus>,
    /// Whether being live and that status is all the list asks besides the search.
    pub status_alone: bool,
    /// Whether the list keeps leads created within dates, of one campaign or of one owner:
    /// fewer than a status does, so that a count of every lead's candidates tells nothing of
    /// its matches (see [`Search::narrowed_routes`]).
    pub narrowed: bool,
}

/// Most matches estimated for reading them first and sorting them (past it, the sort's index
/// is walked): 50,000 cost about four times a surname's 12,659; where 5 % of the rows or more
/// match, a page is usually found within a few thousand rows of the index (a fragment a third
/// of the names hold: 125-215 ms, where sorting its 337,525 matches would take seconds).
const SORTED_MATCHES: i64 = 50_000;

/// Most matches estimated for reading a list in the table's order by sorting them rather than
/// walking its sort's index (see [`PastBound::ByDensity`]).
const DATE_SORTED_MATCHES: i64 = 5_000;

/// How a searched list is sorted, which decides how its pages are read past the count's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchedSort {
    /// In the table's own order (by creation, or a status then creation).
    TableOrder,
    /// By the search text itself (leads and clients by name).
    BySearchText,
    /// Anything else (clients by revenue).
    Other,
}

/// The least string above every string that starts with `prefix` in code point order (as
/// SQLite and PostgreSQL's collation "C" compare): the prefix with its last character raised
/// by one ("смирнова" -> "смирновб"), past the surrogates; `None` when none is (only U+10FFFF).
fn prefix_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) {
            0xd7ff => Some('\u{e000}'),
            code => char::from_u32(code + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl crate::app::Crm {
    /// What an administrator should hear at sign-in about this database: `trigram_missing` when
    /// an office server could not get the pg_trgm extension (search scans), `trigram_ascii` when
    /// the database classifies characters as the C locale does (`LC_CTYPE` C or POSIX): pg_trgm
    /// then takes no Cyrillic letter into a trigram, and its index names every row for a search
    /// of a Russian name (0.7 s at a million leads instead of 10 ms). Nothing for others.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn server_notices(&self, actor: &Actor) -> crate::error::Result<Vec<&'static str>> {
        if !actor.can(crate::permission::Permission::UsersManage) {
            return Ok(Vec::new());
        }
        database_notices(&actor.db).await
    }

    /// What [`Crm::server_notices`] tells administrators, for whoever opened this database
    /// (`crm migrate` prints it to the owner, before the office has data to move).
    pub async fn database_notices(&self) -> crate::error::Result<Vec<&'static str>> {
        database_notices(&self.db).await
    }
}

/// The notices of [`crate::app::Crm::server_notices`] for the database behind `db`.
async fn database_notices(db: &crate::db::Db) -> crate::error::Result<Vec<&'static str>> {
    if db.backend() == Backend::Sqlite {
        return Ok(Vec::new());
    }
    let (ready, ascii): (bool, bool) = crate::db::reading!(db, |tx| {
        let ready = tx.scalar(Query::new("select trigram_search from office")).await?;
        let ascii = tx
            .scalar(Query::new("select datctype in ('C', 'POSIX') from pg_database where datname = current_database()"))
            .await?;
        Ok((ready, ascii))
    })?;
    Ok(match (ready, ascii) {
        (false, _) => vec!["trigram_missing"],
        (true, true) => vec!["trigram_ascii"],
        (true, false) => Vec::new(),
    })
}

impl crate::app::Crm {
    /// Creates the trigram indexes of search on an office server (the owner's login: `crm
    /// office search-indexes`); whether search now reads them. A local file always has them.
    pub async fn enable_trigram_search(&self) -> crate::error::Result<bool> {
        if self.db.backend() == Backend::Sqlite {
            return Ok(true);
        }
        let mut tx = self.db.write().await?;
        let ready: bool = tx.scalar(Query::new("select crm_enable_trigram_search()")).await?;
        tx.commit().await?;
        Ok(ready)
    }
}

/// ` and {alias}.search like ...`: the search text holds the pattern, escaped as
/// [`text::like_pattern`] escapes it.
fn push_like(q: &mut Query, alias: &str, pattern: &str) {
    q.push(&format!(" and {alias}.search like ")).push_bind(pattern).push(" escape '\\'");
}

/// ` and strpos({alias}.search, needle) > 0`: the search text holds `needle` (the same rows as
/// `search like '%needle%'`, the needle taken literally). On PostgreSQL for a test of each row
/// where no index serves the `like` (leads: since migration 0026 pg_trgm indexes
/// `substr(search, 2)`, which [`push_holds`] asks): `like` matches UTF-8 character by
/// character, `strpos` compares bytes. Walking the 75,000 names before a fragment's first page
/// ("ова" in the 1M demo, psql) took 30.6 ms with `like`, 20.5 with `strpos` (on a copy of the
/// names alone: 37, 23, and 13 with no test at all).
fn push_contains(q: &mut Query, alias: &str, needle: &str) {
    q.push(&format!(" and strpos({alias}.search, ")).push_bind(needle).push(") > 0");
}

/// PostgreSQL: `list`, the live leads of one `status` in the table's order (the board's
/// columns), searched by part of a phone. Its matches' ids come from that status's own partial
/// trigram index of the text past its first character (migration 0036; the phone's digits
/// follow the name there), the status written as that index's predicate (a literal: see
/// [`Search::status_routes`]), then each candidate's stored phone is tested. Given the list's
/// own conditions (a bound status, and the range of names beside the trigrams), the planner
/// read the whole table's trigram index and each of its 17,898 candidates for its status:
/// three digits of an operator's code took 53-82 ms a column at a million leads, now 9-10.
/// Past the bound, dense matches walk the date index, sparse ones are read (from the same
/// index) and sorted.
fn status_phone_list(list: ListQuery, status: LeadStatus, patterns: &[String], on_row: Query) -> ListQuery {
    let mut clause = Query::new(format!(" where l.is_archived = false and l.status || '' = '{}'", status.code()));
    push_like_any(&mut clause, "substr(l.search, 2)", patterns);
    push_like_any(&mut clause, "l.phone", patterns);
    let mut ids = clause.clone().prefixed("select l.id from leads l");
    ids.push(" limit ").push_bind(SEARCH_COUNT_BOUND + 1);
    let past = PastBound::ByDensity {
        last_id: Query::new("select max(id) from leads"),
        walk: on_row,
        sorted: Box::new(list.with_clause(clause)),
        most: DATE_SORTED_MATCHES,
        probe: None,
    };
    list.searched(ids, past)
}

/// ` and (...)`: the search text of `table` `alias` holds one of `patterns` (`%needle%`, escaped
/// as [`text::like_pattern`] escapes it). On PostgreSQL a lead's text holds a needle of three
/// characters or more where it starts with it (a range of the index of names, migration 0026)
/// or holds it from its second character on (pg_trgm's index of that part): the same rows as
/// `search like`, from one trigram index instead of two, and a surname's first 1,001 matches
/// in 5.5 ms instead of 12.7 (its range of the names is cheaper to read than six trigrams'
/// posting lists).
fn push_holds(q: &mut Query, backend: Backend, table: &str, alias: &str, patterns: &[String], tested_first: bool) {
    for (i, pattern) in patterns.iter().enumerate() {
        q.push(if i == 0 { " and (" } else { " or " });
        let needle = needle_of(pattern);
        let ranged = backend == Backend::Postgres && table == "leads" && needle.chars().count() >= 3;
        match ranged.then(|| prefix_bound(&needle)).flatten() {
            Some(above) => {
                // `tested_first`: a cheap test of the whole text before the two parts. Where the
                // planner scans (matches it thinks common) the `substr ... like` cost 0.5 µs a
                // row; and, estimated rarer, a surname's first 1,001 matches come from the
                // indexes (12 instead of 32 ms for "яко", 29 instead of 45 for "ковальчук").
                // Not for phones, which no name starts with: their plans got 1 ms slower.
                if tested_first {
                    q.push(&format!("strpos({alias}.search, ")).push_bind(needle.as_str()).push(") > 0 and ");
                }
                q.push("(");
                push_starts_with(q, alias, &needle, &above);
                q.push(&format!(" or substr({alias}.search, 2) like ")).push_bind(pattern.as_str());
                q.push(" escape '\\')");
            }
            None => {
                q.push(&format!("{alias}.search like ")).push_bind(pattern.as_str()).push(" escape '\\'");
            }
        }
    }
    q.push(")");
}

/// `{alias}.search >= needle and {alias}.search < above`: the texts that start with `needle`,
/// one range of the index of names (`above` from [`prefix_bound`]).
fn push_starts_with(q: &mut Query, alias: &str, needle: &str, above: &str) {
    q.push(&format!("{alias}.search >= ")).push_bind(needle);
    q.push(&format!(" and {alias}.search < ")).push_bind(above);
}

/// The text starts with `needle`: the range of the index of names ([`push_starts_with`]), or,
/// where no string bounds it (only U+10FFFF), the test of [`push_leading`].
fn push_prefix(q: &mut Query, alias: &str, needle: &str) {
    match prefix_bound(needle) {
        Some(above) => push_starts_with(q, alias, needle, &above),
        None => push_leading(q, alias, needle),
    }
}

/// `substr({alias}.search, 1, n) = needle`: the text starts with `needle` (of `n` characters),
/// tested on each row: no index serves it.
fn push_leading(q: &mut Query, alias: &str, needle: &str) {
    let length = needle.chars().count();
    q.push(&format!("substr({alias}.search, 1, {length}) = ")).push_bind(needle);
}

/// What a `%needle%` pattern of [`text::like_pattern`] looks for, its escapes undone.
fn needle_of(pattern: &str) -> String {
    let inner = pattern.strip_prefix('%').and_then(|p| p.strip_suffix('%')).unwrap_or(pattern);
    let mut needle = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        needle.push(if c == '\\' { chars.next().unwrap_or(c) } else { c });
    }
    needle
}

/// ` and {alias}.id in (...)`: the rows of `table` whose search text holds `pattern`, found by
/// a scan where no index serves it.
fn push_scanned(q: &mut Query, table: &str, alias: &str, pattern: &str) {
    q.push(&format!(" and {alias}.id in (select s.id from {table} s where s.search like "));
    q.push_bind(pattern).push(" escape '\\')");
}

/// ` and ({column} like p1 or {column} like p2 ...)`: patterns of digits, which need no escape.
fn push_like_any(q: &mut Query, column: &str, patterns: &[String]) {
    for (i, pattern) in patterns.iter().enumerate() {
        q.push(if i == 0 { " and (" } else { " or " });
        q.push(&format!("{column} like ")).push_bind(pattern.as_str());
    }
    q.push(")");
}

/// Whether a `like` pattern of [`text::like_pattern`] can be served by a trigram index: its
/// needle (its wildcards and backslashes taken literally) three characters or more. SQLite's
/// index is asked for the needle's trigrams as quoted strings, which hold `%`, `_` and `\\` as
/// any other character; pg_trgm reads the pattern's escapes itself. (Until stop 43 an escaped
/// character sent the search to a scan of every row: part of an e-mail such as `ivan_p`, 0.25 s
/// at a million leads.)
fn trigram_ready(pattern: &str) -> bool {
    needle_of(pattern).chars().count() >= 3
}

/// The trigram that SQLite's index of the leads' text past its first character holds for a
/// live lead's status (migrations/sqlite/0032; since 0035 an archived lead's is U+E006):
/// private-use characters, which no search's trigram holds (a search holding one is tested
/// with `like` on each candidate, never asked as a phrase: [`Search::status_phrase_ids`]).
fn status_trigram(status: LeadStatus) -> String {
    let code = match status {
        LeadStatus::New => '\u{e001}',
        LeadStatus::InWork => '\u{e002}',
        LeadStatus::Converted => '\u{e003}',
        LeadStatus::Lost => '\u{e004}',
    };
    ['\u{e000}', code, '\u{e000}'].iter().collect()
}

/// Longest search asked of SQLite's trigram index as a phrase (one token a character): longer
/// ones, rare, are its candidates tested with `like`.
const PHRASE_CHARS: usize = 64;

/// Most trigrams of a search asked of the FTS5 index: the rows holding these are a superset of
/// those holding the whole text, which the `like` on each row then decides.
const QUERIED_TRIGRAMS: usize = 32;

/// The FTS5 query of the rows whose text holds trigrams covering every character of `pattern`
/// (a [`trigram_ready`] pattern: `%needle%`): every third one from the first, and the last
/// (`"сми" AND "рно" AND "ова"` for "смирнова"), each a quoted string. Not FTS5's own `search
/// like '%needle%'`, which checks each candidate against the text read from the table, where
/// every caller tests the rows with that `like` anyway (a surname a million leads hold 12,659
/// times: 34 instead of 135 ms for the candidates). The trigrams
/// between add little (the same 12,659 candidates) and cost a posting list each (7-9 ms for
/// all six of that surname, 3.5 ms for the three).
fn trigram_query(pattern: &str) -> String {
    let needle: Vec<char> = needle_of(pattern).chars().collect();
    let Some(last) = needle.len().checked_sub(3) else {
        return String::new();
    };
    let starts = (0..last).step_by(3).chain(std::iter::once(last));
    let mut trigrams: Vec<String> = Vec::new();
    for start in starts {
        let trigram: String = needle[start..start + 3].iter().collect();
        if !trigrams.contains(&trigram) && trigrams.len() < QUERIED_TRIGRAMS {
            trigrams.push(trigram);
        }
    }
    let quoted: Vec<String> = trigrams.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect();
    quoted.join(" AND ")
}

/// The FTS5 query of the rows whose text holds the trigrams of one of `patterns` (parts of a
/// phone: [`Search::PhoneDigits`]), one query in id order, which stops where its reader does.
fn trigrams_of_any(patterns: &[String]) -> String {
    let each: Vec<String> = patterns.iter().map(|p| format!("({})", trigram_query(p))).collect();
    each.join(" OR ")
}

/// The digits anywhere in a stored number and, when they start with the region's national
/// prefix, also with the country code in its place: `8 912 345` finds `+7912345...`.
fn digit_patterns(input: &str, digits: &str, region: Country) -> Vec<String> {
    // digits only: no LIKE wildcard can occur, so no escape clause is needed
    let mut patterns = vec![format!("%{digits}%")];
    let metadata = phonenumber::metadata::DATABASE.by_id(region.as_ref());
    let national = metadata.filter(|_| !input.starts_with('+')).and_then(|m| {
        let rest = digits.strip_prefix(m.national_prefix()?)?;
        Some(format!("%{}{rest}%", m.country_code()))
    });
    patterns.extend(national);
    patterns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Option<Search> {
        Search::parse(input, Country::RU)
    }

    #[test]
    fn a_whole_number_in_any_form_is_looked_up_exactly() {
        assert_eq!(parse("8 (912) 345-67-89"), Some(Search::Phone("+79123456789".into())));
    }

    #[test]
    fn part_of_a_number_with_the_trunk_prefix_also_matches_the_country_code() {
        let expected = vec!["%8912345%".to_owned(), "%7912345%".to_owned()];
        assert_eq!(parse("8 912 345"), Some(Search::PhoneDigits(expected)));
        assert_eq!(parse("+7 912"), Some(Search::PhoneDigits(vec!["%7912%".into()])));
    }

    #[test]
    fn three_characters_or_more_go_to_the_trigram_index_wildcards_taken_literally() {
        assert!(trigram_ready("%иван%"));
        assert!(trigram_ready("%ab c%"));
        assert!(!trigram_ready("%ив%"));
        assert!(trigram_ready("%50\\%%"));
        assert!(trigram_ready("%a\\_b%"));
        assert!(!trigram_ready("%\\%\\_%"));
        // the index is asked for the characters themselves, not their escapes
        assert_eq!(trigram_query(&text::like_pattern("ivan_p")), r#""iva" AND "n_p""#);
        assert_eq!(trigram_query(&text::like_pattern("50%\\")), r#""50%" AND "0%\""#);
    }

    #[test]
    fn the_trigram_index_is_asked_for_trigrams_covering_the_needle_quoted_once() {
        assert_eq!(trigram_query("%иван%"), r#""ива" AND "ван""#);
        assert_eq!(trigram_query("%смирнова%"), r#""сми" AND "рно" AND "ова""#);
        assert_eq!(trigram_query("%ааааа%"), r#""ааа""#);
        assert_eq!(trigram_query(r#"%a"b c%"#), r#""a""b" AND "b c""#);
        assert_eq!(trigram_query(r#"%a"b"c"%"#), r#""a""b" AND """c""""#);
        assert_eq!(trigram_query("%912%"), r#""912""#);
        let long = format!("%{}%", "абвгдежзийклмнопрстуфхцчшщъыьэюя".repeat(4));
        assert_eq!(trigram_query(&long).matches(" AND ").count(), QUERIED_TRIGRAMS - 1);
    }

    #[test]
    fn part_of_a_phone_asks_the_trigram_index_for_any_of_its_forms_at_once() {
        let Some(Search::PhoneDigits(patterns)) = parse("8 912 345") else { panic!("part of a phone") };
        assert_eq!(trigrams_of_any(&patterns), r#"("891" AND "234" AND "345") OR ("791" AND "234" AND "345")"#);
        assert_eq!(trigrams_of_any(&["%912%".to_owned()]), r#"("912")"#);
    }

    #[test]
    fn the_strings_starting_with_a_prefix_end_below_its_bound() {
        assert_eq!(prefix_bound("смирнова").as_deref(), Some("смирновб"));
        assert_eq!(prefix_bound("ab z").as_deref(), Some("ab {"));
        assert_eq!(prefix_bound("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
        assert_eq!(prefix_bound("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_bound("\u{10ffff}"), None);
        for (prefix, s) in [("смирнова", "смирнова анна"), ("смирнова", "смирнова"), ("ab", "ab\u{10ffff}")]
        {
            let bound = prefix_bound(prefix).unwrap();
            assert!(s >= prefix && s < bound.as_str(), "{s:?} in [{prefix:?}, {bound:?})");
        }
        for outside in ["смирнов", "смирновб", "смирновa"] {
            let bound = prefix_bound("смирнова").unwrap();
            assert!(!(outside >= "смирнова" && outside < bound.as_str()), "{outside:?}");
        }
    }

    #[test]
    fn a_patterns_needle_is_the_text_it_escapes() {
        assert_eq!(needle_of(&text::like_pattern("50%_\\ Иван")), "50%_\\ иван");
        assert_eq!(needle_of("%ив%"), "ив");
    }

    #[test]
    fn one_or_two_characters_are_the_start_of_the_name() {
        assert_eq!(parse(" Як "), Some(Search::Prefix("як".into())));
        assert_eq!(parse("12"), Some(Search::Prefix("12".into())));
        assert_eq!(parse("%"), Some(Search::Prefix("%".into())));
        assert_eq!(parse("Ли А"), Some(Search::Text("%ли а%".into())));
    }

    #[test]
    fn an_address_is_exact_and_words_are_substrings() {
        assert_eq!(parse(" Petr@Example.RU "), Some(Search::Email("petr@example.ru".into())));
        assert_eq!(parse(" Иван "), Some(Search::Text("%иван%".into())));
        assert_eq!(parse("123"), Some(Search::PhoneDigits(vec!["%123%".into()])));
        assert_eq!(parse("ab1"), Some(Search::Text("%ab1%".into())));
        assert_eq!(parse("   "), None);
    }
}
