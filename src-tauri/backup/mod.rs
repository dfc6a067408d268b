//! Backups, restore, and moving a local database to an office server.
//!
//! One backup format for both backends: a SQLite file with the CRM's schema and every row of the
//! database it was made from (users and their password hashes, roles, documents, history, ids),
//! marked as a CRM backup (`application_id`, and a `crm_backup` row saying when, from what, at
//! which schema version, and the row count and checksum of every table). A local database is
//! copied by SQLite itself (`VACUUM INTO`, a consistent online copy); an office database row by
//! row from one repeatable-read snapshot. Restoring, into either backend, replaces every table's
//! rows in one transaction that is checked against the backup's checksums before it commits, so a
//! database is never left half-restored; the current contents are kept aside in a backup first.

mod copy;
pub mod schedule;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::now;
use crate::db::{Backend, Db, FileMode, Lock, Query, Tx};
use crate::error::{Error, Result};
use crate::permission::Actor;

pub use copy::TableSum;
use copy::{Column, TABLES};

/// `application_id` of a CRM backup file ("CRMB").
const APPLICATION_ID: i64 = 0x4352_4D42;
/// The version of the backup format (the `crm_backup` row); the schema has its own.
const FORMAT: i64 = 1;
/// The extension of backup files.
pub const EXTENSION: &str = "crm-backup";

/// What a backup file says of itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupInfo {
    #[serde(skip_deserializing)]
    pub path: PathBuf,
    pub made_at: DateTime<Utc>,
    pub app_version: String,
    pub schema_version: i64,
    /// The backend it was made from.
    pub source: Backend,
    #[serde(skip_deserializing)]
    pub size_bytes: u64,
    pub tables: Vec<TableSum>,
}

impl BackupInfo {
    /// Rows of one table, for the list of backups.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.iter().find(|t| t.table == table).map_or(0, |t| t.rows)
    }
}

/// Where a copy stands, for a progress bar: `done` of `total` rows, now in `table`.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub table: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Hears the progress of a long copy.
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// What a restore or a move did.
#[derive(Debug, Clone, Serialize)]
pub struct Replaced {
    /// Rows now in each table.
    pub tables: Vec<TableSum>,
    /// Users who have no password on the target yet (an office backup restored into a local
    /// file, a local database moved to a server): each gets a one-time password, to be handed
    /// over in person, with which they choose their own at their next sign-in.
    pub one_time_passwords: Vec<(String, String)>,
}

/// What a restore did, and where the replaced contents were kept.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    #[serde(flatten)]
    pub replaced: Replaced,
    pub kept_aside: PathBuf,
}

/// Makes a backup of `db` at `out` (written beside it first, then renamed: an interrupted backup
/// never looks like a finished one). On PostgreSQL `db` must read every row: the owner's login.
pub async fn make(db: &Db, out: &Path, progress: OnProgress<'_>) -> Result<BackupInfo> {
    let part = out.with_extension(format!("{EXTENSION}.part"));
    let _ = std::fs::remove_file(&part);
    let made = write_backup(db, &part, progress).await;
    if made.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    let tables = made?;
    let info = BackupInfo {
        path: out.to_owned(),
        made_at: now(),
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: db.schema_version().await?,
        source: db.backend(),
        size_bytes: 0,
        tables,
    };
    let sealed = seal(&part, &info).await;
    if sealed.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    sealed?;
    std::fs::rename(&part, out).map_err(|e| file_error("backup_unwritable", out, &e))?;
    let size_bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or_default();
    Ok(BackupInfo { size_bytes, ..info })
}

/// Copies `db` into the new file `part` and returns the checksums of its tables.
async fn write_backup(db: &Db, part: &Path, progress: OnProgress<'_>) -> Result<Vec<TableSum>> {
    if let Some(dir) = part.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| file_error("backup_unwritable", dir, &e))?;
    }
    match db {
        Db::Sqlite(pool) => {
            let target = part.to_str().ok_or_else(|| Error::Internal("backup path is not UTF-8".into()))?;
            sqlx::query("vacuum into $1").bind(target).execute(pool).await?;
            let file = Db::open_file(part, FileMode::Write).await?;
            let sums = sum_all(&file).await;
            file.close().await;
            sums
        }
        Db::Postgres(_) => {
            let file = Db::open_file(part, FileMode::Create).await?;
            let copied = async {
                file.migrate_to("", db.schema_version().await?).await?;
                let mut to = file.write_large().await?;
                clear(&mut to).await?;
                let mut from = snapshot(db).await?;
                let copied = copy_all(&mut from, &mut to, progress).await?;
                verify(&mut to, &copied).await?;
                to.commit().await?;
                from.commit().await?;
                Ok::<_, Error>(copied.sums)
            }
            .await;
            file.close().await;
            copied
        }
    }
}

/// Marks a finished backup file as one, with what it holds.
async fn seal(part: &Path, info: &BackupInfo) -> Result<()> {
    let file = Db::open_file(part, FileMode::Write).await?;
    let sealed = async {
        let mut tx = file.write().await?;
        tx.execute(Query::new(format!("pragma application_id = {APPLICATION_ID}"))).await?;
        tx.execute(Query::new("create table crm_backup (format bigint not null, about text not null)")).await?;
        let about = serde_json::to_string(info).map_err(|e| Error::Internal(e.to_string()))?;
        tx.execute(Query::new("insert into crm_backup (format, about) values ($1, $2)").bind(FORMAT).bind(about))
            .await?;
        tx.commit().await
    }
    .await;
    file.close().await;
    sealed
}

/// A read transaction that sees one moment of `db`: on PostgreSQL, repeatable read.
async fn snapshot(db: &Db) -> Result<Tx> {
    let mut tx = db.read().await?;
    if tx.backend() == Backend::Postgres {
        tx.execute(Query::new("set transaction isolation level repeatable read, read only")).await?;
    }
    Ok(tx)
}

/// The columns of every table, read from whichever side is SQLite and checked on the other.
async fn all_columns(from: &mut Tx, to: &mut Tx) -> Result<Vec<Vec<Column>>> {
    let sqlite = if from.backend() == Backend::Sqlite { &mut *from } else { &mut *to };
    copy::check_tables(sqlite).await?;
    let mut all = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns = match (from.backend(), to.backend()) {
            (Backend::Sqlite, Backend::Postgres) => {
                let columns = copy::columns(from, table.name).await?;
                copy::check_columns(to, table.name, &columns).await?;
                columns
            }
            (Backend::Postgres, Backend::Sqlite) => {
                let columns = copy::columns(to, table.name).await?;
                copy::check_columns(from, table.name, &columns).await?;
                columns
            }
            (Backend::Sqlite, Backend::Sqlite) => copy::columns(from, table.name).await?,
            (Backend::Postgres, Backend::Postgres) => {
                return Err(Error::Internal(
                    "a copy between two PostgreSQL databases goes through a backup file".into(),
                ));
            }
        };
        all.push(columns);
    }
    Ok(all)
}

/// Copies every table from `from` into the emptied `to`; returns the checksums of what was read.
async fn copy_all(from: &mut Tx, to: &mut Tx, progress: OnProgress<'_>) -> Result<Copied> {
    let columns = all_columns(from, to).await?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        counts.push(copy::count(from, table).await?);
    }
    let total: u64 = counts.iter().sum();
    let mut before = 0u64;
    let mut sums = Vec::with_capacity(TABLES.len());
    for ((table, columns), count) in TABLES.iter().zip(&columns).zip(counts) {
        progress(Progress { table: table.name, done: before, total });
        let mut report = |done: u64| progress(Progress { table: table.name, done: before + done, total });
        sums.push(copy::copy_table(from, to, table, columns, &mut report).await?);
        before += count;
    }
    progress(Progress { table: "", done: total, total });
    Ok(Copied { sums, columns })
}

/// The checksums of what a copy read, and the columns of every table.
struct Copied {
    sums: Vec<TableSum>,
    columns: Vec<Vec<Column>>,
}

/// Checks that `tx` holds exactly the rows `expected` sums up; the first table that differs is
/// named in the error.
async fn verify(tx: &mut Tx, copied: &Copied) -> Result<()> {
    let (expected, actual) = (&copied.sums, sum_tx(tx, &copied.columns).await?);
    for want in expected {
        let have = actual.iter().find(|t| t.table == want.table);
        if have != Some(want) {
            let rows = have.map_or(0, |t| t.rows);
            return Err(Error::State {
                code: "copy_differs",
                params: vec![
                    ("table", want.table.clone()),
                    ("rows", rows.to_string()),
                    ("expected", want.rows.to_string()),
                ],
            });
        }
    }
    Ok(())
}

/// The checksums of every table of a SQLite database.
async fn sum_all(db: &Db) -> Result<Vec<TableSum>> {
    let mut tx = db.read().await?;
    let mut columns = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        columns.push(copy::columns(&mut tx, table.name).await?);
    }
    let sums = sum_tx(&mut tx, &columns).await?;
    tx.commit().await?;
    Ok(sums)
}

async fn sum_tx(tx: &mut Tx, columns: &[Vec<Column>]) -> Result<Vec<TableSum>> {
    let mut sums = Vec::with_capacity(TABLES.len());
    for (table, columns) in TABLES.iter().zip(columns) {
        sums.push(copy::sum_table(tx, table, columns).await?);
    }
    Ok(sums)
}

/// Empties every table a backup holds, children first.
async fn clear(tx: &mut Tx) -> Result<()> {
    match tx.backend() {
        Backend::Sqlite => {
            for table in TABLES.iter().rev() {
                tx.execute(Query::new(format!("delete from {}", table.name))).await?;
            }
            tx.execute(Query::new("delete from sign_in_throttle")).await?;
            tx.execute(Query::new("delete from stat_days")).await?;
            tx.execute(Query::new("delete from stat_months")).await?;
            tx.execute(Query::new("delete from stat_day_totals")).await?;
            tx.execute(Query::new("delete from lead_counts")).await?;
            tx.execute(Query::new("delete from list_counts")).await?;
            tx.execute(Query::new("delete from signing_days")).await?;
        }
        Backend::Postgres => {
            // Every present user's login role loses its memberships and its login first: a user
            // the backup does not hold must not keep a way in (roles belong to the server, and
            // the sync at commit only sees the users that are in the table by then). Done
            // directly, not through an update of users: TRUNCATE refuses a table with pending
            // trigger events.
            tx.execute(Query::new(
                "do $$ declare r record; begin
                     for r in select crm_role_name('user', username_key) as name from users loop
                         perform crm_set_members(r.name, array[]::text[], (select role_prefix from office) || ':');
                         execute format('alter role %I nologin', r.name);
                     end loop;
                 end $$",
            ))
            .await?;
            let names = TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
            tx.execute(Query::new(format!(
                "truncate {names}, sign_in_throttle, stat_days, stat_months, stat_day_totals, lead_counts, list_counts, signing_days"
            )))
            .await?;
        }
    }
    Ok(())
}

fn file_error(code: &'static str, path: &Path, error: &std::io::Error) -> Error {
    Error::State { code, params: vec![("path", path.display().to_string()), ("reason", error.to_string())] }
}

/// Reads what a backup file says of itself, after checking that it is a CRM backup this app can
/// restore (not that every row is intact: [`check`] reads it whole).
pub async fn inspect(path: &Path) -> Result<BackupInfo> {
    use std::io::Read as _;
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::State { code: "backup_missing", params: vec![("path", path.display().to_string())] }
        }
        _ => file_error("backup_unreadable", path, &e),
    })?;
    if file.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
        return Err(Error::state("not_a_backup"));
    }
    let db = Db::open_file(path, FileMode::Read).await.map_err(damaged)?;
    let read = read_about(&db).await;
    db.close().await;
    let mut info = read.map_err(damaged)?;
    info.path = path.to_owned();
    info.size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or_default();
    if info.schema_version > Db::latest_version(Backend::Sqlite) {
        return Err(Error::state("backup_newer"));
    }
    Ok(info)
}

async fn read_about(db: &Db) -> Result<BackupInfo> {
    let mut tx = db.read().await?;
    let id: i64 = tx.scalar(Query::new("pragma application_id")).await?;
    let has_about: i64 = tx
        .scalar(Query::new("select count(*) from sqlite_master where type = 'table' and name = 'crm_backup'"))
        .await?;
    if id != APPLICATION_ID || has_about == 0 {
        return Err(Error::state("not_a_crm_backup"));
    }
    let (format, about): (i64, String) = tx.fetch_one(Query::new("select format, about from crm_backup")).await?;
    tx.commit().await?;
    if format > FORMAT {
        return Err(Error::state("backup_newer"));
    }
    serde_json::from_str(&about).map_err(|_| Error::state("backup_damaged"))
}

/// A SQLite error while reading a backup means a damaged (or truncated) file.
fn damaged(error: Error) -> Error {
    match &error {
        Error::Database(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("11" | "26")) => {
            Error::state("backup_damaged")
        }
        Error::Database(sqlx::Error::RowNotFound) => Error::state("backup_damaged"),
        _ => error,
    }
}

/// Checks a backup whole: [`inspect`], SQLite's own integrity check, and every table against
/// the row count and checksum written when it was made.
pub async fn check(path: &Path) -> Result<BackupInfo> {
    let info = inspect(path).await?;
    let db = Db::open_file(path, FileMode::Read).await.map_err(damaged)?;
    let checked = async {
        let mut tx = db.read().await?;
        let verdict: String = tx.scalar(Query::new("pragma quick_check")).await?;
        tx.commit().await?;
        if verdict != "ok" {
            return Err(Error::state("backup_damaged"));
        }
        if sum_all(&db).await? != info.tables {
            return Err(Error::state("backup_damaged"));
        }
        Ok(())
    }
    .await;
    db.close().await;
    checked.map_err(damaged)?;
    Ok(info)
}

/// Replaces everything in `db` with the contents of the backup at `file`: checked whole first,
/// the current contents kept aside as a backup in `aside_dir`, then one transaction that is
/// verified against the backup before it commits. An older backup is brought up to this
/// schema on a copy; the file itself is never changed. On PostgreSQL `db` must be the owner's.
pub async fn restore(db: &Db, file: &Path, aside: &Path, progress: OnProgress<'_>) -> Result<Restored> {
    let info = check(file).await?;
    let kept = make(db, aside, progress).await?;
    let upgrade = info.schema_version < Db::latest_version(Backend::Sqlite);
    let source_path = if upgrade { aside.with_extension("upgrading.part") } else { file.to_owned() };
    if upgrade {
        std::fs::copy(file, &source_path).map_err(|e| file_error("backup_unwritable", &source_path, &e))?;
    }
    let replaced = async {
        let source = Db::open_file(&source_path, if upgrade { FileMode::Write } else { FileMode::Read }).await?;
        let replaced = async {
            if upgrade {
                source.migrate("").await?;
            }
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            replace(&source, db, false, ("restore_backup", &name), progress).await
        }
        .await;
        source.close().await;
        replaced
    }
    .await;
    if upgrade {
        let _ = std::fs::remove_file(&source_path);
    }
    Ok(Restored { replaced: replaced?, kept_aside: kept.path })
}

/// Copies a local database into an empty office database (migrated by its owner's login),
/// verified before it commits; the local database is only read. Everyone gets a one-time
/// password on the server (a password hash of a local file is no PostgreSQL password).
pub async fn move_to(from: &Db, to: &Db, progress: OnProgress<'_>) -> Result<Replaced> {
    if from.backend() != Backend::Sqlite {
        return Err(Error::state("move_from_local_only"));
    }
    if to.backend() != Backend::Postgres {
        return Err(Error::state("move_to_office_only"));
    }
    replace(from, to, true, ("move_to_office", ""), progress).await
}

/// Business rows that make a database "not empty" for a move.
const CONTENT: &[&str] = &["users", "services", "campaigns", "leads", "clients", "contracts", "tasks"];

/// Replaces the contents of `to` with those of `from`, in one transaction of `to` that commits
/// only once every table's rows equal what was read.
/// The History entry a replacement leaves after the rows it copied: (action, details).
type Entry<'a> = (&'static str, &'a str);

async fn replace(
    from: &Db,
    to: &Db,
    must_be_empty: bool,
    entry: Entry<'_>,
    progress: OnProgress<'_>,
) -> Result<Replaced> {
    let mut from_tx = snapshot(from).await?;
    let mut to_tx = to.write_large().await?;
    to_tx.lock(Lock::Users).await?;
    if must_be_empty {
        for table in CONTENT {
            let n: i64 = to_tx.scalar(Query::new(format!("select count(*) from {table}"))).await?;
            if n > 0 {
                return Err(Error::State {
                    code: "target_not_empty",
                    params: vec![("table", (*table).to_owned()), ("rows", n.to_string())],
                });
            }
        }
    }
    clear(&mut to_tx).await?;
    let bulk = crate::stats::start_bulk_load(&mut to_tx).await?;
    let copied = copy_all(&mut from_tx, &mut to_tx, progress).await?;
    crate::stats::finish_bulk_load(&mut to_tx, bulk).await?;
    let one_time_passwords = one_time_passwords(&mut to_tx).await?;
    verify(&mut to_tx, &copied).await?;
    // the History says what happened to the database (by nobody's account: the copied log has
    // every other entry as it was)
    to_tx
        .execute(
            Query::new(
                "insert into audit_log (at, user_id, action, entity, entity_id, details) values ($1, null, $2, 'database', null, $3)",
            )
            .bind(now())
            .bind(entry.0)
            .bind(entry.1),
        )
        .await?;
    to_tx.commit().await?;
    from_tx.commit().await?;
    to.settle_after_bulk_load().await;
    Ok(Replaced { tables: copied.sums, one_time_passwords })
}

/// Gives a one-time password to every active user who has no password on the target: on a
/// local file, the users of an office backup; on an office server, users whose login role the
/// server did not have (other users keep the password their role has there).
async fn one_time_passwords(tx: &mut Tx) -> Result<Vec<(String, String)>> {
    let sql = match tx.backend() {
        Backend::Sqlite => {
            "select id, username from users where is_active = true and password_hash = '' order by username_key"
        }
        Backend::Postgres => {
            "select id, username from users u where is_active = true
             and not exists (select 1 from pg_roles r where r.rolname = crm_role_name('user', u.username_key))
             order by username_key"
        }
    };
    let users: Vec<(crate::domain::id::UserId, String)> = tx.fetch_all(Query::new(sql)).await?;
    let mut issued = Vec::with_capacity(users.len());
    for (id, username) in users {
        let password = crate::auth::generate_password();
        crate::auth::store_password(tx, id, &password, true).await?;
        issued.push((username, password));
    }
    Ok(issued)
}

impl crate::app::Crm {
    /// The window's backups are an administrator's (a backup holds everyone's data and password
    /// hashes), of a local database: an office database is backed up on its server, by its
    /// owner (`crm backup` with the owner's login, or `pg_dump`).
    pub fn check_backups(&self, actor: &Actor) -> Result<()> {
        actor.require(crate::permission::Permission::UsersManage)?;
        if actor.db.backend() != Backend::Sqlite {
            return Err(Error::state("backups_on_server"));
        }
        Ok(())
    }

    /// "Back up now".
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn back_up(&self, actor: &Actor, out: &Path, progress: OnProgress<'_>) -> Result<BackupInfo> {
        self.check_backups(actor)?;
        make(&self.db, out, progress).await
    }

    /// "Restore" on the settings page.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn restore_backup(
        &self,
        actor: &Actor,
        file: &Path,
        aside: &Path,
        progress: OnProgress<'_>,
    ) -> Result<Restored> {
        self.check_backups(actor)?;
        restore(&self.db, file, aside, progress).await
    }

    /// "Move to an office database": `office` is opened with the owner's login (and migrated).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn move_to_office(
        &self,
        actor: &Actor,
        office: &crate::app::Crm,
        progress: OnProgress<'_>,
    ) -> Result<Replaced> {
        self.check_backups(actor)?;
        move_to(&self.db, &office.db, progress).await
    }
}
