//! The window at N leads (`cargo xtask bench --window [--leads N] [--keep FILE] [--backend
//! sqlite|postgres|both]`): the release app in its webview under Xvfb, driven over WebDriver, on
//! a SQLite file of demo data, and as an office computer on a throwaway PostgreSQL database of
//! the same data (each person signing in as their own role).
//!
//! - Each figure is the time from a click (or a typed search, a changed period) to the painted
//!   result: measured inside the page, from the event to the frame painted after every command
//!   it caused has answered (`window.__crmCalls` in ui/js/api.js), median of several runs.
//! - The memory (PSS) of the app and its WebKit processes after a freshly started app visited
//!   every page, at N leads and on an empty database, and the difference; and at N leads after
//!   every click above too. Each with its anonymous part.
//!
//! `--keep FILE` reuses (or keeps) the generated data, as `cargo xtask bench --keep` does: the
//! same users (`admin`, `manager`, ... with `bench-password`).

#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../common/pg.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::{App, Launch};
use serde_json::json;

const PASSWORD: &str = "bench-password";
const RUNS: usize = 5;
const PAUSE_MS: u64 = 500;

struct Args {
    leads: u64,
    keep: Option<PathBuf>,
    sqlite: bool,
    postgres: bool,
}

fn args() -> Args {
    let mut args = Args { leads: 1_000_000, keep: None, sqlite: true, postgres: true };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--leads" => args.leads = it.next().and_then(|v| v.parse().ok()).expect("--leads N"),
            "--keep" => args.keep = Some(it.next().expect("--keep FILE").into()),
            "--backend" => match it.next().as_deref() {
                Some("sqlite") => args.postgres = false,
                Some("postgres") => args.sqlite = false,
                Some("both") => {}
                other => panic!("--backend sqlite|postgres|both, not {other:?}"),
            },
            "--bench" | "--window" => {}
            other => panic!("unknown argument {other}; use --leads N, --keep FILE, --backend B"),
        }
    }
    args
}

/// Runs the CLI on `url`; panics with its message when it fails.
fn cli(url: &str, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["--database-url", url])
        .args(args)
        .env("CRM_ROLE_PREFIX", pg::role_prefix(url))
        .env("CRM_ADMIN_PASSWORD", PASSWORD)
        .env("CRM_PASSWORD", PASSWORD)
        .env("CRM_DEMO_PASSWORD", PASSWORD)
        .output()
        .expect("run crm");
    assert!(out.status.success(), "crm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A database file of `leads` demo leads in `dir` (copied from `keep` when it exists; kept
/// there when it did not).
fn data(dir: &Path, leads: u64, keep: Option<&Path>) -> String {
    let file = dir.join("window.db");
    let url = format!("sqlite://{}", file.display());
    if let Some(kept) = keep.filter(|k| k.exists()) {
        std::fs::copy(kept, &file).expect("copy the kept data");
        println!("(the data of an earlier run, kept in {})", kept.display());
        // a file kept by an older build: its upgrade (seconds at a million leads) before the
        // app starts, not inside the app's first screen the benchmark waits for
        let started = std::time::Instant::now();
        cli(&url, &["migrate"]);
        println!("{:<46} {:>10.1} s", "migrate the kept data (CLI)", started.elapsed().as_secs_f64());
        return url;
    }
    generate(&url, leads);
    if let Some(kept) = keep.filter(|_| leads > 0) {
        std::fs::copy(&file, kept).expect("keep the data");
    }
    url
}

/// The first administrator and `leads` demo leads in the database at `url` (the owner's login).
fn generate(url: &str, leads: u64) {
    let started = std::time::Instant::now();
    cli(url, &["create-admin", "--username", "admin"]);
    if leads > 0 {
        cli(url, &["demo", "--seed", "1", "--leads", &leads.to_string(), "--user", "admin"]);
        println!("{:<46} {:>10.1} s", "generate demo data (CLI)", started.elapsed().as_secs_f64());
    }
}

/// A new database of `leads` demo leads on the throwaway PostgreSQL (the owner's URL).
async fn office(leads: u64) -> String {
    let url = pg::postgres_database().await;
    generate(&url, leads);
    if leads > 0 {
        // what autovacuum would still do after a million new rows (`crm demo` vacuums the
        // lists' tables, not every one), done before the clicks as on an office server a while
        // after the data came: a run without it had its frames 80-120 ms later, the server
        // busy on the same two cores
        let started = std::time::Instant::now();
        let mut connection =
            <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.expect("the office database");
        sqlx::raw_sql("vacuum (analyze)").execute(&mut connection).await.expect("vacuum");
        println!("{:<46} {:>10.1} s", "vacuum (analyze) the new data", started.elapsed().as_secs_f64());
    }
    url
}

/// How an office computer reaches the database at `url`: a settings folder whose `[office]`
/// names the server (people sign in as themselves, as on the first-run screen's office database).
fn office_computer(url: &str) -> tempfile::TempDir {
    // postgres://OWNER:PASSWORD@HOST:PORT/DB?...
    let rest = url.trim_start_matches("postgres://");
    let (_, rest) = rest.split_once('@').expect("a login in the URL");
    let (host_port, database) = rest.split_once('/').expect("a database in the URL");
    let (host, port) = host_port.split_once(':').expect("a port in the URL");
    let database = database.split('?').next().unwrap_or(database);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("config")).expect("config dir");
    let config = format!("[office]\nhost = \"{host}\"\nport = {port}\ndatabase = \"{database}\"\ntls = \"disable\"\n");
    std::fs::write(dir.path().join("config/config.toml"), config).expect("write config.toml");
    dir
}

/// Milliseconds from running `action` (JavaScript) in the page to the frame painted once every
/// command it caused has answered (the page's rendering update that holds the result: its
/// layout and paint are done), and to the start of the frame after it. WebKit starts a frame
/// only once the one before is rasterised and composited, which on a machine without a GPU
/// (this project's: Mesa's software GL under Xvfb) took 60-120 ms after a table or chart
/// changed: the second figure is nearer what the eye sees.
async fn timed(app: &App, action: &str) -> (f64, f64) {
    timed_until(app, action, "body").await
}

/// [`timed`], the result being painted only once `shown` (CSS) is in the document too: between
/// the commands of a sign-in and those of the first page, the page's module is loaded.
async fn timed_until(app: &App, action: &str, shown: &str) -> (f64, f64) {
    let script = format!(
        "const done = arguments[arguments.length - 1];
        const calls = window.__crmCalls;
        const before = calls.started;
        const t0 = performance.now();
        let layout = 0;
        const quiet = () => calls.started > before && calls.settled === calls.started
          && document.querySelector({shown}) !== null;
        // once quiet: let the answers' renderers run, paint a frame, and check it stayed quiet
        const settle = () => {{
          // (a click that asks nothing, e.g. on a disabled button: -1 after a second)
          if (calls.started === before && performance.now() - t0 > 1000) {{ done([-1, '']); return; }}
          if (!quiet()) {{ setTimeout(settle, 1); return; }}
          // the style and layout the answers need, forced here to see what they cost apart
          // from the frame's painting and compositing
          const l0 = performance.now();
          void document.body.offsetHeight;
          layout = performance.now() - l0;
          setTimeout(() => requestAnimationFrame(() => setTimeout(() => {{
            if (!quiet()) {{ settle(); return; }}
            const ms = performance.now() - t0;
            // the frame after it starts once that one is rasterised and composited
            requestAnimationFrame(() => report(ms));
          }}, 0)), 0);
        }};
        const report = (ms) => {{
            const next = performance.now() - t0;
            const asked = calls.recent.filter(([, began]) => began >= t0)
              .map(([command, began, answered]) => `${{command}} +${{Math.round(began - t0)}} ${{Math.round(answered - began)}}`);
            const shown = calls.rendered >= t0 ? `; rendered +${{Math.round(calls.rendered - t0)}}` : '';
            done([ms, `click handled in ${{Math.round(acted)}} ms; ${{asked.join(', ')}}${{shown}}; layout ${{Math.round(layout)}}; next frame +${{Math.round(next)}}`, next]);
        }};
        {action};
        const acted = performance.now() - t0;
        settle();",
        shown = json!(shown)
    );
    let answer = app.client.execute_async(&script, vec![]).await.expect("a timed action");
    let ms = answer[0].as_f64().expect("milliseconds");
    if std::env::var_os("CRM_WINDOW_DETAIL").is_some() {
        println!("    {ms:>6.1} ms: {}", answer[1].as_str().unwrap_or_default());
    }
    (ms, answer[2].as_f64().unwrap_or(ms))
}

/// `CRM_WINDOW_ONLY=TEXT[,TEXT]`: only the rows whose name holds one of them, on the data, and
/// no memory (for looking at one row, e.g. under `perf record`).
fn only() -> Option<String> {
    std::env::var("CRM_WINDOW_ONLY").ok().filter(|s| !s.is_empty())
}

/// Runs `setup` (untimed) then `action` `RUNS` times; prints and returns the median.
async fn measure(app: &App, what: &str, setup: &str, action: &str) -> f64 {
    if only().is_some_and(|only| !only.split(',').any(|part| what.contains(part))) {
        return 0.0;
    }
    let mut runs = Vec::with_capacity(RUNS);
    let mut next_frames = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        if !setup.is_empty() {
            timed(app, setup).await;
        }
        // a person's pause between clicks: the last frame's compositing (the app's UI process
        // and Xvfb, on the same two cores) is over before the next click
        tokio::time::sleep(std::time::Duration::from_millis(PAUSE_MS)).await;
        let (ms, next) = timed(app, action).await;
        assert!(ms >= 0.0, "{what}: the action asked the core nothing");
        runs.push(ms);
        next_frames.push(next);
    }
    runs.sort_by(f64::total_cmp);
    next_frames.sort_by(f64::total_cmp);
    let median = runs[RUNS / 2];
    println!(
        "{what:<46} {median:>10.1} ms (min {:.1}, max {:.1}); next frame {:.1} ms",
        runs[0],
        runs[RUNS - 1],
        next_frames[RUNS / 2]
    );
    median
}

fn click(css: &str) -> String {
    format!("document.querySelector({}).click()", json!(css))
}

/// Types `text` into the input `css` as a person would leave it (one `input` event).
fn type_into(css: &str, text: &str) -> String {
    format!(
        "const el = document.querySelector({}); el.value = {}; el.dispatchEvent(new Event('input', {{ bubbles: true }}))",
        json!(css),
        json!(text)
    )
}

/// Sets a date field and commits it (`change`), as the calendar does.
fn set_date(css: &str, text: &str) -> String {
    format!(
        "const el = document.querySelector({}); el.value = {}; el.dispatchEvent(new Event('change', {{ bubbles: true }}))",
        json!(css),
        json!(text)
    )
}

/// The figures of the window started as `launch` says (in the folder `dir`, if given): with
/// `with_data`, each click's, then every page visited; returns the memory. `local`: a SQLite
/// file, whose day's backup the app makes at its start.
async fn run(launch: Launch, dir: Option<tempfile::TempDir>, label: &str, with_data: bool, local: bool) -> Memory {
    let app = App::start(label, launch, dir).await;
    app.wait("[data-stage=sign_in]").await;
    app.fill("[name=username]", "admin").await;
    app.fill("[name=password]", PASSWORD).await;
    let (sign_in, _) = timed_until(&app, &click("[data-action=submit]"), "#page[data-page]").await;
    app.wait(".shell").await;
    if let Ok(css) = std::env::var("CRM_WINDOW_CSS") {
        // a constructed sheet: the app's CSP (`style-src 'self'`) refuses a <style> element
        let add = "const sheet = new CSSStyleSheet(); sheet.replaceSync(arguments[0]);
            document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
            return sheet.cssRules.length;";
        let rules = app.client.execute(add, vec![json!(css)]).await.expect("add the style");
        println!("CRM_WINDOW_CSS: {rules} rule(s) added");
    }
    // the day's backup, which a local database's first start makes in the background (4-5 s
    // of one core at a million leads), is over before anything else is measured
    if local {
        daily_backup_made(&app).await;
    }
    if with_data {
        println!("{:<46} {sign_in:>10.1} ms", "sign in to the first page painted");
        let stats = click("a.nav-link[data-page=stats]");
        let today = click("a.nav-link[data-page=today]");
        measure(&app, "statistics page opened", &today, &stats).await;
        timed(&app, &stats).await;
        app.wait("tr[data-campaign]").await;
        measure(
            &app,
            "statistics, period changed",
            &set_date("input[name=from]", ""),
            &set_date("input[name=from]", "01.06.2026"),
        )
        .await;
        timed(&app, &set_date("input[name=from]", "")).await;

        let leads = click("a.nav-link[data-page=leads]");
        measure(&app, "leads page opened", &today, &leads).await;
        timed(&app, &leads).await;
        let search = "input[data-search]";
        measure(&app, "leads, search a surname (typed)", &type_into(search, ""), &type_into(search, "смирнова")).await;
        measure(&app, "leads, search part of a phone (typed)", &type_into(search, ""), &type_into(search, "912 34"))
            .await;
        timed(&app, &type_into(search, "")).await;
        let first = click(".pager [data-action=first]");
        measure(&app, "leads, last page", &first, &click(".pager [data-action=last]")).await;
        measure(&app, "leads, next page", &first, &click(".pager [data-action=next]")).await;
        let to_page = "const p = document.querySelector('.pager [data-action=page]'); p.value = '10000'; \
             p.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))";
        measure(&app, "leads, go to page 10,000", &first, to_page).await;
        measure(&app, "leads, sort by name", &click("th [data-sort=created_at]"), &click("th [data-sort=full_name]"))
            .await;
        // (sorted by name now: its pages by number are found otherwise)
        measure(&app, "leads by name, go to page 10,000", &first, to_page).await;

        let clients = click("a.nav-link[data-page=clients]");
        measure(&app, "clients page opened", &today, &clients).await;
        timed(&app, &clients).await;
        measure(
            &app,
            "clients, sort by revenue",
            &click("th [data-sort=created_at]"),
            &click("th [data-sort=revenue]"),
        )
        .await;
        let board = click("a.nav-link[data-page=board]");
        measure(&app, "board opened", &today, &board).await;
        timed(&app, &board).await;
        // each column counts its matches and reads its first cards (the core's "board,
        // searched by a first name" row)
        measure(&app, "board, search a first name (typed)", &type_into(search, ""), &type_into(search, "анна")).await;
        timed(&app, &type_into(search, "")).await;
        // the other pages, each opened from My day (and My day from the board)
        for (page, what) in [
            ("contracts", "contracts page opened"),
            ("campaigns", "campaigns page opened"),
            ("services", "services page opened"),
            ("history", "history page opened"),
            ("admin", "users page opened"),
        ] {
            measure(&app, what, &today, &click(&format!("a.nav-link[data-page={page}]"))).await;
        }
        measure(&app, "my day opened", &board, &today).await;
    }
    // every page once, then the memory of the app with its WebKit processes
    for page in
        ["today", "stats", "leads", "board", "clients", "contracts", "campaigns", "services", "admin", "history"]
    {
        timed(&app, &click(&format!("a.nav-link[data-page={page}]"))).await;
        app.wait(&format!("#page[data-page={page}]")).await;
    }
    app.screenshot("visited").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let memory = app_memory();
    app.stop().await;
    memory
}

/// Waits (up to two minutes) for the day's backup in the app's backups folder.
async fn daily_backup_made(app: &App) {
    let folder = app.dir.path().join("data/backups");
    let started = std::time::Instant::now();
    loop {
        let names: Vec<String> = std::fs::read_dir(&folder)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        if names.iter().any(|n| n.ends_with(".crm-backup")) && !names.iter().any(|n| n.ends_with(".part")) {
            return;
        }
        assert!(started.elapsed().as_secs() < 120, "no daily backup in {} after two minutes", folder.display());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The proportional set size of the app and its WebKit processes, in kB: all of it, and its
/// anonymous part (what the processes allocated; the rest is mostly their libraries). SQLite
/// reads its file with `read()`: tried at stop 26 with `mmap_size`, every SQLite figure of the
/// core benchmark halved, but each page read became the OS's cached page charged to the app
/// (with the 15 around it that a page fault maps), and the day's backup, reading the whole
/// file, took the app to 1,121 MB.
#[derive(Clone, Copy, Default)]
struct Memory {
    total: u64,
    anon: u64,
}

/// The [`Memory`] of every running `crm` app process (this binary) and every process below
/// it (WebKit's web and network processes); prints each.
fn app_memory() -> Memory {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_crm")).expect("the app binary");
    let mut parents = std::collections::HashMap::new();
    let mut roots = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...: the command may hold spaces, the ppid follows its ')'
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.insert(pid, ppid);
        }
        if std::fs::read_link(entry.path().join("exe")).is_ok_and(|p| p == exe) {
            roots.push(pid);
        }
    }
    let below = |mut pid: u32| loop {
        if roots.contains(&pid) {
            return true;
        }
        match parents.get(&pid) {
            Some(&parent) if parent > 1 => pid = parent,
            _ => return false,
        }
    };
    let kb = |line: &str| line.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let mut all = Memory::default();
    for pid in parents.keys().filter(|&&pid| below(pid)) {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |key: &str| rollup.lines().find(|l| l.starts_with(key)).map_or(0, kb);
        let memory = Memory { total: field("Pss:"), anon: field("Pss_Anon:") };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        println!("    {:<24} {:>6.0} MB (anonymous {:.0})", name.trim(), mb(memory.total), mb(memory.anon));
        all.total += memory.total;
        all.anon += memory.anon;
    }
    all
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    println!("crm window benchmark: {} leads, release build, median of {RUNS} runs", args.leads);
    // the same visit of every page by a freshly started app, at N leads and empty; and the
    // memory at N leads after the clicks timed above as well
    let report = |backend: &str, visit: Memory, empty: Memory, session: Memory| {
        let line = |what: &str, full: Memory| {
            println!(
                "{backend}: memory (PSS, app + WebKit) {what}: {:.0} MB at {} leads against {:.0} MB empty: {:+.0} MB \
                 (anonymous {:+.0} MB)",
                mb(full.total),
                args.leads,
                mb(empty.total),
                mb(full.total) - mb(empty.total),
                mb(full.anon) - mb(empty.anon),
            );
        };
        println!();
        line("after every page", visit);
        line("after every page and the clicks above", session);
    };
    if args.sqlite {
        println!("\n== sqlite");
        let dir = tempfile::tempdir().expect("temp dir");
        let full = data(dir.path(), args.leads, args.keep.as_deref());
        let launch = |url: &str| Launch { database_url: Some(url.to_owned()), ..Launch::default() };
        let session = run(launch(&full), None, "window-full", true, true).await;
        if only().is_some() {
            return;
        }
        let visit = run(launch(&full), None, "window-full-visit", false, true).await;
        let empty_dir = tempfile::tempdir().expect("temp dir");
        let empty = data(empty_dir.path(), 0, None);
        let memory_empty = run(launch(&empty), None, "window-empty", false, true).await;
        report("sqlite", visit, memory_empty, session);
    }
    if args.postgres {
        println!("\n== postgres (an office computer; each person signs in as their own role)");
        // as the core benchmark's server: a quarter of a 4 GB office machine
        pg::set_shared_buffers("1GB");
        let launch = |url: &str| Launch { role_prefix: Some(pg::role_prefix(url)), ..Launch::default() };
        let full = office(args.leads).await;
        let session = run(launch(&full), Some(office_computer(&full)), "window-pg-full", true, false).await;
        if only().is_some() {
            return;
        }
        let visit = run(launch(&full), Some(office_computer(&full)), "window-pg-full-visit", false, false).await;
        let empty = office(0).await;
        let memory_empty = run(launch(&empty), Some(office_computer(&empty)), "window-pg-empty", false, false).await;
        report("postgres", visit, memory_empty, session);
    }
}
