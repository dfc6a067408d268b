//! A throwaway PostgreSQL for the test binaries, or the server named by `CRM_TEST_DATABASE_URL`.
//!
//! Without the variable, this starts its own server: `initdb` in a temp directory, on a free port,
//! as the `postgres` user when running as root (PostgreSQL refuses root), installing Debian's
//! `postgresql` package first when the binaries are missing and we are root. It is stopped when
//! the test binary exits. A missing PostgreSQL fails loudly with a hint, never skips.
//! Shared by the core suite and the end-to-end suite (`#[path]` include).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

pub struct Server {
    /// URL of the server's maintenance database, for `create database`.
    pub admin_url: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A new empty, migrated database on the test server; returns its URL.
pub async fn postgres_database() -> String {
    let server = SERVER.get_or_init(start_server);
    let name = format!("crm_test_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::SeqCst));
    {
        let _one_at_a_time = CREATE_LOCK.lock().await;
        let admin = crm::db::Db::connect(&server.admin_url).await.expect("connect to the test PostgreSQL");
        let crm::db::Db::Postgres(pool) = &admin else { unreachable!() };
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(pool)
            .await
            .expect("create test database");
        admin.close().await;
    }
    with_database(&server.admin_url, &name)
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').expect("database URL has a path");
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn start_server() -> Server {
    if let Ok(url) = std::env::var("CRM_TEST_DATABASE_URL") {
        return Server { admin_url: url };
    }
    let bin = postgres_bin_dir();
    let dir = std::env::temp_dir().join(format!("crm-test-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir for PostgreSQL");
    let as_root = is_root();
    if as_root {
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir), "chown the PostgreSQL dir");
    }
    let data = dir.join("data");
    let port = free_port();
    pg(
        as_root,
        &bin.join("initdb"),
        &["-D", path(&data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    );
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        path(&dir)
    );
    pg(
        as_root,
        &bin.join("pg_ctl"),
        &["-D", path(&data), "-o", &options, "-l", path(&dir.join("server.log")), "-w", "-t", "60", "start"],
    );
    STOP.set((bin.join("pg_ctl"), data, dir, as_root)).ok();
    // Stop the server when the test binary exits (the harness ends with process::exit).
    unsafe { libc::atexit(stop_server) };
    Server { admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres") }
}

static STOP: OnceLock<(PathBuf, PathBuf, PathBuf, bool)> = OnceLock::new();

extern "C" fn stop_server() {
    if let Some((pg_ctl, data, dir, as_root)) = STOP.get() {
        let mut cmd = pg_command(*as_root, pg_ctl);
        let _ = cmd.args(["-D", path(data), "-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = find_bin_dir() {
        return dir;
    }
    if is_root() {
        eprintln!("PostgreSQL binaries not found: installing Debian's postgresql package");
        run(Command::new("apt-get").arg("update").arg("-qq"), "apt-get update");
        run(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install postgresql",
        );
        if let Some(dir) = find_bin_dir() {
            return dir;
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin.\n\
         Install them (`sudo apt-get install postgresql`) or point CRM_TEST_DATABASE_URL at a server \
         where the harness may create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres"
    );
}

fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("port").port()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn pg_command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn pg(as_root: bool, program: &Path, args: &[&str]) {
    run(pg_command(as_root, program).args(args), &format!("{}", program.display()));
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
