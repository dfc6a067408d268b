use chrono::{Days, Local, NaiveDate};
use crm::campaigns::{CampaignFilter, CampaignInput, CampaignSort, CampaignStatus};
use crm::leads::LeadInput;
use crm::{Error, PageRequest};

use crate::both_backends;
use crate::contracts::{field_errors as fields, service};
use crate::support::TestCrm;
use crm::domain::id::{ChannelId, ServiceId};

/// A day relative to today, the way the campaign rules count days.
fn day(offset: i64) -> NaiveDate {
    let today = Local::now().date_naive();
    if offset >= 0 {
        today + Days::new(offset as u64)
    } else {
        today - Days::new(offset.unsigned_abs())
    }
}

fn iso(offset: i64) -> String {
    day(offset).format("%Y-%m-%d").to_string()
}

/// The id of the `n`th seeded channel (by name).
async fn channel(t: &TestCrm, n: usize) -> ChannelId {
    t.crm.list_channels(&t.admin, false).await.unwrap()[n].id
}

fn input(
    name: &str,
    service: ServiceId,
    channel: ChannelId,
    budget: &str,
    starts: i64,
    ends: Option<i64>,
) -> CampaignInput {
    CampaignInput {
        name: name.into(),
        service_id: Some(service),
        channel_id: Some(channel),
        budget: budget.into(),
        starts_on: iso(starts),
        ends_on: ends.map(iso).unwrap_or_default(),
    }
}

/// Service and channel for tests that need just one campaign.
async fn basics(t: &TestCrm) -> (ServiceId, ChannelId) {
    (service(t, "Аудит сайта").await, channel(t, 0).await)
}

both_backends! {
    async fn a_marketer_creates_and_edits_a_campaign(t: TestCrm) {
        let marketer = t.user("maria", &["marketer"]).await;
        let (s, ch) = basics(&t).await;
        let mut form = input("  Весна   в соцсетях ", s, ch, "150 000,50", 5, None);
        form.starts_on = day(5).format("%d.%m.%Y").to_string();
        let created = t.crm.create_campaign(&marketer, &form).await.unwrap();
        assert_eq!((created.name.as_str(), created.service_name.as_str()), ("Весна в соцсетях", "Аудит сайта"));
        assert_eq!((created.budget.kopecks(), created.starts_on, created.ends_on), (15_000_050, day(5), None));
        assert_eq!(created.status, CampaignStatus::Planned);
        let edited = t.crm.update_campaign(&marketer, created.id, created.version, &input("Весна", s, ch, "0", 5, Some(30))).await.unwrap();
        assert_eq!((edited.version, edited.ends_on, edited.budget.kopecks()), (created.version.next(), Some(day(30)), 0));
    }

    async fn invalid_campaign_input_names_every_bad_field_and_writes_nothing(t: TestCrm) {
        let form = CampaignInput {
            name: " ".into(),
            service_id: None,
            channel_id: Some(ChannelId::new(999_999)),
            budget: "-1".into(),
            starts_on: "31.02.2025".into(),
            ends_on: "someday".into(),
        };
        let err = t.crm.create_campaign(&t.admin, &form).await.unwrap_err();
        assert_eq!(fields(err), vec![
            ("name", "required"),
            ("budget", "negative"),
            ("starts_on", "date_invalid"),
            ("ends_on", "date_invalid"),
            ("service_id", "required"),
            ("channel_id", "unknown"),
        ]);
        assert_eq!(t.crm.list_campaigns(&t.admin, &CampaignFilter::default()).await.unwrap().total, 0);
    }

    async fn an_end_before_the_start_and_archived_references_are_refused(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let svc = t.crm.get_service(&t.admin, s).await.unwrap();
        t.crm.set_service_archived(&t.admin, s, svc.version, true).await.unwrap();
        let mut form = input("Лето", s, ch, "100", 10, Some(9));
        form.starts_on = String::new();
        let err = t.crm.create_campaign(&t.admin, &form).await.unwrap_err();
        assert_eq!(fields(err), vec![("starts_on", "required"), ("service_id", "archived")]);
        let err = t.crm.create_campaign(&t.admin, &input("Лето", s, ch, "100", 10, Some(9))).await.unwrap_err();
        assert_eq!(fields(err), vec![("ends_on", "end_before_start"), ("service_id", "archived")]);
        assert_eq!(t.crm.list_campaigns(&t.admin, &CampaignFilter { include_archived: true, ..Default::default() }).await.unwrap().total, 0);
    }

    async fn a_campaign_stays_editable_after_its_channel_is_archived(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let c = t.crm.create_campaign(&t.admin, &input("Осень", s, ch, "100", 0, None)).await.unwrap();
        let channel = t.crm.list_channels(&t.admin, false).await.unwrap().remove(0);
        t.crm.set_channel_archived(&t.admin, channel.id, channel.version, true).await.unwrap();
        let edited = t.crm.update_campaign(&t.admin, c.id, c.version, &input("Осень", s, ch, "200", 0, None)).await.unwrap();
        assert_eq!(edited.budget.kopecks(), 20_000);
        let err = t.crm.create_campaign(&t.admin, &input("Зима", s, ch, "100", 0, None)).await.unwrap_err();
        assert_eq!(fields(err), vec![("channel_id", "archived")]);
    }

    async fn campaign_names_are_unique_ignoring_case(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        t.crm.create_campaign(&t.admin, &input("Черная пятница", s, ch, "1", 0, None)).await.unwrap();
        let err = t.crm.create_campaign(&t.admin, &input("ЧЕРНАЯ ПЯТНИЦА", s, ch, "1", 0, None)).await.unwrap_err();
        assert_eq!(fields(err), vec![("name", "name_taken")]);
    }

    async fn the_status_is_derived_from_the_dates_and_filters_in_the_database(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        for (name, starts, ends) in [("Прошлая", -30, Some(-1)), ("Текущая", -1, Some(1)), ("Сегодня", 0, None), ("Будущая", 1, None)] {
            t.crm.create_campaign(&t.admin, &input(name, s, ch, "1", starts, ends)).await.unwrap();
        }
        let names = |status| {
            let filter = CampaignFilter { status: Some(status), ..Default::default() };
            let crm = t.crm.clone();
            let admin = t.admin.clone();
            async move {
                let page = crm.list_campaigns(&admin, &filter).await.unwrap();
                assert!(page.items.iter().all(|c| c.status == status), "{page:?}");
                page.items.into_iter().map(|c| c.name).collect::<Vec<_>>()
            }
        };
        assert_eq!(names(CampaignStatus::Finished).await, vec!["Прошлая"]);
        assert_eq!(names(CampaignStatus::Active).await, vec!["Сегодня", "Текущая"]);
        assert_eq!(names(CampaignStatus::Planned).await, vec!["Будущая"]);
    }

    async fn starting_a_planned_campaign_moves_its_start_to_today(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let c = t.crm.create_campaign(&t.admin, &input("Запуск", s, ch, "1", 10, Some(20))).await.unwrap();
        let started = t.crm.start_campaign(&t.admin, c.id, c.version).await.unwrap();
        assert_eq!((started.status, started.starts_on, started.ends_on), (CampaignStatus::Active, day(0), Some(day(20))));
        assert!(started.started_at.is_some());
        let again = t.crm.start_campaign(&t.admin, c.id, started.version).await.unwrap_err();
        assert_eq!(again.code(), "campaign_not_planned");
    }

    async fn finishing_an_active_campaign_ends_it_today(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let planned = t.crm.create_campaign(&t.admin, &input("План", s, ch, "1", 3, None)).await.unwrap();
        let err = t.crm.finish_campaign(&t.admin, planned.id, planned.version).await.unwrap_err();
        assert_eq!(err.code(), "campaign_not_active");
        let c = t.crm.create_campaign(&t.admin, &input("Идёт", s, ch, "1", -5, Some(30))).await.unwrap();
        let finished = t.crm.finish_campaign(&t.admin, c.id, c.version).await.unwrap();
        assert_eq!((finished.status, finished.ends_on), (CampaignStatus::Finished, Some(day(0))));
        let again = t.crm.finish_campaign(&t.admin, c.id, finished.version).await.unwrap_err();
        assert_eq!(again.code(), "campaign_not_active");
    }

    async fn starting_from_a_stale_version_is_a_conflict(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let c = t.crm.create_campaign(&t.admin, &input("Старт", s, ch, "1", 5, None)).await.unwrap();
        t.crm.update_campaign(&t.admin, c.id, c.version, &input("Старт", s, ch, "2", 5, None)).await.unwrap();
        let err = t.crm.start_campaign(&t.admin, c.id, c.version).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        assert_eq!(t.crm.get_campaign(&t.admin, c.id).await.unwrap().status, CampaignStatus::Planned);
    }

    async fn saving_a_campaign_over_a_newer_version_is_a_conflict(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let c = t.crm.create_campaign(&t.admin, &input("Версия", s, ch, "100", 0, None)).await.unwrap();
        t.crm.update_campaign(&t.admin, c.id, c.version, &input("Версия", s, ch, "200", 0, None)).await.unwrap();
        let err = t.crm.update_campaign(&t.admin, c.id, c.version, &input("Версия", s, ch, "300", 0, None)).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        assert_eq!(t.crm.get_campaign(&t.admin, c.id).await.unwrap().budget.to_string(), "200.00");
    }

    async fn a_campaign_with_leads_cannot_be_deleted_but_can_be_archived(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let c = t.crm.create_campaign(&t.admin, &input("С лидами", s, ch, "1", 0, None)).await.unwrap();
        let lead = LeadInput { full_name: "Иван".into(), phone: "+79123456789".into(), campaign_id: Some(c.id), ..Default::default() };
        t.crm.create_lead(&t.admin, &lead).await.unwrap();
        assert_eq!(t.crm.delete_campaign(&t.admin, c.id).await.unwrap_err().code(), "in_use");
        let archived = t.crm.set_campaign_archived(&t.admin, c.id, c.version, true).await.unwrap();
        assert!(archived.is_archived);
        assert!(t.crm.campaign_options(&t.admin, "").await.unwrap().is_empty());
        assert_eq!(t.crm.list_campaigns(&t.admin, &CampaignFilter::default()).await.unwrap().total, 0);
    }

    async fn a_campaign_without_leads_can_be_deleted(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        let c = t.crm.create_campaign(&t.admin, &input("Лишняя", s, ch, "1", 0, None)).await.unwrap();
        t.crm.delete_campaign(&t.admin, c.id).await.unwrap();
        assert!(matches!(t.crm.get_campaign(&t.admin, c.id).await, Err(Error::NotFound { .. })));
    }

    async fn lists_search_filter_sort_and_page_with_a_total(t: TestCrm) {
        let (seo, ads) = (service(&t, "SEO").await, service(&t, "Реклама").await);
        let (ch0, ch1) = (channel(&t, 0).await, channel(&t, 1).await);
        for (name, s, ch, budget) in [("Ёлка SEO", seo, ch0, "300"), ("ёлка реклама", ads, ch1, "100"), ("Весна", ads, ch0, "200"), ("Лето", seo, ch1, "50")] {
            t.crm.create_campaign(&t.admin, &input(name, s, ch, budget, 0, None)).await.unwrap();
        }
        let found = t.crm.list_campaigns(&t.admin, &CampaignFilter { search: "ЁЛКА".into(), ..Default::default() }).await.unwrap();
        assert_eq!(found.total, 2);
        let by_channel = CampaignFilter { channel_id: Some(ch0), service_id: Some(ads), ..Default::default() };
        let page = t.crm.list_campaigns(&t.admin, &by_channel).await.unwrap();
        assert_eq!(page.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["Весна"]);
        let by_budget = CampaignFilter { sort: CampaignSort::Budget, page: PageRequest::new(1, 2), ..Default::default() };
        let page = t.crm.list_campaigns(&t.admin, &by_budget).await.unwrap();
        assert_eq!(page.total, 4);
        assert_eq!(page.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["Весна", "ёлка реклама"]);
    }

    async fn operators_pick_campaigns_but_cannot_list_or_edit_them(t: TestCrm) {
        let (s, ch) = basics(&t).await;
        t.crm.create_campaign(&t.admin, &input("Для лидов", s, ch, "1", 0, None)).await.unwrap();
        let operator = t.user("olga", &["operator"]).await;
        let options = t.crm.campaign_options(&operator, "").await.unwrap();
        assert_eq!(options.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), vec!["Для лидов"]);
        assert!(matches!(t.crm.list_campaigns(&operator, &CampaignFilter::default()).await, Err(Error::Forbidden(_))));
        let err = t.crm.create_campaign(&operator, &input("Нет", s, ch, "1", 0, None)).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    }

    async fn channels_are_created_renamed_and_archived(t: TestCrm) {
        let marketer = t.user("maria", &["marketer"]).await;
        let seeded = t.crm.list_channels(&marketer, false).await.unwrap().len();
        let created = t.crm.create_channel(&marketer, "  Подкасты ").await.unwrap();
        assert_eq!(created.name, "Подкасты");
        let renamed = t.crm.rename_channel(&marketer, created.id, created.version, "Подкасты и блоги").await.unwrap();
        assert_eq!((renamed.name.as_str(), renamed.version), ("Подкасты и блоги", created.version.next()));
        let archived = t.crm.set_channel_archived(&marketer, renamed.id, renamed.version, true).await.unwrap();
        assert!(archived.is_archived);
        assert_eq!(t.crm.list_channels(&marketer, false).await.unwrap().len(), seeded);
        assert_eq!(t.crm.list_channels(&marketer, true).await.unwrap().len(), seeded + 1);
    }

    async fn channel_names_are_unique_ignoring_case_and_edits_are_versioned(t: TestCrm) {
        let err = t.crm.create_channel(&t.admin, "СОЦИАЛЬНЫЕ СЕТИ").await.unwrap_err();
        assert_eq!(fields(err), vec![("name", "name_taken")]);
        assert_eq!(fields(t.crm.create_channel(&t.admin, " ").await.unwrap_err()), vec![("name", "required")]);
        let c = t.crm.create_channel(&t.admin, "Радио").await.unwrap();
        t.crm.rename_channel(&t.admin, c.id, c.version, "Радио FM").await.unwrap();
        let err = t.crm.rename_channel(&t.admin, c.id, c.version, "Радио AM").await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    }

    async fn only_channel_editors_change_channels(t: TestCrm) {
        let operator = t.user("olga", &["operator"]).await;
        assert!(!t.crm.list_channels(&operator, false).await.unwrap().is_empty());
        assert!(matches!(t.crm.create_channel(&operator, "Листовки").await, Err(Error::Forbidden(_))));
        let manager = t.user("mark", &["manager"]).await;
        assert!(t.crm.list_channels(&manager, false).await.is_ok(), "statistics readers see channels");
    }
}
