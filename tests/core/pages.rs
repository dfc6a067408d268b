//! Pages read by key (`app::ListQuery::page`): next, previous, last and "go to page N" give
//! exactly the rows of the list's order, for every sort and direction of every keyed list.

use crm::app::Direction;
use crm::campaigns::{CampaignFilter, CampaignSort};
use crm::clients::{ClientFilter, ClientSort};
use crm::contracts::{ContractFilter, ContractSort};
use crm::db::Query;
use crm::domain::id::UserId;
use crm::leads::{LeadFilter, LeadSort, LeadStatus};
use crm::services::{ServiceFilter, ServiceSort};
use crm::{Page, PageRequest};

use crate::both_backends;
use crate::support::TestCrm;

/// A list screen's filter; `read` sets its page.
#[derive(Debug, Clone)]
enum List {
    Leads(LeadFilter),
    Clients(ClientFilter),
    Contracts(ContractFilter),
    Campaigns(CampaignFilter),
    Services(ServiceFilter),
}

impl List {
    async fn read(&self, t: &TestCrm, page: PageRequest) -> Page<i64> {
        // ids of whichever kind the list holds, as the pager sends them back
        let (crm, admin) = (&t.crm, &t.admin);
        let result = match self.clone() {
            Self::Leads(f) => crm.list_leads(admin, &LeadFilter { page, ..f }).await.map(|p| p.map(|r| r.id.get())),
            Self::Clients(f) => {
                crm.list_clients(admin, &ClientFilter { page, ..f }).await.map(|p| p.map(|r| r.id.get()))
            }
            Self::Contracts(f) => {
                crm.list_contracts(admin, &ContractFilter { page, ..f }).await.map(|p| p.map(|r| r.id.get()))
            }
            Self::Campaigns(f) => {
                crm.list_campaigns(admin, &CampaignFilter { page, ..f }).await.map(|p| p.map(|r| r.id.get()))
            }
            Self::Services(f) => {
                crm.list_services(admin, &ServiceFilter { page, ..f }).await.map(|p| p.map(|r| r.id.get()))
            }
        };
        result.unwrap_or_else(|e| panic!("{self:?} at {page:?}: {e:?}"))
    }
}

/// Walks `list` in pages of `limit` every way a screen can, comparing each page with the
/// list's order read at once.
async fn check(t: &TestCrm, list: &List, limit: i64) {
    let whole = list.read(t, PageRequest::new(0, PageRequest::MAX_LIMIT)).await;
    let order = whole.items;
    let total = whole.total;
    assert_eq!(order.len() as i64, total, "{list:?}: the test's lists fit one page of the maximum");
    let slice = |offset: i64| order[offset as usize..((offset + limit) as usize).min(order.len())].to_vec();

    // by number, every page and one past the end
    let pages = (total + limit - 1) / limit;
    for k in 0..=pages {
        let page = list.read(t, PageRequest::new(k * limit, limit)).await;
        let expected = if k < pages { slice(k * limit) } else { Vec::new() };
        assert_eq!(page.items, expected, "{list:?}: page {k} of {pages} by number");
        assert_eq!((page.offset, page.total), (k * limit, total));
    }
    // first to last by "next"
    let mut page = list.read(t, PageRequest::new(0, limit)).await;
    let mut seen = page.items.clone();
    while page.offset + limit < total {
        let edge = *page.items.last().expect("a full page");
        page = list.read(t, PageRequest::new(page.offset + limit, limit).after(edge)).await;
        assert_eq!(page.items, slice(page.offset), "{list:?}: next page at {}", page.offset);
        seen.extend(&page.items);
    }
    assert_eq!(seen, order, "{list:?}: every row once by next");
    // the last page, then back to the first by "previous"
    let mut page = list.read(t, PageRequest::last(limit)).await;
    let last = if total == 0 { 0 } else { (total - 1) / limit * limit };
    assert_eq!((page.offset, page.items.clone()), (last, slice(last)), "{list:?}: the last page");
    let mut seen = page.items.clone();
    while page.offset > 0 {
        let edge = page.items[0];
        page = list.read(t, PageRequest::new(page.offset - limit, limit).before(edge)).await;
        assert_eq!(page.items, slice(page.offset), "{list:?}: previous page at {}", page.offset);
        seen.splice(0..0, page.items.iter().copied());
    }
    assert_eq!(seen, order, "{list:?}: every row once by previous");
    if total > 2 * limit {
        // an edge row that is gone (merged, deleted): the page is found by its number
        let page = list.read(t, PageRequest::new(limit, limit).after(i64::MAX)).await;
        assert_eq!(page.items, slice(limit), "{list:?}: after a missing row");
        let page = list.read(t, PageRequest::new(limit, limit).before(i64::MAX)).await;
        assert_eq!(page.items, slice(limit), "{list:?}: before a missing row");
        // a screen whose place is stale (rows added above): "previous" near the top gives the first page
        let page = list.read(t, PageRequest::new(limit, limit).before(order[2])).await;
        assert_eq!((page.offset, page.items), (0, slice(0)), "{list:?}: previous from the top");
    }
}

async fn demo_with_ties(t: &TestCrm) {
    // (enough for more than 20 contracts ending soon: 300 leads made 30 contracts since the demo
    // spreads each campaign's leads over its days)
    t.demo(11, 450).await;
    // ties in every sort key, so that the id decides: equal times, names, amounts
    let mut tx = t.crm.db().write().await.unwrap();
    for sql in [
        "update leads set created_at = (select min(created_at) from leads) where id % 5 = 0",
        "update leads set full_name = 'Иванов Иван' where id % 7 = 0",
        "update leads set is_archived = true where id % 11 = 0 and id not in (select lead_id from clients)",
        "update clients set created_at = (select min(created_at) from clients) where id % 3 = 0",
        "update contracts set signed_on = (select min(signed_on) from contracts) where id % 3 = 0",
        "update contracts set amount = 100000 where id % 4 = 0",
    ] {
        tx.execute(Query::new(sql)).await.unwrap();
    }
    // half the contracts end within the next 30 days, many on the same day
    let soon = chrono::Local::now().date_naive() + chrono::Days::new(10);
    tx.execute(
        Query::new("update contracts set valid_to = $1 where id % 2 = 0 and valid_from <= $1 and is_archived = false")
            .bind(soon),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

both_backends! {
    async fn every_keyed_list_pages_by_key_exactly_as_by_position(t: TestCrm) {
        demo_with_ties(&t).await;
        let directions = [None, Some(Direction::Asc), Some(Direction::Desc)];
        let mut lists = Vec::new();
        for direction in directions {
            for sort in [LeadSort::CreatedAt, LeadSort::FullName, LeadSort::Status] {
                lists.push(List::Leads(LeadFilter { sort, direction, ..Default::default() }));
            }
            lists.push(List::Leads(LeadFilter {
                sort: LeadSort::FullName,
                direction,
                include_archived: true,
                ..Default::default()
            }));
            lists.push(List::Leads(LeadFilter { status: Some(LeadStatus::InWork), direction, ..Default::default() }));
            // a substring, and one letter: the names starting with it
            lists.push(List::Leads(LeadFilter { search: "ов".into(), direction, ..Default::default() }));
            lists.push(List::Leads(LeadFilter { search: "ова".into(), direction, ..Default::default() }));
            lists.push(List::Leads(LeadFilter { search: "с".into(), direction, ..Default::default() }));
            for sort in [ClientSort::CreatedAt, ClientSort::FullName, ClientSort::Revenue] {
                lists.push(List::Clients(ClientFilter { sort, direction, ..Default::default() }));
            }
            for sort in [ContractSort::SignedOn, ContractSort::Name, ContractSort::Amount, ContractSort::ValidTo] {
                lists.push(List::Contracts(ContractFilter { sort, direction, ..Default::default() }));
                // (pages cut as ids first: see ListQuery::cut_by_ids)
                lists.push(List::Contracts(ContractFilter { sort, direction, expiring: true, ..Default::default() }));
            }
            for sort in [CampaignSort::Name, CampaignSort::StartsOn, CampaignSort::Budget, CampaignSort::CreatedAt] {
                lists.push(List::Campaigns(CampaignFilter { sort, direction, include_archived: true, ..Default::default() }));
            }
            for sort in [ServiceSort::Name, ServiceSort::Price, ServiceSort::CreatedAt] {
                lists.push(List::Services(ServiceFilter { sort, direction, ..Default::default() }));
            }
        }
        for list in &lists {
            // a limit that leaves a short last page in the big lists
            check(&t, list, 7).await;
        }
        // the demo gave each kind of list enough rows to page
        for list in &lists[..3] {
            assert!(list.read(&t, PageRequest::new(0, 1)).await.total > 200, "{list:?}");
        }
        let ending = List::Contracts(ContractFilter { expiring: true, ..Default::default() });
        let soon = ending.read(&t, PageRequest::new(0, 1)).await.total;
        assert!(soon > 20, "contracts ending soon, to page: {soon} (of {} contracts)", t.count("contracts").await);
    }
}

/// Every id of `list` in its order, read by "next".
async fn whole(t: &TestCrm, list: &List) -> Vec<i64> {
    let limit = PageRequest::MAX_LIMIT;
    let mut page = list.read(t, PageRequest::new(0, limit)).await;
    let mut ids = page.items.clone();
    while page.items.len() as i64 == limit {
        let edge = *page.items.last().expect("a full page");
        page = list.read(t, PageRequest::new(page.offset + limit, limit).after(edge)).await;
        ids.extend(&page.items);
    }
    ids
}

both_backends! {
    async fn a_search_matching_thousands_is_counted_to_the_bound_and_paged_exactly(t: TestCrm) {
        t.demo(12, 2500).await;
        // two leads in three hold "zqx" in their search text (kept in the trigram index by its
        // triggers), a few hold "rareq"
        execute_all(&t, &[
            "update leads set search = search || ' zqx' where id % 3 <> 0",
            "update leads set search = search || ' rareq' where id % 97 = 0",
        ]).await;
        let cases = [
            ("zqx", LeadSort::CreatedAt, None),
            ("zqx", LeadSort::CreatedAt, Some(Direction::Asc)),
            ("zqx", LeadSort::Status, None),
            ("zqx", LeadSort::FullName, None),
            ("zqx", LeadSort::FullName, Some(Direction::Desc)),
        ];
        // a list sorted by name reads a few matches (by their density) by sorting them...
        pages_of_a_search_past_the_bound(&t, &cases).await;
        // ...and many by walking the index of names: a lead with a far id makes the same
        // matches look sparse among the table's ids, as two-thirds of a million would be dense
        let far = 3 * 10_000_000;
        let copy = "(id, full_name, campaign_id, status, note, search, is_archived, version, created_by, created_at, updated_at)";
        let copied = format!(
            "select {far}, full_name, campaign_id, status, note, 'far', is_archived, version, created_by, created_at, updated_at
             from leads where id = 3"
        );
        let mut tx = t.crm.db().write().await.unwrap();
        let overriding = if t.url.starts_with("postgres") { "overriding system value" } else { "" };
        tx.execute(Query::new(format!("insert into leads {copy} {overriding} {copied}"))).await.unwrap();
        tx.commit().await.unwrap();
        // (and PostgreSQL walks the index of dates too)
        pages_of_a_search_past_the_bound(&t, &cases[..5]).await;

        // a rare needle is counted exactly
        let rare = List::Leads(LeadFilter { search: "rareq".into(), ..Default::default() });
        let page = list_page(&t, &rare).await;
        let expected = whole(&t, &List::Leads(LeadFilter::default())).await.into_iter().filter(|id| id % 97 == 0).count();
        assert_eq!((page.total, page.capped, page.items.len()), (expected as i64, false, expected));
    }
}

both_backends! {
    async fn a_search_sorted_by_name_merges_the_names_it_starts_and_the_others(t: TestCrm) {
        t.demo(14, 3500).await;
        // leads sorted by name read a search's matches in two parts (leads::Search::split):
        // those whose search text starts with it (a third here: more than the count's bound,
        // or a list whose matches lie all along the names walks them), and those holding it
        // further on, whose names sort before them ("a ...") or after them (the Cyrillic names)
        execute_all(&t, &[
            "update leads set search = 'zqx' || search where id % 3 = 1",
            "update leads set search = 'a ' || search || ' zqx' where id % 6 = 2",
            "update leads set search = search || ' zqx' where id % 6 = 5",
            // one starts with it and holds it again: read once
            "update leads set search = search || ' zqx' where id = 4",
        ]).await;
        let cases = [("zqx", LeadSort::FullName, None), ("zqx", LeadSort::FullName, Some(Direction::Desc))];
        pages_of_a_search_past_the_bound(&t, &cases).await;
        // and a needle that only starts the texts: the other part is empty
        execute_all(&t, &[
            "update leads set search = 'zqx' || replace(search, ' zqx', '') where id % 3 = 2",
        ]).await;
        pages_of_a_search_past_the_bound(&t, &cases).await;
    }
}

both_backends! {
    async fn a_search_whose_matches_sit_together_in_the_names_is_paged_exactly(t: TestCrm) {
        t.demo(18, 22_000).await;
        // one lead in sixteen holds "zqcl" past the start of its text (as an e-mail's part) and
        // sorts late in the alphabet ("яяя"): none among the first 20,000 names, which the list
        // sorted by name probes for how spread its matches are. SQLite proves them one range of
        // the names (`leads::Cluster`) and walks it.
        execute_all(&t, &["update leads set search = 'яяя ' || search || ' zqcl' where id % 16 = 1"]).await;
        clustered_pages(&t, "zqcl").await;
        // quotes, which the trigram index's query language spells its own way
        execute_all(&t, &["update leads set search = search || ' q\"t''s' where id % 16 = 1"]).await;
        clustered_pages(&t, "q\"t's").await;
        // a match early in the names, with an id past the first matches found (the sample whose
        // names start the range): not in that range, so no proof, and the matches are sorted
        let stray = "(select max(id) from leads where search < 'б' and id % 16 <> 1)";
        execute_all(&t, &[&format!("update leads set search = search || ' zqcl' where id = {stray}")]).await;
        clustered_pages(&t, "zqcl").await;
        // archived, out of the list but not out of the trigram index's candidates
        execute_all(&t, &["update leads set is_archived = true where id % 16 <> 1 and search like '%zqcl%'"]).await;
        clustered_pages(&t, "zqcl").await;
    }
}

both_backends! {
    async fn part_of_a_phone_that_thousands_hold_is_counted_to_the_bound_and_paged_exactly(t: TestCrm) {
        t.demo(19, 3000).await;
        // two leads in three get a phone holding 555 (their search text too, as a save writes it)
        let number = "'7555' || cast(1000000 + id as text)";
        execute_all(&t, &[&format!("update leads set phone = '+' || {number}, search = search || ' ' || {number} where id % 3 <> 0")])
            .await;
        for search in ["555", "8 555", "(555)"] {
            // "8 555" is also "7555": the trunk prefix read as the country code
            let holding = if search == "8 555" { "phone like '%8555%' or phone like '%7555%'" } else { "phone like '%555%'" };
            let matching: std::collections::HashSet<i64> = ids_where(&t, holding).await.into_iter().collect();
            let mut lists = Vec::new();
            for sort in [LeadSort::CreatedAt, LeadSort::FullName, LeadSort::Status] {
                for direction in [None, Some(Direction::Desc)] {
                    let plain = LeadFilter { sort, direction, ..Default::default() };
                    lists.push((List::Leads(plain.clone()), List::Leads(LeadFilter { search: search.into(), ..plain })));
                }
            }
            pages_past_the_bound(&t, &lists, |id| matching.contains(&id)).await;
            // the board's columns: one status's live leads (SQLite: from the trigram index that
            // codes each lead's status)
            for status in LeadStatus::ALL {
                let plain = LeadFilter { status: Some(status), ..Default::default() };
                let unsearched = whole(&t, &List::Leads(plain.clone())).await;
                let expected: Vec<i64> = unsearched.into_iter().filter(|id| matching.contains(id)).collect();
                let list = List::Leads(LeadFilter { search: search.into(), ..plain });
                assert_eq!(whole(&t, &list).await, expected, "{list:?}");
                let first = list.read(&t, PageRequest::new(0, 50)).await;
                let counted = (expected.len() as i64).min(crm::leads::SEARCH_COUNT_BOUND);
                assert_eq!((first.total, first.capped), (counted, counted == crm::leads::SEARCH_COUNT_BOUND));
            }
        }
    }
}

/// Every page of the leads searched for `needle` (no `%`, `_` or `\` in it) sorted by name,
/// both ways (see [`pages_past_the_bound`]).
async fn clustered_pages(t: &TestCrm, needle: &str) {
    let holding = format!("search like '%{}%'", needle.replace('\'', "''"));
    let matching: std::collections::HashSet<i64> = ids_where(t, &holding).await.into_iter().collect();
    let lists =
        searched_leads(&[(needle, LeadSort::FullName, None), (needle, LeadSort::FullName, Some(Direction::Desc))]);
    pages_past_the_bound(t, &lists, |id| matching.contains(&id)).await;
}

both_backends! {
    async fn one_or_two_characters_find_the_names_they_start_paged_exactly_in_every_sort(t: TestCrm) {
        t.demo(15, 8000).await;
        // two leads in three start their search text with "zq", the others hold it further on;
        // one in six, of those others, starts it with "zr"
        execute_all(&t, &[
            "update leads set search = 'zq' || search where id % 3 <> 0",
            "update leads set search = 'a ' || search || ' zq' where id % 3 = 0",
            "update leads set search = 'zr' || search where id % 6 = 3",
        ]).await;
        let live = whole(&t, &List::Leads(LeadFilter::default())).await;
        let starting = live.iter().filter(|id| *id % 3 != 0).count();
        assert!(starting > 5_000, "more than a walk needs: {starting}");
        let mut many = Vec::new();
        let mut fewer = Vec::new();
        for sort in [LeadSort::CreatedAt, LeadSort::FullName, LeadSort::Status] {
            for direction in [None, Some(Direction::Asc), Some(Direction::Desc)] {
                let plain = LeadFilter { sort, direction, ..Default::default() };
                // more matches than a walk of the sort's index needs (5,000), in capitals too
                many.push((List::Leads(plain.clone()), List::Leads(LeadFilter { search: "Zq".into(), ..plain.clone() })));
                // fewer: read from the range of names and sorted
                fewer.push((List::Leads(plain.clone()), List::Leads(LeadFilter { search: "zr".into(), ..plain })));
            }
        }
        pages_past_the_bound(&t, &many, |id| id % 3 != 0).await;
        pages_past_the_bound(&t, &fewer, |id| id % 6 == 3).await;

        // clients alike
        execute_all(&t, &[
            "update clients set search = 'zq' || search where id % 4 <> 0",
            "update clients set search = search || ' zq' where id % 4 = 0",
        ]).await;
        let clients = t.count("clients").await;
        let mut lists = Vec::new();
        for sort in [ClientSort::CreatedAt, ClientSort::FullName, ClientSort::Revenue] {
            for direction in [None, Some(Direction::Asc)] {
                let plain = ClientFilter { sort, direction, ..Default::default() };
                lists.push((List::Clients(plain.clone()), List::Clients(ClientFilter { search: "zq".into(), ..plain })));
            }
        }
        if clients * 3 / 4 > crm::leads::SEARCH_COUNT_BOUND + 300 {
            pages_past_the_bound(&t, &lists, |id| id % 4 != 0).await;
        } else {
            for (plain, list) in &lists {
                let expected: Vec<i64> = whole(&t, plain).await.into_iter().filter(|id| id % 4 != 0).collect();
                assert_eq!(whole(&t, list).await, expected, "{list:?}");
            }
        }
    }
}

both_backends! {
    async fn a_search_filtered_by_status_finds_the_names_it_starts_and_the_others_once(t: TestCrm) {
        t.demo(16, 4000).await;
        // (the board's columns) a search's matches that start the name come from the range of
        // the index of names, with the status it holds, the others from the trigram index
        execute_all(&t, &[
            "update leads set search = 'zqx' || search where id % 5 = 1",
            "update leads set search = 'a ' || search || ' zqx' where id % 5 = 2",
            // starts with it and holds it again: found once
            "update leads set search = search || ' zqx' where id % 10 = 1",
        ]).await;
        let bound = crm::leads::SEARCH_COUNT_BOUND;
        type Matches = fn(i64) -> bool;
        let cases: [(&str, Matches); 3] =
            [("zqx", |id| id % 5 == 1 || id % 5 == 2), ("ZQ", |id| id % 5 == 1), ("zqq", |_| false)];
        for status in LeadStatus::ALL {
            for sort in [LeadSort::CreatedAt, LeadSort::FullName, LeadSort::Status] {
                for direction in [None, Some(Direction::Asc)] {
                    let plain = LeadFilter { status: Some(status), sort, direction, ..Default::default() };
                    let unsearched = whole(&t, &List::Leads(plain.clone())).await;
                    for (needle, matches) in cases {
                        let list = List::Leads(LeadFilter { search: needle.into(), ..plain.clone() });
                        let expected: Vec<i64> = unsearched.iter().copied().filter(|id| matches(*id)).collect();
                        assert_eq!(whole(&t, &list).await, expected, "{list:?}");
                        let first = list.read(&t, PageRequest::new(0, 50)).await;
                        let counted = (expected.len() as i64).min(bound);
                        assert_eq!((first.total, first.capped), (counted, counted == bound), "{list:?}");
                    }
                }
            }
        }
    }
}

both_backends! {
    async fn a_status_search_finds_live_leads_of_that_status_and_archived_ones_only_when_asked(t: TestCrm) {
        t.demo(18, 600).await;
        // SQLite's board columns read the trigram index alone (migration 0035), which codes a
        // lead's status or that it is archived: archiving, restoring and moving a lead must
        // move it there too (its triggers), and a quote in the search is literal
        execute_all(&t, &[
            "update leads set search = search || ' zq\"x' where id % 3 = 0",
            "update leads set search = 'zq\"x ' || search where id % 5 = 0",
            "update leads set is_archived = true where id % 4 = 0",
            "update leads set is_archived = false where id % 8 = 0",
            "update leads set status = 'lost' where id % 7 = 0",
            "update leads set status = 'in_work' where id % 11 = 0 and status <> 'converted'",
        ]).await;
        for needle in ["zq\"x", "Q\"X", "q\"x "] {
            for status in LeadStatus::ALL {
                for include_archived in [false, true] {
                    let archived = if include_archived { "" } else { " and is_archived = false" };
                    let condition = format!("search like '%q\"x%' and status = '{}'{archived}", status.code());
                    let matching: std::collections::HashSet<i64> = ids_where(&t, &condition).await.into_iter().collect();
                    assert!(!matching.is_empty(), "{condition}: the test's data");
                    let plain = LeadFilter { status: Some(status), include_archived, ..Default::default() };
                    let expected: Vec<i64> =
                        whole(&t, &List::Leads(plain.clone())).await.into_iter().filter(|id| matching.contains(id)).collect();
                    let list = List::Leads(LeadFilter { search: needle.into(), ..plain });
                    assert_eq!(whole(&t, &list).await, expected, "{list:?}");
                    let first = list.read(&t, PageRequest::new(0, 50)).await;
                    assert_eq!(first.total, expected.len() as i64, "{list:?}");
                }
            }
        }
    }
}

/// Every page of each searched list of `cases` (needle, sort, direction), whose matches are the
/// leads whose id is not a multiple of three, read first, next, by number past the bound,
/// previous and next from there, at the end and past it: the rows of the unsearched list in its
/// order, kept where the id matches.
async fn pages_of_a_search_past_the_bound(t: &TestCrm, cases: &[(&str, LeadSort, Option<Direction>)]) {
    pages_past_the_bound(t, &searched_leads(cases), |id| id % 3 != 0).await;
}

/// The leads list of each of `cases` (needle, sort, direction), unsearched and searched.
fn searched_leads(cases: &[(&str, LeadSort, Option<Direction>)]) -> Vec<(List, List)> {
    cases
        .iter()
        .map(|&(needle, sort, direction)| {
            let plain = LeadFilter { sort, direction, ..Default::default() };
            (List::Leads(plain.clone()), List::Leads(LeadFilter { search: needle.into(), ..plain }))
        })
        .collect()
}

/// Every page of each searched list of `lists` (the list, the same list searched), whose
/// matches are the rows whose id `matches`: as for [`pages_of_a_search_past_the_bound`].
async fn pages_past_the_bound(t: &TestCrm, lists: &[(List, List)], matches: impl Fn(i64) -> bool) {
    let bound = crm::leads::SEARCH_COUNT_BOUND;
    let limit = 50;
    for (plain, list) in lists {
        let expected: Vec<i64> = whole(t, plain).await.into_iter().filter(|id| matches(*id)).collect();
        assert!(expected.len() as i64 > bound + 300, "the test's search matches more than the bound");
        let slice = |offset: usize| expected[offset..(offset + limit as usize).min(expected.len())].to_vec();
        let what = format!("{list:?}");

        let first = list.read(t, PageRequest::new(0, limit)).await;
        assert_eq!((first.total, first.capped), (bound, true), "{what}: counted to the bound");
        assert_eq!(first.items, slice(0), "{what}: first page");
        let next = list.read(t, PageRequest::new(limit, limit).after(first.items[49])).await;
        assert_eq!(next.items, slice(50), "{what}: next page");
        // past the bound, by number, then previous and next from there
        let far = list.read(t, PageRequest::new(1200, limit)).await;
        assert_eq!((far.items.clone(), far.capped), (slice(1200), true), "{what}: page at 1,200");
        let before = list.read(t, PageRequest::new(1150, limit).before(far.items[0])).await;
        assert_eq!(before.items, slice(1150), "{what}: previous from 1,200");
        let after = list.read(t, PageRequest::new(1250, limit).after(far.items[49])).await;
        assert_eq!(after.items, slice(1250), "{what}: next from 1,200");
        let tail = (expected.len() as i64 - 20).max(0);
        assert_eq!(list.read(t, PageRequest::new(tail, limit)).await.items, slice(tail as usize), "{what}: the end");
        assert!(
            list.read(t, PageRequest::new(expected.len() as i64, limit)).await.items.is_empty(),
            "{what}: past the end"
        );
    }
}

async fn list_page(t: &TestCrm, list: &List) -> Page<i64> {
    list.read(t, PageRequest::new(0, PageRequest::MAX_LIMIT)).await
}

both_backends! {
    async fn a_clients_search_past_the_bound_is_paged_exactly_in_every_sort(t: TestCrm) {
        t.demo(13, 20_000).await;
        // three clients in four hold "zqx": more than the bound
        execute_all(&t, &[
            "update clients set search = search || ' zqx' where id % 4 <> 0",
        ]).await;
        let mut lists = Vec::new();
        for sort in [ClientSort::CreatedAt, ClientSort::FullName, ClientSort::Revenue] {
            for direction in [None, Some(Direction::Asc)] {
                let plain = ClientFilter { sort, direction, ..Default::default() };
                lists.push((List::Clients(plain.clone()), List::Clients(ClientFilter { search: "zqx".into(), ..plain })));
            }
        }
        pages_past_the_bound(&t, &lists, |id| id % 4 != 0).await;

        // contracts alike (their trigram index since migration 0030), kept in step by its triggers
        execute_all(&t, &[
            "update contracts set search = search || ' zqx' where id % 4 <> 0",
        ]).await;
        let mut lists = Vec::new();
        for sort in [ContractSort::SignedOn, ContractSort::Name, ContractSort::Amount, ContractSort::ValidTo] {
            for direction in [None, Some(Direction::Asc)] {
                let plain = ContractFilter { sort, direction, ..Default::default() };
                lists.push((List::Contracts(plain.clone()), List::Contracts(ContractFilter { search: "zqx".into(), ..plain })));
            }
        }
        pages_past_the_bound(&t, &lists, |id| id % 4 != 0).await;
    }
}

both_backends! {
    async fn a_status_search_is_read_exactly_however_dense_its_matches_are(t: TestCrm) {
        t.demo(17, 7000).await;
        // (the board's columns) PostgreSQL reads one status's search as dense as the matches
        // are among the first leads its list walks (`Search::status_routes`): densely, sparsely
        // there and densely further on, or not at all there; each in the tail of the text or at
        // its start. The first 2,000 in work, newest first, and the others:
        plant(&t, "status = 'in_work'", &[
            ("zqa", "r > 2000 and r % 2 = 0 or r % 100 = 0", "r > 2000 and r % 2 = 1"),
            ("zqb", "r > 2000 and r % 2 = 0", "r > 2000 and r % 2 = 1"),
            ("zqc", "r > 2000 or r % 2 = 0", "r % 3 = 1"),
        ])
        .await;
        for needle in ["zqa", "zqb", "zqc"] {
            let matching: std::collections::HashSet<i64> =
                ids_where(&t, &format!("search like '%{needle}%' and status = 'in_work'")).await.into_iter().collect();
            let mut lists = Vec::new();
            for sort in [LeadSort::CreatedAt, LeadSort::Status, LeadSort::FullName] {
                for direction in [None, Some(Direction::Asc)] {
                    let plain = LeadFilter { status: Some(LeadStatus::InWork), sort, direction, ..Default::default() };
                    lists.push((List::Leads(plain.clone()), List::Leads(LeadFilter { search: needle.into(), ..plain })));
                }
            }
            pages_past_the_bound(&t, &lists, |id| matching.contains(&id)).await;
        }
    }
}

both_backends! {
    async fn a_narrowed_search_is_read_exactly_however_dense_its_matches_are(t: TestCrm) {
        t.demo(18, 8000).await;
        // a search of a list narrower than a status (within dates, one owner's) is read as dense
        // as the matches are among the first leads its list walks (`Search::narrowed_routes`),
        // every live lead's as many as they are:
        // densely there, with many or few starting their text; sparsely there, more than 5,000
        // in all (walked) or fewer (sorted). The first 2,000, newest first, and the others:
        plant(&t, "true", &[
            ("zqa", "r > 2000 and r % 2 = 0 or r % 100 = 0", "r > 2000 and r % 2 = 1"),
            ("zqb", "r > 4000 and r % 2 = 0", "r > 4000 and r % 2 = 1"),
            ("zqc", "r > 2000 or r % 2 = 0", "r % 3 = 1"),
            ("zqd", "r % 2 = 0", "r % 7 = 1 and r < 3000"),
        ])
        .await;
        // (every lead of the demo is its operator's: one owner's list is as long as the others)
        let (owner, owners): (i64, i64) = {
            let mut tx = t.crm.db().read().await.unwrap();
            let owners = "select min(owner_id), count(distinct coalesce(owner_id, 0)) from leads";
            let owner = tx.fetch_one(Query::new(owners)).await.unwrap();
            tx.commit().await.unwrap();
            owner
        };
        assert_eq!(owners, 1, "one owner of every lead");
        let since = chrono::NaiveDate::from_ymd_opt(1900, 1, 1);
        for needle in ["zqa", "zqb", "zqc", "zqd"] {
            let owned: std::collections::HashSet<i64> = ids_where(
                &t,
                &format!("search like '%{needle}%' and is_archived = false and owner_id = {owner}"),
            )
            .await
            .into_iter()
            .collect();
            let mut lists = Vec::new();
            for sort in [LeadSort::CreatedAt, LeadSort::Status, LeadSort::FullName] {
                for direction in [None, Some(Direction::Asc)] {
                    for plain in [
                        LeadFilter { created_from: since, sort, direction, ..Default::default() },
                        LeadFilter { owner_id: Some(UserId::new(owner)), sort, direction, ..Default::default() },
                        // and every live lead (`Search::sorted_in_parts` past the bound on SQLite)
                        LeadFilter { sort, direction, ..Default::default() },
                    ] {
                        let searched = LeadFilter { search: needle.into(), ..plain.clone() };
                        lists.push((List::Leads(plain), List::Leads(searched)));
                    }
                }
            }
            pages_past_the_bound(&t, &lists, |id| owned.contains(&id)).await;
        }
    }
}

/// Writes each needle of `needles` (needle, rows, rows) into the search text of the live leads
/// `kept` keeps: at the end for the first rows, at the start for the second, each a condition
/// on `r`, a lead's rank among those leads, newest first.
async fn plant(t: &TestCrm, kept: &str, needles: &[(&str, &str, &str)]) {
    let ranked = format!(
        "select id from (select id, row_number() over (order by created_at desc, id desc) as r
         from leads where is_archived = false and {kept}) n where "
    );
    let statements: Vec<String> = needles
        .iter()
        .flat_map(|(needle, tail, start)| {
            [
                format!("update leads set search = search || ' {needle}' where id in ({ranked}{tail})"),
                format!("update leads set search = '{needle}' || search where id in ({ranked}{start})"),
            ]
        })
        .collect();
    execute_all(t, &statements.iter().map(String::as_str).collect::<Vec<_>>()).await;
}

/// The ids of the leads `condition` keeps.
async fn ids_where(t: &TestCrm, condition: &str) -> Vec<i64> {
    let mut tx = t.crm.db().read().await.unwrap();
    let ids: Vec<(i64,)> = tx.fetch_all(Query::new(format!("select id from leads where {condition}"))).await.unwrap();
    tx.commit().await.unwrap();
    ids.into_iter().map(|(id,)| id).collect()
}

/// Runs `statements` in one transaction.
async fn execute_all(t: &TestCrm, statements: &[&str]) {
    let mut tx = t.crm.db().write().await.unwrap();
    for statement in statements {
        tx.execute(Query::new(*statement)).await.unwrap();
    }
    tx.commit().await.unwrap();
}

both_backends! {
    async fn pages_by_date_found_across_local_midnights_and_leads_without_a_campaign(t: TestCrm) {
        // a page by number is found from the leads kept per UTC day (`ListQuery::nth_by_parts`):
        // an office ahead of UTC, rows on either side of its midnight and of UTC's, and leads
        // without a campaign (which the statistics' roll-ups leave out)
        t.demo(12, 400).await;
        if t.crm.db().backend() == crm::db::Backend::Postgres {
            execute_all(&t, &["update office set time_zone = 'Asia/Vladivostok'", "select crm_stat_rebuild()"]).await;
        }
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc);
        let edges = [
            at("2026-03-01T00:00:00+10:00"),
            at("2026-02-28T23:59:59.999+10:00"),
            at("2026-03-01T00:00:00+00:00"),
            at("2026-02-28T23:59:59+00:00"),
            at("2026-03-01T10:00:00+10:00"),
        ];
        let mut tx = t.crm.db().write().await.unwrap();
        for (k, edge) in edges.iter().enumerate() {
            let moved = Query::new("update leads set created_at = $1 where id % 11 = $2").bind(*edge).bind(k as i64);
            tx.execute(moved).await.unwrap();
        }
        tx.execute(Query::new("update leads set campaign_id = null where id % 13 = 0")).await.unwrap();
        tx.commit().await.unwrap();
        for direction in [None, Some(Direction::Asc)] {
            let list = List::Leads(LeadFilter { direction, ..Default::default() });
            check(&t, &list, 7).await;
            check(&t, &list, 50).await;
        }
        // and once the days no longer add up to the list (leads archived behind the roll-ups'
        // back, as only the owner can; or a write committed between two reads): the rows'
        // positions are skipped to as before
        if t.crm.db().backend() == crm::db::Backend::Postgres {
            execute_all(&t, &[
                "alter table leads disable trigger stat_leads_changed",
                "update leads set is_archived = true where id % 17 = 0 and id not in (select lead_id from clients)",
                "alter table leads enable trigger stat_leads_changed",
            ])
            .await;
            check(&t, &List::Leads(LeadFilter::default()), 7).await;
        }
    }
}

both_backends! {
    async fn pages_by_name_found_from_the_leads_counted_per_first_letters(t: TestCrm) {
        // "go to page N" of the list sorted by name finds its row from the leads counted per
        // first three characters of their search text (`names:<prefix>`): texts shorter
        // than three characters, texts that start others, letters of one, two, three and four
        // bytes, ties, archived leads, the counts kept by each write's triggers
        t.demo(14, 400).await;
        let texts = ["а", "аб", "аб", "абв", "абвг", "ab", "a", "zz", "z", "ω", "ωa", "€€€", "😀", "😀x", "ёж", "е", "0", ""];
        let mut statements = Vec::new();
        for (k, text) in texts.iter().enumerate() {
            statements.push(format!("update leads set search = '{text}' where id % 23 = {k}"));
        }
        for (k, text) in ["а", "аб", "z", "ω"].iter().enumerate() {
            statements.push(format!("update leads set search = '{text}' || search where id % 29 = {k}"));
        }
        statements.push("update leads set is_archived = true where id % 19 = 0 and id not in (select lead_id from clients)".into());
        statements.push("update leads set is_archived = false where id % 38 = 0".into());
        execute_all(&t, &statements.iter().map(String::as_str).collect::<Vec<_>>()).await;
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap().list_counts, [], "the names are counted as they change");
        let lists = |direction| {
            [false, true].map(|include_archived| {
                List::Leads(LeadFilter { sort: LeadSort::FullName, direction, include_archived, ..Default::default() })
            })
        };
        for direction in [None, Some(Direction::Desc)] {
            for list in lists(direction) {
                check(&t, &list, 7).await;
                check(&t, &list, 50).await;
            }
        }
        // the pages are found by the counts indeed: three leads moved from the first part of
        // the alphabet (the empty text) to the last behind the triggers' back (the parts' sum
        // still the list's total) put every page by number between them three rows on
        let moved = [
            "update list_counts set n = n - 3 where list = 'names:' and is_archived = false",
            "update list_counts set n = n + 3 where list = 'names:😀x' and is_archived = false",
        ];
        execute_all(&t, &moved).await;
        let list = &lists(None)[0];
        let order = list.read(&t, PageRequest::new(0, PageRequest::MAX_LIMIT)).await.items;
        let page = list.read(&t, PageRequest::new(70, 7)).await;
        assert_eq!(page.items, order[73..80], "the 74th row is taken for the 71st");
        let differences = t.crm.verify_stats(&t.admin).await.unwrap().list_counts;
        let lists_of = differences.iter().map(|d| (d.list.as_str(), d.kept - d.counted)).collect::<Vec<_>>();
        assert_eq!(lists_of, [("names:", -3), ("names:😀x", 3)]);
        // and once the parts no longer add up to the list, the rows' positions are skipped to
        execute_all(&t, &["update list_counts set n = n + 1 where list = 'names:' and is_archived = false"]).await;
        check(&t, &lists(None)[0], 7).await;
        t.crm.rebuild_stats(&t.admin).await.unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default());
        check(&t, &lists(None)[0], 7).await;
    }
}

both_backends! {
    async fn pages_by_status_and_date_found_from_the_leads_counted_per_status_and_day(t: TestCrm) {
        // "go to page N" of the list sorted by status, or by date, finds its row from the leads
        // counted per status and UTC day (`status_days:<status>:<day>`), and one owner's by date
        // from the leads per owner and day (`owner_days:<owner>:<day>`): rows on either side of
        // UTC's midnight and at it, ties, every status, two owners and none, archived leads,
        // moved by each write's triggers (status, creation time, owner, archive)
        t.demo(15, 400).await;
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc);
        let edges = [at("2026-03-01T00:00:00Z"), at("2026-02-28T23:59:59.999Z"), at("2026-03-01T00:00:00.001Z")];
        let mut tx = t.crm.db().write().await.unwrap();
        for (k, edge) in edges.iter().enumerate() {
            let moved = Query::new("update leads set created_at = $1 where id % 13 = $2").bind(*edge).bind(k as i64);
            tx.execute(moved).await.unwrap();
        }
        tx.commit().await.unwrap();
        execute_all(&t, &[
            "update leads set status = 'new' where id % 9 = 0 and status = 'in_work'",
            "update leads set status = 'in_work' where id % 9 = 1 and status = 'new'",
            "update leads set is_archived = true where id % 17 = 0 and id not in (select lead_id from clients)",
        ]).await;
        // two owners' leads, and some with none
        let manager = t.user("masha", &["manager"]).await.user_id;
        let mut tx = t.crm.db().write().await.unwrap();
        tx.execute(Query::new("update leads set owner_id = $1 where id % 3 <> 0").bind(manager)).await.unwrap();
        tx.execute(Query::new("update leads set owner_id = null where id % 7 = 0")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap().list_counts, [], "the days are counted as they change");
        for sort in [LeadSort::Status, LeadSort::CreatedAt] {
            for direction in [Some(Direction::Asc), Some(Direction::Desc)] {
                for include_archived in [false, true] {
                    // every lead, and those of one status (its days alone), and one owner's
                    for status in [None, Some(LeadStatus::InWork)] {
                        let list =
                            List::Leads(LeadFilter { sort, direction, include_archived, status, ..Default::default() });
                        check(&t, &list, 7).await;
                    }
                    let owner_id = Some(manager);
                    let list = List::Leads(LeadFilter { sort, direction, include_archived, owner_id, ..Default::default() });
                    check(&t, &list, 7).await;
                }
            }
        }
        // the pages are found by the counts indeed: three leads moved from the first part to
        // the last behind the triggers' back (the sum unchanged) put a page by number three rows on
        let live = "from list_counts where list like 'status_days:%' and is_archived = false";
        let in_work = "from list_counts where list like 'status_days:in!_work:%' escape '!' and is_archived = false";
        let by_day = "substr(list, length(list) - 9)";
        let owned = format!("from list_counts where list like 'owner!_days:{manager}:%' escape '!' and is_archived = false");
        for (sort, status, owner_id, first, last) in [
            (LeadSort::Status, None, None, format!("select min(list) {live}"), format!("select max(list) {live}")),
            (
                LeadSort::CreatedAt,
                None,
                None,
                format!("select list {live} order by {by_day}, list limit 1"),
                format!("select list {live} order by {by_day} desc, list limit 1"),
            ),
            (
                LeadSort::CreatedAt,
                Some(LeadStatus::InWork),
                None,
                format!("select min(list) {in_work}"),
                format!("select max(list) {in_work}"),
            ),
            (LeadSort::CreatedAt, None, Some(manager), format!("select min(list) {owned}"), format!("select max(list) {owned}")),
        ] {
            let moved = |n: i64| {
                [
                    format!("update list_counts set n = n - {n} where list = ({first}) and is_archived = false"),
                    format!("update list_counts set n = n + {n} where list = ({last}) and is_archived = false"),
                ]
            };
            let statements = moved(3);
            execute_all(&t, &statements.iter().map(String::as_str).collect::<Vec<_>>()).await;
            let list =
                List::Leads(LeadFilter { sort, status, owner_id, direction: Some(Direction::Asc), ..Default::default() });
            let order = list.read(&t, PageRequest::new(0, PageRequest::MAX_LIMIT)).await.items;
            let page = list.read(&t, PageRequest::new(70, 7)).await;
            assert_eq!(page.items, order[73..80], "{sort:?}: the 74th row is taken for the 71st");
            let statements = moved(-3);
            execute_all(&t, &statements.iter().map(String::as_str).collect::<Vec<_>>()).await;
            check(&t, &list, 7).await;
        }
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap().list_counts, []);
    }
}

both_backends! {
    async fn a_search_within_dates_past_the_bound_is_paged_exactly(t: TestCrm) {
        t.demo(20, 9000).await;
        // two leads in three hold "zqx", half of them at the start of their text: about 3,000
        // within the first half of the demo's year (SQLite reads those and sorts them), about
        // 6,000 within the whole year (more than it sorts: the dates' index is walked)
        execute_all(&t, &[
            "update leads set search = 'zqx' || search where id % 3 = 1",
            "update leads set search = search || ' zqx' where id % 3 = 2",
        ]).await;
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        let mut lists = Vec::new();
        for (from, to) in [(day(2026, 1, 1), day(2026, 6, 30)), (day(2025, 1, 1), None)] {
            for sort in [LeadSort::CreatedAt, LeadSort::FullName] {
                for direction in [None, Some(Direction::Asc)] {
                    let plain = LeadFilter { created_from: from, created_to: to, sort, direction, ..Default::default() };
                    lists.push((List::Leads(plain.clone()), List::Leads(LeadFilter { search: "zqx".into(), ..plain })));
                }
            }
        }
        pages_past_the_bound(&t, &lists, |id| id % 3 != 0).await;
    }
}

both_backends! {
    async fn a_dated_list_is_counted_exactly_from_the_kept_days(t: TestCrm) {
        // the total of the live leads created within dates comes from the roll-ups' days
        // (`kept_dated_count`), of one status from the leads kept per status and day: rows on either side of midnights (this computer's: UTC in the
        // tests, and the office's), leads without a campaign, archived ones; on PostgreSQL
        // also once the office's days are another zone's, where the rows are counted instead
        t.demo(12, 400).await;
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc);
        let edges = [
            at("2026-03-01T00:00:00+00:00"),
            at("2026-02-28T23:59:59.999+00:00"),
            at("2026-03-01T00:00:00+10:00"),
            at("2026-03-31T23:59:59+00:00"),
            at("2026-04-01T00:00:00+00:00"),
        ];
        let mut tx = t.crm.db().write().await.unwrap();
        for (k, edge) in edges.iter().enumerate() {
            let moved = Query::new("update leads set created_at = $1 where id % 11 = $2").bind(*edge).bind(k as i64);
            tx.execute(moved).await.unwrap();
        }
        tx.execute(Query::new("update leads set campaign_id = null where id % 13 = 0")).await.unwrap();
        tx.execute(Query::new("update leads set is_archived = true where id % 7 = 0 and id not in (select lead_id from clients)"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d);
        let periods = [
            (day(3, 1), day(3, 31)),
            (day(2, 28), day(3, 1)),
            (day(3, 1), day(3, 1)),
            (day(3, 1), None),
            (None, day(2, 28)),
            (None, day(3, 31)),
            (day(4, 1), day(4, 1)),
            (day(1, 1), day(12, 31)),
        ];
        let zones: &[Option<&str>] = if t.crm.db().backend() == crm::db::Backend::Postgres {
            &[None, Some("Asia/Vladivostok")]
        } else {
            &[None]
        };
        for zone in zones {
            if let Some(zone) = zone {
                execute_all(&t, &[&format!("update office set time_zone = '{zone}'"), "select crm_stat_rebuild()"]).await;
            }
            for (from, to) in periods {
                // and of one status: from the leads kept per status and UTC day
                // (`kept_status_dated_count`)
                for status in std::iter::once(None).chain(LeadStatus::ALL.into_iter().map(Some)) {
                    let filter = LeadFilter { created_from: from, created_to: to, status, ..Default::default() };
                    // every row read (the lists fit one page of the maximum), compared with the total
                    let whole = List::Leads(filter).read(&t, PageRequest::new(0, PageRequest::MAX_LIMIT)).await;
                    let what = format!("{from:?}..{to:?} {status:?} ({zone:?})");
                    assert!(whole.items.len() < PageRequest::MAX_LIMIT as usize, "{what}: one page holds them");
                    assert_eq!(whole.total, whole.items.len() as i64, "{what}: the total");
                }
            }
        }
        // the furthest dates a form takes keep every live lead
        let all = List::Leads(LeadFilter::default()).read(&t, PageRequest::new(0, 10)).await.total;
        let widest = LeadFilter {
            created_from: chrono::NaiveDate::from_ymd_opt(1900, 1, 1),
            created_to: chrono::NaiveDate::from_ymd_opt(9999, 12, 31),
            ..Default::default()
        };
        let whole = List::Leads(widest).read(&t, PageRequest::new(0, PageRequest::MAX_LIMIT)).await;
        assert_eq!((whole.total, whole.items.len() as i64), (all, all), "1900-01-01..9999-12-31");
        // a period holding rows at all: the comparisons above are not of empty lists
        let march = LeadFilter { created_from: day(3, 1), created_to: day(3, 31), ..Default::default() };
        assert!(List::Leads(march).read(&t, PageRequest::new(0, 10)).await.total > 50);
    }
}
