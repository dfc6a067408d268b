use chrono::{Days, Utc};
use crm::campaigns::CampaignInput;
use crm::db::Query;
use crm::leads::{LeadFilter, LeadInput, LeadSort, LeadStatus};
use crm::services::ServiceInput;
use crm::{Error, FieldError, PageRequest};

use crate::both_backends;
use crate::contracts::field_errors as codes;
use crate::support::TestCrm;
use crm::domain::id::CampaignId;

fn lead(name: &str, phone: &str, email: &str) -> LeadInput {
    LeadInput { full_name: name.into(), phone: phone.into(), email: email.into(), ..Default::default() }
}

/// A live campaign (with its service) to attach leads to.
pub async fn campaign(t: &TestCrm, name: &str) -> CampaignId {
    let service = ServiceInput { name: format!("Услуга {name}"), description: String::new(), price: "1".into() };
    let service = t.crm.create_service(&t.admin, &service).await.unwrap().id;
    let channel = t.crm.list_channels(&t.admin, false).await.unwrap()[0].id;
    let input = CampaignInput {
        name: name.into(),
        service_id: Some(service),
        channel_id: Some(channel),
        budget: "1000".into(),
        starts_on: "2025-01-01".into(),
        ends_on: String::new(),
    };
    t.crm.create_campaign(&t.admin, &input).await.unwrap().id
}

fn errors(err: Error) -> Vec<FieldError> {
    let Error::Invalid(fields) = err else { panic!("expected field errors, got {err:?}") };
    fields
}

/// Runs one statement directly, for states only other modules create (conversion, old rows).
async fn sql(t: &TestCrm, query: Query) {
    let mut tx = t.crm.db().write().await.unwrap();
    tx.execute(query).await.unwrap();
    tx.commit().await.unwrap();
}

async fn total(t: &TestCrm, filter: LeadFilter) -> i64 {
    t.crm.list_leads(&t.admin, &filter).await.unwrap().total
}

both_backends! {
    async fn any_search_text_or_date_is_a_result_or_a_field_error_never_a_database_error(t: TestCrm) {
        let long = "я".repeat(10_000);
        let searches = ["\0", "иван\0", long.as_str(), "%", "_", "\\", "'; drop table leads; --", "\"", "*", "NEAR", "-", "^", "a", "   "];
        for search in searches {
            let filters = [
                t.crm.list_leads(&t.admin, &LeadFilter { search: search.into(), ..Default::default() }).await.map(drop),
                t.crm.list_clients(&t.admin, &crm::clients::ClientFilter { search: search.into(), ..Default::default() }).await.map(drop),
                t.crm.list_contracts(&t.admin, &crm::contracts::ContractFilter { search: search.into(), ..Default::default() }).await.map(drop),
                t.crm.list_services(&t.admin, &crm::services::ServiceFilter { search: search.into(), ..Default::default() }).await.map(drop),
                t.crm.list_campaigns(&t.admin, &crm::campaigns::CampaignFilter { search: search.into(), ..Default::default() }).await.map(drop),
                t.crm.client_sales(&t.admin, &crm::stats::ClientSalesFilter { search: search.into(), ..Default::default() }).await.map(drop),
            ];
            for result in filters {
                match result {
                    Ok(()) => {}
                    Err(Error::Invalid(fields)) => assert_eq!(fields[0].field, "search", "{search:?}"),
                    Err(other) => panic!("{:?}: {other:?}", search.chars().take(20).collect::<String>()),
                }
            }
        }
        let far = chrono::NaiveDate::from_ymd_opt(-5000, 1, 1).unwrap();
        let leads = LeadFilter { created_from: Some(far), ..Default::default() };
        assert_eq!(codes(t.crm.list_leads(&t.admin, &leads).await.unwrap_err()), vec![("created_from", "date_invalid")]);
        let contracts = crm::contracts::ContractFilter { signed_to: Some(far), ..Default::default() };
        assert_eq!(codes(t.crm.list_contracts(&t.admin, &contracts).await.unwrap_err()), vec![("signed_to", "date_invalid")]);
    }

    async fn control_characters_are_field_errors_on_both_backends_and_nothing_is_written(t: TestCrm) {
        let cases = [
            LeadInput { note: "перезвонить\0".into(), ..lead("Иван Петров", "+7 912 345 67 89", "") },
            lead("Иван\0Петров", "+7 912 345 67 89", ""),
            lead("Иван \u{1b}[31mПетров", "+7 912 345 67 89", ""),
            lead("Иван \u{202e}вортеП", "+7 912 345 67 89", ""),
        ];
        let fields = ["note", "full_name", "full_name", "full_name"];
        for (input, field) in cases.into_iter().zip(fields) {
            let err = t.crm.create_lead(&t.admin, &input).await.unwrap_err();
            assert_eq!(codes(err), vec![(field, "control_chars")], "{:?}", input.full_name);
        }
        assert_eq!(t.count("leads").await, 0);
        // a NUL typed into the sign-in form is a wrong username, not a database error
        assert!(matches!(t.crm.sign_in("adm\0in", crate::support::PASSWORD).await, Err(Error::BadCredentials)));
    }

    async fn an_operator_creates_a_new_lead_with_normalised_contacts(t: TestCrm) {
        let operator = t.user("olga", &["operator"]).await;
        let campaign = campaign(&t, "Весна").await;
        let input = LeadInput { campaign_id: Some(campaign), note: " перезвонить ".into(), ..lead(" Иванов  Пётр ", "8 (912) 345-67-89", "Petr@Example.RU") };
        let created = t.crm.create_lead(&operator, &input).await.unwrap();
        assert_eq!((created.full_name.as_str(), created.status), ("Иванов Пётр", LeadStatus::New));
        assert_eq!((created.phone.as_deref(), created.email.as_deref()), (Some("+79123456789"), Some("petr@example.ru")));
        assert_eq!((created.campaign_name.as_deref(), created.note.as_str()), (Some("Весна"), "перезвонить"));
        assert_eq!((created.created_by, created.created_by_name.as_str(), created.client_id), (operator.user_id, "User olga", None));
    }

    async fn an_operator_edits_a_lead_and_takes_it_into_work(t: TestCrm) {
        let created = t.crm.create_lead(&t.admin, &lead("Анна", "", "anna@example.ru")).await.unwrap();
        let input = LeadInput { status: Some(LeadStatus::InWork), ..lead("Анна Смирнова", "+7 912 000 11 22", "anna@example.ru") };
        let edited = t.crm.update_lead(&t.admin, created.id, created.version, &input).await.unwrap();
        assert_eq!((edited.full_name.as_str(), edited.status, edited.version), ("Анна Смирнова", LeadStatus::InWork, created.version.next()));
        assert_eq!(edited.phone.as_deref(), Some("+79120001122"));
        let kept = t.crm.update_lead(&t.admin, edited.id, edited.version, &lead("Анна Смирнова", "", "anna@example.ru")).await.unwrap();
        assert_eq!((kept.status, kept.phone), (LeadStatus::InWork, None), "no status in the form keeps the current one");
    }

    async fn invalid_lead_input_names_every_bad_field_and_writes_nothing(t: TestCrm) {
        let input = LeadInput {
            full_name: "  ".into(),
            phone: "12-34".into(),
            email: "ivan@".into(),
            campaign_id: Some(CampaignId::new(999_999)),
            note: "я".repeat(5001),
            status: Some(LeadStatus::Converted),
            ..Default::default()
        };
        let err = t.crm.create_lead(&t.admin, &input).await.unwrap_err();
        assert_eq!(codes(err), vec![
            ("full_name", "required"),
            ("phone", "phone_invalid"),
            ("email", "email_invalid"),
            ("note", "too_long"),
            ("status", "not_allowed"),
            ("campaign_id", "unknown"),
        ]);
        assert_eq!(total(&t, LeadFilter { include_archived: true, ..Default::default() }).await, 0);
    }

    async fn a_lead_needs_a_phone_or_an_email(t: TestCrm) {
        let err = t.crm.create_lead(&t.admin, &lead("Без контактов", " ", "")).await.unwrap_err();
        assert_eq!(codes(err), vec![("phone", "contact_required")]);
        assert_eq!(total(&t, LeadFilter::default()).await, 0);
    }

    async fn a_lead_cannot_be_created_as_converted(t: TestCrm) {
        let input = LeadInput { status: Some(LeadStatus::Converted), ..lead("Сразу клиент", "+79123456789", "") };
        let err = t.crm.create_lead(&t.admin, &input).await.unwrap_err();
        assert_eq!(codes(err), vec![("status", "not_allowed")]);
        let lost = LeadInput { status: Some(LeadStatus::Lost), ..input };
        let err = t.crm.create_lead(&t.admin, &lost).await.unwrap_err();
        assert_eq!(codes(err), vec![("lost_reason_id", "lost_reason_required")], "a lost lead says why");
        let reason = t.crm.list_lost_reasons(&t.admin, false).await.unwrap()[0].id;
        let lost = LeadInput { lost_reason_id: Some(reason), ..lost };
        assert_eq!(t.crm.create_lead(&t.admin, &lost).await.unwrap().status, LeadStatus::Lost);
    }

    async fn an_archived_campaign_cannot_be_chosen_but_stays_on_its_leads(t: TestCrm) {
        let id = campaign(&t, "Осень").await;
        let input = LeadInput { campaign_id: Some(id), ..lead("Пётр", "+79123456789", "") };
        let first = t.crm.create_lead(&t.admin, &input).await.unwrap();
        let c = t.crm.get_campaign(&t.admin, id).await.unwrap();
        t.crm.set_campaign_archived(&t.admin, id, c.version, true).await.unwrap();
        let second = LeadInput { campaign_id: Some(id), ..lead("Павел", "+79120000000", "") };
        assert_eq!(codes(t.crm.create_lead(&t.admin, &second).await.unwrap_err()), vec![("campaign_id", "archived")]);
        let edited = LeadInput { note: "уточнить".into(), ..input };
        assert_eq!(t.crm.update_lead(&t.admin, first.id, first.version, &edited).await.unwrap().campaign_id, Some(id));
    }

    async fn a_phone_in_another_national_format_is_refused_naming_the_existing_lead(t: TestCrm) {
        let first = t.crm.create_lead(&t.admin, &lead("Иванов Иван", "+79123456789", "")).await.unwrap();
        let err = t.crm.create_lead(&t.admin, &lead("Петров Пётр", "8 (912) 345-67-89", "")).await.unwrap_err();
        let errors = errors(err);
        assert_eq!((errors[0].field, errors[0].code), ("phone", "phone_taken"));
        assert_eq!(errors[0].params, vec![("lead", "Иванов Иван".to_owned()), ("id", first.id.to_string())]);
        assert!(crm::i18n::field_message(crm::i18n::Lang::Ru, &errors[0]).contains("Иванов Иван"));
        assert_eq!(total(&t, LeadFilter::default()).await, 1);
    }

    async fn an_email_differing_only_in_case_is_a_duplicate(t: TestCrm) {
        t.crm.create_lead(&t.admin, &lead("Анна", "", "anna@example.ru")).await.unwrap();
        let err = t.crm.create_lead(&t.admin, &lead("Анна К.", "", "ANNA@example.ru")).await.unwrap_err();
        assert_eq!(codes(err), vec![("email", "email_taken")]);
    }

    async fn a_duplicate_is_allowed_once_the_first_lead_is_archived(t: TestCrm) {
        let first = t.crm.create_lead(&t.admin, &lead("Первый", "+79123456789", "")).await.unwrap();
        t.crm.set_lead_archived(&t.admin, first.id, first.version, true).await.unwrap();
        let second = t.crm.create_lead(&t.admin, &lead("Второй", "89123456789", "")).await.unwrap();
        assert_eq!(second.phone.as_deref(), Some("+79123456789"));
        let archived = t.crm.get_lead(&t.admin, first.id).await.unwrap();
        let err = t.crm.set_lead_archived(&t.admin, first.id, archived.version, false).await.unwrap_err();
        let errors = errors(err);
        assert_eq!((errors[0].code, errors[0].params[1].1.clone()), ("phone_taken", second.id.to_string()));
    }

    async fn two_operators_saving_the_same_phone_at_once_keep_one_lead(t: TestCrm) {
        let (a, b) = (lead("Первый", "+79123456789", ""), lead("Второй", "8 912 345 67 89", ""));
        let (ra, rb) = tokio::join!(t.crm.create_lead(&t.admin, &a), t.crm.create_lead(&t.admin, &b));
        let (won, lost) = match (ra, rb) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            other => panic!("exactly one save must win: {other:?}"),
        };
        let errors = errors(lost);
        assert_eq!((errors[0].field, errors[0].code), ("phone", "phone_taken"));
        assert_eq!(errors[0].params[0].1, won.full_name);
        assert_eq!(total(&t, LeadFilter::default()).await, 1);
    }

    async fn search_ignores_case_in_cyrillic_and_reads_phones_in_national_form(t: TestCrm) {
        t.crm.create_lead(&t.admin, &lead("Ёлкина Юлия", "+79123456789", "")).await.unwrap();
        t.crm.create_lead(&t.admin, &lead("Сидоров Олег", "", "oleg_50%@example.ru")).await.unwrap();
        let search = |s: &str| LeadFilter { search: s.into(), ..Default::default() };
        assert_eq!(total(&t, search("ЁЛКИНА")).await, 1);
        assert_eq!(total(&t, search("8 912 345")).await, 1);
        assert_eq!(total(&t, search("+7 (912) 34")).await, 1);
        assert_eq!(total(&t, search("50%")).await, 1, "wildcards are literal");
        assert_eq!(total(&t, search("петров")).await, 0);
    }

    async fn substring_search_through_the_trigram_index_finds_what_a_scan_finds(t: TestCrm) {
        let names = [
            "Смирнова Анна Петровна", "Смирнов Олег", "Анна-Мария Near", "O'Brien \"Jack\" *star*",
            "Ёлкин-Палкин Ёж", "Иванов 50% скидка", "a_b^c-d", "Петров Ivan NEAR Moscow",
        ];
        for (n, name) in names.iter().enumerate() {
            let email = format!("user{n}.mail@example.ru");
            t.crm.create_lead(&t.admin, &lead(name, &format!("+7912777{n:04}"), &email)).await.unwrap();
        }
        // (one or two characters: the start of the name)
        let scan = |needle: &str| match needle.chars().count() {
            0..=2 => {
                let needle = needle.to_lowercase();
                let length = needle.chars().count();
                let start = format!("select count(*) from leads where is_archived = false and substr(search, 1, {length}) = $1");
                Query::new(start).bind(needle)
            }
            _ => {
                let pattern = crm::domain::text::like_pattern(needle);
                Query::new("select count(*) from leads where is_archived = false and search like $1 escape '\\'").bind(pattern)
            }
        };
        let needles = [
            "смирнов", "СМИРНОВА", "анна", "near", "NEAR", "o'brien", "\"jack\"", "*star", "ёлкин", "ЁЖ", "50%", "a_b",
            "^c-", "777000", "7912777", "user3.mail", "example.ru", "петровна", "нова ан", "ivan near", "xyz", "мос",
            "ёл", "Ан", "а", "o'", "5", "%", "_",
        ];
        for needle in needles {
            let mut tx = t.crm.db().read().await.unwrap();
            let expected: i64 = tx.scalar(scan(needle)).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(total(&t, LeadFilter { search: needle.into(), ..Default::default() }).await, expected, "{needle:?}");
        }
        assert_eq!(total(&t, LeadFilter { search: "смирнов".into(), ..Default::default() }).await, 2);
        let starting = [("См", 2), ("ан", 1), ("ёж", 0), ("o'", 1), ("%", 0)];
        for (needle, expected) in starting {
            assert_eq!(total(&t, LeadFilter { search: needle.into(), ..Default::default() }).await, expected, "{needle:?}");
        }

        // the index follows edits, archiving and restoring
        let page = t.crm.list_leads(&t.admin, &LeadFilter { search: "олег".into(), ..Default::default() }).await.unwrap();
        let oleg = &page.items[0];
        let renamed = LeadInput { full_name: "Кузнецов Олег".into(), ..lead(&oleg.full_name, "+79127770001", "user1.mail@example.ru") };
        let oleg = t.crm.update_lead(&t.admin, oleg.id, oleg.version, &renamed).await.unwrap();
        assert_eq!(total(&t, LeadFilter { search: "смирнов олег".into(), ..Default::default() }).await, 0);
        assert_eq!(total(&t, LeadFilter { search: "кузнецов".into(), ..Default::default() }).await, 1);
        t.crm.set_lead_archived(&t.admin, oleg.id, oleg.version, true).await.unwrap();
        assert_eq!(total(&t, LeadFilter { search: "кузнецов".into(), ..Default::default() }).await, 0);
        let archived_too = LeadFilter { search: "кузнецов".into(), include_archived: true, ..Default::default() };
        assert_eq!(total(&t, archived_too).await, 1);

        // and the lead's status (SQLite's index holds it for lists filtered by status)
        let with = |search: &str, status| LeadFilter { search: search.into(), status: Some(status), ..Default::default() };
        assert_eq!(total(&t, with("петровна", LeadStatus::New)).await, 1);
        assert_eq!(total(&t, with("петровна", LeadStatus::InWork)).await, 0);
        let page = t.crm.list_leads(&t.admin, &with("петровна", LeadStatus::New)).await.unwrap();
        let anna = &page.items[0];
        t.crm.set_lead_status(&t.admin, anna.id, anna.version, LeadStatus::InWork, None).await.unwrap();
        assert_eq!(total(&t, with("петровна", LeadStatus::New)).await, 0);
        assert_eq!(total(&t, with("петровна", LeadStatus::InWork)).await, 1);
        assert_eq!(total(&t, with("анна", LeadStatus::New)).await, 1, "the other Anna");
        assert_eq!(total(&t, with("анна", LeadStatus::InWork)).await, 1);
    }

    async fn filters_by_status_campaign_and_creation_days_with_totals(t: TestCrm) {
        let spring = campaign(&t, "Весна").await;
        let today = Utc::now().date_naive();
        for (n, days_ago) in [(1, 10u64), (2, 3), (3, 0)] {
            let input = LeadInput { campaign_id: (n != 3).then_some(spring), ..lead(&format!("Лид {n}"), &format!("+7912000000{n}"), "") };
            let created = t.crm.create_lead(&t.admin, &input).await.unwrap();
            let at = (today - Days::new(days_ago)).and_hms_opt(12, 0, 0).unwrap().and_utc();
            sql(&t, Query::new("update leads set created_at = $1 where id = $2").bind(at).bind(created.id)).await;
        }
        let days = |from: u64, to: u64| LeadFilter { created_from: Some(today - Days::new(from)), created_to: Some(today - Days::new(to)), ..Default::default() };
        assert_eq!(total(&t, days(5, 1)).await, 1);
        assert_eq!(total(&t, days(10, 10)).await, 1, "both ends are whole days");
        assert_eq!(total(&t, days(10, 0)).await, 3);
        assert_eq!(total(&t, LeadFilter { campaign_id: Some(spring), ..Default::default() }).await, 2);
        let first = t.crm.list_leads(&t.admin, &LeadFilter::default()).await.unwrap().items.remove(0);
        let reason = t.crm.list_lost_reasons(&t.admin, false).await.unwrap()[0].id;
        let lost = LeadInput { status: Some(LeadStatus::Lost), lost_reason_id: Some(reason), ..lead(&first.full_name, "+79120000003", "") };
        t.crm.update_lead(&t.admin, first.id, first.version, &lost).await.unwrap();
        assert_eq!(total(&t, LeadFilter { status: Some(LeadStatus::Lost), ..Default::default() }).await, 1);
        assert_eq!(total(&t, LeadFilter { status: Some(LeadStatus::New), ..Default::default() }).await, 2);
    }

    async fn lists_sort_and_page_with_a_total(t: TestCrm) {
        for (n, name) in ["Борисов", "Алексеев", "Васильев", "Григорьев"].iter().enumerate() {
            t.crm.create_lead(&t.admin, &lead(name, &format!("+7912000000{n}"), "")).await.unwrap();
        }
        let names = |page: crm::Page<crm::leads::Lead>| page.items.into_iter().map(|l| l.full_name).collect::<Vec<_>>();
        let newest = t.crm.list_leads(&t.admin, &LeadFilter { page: PageRequest::new(0, 2), ..Default::default() }).await.unwrap();
        assert_eq!((newest.total, names(newest)), (4, vec!["Григорьев".to_owned(), "Васильев".to_owned()]));
        let by_name = LeadFilter { sort: LeadSort::FullName, page: PageRequest::new(1, 2), ..Default::default() };
        assert_eq!(names(t.crm.list_leads(&t.admin, &by_name).await.unwrap()), vec!["Борисов", "Васильев"]);
    }

    async fn leads_sorted_by_name_ignore_case(t: TestCrm) {
        // by code point "борисова" sat after every capitalised name ("Я..." included)
        for (n, name) in ["Яковлев", "борисова", "Борисов", "Абрамов", "Борисов Антон"].iter().enumerate() {
            t.crm.create_lead(&t.admin, &lead(name, &format!("+7912000000{n}"), "")).await.unwrap();
        }
        let names = |page: crm::Page<crm::leads::Lead>| page.items.into_iter().map(|l| l.full_name).collect::<Vec<_>>();
        let by_name = LeadFilter { sort: LeadSort::FullName, ..Default::default() };
        let expected = ["Абрамов", "Борисов", "Борисов Антон", "борисова", "Яковлев"];
        assert_eq!(names(t.crm.list_leads(&t.admin, &by_name).await.unwrap()), expected);
        let searched = LeadFilter { search: "БОРИС".into(), direction: Some(crm::app::Direction::Desc), ..by_name };
        assert_eq!(names(t.crm.list_leads(&t.admin, &searched).await.unwrap()), ["борисова", "Борисов Антон", "Борисов"]);
    }

    async fn archived_leads_leave_the_list_unless_asked_for(t: TestCrm) {
        let l = t.crm.create_lead(&t.admin, &lead("Архивный", "+79123456789", "")).await.unwrap();
        let archived = t.crm.set_lead_archived(&t.admin, l.id, l.version, true).await.unwrap();
        assert!(archived.is_archived);
        assert_eq!(total(&t, LeadFilter::default()).await, 0);
        assert_eq!(total(&t, LeadFilter { include_archived: true, ..Default::default() }).await, 1);
        t.crm.set_lead_archived(&t.admin, l.id, archived.version, false).await.unwrap();
        assert_eq!(total(&t, LeadFilter::default()).await, 1);
    }

    async fn saving_a_lead_over_a_newer_version_is_a_conflict(t: TestCrm) {
        let l = t.crm.create_lead(&t.admin, &lead("Версия", "+79123456789", "")).await.unwrap();
        t.crm.update_lead(&t.admin, l.id, l.version, &lead("Версия 2", "+79123456789", "")).await.unwrap();
        let err = t.crm.update_lead(&t.admin, l.id, l.version, &lead("Версия 3", "+79123456789", "")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        assert_eq!(t.crm.get_lead(&t.admin, l.id).await.unwrap().full_name, "Версия 2");
    }

    async fn a_converted_lead_can_be_neither_edited_nor_archived(t: TestCrm) {
        let l = t.crm.create_lead(&t.admin, &lead("Клиент", "+79123456789", "")).await.unwrap();
        sql(&t, Query::new("update leads set status = 'converted', version = version + 1 where id = $1").bind(l.id)).await;
        let version = l.version.next();
        let err = t.crm.update_lead(&t.admin, l.id, version, &lead("Другое имя", "+79123456789", "")).await.unwrap_err();
        assert_eq!(err.code(), "lead_converted_locked");
        let err = t.crm.set_lead_archived(&t.admin, l.id, version, true).await.unwrap_err();
        assert_eq!(err.code(), "lead_converted_locked");
        assert_eq!(t.crm.get_lead(&t.admin, l.id).await.unwrap().full_name, "Клиент");
    }

    async fn managers_view_leads_but_only_operators_write_them(t: TestCrm) {
        let manager = t.user("mark", &["manager"]).await;
        let l = t.crm.create_lead(&t.admin, &lead("Лид", "+79123456789", "")).await.unwrap();
        assert_eq!(t.crm.get_lead(&manager, l.id).await.unwrap().id, l.id);
        assert!(matches!(t.crm.create_lead(&manager, &lead("Нет", "+79120000000", "")).await, Err(Error::Forbidden(_))));
        let marketer = t.user("maria", &["marketer"]).await;
        assert!(matches!(t.crm.list_leads(&marketer, &LeadFilter::default()).await, Err(Error::Forbidden(_))));
    }
}

both_backends! {
    async fn a_name_pasted_from_spreadsheet_cells_is_searched_as_typed(t: TestCrm) {
        t.crm.create_lead(&t.admin, &lead("Иванова Мария Петровна", "+7 912 345 67 91", "")).await.unwrap();
        t.crm.create_lead(&t.admin, &lead("Петрова Анна", "+7 912 345 67 92", "")).await.unwrap();
        // cells copied from a spreadsheet come with tabs, a line with its break, doubled spaces
        for search in ["Иванова\tМария", "иванова мария\r\n", " Иванова   Мария ", "иванова\n\tмария", "\t"] {
            let filter = LeadFilter { search: search.into(), ..Default::default() };
            let page = t.crm.list_leads(&t.admin, &filter).await.unwrap_or_else(|e| panic!("{search:?}: {e:?}"));
            let names: Vec<&str> = page.items.iter().map(|l| l.full_name.as_str()).collect();
            if search == "\t" {
                assert_eq!(page.total, 2, "white space alone is no search");
            } else {
                assert_eq!(names, ["Иванова Мария Петровна"], "{search:?}");
            }
        }
        // a phone's digits split by a tab are still a phone
        let filter = LeadFilter { search: "912\t345 67 92".into(), ..Default::default() };
        let page = t.crm.list_leads(&t.admin, &filter).await.unwrap();
        assert_eq!(page.items.iter().map(|l| l.full_name.as_str()).collect::<Vec<_>>(), ["Петрова Анна"]);
    }

    async fn what_fuzzing_found_is_a_field_error_on_both_backends(t: TestCrm) {
        // a NUL anywhere: PostgreSQL cannot store it, so neither backend takes it
        let nul = LeadInput { full_name: "Ива\0нов".into(), phone: "+7 912 345 67 90".into(), ..Default::default() };
        let err = t.crm.create_lead(&t.admin, &nul).await.unwrap_err();
        assert!(matches!(&err, crm::Error::Invalid(f) if f[0].field == "full_name"), "{err:?}");
        let search = LeadFilter { search: "Ив\0".into(), ..Default::default() };
        let err = t.crm.list_leads(&t.admin, &search).await.unwrap_err();
        assert!(matches!(&err, crm::Error::Invalid(f) if f[0].field == "search"), "{err:?}");
        let err = t.crm.sign_in("ad\0min", crate::support::PASSWORD).await.unwrap_err();
        assert!(matches!(err, crm::Error::BadCredentials | crm::Error::Invalid(_)), "{err:?}");
        // a search longer than any name, phone or e-mail: refused with the limit, not "too complex"
        let long = LeadFilter { search: "а".repeat(60_000), ..Default::default() };
        let err = t.crm.list_leads(&t.admin, &long).await.unwrap_err();
        assert!(matches!(&err, crm::Error::Invalid(f) if f[0].code == "too_long"), "{err:?}");
        // dates far outside any office's life, in the lists' period filters
        let ancient = chrono::NaiveDate::from_ymd_opt(-5000, 1, 1).unwrap();
        let leads = LeadFilter { created_from: Some(ancient), ..Default::default() };
        let err = t.crm.list_leads(&t.admin, &leads).await.unwrap_err();
        assert!(matches!(&err, crm::Error::Invalid(f) if f[0].field == "created_from"), "{err:?}");
        let contracts = crm::contracts::ContractFilter { signed_to: Some(ancient), ..Default::default() };
        let err = t.crm.list_contracts(&t.admin, &contracts).await.unwrap_err();
        assert!(matches!(&err, crm::Error::Invalid(f) if f[0].field == "signed_to"), "{err:?}");
        // FTS and LIKE syntax is searched for literally
        for text in ["%", "_", "\\", "'\"", "NEAR(a b)", "%a_", "a\"*", "^ab"] {
            let filter = LeadFilter { search: text.into(), ..Default::default() };
            assert_eq!(t.crm.list_leads(&t.admin, &filter).await.unwrap().total, 0, "{text}");
        }
        // signs alone, three or more, are no search: said so, for every list
        for text in ["-^*", "%%%", " % _ ", "\"\"\""] {
            let leads = LeadFilter { search: text.into(), ..Default::default() };
            let err = t.crm.list_leads(&t.admin, &leads).await.unwrap_err();
            assert!(matches!(&err, crm::Error::Invalid(f) if f[0].code == "search_signs_only"), "{text}: {err:?}");
            let clients = crm::clients::ClientFilter { search: text.into(), ..Default::default() };
            let err = t.crm.list_clients(&t.admin, &clients).await.unwrap_err();
            assert!(matches!(&err, crm::Error::Invalid(f) if f[0].field == "search"), "{text}: {err:?}");
        }
    }

    async fn wildcards_in_a_search_are_the_characters_themselves(t: TestCrm) {
        let mail = LeadInput { email: "ivan_petrov@mail.ru".into(), ..lead("Петров Иван", "", "") };
        t.crm.create_lead(&t.admin, &mail).await.unwrap();
        t.crm.create_lead(&t.admin, &lead("Сидоров 50% Скидка", "+7 912 345 67 93", "")).await.unwrap();
        t.crm.create_lead(&t.admin, &lead("Иванова Ирина", "+7 912 345 67 94", "ivanxpetrova@mail.ru")).await.unwrap();
        for (search, found) in [
            ("ivan_p", vec!["Петров Иван"]),
            ("n_pe", vec!["Петров Иван"]),
            ("IVAN_PETROV@", vec!["Петров Иван"]),
            ("50%", vec!["Сидоров 50% Скидка"]),
            ("0% с", vec!["Сидоров 50% Скидка"]),
            ("50%_", vec![]),
            ("ivan%pet", vec![]),
            ("n\\p", vec![]),
        ] {
            for sort in [LeadSort::CreatedAt, LeadSort::FullName, LeadSort::Status] {
                let filter = LeadFilter { search: search.into(), sort, ..Default::default() };
                let page = t.crm.list_leads(&t.admin, &filter).await.unwrap_or_else(|e| panic!("{search:?}: {e:?}"));
                let names: Vec<&str> = page.items.iter().map(|l| l.full_name.as_str()).collect();
                assert_eq!(names, found, "{search:?} by {sort:?}");
                assert_eq!(page.total, found.len() as i64, "{search:?} by {sort:?}");
            }
        }
    }
}
