//! Test harness: every test runs on a fresh SQLite file and on a fresh PostgreSQL database
//! (see `common/pg.rs` for where the PostgreSQL server comes from).

#[path = "../common/pg.rs"]
pub mod pg;

use crm::{Actor, Crm, Settings};

pub const PASSWORD: &str = "correct horse battery";

/// A fresh CRM on one backend, with its first administrator.
pub struct TestCrm {
    pub crm: Crm,
    pub admin: Actor,
    #[allow(dead_code)] // read by the CLI tests
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestCrm {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("crm.db").display());
        Self::open(url, Some(dir)).await
    }

    pub async fn postgres() -> Self {
        let url = pg::postgres_database().await;
        Self::open(url, None).await
    }

    /// On a PostgreSQL database made with `options` (see `pg::postgres_database_with`).
    #[allow(dead_code)]
    pub async fn postgres_with(options: &str) -> Self {
        let url = pg::postgres_database_with(options).await;
        Self::open(url, None).await
    }

    async fn open(url: String, dir: Option<tempfile::TempDir>) -> Self {
        let crm = Crm::open(&url, settings_for(&url, Settings::default())).await.expect("open and migrate");
        let admin = crm.create_first_admin("admin", "Администратор", PASSWORD).await.expect("first admin");
        Self { crm, admin, url, _dir: dir }
    }

    /// A new active user holding exactly `roles`.
    pub async fn user(&self, username: &str, roles: &[&str]) -> Actor {
        let input = crm::users::NewUser {
            username: username.into(),
            full_name: format!("User {username}"),
            password: PASSWORD.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            extra_permissions: vec![],
        };
        self.crm.create_user(&self.admin, &input).await.expect("create user");
        self.crm.sign_in(username, PASSWORD).await.expect("sign in")
    }

    /// A second CRM on this test's database with other settings (e.g. a small document limit).
    pub async fn with_settings(&self, settings: Settings) -> Crm {
        Crm::open(&self.url, settings_for(&self.url, settings)).await.expect("reopen with settings")
    }

    /// The demo data set of `leads` leads from `seed`, its year ending on 2026-06-30 (users
    /// `operator`, `marketer`, `manager` with the password `demo-password`).
    pub async fn demo(&self, seed: u64, leads: u64) {
        let options = crm::demo::DemoOptions {
            seed,
            leads,
            anchor: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
            append: false,
            password: "demo-password".into(),
            with_other_users: false,
            until: None,
        };
        self.crm.generate_demo(Some(&self.admin), &options).await.expect("demo");
    }

    /// Rows in `table` (a literal from the test), to prove that a refused write wrote nothing.
    pub async fn count(&self, table: &str) -> i64 {
        let mut tx = self.crm.db().read().await.expect("read");
        let n = tx.scalar(crm::db::Query::new(format!("select count(*) from {table}"))).await.expect("count");
        tx.commit().await.expect("commit");
        n
    }
}

/// `settings` with the role prefix of the test database at `url` (see `pg::role_prefix`).
pub fn settings_for(url: &str, settings: Settings) -> Settings {
    Settings { role_prefix: pg::role_prefix(url), ..settings }
}

/// Writes each test once and runs it on both backends as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($t:ident: TestCrm) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($t: $crate::support::TestCrm) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { run($crate::support::TestCrm::sqlite().await).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { run($crate::support::TestCrm::postgres().await).await }
        }
    )*};
}

/// Writes a test of the local mode only (SQLite), as `name::sqlite`.
#[macro_export]
macro_rules! local_only {
    ($(async fn $name:ident($t:ident: TestCrm) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $t = $crate::support::TestCrm::sqlite().await;
                $body
            }
        }
    )*};
}

/// Writes a test of the office database only (PostgreSQL), as `name::postgres`.
#[macro_export]
macro_rules! office_only {
    ($(async fn $name:ident($t:ident: TestCrm) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $t = $crate::support::TestCrm::postgres().await;
                $body
            }
        }
    )*};
}
