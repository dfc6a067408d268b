//! Random input into every kind of use case, on both backends (the long run is `cargo xtask
//! fuzz`): every answer is a result or an error in words, and what is accepted reads back as
//! the form's rules made it.

#[path = "../common/fuzz.rs"]
mod run;

use crate::support::{settings_for, TestCrm};

/// Cases a backend gets in the README's test command; `CRM_FUZZ_CASES` changes it.
fn cases() -> u32 {
    std::env::var("CRM_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(3000)
}

/// The run's seed (`CRM_FUZZ_SEED`; the long runs are `cargo xtask fuzz --seed N`).
fn seed() -> u64 {
    std::env::var("CRM_FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(1)
}

async fn fuzz(t: TestCrm, office: Option<crm::Crm>, backend: &str) {
    let (crm, people) = run::people(&t.crm, &t.admin, office.as_ref()).await;
    let report = run::run(&crm, &people, &run::Options { cases: cases(), seed: seed() }).await;
    report.print(backend);
    assert!(report.failures.is_empty(), "{} inputs failed: {:#?}", report.failures.len(), report.failures);
    // the cases reached past the first checks: records were made and refused for many reasons
    assert!(report.accepted > u64::from(cases()) / 5, "too little accepted to prove anything: {}", report.accepted);
    assert!(report.refused.len() > 30, "too few kinds of refusal: {:?}", report.refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_input_is_answered_in_words_on_sqlite() {
    fuzz(TestCrm::sqlite().await, None, "sqlite").await;
}

/// On an office server, through the people's own login roles (grants, policies, triggers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_input_is_answered_in_words_on_postgres() {
    let t = TestCrm::postgres().await;
    let server = crm::config::OfficeServer::from_url(&t.url).expect("office server");
    let office = crm::Crm::open_office(&server, settings_for(&t.url, crm::Settings::default()));
    fuzz(t, Some(office), "postgres").await;
}

/// Through PgBouncer in transaction mode (`pgbouncer = true`, see office.rs): every use case
/// answers as on the server itself, on server connections other people's transactions share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_input_is_answered_in_words_through_pgbouncer() {
    let t = TestCrm::postgres().await;
    let direct = crm::config::OfficeServer::from_url(&t.url).expect("office server");
    let server = crm::config::OfficeServer { port: crate::support::pg::pgbouncer_port(), pgbouncer: true, ..direct };
    let office = crm::Crm::open_office(&server, settings_for(&t.url, crm::Settings::default()));
    let (crm, people) = run::people(&t.crm, &t.admin, Some(&office)).await;
    let report = run::run(&crm, &people, &run::Options { cases: cases() / 3, seed: seed() + 1 }).await;
    report.print("pgbouncer");
    assert!(report.failures.is_empty(), "{} inputs failed: {:#?}", report.failures.len(), report.failures);
    assert!(report.accepted > u64::from(cases() / 3) / 5, "too little accepted: {}", report.accepted);
}
