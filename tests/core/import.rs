//! Imports: CSV as Russian offices produce it and workbooks, each row checked as the form checks
//! it, duplicates skipped or updated, rejected rows reported with their reasons, a dry run that
//! writes nothing, and an undo.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crm::backup::Progress;
use crm::i18n::Lang;
use crm::import::{ImportKind, ImportOptions, OnDuplicate, Report};
use crm::{Actor, Crm, Error};

use crate::both_backends;
use crate::support::TestCrm;
use crm::domain::id::{CampaignId, ChannelId};

fn quiet(_: Progress) {}

async fn import(
    t: &TestCrm,
    actor: &Actor,
    path: &Path,
    kind: ImportKind,
    options: ImportOptions,
) -> crm::Result<Report> {
    let never = AtomicBool::new(false);
    t.crm.import(actor, path, "file", kind, &options, Lang::Ru, &quiet, &never).await
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn campaign(t: &TestCrm, name: &str) -> CampaignId {
    let service = t
        .crm
        .create_service(
            &t.admin,
            &crm::services::ServiceInput {
                name: format!("Услуга {name}"),
                description: String::new(),
                price: "1000".into(),
            },
        )
        .await
        .unwrap();
    let input = crm::campaigns::CampaignInput {
        name: name.into(),
        service_id: Some(service.id),
        channel_id: Some(ChannelId::new(1)),
        budget: "5000".into(),
        starts_on: "2026-01-01".into(),
        ends_on: String::new(),
    };
    t.crm.create_campaign(&t.admin, &input).await.unwrap().id
}

async fn leads(crm: &Crm, actor: &Actor) -> Vec<crm::leads::Lead> {
    let filter = crm::leads::LeadFilter { page: crm::PageRequest::new(0, 500), ..Default::default() };
    crm.list_leads(actor, &filter).await.unwrap().items
}

const SHEET: &str = "\u{feff}ФИО;Телефон;E-mail;Кампания;Статус;Комментарий\n\
    Иванов Иван;8 (912) 345-67-89;ivan@example.ru;Весна;в работе;\"Просил перезвонить; после 15:00\"\n\
    Петрова Анна;+7 912 000-11-22;;;;\n\
    ;+7 912 000-11-23;;;;без имени\n\
    Сидоров Пётр;12345;;;;\n\
    Кузнецов Олег;+7 912 000-11-24;;Осень;;\n\
    \"Смирнова, Ольга\";8 912 345 67 89;;;;тот же телефон, что у Иванова\n";

both_backends! {
    async fn a_russian_csv_comes_in_with_its_problems_reported_and_nothing_else_lost(t: TestCrm) {
        let spring = campaign(&t, "Весна").await;
        let autumn_default = campaign(&t, "Лето").await;
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "leads.csv", SHEET.as_bytes());

        let preview = t.crm.preview_import(&t.admin, &path, ImportKind::Leads, "", crm::i18n::Lang::Ru).await.unwrap();
        assert_eq!(preview.file.delimiter, Some(';'));
        assert_eq!(preview.headers[0], "ФИО");
        let guessed: Vec<Option<&str>> = preview.mapping.iter().map(|m| m.as_deref()).collect();
        assert_eq!(guessed, [Some("full_name"), Some("phone"), Some("email"), Some("campaign"), Some("status"), Some("note")]);
        assert_eq!(preview.rows.len(), 6);

        let options = ImportOptions { campaign_id: Some(autumn_default), dry_run: true, ..Default::default() };
        let dry = import(&t, &t.admin, &path, ImportKind::Leads, options.clone()).await.unwrap();
        assert_eq!((dry.rows, dry.created, dry.skipped, dry.rejected.len()), (6, 2, 1, 3), "{:?}", dry.rejected);
        assert!(dry.import_id.is_none());
        assert_eq!(t.count("leads").await, 0, "a dry run writes nothing");
        assert_eq!(t.count("imports").await, 0);

        let done = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions { dry_run: false, ..options }).await.unwrap();
        assert_eq!((done.created, done.skipped, done.rejected.len()), (dry.created, dry.skipped, dry.rejected.len()), "the dry run's figures are the import's");
        let reasons: Vec<(u64, &str)> = done.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(reasons[0], (4, "ФИО: Заполните поле"));
        assert_eq!(reasons[1], (5, "Телефон: Неверный номер телефона"));
        assert_eq!(reasons[2], (6, "Кампания: «Осень» не найдено"));
        assert_eq!(done.rejected[0].cells[5], "без имени", "the rejected row keeps its cells");

        let got = leads(&t.crm, &t.admin).await;
        let ivan = got.iter().find(|l| l.full_name == "Иванов Иван").unwrap();
        assert_eq!((ivan.phone.as_deref(), ivan.campaign_id, ivan.note.as_str()), (Some("+79123456789"), Some(spring), "Просил перезвонить; после 15:00"));
        assert_eq!(ivan.status, crm::leads::LeadStatus::InWork);
        let anna = got.iter().find(|l| l.full_name == "Петрова Анна").unwrap();
        assert_eq!(anna.campaign_id, Some(autumn_default), "a row without a campaign gets the chosen one");

        // the rejected rows go to a file that is fixed and imported again
        let rejected = dir.path().join("rejected.csv");
        crm::import::write_rejected(&done, &rejected, Lang::Ru).unwrap();
        let text = std::fs::read_to_string(&rejected).unwrap();
        assert!(text.starts_with("\u{feff}ФИО;Телефон;E-mail;Кампания;Статус;Комментарий;Почему не загружена"), "{text}");
        let fixed = text.replace(";+7 912 000-11-23", "Без Имени;+7 912 000-11-23").replace("12345", "+7 912 000-11-25").replace("Осень", "Весна");
        let path = write(dir.path(), "fixed.csv", fixed.as_bytes());
        let again = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        assert_eq!((again.created, again.rejected.len()), (3, 0), "{:?}", again.rejected);
    }

    async fn duplicates_are_skipped_or_update_the_lead_that_has_the_phone(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "a.csv", "name,phone\nIvan Petrov,+79120000001\n".as_bytes());
        import(&t, &t.admin, &first, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        let second = write(dir.path(), "b.csv", "name,phone,email\nIvan Petrov,8 912 000-00-01,ivan@example.com\n".as_bytes());
        let skipped = import(&t, &t.admin, &second, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        assert_eq!((skipped.created, skipped.skipped), (0, 1));
        assert_eq!(leads(&t.crm, &t.admin).await[0].email, None);
        let update = ImportOptions { on_duplicate: OnDuplicate::Update, ..Default::default() };
        let updated = import(&t, &t.admin, &second, ImportKind::Leads, update).await.unwrap();
        assert_eq!((updated.created, updated.updated), (0, 1));
        let lead = &leads(&t.crm, &t.admin).await[0];
        assert_eq!(lead.email.as_deref(), Some("ivan@example.com"));
        assert_eq!(t.count("leads").await, 1);
    }

    async fn a_file_of_many_batches_gives_each_row_the_outcome_it_would_have_alone(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let old = t.crm.create_lead(&t.admin, &crm::leads::LeadInput {
            full_name: "Старый Лид".into(), phone: "+79990000000".into(), ..Default::default()
        }).await.unwrap();
        // 1,203 rows: more than two batches of the import, with duplicates inside one batch,
        // across batches and of a lead already there, and a row refused for two reasons at once
        let mut csv = String::from("ФИО;Телефон;E-mail;Статус\n");
        for i in 0..1203 {
            let phone = match i {
                2 => "+79120000000".to_owned(),
                700 => "8 912 000-00-10".to_owned(),
                800 | 1000 => "+7 999 000-00-00".to_owned(),
                i => format!("+7912{i:07}"),
            };
            let email = if i == 800 { "плохая почта" } else { "" };
            let status = if i == 900 { "отказ" } else { "" };
            csv.push_str(&format!("Лид {i};{phone};{email};{status}\n"));
        }
        let path = write(dir.path(), "many.csv", csv.as_bytes());
        let dry = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions { dry_run: true, ..Default::default() }).await.unwrap();
        let done = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        for report in [&dry, &done] {
            assert_eq!((report.rows, report.created, report.skipped, report.updated), (1203, 1198, 3, 0));
            let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
            assert_eq!(lines, [802, 902], "{:?}", report.rejected);
        }
        let both = &done.rejected[0].reason;
        assert!(both.contains("E-mail") && both.contains("Старый Лид"), "every problem of the row: {both}");
        assert!(done.rejected[1].reason.contains("ричин"), "a lost lead needs its reason: {}", done.rejected[1].reason);
        assert_eq!(t.count("leads").await, 1199);
        let mut tx = t.crm.db().read().await.unwrap();
        let entries: i64 = tx
            .scalar(crm::db::Query::new("select count(*) from audit_log where action = 'import' and entity = 'lead'"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(entries, 1198, "each created lead has its history entry");
        let old = t.crm.get_lead(&t.admin, old.id).await.unwrap();
        assert_eq!(old.full_name, "Старый Лид", "a skipped duplicate leaves the lead alone");

        // updating: a row whose contact an earlier row of the same batch created updates that lead
        let path = write(dir.path(), "twice.csv", "ФИО;Телефон;E-mail\nНовый;+79130000001;\nНовый;+79130000001;new@example.ru\n".as_bytes());
        let update = ImportOptions { on_duplicate: OnDuplicate::Update, ..Default::default() };
        let twice = import(&t, &t.admin, &path, ImportKind::Leads, update).await.unwrap();
        assert_eq!((twice.created, twice.updated, twice.rejected.len()), (1, 1, 0), "{:?}", twice.rejected);
        let new = leads(&t.crm, &t.admin).await.into_iter().find(|l| l.full_name == "Новый").unwrap();
        assert_eq!(new.email.as_deref(), Some("new@example.ru"));
    }

    async fn windows_1251_with_tabs_and_a_workbook_with_phones_as_numbers_come_in(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("ФИО\tТелефон\nЁлкина Мария\t89120000002\n");
        let path = write(dir.path(), "win.csv", &bytes);
        let done = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        assert_eq!(done.created, 1, "{:?}", done.rejected);
        assert_eq!(leads(&t.crm, &t.admin).await[0].full_name, "Ёлкина Мария");

        let path = dir.path().join("leads.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet().set_name("Лиды").unwrap();
        sheet.write_string(0, 0, "Контактное лицо").unwrap();
        sheet.write_string(0, 1, "Мобильный").unwrap();
        sheet.write_string(1, 0, "Орлов Глеб").unwrap();
        sheet.write_number(1, 1, 79120000003.0).unwrap();
        book.save(&path).unwrap();
        let preview = t.crm.preview_import(&t.admin, &path, ImportKind::Leads, "", crm::i18n::Lang::Ru).await.unwrap();
        assert_eq!(preview.file.sheets, ["Лиды"]);
        assert_eq!(preview.rows[0][1], "79120000003", "a phone stored as a number, without .0");
        let done = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        assert_eq!(done.created, 1, "{:?}", done.rejected);
    }

    async fn bad_files_and_bad_mappings_get_their_own_answers(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let code = |r: crm::Result<Report>| match r {
            Err(Error::State { code, .. }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let empty = write(dir.path(), "empty.csv", b"");
        assert_eq!(code(import(&t, &t.admin, &empty, ImportKind::Leads, Default::default()).await), "import_empty");
        let blank = write(dir.path(), "blank.csv", b"\n\n;;\n");
        assert_eq!(code(import(&t, &t.admin, &blank, ImportKind::Leads, Default::default()).await), "import_empty");
        let png = write(dir.path(), "photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        assert_eq!(code(import(&t, &t.admin, &png, ImportKind::Leads, Default::default()).await), "import_not_a_table");
        let latin1 = write(dir.path(), "latin1.csv", b"nom;t\xe9l\xe9phone\nJos\xe9;+33100000000\n");
        assert_eq!(code(import(&t, &t.admin, &latin1, ImportKind::Leads, Default::default()).await), "import_encoding");
        let header_only = write(dir.path(), "header.csv", "ФИО;Телефон\n".as_bytes());
        assert_eq!(code(import(&t, &t.admin, &header_only, ImportKind::Leads, Default::default()).await), "import_no_rows");
        let no_name = write(dir.path(), "noname.csv", "Телефон\n+79120000009\n".as_bytes());
        assert_eq!(code(import(&t, &t.admin, &no_name, ImportKind::Leads, Default::default()).await), "import_required_unmapped");
        let twice = ImportOptions { mapping: Some(vec![Some("full_name".into()), Some("full_name".into())]), ..Default::default() };
        let two = write(dir.path(), "two.csv", "a;b\nx;y\n".as_bytes());
        assert_eq!(code(import(&t, &t.admin, &two, ImportKind::Leads, twice).await), "import_mapped_twice");
        let fake = write(dir.path(), "fake.xlsx", b"PK\x03\x04 not really a workbook");
        assert_eq!(code(import(&t, &t.admin, &fake, ImportKind::Leads, Default::default()).await), "import_not_a_table");
        // a file far too big is refused by its size before anything is read (sparse: no disk used)
        let huge = dir.path().join("huge.csv");
        std::fs::File::create(&huge).unwrap().set_len(crm::import::table::MAX_CSV_BYTES + 1).unwrap();
        assert_eq!(code(import(&t, &t.admin, &huge, ImportKind::Leads, Default::default()).await), "import_too_big");
        assert_eq!(t.count("leads").await, 0);
        assert_eq!(t.count("imports").await, 0);
    }

    async fn an_import_is_undone_while_nobody_has_touched_its_records(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.csv", "ФИО;Телефон\nА;+79120000011\nБ;+79120000012\n".as_bytes());
        let done = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        let id = done.import_id.unwrap();
        // someone edits one of them: the undo would lose that work, so it is refused
        let lead = leads(&t.crm, &t.admin).await.into_iter().find(|l| l.full_name == "А").unwrap();
        let input = crm::leads::LeadInput { full_name: "А (изменено)".into(), phone: lead.phone.clone().unwrap(), ..Default::default() };
        let edited = t.crm.update_lead(&t.admin, lead.id, lead.version, &input).await.unwrap();
        let refused = t.crm.undo_import(&t.admin, id).await.unwrap_err();
        assert!(matches!(refused, Error::State { code: "import_touched", .. }), "{refused:?}");
        // put back as it was? no: a second import, untouched, is undone
        let path = write(dir.path(), "b.csv", "ФИО;Телефон\nВ;+79120000013\n".as_bytes());
        let second = import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        assert_eq!(t.crm.undo_import(&t.admin, second.import_id.unwrap()).await.unwrap(), 1);
        assert_eq!(leads(&t.crm, &t.admin).await.len(), 2, "the undone lead is archived");
        assert_eq!(t.count("audit_log where action = 'archive' and entity = 'lead'").await, 1, "its history says so");
        let again = t.crm.undo_import(&t.admin, second.import_id.unwrap()).await.unwrap_err();
        assert!(matches!(again, Error::State { code: "import_undone_already", .. }));
        assert_eq!(edited.full_name, "А (изменено)");
    }

    async fn services_and_campaigns_come_in_with_names_looked_up(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let services = write(dir.path(), "s.csv", "Название;Описание;Цена\nАудит;Проверка сайта;15 000,50\nАудит;повтор;1\n".as_bytes());
        let done = import(&t, &t.admin, &services, ImportKind::Services, ImportOptions::default()).await.unwrap();
        assert_eq!((done.created, done.skipped), (1, 1));
        let campaigns = write(dir.path(), "c.csv", "Кампания;Услуга;Канал;Бюджет;Начало\nЛето;Аудит;Социальные сети;20000;01.06.2026\nЗима;Нет такой;Социальные сети;1;01.12.2026\n".as_bytes());
        let done = import(&t, &t.admin, &campaigns, ImportKind::Campaigns, ImportOptions::default()).await.unwrap();
        assert_eq!((done.created, done.rejected.len()), (1, 1), "{:?}", done.rejected);
        assert_eq!(done.rejected[0].reason, "Услуга: «Нет такой» не найдено");
        let list = t.crm.list_services(&t.admin, &Default::default()).await.unwrap().items;
        assert_eq!(list[0].price.to_string(), "15000.50");
    }

    async fn importing_needs_the_import_permission_and_the_create_permission(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.csv", "ФИО;Телефон\nА;+79120000021\n".as_bytes());
        let manager = t.user("maria", &["manager"]).await;
        let refused = import(&t, &manager, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap_err();
        assert!(matches!(refused, Error::Forbidden("leads.edit")), "{refused:?}");
        let operator = t.user("olga", &["operator"]).await;
        let done = import(&t, &operator, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        assert_eq!(done.created, 1);
        let refused = import(&t, &operator, &path, ImportKind::Services, ImportOptions::default()).await.unwrap_err();
        assert!(matches!(refused, Error::Forbidden(_)), "{refused:?}");
    }

    async fn an_export_imports_back_into_a_fresh_database(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.csv", SHEET.as_bytes());
        campaign(&t, "Весна").await;
        import(&t, &t.admin, &path, ImportKind::Leads, ImportOptions::default()).await.unwrap();
        let out = dir.path().join("out.xlsx");
        let what = crm::export::ExportList::Leads(Default::default());
        t.crm.export(&t.admin, &what, crm::export::Format::Xlsx, Lang::Ru, &out, &quiet).await.unwrap();

        let fresh = TestCrm::sqlite().await;
        campaign(&fresh, "Весна").await;
        let back = fresh.crm.import(&fresh.admin, &out, "out.xlsx", ImportKind::Leads, &ImportOptions::default(), Lang::Ru, &quiet, &AtomicBool::new(false)).await.unwrap();
        assert!(back.rejected.is_empty(), "{:?}", back.rejected);
        let names = |ls: Vec<crm::leads::Lead>| { let mut v: Vec<(String, Option<String>)> = ls.into_iter().map(|l| (l.full_name, l.phone)).collect(); v.sort(); v };
        assert_eq!(names(leads(&fresh.crm, &fresh.admin).await), names(leads(&t.crm, &t.admin).await));
    }
}

both_backends! {
    async fn clients_come_in_with_their_contracts_converting_the_lead_that_has_the_phone(t: TestCrm) {
        let spring = campaign(&t, "Весна").await;
        let dir = tempfile::tempdir().unwrap();
        // a lead that exists already: its client row converts it
        let existing = t.crm.create_lead(&t.admin, &crm::leads::LeadInput {
            full_name: "Иванов Иван".into(), phone: "+79120000041".into(), campaign_id: Some(spring), ..Default::default()
        }).await.unwrap();
        let sheet = "Клиент;Телефон;Договор;Услуга;Дата подписания;Действует по;Сумма\n\
            Иванов Иван;8 912 000-00-41;Д-1;Услуга Весна;01.03.2026;28.02.2027;120 000,50\n\
            Петрова Анна;+7 912 000-00-42;Д-2;Услуга Весна;2026-04-01;2027-03-31;50000\n\
            Сидоров Пётр;+7 912 000-00-43;Д-1;Услуга Весна;01.05.2026;30.04.2027;1000\n\
            Орлова Вера;+7 912 000-00-44;Д-4;Нет такой;01.05.2026;30.04.2027;1000\n\
            Иванов И.;+7 912 000-00-41;Д-5;Услуга Весна;01.06.2026;31.05.2027;1000\n";
        let path = write(dir.path(), "clients.csv", sheet.as_bytes());
        let done = import(&t, &t.admin, &path, ImportKind::Clients, ImportOptions::default()).await.unwrap();
        assert_eq!((done.created, done.skipped, done.rejected.len()), (2, 1, 2), "{:?}", done.rejected);
        assert_eq!(done.rejected[0].reason, "Договор: Такое название уже есть");
        assert_eq!(done.rejected[1].reason, "Услуга: «Нет такой» не найдено");

        let clients = t.crm.list_clients(&t.admin, &Default::default()).await.unwrap().items;
        let ivan = clients.iter().find(|c| c.lead_id == existing.id).expect("the existing lead converted");
        assert_eq!((ivan.contracts, ivan.revenue.to_string()), (1, "120000.50".into()));
        assert_eq!(ivan.campaign_id, Some(spring), "the client keeps the campaign that brought the lead");
        let anna = clients.iter().find(|c| c.full_name == "Петрова Анна").expect("a new lead, converted");
        assert_eq!(anna.revenue.to_string(), "50000.00");
        // the statistics count the conversion of the campaign's lead as any other (Anna came
        // from no campaign)
        let stats = t.crm.campaign_stats(&t.admin, &Default::default()).await.unwrap();
        assert_eq!((stats.total.clients, stats.total.revenue.to_string()), (1, "120000.50".into()));
        // Ivan's lead was there before the import: un-converting him is not archiving
        let undo = t.crm.undo_import(&t.admin, done.import_id.unwrap()).await.unwrap_err();
        assert!(matches!(&undo, Error::State { code: "import_clients_not_undone", params } if params[0].1 == "1"), "{undo:?}");

        // an import whose clients all came with it is undone whole: contracts, clients, leads
        let sheet = "Клиент;Телефон;Кампания;Договор;Услуга;Дата подписания;Действует по;Сумма\n\
            Орлов Глеб;+7 912 000-00-51;Весна;Д-51;Услуга Весна;01.03.2026;28.02.2027;700\n\
            Зайцева Ия;+7 912 000-00-52;Весна;Д-52;Услуга Весна;01.03.2026;28.02.2027;300\n";
        let path = write(dir.path(), "more.csv", sheet.as_bytes());
        let more = import(&t, &t.admin, &path, ImportKind::Clients, ImportOptions::default()).await.unwrap();
        assert_eq!((more.created, more.rejected.len()), (2, 0), "{:?}", more.rejected);
        let stats = t.crm.campaign_stats(&t.admin, &Default::default()).await.unwrap();
        assert_eq!((stats.total.leads, stats.total.clients, stats.total.revenue.to_string()), (3, 3, "121000.50".into()));
        assert_eq!(t.crm.undo_import(&t.admin, more.import_id.unwrap()).await.unwrap(), 6, "2 contracts, 2 clients, 2 leads");
        let stats = t.crm.campaign_stats(&t.admin, &Default::default()).await.unwrap();
        assert_eq!((stats.total.leads, stats.total.clients, stats.total.revenue.to_string()), (1, 1, "120000.50".into()), "as before the import");
        let names: Vec<String> = t.crm.list_clients(&t.admin, &Default::default()).await.unwrap().items.into_iter().map(|c| c.full_name).collect();
        assert!(!names.iter().any(|n| n == "Орлов Глеб" || n == "Зайцева Ия"), "{names:?}");

        // a contract added to one of its clients since: the undo would take it away too
        let sheet = "Клиент;Телефон;Договор;Услуга;Дата подписания;Действует по;Сумма\n\
            Козлов Илья;+7 912 000-00-61;Д-61;Услуга Весна;01.03.2026;28.02.2027;700\n";
        let path = write(dir.path(), "third.csv", sheet.as_bytes());
        let third = import(&t, &t.admin, &path, ImportKind::Clients, ImportOptions::default()).await.unwrap();
        let ilya = t.crm.list_clients(&t.admin, &Default::default()).await.unwrap().items.into_iter().find(|c| c.full_name == "Козлов Илья").unwrap();
        let service = t.crm.list_services(&t.admin, &Default::default()).await.unwrap().items[0].id;
        let later = crm::contracts::ContractInput {
            name: "Д-62".into(), service_id: Some(service), signed_on: "2026-05-01".into(),
            valid_from: "2026-05-01".into(), valid_to: "2027-04-30".into(), amount: "100".into(),
        };
        t.crm.add_contract_to_client(&t.admin, ilya.id, &later, None).await.unwrap();
        let refused = t.crm.undo_import(&t.admin, third.import_id.unwrap()).await.unwrap_err();
        assert!(matches!(&refused, Error::State { code: "import_touched", params } if params[0].1 == "1"), "{refused:?}");
        let clients = t.crm.list_clients(&t.admin, &Default::default()).await.unwrap().items;
        assert!(clients.iter().any(|c| c.id == ilya.id), "nothing archived by the refused undo");
    }
}
