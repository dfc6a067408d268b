//! End-to-end: the real app binary in its real webview (WebKitGTK under Xvfb), driven through
//! tauri-driver and WebKitWebDriver, on SQLite and on PostgreSQL.
//!
//! Run with `cargo test --test e2e` (part of `cargo xtask test`). Reads `CRM_TAURI_DRIVER`,
//! `CRM_TEST_DATABASE_URL` (see tests/common/pg.rs) and `CRM_UPDATE_SCREENSHOTS`.

mod harness;
#[path = "../common/pg.rs"]
mod pg;
mod story;

use harness::{App, Launch};

/// One app at a time: two webviews on two cores would only slow each other down.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_does_its_job_on_sqlite_chosen_at_first_run() {
    crypto();
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, document) = story::sample_document();
    let app = App::start("sqlite", Launch { pick_file: Some(document.clone()), ..Launch::default() }, None).await;
    story::first_run_on_this_computer(&app).await;
    story::whole_story(&app, &document, true).await;
    let dir = app.stop().await;

    // The choice is remembered: a second start goes straight to sign-in.
    let app = App::start("sqlite-restart", Launch::default(), Some(dir)).await;
    app.wait("[data-stage=sign_in]").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_does_its_job_on_postgresql_chosen_as_the_office_database() {
    crypto();
    let url = pg::postgres_database().await;
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, document) = story::sample_document();
    let launch = Launch { pick_file: Some(document.clone()), pick_ca: Some(pg::ca_file()), ..Launch::default() };
    let app = App::start("postgres", launch, None).await;
    story::first_run_on_the_office_database(&app, &url).await;
    story::whole_story(&app, &document, false).await;
    let dir = app.stop().await;

    // The office server is remembered, and no login or password with it.
    let config = std::fs::read_to_string(dir.path().join("config/config.toml")).expect("config file");
    assert!(config.contains("[office]") && !config.contains("postgres") && !config.contains("password"), "{config}");
    let app = App::start("postgres-restart", Launch::default(), Some(dir)).await;
    app.wait("[data-stage=sign_in]").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_speaks_english_when_the_os_does() {
    crypto();
    let _one = ONE_AT_A_TIME.lock().await;
    let app = App::start("en", Launch { lang: "en_GB.UTF-8", ..Launch::default() }, None).await;
    app.wait_text("[data-stage=choose_database] h1", "Where should the data live?").await;
    app.screenshot("first-run").await;
    app.click("[data-action=local-database]").await;
    app.wait("[data-stage=first_admin]").await;
    app.fill("[name=username]", "admin").await;
    app.fill("[name=full_name]", "Anna Admin").await;
    app.fill("[name=password]", "short").await;
    app.fill("[name=repeat]", "short").await;
    app.click("[data-action=submit]").await;
    // A bad input shows its field error in the user's language and creates nobody.
    app.wait_text("[data-field=password] .field-error", "at least 8 characters").await;
    assert_eq!(app.invoke("app_start", serde_json::json!({})).await.unwrap()["stage"], "first_admin");
    app.fill("[name=password]", "admin-password").await;
    app.fill("[name=repeat]", "admin-password").await;
    app.click("[data-action=submit]").await;
    app.wait_text(".nav-link.active", "Statistics").await;
    app.screenshot("statistics").await;

    // English digit grouping in a money field: 1,250.50 is one thousand two hundred and fifty.
    app.go("services").await;
    app.click("[data-action=create]").await;
    app.fill("dialog [name=name]", "Consulting").await;
    app.fill("dialog [name=price]", "1,250.50").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait_text("table[data-list=list_services] td", "1,250.50").await;
    app.screenshot("services").await;

    // Every listed command is wired to a handler and granted to the window (a missing one would
    // answer "not found" or "not allowed"). Those that open dialogs or switch databases are left out.
    let skip = [
        "pick_document",
        "pick_ca_file",
        "pick_import_file",
        "restore_backup",
        "open_document",
        "save_document_copy",
        "choose_local_database",
        "choose_office_database",
        "sign_out",
    ];
    for command in include_str!("../../src-tauri/desktop/commands.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !skip.contains(l))
    {
        if let Err(error) = app.invoke(command, serde_json::json!({})).await {
            let text = error.to_string();
            assert!(!text.contains("not found") && !text.contains("not allowed"), "{command}: {text}");
        }
    }

    // Settings switch the database (here to the same local file): the session ends.
    app.go("settings").await;
    app.screenshot("settings").await;
    // Diagnostics for whoever helps: the version, the database (its file) and where the log is.
    app.click("[data-action=show-diagnostics]").await;
    let area = app.wait("textarea.diagnostics").await;
    let started = std::time::Instant::now();
    let diagnostics = loop {
        let value = area.prop("value").await.unwrap().unwrap_or_default();
        if !value.is_empty() || started.elapsed() > std::time::Duration::from_secs(10) {
            break value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(diagnostics.starts_with("crm ") && diagnostics.contains("database: sqlite "), "{diagnostics}");
    assert!(diagnostics.contains("/logs\n"), "{diagnostics}");
    app.click("[data-action=local-database]").await;
    app.click("dialog [data-action=confirm]").await;
    app.wait("[data-stage=sign_in]").await;
    app.stop().await;
}

/// A busy office: the demo data set (20,000 leads) made with the CLI, then every list page as a
/// manager and an administrator see it. Long names, large sums and many rows must still fit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_office_on_demo_data_shows_every_page() {
    crypto();
    let _one = ONE_AT_A_TIME.lock().await;
    let data = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", data.path().join("demo.db").display());
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_crm"))
            .args(["--database-url", &url])
            .args(args)
            .env("CRM_CONFIG_DIR", data.path())
            .env("CRM_ADMIN_PASSWORD", story::ADMIN_PASSWORD)
            .env("CRM_PASSWORD", story::ADMIN_PASSWORD)
            .env("CRM_DEMO_PASSWORD", "demo-password")
            .output()
            .expect("run crm");
        assert!(out.status.success(), "crm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    cli(&["create-admin", "--username", "boss"]);
    cli(&["demo", "--seed", "1", "--leads", "20000", "--user", "boss"]);

    let app = App::start("demo", Launch { database_url: Some(url.clone()), ..Launch::default() }, None).await;
    app.sign_in("manager", "demo-password").await;
    app.wait_text("[data-total=leads] .tile-value", "20 000").await;
    app.wait("tr[data-campaign]").await;
    // the rows below the window come a frame after those on screen
    app.gone("[aria-busy=true]").await;
    assert!(app.texts("tr[data-campaign]").await.len() > 10, "every demo campaign has a row");
    // the chart over time: a year by month of the demo, then one campaign by a click on its row
    app.wait("[data-chart=series] svg .hit").await;
    assert!(app.texts("[data-chart=series] .axis-x").await.len() >= 6, "the months are named on the axis");
    app.screenshot("01-statistics").await;
    let first = app.texts("tr[data-campaign] td[data-col=name] .stack span:first-child").await.remove(0);
    app.click("tr[data-campaign] td[data-col=leads]").await;
    app.wait_text("[data-chart-campaign]", &first).await;
    app.hover("[data-chart=series] .hit").await;
    app.wait_text(".chart-tip", "Расход").await;
    // the campaigns come sorted from the core, a page at a time: by leads, the most first
    app.click("th [data-sort=leads]").await;
    app.wait("th[aria-sort=descending] [data-sort=leads]").await;
    let view = serde_json::json!({ "filter": {}, "view": { "sort": "leads", "direction": "desc", "page": { "offset": 0, "limit": 1 } } });
    let most = app.invoke("campaign_stats", view).await.expect("statistics");
    let most = most["campaigns"]["items"][0]["name"].as_str().expect("a campaign").to_owned();
    app.wait(&format!("tbody tr:first-child[data-campaign={}]", serde_json::json!(most))).await;
    for page in ["leads", "clients", "contracts"] {
        app.go(page).await;
        app.wait(&format!("table[data-list=list_{page}] tbody tr[data-id]")).await;
        app.wait_text(".pager-range", "1–50 из").await;
        app.screenshot(&format!("02-{page}")).await;
    }
    // the board draws a few cards a column, and a column scrolled near its end reads on
    app.go("board").await;
    let cards = "[data-column=in_work] .board-cards > .board-card";
    app.wait(&format!("{cards}:nth-child(8)")).await;
    assert!(app.texts(&format!("{cards}:nth-child(9)")).await.is_empty(), "eight cards a column at first");
    let scroll = "const list = document.querySelector('[data-column=in_work] .board-cards');
        list.scrollTop = list.scrollHeight; list.dispatchEvent(new Event('scroll'));";
    app.client.execute(scroll, vec![]).await.expect("scroll the column");
    app.wait(&format!("{cards}:nth-child(28)")).await;
    app.screenshot("03-board").await;
    assert!(app.texts(&format!("{cards}:nth-child(29)")).await.is_empty(), "twenty more");
    // contracts that run out soon: "My day" shows the first 50 and links to all of them, which
    // come soonest first, each ending within the next 30 days
    app.go("today").await;
    app.click("[data-group=expiring] [data-action=all-expiring]").await;
    app.wait("#page[data-page=contracts]").await;
    app.wait("label.filter [name=expiring]:checked").await;
    app.wait("th[aria-sort=ascending] [data-sort=valid_to]").await;
    let soonest = serde_json::json!({ "filter": { "expiring": true, "sort": "valid_to", "direction": "asc" } });
    let expected = app.invoke("list_contracts", soonest).await.expect("contracts");
    let ids: Vec<String> =
        expected["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap().to_string()).collect();
    assert!(!ids.is_empty(), "the demo has contracts ending soon");
    let started = std::time::Instant::now();
    while app.attributes("table[data-list=list_contracts] tbody tr[data-id]", "data-id").await != ids {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the list shows the ending contracts, soonest first"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // the pager: last, previous, a page by number, next; each the rows the core has there
    app.go("leads").await;
    app.wait_text(".pager-range", "1–50 из").await;
    app.click(".pager [data-action=last]").await;
    app.wait_text(".pager-range", "19 951–20 000 из 20 000").await;
    app.click(".pager [data-action=prev]").await;
    app.wait_text(".pager-range", "19 901–19 950 из").await;
    app.fill(".pager [data-action=page]", "200\u{E007}").await;
    app.wait_text(".pager-range", "9 951–10 000 из").await;
    app.click(".pager [data-action=next]").await;
    app.wait_text(".pager-range", "10 001–10 050 из").await;
    // the rows below the window come a frame after those on screen
    app.gone("[aria-busy=true]").await;
    let page = serde_json::json!({ "filter": { "page": { "offset": 10_000, "limit": 50 } } });
    let expected = app.invoke("list_leads", page).await.expect("leads");
    let ids: Vec<String> =
        expected["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap().to_string()).collect();
    let shown = app.attributes("table[data-list=list_leads] tbody tr[data-id]", "data-id").await;
    assert_eq!(shown, ids, "the page after 10,000 leads, by key, is the page at offset 10,000");
    // one or two letters find the names they start; a list they find nothing in says so
    app.fill("[data-search]", "Ко").await;
    let started = std::time::Instant::now();
    loop {
        let names = app.texts("table[data-list=list_leads] td[data-col=full_name]").await;
        if !names.is_empty() && names.iter().all(|name| name.starts_with("Ко")) {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "names starting with «Ко»: {names:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.fill("[data-search]", "Ъы").await;
    app.wait_text("table[data-list=list_leads] .empty-hint", "Одна-две буквы находят имена").await;
    app.screenshot("05-short-search").await;
    app.sign_out().await;
    app.sign_in("boss", story::ADMIN_PASSWORD).await;
    // every lost lead back in work in one bulk action: thousands of records take a moment, and
    // meanwhile the bar says so and takes no second click
    app.go("leads").await;
    let lost =
        app.invoke("list_leads", serde_json::json!({ "filter": { "status": "lost" } })).await.expect("lost leads");
    let lost = lost["total"].as_i64().expect("a total");
    assert!((1_000..=10_000).contains(&lost), "a few thousand lost leads: {lost}");
    app.select("select.filter[name=status]", "Потерян").await;
    app.wait_text(".pager-range", &format!("из {} {:03}", lost / 1000, lost % 1000)).await;
    app.click("table[data-list=list_leads] tbody tr[data-id] [data-action=select]").await;
    app.click("[data-action=select-all]").await;
    app.click("[data-bulk-action=in_work]").await;
    app.wait_text("[data-bulk] [data-bulk-working]", "Изменяем записи…").await;
    assert!(app.texts("[data-bulk] button:not(:disabled)").await.is_empty(), "no second click meanwhile");
    app.screenshot("06-bulk-working").await;
    app.wait(&format!("dialog[data-form=bulk-summary] [data-changed='{lost}']")).await;
    app.click("dialog[data-form=bulk-summary] [data-action=close]").await;
    let still =
        app.invoke("list_leads", serde_json::json!({ "filter": { "status": "lost" } })).await.expect("lost leads");
    assert_eq!(still["total"], 0, "every lost lead in work: {still}");
    for page in ["campaigns", "services"] {
        app.go(page).await;
        app.wait(&format!("table[data-list=list_{page}] tbody tr[data-id]")).await;
        app.screenshot(&format!("03-{page}")).await;
    }
    every_page_fits(&app, "ru").await;
    app.stop().await;

    // the same office in English: longer words, other number formats, still no sideways scrolling
    let launch = Launch { database_url: Some(url.clone()), lang: "en_GB.UTF-8", ..Launch::default() };
    let app = App::start("demo-en", launch, None).await;
    app.sign_in("boss", story::ADMIN_PASSWORD).await;
    every_page_fits(&app, "en").await;
    app.go("leads").await;
    app.wait_text(".pager-range", "1–50 of 20,000").await;
    app.screenshot("04-leads-en").await;
    app.sign_out().await;
    for role in ["manager", "operator", "marketer"] {
        app.sign_in(role, "demo-password").await;
        every_page_fits(&app, &format!("en-{role}")).await;
        app.sign_out().await;
    }
    app.stop().await;
}

/// Visits every page the signed-in user's navigation offers and checks each fits the window.
async fn every_page_fits(app: &App, who: &str) {
    let pages = app.attributes("a.nav-link[data-page]", "data-page").await;
    assert!(pages.len() >= 4, "{pages:?}");
    for page in pages {
        app.go(&page).await;
        // the page's data painted: a list's rows, the statistics' table, or the page's heading
        app.wait(&format!("#page[data-page={page}] h1, #page[data-page={page}] h2")).await;
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        app.assert_fits(&format!("{who}-{page}")).await;
    }
}

/// Settings → backups of this computer's database: the daily backup is there from the first
/// start, one is made by hand, and restoring it takes back what was done after it; everyone
/// signs in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_made_and_restored_from_the_settings_page() {
    crypto();
    let _one = ONE_AT_A_TIME.lock().await;
    let app = App::start("backups", Launch::default(), None).await;
    story::first_run_on_this_computer(&app).await;
    let service = |name: &str| serde_json::json!({ "input": { "name": name, "description": "", "price": "1000" } });
    app.invoke("create_service", service("До копии")).await.expect("a service");

    app.go("settings").await;
    app.wait_text("[data-section=backups] tbody tr td:nth-child(2)", "ежедневная").await;
    app.click("[data-action=back-up-now]").await;
    app.wait_text("[data-section=backups] tbody tr:first-child td:nth-child(2)", "вручную").await;
    app.invoke("create_service", service("После копии")).await.expect("a service");
    app.screenshot("28-backups").await;

    app.click("[data-section=backups] tbody tr:first-child [data-action=restore]").await;
    app.click("dialog [data-action=confirm]").await;
    app.wait_text("dialog[data-form=replacement]", "проверено").await;
    app.screenshot("29-restored").await;
    app.click("dialog[data-form=replacement] [data-action=confirm]").await;
    app.wait("[data-stage=sign_in]").await;
    app.sign_in("admin", story::ADMIN_PASSWORD).await;
    let services = app.invoke("list_services", serde_json::json!({ "filter": {} })).await.expect("services");
    let names: Vec<&str> = services["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["До копии"], "what was done after the backup is gone");
    // the replaced contents were kept aside, listed with the others
    app.go("settings").await;
    app.wait_text("[data-section=backups] tbody", "перед восстановлением").await;

    // the services list goes out to Excel, and reads back as the list shows it
    app.go("services").await;
    app.wait("table[data-list=list_services] tbody tr[data-id]").await;
    app.click("[data-action=export]").await;
    app.screenshot("30-export").await;
    app.click("[data-export=xlsx]").await;
    app.wait_text("#toasts", "Выгружено строк: 1").await;
    let saved = app.dir.path().join("saved");
    let file = std::fs::read_dir(&saved).expect("the saved folder").next().expect("a file").expect("entry").path();
    assert!(file.file_name().unwrap().to_string_lossy().starts_with("Услуги "), "{file:?}");
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&file).expect("an XLSX file");
    let rows: Vec<Vec<String>> = book
        .worksheet_range("Услуги")
        .expect("the sheet")
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][1], "Название");
    assert_eq!(rows[1][1], "До копии");

    // every service matching the list's filter archived in one bulk action: tick one, "all 3"
    for name in ["Аудит", "Дизайн"] {
        app.invoke("create_service", service(name)).await.expect("a service");
    }
    app.go("settings").await;
    app.go("services").await;
    app.wait_text("table[data-list=list_services] tbody", "Дизайн").await;
    app.click("table[data-list=list_services] tbody tr[data-id] [data-action=select]").await;
    app.click("[data-action=select-all]").await;
    app.wait_text("[data-bulk] [data-selected]", "3").await;
    app.click("[data-bulk-action=archive]").await;
    app.wait_text("dialog[data-form=bulk-summary] [data-changed]", "Изменено записей: 3").await;
    app.click("dialog[data-form=bulk-summary] [data-action=close]").await;
    let live = app.invoke("list_services", serde_json::json!({ "filter": {} })).await.expect("services");
    assert_eq!(live["total"], 0, "every matching service archived: {live}");

    // printing a page of fifty leads: laid out on numbered A4 sheets, the table split between
    // rows with its header on each (the system dialog itself cannot be driven: print is stubbed)
    for n in 0..60 {
        let lead = serde_json::json!({ "input": { "full_name": format!("Лид для печати {n}"), "phone": format!("+7912555{n:04}") } });
        app.invoke("create_lead", lead).await.expect("a lead");
    }
    app.go("leads").await;
    app.wait("table[data-list=list_leads] tbody tr[data-id]").await;
    app.client.execute("window.print = () => { window.printed = true; };", vec![]).await.expect("stub print");
    app.click("[data-action=print]").await;
    assert_eq!(
        app.client.execute("return window.printed === true", vec![]).await.expect("printed"),
        serde_json::json!(true)
    );
    // (the sheets show only in print: their text is read from the page, not as displayed)
    let footers = app
        .client
        .execute("return [...document.querySelectorAll('.print-pages .print-foot')].map((f) => f.textContent)", vec![])
        .await
        .expect("the footers");
    let footers: Vec<String> = serde_json::from_value(footers).expect("texts");
    assert!(footers.len() >= 2, "fifty leads take more than one sheet: {footers:?}");
    assert_eq!(footers[0], format!("Страница 1 из {}", footers.len()));
    let sheets = app
        .client
        .execute(
            "return [...document.querySelectorAll('.print-pages .print-sheet')].map((s) => ({
                head: s.querySelector('.print-title')?.textContent,
                headers: s.querySelectorAll('thead').length,
                rows: s.querySelectorAll('tbody tr').length }))",
            vec![],
        )
        .await
        .expect("the sheets");
    let sheets = sheets.as_array().expect("sheets");
    let rows: u64 = sheets.iter().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 50, "every row of the page, once: {sheets:?}");
    for sheet in sheets {
        assert_eq!(sheet["head"], "Лиды", "{sheet}");
        assert_eq!(sheet["headers"], 1, "the table's header on every sheet: {sheet}");
    }
    // the sheets as they print, for the README (the end of the first and the top of the second)
    let show = "document.querySelectorAll('body > :not(.print-pages)').forEach((e) => { e.style.display = 'none'; });
        const p = document.querySelector('.print-pages'); p.style.display = 'block'; p.style.width = '700px';
        p.style.padding = '16px'; document.body.style.overflow = 'auto';
        p.querySelectorAll('.print-sheet').forEach((s) => { s.style.borderBottom = '2px dashed #999'; s.style.marginBottom = '24px'; });
        p.querySelector('.print-foot').scrollIntoView({ block: 'center' });";
    app.client.execute(show, vec![]).await.expect("show the sheets");
    app.screenshot("31-print").await;
    app.stop().await;
}

/// A spreadsheet of leads comes in through the wizard: the columns guessed from Russian headers,
/// a check that says what will happen, the import with its problems listed and saved to a file,
/// and its undo from the History page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_come_in_from_a_spreadsheet_through_the_import_wizard() {
    crypto();
    let _one = ONE_AT_A_TIME.lock().await;
    let files = tempfile::tempdir().expect("temp dir");
    let sheet = files.path().join("Лиды с выставки.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet().set_name("Выставка").expect("sheet name");
    let rows: [[&str; 4]; 6] = [
        ["ФИО", "Телефон", "E-mail", "Комментарий"],
        ["Иванов Иван", "", "ivan@example.ru", "Стенд 12"],
        ["Петрова Анна", "+7 912 000-00-02", "", ""],
        ["Сидоров Пётр", "12345", "", "неверный телефон"],
        ["Орлова Вера", "", "vera@example.ru", ""],
        ["Иванов И. И.", "", "ivan@example.ru", "тот же e-mail"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *cell).expect("cell");
        }
    }
    // a phone stored as a number, as Excel does with digits
    ws.write_number(5, 1, 79120000005.0).expect("cell");
    book.save(&sheet).expect("save the workbook");

    let launch = Launch { pick_import: Some(sheet), ..Launch::default() };
    let app = App::start("import", launch, None).await;
    story::first_run_on_this_computer(&app).await;
    app.go("leads").await;
    app.click("[data-action=import]").await;
    app.wait("dialog[data-form=import] select[data-column='0']").await;
    let guessed =
        app.invoke("preview_import", serde_json::json!({ "kind": "leads", "sheet": "" })).await.expect("preview");
    assert_eq!(guessed["mapping"], serde_json::json!(["full_name", "phone", "email", "note"]));
    app.screenshot("31-import-wizard").await;

    app.click("dialog[data-form=import] [data-action=check]").await;
    app.wait("dialog[data-form=import] [data-outcome=check]").await;
    app.wait_text("[data-figure=created] .import-count", "3").await;
    app.wait_text("[data-figure=skipped] .import-count", "1").await;
    app.wait_text("[data-figure=rejected] .import-count", "1").await;
    app.click("dialog[data-form=import] [data-action=import]").await;
    app.wait("dialog[data-form=import] [data-outcome=done]").await;
    app.wait_text("dialog[data-form=import] .import-rejected", "Телефон: Неверный номер телефона").await;
    app.screenshot("32-import-done").await;
    app.click("dialog[data-form=import] [data-action=save-rejected]").await;
    app.wait_text("#toasts", "Отклонённые строки сохранены").await;
    let saved = std::fs::read_to_string(app.dir.path().join("saved/Отклонённые строки.csv")).expect("rejected rows");
    assert!(saved.contains("Сидоров Пётр;12345;;неверный телефон;Телефон: Неверный номер телефона"), "{saved}");
    app.click("dialog[data-form=import] [data-action=close]").await;
    app.gone("dialog").await;
    app.wait_text(".list-total", "3").await;

    // the administrator undoes it from the History page
    app.go("history").await;
    app.click("[data-action=undo-import]").await;
    app.click("dialog [data-action=confirm]").await;
    app.wait_text("#toasts", "Загрузка отменена").await;
    let leads = app.invoke("list_leads", serde_json::json!({ "filter": {} })).await.expect("leads");
    assert_eq!(leads["total"], 0, "the imported leads are archived");

    // Anna calls again and is typed in anew: the leads list finds her archived twin
    let again = serde_json::json!({ "input": { "full_name": "Петрова Анна", "phone": "8 912 000-00-02" } });
    app.invoke("create_lead", again).await.expect("a lead with an archived lead's phone");
    app.go("leads").await;
    app.wait_text(".list-total", "1").await;
    app.click("label.filter [name=duplicates]").await;
    app.wait_text("table[data-list=list_leads] td[data-col=full_name]", "Петрова Анна").await;
    app.click("label.filter [name=include_archived]").await;
    app.wait_text(".list-total", "2").await;
    let names = app.texts("table[data-list=list_leads] td[data-col=full_name]").await;
    assert_eq!(names.len(), 2, "both ends of the shared phone: {names:?}");
    assert!(names.iter().all(|n| n.contains("Петрова Анна")), "{names:?}");
    app.screenshot("33-duplicates").await;
    app.stop().await;
}

/// This computer's database moves to a new office database from Settings: the owner's login
/// typed once, the copy verified, one-time passwords shown once; then this computer signs in to
/// the office server, where the administrator chooses a new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_database_moves_to_an_office_database_from_the_settings_page() {
    crypto();
    let url = pg::postgres_database().await;
    let _one = ONE_AT_A_TIME.lock().await;
    // postgres://OWNER:PASSWORD@HOST:PORT/DB?...
    let rest = url.trim_start_matches("postgres://");
    let (login, rest) = rest.split_once('@').expect("owner in the URL");
    let (owner, owner_password) = login.split_once(':').expect("the owner's password");
    let (host_port, database) = rest.split_once('/').expect("database");
    let (host, port) = host_port.split_once(':').expect("port");
    let database = database.split('?').next().unwrap_or(database);

    let launch = Launch { role_prefix: Some(pg::role_prefix(&url)), pick_ca: Some(pg::ca_file()), ..Launch::default() };
    let app = App::start("move", launch, None).await;
    story::first_run_on_this_computer(&app).await;
    let service = serde_json::json!({ "input": { "name": "Аудит", "description": "", "price": "15000" } });
    app.invoke("create_service", service).await.expect("a service");

    app.go("settings").await;
    app.click("[data-action=move-to-office]").await;
    app.fill("dialog[data-form=move] [name=host]", host).await;
    app.fill("dialog[data-form=move] [name=port]", port).await;
    app.fill("dialog[data-form=move] [name=database]", database).await;
    // the office's own certificate authority, and its certificate checked
    app.select("dialog[data-form=move] [name=tls]", "Проверять сертификат").await;
    app.click("dialog[data-form=move] [data-action=pick-ca]").await;
    app.wait_text("dialog[data-form=move] [data-ca-file]", "ca.pem").await;
    app.fill("dialog[data-form=move] [name=owner_username]", owner).await;
    app.fill("dialog[data-form=move] [name=owner_password]", owner_password).await;
    app.click("dialog[data-form=move] [data-action=save]").await;
    app.wait_text("dialog[data-form=replacement]", "admin").await;
    app.screenshot("33-moved").await;
    let one_time = app.texts("dialog[data-form=replacement] td.mono").await.remove(0);
    app.click("dialog[data-form=replacement] [data-action=confirm]").await;
    app.wait("[data-stage=sign_in]").await;
    let info = app.invoke("app_start", serde_json::json!({})).await.expect("start info");
    assert_eq!(info["database"]["kind"], "postgres", "{info}");

    // on the office server: the one-time password, then one's own
    app.fill("[name=username]", "admin").await;
    app.fill("[name=password]", &one_time).await;
    app.click("[data-action=submit]").await;
    app.wait("[data-stage=new_password]").await;
    app.fill("[name=password]", "the office password").await;
    app.fill("[name=repeat]", "the office password").await;
    app.click("[data-action=submit]").await;
    app.wait(".shell").await;
    let services = app.invoke("list_services", serde_json::json!({ "filter": {} })).await.expect("services");
    assert_eq!(services["items"][0]["name"], "Аудит", "the data came along");
    app.stop().await;
}

/// Every text the window shows comes from the dictionaries: both languages have the same keys,
/// and every key the scripts ask for exists.
#[test]
fn both_dictionaries_have_every_key_the_scripts_use() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let keys = |file: &str| -> std::collections::BTreeSet<String> {
        std::fs::read_to_string(root.join("i18n").join(file))
            .expect("dictionary")
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('\''))
            .filter_map(|l| l[1..].split('\'').next().map(str::to_owned))
            .collect()
    };
    let (ru, en) = (keys("ru.js"), keys("en.js"));
    assert_eq!(ru.symmetric_difference(&en).collect::<Vec<_>>(), Vec::<&String>::new());
    let mut used = Vec::new();
    let mut dirs = vec![root.join("js")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("ui/js") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("script");
            for (at, _) in text.match_indices("t('") {
                // `t(` the function, not the end of `import(` or `select(`.
                if text[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let key = text[at + 3..].split('\'').next().unwrap_or_default();
                if key.contains('.') {
                    used.push((path.file_name().unwrap().to_string_lossy().into_owned(), key.to_owned()));
                }
            }
        }
    }
    let missing: Vec<_> = used.iter().filter(|(_, key)| !ru.contains(key)).collect();
    assert!(missing.is_empty(), "keys missing from the dictionaries: {missing:?}");
}
