//! The shared office under load, briefly (the long run is `cargo xtask soak`): no person sees a
//! database or internal error, and no invariant breaks.

#[path = "../common/soak.rs"]
mod run;

use std::time::Duration;

use crate::support::{pg, settings_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_computers_working_the_same_records_see_no_error_and_break_nothing() {
    let url = pg::postgres_database().await;
    let settings = settings_for(&url, crm::Settings::default());
    let options = run::Options { computers: 8, duration: Duration::from_secs(20), hot: 12, seed: 1, restart: None };
    let report = run::run(&url, settings, &options).await;
    report.print(&options);
    assert!(report.operations > 200, "too little work to prove anything: {}", report.operations);
    assert!(report.failures.is_empty(), "errors a person would have seen: {:?}", report.failures);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    // the records were contended: people did hear that someone else saved first
    assert!(report.refused.get("conflict").copied().unwrap_or_default() > 0, "{:?}", report.refused);
}
