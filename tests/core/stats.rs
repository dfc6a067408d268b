//! Campaign statistics on hand-computed data sets, on both backends.

use chrono::{Duration, NaiveDate, Utc};
use crm::campaigns::CampaignInput;
use crm::clients::{Client, Conversion};
use crm::db::Query;
use crm::leads::{Lead, LeadInput};
use crm::stats::{CampaignRow, ClientSalesFilter, StatsFilter};
use rust_decimal::Decimal;

use crate::both_backends;
use crate::contracts::{contract, service};
use crate::support::TestCrm;
use crm::domain::id::{CampaignId, ChannelId, ClientId, ServiceId};

async fn channels(t: &TestCrm) -> (ChannelId, ChannelId) {
    let all = t.crm.list_channels(&t.admin, false).await.unwrap();
    (all[0].id, all[1].id)
}

async fn campaign(t: &TestCrm, name: &str, service_id: ServiceId, channel_id: ChannelId, budget: &str) -> CampaignId {
    let input = CampaignInput {
        name: name.into(),
        service_id: Some(service_id),
        channel_id: Some(channel_id),
        budget: budget.into(),
        starts_on: "2026-01-01".into(),
        ends_on: String::new(),
    };
    t.crm.create_campaign(&t.admin, &input).await.expect("campaign").id
}

async fn lead(t: &TestCrm, campaign_id: Option<CampaignId>, n: u32) -> Lead {
    let input = LeadInput {
        full_name: format!("Клиент {n}"),
        phone: format!("+7912{n:07}"),
        campaign_id,
        ..Default::default()
    };
    t.crm.create_lead(&t.admin, &input).await.expect("lead")
}

async fn convert(t: &TestCrm, lead: &Lead, contract_name: &str, service_id: ServiceId, amount: &str) -> Client {
    let conversion = Conversion::NewContract { contract: contract(contract_name, service_id, amount), document: None };
    t.crm.convert_lead(&t.admin, lead.id, lead.version, conversion).await.expect("conversion")
}

async fn backdate(t: &TestCrm, lead: &Lead, days: i64) {
    let mut tx = t.crm.db().write().await.unwrap();
    let at = Utc::now() - Duration::days(days);
    tx.execute(Query::new("update leads set created_at = $1 where id = $2").bind(at).bind(lead.id)).await.unwrap();
    tx.commit().await.unwrap();
}

fn row(rows: &[CampaignRow], id: CampaignId) -> &CampaignRow {
    rows.iter().find(|r| r.campaign_id == id).expect("campaign in the statistics")
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn money(m: Option<crm::domain::Money>) -> Option<String> {
    m.map(|m| m.to_string())
}

both_backends! {
    async fn three_leads_two_converted_for_2000_on_a_1000_budget_give_a_ratio_of_two(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1 000").await;
        let leads = [lead(&t, Some(a), 1).await, lead(&t, Some(a), 2).await, lead(&t, Some(a), 3).await];
        convert(&t, &leads[0], "Д-1", seo, "750").await;
        convert(&t, &leads[1], "Д-2", seo, "1 250").await;

        let stats = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();

        let f = &row(&stats.campaigns, a).figures;
        assert_eq!((f.leads, f.clients), (3, 2));
        assert_eq!((f.revenue.to_string(), f.budget.to_string()), ("2000.00".into(), "1000.00".into()));
        assert_eq!(f.roas, Some(dec("2")));
        assert_eq!(f.conversion, Some(dec("0.6667")));
        assert_eq!(money(f.cost_per_lead), Some("333.33".into()));
        assert_eq!(money(f.cost_per_client), Some("500.00".into()));
        assert_eq!(stats.total, *f);
    }

    async fn zero_budgets_and_campaigns_without_leads_give_no_value_instead_of_errors(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let free = campaign(&t, "Бесплатная", seo, context, "0").await;
        let empty = campaign(&t, "Пустая", seo, context, "300").await;
        let l = lead(&t, Some(free), 1).await;
        lead(&t, Some(free), 2).await;
        convert(&t, &l, "Д-1", seo, "500").await;

        let stats = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();

        let f = &row(&stats.campaigns, free).figures;
        assert_eq!((f.leads, f.clients, f.roas), (2, 1, None));
        assert_eq!((money(f.cost_per_lead), money(f.cost_per_client)), (Some("0.00".into()), Some("0.00".into())));
        let e = &row(&stats.campaigns, empty).figures;
        assert_eq!((e.leads, e.clients, e.conversion, e.cost_per_lead, e.cost_per_client), (0, 0, None, None, None));
        assert_eq!(e.roas, Some(Decimal::ZERO));
        assert_eq!(stats.total.roas, Some(dec("1.6667")));
    }

    async fn a_client_with_several_contracts_counts_each_once_and_the_budget_once(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1000").await;
        let b = campaign(&t, "Лето", seo, context, "500").await;
        let first = lead(&t, Some(a), 1).await;
        lead(&t, Some(a), 2).await;
        let client = convert(&t, &first, "Д-1", seo, "750").await;
        t.crm.add_contract_to_client(&t.admin, client.id, &contract("Д-2", seo, "250"), None).await.unwrap();
        t.crm.add_contract_to_client(&t.admin, client.id, &contract("Д-3", seo, "1000"), None).await.unwrap();
        let other = lead(&t, Some(b), 3).await;
        convert(&t, &other, "Д-4", seo, "100").await;

        let stats = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();

        let f = &row(&stats.campaigns, a).figures;
        assert_eq!((f.leads, f.clients, f.revenue.to_string(), f.budget.to_string()),
                   (2, 1, "2000.00".into(), "1000.00".into()));
        assert_eq!((stats.total.leads, stats.total.clients), (3, 2));
        assert_eq!((stats.total.revenue.to_string(), stats.total.budget.to_string()),
                   ("2100.00".into(), "1500.00".into()));
        assert_eq!(stats.total.roas, Some(dec("1.4")));
    }

    async fn a_period_counts_only_the_leads_created_in_it(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1000").await;
        let old = lead(&t, Some(a), 1).await;
        let recent = lead(&t, Some(a), 2).await;
        lead(&t, Some(a), 3).await;
        backdate(&t, &old, 40).await;
        backdate(&t, &recent, 5).await;
        convert(&t, &t.crm.get_lead(&t.admin, old.id).await.unwrap(), "Д-1", seo, "900").await;
        let today = chrono::Local::now().date_naive();

        let last_week = StatsFilter { from: Some(today - Duration::days(7)), to: Some(today), ..Default::default() };
        let stats = t.crm.campaign_stats(&t.admin, &last_week).await.unwrap();
        let f = &row(&stats.campaigns, a).figures;
        assert_eq!((f.leads, f.clients, f.revenue.to_string()), (2, 0, "0.00".into()));

        let long_ago = StatsFilter {
            from: Some(today - Duration::days(60)),
            to: Some(today - Duration::days(30)),
            ..Default::default()
        };
        let stats = t.crm.campaign_stats(&t.admin, &long_ago).await.unwrap();
        let f = &row(&stats.campaigns, a).figures;
        assert_eq!((f.leads, f.clients, f.revenue.to_string()), (1, 1, "900.00".into()));
    }

    async fn campaigns_outside_the_period_without_leads_in_it_are_left_out(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1000").await;
        let period = StatsFilter {
            from: NaiveDate::from_ymd_opt(2025, 1, 1),
            to: NaiveDate::from_ymd_opt(2025, 12, 31),
            ..Default::default()
        };
        let stats = t.crm.campaign_stats(&t.admin, &period).await.unwrap();
        assert!(stats.campaigns.iter().all(|r| r.campaign_id != a));
        assert_eq!(stats.total.budget.to_string(), "0.00");
    }

    async fn channel_and_service_filters_narrow_the_rows_and_channels_roll_up(t: TestCrm) {
        let (seo, web) = (service(&t, "SEO").await, service(&t, "Сайт").await);
        let (context, social) = channels(&t).await;
        let a = campaign(&t, "Контекст SEO", seo, context, "1000").await;
        let b = campaign(&t, "Контекст сайт", web, context, "2000").await;
        let c = campaign(&t, "Соцсети SEO", seo, social, "400").await;
        for (n, id) in [(1, a), (2, b), (3, b), (4, c)] {
            lead(&t, Some(id), n).await;
        }

        let only_context = StatsFilter { channel_id: Some(context), ..Default::default() };
        let stats = t.crm.campaign_stats(&t.admin, &only_context).await.unwrap();
        let ids: Vec<CampaignId> = stats.campaigns.iter().map(|r| r.campaign_id).collect();
        assert_eq!((ids.len(), stats.total.leads, stats.total.budget.to_string()), (2, 3, "3000.00".into()));

        let only_seo = StatsFilter { service_id: Some(seo), ..Default::default() };
        let stats = t.crm.campaign_stats(&t.admin, &only_seo).await.unwrap();
        let mut ids: Vec<CampaignId> = stats.campaigns.iter().map(|r| r.campaign_id).collect();
        ids.sort();
        assert_eq!(ids, vec![a, c]);

        let all = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();
        let ctx = all.channels.iter().find(|c| c.channel_id == context).unwrap();
        assert_eq!((ctx.campaigns, ctx.figures.leads, ctx.figures.budget.to_string()), (2, 3, "3000.00".into()));
        assert_eq!(money(ctx.figures.cost_per_lead), Some("1000.00".into()));
    }

    async fn archived_leads_and_leads_without_a_campaign_are_not_counted_but_archived_campaigns_are(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1000").await;
        let gone = campaign(&t, "Архив", seo, context, "5000").await;
        lead(&t, Some(a), 1).await;
        let spam = lead(&t, Some(a), 2).await;
        t.crm.set_lead_archived(&t.admin, spam.id, spam.version, true).await.unwrap();
        lead(&t, None, 3).await;
        lead(&t, Some(gone), 4).await;
        let g = t.crm.get_campaign(&t.admin, gone).await.unwrap();
        t.crm.set_campaign_archived(&t.admin, gone, g.version, true).await.unwrap();

        let stats = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();

        // archiving a finished campaign tidies the lists; its spend and leads stay in history
        let archived: Vec<_> = stats.campaigns.iter().map(|c| (c.name.as_str(), c.is_archived)).collect();
        assert_eq!(archived, vec![("Архив", true), ("Весна", false)]);
        assert_eq!((stats.total.leads, stats.total.budget.to_string()), (2, "6000.00".into()));
    }

    async fn a_period_beyond_any_calendar_is_a_field_error_not_a_crash(t: TestCrm) {
        let far = StatsFilter { to: chrono::NaiveDate::from_ymd_opt(262_142, 12, 31), ..Default::default() };
        let err = t.crm.campaign_stats(&t.admin, &far).await.unwrap_err();
        assert_eq!(err.first_field(), Some("to"));
    }

    async fn sales_volume_per_client_is_largest_first_and_follows_the_signing_period(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1000").await;
        let small = convert(&t, &lead(&t, Some(a), 1).await, "Д-1", seo, "100").await;
        let big = convert(&t, &lead(&t, Some(a), 2).await, "Д-2", seo, "700").await;
        let mut later = contract("Д-3", seo, "50");
        later.signed_on = "2025-09-01".into();
        t.crm.add_contract_to_client(&t.admin, small.id, &later, None).await.unwrap();

        let page = t.crm.client_sales(&t.admin, &ClientSalesFilter::default()).await.unwrap();
        let rows: Vec<(ClientId, i64, String)> =
            page.items.iter().map(|r| (r.client_id, r.contracts, r.revenue.to_string())).collect();
        assert_eq!(page.total, 2);
        assert_eq!(rows, vec![(big.id, 1, "700.00".into()), (small.id, 2, "150.00".into())]);
        assert_eq!(page.items[0].campaign.as_deref(), Some("Весна"));

        let autumn = ClientSalesFilter {
            from: NaiveDate::from_ymd_opt(2025, 8, 1),
            to: NaiveDate::from_ymd_opt(2025, 12, 31),
            ..Default::default()
        };
        let page = t.crm.client_sales(&t.admin, &autumn).await.unwrap();
        assert_eq!((page.total, page.items[0].revenue.to_string()), (1, "50.00".into()));
    }

    async fn a_period_that_ends_before_it_starts_is_refused_on_its_end(t: TestCrm) {
        let period = StatsFilter {
            from: NaiveDate::from_ymd_opt(2026, 2, 1),
            to: NaiveDate::from_ymd_opt(2026, 1, 1),
            ..Default::default()
        };
        let err = t.crm.campaign_stats(&t.admin, &period).await.unwrap_err();
        assert_eq!(err.first_field(), Some("to"));
    }

    async fn editing_a_contract_amount_updates_the_client_and_the_statistics(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let a = campaign(&t, "Весна", seo, context, "1000").await;
        let client = convert(&t, &lead(&t, Some(a), 1).await, "Д-1", seo, "750").await;
        let listed = t.crm.list_contracts(&t.admin, &Default::default()).await.unwrap().items;
        t.crm.update_contract(&t.admin, listed[0].id, listed[0].version, &contract("Д-1", seo, "900")).await.unwrap();

        let client = t.crm.get_client(&t.admin, client.id).await.unwrap();
        assert_eq!((client.contracts, client.revenue.to_string()), (1, "900.00".into()));
        let stats = t.crm.campaign_stats(&t.admin, &StatsFilter::default()).await.unwrap();
        assert_eq!(row(&stats.campaigns, a).figures.revenue.to_string(), "900.00");
    }

    async fn demo_data_keeps_the_same_client_totals_as_its_contracts(t: TestCrm) {
        let options = crm::demo::DemoOptions {
            seed: 9,
            leads: 400,
            anchor: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            append: false,
            password: "demo-password".into(),
            with_other_users: false,
            until: None,
        };
        // the harness's administrator is the only user
        let report = t.crm.generate_demo(Some(&t.admin), &options).await.unwrap();
        assert!(report.clients > 0);
        let mut tx = t.crm.db().read().await.unwrap();
        let wrong: i64 = tx
            .scalar(Query::new(
                "select count(*) from clients cl where cl.contracts <> (select count(*) from contracts where client_id = cl.id)
                 or cl.revenue <> (select coalesce(sum(amount), 0) from contracts where client_id = cl.id)",
            ))
            .await
            .unwrap();
        assert_eq!(wrong, 0);
    }

    async fn sales_for_a_period_are_those_of_the_contracts_summed_whole_on_every_page(t: TestCrm) {
        // 20,000 leads: about 2,900 contracts in the year, so a long period is paged from the
        // clients of the largest totals and a short one summed whole (stats::DIRECT_SALES)
        t.demo(14, 20_000).await;
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let seo = service(&t, "SEO").await;
        // the signing order each contract keeps, changed every way a contract changes: a further
        // contract on a day its client already signed, one before all of its others, a signing
        // day moved back and forth; and clients archived at the top of the totals and below
        // (the contracts per signing day follow: see the verification below)
        let all_time = ClientSalesFilter { page: crm::PageRequest::new(0, 500), ..Default::default() };
        let top = t.crm.client_sales(&t.admin, &all_time).await.unwrap().items;
        let (first, third) = (top[0].client_id, top[7].client_id);
        let mut tx = t.crm.db().read().await.unwrap();
        let signed: NaiveDate = tx
            .scalar(Query::new("select min(signed_on) from contracts where client_id = $1").bind(third))
            .await
            .unwrap();
        drop(tx);
        let mut same_day = contract("Д-той-же-даты", seo, "9000000");
        (same_day.signed_on, same_day.valid_from, same_day.valid_to) =
            (signed.to_string(), signed.to_string(), "2027-12-31".into());
        t.crm.add_contract_to_client(&t.admin, third, &same_day, None).await.unwrap();
        let mut earliest = contract("Д-ранний", seo, "1234");
        (earliest.signed_on, earliest.valid_from, earliest.valid_to) =
            ("2025-07-01".into(), "2025-07-01".into(), "2027-12-31".into());
        let moved = t.crm.add_contract_to_client(&t.admin, third, &earliest, None).await.unwrap();
        for (n, to) in [(1, "2026-04-15"), (2, "2025-08-02")] {
            let current = t.crm.get_contract(&t.admin, moved.id).await.unwrap();
            let mut input = contract(&format!("Д-ранний-{n}"), seo, "1234");
            (input.signed_on, input.valid_from, input.valid_to) = (to.into(), to.into(), "2027-12-31".into());
            t.crm.update_contract(&t.admin, moved.id, current.version, &input).await.unwrap();
        }
        for client in [first, top[40].client_id, top[300].client_id] {
            let version = t.crm.get_client(&t.admin, client).await.unwrap().version;
            t.crm.set_client_archived(&t.admin, client, version, true).await.unwrap();
        }
        assert!(t.crm.verify_stats(&t.admin).await.unwrap().is_empty());

        let periods = [
            (None, Some("2026-06-30")),
            (Some("2025-07-01"), None),
            (Some("2026-01-01"), Some("2026-06-30")),
            (Some("2026-06-01"), Some("2026-06-30")),
            (Some("2026-03-10"), Some("2026-03-10")),
            (None, Some("2025-09-30")),
            (Some("2030-01-01"), None),
            // periods that contracts were signed after: the signers counted from the contracts
            // following one of the period's days, or from those signed after it
            (Some("2025-10-01"), Some("2026-06-20")),
            (None, Some("2026-06-25")),
            (Some("2025-08-01"), Some("2025-08-31")),
        ];
        for (from, to) in periods {
            let (from, to) = (from.map(day), to.map(day));
            let mut tx = t.crm.db().read().await.unwrap();
            let expected: Vec<(i64, i64, i64)> = tx
                .fetch_all(
                    Query::new(
                        "select cl.id, count(*), cast(sum(k.amount) as bigint) from contracts k join clients cl on cl.id = k.client_id
                         where cl.is_archived = false and k.signed_on >= $1 and k.signed_on <= $2
                         group by cl.id order by sum(k.amount) desc, cl.id desc",
                    )
                    .bind(from.unwrap_or(day("1900-01-01")))
                    .bind(to.unwrap_or(day("2100-01-01"))),
                )
                .await
                .unwrap();
            drop(tx);
            for (offset, limit) in [(0, 50), (50, 50), (0, 500), (200, 100), (900, 100), (1500, 50)] {
                let filter =
                    ClientSalesFilter { from, to, page: crm::PageRequest::new(offset, limit), ..Default::default() };
                let page = t.crm.client_sales(&t.admin, &filter).await.unwrap();
                let got: Vec<(i64, i64, i64)> =
                    page.items.iter().map(|r| (r.client_id.get(), r.contracts, r.revenue.kopecks())).collect();
                let want: Vec<_> = expected.iter().skip(offset as usize).take(limit as usize).copied().collect();
                assert_eq!((page.total, got), (expected.len() as i64, want), "{from:?}..{to:?} at {offset}+{limit}");
            }
        }
    }

    async fn clients_are_filtered_by_the_campaign_that_brought_them(t: TestCrm) {
        let (seo, (context, _)) = (service(&t, "SEO").await, channels(&t).await);
        let (a, b) = (campaign(&t, "Весна", seo, context, "1").await, campaign(&t, "Лето", seo, context, "1").await);
        let from_a = convert(&t, &lead(&t, Some(a), 1).await, "Д-1", seo, "10").await;
        convert(&t, &lead(&t, Some(b), 2).await, "Д-2", seo, "10").await;
        convert(&t, &lead(&t, None, 3).await, "Д-3", seo, "10").await;

        let filter = crm::clients::ClientFilter { campaign_id: Some(a), ..Default::default() };
        let page = t.crm.list_clients(&t.admin, &filter).await.unwrap();

        assert_eq!((page.total, page.items.len(), page.items[0].id), (1, 1, from_a.id));
        assert_eq!(t.crm.list_clients(&t.admin, &Default::default()).await.unwrap().total, 3);
    }

    async fn every_role_sees_statistics(t: TestCrm) {
        for (name, role) in [("o", "operator"), ("m", "marketer"), ("g", "manager")] {
            let actor = t.user(name, &[role]).await;
            t.crm.campaign_stats(&actor, &StatsFilter::default()).await.unwrap();
            t.crm.client_sales(&actor, &ClientSalesFilter::default()).await.unwrap();
        }
    }
}
