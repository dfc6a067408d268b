//! The day's work: cards, timelines, notes, owners, statuses with reasons, tasks, "my day" and
//! the History page, on both backends.

use chrono::{Duration, Local};

use crm::clients::Conversion;
use crm::contracts::ContractFilter;
use crm::history::{HistoryFilter, Record};
use crm::leads::{LeadFilter, LeadInput, LeadStatus};
use crm::tasks::{TaskFilter, TaskInput, TaskKind};
use crm::{Error, PageRequest};

use crate::both_backends;
use crate::contracts::{contract, field_errors};
use crm::domain::id::{ClientId, LeadId, LostReasonId, UserId};

fn lead(name: &str, phone: &str) -> LeadInput {
    LeadInput { full_name: name.into(), phone: phone.into(), ..Default::default() }
}

/// A local date and time `hours` from now, as a date-time input sends it.
fn in_hours(hours: i64) -> String {
    (Local::now() + Duration::hours(hours)).format("%Y-%m-%dT%H:%M").to_string()
}

fn call_back(subject: &str, due_at: String, record: Option<Record>) -> TaskInput {
    TaskInput { subject: subject.into(), kind: TaskKind::Call, due_at, record, ..Default::default() }
}

/// `n` History entries (channels created by the administrator), written at once.
async fn add_entries(t: &crate::support::TestCrm, n: i64) {
    let mut tx = t.crm.db().write().await.expect("write");
    let insert = crm::db::Query::new(
        "insert into audit_log (at, user_id, action, entity, entity_id, details, changes)
         with recursive n(i) as (select 1 union all select i + 1 from n where i < $1)
         select $2, $3, 'create', 'channel', i, 'Канал', '' from n",
    )
    .bind(n)
    .bind(chrono::Utc::now())
    .bind(t.admin.user_id);
    tx.execute(insert).await.expect("add entries");
    tx.commit().await.expect("commit");
}

both_backends! {
    async fn a_manager_opens_a_leads_card_with_its_origin_owner_and_story(t: TestCrm) {
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "SEO".into(), description: String::new(), price: "45000".into(),
        }).await.unwrap();
        let channel = t.crm.create_channel(&t.admin, "Контекст").await.unwrap();
        let campaign = t.crm.create_campaign(&t.admin, &crm::campaigns::CampaignInput {
            name: "Весна".into(), service_id: Some(service.id), channel_id: Some(channel.id),
            budget: "1000".into(), starts_on: "2026-01-01".into(), ends_on: String::new(),
        }).await.unwrap();
        let olga = t.user("olga", &["operator"]).await;
        let input = LeadInput { campaign_id: Some(campaign.id), ..lead("Иванов Иван", "+7 912 345-67-01") };
        let created = t.crm.create_lead(&olga, &input).await.unwrap();
        assert_eq!(created.owner_id, Some(olga.user_id), "the creator owns a new lead");

        let edit = LeadInput { email: "ivan@example.ru".into(), ..input };
        t.crm.update_lead(&olga, created.id, created.version, &edit).await.unwrap();

        let manager = t.user("pavel", &["manager"]).await;
        let card = t.crm.lead_card(&manager, created.id).await.unwrap();
        assert_eq!(card.lead.owner_name.as_deref(), Some("User olga"));
        let origin = card.origin.expect("the campaign's channel and service");
        assert_eq!((origin.channel_name.as_str(), origin.service_name.as_str()), ("Контекст", "SEO"));
        assert_eq!(origin.service_price.to_string(), "45000.00");
        let actions: Vec<&str> = card.timeline.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["update", "create"], "newest first");
        let edit = &card.timeline.items[0];
        assert_eq!(edit.user_name.as_deref(), Some("User olga"));
        assert_eq!(edit.changes.0.len(), 1, "only the field that changed: {:?}", edit.changes);
        let change = &edit.changes.0[0];
        assert_eq!((change.field.as_str(), change.old.as_str(), change.new.as_str()), ("email", "", "ivan@example.ru"));

        // a marketer may not open it
        let marketer = t.user("maria", &["marketer"]).await;
        assert!(matches!(t.crm.lead_card(&marketer, created.id).await, Err(Error::Forbidden("leads.view"))));
        assert!(matches!(t.crm.lead_card(&manager, LeadId::new(999_999)).await, Err(Error::NotFound { entity: "lead", .. })));
    }

    async fn notes_are_entries_of_the_timeline_and_an_empty_one_is_refused(t: TestCrm) {
        let created = t.crm.create_lead(&t.admin, &lead("Петров", "+7 912 345-67-02")).await.unwrap();
        let record = Record::Lead(created.id);
        let note = t.crm.add_note(&t.admin, record, "Просил перезвонить\nпосле 15:00").await.unwrap();
        assert_eq!((note.action.as_str(), note.details.as_str()), ("note", "Просил перезвонить\nпосле 15:00"));
        assert_eq!(field_errors(t.crm.add_note(&t.admin, record, "  \n ").await.unwrap_err()), [("note", "required")]);
        let long = "я".repeat(crm::history::MAX_NOTE + 1);
        assert_eq!(field_errors(t.crm.add_note(&t.admin, record, &long).await.unwrap_err()), [("note", "too_long")]);
        assert_eq!(field_errors(t.crm.add_note(&t.admin, record, "a\u{0}b").await.unwrap_err()), [("note", "control_chars")]);
        assert!(matches!(t.crm.add_note(&t.admin, Record::Lead(LeadId::new(999_999)), "x").await, Err(Error::NotFound { .. })));

        let timeline = t.crm.timeline(&t.admin, record, PageRequest::new(0, 1)).await.unwrap();
        assert_eq!(timeline.total, 2, "create and the note");
        assert_eq!(timeline.items[0].action, "note");
        let second = t.crm.timeline(&t.admin, record, PageRequest::new(1, 1)).await.unwrap();
        assert_eq!(second.items[0].action, "create", "paged, newest first");
    }

    async fn a_lost_lead_says_why_and_converted_is_reached_only_by_converting(t: TestCrm) {
        let created = t.crm.create_lead(&t.admin, &lead("Сидоров", "+7 912 345-67-03")).await.unwrap();
        let err = t.crm.set_lead_status(&t.admin, created.id, created.version, LeadStatus::Lost, None).await.unwrap_err();
        assert_eq!(field_errors(err), [("lost_reason_id", "lost_reason_required")]);
        let err = t.crm.set_lead_status(&t.admin, created.id, created.version, LeadStatus::Lost, Some(LostReasonId::new(999_999))).await.unwrap_err();
        assert_eq!(field_errors(err), [("lost_reason_id", "unknown")]);
        let err = t.crm.set_lead_status(&t.admin, created.id, created.version, LeadStatus::Converted, None).await.unwrap_err();
        assert_eq!(field_errors(err), [("status", "convert_instead")]);

        let reason = t.crm.create_lost_reason(&t.admin, "Переехал в другой город").await.unwrap();
        let lost = t.crm.set_lead_status(&t.admin, created.id, created.version, LeadStatus::Lost, Some(reason.id)).await.unwrap();
        assert_eq!((lost.status, lost.lost_reason.as_deref()), (LeadStatus::Lost, Some("Переехал в другой город")));
        // a stale version is a conflict, not a silent overwrite
        let stale = t.crm.set_lead_status(&t.admin, created.id, created.version, LeadStatus::New, None).await;
        assert!(matches!(stale, Err(Error::Conflict { .. })));
        let back = t.crm.set_lead_status(&t.admin, created.id, lost.version, LeadStatus::InWork, None).await.unwrap();
        assert_eq!(back.lost_reason_id, None, "the reason goes with the status");

        let card = t.crm.lead_card(&t.admin, created.id).await.unwrap();
        let status = &card.timeline.items[1];
        assert_eq!(status.action, "status");
        let fields: Vec<(&str, &str, &str)> =
            status.changes.0.iter().map(|c| (c.field.as_str(), c.old.as_str(), c.new.as_str())).collect();
        assert_eq!(fields, [("status", "new", "lost"), ("lost_reason", "", "Переехал в другой город")]);

        // the reasons list: names unique ignoring case; an archived reason leaves the picker
        let err = t.crm.create_lost_reason(&t.admin, "ДОРОГО").await.unwrap_err();
        assert_eq!(field_errors(err), [("name", "name_taken")]);
        let archived = t.crm.set_lost_reason_archived(&t.admin, reason.id, reason.version, true).await.unwrap();
        assert!(archived.is_archived);
        let reasons = HistoryFilter { entity: Some("lost_reason".into()), ..Default::default() };
        let entry = t.crm.history(&t.admin, &reasons).await.unwrap().items.remove(0);
        assert_eq!((entry.action.as_str(), entry.details.as_str()), ("archive", archived.name.as_str()));
        let live = t.crm.list_lost_reasons(&t.admin, false).await.unwrap();
        assert!(live.iter().all(|r| r.id != reason.id));
        assert_eq!(live.len(), 5, "the five that ship");
    }

    async fn an_owner_is_reassigned_with_its_own_permission_and_lists_filter_by_owner(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let anna = t.user("anna", &["operator"]).await;
        let mine = t.crm.create_lead(&olga, &lead("Первый", "+7 912 345-67-04")).await.unwrap();
        t.crm.create_lead(&olga, &lead("Второй", "+7 912 345-67-05")).await.unwrap();
        // an operator may not hand a new lead to someone else, nor reassign one
        let for_anna = LeadInput { owner_id: Some(anna.user_id), ..lead("Третий", "+7 912 345-67-06") };
        assert!(matches!(t.crm.create_lead(&olga, &for_anna).await, Err(Error::Forbidden("owners.assign"))));
        let refused = t.crm.set_owner(&olga, Record::Lead(mine.id), mine.version, anna.user_id).await;
        assert!(matches!(refused, Err(Error::Forbidden("owners.assign"))));
        // the administrator may do both
        let given = t.crm.create_lead(&t.admin, &for_anna).await.unwrap();
        assert_eq!(given.owner_id, Some(anna.user_id));
        t.crm.set_owner(&t.admin, Record::Lead(mine.id), mine.version, anna.user_id).await.unwrap();

        let of = |owner| LeadFilter { owner_id: Some(owner), ..Default::default() };
        assert_eq!(t.crm.list_leads(&olga, &of(olga.user_id)).await.unwrap().total, 1);
        let annas = t.crm.list_leads(&olga, &of(anna.user_id)).await.unwrap();
        assert_eq!(annas.total, 2);
        assert!(annas.items.iter().all(|l| l.owner_name.as_deref() == Some("User anna")));

        let card = t.crm.lead_card(&t.admin, mine.id).await.unwrap();
        let entry = &card.timeline.items[0];
        assert_eq!(entry.action, "owner");
        assert_eq!((entry.changes.0[0].old.as_str(), entry.changes.0[0].new.as_str()), ("User olga", "User anna"));

        // nobody owns a record as a deactivated user
        let user = t.crm.get_user(&t.admin, anna.user_id).await.unwrap();
        let off = crm::users::UserUpdate { full_name: user.full_name, is_active: false, roles: user.roles, extra_permissions: vec![] };
        t.crm.update_user(&t.admin, user.id, user.version, &off).await.unwrap();
        let current = t.crm.get_lead(&t.admin, mine.id).await.unwrap();
        let err = t.crm.set_owner(&t.admin, Record::Lead(mine.id), current.version, anna.user_id).await.unwrap_err();
        assert_eq!(field_errors(err), [("owner_id", "user_inactive")]);
        // nor in bulk (the owner read once for the whole action): each record refused, as alone
        use crm::bulk::{LeadAction, Selection};
        let to_anna = LeadAction::SetOwner { owner_id: anna.user_id };
        let both = Selection::Ids { ids: vec![mine.id.get(), annas.items[0].id.get()] };
        let outcome = t.crm.bulk_leads(&t.admin, &both, &to_anna).await.unwrap();
        assert!(outcome.changed.is_empty());
        let refusals: Vec<_> = outcome.refused.into_iter().map(|r| field_errors(r.error)).collect();
        assert_eq!(refusals, [[("owner_id", "user_inactive")], [("owner_id", "user_inactive")]]);
        let nobody = LeadAction::SetOwner { owner_id: UserId::new(999_999) };
        let outcome = t.crm.bulk_leads(&t.admin, &both, &nobody).await.unwrap();
        assert_eq!(outcome.refused.into_iter().map(|r| field_errors(r.error)).collect::<Vec<_>>(), [[("owner_id", "unknown")], [("owner_id", "unknown")]]);
        assert_eq!(t.crm.get_lead(&t.admin, mine.id).await.unwrap().version, current.version, "nothing written");
        // an id that is no lead is refused as not found, the others changed (all read at once)
        let to_olga = LeadAction::SetOwner { owner_id: olga.user_id };
        let with_unknown = Selection::Ids { ids: vec![999_999, mine.id.get()] };
        let outcome = t.crm.bulk_leads(&t.admin, &with_unknown, &to_olga).await.unwrap();
        assert_eq!(outcome.changed, [mine.id.get()]);
        assert_eq!(outcome.refused.iter().map(|r| (r.id, r.error.code())).collect::<Vec<_>>(), [(999_999, "not_found")]);
        assert!(t.crm.user_options(&olga).await.unwrap().iter().all(|u| u.id != anna.user_id));
    }

    async fn clients_change_owner_and_archive_in_bulk_each_refused_alone(t: TestCrm) {
        use crm::bulk::{ClientAction, Selection};
        let service = crate::contracts::service(&t, "SEO").await;
        let mut clients = Vec::new();
        for (i, phone) in ["+7 912 345-64-01", "+7 912 345-64-02"].into_iter().enumerate() {
            let l = t.crm.create_lead(&t.admin, &lead(&format!("Клиент {i}"), phone)).await.unwrap();
            let conversion = Conversion::NewContract { contract: contract(&format!("Д-К{i}"), service, "100"), document: None };
            clients.push(t.crm.convert_lead(&t.admin, l.id, l.version, conversion).await.unwrap());
        }
        let pavel = t.user("pavel", &["manager"]).await;
        let ids = Selection::Ids { ids: vec![clients[1].id.get(), 999_999, clients[0].id.get()] };
        let outcome = t.crm.bulk_clients(&t.admin, &ids, &ClientAction::SetOwner { owner_id: pavel.user_id }).await.unwrap();
        assert_eq!(outcome.changed, [clients[0].id.get(), clients[1].id.get()]);
        assert_eq!(outcome.refused.iter().map(|r| (r.id, r.error.code())).collect::<Vec<_>>(), [(999_999, "not_found")]);
        for client in &clients {
            let card = t.crm.client_card(&pavel, client.id).await.unwrap();
            assert_eq!(card.client.owner_id, Some(pavel.user_id));
            assert_eq!(card.timeline.items[0].action, "owner");
        }
        let outcome = t.crm.bulk_clients(&pavel, &ids, &ClientAction::Archive).await.unwrap();
        assert_eq!(outcome.changed.len(), 2);
        let live = t.crm.list_clients(&t.admin, &Default::default()).await.unwrap();
        assert_eq!(live.total, 0, "both archived");
    }

    async fn two_archived_leads_of_one_phone_restored_together_restore_the_first_alone(t: TestCrm) {
        use crm::bulk::{LeadAction, Selection};
        let first = t.crm.create_lead(&t.admin, &lead("Первая", "+7 912 345-69-01")).await.unwrap();
        let first = t.crm.set_lead_archived(&t.admin, first.id, first.version, true).await.unwrap();
        let second = t.crm.create_lead(&t.admin, &lead("Вторая", "+7 912 345-69-01")).await.unwrap();
        t.crm.set_lead_archived(&t.admin, second.id, second.version, true).await.unwrap();
        let other = t.crm.create_lead(&t.admin, &lead("Третья", "+7 912 345-69-02")).await.unwrap();
        t.crm.set_lead_archived(&t.admin, other.id, other.version, true).await.unwrap();
        let ids = vec![second.id.get(), other.id.get(), first.id.get()];
        let outcome = t.crm.bulk_leads(&t.admin, &Selection::Ids { ids }, &LeadAction::Restore).await.unwrap();
        assert_eq!(outcome.changed, [first.id.get(), other.id.get()]);
        assert_eq!(outcome.refused.len(), 1);
        let refusal = &outcome.refused[0];
        assert_eq!((refusal.id, refusal.name.as_str()), (second.id.get(), "Вторая"));
        let crm::Error::Invalid(fields) = &refusal.error else { panic!("{:?}", refusal.error) };
        assert_eq!((fields[0].field, fields[0].code), ("phone", "phone_taken"));
        assert!(format!("{:?}", fields[0]).contains("Первая"), "names the lead that holds it: {:?}", fields[0]);
        assert!(!t.crm.get_lead(&t.admin, first.id).await.unwrap().is_archived);
        assert!(t.crm.get_lead(&t.admin, second.id).await.unwrap().is_archived);
        assert!(!t.crm.get_lead(&t.admin, other.id).await.unwrap().is_archived);
    }

    async fn bulk_changes_of_more_leads_than_one_statement_takes_reach_each_lead(t: TestCrm) {
        use crm::bulk::{LeadAction, Selection};
        t.demo(21, 1_300).await;
        let pavel = t.user("pavel", &["manager"]).await;
        let live = t.crm.list_leads(&t.admin, &LeadFilter::default()).await.unwrap();
        let converted = LeadFilter { status: Some(LeadStatus::Converted), ..Default::default() };
        let converted = t.crm.list_leads(&t.admin, &converted).await.unwrap().total;
        assert!(live.total - converted > 1_000, "more than two statements' worth: {}", live.total);
        let before = t.crm.get_lead(&t.admin, live.items[0].id).await.unwrap();

        let all = Selection::Matching { filter: LeadFilter::default() };
        let outcome = t.crm.bulk_leads(&t.admin, &all, &LeadAction::SetOwner { owner_id: pavel.user_id }).await.unwrap();
        assert_eq!(outcome.changed.len() as i64, live.total - converted);
        assert_eq!(outcome.refused.len() as i64, converted, "a converted lead belongs to its client");
        assert!(outcome.refused.iter().all(|r| r.error.code() == "lead_converted_locked" && !r.name.is_empty()));
        assert!(outcome.changed.windows(2).all(|pair| pair[0] < pair[1]), "in the list's order of ids");
        // the kept count of the owner's leads, and each lead's version and timeline
        let pavels = LeadFilter { owner_id: Some(pavel.user_id), ..Default::default() };
        assert_eq!(t.crm.list_leads(&t.admin, &pavels).await.unwrap().total, live.total - converted);
        let pavels_name = t.crm.get_user(&t.admin, pavel.user_id).await.unwrap().full_name;
        let mut written = Vec::new();
        for &id in [outcome.changed[0], outcome.changed[400], outcome.changed[700], *outcome.changed.last().unwrap()].iter() {
            let lead = t.crm.get_lead(&t.admin, LeadId::new(id)).await.unwrap();
            assert_eq!(lead.owner_id, Some(pavel.user_id));
            let timeline = t.crm.timeline(&t.admin, Record::Lead(lead.id), PageRequest::default()).await.unwrap();
            let entry = timeline.items[0].clone();
            assert_eq!((entry.action.as_str(), entry.details.as_str()), ("owner", lead.full_name.as_str()));
            assert_eq!(entry.changes.0[0].new, pavels_name);
            written.push(entry.at);
        }
        // (the first 500 leads changed by one statement, written at one instant: not one by one)
        assert_eq!(written[0], written[1], "one statement for many");
        let after = t.crm.get_lead(&t.admin, before.id).await.unwrap();
        assert_eq!(after.version, before.version.next(), "one write for each");
        let timeline = t.crm.timeline(&t.admin, Record::Lead(before.id), PageRequest::default()).await.unwrap();
        assert_eq!(timeline.items[0].changes.0[0].old, before.owner_name.clone().unwrap_or_default());

        // the same owner again: every lead written once more, its timeline saying no change
        let outcome = t.crm.bulk_leads(&t.admin, &all, &LeadAction::SetOwner { owner_id: pavel.user_id }).await.unwrap();
        assert_eq!(outcome.changed.len() as i64, live.total - converted);
        assert_eq!(t.crm.list_leads(&t.admin, &pavels).await.unwrap().total, live.total - converted);
        let timeline = t.crm.timeline(&t.admin, Record::Lead(before.id), PageRequest::default()).await.unwrap();
        assert_eq!((timeline.items[0].action.as_str(), timeline.items[0].changes.0.len()), ("owner", 0));

        // lost without a reason given: each lost lead keeps its own (one statement for each
        // reason), every other refused for want of one
        let lost = LeadFilter { status: Some(LeadStatus::Lost), ..Default::default() };
        let was_lost = t.crm.list_leads(&t.admin, &LeadFilter { page: PageRequest::new(0, 200), ..lost.clone() }).await.unwrap();
        let reasons: std::collections::BTreeSet<_> = was_lost.items.iter().map(|l| l.lost_reason.clone()).collect();
        assert!(reasons.len() > 2, "the demo's lost leads have several reasons: {reasons:?}");
        let no_reason = LeadAction::SetStatus { status: LeadStatus::Lost, lost_reason_id: None };
        let outcome = t.crm.bulk_leads(&t.admin, &all, &no_reason).await.unwrap();
        assert_eq!(outcome.changed.len() as i64, was_lost.total);
        let codes: Vec<&str> = outcome.refused.iter().map(|r| r.error.code()).collect();
        assert_eq!(codes.len() as i64, live.total - was_lost.total);
        assert!(codes.iter().all(|code| ["invalid", "lead_converted_locked"].contains(code)), "{codes:?}");
        for kept in &was_lost.items[..20] {
            assert_eq!(t.crm.get_lead(&t.admin, kept.id).await.unwrap().lost_reason, kept.lost_reason, "its own reason");
        }
        // lost for a reason given, by an operator (on an office server, as her own role): all of
        // them at once, the reason on each timeline
        let olga = t.user("olga", &["operator"]).await;
        let reason = t.crm.create_lost_reason(&t.admin, "Дорого для всех").await.unwrap();
        let for_reason = LeadAction::SetStatus { status: LeadStatus::Lost, lost_reason_id: Some(reason.id) };
        let outcome = t.crm.bulk_leads(&olga, &all, &for_reason).await.unwrap();
        assert_eq!(outcome.changed.len() as i64, live.total - converted);
        assert_eq!(t.crm.list_leads(&t.admin, &lost).await.unwrap().total, live.total - converted);
        let changed = t.crm.get_lead(&t.admin, LeadId::new(outcome.changed[600])).await.unwrap();
        assert_eq!(changed.lost_reason.as_deref(), Some("Дорого для всех"));
        let timeline = t.crm.timeline(&t.admin, Record::Lead(changed.id), PageRequest::default()).await.unwrap();
        let said: Vec<(&str, &str)> = timeline.items[0].changes.0.iter().map(|c| (c.field.as_str(), c.new.as_str())).collect();
        assert!(said.contains(&("lost_reason", "Дорого для всех")), "{said:?}");
        let first = t.crm.timeline(&olga, Record::Lead(LeadId::new(outcome.changed[0])), PageRequest::default()).await.unwrap();
        let near = t.crm.timeline(&olga, Record::Lead(LeadId::new(outcome.changed[400])), PageRequest::default()).await.unwrap();
        assert_eq!(first.items[0].at, near.items[0].at, "one statement for many, as the operator too");
        // archived, then restored one by one: the roll-ups and kept counts as the rows say
        let outcome = t.crm.bulk_leads(&olga, &all, &LeadAction::Archive).await.unwrap();
        assert_eq!(outcome.changed.len() as i64, live.total - converted);
        assert_eq!(t.crm.list_leads(&t.admin, &LeadFilter::default()).await.unwrap().total, converted);
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default());
        let archived = Selection::Matching { filter: LeadFilter { include_archived: true, ..Default::default() } };
        let outcome = t.crm.bulk_leads(&t.admin, &archived, &LeadAction::Restore).await.unwrap();
        assert_eq!((outcome.changed.len() + outcome.refused.len()) as i64, live.total);
        assert!(outcome.changed.len() as i64 > (live.total - converted) / 2);
        assert_eq!(t.crm.verify_stats(&t.admin).await.unwrap(), Default::default());
    }

    async fn a_call_back_from_the_card_shows_on_my_day_and_done_goes_on_the_timeline(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let created = t.crm.create_lead(&olga, &lead("Кузнецов", "+7 912 345-67-07")).await.unwrap();
        let record = Some(Record::Lead(created.id));
        let late = t.crm.create_task(&olga, &call_back("Перезвонить", in_hours(-2), record)).await.unwrap();
        let later = t.crm.create_task(&olga, &call_back("Отправить КП", in_hours(24 * 3), None)).await.unwrap();
        assert_eq!(late.record_name.as_deref(), Some("Кузнецов"));
        assert_eq!(late.assignee_id, olga.user_id, "one's own unless assigned");

        let day = t.crm.my_day(&olga).await.unwrap();
        assert_eq!((day.counts.overdue, day.counts.upcoming), (1, 1));
        assert_eq!(day.overdue[0].id, late.id);
        assert_eq!(day.upcoming[0].id, later.id);
        assert!(day.expiring.is_none(), "an operator sees no contracts");
        assert_eq!(t.crm.task_counts(&olga).await.unwrap().next_due.map(|t| t.id), Some(later.id));

        let card = t.crm.lead_card(&olga, created.id).await.unwrap();
        assert_eq!(card.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [late.id]);
        let done = t.crm.set_task_done(&olga, late.id, late.version, true, "Договорились о встрече").await.unwrap();
        assert!(done.is_done && done.done_at.is_some());
        assert_eq!(t.crm.my_day(&olga).await.unwrap().counts.overdue, 0);
        let timeline = t.crm.timeline(&olga, Record::Lead(created.id), PageRequest::default()).await.unwrap();
        let actions: Vec<&str> = timeline.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["task_done", "task_added", "create"]);
        assert_eq!(timeline.items[0].changes.0[0].new, "Договорились о встрече");
        let reopened = t.crm.set_task_done(&olga, done.id, done.version, false, "").await.unwrap();
        assert!(!reopened.is_done && reopened.result.is_empty());
    }

    async fn bad_task_input_is_a_field_error(t: TestCrm) {
        let bad = TaskInput { subject: " ".into(), due_at: "0001-01-01T10:00".into(), assignee_id: Some(UserId::new(999_999)), ..Default::default() };
        let err = t.crm.create_task(&t.admin, &bad).await.unwrap_err();
        assert_eq!(field_errors(err), [("subject", "required"), ("due_at", "date_invalid"), ("assignee_id", "unknown")]);
        let no_time = TaskInput { subject: "x".into(), due_at: "завтра".into(), ..Default::default() };
        assert_eq!(field_errors(t.crm.create_task(&t.admin, &no_time).await.unwrap_err()), [("due_at", "date_invalid")]);
        let nowhere = call_back("x", in_hours(1), Some(Record::Lead(LeadId::new(999_999))));
        assert_eq!(field_errors(t.crm.create_task(&t.admin, &nowhere).await.unwrap_err()), [("record", "unknown")]);
        // about a client needs the right to see clients
        let olga = t.user("olga", &["operator"]).await;
        let about_client = call_back("x", in_hours(1), Some(Record::Client(ClientId::new(1))));
        assert!(matches!(t.crm.create_task(&olga, &about_client).await, Err(Error::Forbidden("clients.view"))));
    }

    async fn everyone_sees_their_own_tasks_and_tasks_all_sees_everyones(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let anna = t.user("anna", &["operator"]).await;
        let hers = t.crm.create_task(&olga, &call_back("Её задача", in_hours(5), None)).await.unwrap();
        // set for a colleague: the colleague sees it, and so does its author
        let for_anna = TaskInput { assignee_id: Some(anna.user_id), ..call_back("Для Анны", in_hours(6), None) };
        let given = t.crm.create_task(&olga, &for_anna).await.unwrap();
        assert_eq!(t.crm.list_tasks(&anna, &TaskFilter::default()).await.unwrap().items[0].id, given.id);
        // anna cannot see or change olga's own task: on both backends it does not exist for her
        let err = t.crm.set_task_done(&anna, hers.id, hers.version, true, "").await.unwrap_err();
        assert!(matches!(err, Error::NotFound { entity: "task", .. }), "{err:?}");
        let everyone = TaskFilter { everyone: true, ..Default::default() };
        assert!(matches!(t.crm.list_tasks(&anna, &everyone).await, Err(Error::Forbidden("tasks.all"))));
        assert_eq!(t.crm.list_tasks(&t.admin, &everyone).await.unwrap().total, 2);
        let olgas = TaskFilter { assignee_id: Some(olga.user_id), ..Default::default() };
        assert_eq!(t.crm.list_tasks(&t.admin, &olgas).await.unwrap().items[0].id, hers.id);
        // the administrator may move it to another day
        let moved = call_back("Её задача", in_hours(48), None);
        let updated = t.crm.update_task(&t.admin, hers.id, hers.version, &moved).await.unwrap();
        assert!(updated.due_at > hers.due_at);
        let stale = t.crm.update_task(&olga, hers.id, hers.version, &moved).await;
        assert!(matches!(stale, Err(Error::Conflict { .. })));
    }

    async fn a_managers_day_lists_the_contracts_that_run_out_soon(t: TestCrm) {
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "Аудит".into(), description: String::new(), price: "1000".into(),
        }).await.unwrap();
        let today = Local::now().date_naive();
        let ending = |name: &str, days: i64| {
            let mut input = contract(name, service.id, "1000");
            input.signed_on = (today - Duration::days(300)).to_string();
            input.valid_from = input.signed_on.clone();
            input.valid_to = (today + Duration::days(days)).to_string();
            input
        };
        t.crm.create_contract(&t.admin, &ending("Скоро", 10), None).await.unwrap();
        t.crm.create_contract(&t.admin, &ending("Нескоро", 90), None).await.unwrap();
        t.crm.create_contract(&t.admin, &ending("Истёк", -1), None).await.unwrap();
        let manager = t.user("pavel", &["manager"]).await;
        let day = t.crm.my_day(&manager).await.unwrap();
        let expiring = day.expiring.expect("a manager sees contracts");
        assert_eq!(expiring.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Скоро"]);
        assert_eq!(day.expiring_days, 30);
        let filter = ContractFilter { expiring: true, ..Default::default() };
        assert_eq!(t.crm.list_contracts(&manager, &filter).await.unwrap().total, 1);
    }

    async fn a_clients_card_tells_its_leads_story_its_contracts_and_their_entries(t: TestCrm) {
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "SEO".into(), description: String::new(), price: "1000".into(),
        }).await.unwrap();
        let created = t.crm.create_lead(&t.admin, &lead("Морозова", "+7 912 345-67-08")).await.unwrap();
        t.crm.add_note(&t.admin, Record::Lead(created.id), "Хочет SEO").await.unwrap();
        let conversion = Conversion::NewContract { contract: contract("Д-1", service.id, "5000"), document: None };
        let client = t.crm.convert_lead(&t.admin, created.id, created.version, conversion).await.unwrap();
        assert_eq!(client.owner_id, Some(t.admin.user_id), "who converted it owns the client");
        t.crm.add_note(&t.admin, Record::Client(client.id), "Подписали").await.unwrap();

        let manager = t.user("pavel", &["manager"]).await;
        let card = t.crm.client_card(&manager, client.id).await.unwrap();
        assert_eq!(card.lead.id, created.id);
        assert_eq!(card.contracts.as_ref().map(|c| c.len()), Some(1));
        let entries: Vec<(&str, &str)> =
            card.timeline.items.iter().map(|e| (e.entity.as_str(), e.action.as_str())).collect();
        assert_eq!(
            entries,
            [("client", "note"), ("lead", "convert"), ("contract", "create"), ("client", "create"), ("lead", "note"), ("lead", "create")]
        );
        // an operator's converted lead is still a card to read (the client's is not theirs)
        let olga = t.user("olga", &["operator"]).await;
        let read_only = t.crm.lead_card(&olga, created.id).await.unwrap();
        assert_eq!(read_only.lead.client_id, Some(client.id));
        assert!(matches!(t.crm.client_card(&olga, client.id).await, Err(Error::Forbidden("clients.view"))));
    }

    async fn the_history_page_filters_by_user_kind_and_period(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        t.crm.create_lead(&olga, &lead("Белов", "+7 912 345-67-09")).await.unwrap();
        t.crm.create_channel(&t.admin, "Радио").await.unwrap();
        let by_olga = HistoryFilter { user_id: Some(olga.user_id), ..Default::default() };
        let page = t.crm.history(&t.admin, &by_olga).await.unwrap();
        assert_eq!(page.total, 1);
        assert_eq!((page.items[0].entity.as_str(), page.items[0].details.as_str()), ("lead", "Белов"));
        let channels = HistoryFilter { entity: Some("channel".into()), ..Default::default() };
        assert_eq!(t.crm.history(&t.admin, &channels).await.unwrap().items[0].details, "Радио");
        // a user's entries of one kind, and one kind within a period (each read by its own index)
        let olgas_leads = HistoryFilter { entity: Some("lead".into()), ..by_olga.clone() };
        assert_eq!(t.crm.history(&t.admin, &olgas_leads).await.unwrap().total, 1);
        let olgas_channels = HistoryFilter { entity: Some("channel".into()), ..by_olga.clone() };
        assert_eq!(t.crm.history(&t.admin, &olgas_channels).await.unwrap().total, 0);
        let today = Local::now().date_naive();
        let channels_today = HistoryFilter { from: Some(today), to: Some(today), ..channels.clone() };
        let page = t.crm.history(&t.admin, &channels_today).await.unwrap();
        assert_eq!((page.total, page.items[0].details.as_str()), (1, "Радио"));
        let channels_before = HistoryFilter { to: today.pred_opt(), ..channels.clone() };
        assert_eq!(t.crm.history(&t.admin, &channels_before).await.unwrap().total, 0);
        let yesterday = HistoryFilter { to: today.pred_opt(), ..Default::default() };
        assert_eq!(t.crm.history(&t.admin, &yesterday).await.unwrap().total, 0);
        // the furthest dates a form takes keep every entry (SQLite compared the day after
        // 31.12.9999, "+10000-01-01...", as text: before every entry)
        let widest = HistoryFilter {
            from: chrono::NaiveDate::from_ymd_opt(1900, 1, 1),
            to: chrono::NaiveDate::from_ymd_opt(9999, 12, 31),
            ..Default::default()
        };
        let all = t.crm.history(&t.admin, &HistoryFilter::default()).await.unwrap().total;
        assert!(all > 0);
        assert_eq!(t.crm.history(&t.admin, &widest).await.unwrap().total, all);
        let bogus = HistoryFilter { entity: Some("passwords".into()), ..Default::default() };
        assert_eq!(field_errors(t.crm.history(&t.admin, &bogus).await.unwrap_err()), [("entity", "not_allowed")]);
        let backwards = HistoryFilter { from: Some(today), to: today.pred_opt(), ..Default::default() };
        assert_eq!(field_errors(t.crm.history(&t.admin, &backwards).await.unwrap_err()), [("to", "end_before_start")]);
        assert!(matches!(t.crm.history(&olga, &HistoryFilter::default()).await, Err(Error::Forbidden("history.view"))));
    }

    async fn the_demo_tells_each_records_story_in_the_order_it_happened(t: TestCrm) {
        t.demo(15, 600).await;
        let read = |sql: &'static str| {
            let crm = t.crm.clone();
            async move {
                let mut tx = crm.db().read().await.unwrap();
                let ids: (i64, i64) = tx.fetch_one(crm::db::Query::new(sql)).await.unwrap();
                ids
            }
        };
        // a converted lead: its client's card tells the lead's story, then the conversion
        let (client, lead) = read("select id, lead_id from clients order by id limit 1").await;
        let page = PageRequest::new(0, 50);
        let story = t.crm.timeline(&t.admin, Record::Client(ClientId::new(client)), page).await.unwrap();
        let kinds: Vec<(&str, &str)> =
            story.items.iter().rev().map(|e| (e.entity.as_str(), e.action.as_str())).collect();
        assert_eq!(kinds[..3], [("lead", "create"), ("lead", "status"), ("client", "create")], "{kinds:?}");
        assert!(kinds.contains(&("contract", "create")) && kinds.contains(&("lead", "convert")), "{kinds:?}");
        assert!(story.items.windows(2).all(|w| w[0].at >= w[1].at), "latest first");
        let taken = &story.items.iter().rev().nth(1).unwrap().changes.0[0];
        assert_eq!((taken.field.as_str(), taken.old.as_str(), taken.new.as_str()), ("status", "new", "in_work"));
        let lead_card = t.crm.timeline(&t.admin, Record::Lead(LeadId::new(lead)), page).await.unwrap();
        assert_eq!(lead_card.items[0].action, "convert");
        // a lost lead says why on its timeline, as a status change made in the window does
        let (lost, _) = read("select id, lost_reason_id from leads where lost_reason_id is not null order by id limit 1").await;
        let story = t.crm.timeline(&t.admin, Record::Lead(LeadId::new(lost)), page).await.unwrap();
        let fields: Vec<&str> = story.items[0].changes.0.iter().map(|c| c.field.as_str()).collect();
        assert_eq!((story.items[0].action.as_str(), fields), ("status", vec!["status", "lost_reason"]));
        // the History page lists them by when they happened, none after the demo's "today"
        let leads = HistoryFilter { entity: Some("lead".into()), page: PageRequest::new(0, 500), ..Default::default() };
        let page = t.crm.history(&t.admin, &leads).await.unwrap();
        assert!(page.capped || page.total > 1000, "a story for every lead: {}", page.total);
        assert!(page.items.windows(2).all(|w| w[0].at >= w[1].at), "latest first");
        let end = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert!(page.items[0].at < end, "{}", page.items[0].at);
        // spread over the time there was, not piled up at "today"'s last moment (a conversion
        // writes up to five entries at once: the client, three contracts, the lead's)
        let mut at_once = std::collections::HashMap::new();
        for entry in &page.items {
            *at_once.entry(entry.at).or_insert(0) += 1;
        }
        assert!(at_once.values().all(|&n| n <= 5), "{:?}", at_once.values().max());
        let tasks = HistoryFilter { entity: Some("lead".into()), page: PageRequest::new(0, 10_000), ..Default::default() };
        let all = t.crm.history(&t.admin, &tasks).await.unwrap().items;
        assert!(all.iter().any(|e| e.action == "task_added") && all.iter().any(|e| e.action == "task_done"));
    }

    async fn the_history_page_counts_up_to_ten_thousand_then_says_more(t: TestCrm) {
        let bound = crm::history::COUNT_BOUND;
        add_entries(&t, bound - t.count("audit_log").await).await;
        let all = HistoryFilter::default();
        let page = t.crm.history(&t.admin, &all).await.unwrap();
        assert_eq!((page.total, page.capped), (bound, false), "exactly the bound: counted");
        add_entries(&t, 1).await;
        let page = t.crm.history(&t.admin, &all).await.unwrap();
        assert_eq!((page.total, page.capped), (bound, true), "one more: \"more than 10,000\"");
        let far = HistoryFilter { page: PageRequest::new(bound, 50), ..Default::default() };
        assert_eq!(t.crm.history(&t.admin, &far).await.unwrap().items.len(), 1, "the entry past the bound is still reachable");
        // a kind with more entries than the bound, latest first (one range of the index of kinds
        // and times, migration 0045)
        add_entries(&t, 10).await;
        let channels = HistoryFilter { entity: Some("channel".into()), ..Default::default() };
        let page = t.crm.history(&t.admin, &channels).await.unwrap();
        assert!(page.capped);
        assert_eq!(page.items.len(), 50);
        assert!(page.items.iter().all(|e| e.entity == "channel"));
        assert!(page.items.windows(2).all(|w| (w[0].at, w[0].id) >= (w[1].at, w[1].id)), "latest first");
    }

    async fn the_board_has_a_column_per_status_each_paged_with_the_next_task(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(t.crm.create_lead(&olga, &lead(&format!("Лид {i}"), &format!("+7 912 345-60-0{i}"))).await.unwrap());
        }
        let first = &ids[0];
        t.crm.set_lead_status(&olga, first.id, first.version, LeadStatus::InWork, None).await.unwrap();
        t.crm.create_task(&olga, &call_back("Позвонить", in_hours(3), Some(Record::Lead(first.id)))).await.unwrap();
        t.crm.create_task(&olga, &call_back("Потом", in_hours(30), Some(Record::Lead(first.id)))).await.unwrap();
        // someone else's task on the same lead is not olga's to see
        let anna = t.user("anna", &["operator"]).await;
        t.crm.create_task(&anna, &call_back("Анна раньше", in_hours(1), Some(Record::Lead(first.id)))).await.unwrap();

        let filter = crm::board::BoardFilter { per_column: Some(2), ..Default::default() };
        let board = t.crm.lead_board(&olga, &filter).await.unwrap();
        let counts: Vec<(LeadStatus, i64)> = board.iter().map(|c| (c.status, c.cards.total)).collect();
        assert_eq!(counts, [(LeadStatus::New, 4), (LeadStatus::InWork, 1), (LeadStatus::Converted, 0), (LeadStatus::Lost, 0)]);
        assert_eq!(board[0].cards.items.len(), 2, "a column shows its first page");
        let card = &board[1].cards.items[0];
        assert_eq!(card.next_task.as_ref().map(|t| t.subject.as_str()), Some("Позвонить"));

        let rest = t.crm.board_column(&olga, &LeadFilter::default(), LeadStatus::New, PageRequest::new(2, 2)).await.unwrap();
        assert_eq!(rest.cards.items.len(), 2);
        let searched = LeadFilter { search: "лид 3".into(), ..Default::default() };
        let one = t.crm.board_column(&olga, &searched, LeadStatus::New, PageRequest::default()).await.unwrap();
        assert_eq!(one.cards.total, 1, "the list's search applies to every column");
    }

    async fn a_bulk_action_changes_what_it_may_and_refuses_the_rest_one_by_one(t: TestCrm) {
        use crm::bulk::{LeadAction, Selection};
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "SEO".into(), description: String::new(), price: "1000".into(),
        }).await.unwrap();
        let a = t.crm.create_lead(&t.admin, &lead("Пакет А", "+7 912 345-61-01")).await.unwrap();
        let b = t.crm.create_lead(&t.admin, &lead("Пакет Б", "+7 912 345-61-02")).await.unwrap();
        let c = t.crm.create_lead(&t.admin, &lead("Пакет В", "+7 912 345-61-03")).await.unwrap();
        let conversion = Conversion::NewContract { contract: contract("Д-9", service.id, "100"), document: None };
        t.crm.convert_lead(&t.admin, c.id, c.version, conversion).await.unwrap();

        let olga = t.user("olga", &["operator"]).await;
        let ids = Selection::Ids { ids: vec![a.id.get(), b.id.get(), c.id.get(), a.id.get()] };
        let to_work = LeadAction::SetStatus { status: LeadStatus::InWork, lost_reason_id: None };
        let outcome = t.crm.bulk_leads(&olga, &ids, &to_work).await.unwrap();
        assert_eq!(outcome.changed, [a.id.get(), b.id.get()], "each once, the converted one aside");
        assert_eq!(outcome.refused.len(), 1);
        assert_eq!((outcome.refused[0].id, outcome.refused[0].error.code()), (c.id.get(), "lead_converted_locked"));
        assert_eq!(t.crm.get_lead(&olga, a.id).await.unwrap().status, LeadStatus::InWork);
        // lost without a reason: refused for every record, nothing written
        let lost = LeadAction::SetStatus { status: LeadStatus::Lost, lost_reason_id: None };
        let outcome = t.crm.bulk_leads(&olga, &Selection::Ids { ids: vec![a.id.get(), b.id.get()] }, &lost).await.unwrap();
        assert!(outcome.changed.is_empty());
        assert!(outcome.refused.iter().all(|r| r.error.code() == "invalid"));

        // owners: its own permission, and every lead the filter matches
        let give = LeadAction::SetOwner { owner_id: olga.user_id };
        let matching = Selection::Matching { filter: LeadFilter { search: "пакет".into(), ..Default::default() } };
        assert!(matches!(t.crm.bulk_leads(&olga, &matching, &give).await, Err(Error::Forbidden("owners.assign"))));
        let outcome = t.crm.bulk_leads(&t.admin, &matching, &give).await.unwrap();
        assert_eq!(outcome.changed.len(), 2);
        assert_eq!(outcome.refused.len(), 1, "a converted lead belongs to its client");

        // archive both, a new lead takes b's phone, the restore of b alone is refused
        t.crm.bulk_leads(&olga, &Selection::Ids { ids: vec![a.id.get(), b.id.get()] }, &LeadAction::Archive).await.unwrap();
        t.crm.create_lead(&olga, &lead("Новый", "+7 912 345-61-02")).await.unwrap();
        let outcome = t.crm.bulk_leads(&olga, &Selection::Ids { ids: vec![a.id.get(), b.id.get()] }, &LeadAction::Restore).await.unwrap();
        assert_eq!(outcome.changed, [a.id.get()]);
        assert_eq!((outcome.refused[0].id, outcome.refused[0].error.code()), (b.id.get(), "invalid"));
        let timeline = t.crm.timeline(&olga, Record::Lead(a.id), PageRequest::default()).await.unwrap();
        let actions: Vec<&str> = timeline.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["restore", "archive", "owner", "status", "create"], "each change on the record's timeline");
        assert!(timeline.items.iter().all(|e| e.details == a.full_name), "each entry names the lead as it was then");

        let none = Selection::Ids { ids: vec![] };
        assert_eq!(field_errors(t.crm.bulk_leads(&olga, &none, &LeadAction::Archive).await.unwrap_err()), [("selection", "nothing_selected")]);
    }

    async fn saved_filters_are_each_users_own_and_a_name_saved_again_replaces(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let anna = t.user("anna", &["operator"]).await;
        let first = serde_json::json!({ "status": "new", "search": "иванов" });
        t.crm.save_filter(&olga, "leads", "Новые Ивановы", &first).await.unwrap();
        let second = serde_json::json!({ "status": "in_work" });
        let saved = t.crm.save_filter(&olga, "leads", "НОВЫЕ ИВАНОВЫ", &second).await.unwrap();
        let mine = t.crm.saved_filters(&olga, "leads").await.unwrap();
        assert_eq!(mine.len(), 1, "the same name ignoring case replaces");
        assert_eq!((mine[0].name.as_str(), &mine[0].filter.0), ("НОВЫЕ ИВАНОВЫ", &second));
        assert!(t.crm.saved_filters(&anna, "leads").await.unwrap().is_empty(), "nobody else's");
        assert!(matches!(t.crm.delete_saved_filter(&anna, saved.id).await, Err(Error::NotFound { .. })));
        assert_eq!(field_errors(t.crm.saved_filters(&olga, "passwords").await.unwrap_err()), [("list", "not_allowed")]);
        let not_object = serde_json::json!(["x"]);
        assert_eq!(field_errors(t.crm.save_filter(&olga, "leads", "x", &not_object).await.unwrap_err()), [("filter", "not_allowed")]);
        assert_eq!(field_errors(t.crm.save_filter(&olga, "leads", " ", &first).await.unwrap_err()), [("name", "required")]);
        t.crm.delete_saved_filter(&olga, saved.id).await.unwrap();
        assert!(t.crm.saved_filters(&olga, "leads").await.unwrap().is_empty());
    }

    async fn duplicates_are_found_and_merged_keeping_every_note_task_and_entry(t: TestCrm) {
        use crm::merge::MergeInput;
        let olga = t.user("olga", &["operator"]).await;
        let first = t.crm.create_lead(&olga, &lead("Смирнова Анна", "+7 912 345-62-01")).await.unwrap();
        let same_phone_archived = t.crm.create_lead(&olga, &LeadInput { email: "anna@example.ru".into(), ..lead("Анна С.", "") }).await.unwrap();
        let close = t.crm.create_lead(&olga, &lead("Смирнова Анна", "8 (999) 345-62-01")).await.unwrap();
        t.crm.create_lead(&olga, &lead("Другой человек", "+7 912 000-00-00")).await.unwrap();
        let with_email = LeadInput { email: "anna@example.ru".into(), ..lead("Смирнова Анна", "") };
        let archived = t.crm.set_lead_archived(&olga, same_phone_archived.id, same_phone_archived.version, true).await.unwrap();
        let twin = t.crm.create_lead(&olga, &with_email).await.unwrap();

        let found = t.crm.lead_duplicates(&olga, first.id).await.unwrap();
        let why: Vec<(LeadId, Vec<&str>)> = found.iter().map(|d| (d.lead.id, d.reasons.clone())).collect();
        assert_eq!(why, [(close.id, vec!["name_phone"])], "the same name with a phone ending alike");
        let found = t.crm.lead_duplicates(&olga, twin.id).await.unwrap();
        let ids: Vec<LeadId> = found.iter().map(|d| d.lead.id).collect();
        assert!(ids.contains(&archived.id), "archived leads count: {found:?}");

        // the office-wide list: both ends of a shared phone or e-mail, not the close name alone
        let duplicated = |include_archived| LeadFilter { duplicates: true, include_archived, ..Default::default() };
        let listed = |page: crm::Page<crm::leads::Lead>| {
            let mut ids: Vec<LeadId> = page.items.iter().map(|l| l.id).collect();
            ids.sort_unstable();
            (ids, page.total)
        };
        assert_eq!(listed(t.crm.list_leads(&olga, &duplicated(false)).await.unwrap()), (vec![twin.id], 1));
        assert_eq!(listed(t.crm.list_leads(&olga, &duplicated(true)).await.unwrap()), (vec![archived.id, twin.id], 2));

        // notes and tasks of both end on the one that stays
        t.crm.add_note(&olga, Record::Lead(first.id), "Первая заметка").await.unwrap();
        t.crm.add_note(&olga, Record::Lead(twin.id), "Заметка дубля").await.unwrap();
        t.crm.create_task(&olga, &call_back("Перезвонить дублю", in_hours(4), Some(Record::Lead(twin.id)))).await.unwrap();
        let keep = t.crm.get_lead(&olga, first.id).await.unwrap();
        let drop = t.crm.get_lead(&olga, twin.id).await.unwrap();
        let self_merge = MergeInput { keep: keep.id, keep_version: keep.version, drop: keep.id, drop_version: keep.version, take: vec![] };
        assert_eq!(field_errors(t.crm.merge_leads(&olga, &self_merge).await.unwrap_err()), [("drop", "merge_self")]);
        let input = MergeInput { keep: keep.id, keep_version: keep.version, drop: drop.id, drop_version: drop.version, take: vec!["email".into()] };
        let merged = t.crm.merge_leads(&olga, &input).await.unwrap();
        assert_eq!((merged.phone.as_deref(), merged.email.as_deref()), (Some("+79123456201"), Some("anna@example.ru")));
        let gone = t.crm.get_lead(&olga, twin.id).await.unwrap();
        assert!(gone.is_archived && gone.merged_into == Some(first.id));
        let card = t.crm.lead_card(&olga, first.id).await.unwrap();
        assert_eq!(card.tasks.iter().map(|t| t.subject.as_str()).collect::<Vec<_>>(), ["Перезвонить дублю"]);
        let notes: Vec<&str> = card.timeline.items.iter().filter(|e| e.action == "note").map(|e| e.details.as_str()).collect();
        assert_eq!(notes, ["Заметка дубля", "Первая заметка"]);
        assert_eq!(card.timeline.items[0].action, "merged", "newest first: the dropped lead's entry, then the merge");
        assert!(card.timeline.items.iter().any(|e| e.action == "merge"));
        // the merged lead leaves the list; the one that took its e-mail now pairs with the archived one
        assert_eq!(listed(t.crm.list_leads(&olga, &duplicated(true)).await.unwrap()), (vec![first.id, archived.id], 2));
        let by_phone = t.crm.create_lead(&olga, &lead("Кто-то ещё", "+7 912 000-00-00")).await;
        assert!(by_phone.is_err(), "a live lead's phone stays unique");
        let board = crm::board::BoardFilter { leads: duplicated(false), per_column: None };
        let columns = t.crm.lead_board(&olga, &board).await.unwrap();
        assert_eq!(columns.iter().map(|c| c.cards.total).sum::<i64>(), 1, "the board filters the same way");
        let again = MergeInput { keep: first.id, keep_version: merged.version, drop: twin.id, drop_version: gone.version, take: vec![] };
        assert_eq!(t.crm.merge_leads(&olga, &again).await.unwrap_err().code(), "merge_already_merged");
    }

    async fn a_converted_lead_always_stays_and_two_converted_ones_are_not_merged(t: TestCrm) {
        use crm::merge::MergeInput;
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "SEO".into(), description: String::new(), price: "1000".into(),
        }).await.unwrap();
        let mut converted = Vec::new();
        for (i, phone) in ["+7 912 345-63-01", "+7 912 345-63-02"].into_iter().enumerate() {
            let l = t.crm.create_lead(&t.admin, &lead("Клиент", phone)).await.unwrap();
            let conversion = Conversion::NewContract { contract: contract(&format!("Д-М{i}"), service.id, "100"), document: None };
            t.crm.convert_lead(&t.admin, l.id, l.version, conversion).await.unwrap();
            converted.push(t.crm.get_lead(&t.admin, l.id).await.unwrap());
        }
        let plain = t.crm.create_lead(&t.admin, &lead("Клиент", "+7 912 345-63-03")).await.unwrap();
        let (a, b) = (&converted[0], &converted[1]);
        let both = MergeInput { keep: a.id, keep_version: a.version, drop: b.id, drop_version: b.version, take: vec![] };
        assert_eq!(t.crm.merge_leads(&t.admin, &both).await.unwrap_err().code(), "merge_both_converted");
        let wrong_way = MergeInput { keep: plain.id, keep_version: plain.version, drop: a.id, drop_version: a.version, take: vec![] };
        assert_eq!(t.crm.merge_leads(&t.admin, &wrong_way).await.unwrap_err().code(), "merge_converted_survives");
        let right = MergeInput { keep: a.id, keep_version: a.version, drop: plain.id, drop_version: plain.version, take: vec!["full_name".into()] };
        let kept = t.crm.merge_leads(&t.admin, &right).await.unwrap();
        assert_eq!(kept.phone.as_deref(), Some("+79123456301"), "a converted lead's fields stay");
    }

    async fn pickers_search_in_the_core_and_offer_at_most_fifty(t: TestCrm) {
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "Настройка рекламы".into(), description: String::new(), price: "1000".into(),
        }).await.unwrap();
        let channel = t.crm.create_channel(&t.admin, "Радио").await.unwrap();
        for i in 0..60 {
            t.crm.create_campaign(&t.admin, &crm::campaigns::CampaignInput {
                name: format!("Осень {i:02}"), service_id: Some(service.id), channel_id: Some(channel.id),
                budget: "1".into(), starts_on: "2026-01-01".into(), ends_on: String::new(),
            }).await.unwrap();
        }
        assert_eq!(t.crm.campaign_options(&t.admin, "").await.unwrap().len(), 50);
        let found = t.crm.campaign_options(&t.admin, "ОСЕНЬ 5").await.unwrap();
        assert_eq!(found.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["Осень 50", "Осень 51", "Осень 52", "Осень 53", "Осень 54", "Осень 55", "Осень 56", "Осень 57", "Осень 58", "Осень 59"]);
        assert!(t.crm.campaign_options(&t.admin, "100%_").await.unwrap().is_empty(), "wildcards are literal");
        assert_eq!(t.crm.service_options(&t.admin, "рекл").await.unwrap().len(), 1);
        assert_eq!(field_errors(t.crm.service_options(&t.admin, "a\u{0}").await.unwrap_err()), [("search", "control_chars")]);
    }

    async fn services_campaigns_and_contracts_are_archived_in_bulk(t: TestCrm) {
        use crm::bulk::{ArchiveList, Selection};
        let ticked = |ids: &[i64]| Selection::Ids { ids: ids.to_vec() };
        let mut ids = Vec::new();
        for name in ["Аудит", "Реклама", "Дизайн"] {
            let input = crm::services::ServiceInput { name: name.into(), description: String::new(), price: "10".into() };
            ids.push(t.crm.create_service(&t.admin, &input).await.unwrap().id);
        }
        let marketer = t.user("maria", &["marketer"]).await;
        let outcome = t.crm.bulk_archive(&marketer, ArchiveList::Services, &ticked(&[ids[0].get(), ids[1].get(), 999_999]), true).await.unwrap();
        assert_eq!(outcome.changed, [ids[0].get(), ids[1].get()]);
        assert_eq!((outcome.refused[0].id, outcome.refused[0].error.code()), (999_999, "not_found"));
        assert!(t.crm.get_service(&marketer, ids[0]).await.unwrap().is_archived);
        let operator = t.user("olga", &["operator"]).await;
        let refused = t.crm.bulk_archive(&operator, ArchiveList::Services, &ticked(&[ids[2].get()]), true).await;
        assert!(matches!(refused, Err(Error::Forbidden("services.edit"))));
        let contracts = t.crm.bulk_archive(&marketer, ArchiveList::Contracts, &ticked(&[1]), true).await;
        assert!(matches!(contracts, Err(Error::Forbidden("contracts.edit"))), "a marketer archives no contracts");
        let restored = t.crm.bulk_archive(&marketer, ArchiveList::Services, &ticked(&ids.iter().map(|id| id.get()).collect::<Vec<_>>()), false).await.unwrap();
        assert_eq!(restored.changed, [ids[0].get(), ids[1].get()], "the one that was never archived is left alone");
        // every service the list's filter matches ("ре": Реклама; the page's filter as it sends it)
        let matching = Selection::Matching { filter: serde_json::json!({ "search": "ре", "include_archived": false }) };
        let outcome = t.crm.bulk_archive(&marketer, ArchiveList::Services, &matching, true).await.unwrap();
        assert_eq!(outcome.changed, [ids[1].get()]);
        let everything = Selection::Matching { filter: serde_json::json!({ "include_archived": true }) };
        let outcome = t.crm.bulk_archive(&marketer, ArchiveList::Services, &everything, false).await.unwrap();
        assert_eq!(outcome.changed, [ids[1].get()], "restored: the one archived, not the live ones");
        let nonsense = Selection::Matching { filter: serde_json::json!({ "search": 5 }) };
        let refused = t.crm.bulk_archive(&marketer, ArchiveList::Services, &nonsense, true).await.unwrap_err();
        assert!(matches!(&refused, Error::Invalid(f) if f[0].field == "selection"), "{refused:?}");
        // campaigns and contracts match through their own lists' filters
        let none = Selection::Matching { filter: serde_json::json!({ "search": "нет такой" }) };
        let empty = t.crm.bulk_archive(&marketer, ArchiveList::Campaigns, &none, true).await.unwrap_err();
        assert!(matches!(&empty, Error::Invalid(f) if f[0].code == "nothing_selected"), "{empty:?}");
        let empty = t.crm.bulk_archive(&t.admin, ArchiveList::Contracts, &none, true).await.unwrap_err();
        assert!(matches!(&empty, Error::Invalid(f) if f[0].code == "nothing_selected"), "{empty:?}");
    }
}

crate::office_only! {
    async fn a_bulk_owner_change_meeting_a_colleagues_save_refuses_that_lead_alone(t: TestCrm) {
        use crm::bulk::{LeadAction, Selection};
        use sqlx::{Connection, PgConnection};
        let pavel = t.user("pavel", &["manager"]).await;
        let mut leads = Vec::new();
        for i in 0..3 {
            leads.push(t.crm.create_lead(&t.admin, &lead(&format!("Коллега {i}"), &format!("+7 912 345-66-0{i}"))).await.unwrap());
        }
        // a colleague's save of the middle lead, not yet committed: the bulk change waits for it
        let mut colleague = PgConnection::connect(&t.url).await.expect("owner");
        let mut saving = colleague.begin().await.unwrap();
        sqlx::query("update leads set note = 'перезвонить', version = version + 1 where id = $1")
            .bind(leads[1].id.get())
            .execute(&mut *saving)
            .await
            .unwrap();
        let (crm, admin) = (t.crm.clone(), t.admin.clone());
        let ids: Vec<i64> = leads.iter().map(|l| l.id.get()).collect();
        let change = tokio::spawn(async move {
            crm.bulk_leads(&admin, &Selection::Ids { ids }, &LeadAction::SetOwner { owner_id: pavel.user_id }).await
        });
        let mut watcher = PgConnection::connect(&t.url).await.expect("owner");
        let mut waited = false;
        for _ in 0..200 {
            let (waiting,): (i64,) = sqlx::query_as(
                "select count(*) from pg_stat_activity
                 where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
            )
            .fetch_one(&mut watcher)
            .await
            .unwrap();
            if waiting > 0 {
                waited = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(waited, "the bulk change waited for the colleague's save");
        saving.commit().await.unwrap();
        let outcome = change.await.unwrap().unwrap();
        assert_eq!(outcome.changed, [leads[0].id.get(), leads[2].id.get()]);
        assert_eq!(outcome.refused.iter().map(|r| (r.id, r.error.code())).collect::<Vec<_>>(), [(leads[1].id.get(), "conflict")]);
        let saved = t.crm.get_lead(&t.admin, leads[1].id).await.unwrap();
        assert_eq!((saved.note.as_str(), saved.owner_id), ("перезвонить", leads[1].owner_id), "the colleague's save kept");
        let timeline = t.crm.timeline(&t.admin, Record::Lead(leads[1].id), PageRequest::default()).await.unwrap();
        assert!(timeline.items.iter().all(|e| e.action != "owner"), "no owner entry for the refused lead");
        for lead in [&leads[0], &leads[2]] {
            assert_eq!(t.crm.get_lead(&t.admin, lead.id).await.unwrap().owner_id, Some(pavel.user_id));
        }
    }
}
