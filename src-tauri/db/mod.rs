//! The one place that knows there are two databases.
//!
//! Every query in the CRM is a [`Query`]: one SQL text with `$n` placeholders (SQLite accepts them
//! too) and its typed arguments. [`Tx`] runs it on whichever backend the [`Db`] was opened on, so
//! no SQL is written twice. Where a dialect must differ, the caller asks [`Tx::backend`] and keeps
//! both variants side by side.

mod query;
mod raw;

pub use query::{Columns, Kind, Query, Value};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::domain::id::ClientId;
use crate::error::{Error, Result};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How [`Db::open_file`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Create,
    Write,
    Read,
}

/// A pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgDb),
}

/// A pool on a PostgreSQL server, and how its statements are prepared there.
#[derive(Clone, Debug)]
pub struct PgDb {
    pool: PgPool,
    /// Statements are prepared once per connection under a name and reused (sqlx's cache), the
    /// fastest way. Off for connections through a pooler in transaction mode that does not carry
    /// prepared statements from one transaction to the next (PgBouncer before 1.21, Debian 12's
    /// 1.18): a server connection serves other people between transactions, where names clash
    /// or are unknown. Then each statement is prepared unnamed, inside its transaction.
    named_statements: bool,
}

impl PgDb {
    fn new(pool: PgPool, named_statements: bool) -> Self {
        Self { pool, named_statements }
    }

    async fn begin(&self) -> Result<PgTx> {
        Ok(PgTx { tx: self.pool.begin().await?, named_statements: self.named_statements })
    }

    /// Whether this pool prepares named statements (see the field).
    pub fn named_statements(&self) -> bool {
        self.named_statements
    }
}

impl std::ops::Deref for PgDb {
    type Target = PgPool;

    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

/// A transaction on a [`PgDb`], which remembers how its statements are prepared.
pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    named_statements: bool,
}

impl PgTx {
    async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for PgTx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// Runs `$body` once per backend with `$pool` bound to the concrete pool or transaction, in the
/// spirit of vaultwarden's `db_run!`: the body is written once and type-checked for each backend.
macro_rules! db_run {
    ($value:expr, $enum:ident, $inner:ident => $body:expr) => {
        match $value {
            $enum::Sqlite($inner) => $body,
            $enum::Postgres($inner) => $body,
        }
    };
}

/// Rows that decode on both backends. Derive `sqlx::FromRow` and it holds.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl Db {
    /// Opens a pool for a `sqlite:` or `postgres:` URL; any other scheme is refused.
    pub async fn connect(url: &str) -> Result<Self> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| Error::Config(format!("bad SQLite URL: {e}")))?
                    .create_if_missing(true)
                    .foreign_keys(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    // SQLite's own 2 MiB of page cache per connection: what every list,
                    // statistic and page reads at a million leads is a few index pages (kept
                    // counts, roll-ups, pages by key), and the rest comes from the OS's file
                    // cache, which all four connections share. 64 MiB each cost the app up to
                    // 400 MB more memory at a million leads for no figure of the benchmark;
                    // 8 MiB each still left the app 87 MB above an empty database after every
                    // page, where 2 MiB left it 42 MB above, and no figure lost more than 3 ms.
                    .pragma("cache_size", "-2048")
                    .pragma("temp_store", "memory");
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    // the planner's statistics: what SQLite advises for long-lived connections
                    // (0x10002: ANALYZE of the tables that grew or shrank much since their last
                    // one; plus 0x10, which an explicit mask drops: the analysis limit that keeps
                    // it to milliseconds at a million rows). A file made empty by the
                    // migrations otherwise keeps "no rows" for its tables for good, and a
                    // period's sales at 2,000 clients took 17 s instead of 8 ms.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // best effort: a busy file must not refuse the connection
                            if let Err(error) = sqlx::query("pragma optimize = 0x10012").execute(conn).await {
                                tracing::info!(%error, "pragma optimize");
                            }
                            Ok(())
                        })
                    })
                    // a connection loads the statistics once: one opened before a bulk load in
                    // this process (the demo, a restore) would plan with the old ones for as
                    // long as it lives
                    .before_acquire(|_, meta| Box::pin(async move { Ok(!opened_before_statistics(meta.age)) }))
                    .connect_with(options.optimize_on_close(true, None))
                    .await?;
                Ok(Self::Sqlite(pool))
            }
            Backend::Postgres => {
                let options =
                    PgConnectOptions::from_str(url).map_err(|e| Error::Config(format!("bad PostgreSQL URL: {e}")))?;
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                // an owner's URL reaches the server itself: migrations hold session locks,
                // which a pooler in transaction mode cannot keep
                Ok(Self::Postgres(PgDb::new(pool, true)))
            }
        }
    }

    /// A SQLite file of its own, outside the pools of [`Db::connect`]: a backup being made or
    /// read. One connection, and a rollback journal: the file stays one file, nothing beside it.
    pub async fn open_file(path: &std::path::Path, mode: FileMode) -> Result<Self> {
        let mut options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(mode == FileMode::Create)
            .read_only(mode == FileMode::Read)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB of page cache for a file being filled row by row (an office database's
            // backup: each row goes into its indexes too); the pool's own 2 MiB for one read
            // through or sealed (a million leads' backup, whose copy is read through once for
            // its checksums: 4.4 instead of 5.1 s, at most 42 instead of 155 MB for the CLI).
            .pragma("cache_size", if mode == FileMode::Create { "-65536" } else { "-2048" });
        if mode != FileMode::Read {
            // (a reader leaves the journal as it is: changing it needs a write)
            options = options.journal_mode(SqliteJournalMode::Delete);
        }
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        Ok(Self::Sqlite(pool))
    }

    /// The newest schema version this build knows for `backend`.
    pub fn latest_version(backend: Backend) -> i64 {
        match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or_default()
    }

    /// The schema version this database is at (0 before the first migration).
    pub async fn schema_version(&self) -> Result<i64> {
        let mut tx = self.read().await?;
        let applied: Option<i64> =
            tx.scalar(Query::new("select max(version) from _sqlx_migrations where success = true")).await?;
        tx.commit().await?;
        Ok(applied.unwrap_or_default())
    }

    /// A signed-in person's own pool on an office PostgreSQL: connected as their login role,
    /// which the first connection proves (its error is the sign-in's answer). A person works one
    /// screen at a time: two connections, released when idle, so that an office of fifty
    /// computers stays well inside the server's default hundred. `named_statements`: see
    /// [`PgDb`].
    pub async fn connect_as(options: PgConnectOptions, named_statements: bool) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(120))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self::Postgres(PgDb::new(pool, named_statements)))
    }

    /// A pool that never connects by itself: the office server's address, for sign-in to copy
    /// and complete with a person's own login.
    pub fn gateway(options: PgConnectOptions, named_statements: bool) -> Self {
        let pool = PgPoolOptions::new().max_connections(1).min_connections(0).connect_lazy_with(options);
        Self::Postgres(PgDb::new(pool, named_statements))
    }

    /// Opens and closes one connection with `options`: proves that they are accepted.
    pub async fn connect_once(options: PgConnectOptions) -> Result<()> {
        use sqlx::Connection as _;
        sqlx::PgConnection::connect_with(&options).await?.close().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date. Safe to run on every start. On PostgreSQL this must be the
    /// database owner's connection; `role_prefix` names the server roles that a first migration
    /// creates (see migrations/postgres/0008_office_roles.sql).
    pub async fn migrate(&self, role_prefix: &str) -> Result<()> {
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await.map_err(refused_migration)?,
            Self::Postgres(pool) => {
                // one connection of its own, which tells the migrations the prefix
                let options = (*pool.connect_options()).clone().options([("crm.role_prefix", role_prefix)]);
                let migrating = PgPoolOptions::new().max_connections(1).connect_with(options).await?;
                let result = POSTGRES_MIGRATIONS.run(&migrating).await;
                migrating.close().await;
                result.map_err(|error| refused_office_migration(error, role_prefix))?;
            }
        }
        Ok(())
    }

    /// Brings the schema up to `version` only: an upgrade test starts from the schema of an
    /// earlier release.
    pub async fn migrate_to(&self, role_prefix: &str, version: i64) -> Result<()> {
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run_to(version, pool).await?,
            Self::Postgres(pool) => {
                let options = (*pool.connect_options()).clone().options([("crm.role_prefix", role_prefix)]);
                let migrating = PgPoolOptions::new().max_connections(1).connect_with(options).await?;
                let result = POSTGRES_MIGRATIONS.run_to(version, &migrating).await;
                migrating.close().await;
                result?;
            }
        }
        Ok(())
    }

    /// Checks that the schema is the one this build knows, for a connection that may not migrate
    /// (a staff member's own login on an office database): an older schema needs the owner's
    /// `crm migrate`, a newer one a newer app.
    pub async fn check_schema(&self) -> Result<()> {
        let latest = Self::latest_version(self.backend());
        match self.schema_version().await? {
            v if v < latest => Err(Error::state("schema_outdated")),
            v if v > latest => Err(Error::state("app_outdated")),
            _ => Ok(()),
        }
    }

    /// A transaction for reading: list pages and their totals see one snapshot.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(pool) => pool.begin().await?.into(),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction for writing. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so concurrent writers wait for each other (busy timeout) instead of failing on upgrade.
    pub async fn write(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(pool) => pool.begin_with("BEGIN IMMEDIATE").await?.into(),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A write transaction for replacing a whole database (a restore, a move): on SQLite on a connection of its own that keeps temporary data in files, not
    /// memory (deleting and inserting millions of rows journals them), with a large page cache,
    /// and is closed afterwards (its memory with it).
    pub async fn write_large(&self) -> Result<Tx> {
        match self {
            Self::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                conn.close_on_drop();
                sqlx::query("pragma temp_store = file").execute(&mut *conn).await?;
                // millions of rows into every index: a large cache, freed with the connection
                sqlx::query("pragma cache_size = -65536").execute(&mut *conn).await?;
                Ok(sqlx::Transaction::begin(conn, Some(sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE")))
                    .await?
                    .into())
            }
            Self::Postgres(_) => self.write().await,
        }
    }

    /// After a bulk load has committed (the demo, a restore, a move): on PostgreSQL, what
    /// autovacuum would do a minute later, now: merge the trigram indexes' pending lists (which
    /// every search reads whole until then), set the visibility map (without it, skipping half a
    /// million index entries for "go to page" visits as many rows: 390 instead of 36 ms at a
    /// million leads) and the planner's statistics. Only the owner may vacuum; anyone else gets a notice and nothing
    /// changes. Best effort: the load has committed, and autovacuum will come anyway, so a
    /// failure here is logged, not reported. On SQLite: [`Db::refresh_statistics`].
    pub async fn settle_after_bulk_load(&self) {
        self.refresh_statistics().await;
        if let Self::Postgres(pool) = self {
            // not in a transaction: VACUUM refuses to run inside one
            let tables =
                "leads, clients, contracts, tasks, audit_log, stat_days, stat_months, stat_day_totals, lead_counts, list_counts, signing_days";
            // (the load's commit was flushed: see `stats::finish_bulk_load`)
            let vacuum = sqlx::query(sqlx::AssertSqlSafe(format!("vacuum (analyze) {tables}")));
            if let Err(error) = vacuum.execute(&pool.pool).await {
                tracing::warn!(%error, "vacuum after a bulk load");
            }
        }
    }

    /// After many rows were written at once (a bulk load, a large import): on SQLite, fresh
    /// planner statistics for the tables that changed much, and no pooled connection planning
    /// with the old ones (see [`Db::connect`]). PostgreSQL's autovacuum analyses on its own.
    pub async fn refresh_statistics(&self) {
        if let Self::Sqlite(pool) = self {
            if let Err(error) = sqlx::query("pragma optimize").execute(pool).await {
                tracing::warn!(%error, "pragma optimize after many rows");
            }
            statistics_changed();
        }
    }

    /// A pool of one connection to this SQLite database with the pool's own options, opened by
    /// the calling thread (so its connection's worker thread is started from there, and runs at
    /// that thread's priority): the daily backup reads through it on a thread of low priority.
    /// On PostgreSQL the pool itself (the server does the work).
    pub async fn alone(&self) -> Result<Self> {
        match self {
            Self::Sqlite(pool) => {
                let options = (*pool.connect_options()).clone();
                let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
                Ok(Self::Sqlite(pool))
            }
            Self::Postgres(_) => Ok(self.clone()),
        }
    }

    pub async fn close(&self) {
        db_run!(self, Db, pool => pool.close().await)
    }
}

/// Why the schema could not be brought up to date, in words a person can act on: a database
/// that a newer app has updated (a file copied from another computer, an office server already
/// migrated by a newer version) is `app_outdated`; one whose applied step differs from this
/// build's (made by another build of the CRM) is `schema_differs`; one whose update failed
/// part-way (a step recorded as not done) is `schema_dirty`. Anything else stays the
/// database's own error, for the log.
fn refused_migration(error: sqlx::migrate::MigrateError) -> Error {
    use sqlx::migrate::MigrateError;
    match error {
        MigrateError::VersionMissing(_) => Error::state("app_outdated"),
        MigrateError::VersionMismatch(version) => {
            Error::State { code: "schema_differs", params: vec![("version", version.to_string())] }
        }
        MigrateError::Dirty(version) => {
            Error::State { code: "schema_dirty", params: vec![("version", version.to_string())] }
        }
        other => Error::Migrate(other),
    }
}

/// [`refused_migration`] on PostgreSQL, where a first migration also refuses a role prefix that
/// another database of the server already uses (0008_office_roles.sql raises it with the other
/// database's name in its message): the owner is told which prefix and how to choose another.
fn refused_office_migration(error: sqlx::migrate::MigrateError, role_prefix: &str) -> Error {
    use sqlx::migrate::MigrateError;
    if let MigrateError::Execute(sqlx::Error::Database(db))
    | MigrateError::ExecuteMigration(sqlx::Error::Database(db), _) = &error
    {
        const MARK: &str = "already serve another database (CRM roles of database ";
        if let Some((_, rest)) = db.message().split_once(MARK) {
            let database = rest.split_once(')').map_or(rest, |(name, _)| name).to_owned();
            return Error::State {
                code: "role_prefix_taken",
                params: vec![("prefix", role_prefix.to_owned()), ("database", database)],
            };
        }
    }
    refused_migration(error)
}

/// When this process last changed SQLite's planner statistics in bulk, in milliseconds since
/// [`STATISTICS_EPOCH`] (0: never).
static STATISTICS_CHANGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static STATISTICS_EPOCH: std::sync::LazyLock<std::time::Instant> = std::sync::LazyLock::new(std::time::Instant::now);

/// Marks the statistics changed now: every pooled SQLite connection opened before is closed at
/// its next acquisition (see [`Db::connect`]) and a new one loads them.
fn statistics_changed() {
    let now = u64::try_from(STATISTICS_EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX).max(1);
    STATISTICS_CHANGED.store(now, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a connection of this `age` was opened before the statistics last changed.
fn opened_before_statistics(age: Duration) -> bool {
    let changed = STATISTICS_CHANGED.load(std::sync::atomic::Ordering::Relaxed);
    if changed == 0 {
        return false;
    }
    let since = STATISTICS_EPOCH.elapsed().saturating_sub(Duration::from_millis(changed));
    age > since
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(Error::State { code: "url_scheme", params: vec![("scheme", scheme)] }),
        }
    }
}

/// Runs `$body` with `$tx` bound to a write transaction of `$db` ([`Db::write`]) and commits it;
/// evaluates to the body's `Result`. The body runs again in a new transaction when [`Retry`] says
/// so: when the office server rolled it back because it deadlocked with another computer's, or
/// could not serialize it (two people saving at the same moment both succeed, and neither sees
/// the server's error), or when the connection broke before the commit (the server restarted;
/// nothing was committed). The body must therefore be repeatable: it reads what it needs afresh,
/// and `return` in it leaves the body, not the function.
///
/// A macro rather than a function taking an async closure: the future of such a function is
/// not `Send` (rust-lang/rust#110338), and the window's commands must be.
macro_rules! transact {
    ($db:expr, |$tx:ident| $body:block) => {
        $crate::db::retried!($db.write(), false, |$tx| $body)
    };
}
pub(crate) use transact;

/// Runs `$body` with `$tx` bound to a read transaction of `$db` ([`Db::read`]); evaluates to the
/// body's `Result`. A connection that broke under it (the office server restarted, the network
/// dropped) is tried again on a new one: a read has nothing to undo, and the person sees the page
/// rather than an error. Like [`transact!`], the body must be repeatable.
macro_rules! reading {
    ($db:expr, |$tx:ident| $body:block) => {
        $crate::db::retried!($db.read(), true, |$tx| $body)
    };
}
pub(crate) use reading;

/// The loop of [`transact!`] and [`reading!`]: begins with `$begin`, runs the body, and lets
/// [`Retry`] commit or decide to run it again.
macro_rules! retried {
    ($begin:expr, $read:expr, |$tx:ident| $body:block) => {{
        let mut retry = $crate::db::Retry::default();
        loop {
            let mut tx = match $begin.await {
                Ok(tx) => tx,
                Err(e) => match retry.failed(e).await {
                    Some(e) => break Err(e),
                    None => continue,
                },
            };
            let result: $crate::error::Result<_> = async {
                let $tx = &mut tx;
                $body
            }
            .await;
            if let Some(done) = retry.settle(result, tx, $read).await {
                break done;
            }
        }
    }};
}
pub(crate) use retried;

/// How many times [`transact!`] runs a transaction again after a deadlock or serialization
/// failure.
pub const RETRIES: u32 = 6;

/// How many times [`transact!`] and [`reading!`] try a new connection after one broke: a restart
/// leaves every pooled connection of a person (two) dead, and the server takes a moment to come
/// back. The pauses add up to about 3 s.
pub const RECONNECTS: u32 = 4;

/// What [`transact!`] and [`reading!`] know of the attempts so far.
#[derive(Debug, Default)]
pub struct Retry {
    attempt: u32,
    reconnects: u32,
}

impl Retry {
    /// Finishes an attempt that ended with `result`: commits `tx` after a success and gives the
    /// outcome; after a failure rolls it back and says what [`Retry::failed`] says. A write's
    /// connection that broke under the commit leaves the outcome unknown: the person is told so
    /// (`outcome_unknown`), and nothing is retried; a `read` is simply read again.
    pub async fn settle<T>(&mut self, result: Result<T>, tx: Tx, read: bool) -> Option<Result<T>> {
        let error = match result {
            Ok(value) => match tx.commit().await {
                Err(e) if e.is_connection_lost() && !read => {
                    tracing::warn!("connection lost under a commit: {e}");
                    return Some(Err(Error::state("outcome_unknown")));
                }
                Err(e) => e,
                Ok(()) => return Some(Ok(value)),
            },
            Err(e) => {
                drop(tx);
                e
            }
        };
        self.failed(error).await.map(Err)
    }

    /// After `error` (nothing committed): `None` when the work should run again, after a short
    /// random pause for a deadlock or a growing one for a lost connection; the error otherwise.
    pub async fn failed(&mut self, error: Error) -> Option<Error> {
        if error.is_transient() && self.attempt < RETRIES {
            self.attempt += 1;
            tracing::info!(attempt = self.attempt, "transaction retried: {error}");
            tokio::time::sleep(backoff(self.attempt)).await;
            None
        } else if error.is_connection_lost() && self.reconnects < RECONNECTS {
            self.reconnects += 1;
            tracing::warn!(attempt = self.reconnects, "retried on a new connection: {error}");
            const PAUSES_MS: [u64; RECONNECTS as usize] = [100, 300, 800, 1600];
            tokio::time::sleep(Duration::from_millis(PAUSES_MS[self.reconnects as usize - 1])).await;
            None
        } else if error.is_refused_by_server() {
            // an administrator took a role away from this person after the app last read their
            // permissions: the office server refused what the app still thought allowed. (Also
            // what a missing grant would look like: the log line says which statement.)
            tracing::warn!("refused by the office server: {error}");
            Some(Error::state("rights_changed"))
        } else {
            Some(error)
        }
    }
}

/// The pause before retry `attempt` (1-based): random, up to 10 ms doubled per attempt (at most
/// 320 ms), so that two transactions that collided do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng as _;
    let ceiling = 10u64 << attempt.min(5);
    Duration::from_millis(rand::thread_rng().gen_range(ceiling / 2..=ceiling))
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(PgTx),
}

impl From<Transaction<'static, Sqlite>> for Tx {
    fn from(tx: Transaction<'static, Sqlite>) -> Self {
        Self::Sqlite(tx)
    }
}

/// Binds every argument of a [`Query`] to a sqlx query of either backend.
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Value::I64(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                Value::Date(v) => q.bind(v),
                Value::Timestamp(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Decodes the columns of one row of either backend as `$kinds` say.
macro_rules! decode_values {
    ($row:expr, $kinds:expr) => {{
        let row = $row;
        let mut values = Vec::with_capacity($kinds.len());
        for (i, kind) in $kinds.iter().enumerate() {
            values.push(match kind {
                Kind::I64 => Value::I64(sqlx::Row::try_get(row, i)?),
                Kind::Text => Value::Text(sqlx::Row::try_get(row, i)?),
                Kind::Bool => Value::Bool(sqlx::Row::try_get(row, i)?),
                Kind::Date => Value::Date(sqlx::Row::try_get(row, i)?),
                Kind::Timestamp => Value::Timestamp(sqlx::Row::try_get(row, i)?),
                Kind::Bytes => Value::Bytes(sqlx::Row::try_get(row, i)?),
            });
        }
        values
    }};
}

/// Runs a row-returning [`Query`] with `$method` on either backend, with the placeholders each
/// backend binds fastest.
macro_rules! run_as {
    ($tx:expr, $query:expr, $row:ty, $method:ident) => {
        match $tx {
            Tx::Sqlite(tx) => {
                let (sql, args) = $query.into_sqlite_parts();
                bind_all!(sqlx::query_as::<_, $row>(sql), args).$method(&mut **tx).await?
            }
            Tx::Postgres(tx) => {
                let (sql, args) = $query.into_parts();
                bind_all!(sqlx::query_as::<_, $row>(sql).persistent(tx.named_statements), args)
                    .$method(&mut **tx)
                    .await?
            }
        }
    };
}

/// What a writer may need to hold alone while it checks and then acts (see [`Tx::lock`]).
#[derive(Debug, Clone, Copy)]
pub enum Lock {
    /// Users, their roles and role permissions: "no user exists yet" and "an administrator
    /// remains" are checks over many rows that a concurrent writer could invalidate.
    Users,
    /// One client's contracts, whose count and revenue the client row keeps.
    Client(ClientId),
}

impl Lock {
    /// One bigint key per lock: the kind in the top bits, the row id below.
    fn key(self) -> i64 {
        match self {
            Self::Users => 1 << 48,
            Self::Client(id) => (2 << 48) | (id.get() & ((1 << 48) - 1)),
        }
    }
}

impl Tx {
    /// Holds `lock` until this transaction ends, so a check-then-write cannot interleave with
    /// another writer's. On SQLite a write transaction already holds the database's only write
    /// lock (`BEGIN IMMEDIATE`), so there is nothing to do; on PostgreSQL, at READ COMMITTED, a
    /// transaction-scoped advisory lock makes the second writer wait, and its next statement then
    /// sees the first one's committed rows.
    pub async fn lock(&mut self, lock: Lock) -> Result<()> {
        if let Self::Postgres(tx) = self {
            let query = sqlx::query("select pg_advisory_xact_lock($1)").persistent(tx.named_statements);
            query.bind(lock.key()).execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        db_run!(self, Tx, tx => tx.commit().await?);
        Ok(())
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, query: Query) -> Result<u64> {
        Ok(match self {
            Self::Sqlite(tx) => {
                let (sql, args) = query.into_sqlite_parts();
                bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected()
            }
            Self::Postgres(tx) => {
                let (sql, args) = query.into_parts();
                bind_all!(sqlx::query(sql).persistent(tx.named_statements), args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
        })
    }

    pub async fn fetch_all<T: Row>(&mut self, query: Query) -> Result<Vec<T>> {
        Ok(run_as!(self, query, T, fetch_all))
    }

    pub async fn fetch_optional<T: Row>(&mut self, query: Query) -> Result<Option<T>> {
        Ok(run_as!(self, query, T, fetch_optional))
    }

    pub async fn fetch_one<T: Row>(&mut self, query: Query) -> Result<T> {
        Ok(run_as!(self, query, T, fetch_one))
    }

    /// Runs a query and hands each row to `each` as it arrives, without holding them all;
    /// returns how many there were.
    pub async fn for_each<T: Row>(&mut self, query: Query, mut each: impl FnMut(T) -> Result<()>) -> Result<u64> {
        use futures_util::TryStreamExt as _;
        let mut count = 0u64;
        match self {
            Self::Sqlite(tx) => {
                let (sql, args) = query.into_sqlite_parts();
                let mut rows = bind_all!(sqlx::query_as::<_, T>(sql), args).fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    each(row)?;
                    count += 1;
                }
            }
            Self::Postgres(tx) => {
                let (sql, args) = query.into_parts();
                let query = sqlx::query_as::<_, T>(sql).persistent(tx.named_statements);
                let mut rows = bind_all!(query, args).fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    each(row)?;
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    /// Rows whose columns are known only at run time (copying whole tables): each column
    /// decoded as `kinds` says, in order.
    pub async fn fetch_values(&mut self, query: Query, kinds: &[Kind]) -> Result<Vec<Vec<Value>>> {
        let mut out = Vec::new();
        self.for_each_values(query, kinds, |row| {
            out.push(row);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// [`Tx::for_each`] for rows read as `kinds` say: the way to read a whole table. On SQLite
    /// the rows come straight from the statement (see `raw.rs`: 3-4x faster than through sqlx).
    pub async fn for_each_values(
        &mut self,
        query: Query,
        kinds: &[Kind],
        mut each: impl FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<u64> {
        use futures_util::TryStreamExt as _;
        match self {
            Self::Sqlite(tx) => {
                let (sql, args) = query.into_sqlite_parts();
                raw::for_each(tx, sql.as_str(), &args, kinds, each).await
            }
            Self::Postgres(tx) => {
                let (sql, args) = query.into_parts();
                let query = sqlx::query(sql).persistent(tx.named_statements);
                let mut rows = bind_all!(query, args).fetch(&mut **tx);
                let mut count = 0u64;
                while let Some(row) = rows.try_next().await? {
                    each(decode_values!(&row, kinds))?;
                    count += 1;
                }
                Ok(count)
            }
        }
    }

    /// The first column of the one row a query returns, e.g. a count or a new id.
    pub async fn scalar<T>(&mut self, query: Query) -> Result<T>
    where
        (T,): Row,
    {
        Ok(self.fetch_one::<(T,)>(query).await?.0)
    }
}
