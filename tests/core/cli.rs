//! The `crm` binary's commands, run as a user would, on both backends.

use std::process::{Command, Output};
use std::str::FromStr as _;

use sqlx::Connection as _;

use crate::support::{pg, PASSWORD};

fn crm(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        // never read or write the real user's config
        .env("CRM_CONFIG_DIR", dir.path())
        .env("CRM_DATA_DIR", dir.path())
        .env("LANG", "en_US.UTF-8")
        .env("CRM_ROLE_PREFIX", pg::role_prefix(url))
        // the test's own settings last: they win
        .envs(env.iter().copied())
        .output()
        .expect("run crm")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "crm failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Fails with one line on stderr and a non-zero exit code.
fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "crm should have failed: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    err
}

const ANCHOR: &str = "2026-06-30";

const DEMO: (&str, &str) = ("CRM_DEMO_PASSWORD", "demo-password");

fn demo_then_stats(url: &str) -> serde_json::Value {
    ok(&crm(url, &["demo", "--seed", "1", "--leads", "600", "--anchor", ANCHOR], &[DEMO]));
    let json = ok(&crm(url, &["stats", "--json", "--user", "manager"], &[("CRM_PASSWORD", "demo-password")]));
    serde_json::from_str(&json).expect("stats --json prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_with_the_same_seed_gives_the_same_statistics_on_sqlite_and_postgres() {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", sqlite_dir.path().join("crm.db").display());
    let postgres = pg::postgres_database().await;

    let on_sqlite = demo_then_stats(&sqlite);
    let on_postgres = demo_then_stats(&postgres);

    assert_eq!(on_sqlite["total"]["leads"], 600);
    assert!(on_sqlite["total"]["clients"].as_i64().unwrap() > 0);
    assert_eq!(on_sqlite, on_postgres);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_refuses_a_database_with_business_data_unless_appending() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["demo", "--seed", "2", "--leads", "50", "--anchor", ANCHOR], &[DEMO]));
    let admin = [DEMO, ("CRM_PASSWORD", "demo-password")];
    let err =
        fails(&crm(&url, &["demo", "--seed", "2", "--leads", "50", "--user", "admin", "--with-other-users"], &admin));
    assert!(err.contains("--append"), "{err}");
    let again = [
        "demo",
        "--seed",
        "3",
        "--leads",
        "50",
        "--anchor",
        ANCHOR,
        "--append",
        "--user",
        "admin",
        "--with-other-users",
    ];
    ok(&crm(&url, &again, &admin));
    let json = ok(&crm(&url, &["stats", "--json", "--user", "manager"], &[("CRM_PASSWORD", "demo-password")]));
    let stats: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(stats["total"]["leads"], 100);
}

crate::both_backends! {
    async fn migrate_and_create_admin_work_and_a_second_admin_is_refused(t: TestCrm) {
        let out = ok(&crm(&t.url, &["migrate"], &[]));
        assert!(out.contains("up to date"), "{out}");
        // the harness already created the first administrator
        let err = fails(&crm(&t.url, &["create-admin", "--username", "boss"], &[("CRM_ADMIN_PASSWORD", PASSWORD)]));
        assert!(err.contains("already exists"), "{err}");
    }

    async fn stats_need_a_correct_password_and_print_a_table(t: TestCrm) {
        let err = fails(&crm(&t.url, &["stats", "--user", "admin"], &[("CRM_PASSWORD", "wrong")]));
        assert!(err.contains("Wrong username or password"), "{err}");
        let table = ok(&crm(&t.url, &["stats", "--user", "admin"], &[("CRM_PASSWORD", PASSWORD)]));
        assert!(table.lines().last().unwrap().starts_with("TOTAL"), "{table}");
    }

    async fn stats_verify_reports_a_difference_and_only_an_administrator_rebuilds(t: TestCrm) {
        let admin = [("CRM_PASSWORD", PASSWORD)];
        t.demo(3, 300).await;
        let agree = ok(&crm(&t.url, &["stats", "--verify", "--user", "admin"], &admin));
        assert!(agree.contains("agree with the records"), "{agree}");
        let mut tx = t.crm.db().write().await.unwrap();
        tx.execute(crm::db::Query::new(
            "insert into stat_days (campaign_id, day, leads, clients, revenue) values (77, '2024-03-08', 3, 1, 500)",
        ))
        .await
        .unwrap();
        let contract: i64 =
            tx.scalar(crm::db::Query::new("select min(id) from contracts where client_id is not null")).await.unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2001, 1, 1).unwrap();
        let wrong = crm::db::Query::new("update contracts set prev_signed_on = $1 where id = $2").bind(day).bind(contract);
        tx.execute(wrong).await.unwrap();
        tx.commit().await.unwrap();
        let out = crm(&t.url, &["stats", "--verify", "--user", "admin"], &admin);
        let err = fails(&out);
        // the day, the all-campaign total its trigger kept in step with it, and the contract
        assert!(err.contains("differ from the records (places: 3, listed above)") && err.contains("--rebuild"), "{err}");
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(listed.contains("campaign 77 on 2024-03-08: kept 3 leads"), "{listed}");
        assert!(listed.contains("all campaigns of share 13 (id modulo 16) on 2024-03-08: kept 3 leads"), "{listed}");
        let first = format!("contract {contract}: kept 2001-01-01 as its client's previous signing day, the records say");
        assert!(listed.contains(&first), "{listed}");
        t.user("olga", &["operator"]).await;
        let refused = fails(&crm(&t.url, &["stats", "--rebuild", "--user", "olga"], &[("CRM_PASSWORD", PASSWORD)]));
        assert!(!refused.is_empty());
        assert!(ok(&crm(&t.url, &["stats", "--rebuild", "--user", "admin"], &admin)).contains("rebuilt"));
        assert!(ok(&crm(&t.url, &["stats", "--verify", "--user", "admin"], &admin)).contains("agree"));
    }

    async fn an_office_is_staffed_from_a_script(t: TestCrm) {
        let admin = [("CRM_PASSWORD", PASSWORD), ("CRM_NEW_USER_PASSWORD", "olgas password")];
        let add = ["users", "add", "--username", "olga", "--full-name", "Ольга Петрова", "--role", "operator", "--user", "admin"];
        assert!(ok(&crm(&t.url, &add, &admin)).contains("user olga created"));
        let again = fails(&crm(&t.url, &add, &admin));
        assert!(again.contains("already taken"), "{again}");

        let list = ok(&crm(&t.url, &["users", "list", "--user", "admin", "--json"], &admin));
        let users: serde_json::Value = serde_json::from_str(&list).unwrap();
        let olga = users.as_array().unwrap().iter().find(|u| u["username"] == "olga").expect("olga listed");
        assert_eq!((olga["full_name"].as_str(), olga["roles"][0].as_str()), (Some("Ольга Петрова"), Some("operator")));
        let olga_signs_in = [("CRM_PASSWORD", "olgas password")];
        ok(&crm(&t.url, &["stats", "--user", "olga"], &olga_signs_in));
        let refused = fails(&crm(&t.url, &["users", "list", "--user", "olga"], &olga_signs_in));
        assert!(refused.contains("ermission"), "{refused}");

        assert!(ok(&crm(&t.url, &["users", "deactivate", "olga", "--user", "admin"], &admin)).contains("deactivated"));
        let gone = fails(&crm(&t.url, &["stats", "--user", "olga"], &olga_signs_in));
        assert!(gone.contains("deactivated"), "{gone}");
        let unknown = fails(&crm(&t.url, &["users", "deactivate", "nobody", "--user", "admin"], &admin));
        assert!(unknown.contains("username"), "{unknown}");
    }
}

#[test]
fn the_cli_does_not_tell_which_usernames_exist() {
    // Separate processes, as someone guessing at a terminal would run them.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["create-admin", "--username", "boss"], &[("CRM_ADMIN_PASSWORD", PASSWORD)]));
    let answers = |name: &str| -> Vec<String> {
        (0..6)
            .map(|_| fails(&crm(&url, &["stats", "--user", name], &[("CRM_PASSWORD", "a wrong guess")])))
            // the seconds left may differ by one between the two names
            .map(|answer| answer.replace(|c: char| c.is_ascii_digit(), "#"))
            .collect()
    };
    let (known, unknown) = (answers("boss"), answers("nobody"));
    assert_eq!(known, unknown);
    assert!(known[4].contains("Wrong username or password"), "{known:?}");
    assert!(known[5].contains("Too many"), "the sixth guess is paused: {known:?}");
}

#[test]
fn demo_data_never_lands_in_an_office_unasked_nor_with_a_published_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["create-admin", "--username", "boss"], &[("CRM_ADMIN_PASSWORD", PASSWORD)]));
    let boss = [("CRM_PASSWORD", PASSWORD)];
    let err = fails(&crm(&url, &["demo", "--leads", "10"], &[]));
    assert!(err.contains("--user"), "an administrator must sign in: {err}");
    let err = fails(&crm(&url, &["demo", "--leads", "10", "--user", "boss"], &[("CRM_PASSWORD", "wrong")]));
    assert!(err.contains("Wrong username or password"), "{err}");

    // the only user is the administrator: the demo may go ahead, with a password made for it
    let out = ok(&crm(&url, &["demo", "--leads", "10", "--anchor", ANCHOR, "--user", "boss"], &boss));
    let password = out.split("password ").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("printed once");
    assert_ne!(password, "demo-password");
    assert_eq!(password.len(), 17, "{out}");
    ok(&crm(&url, &["stats", "--user", "operator"], &[("CRM_PASSWORD", password)]));
    let err = fails(&crm(&url, &["stats", "--user", "operator"], &[("CRM_PASSWORD", "demo-password")]));
    assert!(err.contains("Wrong username or password"), "{err}");

    // now others work here: only when told
    let more = ["demo", "--leads", "10", "--anchor", ANCHOR, "--append", "--user", "boss"];
    let err = fails(&crm(&url, &more, &boss));
    assert!(err.contains("--with-other-users"), "{err}");
    let err = fails(&crm(
        &url,
        &["demo", "--leads", "10", "--append", "--user", "operator", "--with-other-users"],
        &[("CRM_PASSWORD", password)],
    ));
    assert!(err.contains("ermission"), "an operator may not: {err}");
    ok(&crm(&url, &[&more[..], &["--with-other-users"]].concat(), &boss));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_office_database_on_the_roles_prefix_of_another_is_refused_with_what_to_do() {
    let first = pg::postgres_database().await;
    let second = pg::postgres_database().await;
    let prefix = pg::role_prefix(&first);
    ok(&crm(&first, &["migrate"], &[]));

    let err = fails(&crm(&second, &["migrate"], &[("CRM_ROLE_PREFIX", &prefix)]));
    let first_name = first.split('?').next().unwrap().rsplit('/').next().unwrap();
    assert!(err.contains(&format!("prefix \"{prefix}\"")) && err.contains(&format!("({first_name})")), "{err}");
    assert!(err.contains("CRM_ROLE_PREFIX") && !err.contains("atabase error"), "{err}");
    let err = fails(&crm(&second, &["migrate"], &[("CRM_ROLE_PREFIX", &prefix), ("LANG", "ru_RU.UTF-8")]));
    assert!(err.contains(&format!("префиксом «{prefix}»")) && !err.contains("Ошибка базы данных"), "{err}");

    // nothing of the refused step stays: the second database migrates under a prefix of its own
    ok(&crm(&second, &["migrate"], &[]));
    ok(&crm(&first, &["migrate"], &[]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_on_one_shared_login_upgrades_with_one_command_and_loses_nothing() {
    use crm::db::{Db, Query};
    // An office database as the previous release left it: schema version 7, users who signed in
    // through one shared login with argon2 hashes in the table, and their work.
    let url = pg::postgres_database().await;
    let prefix = pg::role_prefix(&url);
    let old = Db::connect(&url).await.unwrap();
    old.migrate_to(&prefix, 7).await.unwrap();
    let mut tx = old.write().await.unwrap();
    for (name, role) in [("boss", "administrator"), ("olga", "operator")] {
        tx.execute(
            Query::new(
                "insert into users (username, username_key, full_name, password_hash, created_at, updated_at)
                 values ($1, $1, $1, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', now(), now())",
            )
            .bind(name),
        )
        .await
        .unwrap();
        tx.execute(
            Query::new("insert into user_roles (user_id, role_id) select u.id, r.id from users u, roles r where u.username = $1 and r.code = $2")
                .bind(name)
                .bind(role),
        )
        .await
        .unwrap();
    }
    tx.execute(Query::new(
        "insert into leads (full_name, phone, search, created_by, created_at, updated_at)
         select 'Иван Петров', '+79123456789', 'иван петров 79123456789', id, now(), now() from users where username = 'olga'",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    old.close().await;

    // The administrator runs one command with the owner's login.
    let out = ok(&crm(&url, &["office", "upgrade"], &[]));
    let one_time = |name: &str| -> String {
        let line = out.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{name}: {out}"));
        line.split_whitespace().nth(1).expect("a password").to_owned()
    };
    let (boss, olga) = (one_time("boss"), one_time("olga"));

    // Each person signs in with theirs and can do nothing before choosing their own.
    let err = fails(&crm(&url, &["users", "list", "--user", "boss"], &[("CRM_PASSWORD", &boss)]));
    assert!(err.contains("one-time password"), "{err}");
    let change = [("CRM_PASSWORD", olga.as_str()), ("CRM_NEW_PASSWORD", "olgas own password")];
    assert!(ok(&crm(&url, &["password", "--user", "olga"], &change)).contains("password changed"));
    ok(&crm(&url, &["stats", "--user", "olga"], &[("CRM_PASSWORD", "olgas own password")]));
    let err = fails(&crm(&url, &["stats", "--user", "olga"], &[("CRM_PASSWORD", &olga)]));
    assert!(err.contains("Wrong username or password"), "the one-time password is spent: {err}");

    // Nothing was lost: the lead is there, seen by its operator as herself.
    let crm = crm::Crm::open(&url, crate::support::settings_for(&url, crm::Settings::default())).await.unwrap();
    let olga = crm.sign_in("olga", "olgas own password").await.unwrap();
    let leads = crm.list_leads(&olga, &crm::leads::LeadFilter::default()).await.unwrap();
    assert_eq!(leads.items.iter().map(|l| l.full_name.as_str()).collect::<Vec<_>>(), ["Иван Петров"]);
    let mut tx = crm.db().read().await.unwrap();
    let audited: i64 = tx
        .scalar(Query::new(
            "select count(*) from audit_log where action = 'issue_one_time_password' and user_id is null",
        ))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(audited, 2, "each one-time password is in the history");
    // Run again, it issues only what is still unused.
    let again = ok(&self::crm(&url, &["office", "upgrade"], &[]));
    assert!(again.contains("boss") && !again.contains("olga"), "{again}");
}

#[test]
fn an_unknown_database_scheme_is_refused_with_one_line() {
    let err = fails(&crm("mysql://localhost/crm", &["migrate"], &[]));
    assert!(err.contains("mysql"), "{err}");
}

#[test]
fn create_admin_on_a_fresh_database_makes_a_user_who_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    let out = ok(&crm(&url, &["create-admin", "--username", "boss"], &[("CRM_ADMIN_PASSWORD", PASSWORD)]));
    assert!(out.contains("boss"));
    ok(&crm(&url, &["stats", "--user", "boss"], &[("CRM_PASSWORD", PASSWORD)]));
    let err = fails(&crm(&url, &["create-admin", "--username", "x"], &[("CRM_ADMIN_PASSWORD", "short")]));
    assert!(err.contains("password"), "{err}");
}

#[test]
fn a_mistyped_command_line_is_one_line_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    let err = fails(&crm(&url, &["stats", "--user", "boss", "--from", "31.02.2026"], &[]));
    assert!(err.contains("--from"), "{err}");
    let err = fails(&crm(&url, &["demo", "--anchor", "+262142-12-31"], &[]));
    assert!(err.contains("anchor"), "{err}");
}

#[test]
fn a_database_that_cannot_be_opened_or_reached_is_one_line_saying_why() {
    let err = fails(&crm("sqlite:///nonexistent-folder/crm.db", &["migrate"], &[]));
    assert!(err.contains("Cannot open the database file"), "{err}");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = fails(&crm(&format!("postgres://crm@127.0.0.1:{closed_port}/crm"), &["migrate"], &[]));
    assert!(err.contains("does not answer"), "{err}");
}

#[tokio::test]
async fn a_database_from_a_newer_app_or_another_build_is_one_line_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["migrate"], &[]));
    let mut file = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let checksum: Vec<u8> = sqlx::query_scalar("select checksum from _sqlx_migrations where version = 5")
        .fetch_one(&mut file)
        .await
        .unwrap();
    // a step this build does not know: the file was updated by a newer app
    sqlx::query("insert into _sqlx_migrations (version, description, success, checksum, execution_time) values (9999, 'later', true, x'00', 1)")
        .execute(&mut file)
        .await
        .unwrap();
    let err = fails(&crm(&url, &["migrate"], &[]));
    assert!(err.contains("newer than this version of the app: update the app"), "{err}");
    sqlx::query("delete from _sqlx_migrations where version = 9999").execute(&mut file).await.unwrap();
    // a step applied by another build of the CRM
    sqlx::query("update _sqlx_migrations set checksum = x'00' where version = 5").execute(&mut file).await.unwrap();
    let err = fails(&crm(&url, &["migrate"], &[]));
    assert!(err.contains("updated by a different build of the CRM (step 5 differs)"), "{err}");
    assert!(!err.to_lowercase().contains("database error"), "{err}");
    // a step recorded as failed: an update that stopped part-way
    sqlx::query("update _sqlx_migrations set success = false where version = 5").execute(&mut file).await.unwrap();
    let err = fails(&crm(&url, &["migrate"], &[]));
    assert!(err.contains("stopped part-way at step 5"), "{err}");
    sqlx::query("update _sqlx_migrations set success = true where version = 5").execute(&mut file).await.unwrap();
    // the refusals changed nothing: with its own step back the file opens as before
    sqlx::query("update _sqlx_migrations set checksum = $1 where version = 5")
        .bind(checksum)
        .execute(&mut file)
        .await
        .unwrap();
    file.close().await.unwrap();
    ok(&crm(&url, &["migrate"], &[]));
}

#[test]
fn a_broken_settings_file_is_one_line_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "language = \"en\"\nthis is not toml\nphone_region = \"RU\"\n")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("migrate")
        .env("CRM_CONFIG_DIR", dir.path())
        .env("CRM_DATA_DIR", dir.path())
        .env_remove("CRM_DATABASE_URL")
        .env("LANG", "en_US.UTF-8")
        .output()
        .unwrap();
    let err = fails(&out);
    assert!(err.contains("config.toml, line 2"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agenda_prints_a_users_open_tasks_overdue_first_on_both_backends() {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", sqlite_dir.path().join("crm.db").display());
    for url in [sqlite, pg::postgres_database().await] {
        ok(&crm(&url, &["demo", "--seed", "3", "--leads", "800"], &[DEMO]));
        let password = ("CRM_PASSWORD", "demo-password");
        let json = ok(&crm(&url, &["agenda", "--json", "--user", "operator"], &[password]));
        let agenda: serde_json::Value = serde_json::from_str(&json).expect("agenda --json prints JSON");
        let tasks = agenda["tasks"].as_array().expect("tasks");
        assert!(!tasks.is_empty(), "the demo gives the operator calls to make");
        let due: Vec<&str> = tasks.iter().map(|t| t["due_at"].as_str().unwrap()).collect();
        assert!(due.windows(2).all(|w| w[0] <= w[1]), "soonest (so overdue) first");
        assert!(tasks.iter().all(|t| t["is_done"] == false));
        let text = ok(&crm(&url, &["agenda", "--user", "operator"], &[password]));
        assert!(text.starts_with(&format!("open tasks: {}", agenda["tasks_total"])), "{text}");
        assert!(text.contains("OVERDUE"), "{text}");
        let wrong = fails(&crm(&url, &["agenda", "--user", "operator"], &[("CRM_PASSWORD", "nope")]));
        assert_eq!(wrong, "crm: Wrong username or password");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_database_is_backed_up_restored_and_moved_to_an_office_from_the_command_line() {
    let (data, config) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let office = pg::postgres_database().await;
    // the default local database of this "computer", as a person runs the commands
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_crm"))
            .args(args)
            .env_remove("CRM_DATABASE_URL")
            .env("CRM_DATA_DIR", data.path())
            .env("CRM_CONFIG_DIR", config.path())
            .env("LANG", "en_US.UTF-8")
            .env("CRM_ROLE_PREFIX", pg::role_prefix(&office))
            .env(DEMO.0, DEMO.1)
            .output()
            .expect("run crm")
    };
    ok(&run(&["demo", "--seed", "3", "--leads", "300", "--anchor", ANCHOR]));

    let made = ok(&run(&["backup"]));
    assert!(made.starts_with("backup made: ") && made.contains("300 leads"), "{made}");
    let file = std::fs::read_dir(data.path().join("backups")).unwrap().next().unwrap().unwrap().path();
    assert!(file.to_string_lossy().ends_with("-manual.crm-backup"), "{file:?}");

    let file = file.to_str().unwrap();
    assert!(fails(&run(&["restore", file])).contains("add --yes"), "no terminal to ask: --yes is needed");
    let sheet = data.path().join("leads.csv");
    std::fs::write(&sheet, "ФИО;Телефон\nИван;+79120000000\n").unwrap();
    assert!(fails(&run(&["restore", sheet.to_str().unwrap(), "--yes"])).contains("not a CRM backup"));
    let restored = ok(&run(&["restore", file, "--yes"]));
    assert!(restored.contains("restored and verified") && restored.contains("before-restore"), "{restored}");

    let moved = ok(&run(&["move", "--to", &office]));
    assert!(moved.contains("copied and verified") && moved.contains("now works on the office database"), "{moved}");
    for user in ["admin", "operator", "marketer", "manager"] {
        assert!(moved.lines().any(|l| l.trim_start().starts_with(user)), "a one-time password for {user}: {moved}");
    }
    let settings = std::fs::read_to_string(config.path().join("config.toml")).unwrap();
    assert!(settings.contains("[office]") && !settings.contains("database_url"), "{settings}");
    // from now on this computer signs in to the office: a second move has nothing local to move
    assert!(fails(&run(&["move", "--to", &office])).contains("owner"));
}

#[test]
fn export_writes_a_list_with_its_filters_and_the_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["demo", "--seed", "4", "--leads", "500", "--anchor", ANCHOR], &[DEMO]));
    let as_manager = [("CRM_PASSWORD", "demo-password")];

    let leads = dir.path().join("Лиды.csv");
    let out = ok(&crm(
        &url,
        &["export", "leads", "--user", "manager", "--out", leads.to_str().unwrap(), "--status", "converted"],
        &as_manager,
    ));
    let rows: usize = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(rows > 0 && rows < 500, "only converted leads: {out}");
    let text = std::fs::read_to_string(&leads).unwrap();
    assert_eq!(text.lines().count(), rows + 1, "a header and a line per lead");
    assert!(text.lines().skip(1).all(|l| l.contains(",Client,")), "en: `,` and English statuses");

    let stats = dir.path().join("stats.xlsx");
    ok(&crm(&url, &["export", "stats", "--user", "manager", "--out", stats.to_str().unwrap()], &as_manager));
    use calamine::Reader as _;
    let book: calamine::Xlsx<_> = calamine::open_workbook(&stats).unwrap();
    assert_eq!(book.sheet_names(), ["Campaigns", "Channels", "Total", "Sales per client"]);

    // what the user may not view is refused, and nothing is written
    let clients = dir.path().join("clients.xlsx");
    let err = fails(&crm(
        &url,
        &["export", "clients", "--user", "operator", "--out", clients.to_str().unwrap()],
        &as_manager,
    ));
    assert!(err.contains("permission") || err.contains("Clients"), "{err}");
    assert!(!clients.exists());
    let err = fails(&crm(
        &url,
        &["export", "leads", "--user", "manager", "--out", dir.path().to_str().unwrap()],
        &as_manager,
    ));
    assert!(err.contains("is a folder"), "{err}");
}

#[test]
fn import_reports_each_rejected_row_and_a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["create-admin", "--username", "boss"], &[("CRM_ADMIN_PASSWORD", PASSWORD)]));
    let file = dir.path().join("leads.csv");
    std::fs::write(&file, "Клиент;Моб. тел\nИван;+79120000031\n;+79120000032\nАнна;нет\n").unwrap();
    let as_boss = [("CRM_PASSWORD", PASSWORD)];
    let file_arg = file.to_str().unwrap();

    let dry = ok(&crm(
        &url,
        &["import", "leads", file_arg, "--user", "boss", "--map", "Моб. тел=phone", "--dry-run", "--json"],
        &as_boss,
    ));
    let report: serde_json::Value = serde_json::from_str(&dry).expect("JSON");
    assert_eq!((report["created"].as_i64(), report["dry_run"].as_bool()), (Some(1), Some(true)), "{report}");
    let lines: Vec<i64> = report["rejected"].as_array().unwrap().iter().map(|r| r["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [3, 4]);
    assert!(report["rejected"][1]["reason"].as_str().unwrap().starts_with("Моб. тел: "), "{report}");

    let rejected = dir.path().join("rejected.csv");
    let done = ok(&crm(
        &url,
        &["import", "leads", file_arg, "--user", "boss", "--map", "2=phone", "--rejected", rejected.to_str().unwrap()],
        &as_boss,
    ));
    assert!(done.starts_with("imported 3 rows: 1 created, 0 updated, 0 skipped as duplicates, 2 rejected"), "{done}");
    assert!(std::fs::read_to_string(&rejected).unwrap().lines().count() == 3);
    let err = fails(&crm(&url, &["import", "leads", file_arg, "--user", "boss"], &as_boss));
    assert!(err.contains("Choose the column of the phone or of the e-mail"), "{err}");
}

/// The app (this process) and the command line (another) on one SQLite file: the command line's
/// long write is killed in the middle of its transaction, as a crash or a pulled plug would. The
/// app's save, which was waiting for the file, then goes through; the file is intact and holds
/// nothing of the killed transaction; and the two processes keep working side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_mid_transaction_leaves_an_intact_file_and_the_other_process_working() {
    use crm::leads::{LeadFilter, LeadInput};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crm.db").display());
    ok(&crm(&url, &["demo", "--seed", "4", "--leads", "20", "--anchor", ANCHOR], &[DEMO]));
    let app = crm::Crm::open(&url, crm::Settings::default()).await.unwrap();
    let operator = app.sign_in("operator", DEMO.1).await.unwrap();
    let counts = async || {
        let mut tx = app.db().read().await.unwrap();
        let check: String = tx.scalar(crm::db::Query::new("pragma integrity_check")).await.unwrap();
        let leads: i64 = tx.scalar(crm::db::Query::new("select count(*) from leads")).await.unwrap();
        let campaigns: i64 = tx.scalar(crm::db::Query::new("select count(*) from campaigns")).await.unwrap();
        tx.commit().await.unwrap();
        (check, leads, campaigns)
    };
    let (_, leads, campaigns) = counts().await;

    let config = tempfile::tempdir().unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("--database-url")
        .arg(&url)
        .args(["demo", "--seed", "5", "--leads", "400000", "--append", "--user", "admin", "--with-other-users"])
        .env("CRM_PASSWORD", DEMO.1)
        .env("CRM_CONFIG_DIR", config.path())
        .env("CRM_DATA_DIR", config.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run crm demo");
    // wait until the demo holds the file's write lock for a second on end: its one long
    // transaction has begun (its short ones before it, checks and users, hold it for
    // milliseconds, and a save waiting behind one of them went through at once)
    let probe = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap().busy_timeout(Duration::ZERO);
    let started = Instant::now();
    let mut locked_since: Option<Instant> = None;
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "the demo never began writing");
        assert!(demo.try_wait().unwrap().is_none(), "the demo ended early");
        let mut conn = sqlx::SqliteConnection::connect_with(&probe).await.unwrap();
        match sqlx::query("begin immediate").execute(&mut conn).await {
            Ok(_) => {
                sqlx::query("rollback").execute(&mut conn).await.map(drop).unwrap();
                locked_since = None;
            }
            Err(_) if locked_since.is_some_and(|since| since.elapsed() >= Duration::from_secs(1)) => break,
            Err(_) => {
                locked_since.get_or_insert_with(Instant::now);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let input = LeadInput { full_name: "Петров".into(), phone: "+7 912 345 67 50".into(), ..Default::default() };
    let save = {
        let (app, operator, input) = (app.clone(), operator.clone(), input.clone());
        tokio::spawn(async move { app.create_lead(&operator, &input).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!save.is_finished(), "the save waits for the demo's transaction");
    demo.kill().expect("kill the demo");
    demo.wait().unwrap();
    let saved = save.await.expect("task").expect("the waiting save goes through once the killed writer is gone");
    assert_eq!(counts().await, ("ok".to_owned(), leads + 1, campaigns), "nothing of the killed transaction is left");

    // the command line reads while the app writes
    let more =
        LeadInput { full_name: "Сидорова".into(), phone: "+7 912 345 67 51".into(), ..Default::default() };
    let (stats, second) = tokio::join!(
        tokio::task::spawn_blocking({
            let url = url.clone();
            move || crm(&url, &["stats", "--json", "--user", "operator"], &[("CRM_PASSWORD", DEMO.1)])
        }),
        app.create_lead(&operator, &more),
    );
    let stats: serde_json::Value = serde_json::from_str(&ok(&stats.unwrap())).unwrap();
    assert_eq!(stats["total"]["leads"], 20, "the first demo's leads, counted by the other process");
    second.expect("a second save beside the command line");
    let page = app.list_leads(&operator, &LeadFilter::default()).await.unwrap();
    assert_eq!((page.total, saved.full_name.as_str()), (leads + 2, "Петров"));
}

/// `crm migrate` tells the owner at once what administrators would hear at sign-in: here, an
/// office database whose `LC_CTYPE=C` hides Russian letters from the trigram indexes (while the
/// database is still empty and cheap to create again); a UTF-8 one migrates without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_names_an_office_database_that_hides_russian_letters_from_search() {
    let ascii = pg::postgres_database_with("template template0 lc_collate 'C' lc_ctype 'C'").await;
    let out = crm(&ascii, &["migrate"], &[]);
    let said = ok(&out);
    assert!(said.contains("up to date"), "{said}");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.contains("LC_CTYPE=C") && warning.contains("--lc-ctype=C.UTF-8"), "{warning}");

    let utf8 = pg::postgres_database().await;
    let out = crm(&utf8, &["migrate"], &[]);
    ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "", "nothing to say");
}
