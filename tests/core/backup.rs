//! Backups, restore and moving to an office server: every table comes back equal, on and across
//! both backends, and every bad file gets its own answer with nothing changed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crm::backup::{self, BackupInfo, Progress};
use crm::db::Query;
use crm::{Crm, Error};

use crate::both_backends;
use crate::contracts::{files, upload};
use crate::support::{TestCrm, PASSWORD};
use crm::domain::id::ServiceId;

fn quiet(_: Progress) {}

/// A database with rows in every table a backup holds: demo data (users, services, campaigns,
/// leads, clients, contracts, tasks, history), a document, a merged lead and a saved filter.
async fn fill(t: &TestCrm) {
    t.demo(5, 300).await;
    let contract = t.crm.list_contracts(&t.admin, &Default::default()).await.unwrap().items.remove(0);
    t.crm.attach_document(&t.admin, contract.id, contract.version, upload("Договор.pdf", files::pdf())).await.unwrap();
    let filter = serde_json::json!({ "status": "new" });
    t.crm.save_filter(&t.admin, "leads", "Новые", &filter).await.unwrap();
    // a lead merged into a newer one: the reference points forward, as merges can
    sql(
        t.crm.db(),
        "update leads set merged_into = (select max(id) from leads), is_archived = true
         where id = (select min(id) from leads where status <> 'converted')",
    )
    .await;
}

async fn sql(db: &crm::db::Db, text: &str) {
    let mut tx = db.write().await.unwrap();
    tx.execute(Query::new(text)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn count(db: &crm::db::Db, table: &str) -> i64 {
    let mut tx = db.read().await.unwrap();
    let n = tx.scalar(Query::new(format!("select count(*) from {table}"))).await.unwrap();
    tx.commit().await.unwrap();
    n
}

fn backup_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.crm-backup"))
}

both_backends! {
    async fn a_backup_restores_every_table_as_it_was(t: TestCrm) {
        fill(&t).await;
        let dir = tempfile::tempdir().unwrap();
        let made = backup::make(t.crm.db(), &backup_path(dir.path(), "b"), &quiet).await.unwrap();
        assert!(made.rows("leads") >= 300 && made.rows("contract_documents") == 1 && made.rows("saved_filters") == 1);
        assert_eq!(made.source, t.crm.db().backend());
        let before = (count(t.crm.db(), "leads").await, count(t.crm.db(), "audit_log").await);

        // the day after: work done, some of it a mistake
        sql(t.crm.db(), "delete from saved_filters").await;
        sql(t.crm.db(), "update leads set full_name = 'Испорчено' where id < 50").await;
        t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "Новая услуга".into(), description: String::new(), price: "10".into(),
        }).await.unwrap();

        let done = AtomicU64::new(0);
        let progress = |p: Progress| { done.store(p.done, Ordering::Relaxed); assert!(p.done <= p.total); };
        let restored = backup::restore(t.crm.db(), &made.path, &backup_path(dir.path(), "aside"), &progress).await.unwrap();

        assert_eq!(restored.replaced.tables, made.tables, "every table equal to the backup");
        assert!(restored.replaced.one_time_passwords.is_empty(), "same backend: passwords stay");
        assert_eq!(done.load(Ordering::Relaxed), made.tables.iter().map(|t| t.rows).sum::<u64>());
        // the history as it was, and one entry more: the restore itself
        assert_eq!((count(t.crm.db(), "leads").await, count(t.crm.db(), "audit_log").await), (before.0, before.1 + 1));
        let admin = t.crm.sign_in("admin", PASSWORD).await.unwrap();
        let history = t.crm.history(&admin, &Default::default()).await.unwrap();
        assert_eq!((history.items[0].action.as_str(), history.items[0].details.as_str()), ("restore_backup", "b.crm-backup"));
        assert_eq!(count(t.crm.db(), "saved_filters").await, 1);
        // the replaced contents were kept aside, and that copy is a whole backup of its own
        let aside = backup::check(&restored.kept_aside).await.unwrap();
        assert_eq!(aside.rows("services"), made.rows("services") + 1);
        // people sign in with the passwords they had, and new rows continue after the old ids
        t.crm.sign_in("admin", PASSWORD).await.unwrap();
        let service = t.crm.create_service(&t.admin, &crm::services::ServiceInput {
            name: "После восстановления".into(), description: String::new(), price: "10".into(),
        }).await.unwrap();
        assert!(service.id > ServiceId::new(made.rows("services") as i64));
    }

    async fn bad_backup_files_each_get_their_own_answer_and_change_nothing(t: TestCrm) {
        fill(&t).await;
        let dir = tempfile::tempdir().unwrap();
        let aside = backup_path(dir.path(), "aside");
        let leads = count(t.crm.db(), "leads").await;
        let refused = |result: Result<backup::Restored, Error>| match result {
            Err(Error::State { code, .. }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        };

        let missing = dir.path().join("nowhere.crm-backup");
        assert_eq!(refused(backup::restore(t.crm.db(), &missing, &aside, &quiet).await), "backup_missing");
        for (name, bytes) in [("empty", &b""[..]), ("text", &b"name;phone\nIvan;+79120000000\n"[..])] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(refused(backup::restore(t.crm.db(), &path, &aside, &quiet).await), "not_a_backup", "{name}");
        }
        // another program's SQLite database
        let other = dir.path().join("other.db");
        let db = crm::db::Db::open_file(&other, crm::db::FileMode::Create).await.unwrap();
        sql(&db, "create table notes (id integer primary key, body text)").await;
        db.close().await;
        assert_eq!(refused(backup::restore(t.crm.db(), &other, &aside, &quiet).await), "not_a_crm_backup");

        let good = backup::make(t.crm.db(), &backup_path(dir.path(), "good"), &quiet).await.unwrap();
        // cut short, as by a full disk or an interrupted copy
        let bytes = std::fs::read(&good.path).unwrap();
        let cut = dir.path().join("cut.crm-backup");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(refused(backup::restore(t.crm.db(), &cut, &aside, &quiet).await), "backup_damaged");
        // one row changed inside: SQLite still finds the file sound, the checksum does not
        let edited = dir.path().join("edited.crm-backup");
        std::fs::copy(&good.path, &edited).unwrap();
        let db = crm::db::Db::open_file(&edited, crm::db::FileMode::Write).await.unwrap();
        sql(&db, "update leads set phone = null where id = (select min(id) from leads)").await;
        db.close().await;
        assert_eq!(refused(backup::restore(t.crm.db(), &edited, &aside, &quiet).await), "backup_damaged");
        // made by a newer version of the app
        let newer = dir.path().join("newer.crm-backup");
        std::fs::copy(&good.path, &newer).unwrap();
        let db = crm::db::Db::open_file(&newer, crm::db::FileMode::Write).await.unwrap();
        let about: BackupInfo = {
            let mut tx = db.read().await.unwrap();
            let text: String = tx.scalar(Query::new("select about from crm_backup")).await.unwrap();
            tx.commit().await.unwrap();
            serde_json::from_str(&text).unwrap()
        };
        let about = BackupInfo { schema_version: about.schema_version + 1, ..about };
        let mut tx = db.write().await.unwrap();
        tx.execute(Query::new("update crm_backup set about = $1").bind(serde_json::to_string(&about).unwrap())).await.unwrap();
        tx.commit().await.unwrap();
        db.close().await;
        assert_eq!(refused(backup::restore(t.crm.db(), &newer, &aside, &quiet).await), "backup_newer");

        assert_eq!(count(t.crm.db(), "leads").await, leads, "nothing changed");
        assert!(!aside.exists(), "nothing was even kept aside: every file was refused before");
        backup::check(&good.path).await.unwrap();
    }
}

/// A backup made on one backend restores into the other.
async fn across(from: TestCrm, to: TestCrm) {
    fill(&from).await;
    let dir = tempfile::tempdir().unwrap();
    let made = backup::make(from.crm.db(), &backup_path(dir.path(), "b"), &quiet).await.unwrap();
    let restored = backup::restore(to.crm.db(), &made.path, &backup_path(dir.path(), "aside"), &quiet).await.unwrap();
    assert_eq!(restored.replaced.tables, made.tables, "every table equal to the backup");
    let leads = from.crm.list_leads(&from.admin, &Default::default()).await.unwrap();
    let again = to.crm.list_leads(&from_admin(&to.crm, &restored.replaced).await, &Default::default()).await.unwrap();
    assert_eq!(serde_json::to_value(&leads).unwrap(), serde_json::to_value(&again).unwrap());
}

/// The administrator of the backup, signed in on the restored database: with the password they
/// had where passwords travel, else with the one-time password the restore issued.
async fn from_admin(crm: &Crm, replaced: &backup::Replaced) -> crm::Actor {
    match replaced.one_time_passwords.iter().find(|(u, _)| u == "admin") {
        Some((_, one_time)) => {
            assert!(matches!(crm.sign_in("admin", PASSWORD).await, Err(Error::BadCredentials)));
            let actor = crm.sign_in("admin", one_time).await.unwrap();
            crm.change_own_password(&actor, one_time, "a new password 1").await.unwrap();
            crm.sign_in("admin", "a new password 1").await.unwrap()
        }
        None => crm.sign_in("admin", PASSWORD).await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_backup_restores_into_an_office_database() {
    across(TestCrm::sqlite().await, TestCrm::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_backup_restores_into_a_local_file() {
    across(TestCrm::postgres().await, TestCrm::sqlite().await).await;
}

both_backends! {
    async fn a_user_added_after_the_backup_has_no_way_in_once_it_is_restored(t: TestCrm) {
        let dir = tempfile::tempdir().unwrap();
        let made = backup::make(t.crm.db(), &backup_path(dir.path(), "b"), &quiet).await.unwrap();
        t.user("late", &["operator"]).await;
        backup::restore(t.crm.db(), &made.path, &backup_path(dir.path(), "aside"), &quiet).await.unwrap();
        // on an office server the login role stays (roles belong to the server), without its login
        assert!(t.crm.sign_in("late", PASSWORD).await.is_err());
        t.crm.sign_in("admin", PASSWORD).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_database_moves_to_an_empty_office_database_and_only_there() {
    let local = TestCrm::sqlite().await;
    fill(&local).await;
    let url = crate::support::pg::postgres_database().await;
    let office = Crm::open(&url, crate::support::settings_for(&url, Default::default())).await.unwrap();

    let moved = backup::move_to(local.crm.db(), office.db(), &quiet).await.unwrap();

    let users = count(local.crm.db(), "users").await as usize;
    assert_eq!(moved.one_time_passwords.len(), users, "everyone gets a one-time password on the server");
    assert_eq!(count(office.db(), "leads").await, count(local.crm.db(), "leads").await);
    let (_, one_time) = moved.one_time_passwords.iter().find(|(u, _)| u == "admin").unwrap();
    let admin = office.sign_in("admin", one_time).await.unwrap();
    assert!(matches!(office.list_leads(&admin, &Default::default()).await, Err(Error::PasswordChangeRequired)));
    office.change_own_password(&admin, one_time, "the office password").await.unwrap();
    let admin = office.sign_in("admin", "the office password").await.unwrap();
    let there = office.list_leads(&admin, &Default::default()).await.unwrap();
    let here = local.crm.list_leads(&local.admin, &Default::default()).await.unwrap();
    assert_eq!(serde_json::to_value(&there).unwrap(), serde_json::to_value(&here).unwrap());

    // a second move finds the office database in use, and neither side changes
    let leads = count(local.crm.db(), "leads").await;
    let again = backup::move_to(local.crm.db(), office.db(), &quiet).await.unwrap_err();
    assert!(matches!(again, Error::State { code: "target_not_empty", .. }), "{again:?}");
    assert_eq!(count(office.db(), "leads").await, leads);
    // and only a local database moves, only to an office server
    let err = backup::move_to(office.db(), local.crm.db(), &quiet).await.unwrap_err();
    assert!(matches!(err, Error::State { code: "move_from_local_only", .. }), "{err:?}");
}
