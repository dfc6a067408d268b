//! A throwaway PostgreSQL for the test binaries, or the server named by `CRM_TEST_DATABASE_URL`.
//!
//! Without the variable, this starts its own server: `initdb` in a temp directory, on a free port,
//! as the `postgres` user when running as root (PostgreSQL refuses root), installing Debian's
//! `postgresql` package first when the binaries are missing and we are root. It is stopped when
//! the test binary exits. A missing PostgreSQL fails loudly with a hint, never skips.
//!
//! The server authenticates every connection with a password (SCRAM-SHA-256), the superuser's
//! included, as an office server does: staff sign in as their own login roles, and the tests
//! prove that a wrong password is refused by the server itself.
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

/// The superuser's password on the throwaway server.
pub const SUPERUSER_PASSWORD: &str = "owner-secret";

/// A new empty database on the test server; returns its URL (as its owner, the superuser).
pub async fn postgres_database() -> String {
    postgres_database_with("").await
}

/// A new empty database made with `options` after `create database NAME` (e.g. `template
/// template0 lc_ctype 'C'`); returns its URL as [`postgres_database`] does.
#[allow(dead_code)]
pub async fn postgres_database_with(options: &str) -> String {
    let server = SERVER.get_or_init(start_server);
    new_database(server, options).await
}

/// The prefix of the PostgreSQL roles of the test database at `url`: roles belong to the whole
/// server, and every test database has users called `admin`, `olga`, ...
#[allow(dead_code)]
pub fn role_prefix(url: &str) -> String {
    let name = url.split('?').next().unwrap_or(url).rsplit('/').next().unwrap_or_default();
    match name.strip_prefix("crm_test_").and_then(|rest| rest.split_once('_')) {
        Some((pid, n)) => format!("t{pid}x{n}"),
        None => "crm".into(),
    }
}

async fn new_database(server: &Server, options: &str) -> String {
    let name = format!("crm_test_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::SeqCst));
    {
        let _one_at_a_time = CREATE_LOCK.lock().await;
        let admin = crm::db::Db::connect(&server.admin_url).await.expect("connect to the test PostgreSQL");
        let crm::db::Db::Postgres(pool) = &admin else { unreachable!() };
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name} {options}")))
            .execute(&**pool)
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
    let pwfile = dir.join("pwfile");
    std::fs::write(&pwfile, SUPERUSER_PASSWORD).expect("write the superuser's password file");
    if as_root {
        run(Command::new("chown").args(["postgres:postgres"]).arg(&pwfile), "chown the password file");
    }
    let pwfile_arg = format!("--pwfile={}", path(&pwfile));
    pg(
        as_root,
        &bin.join("initdb"),
        &[
            "-D",
            path(&data),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            &pwfile_arg,
            "-E",
            "UTF8",
            // byte-order collation (fast, the same on every server), but letters classified as
            // letters: with LC_CTYPE=C pg_trgm sees no Cyrillic letter and its index names every
            // row for a Cyrillic search (an office server needs a UTF-8 LC_CTYPE: see README)
            "--locale=C",
            "--lc-ctype=C.UTF-8",
            "--no-sync",
        ],
    );
    let (ca, cert, key) = make_certificates(&dir, as_root);
    CA_FILE.set(ca).ok();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
         -c ssl=on -c ssl_cert_file={} -c ssl_key_file={} -c shared_buffers={}",
        path(&dir),
        path(&cert),
        path(&key),
        SHARED_BUFFERS.get().map_or("128MB", String::as_str),
    );
    pg(
        as_root,
        &bin.join("pg_ctl"),
        &["-D", path(&data), "-o", &options, "-l", path(&dir.join("server.log")), "-w", "-t", "60", "start"],
    );
    STOP.set((bin.join("pg_ctl"), data, dir, as_root)).ok();
    // Stop the server when the test binary exits (the harness ends with process::exit).
    unsafe { libc::atexit(stop_server) };
    let login = format!("postgres:{SUPERUSER_PASSWORD}");
    // TLS is tested where it is the point (tests/core/office.rs); elsewhere a handshake per
    // connection would only double the suite's time.
    Server { admin_url: format!("postgres://{login}@127.0.0.1:{port}/postgres?sslmode=disable") }
}

static STOP: OnceLock<(PathBuf, PathBuf, PathBuf, bool)> = OnceLock::new();
static SHARED_BUFFERS: OnceLock<String> = OnceLock::new();

/// The throwaway server's buffer cache, when set before it starts: the benchmark sizes it as an
/// office server would be (PostgreSQL's default, 128 MB, holds a tenth of a million leads'
/// indexes); the tests keep the default.
#[allow(dead_code)] // used by the benchmark only
pub fn set_shared_buffers(size: &str) {
    SHARED_BUFFERS.set(size.to_owned()).ok();
}
static PGBOUNCER: OnceLock<(u16, PathBuf)> = OnceLock::new();

/// The port of a PgBouncer in transaction mode in front of the test server (started once, with
/// two server connections per user and database, so that people's transactions share them),
/// as an office may run Debian's package: SCRAM authentication of each login role through
/// `auth_query`, startup parameters it does not know refused. Installs the `pgbouncer` package
/// when missing and we are root.
#[allow(dead_code)] // used by the core suite only
pub fn pgbouncer_port() -> u16 {
    PGBOUNCER.get_or_init(start_pgbouncer).0
}

fn start_pgbouncer() -> (u16, PathBuf) {
    let server = SERVER.get_or_init(start_server);
    let bin = PathBuf::from("/usr/sbin/pgbouncer");
    if !bin.exists() && is_root() {
        eprintln!("pgbouncer not found: installing Debian's pgbouncer package");
        run(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends", "pgbouncer"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install pgbouncer",
        );
    }
    assert!(
        bin.exists(),
        "PgBouncer was not found at {}: install it (`sudo apt-get install pgbouncer`)",
        bin.display()
    );
    let target: sqlx::postgres::PgConnectOptions = server.admin_url.parse().expect("the server's URL");
    let dir = std::env::temp_dir().join(format!("crm-test-pgbouncer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir for PgBouncer");
    let port = free_port();
    let superuser = target.get_username();
    let password = server
        .admin_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(login, _)| login.split_once(':').map(|(_, p)| p.to_owned()));
    std::fs::write(dir.join("userlist.txt"), format!("\"{superuser}\" \"{}\"\n", password.unwrap_or_default()))
        .expect("PgBouncer's user list");
    let config = format!(
        "[databases]\n* = host={host} port={server_port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
         unix_socket_dir =\nauth_type = scram-sha-256\nauth_file = {dir}/userlist.txt\nauth_user = {superuser}\n\
         auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename = $1\npool_mode = transaction\n\
         default_pool_size = 2\nmax_client_conn = 500\nlogfile = {dir}/pgbouncer.log\npidfile = {dir}/pgbouncer.pid\n",
        host = target.get_host(),
        server_port = target.get_port(),
        dir = path(&dir),
    );
    std::fs::write(dir.join("pgbouncer.ini"), config).expect("PgBouncer's configuration");
    let as_root = is_root();
    if as_root {
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir), "chown the PgBouncer dir");
    }
    pg(as_root, &bin, &["-d", path(&dir.join("pgbouncer.ini"))]);
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 20, "PgBouncer did not start: see {}/pgbouncer.log", dir.display());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // (functions registered later run first: PgBouncer stops before the server)
    unsafe { libc::atexit(stop_pgbouncer) };
    (port, dir)
}
static CA_FILE: OnceLock<PathBuf> = OnceLock::new();

/// The certificate authority that signed the throwaway server's certificate (for `localhost`
/// and 127.0.0.1), or `CRM_TEST_CA_FILE` for a server of `CRM_TEST_DATABASE_URL`.
#[allow(dead_code)] // used by the core suite only
pub fn ca_file() -> PathBuf {
    if let Ok(file) = std::env::var("CRM_TEST_CA_FILE") {
        return PathBuf::from(file);
    }
    CA_FILE.get().cloned().unwrap_or_else(|| {
        panic!(
            "the TLS tests need the CA of the server's certificate: with CRM_TEST_DATABASE_URL, set CRM_TEST_CA_FILE"
        )
    })
}

/// A CA and a server certificate signed by it, made with openssl: the server speaks TLS as an
/// office server should, and the tests check its certificate as `verify-full` does.
fn make_certificates(dir: &Path, as_root: bool) -> (PathBuf, PathBuf, PathBuf) {
    let file = |name: &str| dir.join(name);
    let openssl = |args: &[&str], what: &str| run(Command::new("openssl").args(args).current_dir(dir), what);
    std::fs::write(
        file("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the certificate extensions");
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3",
            "-subj",
            "/CN=CRM test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        "openssl: the test CA (install Debian's openssl package)",
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        "openssl: the server's key",
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "3",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
        "openssl: the server's certificate",
    );
    if as_root {
        run(
            Command::new("chown").args(["postgres:postgres", "server.key", "server.pem"]).current_dir(dir),
            "chown the server key",
        );
    }
    run(Command::new("chmod").args(["600", "server.key"]).current_dir(dir), "chmod the server key");
    (file("ca.pem"), file("server.pem"), file("server.key"))
}

/// Restarts the throwaway server as an office server's restart would: connected clients are cut
/// (`fast`), and it is back on the same port a moment later. Only for the server this harness
/// started (not one of `CRM_TEST_DATABASE_URL`).
#[allow(dead_code)] // used by the soak only
pub fn restart_server() {
    let (pg_ctl, data, dir, as_root) = STOP.get().expect("a restart needs the harness's own server");
    let log = dir.join("server.log");
    pg(*as_root, pg_ctl, &["-D", path(data), "-l", path(&log), "-m", "fast", "-w", "-t", "60", "restart"]);
}

extern "C" fn stop_pgbouncer() {
    if let Some((_, dir)) = PGBOUNCER.get() {
        if let Ok(pid) = std::fs::read_to_string(dir.join("pgbouncer.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).output();
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

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
