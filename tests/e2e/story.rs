//! The story every backend goes through: first run, the first administrator, each role signing
//! in and doing its job, statistics showing the result, and the refusals.

use chrono::Datelike as _;
use serde_json::json;

use crate::harness::App;

pub const ADMIN_PASSWORD: &str = "admin-password";
const STAFF_PASSWORD: &str = "staff-password";

/// A small PDF for the contract's document (the core checks the content, not the name), in its
/// own temporary directory.
pub fn sample_document() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("Договор Д-2026-001.pdf");
    std::fs::write(&path, crm::contracts::samples::pdf("")).expect("write the sample document");
    (dir, path)
}

pub async fn first_run_on_this_computer(app: &App) {
    app.wait_text("[data-stage=choose_database] h1", "Где хранить данные?").await;
    app.screenshot("01-first-run").await;
    app.click("[data-action=local-database]").await;
    create_first_admin(app).await;
}

/// The office form names only the server, reached over TLS with its certificate checked against
/// the office's own CA; a new database is set up once with its owner's login and password, which
/// are not kept; staff then sign in with their own passwords.
pub async fn first_run_on_the_office_database(app: &App, url: &str) {
    // postgres://OWNER:PASSWORD@HOST:PORT/DB?...
    let rest = url.trim_start_matches("postgres://");
    let (login, rest) = rest.split_once('@').expect("owner in the URL");
    let (owner, owner_password) = login.split_once(':').expect("the owner's password in the URL");
    let (host_port, database) = rest.split_once('/').expect("database in the URL");
    let (host, port) = host_port.split_once(':').expect("port in the URL");
    app.wait("[data-stage=choose_database]").await;
    app.click("[data-action=office-database]").await;
    app.fill("[name=host]", host).await;
    app.fill("[name=port]", port).await;
    app.fill("[name=database]", database.split('?').next().unwrap_or(database)).await;
    app.select("[name=tls]", "Проверять сертификат").await;
    app.click("[data-action=pick-ca]").await;
    app.wait_text("[data-ca-file]", "ca.pem").await;
    app.click("[data-action=test-connection]").await;
    app.wait(".test-status.ok").await;
    app.click("[data-action=new-office]").await;
    app.fill("[name=owner_username]", owner).await;
    app.fill("[name=owner_password]", owner_password).await;
    app.screenshot("01-office-database").await;
    app.click("[data-action=set-up-office]").await;
    create_first_admin(app).await;
}

async fn create_first_admin(app: &App) {
    app.wait("[data-stage=first_admin]").await;
    app.fill("[name=username]", "admin").await;
    app.fill("[name=full_name]", "Анна Администратова").await;
    app.fill("[name=password]", ADMIN_PASSWORD).await;
    // a typo in the repeated password is caught before anything is created
    app.fill("[name=repeat]", "admin-passwort").await;
    app.click("[data-action=submit]").await;
    app.wait_text("[data-field=repeat] .field-error", "Пароли не совпадают").await;
    app.fill("[name=repeat]", ADMIN_PASSWORD).await;
    app.screenshot("02-first-admin").await;
    app.click("[data-action=submit]").await;
    // Statistics is the home page.
    app.wait("#page[data-page=stats]").await;
}

/// Everything after the first administrator exists and is signed in.
pub async fn whole_story(app: &App, document: &std::path::Path, screenshots: bool) {
    let shot = |name: &'static str| async move {
        if screenshots {
            app.screenshot(name).await;
        }
    };
    shot("03-statistics-empty").await;

    // The administrator adds the staff.
    app.go("admin").await;
    for (username, name, role) in [
        ("operator", "Ольга Операторова", "operator"),
        ("marketer", "Марк Маркетологов", "marketer"),
        ("manager", "Мария Менеджерова", "manager"),
    ] {
        app.click("[data-action=create]").await;
        app.wait("dialog[data-form=user]").await;
        app.fill("dialog [name=username]", username).await;
        app.fill("dialog [name=full_name]", name).await;
        app.fill("dialog [name=password]", STAFF_PASSWORD).await;
        app.click(&format!("dialog input[name=roles][value={role}]")).await;
        if username == "manager" {
            shot("04-admin-new-user").await;
        }
        app.click("dialog [data-action=save]").await;
        app.wait(&format!("tr[data-username={username}]")).await;
    }
    shot("05-admin-users").await;
    // The search narrows the users in place.
    app.fill("[data-search]", "маркет").await;
    app.gone("tr[data-username=operator]:not([hidden])").await;
    app.wait("tr[data-username=marketer]:not([hidden])").await;
    app.wait_text(".list-total", "1").await;
    app.click("[data-tab=roles]").await;
    app.wait("[data-role=operator]").await;
    shot("06-admin-roles").await;
    app.sign_out().await;

    // Wrong credentials: a clear message, no session.
    app.fill("[name=username]", "marketer").await;
    app.fill("[name=password]", "not-the-password").await;
    app.click("[data-action=submit]").await;
    app.wait_text(".form-banner", "Неверный логин или пароль").await;
    shot("07-sign-in-wrong-password").await;

    // The marketer adds a service; a bad input first shows its field errors and saves nothing.
    app.fill("[name=password]", STAFF_PASSWORD).await;
    app.click("[data-action=submit]").await;
    app.wait(".shell").await;
    let links = app.texts(".nav-link").await;
    assert!(links.iter().any(|l| l == "Услуги"), "{links:?}");
    assert!(!links.iter().any(|l| l == "Администрирование" || l == "Лиды"), "{links:?}");
    app.go("services").await;
    app.wait_text(".empty-title", "Услуг пока нет").await;
    app.click("[data-action=create]").await;
    app.wait("dialog[data-form=service]").await;
    app.fill("dialog [name=price]", "сто рублей").await;
    app.click("dialog [data-action=save]").await;
    app.wait_text("dialog [data-field=name] .field-error", "Заполните поле").await;
    app.wait_text("dialog [data-field=price] .field-error", "Введите число").await;
    shot("08-service-field-errors").await;
    let services = app.invoke("list_services", json!({ "filter": {} })).await.expect("list services");
    assert_eq!(services["total"], 0, "a rejected form saves nothing");
    app.fill("dialog [name=name]", "Настройка контекстной рекламы").await;
    app.fill("dialog [name=price]", "15 000,00").await;
    app.fill("dialog [name=description]", "Запуск и ведение кампаний в поисковых системах").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait_text("table[data-list=list_services] td", "Настройка контекстной рекламы").await;
    app.wait_text("table[data-list=list_services] td", "15 000,00").await;
    shot("09-services").await;

    // Someone else saves the service while the form is open: the form says so, nothing is lost.
    app.click("table[data-list=list_services] tbody tr.clickable td[data-col=name]").await;
    app.wait("dialog[data-form=service]").await;
    let page = app.invoke("list_services", json!({ "filter": {} })).await.expect("list services");
    let service = &page["items"][0];
    let input = json!({ "name": service["name"], "description": "", "price": "16000" });
    app.invoke("update_service", json!({ "id": service["id"], "version": service["version"], "input": input }))
        .await
        .expect("a concurrent save");
    app.fill("dialog [name=price]", "17 000").await;
    app.click("dialog [data-action=save]").await;
    app.wait_text("dialog .form-banner-conflict", "изменил другой пользователь").await;
    shot("09-service-conflict").await;
    app.click("dialog [data-action=cancel]").await;
    app.gone("dialog").await;

    // Another role's page: not in the navigation, refused by the core when called anyway.
    let refused = app.invoke("list_users", json!({})).await.expect_err("the marketer may not list users");
    assert_eq!(refused["code"], "forbidden");
    app.client.execute("location.hash = '#/admin'", vec![]).await.expect("go to #/admin");
    app.wait(".no-access").await;

    // ... and adds two campaigns: one running since last month, one planned that is started now.
    let month_ago = (chrono::Local::now().date_naive() - chrono::Days::new(30)).format("%d.%m.%Y").to_string();
    let next_month = (chrono::Local::now().date_naive() + chrono::Days::new(30)).format("%d.%m.%Y").to_string();
    app.go("campaigns").await;
    for (name, starts) in [("Осенний поиск", &month_ago), ("Зимняя рассылка", &next_month)] {
        app.click("[data-action=create]").await;
        app.wait("dialog[data-form=campaign]").await;
        app.fill("dialog [name=name]", name).await;
        app.select("dialog [name=service_id]", "Настройка контекстной рекламы").await;
        app.select("dialog [name=channel_id]", if starts == &month_ago { "Контекстная реклама" } else { "E-mail" })
            .await;
        app.fill("dialog [name=budget]", "100 000").await;
        app.fill("dialog [name=starts_on]", starts).await;
        if name == "Осенний поиск" {
            shot("10-campaign-form").await;
        }
        app.click("dialog [data-action=save]").await;
        app.gone("dialog").await;
        app.wait_text("table[data-list=list_campaigns] td", name).await;
    }
    app.click("tr:has([data-status=planned]) [data-action=start]").await;
    app.click("dialog [data-action=confirm]").await;
    app.gone("[data-status=planned]").await;
    shot("11-campaigns").await;
    app.go("account").await;
    shot("12-change-password").await;
    app.go("settings").await;
    shot("13-settings").await;
    app.sign_out().await;

    // The operator adds a lead from the running campaign.
    app.sign_in("operator", STAFF_PASSWORD).await;
    assert_navigation(app, &["Мой день", "Статистика", "Лиды", "Воронка"]).await;
    let refused = app.invoke("list_contracts", json!({ "filter": {} })).await.expect_err("operators see no contracts");
    assert_eq!(refused["code"], "forbidden");
    app.client.execute("location.hash = '#/contracts'", vec![]).await.expect("go to #/contracts");
    app.wait(".no-access").await;
    app.go("leads").await;
    // Keyboard: `/` focuses the search, Ctrl+N opens the new-lead form.
    app.wait("[data-search]").await;
    app.wait("a.nav-link[data-page=leads]").await.send_keys("/").await.expect("type /");
    let focused = app.client.execute("return document.activeElement.hasAttribute('data-search')", vec![]).await;
    assert_eq!(focused.expect("active element"), json!(true));
    app.wait("[data-search]").await.send_keys("\u{E009}n\u{E000}").await.expect("press Ctrl+N");
    app.wait("dialog[data-form=lead]").await;
    app.fill("dialog [name=full_name]", "Иван Петров").await;
    app.fill("dialog [name=phone]", "8 912 345-67-89").await;
    app.fill("dialog [name=email]", "Ivan.Petrov@Example.ru").await;
    app.select("dialog [name=campaign_id]", "Осенний поиск").await;
    shot("14-lead-form").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait_text("table[data-list=list_leads] td", "+7 912 345-67-89").await;
    app.click("[data-action=create]").await;
    app.wait("dialog[data-form=lead]").await;
    app.fill("dialog [name=full_name]", "Мария Сидорова").await;
    app.select("dialog [name=campaign_id]", "Осенний поиск").await;
    // Enter in a field saves the form.
    app.fill("dialog [name=email]", "maria@example.ru\u{E007}").await;
    app.gone("dialog").await;
    // Esc closes a form without saving.
    app.click("[data-action=create]").await;
    app.fill("dialog [name=full_name]", "Не сохранять").await;
    app.wait("dialog [name=full_name]").await.send_keys("\u{E00C}").await.expect("press Esc");
    app.gone("dialog").await;
    app.wait("tr[data-name='Мария Сидорова']").await;
    assert_eq!(app.invoke("list_leads", json!({ "filter": {} })).await.expect("list leads")["total"], 2);
    shot("15-leads").await;

    // The operator opens Иван Петров's card, adds a note and a call-back for tomorrow, finds it
    // on "My day" (the badge counts only what is due today or late) and marks it done.
    app.click("tr[data-name='Иван Петров'] td[data-col=full_name]").await;
    app.wait_text("dialog[data-card=lead] [data-card-title]", "Иван Петров").await;
    app.fill("dialog [name=note]", "Просил перезвонить после обеда").await;
    app.click("dialog [data-action=add-note]").await;
    app.wait_text("dialog [data-timeline] .entry-note", "Просил перезвонить после обеда").await;
    app.click("dialog [data-action=call-back]").await;
    app.wait_text("dialog [data-section=tasks] [data-task] .task-subject", "Перезвонить").await;
    shot("22-lead-card").await;
    let card = app.texts("dialog[data-card=lead] .dialog-body").await.join(" ");
    assert!(!card.contains("null") && !card.contains("undefined"), "the card shows no placeholders: {card}");
    app.click("dialog [data-action=close]").await;
    app.gone("dialog").await;
    app.go("today").await;
    app.wait_text("[data-group=upcoming] [data-task] .task-subject", "Перезвонить").await;
    app.wait_text("[data-group=upcoming] [data-action=open-record]", "Иван Петров").await;
    shot("23-my-day").await;
    let day = app.texts("#page").await.join(" ");
    assert!(!day.contains("null") && !day.contains("undefined"), "the day page shows no placeholders: {day}");
    app.click("[data-group=upcoming] [data-action=done]").await;
    app.wait("dialog[data-form=task-done]").await;
    app.fill("dialog [name=result]", "Договорились о встрече").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait_text("[data-group=upcoming] p.muted", "Запланированных задач нет").await;
    // A task of her own from "My day", about Мария Сидорова picked by name (the core searches).
    app.click("#page [data-action=create]").await;
    app.wait("dialog[data-form=task]").await;
    app.fill("dialog [name=subject]", "Отправить КП").await;
    // the day as the app shows it, the time on the 24-hour clock; a bad time says so
    // the day picked from the calendar
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    app.click("dialog [data-field=due_at] [data-action=calendar]").await;
    app.wait(&format!("dialog .calendar [data-date='{tomorrow}']")).await;
    shot("24-task-calendar").await;
    app.click(&format!("dialog .calendar [data-date='{tomorrow}']")).await;
    app.fill("dialog [name=due_at_time]", "25:00").await;
    app.select("dialog [name=about]", "Мария Сидорова").await;
    app.click("dialog [data-action=save]").await;
    app.wait_text("dialog [data-field=due_at] .field-error", "Укажите время как ЧЧ:ММ").await;
    shot("24-task-about").await;
    app.fill("dialog [name=due_at_time]", "1100").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait_text("[data-group=upcoming] [data-action=open-record]", "Мария Сидорова").await;

    // On the board she drags Мария Сидорова from "new" to "in work".
    app.go("board").await;
    app.wait_text("[data-column=new] .count", "2").await;
    app.drag("[data-column=new] [data-name='Мария Сидорова']", "[data-column=in_work]").await;
    app.wait("[data-column=in_work] [data-name='Мария Сидорова']").await;
    app.wait_text("[data-column=in_work] .count", "1").await;
    let selected =
        app.client.execute("const s = window.getSelection(); return s.rangeCount > 0 && !s.isCollapsed;", vec![]);
    assert_eq!(selected.await.expect("the selection"), json!(false), "a drag selects no text");
    shot("25-board").await;
    let moved = app.invoke("list_leads", json!({ "filter": { "status": "in_work" } })).await.expect("list leads");
    assert_eq!(moved["items"][0]["full_name"], "Мария Сидорова", "the core changed the status");

    // The same person typed in again (same name, an e-mail with the same name part) is found on
    // the first lead's card and merged into it.
    let first_id = moved["items"][0]["id"].as_i64().expect("lead id");
    app.go("leads").await;
    app.click("[data-action=create]").await;
    app.fill("dialog [name=full_name]", "Мария Сидорова").await;
    app.fill("dialog [name=email]", "maria@mail.ru").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    // the list has reloaded with the new row on top before the first one is clicked
    app.wait_text("table[data-list=list_leads] td", "maria@mail.ru").await;
    app.click(&format!("tr[data-id='{first_id}'] td[data-col=full_name]")).await;
    app.wait_text("dialog[data-card=lead] [data-card-title]", "Мария Сидорова").await;
    let opened = app
        .client
        .execute("return document.querySelector('dialog[data-card=lead] .card-head .muted').textContent", vec![])
        .await;
    assert_eq!(opened.expect("the card's number"), json!(format!("№{first_id}")), "the first lead's card");
    app.wait_text("dialog[data-card=lead] [data-section=duplicates]", "то же имя, похожий e-mail").await;
    app.click("dialog[data-card=lead] [data-section=duplicates] [data-action=merge]").await;
    app.wait("dialog[data-form=merge]").await;
    app.select("dialog[data-form=merge] [name=email]", "maria@example.ru").await;
    shot("27-merge").await;
    app.click("dialog[data-form=merge] [data-action=save]").await;
    app.wait_text("dialog[data-card=lead] [data-timeline]", "Объединён с дублем").await;
    app.click("dialog[data-card=lead] [data-action=close]").await;
    app.gone("dialog").await;
    let live = app.invoke("list_leads", json!({ "filter": {} })).await.expect("list leads");
    assert_eq!(live["total"], 2, "the duplicate went to the archive");
    app.sign_out().await;

    // The manager converts the lead with a new contract and its document.
    app.sign_in("manager", STAFF_PASSWORD).await;
    assert_navigation(app, &["Мой день", "Статистика", "Лиды", "Воронка", "Клиенты", "Договоры"]).await;
    // A manager opens the lead's card (its story included) and converts it from there.
    app.go("leads").await;
    app.click("tr[data-name='Иван Петров'] td[data-col=full_name]").await;
    app.wait_text("dialog[data-card=lead] [data-timeline] .entry-note", "Просил перезвонить после обеда").await;
    app.wait_text("dialog[data-card=lead] [data-timeline]", "Задача выполнена").await;
    app.click("dialog[data-card=lead] [data-action=convert]").await;
    app.wait("dialog[data-form=convert]").await;
    // pre-filled: the campaign's service at its price, for a year from today
    let value = |name: &'static str| async move {
        let script = format!("return document.querySelector('dialog [name={name}]').value");
        app.client
            .execute(&script, vec![])
            .await
            .expect("read a field")
            .as_str()
            .unwrap_or_default()
            .replace(['\u{a0}', ' ', '\u{202f}'], "")
    };
    assert_eq!(value("amount").await, "16000,00");
    let today = chrono::Local::now().date_naive();
    let year_on = today.with_year(chrono::Datelike::year(&today) + 1).unwrap_or(today) - chrono::Days::new(1);
    assert_eq!(value("valid_to").await, year_on.format("%d.%m.%Y").to_string());
    assert_ne!(value("service_id").await, "");
    fill_contract_form(app, "Д-2026/001", "250 000,00").await;
    shot("16-convert-lead").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait("tr [data-status=converted]").await;
    app.go("clients").await;
    app.wait_text("table[data-list=list_clients] td", "Иван Петров").await;
    shot("17-clients").await;
    // A contract prepared in advance (without a client) is picked for the second lead.
    app.go("contracts").await;
    app.wait_text("table[data-list=list_contracts] td", "Д-2026/001").await;
    app.click("[data-action=create]").await;
    app.wait("dialog[data-form=contract]").await;
    fill_contract_form(app, "Д-2026/002", "150 000").await;
    shot("18-contract-form").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait("tr[data-name='Д-2026/002'] .badge-warn").await;
    app.go("leads").await;
    app.click("tr[data-name='Мария Сидорова'] [data-action=convert]").await;
    app.wait("dialog[data-form=convert]").await;
    app.select("dialog [name=kind]", "Договор без клиента").await;
    app.select("dialog [name=contract_id]", "Д-2026/002").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait("tr[data-name='Мария Сидорова'] [data-status=converted]").await;
    app.go("contracts").await;
    app.wait_text("tr[data-name='Д-2026/002'] td", "Мария Сидорова").await;
    shot("19-contracts").await;
    // "Save a copy" gives back exactly the bytes that were picked.
    app.click("[data-action=save-document]").await;
    let saved = app.dir.path().join("saved").join("Договор Д-2026-001.pdf");
    let expected = std::fs::read(document).unwrap();
    wait_for_file(&saved, &expected).await;
    // "Open" writes a private copy for the system's viewer (none is started under test).
    app.click("tr[data-name='Д-2026/002'] [data-action=open-document]").await;
    let contract_id = app.wait("tr[data-name='Д-2026/002']").await.attr("data-id").await.unwrap().unwrap();
    let opened = app.dir.path().join("data/documents").join(contract_id).join("Договор Д-2026-001.pdf");
    wait_for_file(&opened, &expected).await;

    // Statistics show the conversion.
    app.go("stats").await;
    let row = "tr[data-campaign='Осенний поиск']";
    app.wait_text(&format!("{row} td[data-col=leads]"), "2").await;
    app.wait_text(&format!("{row} td[data-col=clients]"), "2").await;
    app.wait_text(&format!("{row} td[data-col=conversion]"), "100,0").await;
    app.wait_text(&format!("{row} td[data-col=revenue]"), "400 000 ₽").await;
    app.wait_text(&format!("{row} td[data-col=roas]"), "4,00").await;
    app.wait_text(&format!("{row} td[data-col=cost_per_client]"), "50 000 ₽").await;
    shot("20-statistics").await;
    app.sign_out().await;

    // The administrator reads the history of every change, and the lead's owner among them.
    app.sign_in("admin", ADMIN_PASSWORD).await;
    app.go("history").await;
    app.select("[name=user_id]", "Ольга Операторова").await;
    app.wait_text("table[data-list=history] .entry-note", "Просил перезвонить после обеда").await;
    // an entry whose row shows no details names its record as it was then
    app.wait_text(
        "table[data-list=history] tr:has([data-action-kind=create]) [data-action=open-record]",
        "Мария Сидорова",
    )
    .await;
    shot("24-history").await;
    // an entry's record opens its card
    app.click("table[data-list=history] tr:has([data-action-kind=note]) [data-action=open-record]").await;
    app.wait_text("dialog[data-card=lead] [data-card-title]", "Иван Петров").await;
    app.click("dialog[data-card=lead] [data-action=close]").await;
    app.gone("dialog").await;
    // ...and hands every client to the manager in one go.
    app.go("clients").await;
    app.click("[data-action=select-page]").await;
    app.wait_text("[data-bulk] [data-selected]", "Выбрано: 2").await;
    app.click("[data-bulk-action=owner]").await;
    app.select("dialog[data-form=bulk-owner] [name=choice]", "Мария Менеджерова").await;
    app.click("dialog[data-form=bulk-owner] [data-action=save]").await;
    app.wait_text("dialog[data-form=bulk-summary] [data-changed]", "Изменено записей: 2").await;
    shot("26-bulk-owner").await;
    app.click("dialog[data-form=bulk-summary] [data-action=close]").await;
    app.gone("dialog").await;
    let clients = app.invoke("list_clients", json!({ "filter": {} })).await.expect("list clients");
    let owners: Vec<&str> =
        clients["items"].as_array().unwrap().iter().map(|c| c["owner_name"].as_str().unwrap()).collect();
    assert_eq!(owners, ["Мария Менеджерова", "Мария Менеджерова"]);
    // the clients list filtered by owner: hers, then someone's who has none
    app.select("[name=owner_id]", "Мария Менеджерова").await;
    app.wait_text("table[data-list=list_clients] td", "Мария Сидорова").await;
    app.select("[name=owner_id]", "Ольга Операторова").await;
    app.wait_text("table[data-list=list_clients] .empty-title", "Ничего не найдено").await;
    app.select("[name=owner_id]", "Все ответственные").await;
    app.wait_text("table[data-list=list_clients] td", "Иван Петров").await;

    // The administrator deactivates the operator: the next sign-in says so.
    app.go("admin").await;
    app.click("tr[data-username=operator] td").await;
    app.wait("dialog[data-form=user]").await;
    app.click("dialog input[name=is_active]").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.wait_text("tr[data-username=operator] .badge", "Отключён").await;
    app.sign_out().await;
    app.fill("[name=username]", "operator").await;
    app.fill("[name=password]", STAFF_PASSWORD).await;
    app.click("[data-action=submit]").await;
    app.wait_text(".form-banner", "Учётная запись отключена").await;

    // The marketer forgot the password: the administrator gives a one-time one, with which the
    // marketer can do nothing but choose their own.
    app.sign_in("admin", ADMIN_PASSWORD).await;
    app.go("admin").await;
    app.click("tr[data-username=marketer] [data-action=reset-password]").await;
    app.wait("dialog[data-form=reset-password]").await;
    app.fill("dialog [name=password]", "one-time-password").await;
    app.click("dialog [data-action=save]").await;
    app.gone("dialog").await;
    app.sign_out().await;
    app.fill("[name=username]", "marketer").await;
    app.fill("[name=password]", "one-time-password").await;
    app.click("[data-action=submit]").await;
    app.wait("[data-stage=new_password]").await;
    let refused =
        app.invoke("list_services", json!({ "filter": {} })).await.expect_err("nothing before the new password");
    assert_eq!(refused["code"], "password_change_required", "{refused}");
    shot("21-new-password").await;
    app.fill("[name=password]", "marketer-own-password").await;
    app.fill("[name=repeat]", "marketer-own-password").await;
    app.click("[data-action=submit]").await;
    app.wait(".shell").await;
    app.sign_out().await;
    app.sign_in("marketer", "marketer-own-password").await;
    app.sign_out().await;
}

/// The main navigation shows exactly these pages (the account and settings links aside).
async fn assert_navigation(app: &App, expected: &[&str]) {
    app.wait(".shell").await;
    let links = app.texts("nav.nav .nav-link > span:first-child").await;
    assert_eq!(links, expected, "navigation");
}

async fn wait_for_file(path: &std::path::Path, expected: &[u8]) {
    let started = std::time::Instant::now();
    while std::fs::read(path).ok().as_deref() != Some(expected) {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "no copy at {}", path.display());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Fills the open contract form (new contract or conversion): signed today, valid for a year,
/// with the sample document picked.
async fn fill_contract_form(app: &App, name: &str, amount: &str) {
    let today = chrono::Local::now().date_naive();
    let (signed, until) =
        (today.format("%d.%m.%Y").to_string(), (today + chrono::Days::new(365)).format("%d.%m.%Y").to_string());
    app.fill("dialog [name=name]", name).await;
    app.select("dialog [name=service_id]", "Настройка контекстной рекламы").await;
    app.fill("dialog [name=amount]", amount).await;
    app.fill("dialog [name=signed_on]", &signed).await;
    // "valid from" is picked from the calendar: today, shown as typed dates are
    app.client.execute("document.querySelector('dialog [name=valid_from]').value = ''", vec![]).await.expect("clear");
    app.click("dialog [data-field=valid_from] [data-action=calendar]").await;
    app.click("dialog [data-field=valid_from] .calendar [data-action=today]").await;
    let picked = app.client.execute("return document.querySelector('dialog [name=valid_from]').value", vec![]).await;
    assert_eq!(picked.expect("read valid_from"), json!(signed));
    app.fill("dialog [name=valid_to]", &until).await;
    app.click("dialog [data-action=pick-document]").await;
    app.wait_text("dialog [data-file-name]", ".pdf").await;
}
