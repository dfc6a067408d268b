//! The statistics' roll-ups (`stat_days`, kept by the database on every write) against the
//! reference aggregate over the rows, on both backends: random sequences of every kind of write
//! that changes a figure, compared for random periods, channels and services; `verify` and
//! `rebuild`; the demo generator and an import with its undo.
//!
//! `CRM_ROLLUP_SEED=N` replays one sequence; `CRM_ROLLUP_STEPS=N` makes each longer.

use std::sync::atomic::AtomicBool;

use chrono::{Datelike as _, Duration, NaiveDate, Utc};
use crm::bulk::{LeadAction, Selection};
use crm::clients::Conversion;
use crm::db::Query;
use crm::i18n::Lang;
use crm::import::{ImportKind, ImportOptions};
use crm::leads::{Lead, LeadInput, LeadStatus};
use crm::merge::MergeInput;
use crm::stats::series::{SeriesFilter, Step};
use crm::stats::StatsFilter;
use crm::Error;

use crate::both_backends;
use crate::contracts::{contract, service};
use crate::support::TestCrm;
use crm::domain::id::{CampaignId, ChannelId, ClientId, ContractId, LeadId, ServiceId};

/// A small, fast, reproducible generator (splitmix64): the sequence is the seed's.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())])
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// What the sequence works with.
struct World {
    campaigns: Vec<CampaignId>,
    channels: Vec<ChannelId>,
    services: Vec<ServiceId>,
    leads: Vec<LeadId>,
    clients: Vec<ClientId>,
    contracts: Vec<ContractId>,
    /// Clients are handed between the administrator and this manager.
    manager: crm::domain::id::UserId,
    serial: u32,
}

async fn world(t: &TestCrm) -> World {
    let services = vec![service(t, "SEO").await, service(t, "Сайты").await];
    let channels: Vec<ChannelId> =
        t.crm.list_channels(&t.admin, false).await.unwrap().iter().take(2).map(|c| c.id).collect();
    let mut campaigns = Vec::new();
    for (n, (service_id, channel_id)) in
        services.iter().flat_map(|s| channels.iter().map(move |c| (*s, *c))).enumerate()
    {
        let input = crm::campaigns::CampaignInput {
            name: format!("Кампания {n}"),
            service_id: Some(service_id),
            channel_id: Some(channel_id),
            budget: format!("{}", 1000 * (n + 1)),
            starts_on: "2026-01-01".into(),
            ends_on: String::new(),
        };
        campaigns.push(t.crm.create_campaign(&t.admin, &input).await.unwrap().id);
    }
    let manager = t.user("masha", &["manager"]).await.user_id;
    World {
        campaigns,
        channels,
        services,
        leads: Vec::new(),
        clients: Vec::new(),
        contracts: Vec::new(),
        manager,
        serial: 0,
    }
}

fn input_of(lead: &Lead) -> LeadInput {
    LeadInput {
        full_name: lead.full_name.clone(),
        phone: lead.phone.clone().unwrap_or_default(),
        email: lead.email.clone().unwrap_or_default(),
        campaign_id: lead.campaign_id,
        note: lead.note.clone(),
        ..Default::default()
    }
}

/// A refusal the sequence may meet (a converted lead archived, a phone taken on restore, a
/// merge of two clients): anything else fails the test.
fn expected<T>(result: crm::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::Invalid(_) | Error::State { .. } | Error::Conflict { .. }) => None,
        Err(other) => panic!("unexpected error: {other:?}"),
    }
}

/// One random write of any kind that changes the figures (or should not).
async fn step(t: &TestCrm, w: &mut World, rng: &mut Rng) {
    w.serial += 1;
    let n = w.serial;
    let lead_id = rng.pick(&w.leads);
    match rng.below(14) {
        0..=2 => {
            let campaign_id = if rng.chance(15) { None } else { rng.pick(&w.campaigns) };
            let input = LeadInput {
                full_name: format!("Лид {n}"),
                phone: format!("+7913{n:07}"),
                campaign_id,
                ..Default::default()
            };
            let lead = t.crm.create_lead(&t.admin, &input).await.unwrap();
            w.leads.push(lead.id);
        }
        3 => {
            // another campaign (or none)
            let Some(id) = lead_id else { return };
            let lead = t.crm.get_lead(&t.admin, id).await.unwrap();
            let campaign_id = if rng.chance(15) { None } else { rng.pick(&w.campaigns) };
            expected(
                t.crm.update_lead(&t.admin, id, lead.version, &LeadInput { campaign_id, ..input_of(&lead) }).await,
            );
        }
        4 => {
            let Some(id) = lead_id else { return };
            let lead = t.crm.get_lead(&t.admin, id).await.unwrap();
            expected(t.crm.set_lead_archived(&t.admin, id, lead.version, !lead.is_archived).await);
        }
        5 => {
            // another day (another month, or the edge of one)
            let Some(id) = lead_id else { return };
            let minutes = rng.below(100 * 24 * 60) as i64;
            let at = Utc::now() - Duration::minutes(minutes);
            let mut tx = t.crm.db().write().await.unwrap();
            tx.execute(Query::new("update leads set created_at = $1 where id = $2").bind(at).bind(id)).await.unwrap();
            tx.commit().await.unwrap();
        }
        6 => {
            let Some(id) = lead_id else { return };
            let lead = t.crm.get_lead(&t.admin, id).await.unwrap();
            let service_id = rng.pick(&w.services).unwrap();
            let amount = format!("{}", 100 + rng.below(100_000));
            let conversion =
                Conversion::NewContract { contract: contract(&format!("Д-{n}"), service_id, &amount), document: None };
            if let Some(client) = expected(t.crm.convert_lead(&t.admin, id, lead.version, conversion).await) {
                w.clients.push(client.id);
                w.contracts.extend(
                    t.crm.client_card(&t.admin, client.id).await.unwrap().contracts.iter().flatten().map(|c| c.id),
                );
            }
        }
        7 => {
            let Some(client_id) = rng.pick(&w.clients) else { return };
            let input =
                contract(&format!("Д-{n}"), rng.pick(&w.services).unwrap(), &format!("{}", 1 + rng.below(50_000)));
            if let Some(c) = expected(t.crm.add_contract_to_client(&t.admin, client_id, &input, None).await) {
                w.contracts.push(c.id);
            }
        }
        8 => {
            let Some(id) = rng.pick(&w.contracts) else { return };
            let c = t.crm.get_contract(&t.admin, id).await.unwrap();
            let mut input = contract(&c.name, c.service_id, &format!("{}", 1 + rng.below(90_000)));
            input.signed_on = c.signed_on.to_string();
            expected(t.crm.update_contract(&t.admin, id, c.version, &input).await);
        }
        9 => {
            let Some(id) = rng.pick(&w.contracts) else { return };
            let c = t.crm.get_contract(&t.admin, id).await.unwrap();
            expected(t.crm.set_contract_archived(&t.admin, id, c.version, !c.is_archived).await);
        }
        10 => {
            let Some(id) = rng.pick(&w.clients) else { return };
            let c = t.crm.get_client(&t.admin, id).await.unwrap();
            expected(t.crm.set_client_archived(&t.admin, id, c.version, !c.is_archived).await);
        }
        11 => {
            let (Some(keep), Some(drop)) = (lead_id, rng.pick(&w.leads)) else { return };
            let (a, b) = (t.crm.get_lead(&t.admin, keep).await.unwrap(), t.crm.get_lead(&t.admin, drop).await.unwrap());
            let take = if rng.chance(50) { vec!["campaign_id".to_owned()] } else { Vec::new() };
            let input = MergeInput { keep, keep_version: a.version, drop, drop_version: b.version, take };
            expected(t.crm.merge_leads(&t.admin, &input).await);
        }
        12 => {
            // a client handed to the manager or back
            let Some(id) = rng.pick(&w.clients) else { return };
            let c = t.crm.get_client(&t.admin, id).await.unwrap();
            let owner = if c.owner_id == Some(w.manager) { t.admin.user_id } else { w.manager };
            expected(t.crm.set_owner(&t.admin, crm::history::Record::Client(id), c.version, owner).await);
        }
        _ => {
            // several at once: archive, restore or a status
            let ids: Vec<i64> = (0..3).filter_map(|_| rng.pick(&w.leads)).map(LeadId::get).collect();
            let action = match rng.below(3) {
                0 => LeadAction::Archive,
                1 => LeadAction::Restore,
                _ => LeadAction::SetStatus { status: LeadStatus::InWork, lost_reason_id: None },
            };
            expected(t.crm.bulk_leads(&t.admin, &Selection::Ids { ids }, &action).await);
        }
    }
}

/// A random period (often none), channel and service.
fn filter(w: &World, rng: &mut Rng) -> StatsFilter {
    let today = Utc::now().date_naive();
    // often a month's first or last day, so that whole months and broken ones both occur
    let day = |rng: &mut Rng| {
        let day = today - Duration::days(rng.below(110) as i64 - 1);
        match rng.below(4) {
            0 => day.with_day(1).unwrap(),
            1 => (day.with_day(1).unwrap() + chrono::Months::new(1)).pred_opt().unwrap(),
            _ => day,
        }
    };
    let (mut from, mut to) = (rng.chance(60).then(|| day(rng)), rng.chance(60).then(|| day(rng)));
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            (from, to) = (Some(t), Some(f));
        }
    }
    StatsFilter {
        from,
        to,
        channel_id: if rng.chance(25) { rng.pick(&w.channels) } else { None },
        service_id: if rng.chance(25) { rng.pick(&w.services) } else { None },
    }
}

async fn assert_same(t: &TestCrm, filter: &StatsFilter, context: &str) {
    let kept = t.crm.campaign_stats(&t.admin, filter).await.unwrap();
    // the chart over time adds up to the table's total, whatever its step
    for step in [Step::Day, Step::Week, Step::Month] {
        let series = SeriesFilter {
            from: filter.from,
            to: filter.to,
            step,
            channel_id: filter.channel_id,
            service_id: filter.service_id,
            campaign_id: None,
        };
        let series = t.crm.stats_series(&t.admin, &series).await.unwrap();
        let sum = |f: fn(&crm::stats::series::Point) -> i64| series.points.iter().map(f).sum::<i64>();
        assert_eq!(
            (sum(|p| p.leads), sum(|p| p.clients), sum(|p| p.revenue.kopecks())),
            (kept.total.leads, kept.total.clients, kept.total.revenue.kopecks()),
            "{context}, {filter:?}, by {step:?}"
        );
    }
    let reference = t.crm.campaign_stats_reference(&t.admin, filter).await.unwrap();
    let (kept, reference) = (serde_json::to_value(&kept).unwrap(), serde_json::to_value(&reference).unwrap());
    assert!(kept == reference, "{context}, {filter:?}:\nroll-ups: {kept:#}\nrows: {reference:#}");
}

/// The lead list's totals from the kept counts (a random status, campaign, owner) and from the
/// roll-ups' days (a random period, nothing else asked) against the rows counted.
async fn assert_counts(t: &TestCrm, w: &World, rng: &mut Rng, context: &str) {
    use crm::leads::LeadFilter;
    let statuses = [LeadStatus::New, LeadStatus::InWork, LeadStatus::Converted, LeadStatus::Lost];
    let filter = LeadFilter {
        status: if rng.chance(50) { Some(statuses[rng.below(4)]) } else { None },
        campaign_id: if rng.chance(40) { rng.pick(&w.campaigns) } else { None },
        owner_id: if rng.chance(30) { Some(t.admin.user_id) } else { None },
        include_archived: rng.chance(30),
        ..Default::default()
    };
    let period = self::filter(w, rng);
    let dated = LeadFilter { created_from: period.from, created_to: period.to, ..Default::default() };
    for filter in [filter, dated] {
        let kept = t.crm.list_leads(&t.admin, &filter).await.unwrap().total;
        assert_eq!(kept, counted_leads(t, &filter).await, "{context}: {filter:?}");
    }
    // the clients of one owner (0041)
    let owner = if rng.chance(50) { t.admin.user_id } else { w.manager };
    let include_archived = rng.chance(30);
    let clients = crm::clients::ClientFilter { owner_id: Some(owner), include_archived, ..Default::default() };
    let kept = t.crm.list_clients(&t.admin, &clients).await.unwrap().total;
    let mut q = Query::new("select count(*) from clients where owner_id = ");
    q.push_bind(owner);
    if !include_archived {
        q.push(" and is_archived = false");
    }
    let mut tx = t.crm.db().read().await.unwrap();
    let counted: i64 = tx.scalar(q).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept, counted, "{context}: {clients:?}");
}

/// The leads `filter` keeps (its status, campaign, owner, dates, archived or not) counted from
/// the rows.
async fn counted_leads(t: &TestCrm, filter: &crm::leads::LeadFilter) -> i64 {
    use crm::domain::date::{local_day_end, local_day_start};
    let mut q = Query::new("select count(*) from leads l where 1 = 1");
    if !filter.include_archived {
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
        q.push(" and l.created_at >= ").push_bind(local_day_start(from));
    }
    if let Some(end) = filter.created_to.and_then(local_day_end) {
        q.push(" and l.created_at < ").push_bind(end);
    }
    let mut tx = t.crm.db().read().await.unwrap();
    let n = tx.scalar(q).await.unwrap();
    tx.commit().await.unwrap();
    n
}

async fn run_sequence(t: &TestCrm, seed: u64, steps: u64) {
    let mut rng = Rng(seed);
    let mut w = world(t).await;
    for i in 0..steps {
        step(t, &mut w, &mut rng).await;
        if i % 10 == 9 {
            for _ in 0..3 {
                let f = filter(&w, &mut rng);
                assert_same(t, &f, &format!("seed {seed}, after step {i}")).await;
                assert_counts(t, &w, &mut rng, &format!("seed {seed}, after step {i}")).await;
            }
        }
    }
    assert_same(t, &StatsFilter::default(), &format!("seed {seed}, at the end")).await;
    assert_eq!(
        t.crm.verify_stats(&t.admin).await.unwrap(),
        Default::default(),
        "seed {seed}: verify finds a difference"
    );
}

both_backends! {
    async fn random_writes_keep_the_roll_ups_equal_to_the_rows(t: TestCrm) {
        let steps = env_number("CRM_ROLLUP_STEPS").unwrap_or(160);
        let seed = env_number("CRM_ROLLUP_SEED").unwrap_or_else(|| Utc::now().timestamp_millis() as u64);
        run_sequence(&t, seed, steps).await;
    }

    async fn verify_reports_a_changed_roll_up_and_rebuild_repairs_it(t: TestCrm) {
        let mut rng = Rng(7);
        let mut w = world(&t).await;
        for _ in 0..40 {
            step(&t, &mut w, &mut rng).await;
        }
        let before = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();
        // someone with the owner's rights changes the kept figures behind the app's back
        let mut tx = t.crm.db().write().await.unwrap();
        tx.execute(Query::new("update stat_days set leads = leads + 5 where campaign_id = $1").bind(w.campaigns[0])).await.unwrap();
        tx.execute(Query::new("insert into lead_counts (campaign_id, owner_id, status, is_archived, n) values ($1, 999999, 'new', false, 2)").bind(w.campaigns[2])).await.unwrap();
        tx.execute(Query::new("insert into stat_days (campaign_id, day, leads, clients, revenue) values ($1, $2, 1, 1, 100)")
            .bind(w.campaigns[1]).bind(NaiveDate::from_ymd_opt(2001, 1, 1).unwrap())).await.unwrap();
        // (the all-campaign totals follow the days by their triggers; changed on their own too)
        tx.execute(Query::new("insert into stat_day_totals (day, shard, leads, clients, revenue) values ($1, 5, 3, 0, 0)")
            .bind(NaiveDate::from_ymd_opt(2002, 2, 2).unwrap())).await.unwrap();
        // (a count of archived contracts three above the rows, whether or not it had a row)
        tx.execute(Query::new("delete from list_counts where list = 'contracts' and is_archived = true")).await.unwrap();
        tx.execute(Query::new("insert into list_counts (list, is_archived, n) select 'contracts', true, count(*) + 3 from contracts where is_archived = true")).await.unwrap();
        // (two live clients of an owner who has none)
        tx.execute(Query::new("insert into list_counts (list, is_archived, n) values ('clients_of:999999', false, 2)")).await.unwrap();
        // (four archived leads whose names start with letters no lead's does)
        tx.execute(Query::new("insert into list_counts (list, is_archived, n) values ('names:zzz', true, 4)")).await.unwrap();
        // (four contracts following one signed on a day nothing was signed)
        tx.execute(Query::new("insert into signing_days (day, signed, continued) values ($1, 0, 4)")
            .bind(NaiveDate::from_ymd_opt(2001, 3, 3).unwrap())).await.unwrap();
        tx.commit().await.unwrap();

        let verification = t.crm.verify_stats(&t.admin).await.unwrap();
        let lists: Vec<_> = verification.list_counts.iter().map(|d| (d.list.as_str(), d.is_archived, d.kept - d.counted)).collect();
        assert_eq!(lists, vec![("clients_of:999999", false, 2), ("contracts", true, 3), ("names:zzz", true, 4)], "{verification:?}");
        let days: Vec<_> = verification.signing_days.iter().map(|d| (d.day.to_string(), d.kept_signed, d.signed, d.kept_continued, d.continued)).collect();
        assert_eq!(days, vec![("2001-03-03".to_string(), 0, 0, 4, 0)], "{verification:?}");
        assert!(!verification.lead_counts.is_empty() && verification.lead_counts.iter().all(|d| d.campaign_id == w.campaigns[2].get() && d.owner_id == 999_999 && (d.kept, d.counted) == (2, 0)), "{verification:?}");
        let found = verification.roll_ups;
        let (shares, found): (Vec<_>, Vec<_>) = found.into_iter().partition(|d| d.period == "share of all campaigns' day");
        assert!(found.iter().any(|d| d.campaign_id == w.campaigns[1].get() && d.kept_leads == 1 && d.leads == 0), "{found:?}");
        assert!(found.iter().filter(|d| d.campaign_id == w.campaigns[0].get()).all(|d| d.kept_leads == d.leads + 5), "{found:?}");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(shares.iter().any(|d| (d.campaign_id, d.day, d.kept_leads, d.leads) == (5, day(2002, 2, 2), 3, 0)), "{shares:?}");
        let share_of_first = w.campaigns[1].get() % 16;
        assert!(shares.iter().any(|d| (d.campaign_id, d.day, d.kept_leads, d.leads) == (share_of_first, day(2001, 1, 1), 1, 0)), "{shares:?}");
        let operator = t.user("olga", &["operator"]).await;
        assert!(matches!(t.crm.rebuild_stats(&operator).await, Err(Error::Forbidden(_))));
        assert!(!t.crm.verify_stats(&operator).await.unwrap().is_empty(), "every role may verify");
        // an operator does not see contracts, nor how many there are, nor clients' owners; the
        // leads' names are theirs
        let lists = t.crm.verify_stats(&operator).await.unwrap().list_counts;
        assert_eq!(lists.iter().map(|d| d.list.as_str()).collect::<Vec<_>>(), ["names:zzz"]);
        let marketer = t.user("mark", &["marketer"]).await;
        assert_eq!(t.crm.verify_stats(&marketer).await.unwrap().list_counts, []);

        t.crm.rebuild_stats(&t.admin).await.unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default());
        let after = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();
        assert_eq!(serde_json::to_value(after).unwrap(), serde_json::to_value(before).unwrap());
        let history = t.crm.history(&t.admin, &Default::default()).await.unwrap();
        assert_eq!(history.items[0].action, "rebuild_stats");
    }

    async fn the_chart_spreads_a_budget_over_its_days_and_narrows_to_one_campaign(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let channel = t.crm.list_channels(&t.admin, false).await.unwrap()[0].id;
        let input = crm::campaigns::CampaignInput {
            name: "Весна".into(),
            service_id: Some(seo),
            channel_id: Some(channel),
            budget: "3 100".into(),
            starts_on: "2026-03-01".into(),
            ends_on: "2026-03-31".into(),
        };
        let spring = t.crm.create_campaign(&t.admin, &input).await.unwrap().id;
        let other = crm::campaigns::CampaignInput { name: "Другая".into(), ends_on: "2026-03-10".into(), ..input };
        t.crm.create_campaign(&t.admin, &other).await.unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let filter = SeriesFilter {
            from: Some(day("2026-02-23")),
            to: Some(day("2026-03-15")),
            step: Step::Week,
            campaign_id: Some(spring),
            ..Default::default()
        };
        let series = t.crm.stats_series(&t.admin, &filter).await.unwrap();
        let weeks: Vec<(String, String, String)> =
            series.points.iter().map(|p| (p.start.to_string(), p.end.to_string(), p.spend.to_string())).collect();
        assert_eq!(
            weeks,
            [
                ("2026-02-23".into(), "2026-03-01".into(), "100.00".into()),
                ("2026-03-02".into(), "2026-03-08".into(), "700.00".into()),
                ("2026-03-09".into(), "2026-03-15".into(), "700.00".into()),
            ]
        );
        let both = SeriesFilter { campaign_id: None, step: Step::Month, ..filter };
        let months = t.crm.stats_series(&t.admin, &both).await.unwrap();
        assert_eq!(months.points.len(), 2);
        assert_eq!(months.points[1].spend.to_string(), "4600.00", "1,500 of Весна and all 3,100 of the other");
        let backwards = SeriesFilter { from: Some(day("2026-03-15")), to: Some(day("2026-03-01")), ..Default::default() };
        assert!(matches!(t.crm.stats_series(&t.admin, &backwards).await, Err(Error::Invalid(_))));
    }

    async fn the_demo_and_an_import_with_its_undo_keep_the_roll_ups(t: TestCrm) {
        let options = crm::demo::DemoOptions {
            seed: 3,
            leads: 600,
            anchor: Utc::now().date_naive(),
            append: false,
            password: "demo-password".into(),
            with_other_users: false,
            until: None,
        };
        t.crm.generate_demo(Some(&t.admin), &options).await.unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default(), "after the demo");
        assert_same(&t, &StatsFilter::default(), "after the demo").await;

        let campaign = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap().campaigns[0].campaign_id;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leads.csv");
        let mut csv = String::from("ФИО;Телефон\n");
        for n in 0..250 {
            csv.push_str(&format!("Загруженный {n};+7999{n:07}\n"));
        }
        std::fs::write(&path, csv).unwrap();
        let options = ImportOptions { campaign_id: Some(campaign), ..Default::default() };
        let report = t
            .crm
            .import(&t.admin, &path, "leads.csv", ImportKind::Leads, &options, Lang::Ru, &|_| {}, &AtomicBool::new(false))
            .await
            .unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default(), "after the import");
        assert_same(&t, &StatsFilter::default(), "after the import").await;
        t.crm.undo_import(&t.admin, report.import_id.unwrap()).await.unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default(), "after the undo");
        let today = Some(Utc::now().date_naive());
        assert_same(&t, &StatsFilter { from: today, to: today, ..Default::default() }, "after the undo").await;

        // a backup restored: the roll-ups are not in the file, the database makes them again
        let before = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();
        let made = crm::backup::make(t.crm.db(), &dir.path().join("b.crm-backup"), &|_| {}).await.unwrap();
        t.crm.create_lead(&t.admin, &LeadInput { full_name: "После копии".into(), phone: "+79990000001".into(), campaign_id: Some(campaign), ..Default::default() }).await.unwrap();
        crm::backup::restore(t.crm.db(), &made.path, &dir.path().join("aside.crm-backup"), &|_| {}).await.unwrap();
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default(), "after the restore");
        let after = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();
        assert_eq!(serde_json::to_value(after).unwrap(), serde_json::to_value(before).unwrap());
    }
}
