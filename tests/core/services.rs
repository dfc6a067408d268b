use crm::services::{ServiceFilter, ServiceInput, ServiceSort};
use crm::Error;

use crate::both_backends;

fn input(name: &str, price: &str) -> ServiceInput {
    ServiceInput { name: name.into(), description: "Описание".into(), price: price.into() }
}

both_backends! {
    async fn a_marketer_creates_and_edits_a_service(t: TestCrm) {
        let marketer = t.user("maria", &["marketer"]).await;
        let created = t.crm.create_service(&marketer, &input("  Аудит   сайта ", "15 000,50")).await.unwrap();
        assert_eq!(created.name, "Аудит сайта");
        assert_eq!(created.price.kopecks(), 1_500_050);
        let edited = t.crm.update_service(&marketer, created.id, created.version, &input("Аудит сайта", "16000")).await.unwrap();
        assert_eq!(edited.version, created.version.next());
        assert_eq!(edited.price.to_string(), "16000.00");
    }

    async fn invalid_input_names_every_bad_field_and_writes_nothing(t: TestCrm) {
        let err = t.crm.create_service(&t.admin, &input(" ", "-5")).await.unwrap_err();
        let Error::Invalid(fields) = err else { panic!("expected field errors") };
        let fields: Vec<_> = fields.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(fields, vec![("name", "required"), ("price", "negative")]);
        let page = t.crm.list_services(&t.admin, &ServiceFilter::default()).await.unwrap();
        assert_eq!(page.total, 0);
    }

    async fn names_are_unique_ignoring_case(t: TestCrm) {
        t.crm.create_service(&t.admin, &input("Настройка рекламы", "100")).await.unwrap();
        let err = t.crm.create_service(&t.admin, &input("НАСТРОЙКА РЕКЛАМЫ", "100")).await.unwrap_err();
        assert_eq!(err.first_field(), Some("name"));
    }

    async fn saving_over_a_newer_version_is_a_conflict(t: TestCrm) {
        let s = t.crm.create_service(&t.admin, &input("SEO", "100")).await.unwrap();
        t.crm.update_service(&t.admin, s.id, s.version, &input("SEO", "200")).await.unwrap();
        let err = t.crm.update_service(&t.admin, s.id, s.version, &input("SEO", "300")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        assert_eq!(t.crm.get_service(&t.admin, s.id).await.unwrap().price.to_string(), "200.00");
    }

    async fn lists_search_sort_and_page_with_a_total(t: TestCrm) {
        for (name, price) in [("Аудит", "300"), ("Баннер", "100"), ("Видео", "200"), ("Аудит соцсетей", "50")] {
            t.crm.create_service(&t.admin, &input(name, price)).await.unwrap();
        }
        let mut filter = ServiceFilter { search: "аУДИТ".into(), ..Default::default() };
        let page = t.crm.list_services(&t.admin, &filter).await.unwrap();
        assert_eq!(page.total, 2);
        filter = ServiceFilter { sort: ServiceSort::Price, page: crm::PageRequest::new(1, 2), ..Default::default() };
        let page = t.crm.list_services(&t.admin, &filter).await.unwrap();
        assert_eq!(page.total, 4);
        let names: Vec<_> = page.items.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Видео", "Баннер"]);
    }

    async fn an_archived_service_leaves_the_list_and_can_come_back(t: TestCrm) {
        let s = t.crm.create_service(&t.admin, &input("Старое", "1")).await.unwrap();
        let s = t.crm.set_service_archived(&t.admin, s.id, s.version, true).await.unwrap();
        assert_eq!(t.crm.list_services(&t.admin, &ServiceFilter::default()).await.unwrap().total, 0);
        let all = ServiceFilter { include_archived: true, ..Default::default() };
        assert_eq!(t.crm.list_services(&t.admin, &all).await.unwrap().total, 1);
        t.crm.set_service_archived(&t.admin, s.id, s.version, false).await.unwrap();
        assert_eq!(t.crm.list_services(&t.admin, &ServiceFilter::default()).await.unwrap().total, 1);
    }

    async fn an_unused_service_can_be_deleted(t: TestCrm) {
        let s = t.crm.create_service(&t.admin, &input("Лишнее", "1")).await.unwrap();
        t.crm.delete_service(&t.admin, s.id).await.unwrap();
        assert!(matches!(t.crm.get_service(&t.admin, s.id).await, Err(Error::NotFound { .. })));
    }

    async fn a_service_with_campaigns_cannot_be_deleted_and_stays(t: TestCrm) {
        let s = t.crm.create_service(&t.admin, &input("Нужное", "1")).await.unwrap();
        let channel = t.crm.list_channels(&t.admin, false).await.unwrap()[0].id;
        let campaign = crm::campaigns::CampaignInput {
            name: "Весна".into(),
            service_id: Some(s.id),
            channel_id: Some(channel),
            budget: "1000".into(),
            starts_on: "2026-03-01".into(),
            ..Default::default()
        };
        t.crm.create_campaign(&t.admin, &campaign).await.unwrap();
        let err = t.crm.delete_service(&t.admin, s.id).await.unwrap_err();
        assert_eq!(err.code(), "in_use");
        let message = crm::i18n::error_message(crm::i18n::Lang::En, &err);
        assert_eq!(message, "Cannot delete: campaigns refer to it. Archive the record instead");
        assert!(t.crm.get_service(&t.admin, s.id).await.is_ok());
    }
}
