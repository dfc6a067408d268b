//! The shared office under load, with figures: `cargo xtask soak [--computers N] [--seconds S]
//! [--hot N] [--seed N] [--restart-after S]` (an optimised build; default 32 computers for 600 s;
//! `--restart-after` restarts the throwaway server that long into the run). Each computer is
//! its own `Crm` on a fresh database of a throwaway PostgreSQL (or of `CRM_TEST_DATABASE_URL`'s
//! server); see `tests/common/soak.rs`. Exits non-zero when a person would have seen a database
//! or internal error, or when an invariant broke.

#[path = "../common/pg.rs"]
#[allow(dead_code)]
mod pg;
#[path = "../common/soak.rs"]
mod soak;

use std::process::ExitCode;
use std::time::Duration;

/// The app's own allocator (src-tauri/main.rs), so that the figures are the app's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut options =
        soak::Options { computers: 32, duration: Duration::from_secs(600), hot: 24, seed: 1, restart: None };
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--computers", Some(n)) if n > 0 => options.computers = n as usize,
            ("--seconds", Some(n)) if n > 0 => options.duration = Duration::from_secs(n),
            ("--minutes", Some(n)) if n > 0 => options.duration = Duration::from_secs(n * 60),
            ("--hot", Some(n)) if n >= 2 => options.hot = n as usize,
            ("--seed", Some(n)) => options.seed = n,
            // the harness's own server only: not one of CRM_TEST_DATABASE_URL
            ("--restart-after", Some(n)) if std::env::var_os("CRM_TEST_DATABASE_URL").is_none() => {
                options.restart = Some((Duration::from_secs(n), pg::restart_server));
            }
            _ => {
                eprintln!("usage: cargo xtask soak [--computers N] [--seconds S | --minutes M] [--hot N] [--seed N] [--restart-after S]");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let report = runtime.block_on(async {
        let url = pg::postgres_database().await;
        let settings = crm::Settings { role_prefix: pg::role_prefix(&url), ..crm::Settings::default() };
        soak::run(&url, settings, &options).await
    });
    report.print(&options);
    if report.failures.is_empty() && report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
