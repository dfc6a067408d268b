//! Exports: every row of a list as it is filtered and sorted, read back from XLSX (calamine) and
//! from CSV (as Excel reads it), only what the user may view, and only with the permission.

use calamine::{open_workbook, Data, DataType as _, Reader, Xlsx};
use crm::app::Direction;
use crm::backup::Progress;
use crm::export::{ExportList, Format};
use crm::i18n::Lang;
use crm::leads::{LeadFilter, LeadSort};
use crm::{Error, PageRequest};

use crate::both_backends;
use crate::support::TestCrm;
use crm::domain::id::LeadId;

fn quiet(_: Progress) {}

async fn demo(t: &TestCrm) {
    t.demo(2, 1200).await;
}

fn sheet(path: &std::path::Path, name: &str) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook(path).expect("an XLSX file");
    let range = book.worksheet_range(name).expect("the sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

fn csv_rows(path: &std::path::Path, delimiter: u8) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 with a byte-order mark, for Excel");
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(&bytes[3..]);
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

both_backends! {
    async fn a_lead_export_holds_every_row_of_the_filtered_sorted_list(t: TestCrm) {
        demo(&t).await;
        let dir = tempfile::tempdir().unwrap();
        let filter = LeadFilter { sort: LeadSort::FullName, direction: Some(Direction::Asc), search: "ова".into(), ..Default::default() };
        // the list, every page of it
        let mut listed = Vec::new();
        let mut page = PageRequest::new(0, 100);
        loop {
            let got = t.crm.list_leads(&t.admin, &LeadFilter { page, ..filter.clone() }).await.unwrap();
            listed.extend(got.items.iter().map(|l| (l.id, l.full_name.clone())));
            if got.items.len() < 100 { break; }
            page = PageRequest::new(page.offset + 100, 100);
        }
        assert!(listed.len() > 100, "more than one page: {}", listed.len());

        let out = dir.path().join("leads.xlsx");
        let heard = std::sync::Mutex::new(Vec::new());
        let progress = |p: Progress| heard.lock().unwrap().push(p.done);
        let what = ExportList::Leads(filter.clone());
        let done = t.crm.export(&t.admin, &what, Format::Xlsx, Lang::Ru, &out, &progress).await.unwrap();
        assert_eq!(done.rows as usize, listed.len());
        assert_eq!(heard.lock().unwrap().last().copied(), Some(listed.len() as u64));
        let rows = sheet(&out, "Лиды");
        assert_eq!(rows[0][..3], [Data::String("№".into()), Data::String("ФИО".into()), Data::String("Телефон".into())]);
        let exported: Vec<(LeadId, String)> = rows[1..].iter().map(|r| (LeadId::new(r[0].as_i64().unwrap()), r[1].to_string())).collect();
        assert_eq!(exported, listed, "the same rows in the same order");
        // the creation time is a date Excel can compute with, not text
        assert!(matches!(rows[1][8], Data::DateTime(_)), "{:?}", rows[1][8]);

        let out = dir.path().join("leads.csv");
        t.crm.export(&t.admin, &what, Format::Csv, Lang::Ru, &out, &quiet).await.unwrap();
        let rows = csv_rows(&out, b';');
        assert_eq!(rows[0][1], "ФИО");
        let exported: Vec<(LeadId, String)> = rows[1..].iter().map(|r| (r[0].parse().unwrap(), r[1].clone())).collect();
        assert_eq!(exported, listed);
        assert!(rows[1][8].len() == 16 && rows[1][8].as_bytes()[2] == b'.', "21.11.2026 14:05: {}", rows[1][8]);
    }

    async fn money_and_dates_are_written_for_excel_in_each_language(t: TestCrm) {
        demo(&t).await;
        let dir = tempfile::tempdir().unwrap();
        let what = ExportList::Contracts(Default::default());
        let first = t.crm.list_contracts(&t.admin, &Default::default()).await.unwrap().items.remove(0);

        let out = dir.path().join("ru.csv");
        t.crm.export(&t.admin, &what, Format::Csv, Lang::Ru, &out, &quiet).await.unwrap();
        let rows = csv_rows(&out, b';');
        assert_eq!(rows[0][7], "Сумма");
        assert_eq!(rows[1][7], format!("{:.2}", first.amount.amount()).replace('.', ","));
        assert_eq!(rows[1][4], first.signed_on.format("%d.%m.%Y").to_string());

        let out = dir.path().join("en.csv");
        t.crm.export(&t.admin, &what, Format::Csv, Lang::En, &out, &quiet).await.unwrap();
        let rows = csv_rows(&out, b',');
        assert_eq!(rows[0][7], "Amount");
        assert_eq!(rows[1][7], format!("{:.2}", first.amount.amount()));
        assert_eq!(rows[1][4], first.signed_on.to_string());

        let out = dir.path().join("contracts.xlsx");
        t.crm.export(&t.admin, &what, Format::Xlsx, Lang::En, &out, &quiet).await.unwrap();
        let rows = sheet(&out, "Contracts");
        let amount: f64 = first.amount.amount().to_string().parse().unwrap();
        assert_eq!(rows[1][7].as_f64(), Some(amount), "money is a number");
        assert!(matches!(rows[1][4], Data::DateTime(_)));
    }

    async fn the_statistics_export_has_campaigns_channels_the_total_and_sales_per_client(t: TestCrm) {
        demo(&t).await;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("stats.xlsx");
        let what = ExportList::Stats(Default::default());
        t.crm.export(&t.admin, &what, Format::Xlsx, Lang::Ru, &out, &quiet).await.unwrap();
        let stats = t.crm.campaign_stats(&t.admin, &Default::default()).await.unwrap();
        assert_eq!(sheet(&out, "Кампании").len(), stats.campaigns.len() + 1);
        assert_eq!(sheet(&out, "Каналы").len(), stats.channels.len() + 1);
        let total = sheet(&out, "Итого");
        assert_eq!(total[1][0].as_i64(), Some(stats.total.leads));
        let sales = sheet(&out, "Продажи по клиентам");
        let clients = t.crm.client_sales(&t.admin, &Default::default()).await.unwrap().total;
        assert_eq!(sales.len() as i64, clients + 1);
    }

    async fn only_what_one_may_view_and_only_with_the_export_permission(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.xlsx");
        let operator = t.user("olga", &["operator"]).await;
        let clients = ExportList::Clients(Default::default());
        let refused = t.crm.export(&operator, &clients, Format::Xlsx, Lang::Ru, &out, &quiet).await.unwrap_err();
        assert!(matches!(refused, Error::Forbidden("clients.view")), "{refused:?}");
        assert!(!out.exists() && std::fs::read_dir(dir.path()).unwrap().next().is_none(), "no file, not even a part");

        // an administrator takes the export away from the operators
        let roles = t.crm.list_roles(&t.admin).await.unwrap();
        let role = roles.iter().find(|r| r.code == "operator").unwrap();
        let kept: Vec<String> = role.permissions.iter().filter(|p| *p != "data.export").cloned().collect();
        t.crm.set_role_permissions(&t.admin, role.id, role.version, &kept).await.unwrap();
        let operator = t.crm.refresh(&operator).await.unwrap();
        let leads = ExportList::Leads(Default::default());
        let refused = t.crm.export(&operator, &leads, Format::Csv, Lang::Ru, &out, &quiet).await.unwrap_err();
        assert!(matches!(refused, Error::Forbidden("data.export")), "{refused:?}");
    }

    async fn an_export_that_fails_after_writing_leaves_no_half_file(t: TestCrm) {
        demo(&t).await;
        // the rows are written, then the finished file cannot take its name (a folder has it)
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("Лиды.csv");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("inside.txt"), "keep").unwrap();
        for format in [Format::Csv, Format::Xlsx] {
            let leads = ExportList::Leads(Default::default());
            let failed = t.crm.export(&t.admin, &leads, format, Lang::Ru, &out, &quiet).await.unwrap_err();
            assert!(matches!(failed, Error::State { code: "export_unwritable", .. }), "{failed:?}");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(left, [std::ffi::OsString::from("Лиды.csv")], "no part file beside the target");
        }
        assert_eq!(std::fs::read_to_string(out.join("inside.txt")).unwrap(), "keep");
    }
}
