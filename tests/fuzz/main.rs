//! Fuzzing the use cases at length: `cargo xtask fuzz [--cases N] [--seed N] [--backend
//! sqlite|postgres|both]` (an optimised build; default 100,000 cases on each backend). The
//! cases are those of the core suite's short run (`tests/common/fuzz.rs`), on a fresh SQLite
//! file and on a fresh database of a throwaway PostgreSQL (or of `CRM_TEST_DATABASE_URL`'s
//! server), through the people's own login roles there. Exits non-zero on any failure.

#[path = "../common/fuzz.rs"]
mod fuzz;
#[path = "../common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut options = fuzz::Options { cases: 100_000, seed: 1 };
    let mut backends = vec!["sqlite", "postgres"];
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next();
        let number = value.and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), number, value.map(String::as_str)) {
            ("--cases", Some(n), _) if n > 0 => options.cases = u32::try_from(n).unwrap_or(u32::MAX),
            ("--seed", Some(n), _) => options.seed = n,
            ("--backend", _, Some("sqlite")) => backends = vec!["sqlite"],
            ("--backend", _, Some("postgres")) => backends = vec!["postgres"],
            ("--backend", _, Some("both")) => backends = vec!["sqlite", "postgres"],
            _ => {
                eprintln!("usage: cargo xtask fuzz [--cases N] [--seed N] [--backend sqlite|postgres|both]");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut failed = false;
    for backend in backends {
        let started = std::time::Instant::now();
        let report = runtime.block_on(async {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = match backend {
                "sqlite" => format!("sqlite://{}", dir.path().join("crm.db").display()),
                _ => pg::postgres_database().await,
            };
            let settings = crm::Settings { role_prefix: pg::role_prefix(&url), ..crm::Settings::default() };
            let owner = crm::Crm::open(&url, settings.clone()).await.expect("open and migrate");
            let admin = owner.create_first_admin("admin", "Администратор", fuzz::PASSWORD).await.expect("first admin");
            let office = (backend == "postgres").then(|| {
                let server = crm::config::OfficeServer::from_url(&url).expect("office server");
                crm::Crm::open_office(&server, settings.clone())
            });
            let (crm, people) = fuzz::people(&owner, &admin, office.as_ref()).await;
            fuzz::run(&crm, &people, &options).await
        });
        report.print(backend);
        println!("  {:.0} s, seed {}", started.elapsed().as_secs_f64(), options.seed);
        failed |= !report.failures.is_empty();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
