//! Benchmarks that print figures: `cargo xtask bench` (or `cargo bench --no-default-features
//! --bench crm -- --leads 1000000`).
//!
//! For each backend — a fresh SQLite file and a fresh database on a throwaway PostgreSQL (or the
//! server of `CRM_TEST_DATABASE_URL`) — it generates the demo data set with N leads, then times the
//! statistics and list queries a user waits for, through the same core calls the app makes. Each
//! figure is the median of several runs after a warm-up.

#[path = "../common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use crm::clients::{ClientFilter, ClientSort};
use crm::demo::DemoOptions;
use crm::domain::id::{CampaignId, ChannelId, ClientId, LeadId, ServiceId};
use crm::leads::{LeadFilter, LeadSort, LeadStatus};
use crm::stats::{CampaignSort, CampaignView, ClientSalesFilter, StatsFilter};
use crm::{Actor, Crm, PageRequest, Settings};

/// The app's own allocator (src-tauri/main.rs), so that the figures are the app's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 7;

/// Every figure printed, for `--json FILE`: (backend, what, milliseconds).
static FIGURES: std::sync::Mutex<Vec<(String, String, f64)>> = std::sync::Mutex::new(Vec::new());
static BACKEND: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
/// `--rows TEXT[,TEXT...]`: only the timed rows whose name holds one of the TEXTs, and `--runs N` of them (profiling
/// one row under `perf record`).
static ROWS: std::sync::OnceLock<(Option<String>, usize)> = std::sync::OnceLock::new();

fn record(what: &str, ms: f64) {
    let backend = BACKEND.lock().expect("backend").clone();
    FIGURES.lock().expect("figures").push((backend, what.to_owned(), ms));
}

struct Args {
    leads: u64,
    seed: u64,
    backends: Vec<String>,
    /// Parts to run (queries, day, export, import, backup, move); all when empty.
    only: Vec<String>,
    /// A SQLite file to keep the generated data in and to reuse on the next run (profiling).
    keep: Option<std::path::PathBuf>,
    /// A PostgreSQL database already holding `crm demo` data (password "bench-password",
    /// `--anchor 2026-11-01`) to measure instead of a throwaway one (profiling); its roles'
    /// prefix from `CRM_ROLE_PREFIX`.
    postgres_url: Option<String>,
    /// Where to write every figure as JSON too.
    json: Option<std::path::PathBuf>,
    /// The JSON of an earlier run (say at 20,000 leads) to print each figure's growth against.
    compare: Option<std::path::PathBuf>,
    /// Only the timed rows whose name holds this.
    rows: Option<String>,
    /// Timed runs of each row.
    runs: usize,
}

impl Args {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

fn args() -> Args {
    let mut args = Args {
        leads: 200_000,
        seed: 1,
        backends: vec!["sqlite".into(), "postgres".into()],
        only: Vec::new(),
        keep: None,
        postgres_url: None,
        json: None,
        compare: None,
        rows: None,
        runs: RUNS,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--leads" => args.leads = it.next().and_then(|v| v.parse().ok()).expect("--leads N"),
            "--seed" => args.seed = it.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            "--backend" => args.backends = vec![it.next().expect("--backend sqlite|postgres")],
            "--keep" => args.keep = Some(it.next().expect("--keep FILE").into()),
            "--postgres-url" => args.postgres_url = Some(it.next().expect("--postgres-url URL")),
            "--json" => args.json = Some(it.next().expect("--json FILE").into()),
            "--compare" => args.compare = Some(it.next().expect("--compare FILE").into()),
            "--rows" => args.rows = Some(it.next().expect("--rows TEXT")),
            "--runs" => args.runs = it.next().and_then(|v| v.parse().ok()).filter(|n| *n > 0).expect("--runs N"),
            "--only" => {
                let parts = it.next().expect("--only PART[,PART...]");
                args.only = parts.split(',').map(str::to_owned).collect();
            }
            // cargo bench passes --bench; anything else is a mistake worth hearing about
            "--bench" => {}
            other => panic!(
                "unknown argument {other}; use --leads N, --seed N, --backend sqlite|postgres, \
                 --only queries,day,export,import,backup,move, --keep FILE, --postgres-url URL, --json FILE, --compare FILE, \
                 --rows TEXT, --runs N"
            ),
        }
    }
    args
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    // `RUST_LOG=sqlx::query=debug,crm=debug`: each statement with its time, and the core's own
    // choices (how a searched list reads past its bound), on standard error, for a row looked at
    // alone (`--rows`)
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    ROWS.set((args.rows.clone(), args.runs)).expect("rows set once");
    // the throwaway server's cache as an office server's: a quarter of a 4 GB machine (README)
    pg::set_shared_buffers("1GB");
    let anchor = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    println!(
        "crm benchmarks: {} leads (seed {}), median of {} runs after a warm-up\n",
        args.leads, args.seed, args.runs
    );
    for backend in &args.backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend.as_str() {
            "sqlite" => {
                let file = dir.path().join("bench.db");
                if let Some(kept) = args.keep.as_ref().filter(|f| f.exists()) {
                    std::fs::copy(kept, &file).expect("copy the kept data");
                }
                format!("sqlite://{}", file.display())
            }
            "postgres" => match &args.postgres_url {
                Some(url) => url.clone(),
                None => pg::postgres_database().await,
            },
            other => panic!("unknown backend {other}"),
        };
        *BACKEND.lock().expect("backend") = backend.clone();
        run(backend, &url, &args, anchor).await;
    }
    if let Some(path) = &args.json {
        let figures: Vec<serde_json::Value> = FIGURES
            .lock()
            .expect("figures")
            .iter()
            .map(|(backend, what, ms)| serde_json::json!({ "backend": backend, "what": what, "ms": ms }))
            .collect();
        let doc = serde_json::json!({ "leads": args.leads, "seed": args.seed, "figures": figures });
        std::fs::write(path, serde_json::to_string_pretty(&doc).expect("json")).expect("write the JSON figures");
        println!("figures written to {}", path.display());
    }
    if let Some(path) = &args.compare {
        compare(path, args.leads);
    }
}

/// Prints how much each figure of this run grew against the same figure of an earlier run's
/// JSON (the goal: at most 1.5x from 20,000 to 1,000,000 leads for the statistics,
/// searches and pages). Figures of one run only, and the data loads, are left out.
fn compare(path: &std::path::Path, leads: u64) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the JSON of an earlier run");
    let before: std::collections::HashMap<(String, String), f64> = doc["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .filter_map(|f| Some(((f["backend"].as_str()?.to_owned(), f["what"].as_str()?.to_owned()), f["ms"].as_f64()?)))
        .collect();
    println!("\ngrowth from {} to {leads} leads ({}):", doc["leads"], path.display());
    println!("{:<10} {:<46} {:>10} {:>10} {:>7}", "backend", "figure", "before", "now", "growth");
    for (backend, what, ms) in FIGURES.lock().expect("figures").iter() {
        if let Some(&old) = before.get(&(backend.clone(), what.clone())) {
            let growth = ms / old.max(0.001);
            let mark = if growth > 1.5 { "  > 1.5x" } else { "" };
            println!("{backend:<10} {what:<46} {old:>7.1} ms {ms:>7.1} ms {growth:>6.2}x{mark}");
        }
    }
}

async fn run(backend: &str, url: &str, args: &Args, anchor: NaiveDate) {
    let kept_postgres = backend == "postgres" && args.postgres_url.is_some();
    let settings = match std::env::var("CRM_ROLE_PREFIX") {
        Ok(role_prefix) if kept_postgres => Settings { role_prefix, ..Settings::default() },
        _ => Settings::default(),
    };
    let mut crm = Crm::open(url, settings.clone()).await.expect("open the database");
    let options = DemoOptions {
        seed: args.seed,
        leads: args.leads,
        anchor,
        append: false,
        password: "bench-password".into(),
        with_other_users: false,
        until: None,
    };
    println!("== {backend}");
    let keep = args.keep.as_ref().filter(|_| backend == "sqlite");
    if kept_postgres {
        println!("(the data already in the database given by --postgres-url)");
    } else if keep.is_some_and(|f| f.exists()) {
        println!("(the data generated by an earlier run, kept in {})", keep.expect("kept").display());
    } else {
        let report = crm.generate_demo(None, &options).await.expect("demo data");
        println!(
            "{:<46} {:>10.1} s   ({} campaigns, {} clients, {} contracts)",
            "generate demo data", report.seconds, report.campaigns, report.clients, report.contracts
        );
        if let Some(kept) = keep {
            // closed, the file holds everything (no write-ahead log beside it)
            crm.db().close().await;
            std::fs::copy(url.trim_start_matches("sqlite://"), kept).expect("keep the data");
            crm = Crm::open(url, settings).await.expect("open the database");
        }
    }
    let manager = crm.sign_in("manager", "bench-password").await.expect("sign in");
    let started = Instant::now();
    crm.sign_in("manager", "bench-password").await.expect("sign in");
    let how = if backend == "sqlite" { "sign in (argon2id)" } else { "sign in (own PostgreSQL role, SCRAM)" };
    line(how, started.elapsed(), started.elapsed(), started.elapsed());

    if args.wants("queries") {
        queries(&crm, &manager, anchor).await;
    }
    let admin = crm.sign_in("admin", "bench-password").await.expect("sign in");
    if args.wants("day") {
        days_work(&crm, &manager, anchor).await;
    }
    data_in_out(backend, &crm, &admin, args).await;
    println!();
    crm.db().close().await;
}

/// The statistics and the lists at a million leads.
async fn queries(crm: &Crm, manager: &Actor, anchor: NaiveDate) {
    let (crm, manager) = (crm, manager);
    let last_quarter =
        StatsFilter { from: Some(anchor - chrono::Days::new(90)), to: Some(anchor), ..Default::default() };
    let one_channel = StatsFilter { channel_id: Some(ChannelId::new(1)), ..Default::default() };
    time("statistics, all campaigns", || stats(crm, manager, StatsFilter::default())).await;
    time("statistics, last 90 days", || stats(crm, manager, last_quarter.clone())).await;
    time("statistics, one channel", || stats(crm, manager, one_channel.clone())).await;
    // a click on a column of the campaigns' table, then its third page
    let by_conversion = CampaignView {
        sort: CampaignSort::Conversion,
        direction: crm::app::Direction::Asc,
        page: PageRequest::new(100, 50),
    };
    time("statistics, sorted by conversion, third page", || {
        stats_page(crm, manager, StatsFilter::default(), by_conversion)
    })
    .await;
    let last_month = StatsFilter { from: Some(anchor - chrono::Days::new(30)), to: Some(anchor), ..Default::default() };
    time("statistics, last 30 days, one service", || {
        stats(crm, manager, StatsFilter { service_id: Some(ServiceId::new(1)), ..last_month.clone() })
    })
    .await;
    let year = crm::stats::series::SeriesFilter {
        from: Some(anchor - chrono::Days::new(364)),
        to: Some(anchor),
        step: crm::stats::series::Step::Week,
        ..Default::default()
    };
    time("chart over time, a year by week", || async { crm.stats_series(manager, &year).await.map(drop) }).await;
    let by_month = crm::stats::series::SeriesFilter { step: crm::stats::series::Step::Month, ..year.clone() };
    time("chart over time, a year by month", || async { crm.stats_series(manager, &by_month).await.map(drop) }).await;
    let one = crm::stats::series::SeriesFilter { campaign_id: Some(CampaignId::new(1)), ..Default::default() };
    time("chart over time, one campaign by day", || async { crm.stats_series(manager, &one).await.map(drop) }).await;
    time("statistics from the rows (reference), all", || async {
        crm.campaign_stats_reference(manager, &StatsFilter::default()).await.map(drop)
    })
    .await;
    once("statistics, verify the roll-ups", || async {
        let differences = crm.verify_stats(manager).await?;
        Ok(((), format!("{} differences", differences.len())))
    })
    .await;
    time("sales per client, first page", || async {
        crm.client_sales(manager, &ClientSalesFilter::default()).await.map(drop)
    })
    .await;
    // the statistics page asks for it with every period chosen: the contracts signed in the
    // period summed per client (half a year: about 70,000 contracts of 54,000 clients)
    let half_year =
        ClientSalesFilter { from: Some(anchor - chrono::Days::new(180)), to: Some(anchor), ..Default::default() };
    time("sales per client, last 180 days, first page", || async {
        crm.client_sales(manager, &half_year).await.map(drop)
    })
    .await;
    time("leads, first page + total", || leads(crm, manager, LeadFilter::default())).await;
    let in_work = LeadFilter { status: Some(LeadStatus::InWork), ..Default::default() };
    time("leads, status filter", || leads(crm, manager, in_work.clone())).await;
    for (sort, name) in [(LeadSort::CreatedAt, "date"), (LeadSort::FullName, "name"), (LeadSort::Status, "status")] {
        lead_pages(crm, manager, name, LeadFilter { sort, ..Default::default() }).await;
    }
    // by name the other way, and with the archived ones (the pages by number: other counts)
    let backwards =
        LeadFilter { sort: LeadSort::FullName, direction: Some(crm::app::Direction::Desc), ..Default::default() };
    lead_pages(crm, manager, "name, Я to А", backwards).await;
    let archived_too = LeadFilter { sort: LeadSort::FullName, include_archived: true, ..Default::default() };
    lead_pages(crm, manager, "name (+archived)", archived_too).await;
    // one status's leads (620,907 in work in the demo) by date
    let in_work = LeadFilter { status: Some(LeadStatus::InWork), ..Default::default() };
    lead_pages(crm, manager, "date, in work", in_work).await;
    let by_name = LeadFilter { search: "смирнова".into(), ..Default::default() };
    time("leads, search by name", || leads(crm, manager, by_name.clone())).await;
    // one status's leads searched, as the board's columns read them: a surname in work (its
    // matches dense enough to walk the status) and a first name among the new (sparse)
    let in_work_by_name = LeadFilter { status: Some(LeadStatus::InWork), ..by_name.clone() };
    time("leads, status filter, search by name", || leads(crm, manager, in_work_by_name.clone())).await;
    let new_by_first_name =
        LeadFilter { status: Some(LeadStatus::New), search: "анна".into(), ..Default::default() };
    time("leads, status filter, search by first name", || leads(crm, manager, new_by_first_name.clone())).await;
    let by_name_sorted = LeadFilter { sort: LeadSort::FullName, ..by_name.clone() };
    time("leads, search by name, sorted by name", || leads(crm, manager, by_name_sorted.clone())).await;
    // a fragment a third of the names hold: past the bound, the index of names is walked
    let common = LeadFilter { search: "ова".into(), sort: LeadSort::FullName, ..Default::default() };
    time("leads, search by a common fragment, sorted by name", || leads(crm, manager, common.clone())).await;
    // a first name (its matches in every surname's block) and part of an e-mail (its names
    // together at the end of the alphabet), sorted by name
    let first_name = LeadFilter { search: "анна".into(), sort: LeadSort::FullName, ..Default::default() };
    time("leads, search by first name, sorted by name", || leads(crm, manager, first_name.clone())).await;
    let mail = LeadFilter { search: "yakovlev".into(), sort: LeadSort::FullName, ..Default::default() };
    time("leads, search by part of an e-mail, sorted by name", || leads(crm, manager, mail.clone())).await;
    // a little more matches than the bound (1,061), spread over the whole table
    let over_bound = LeadFilter { search: "смирнова е".into(), ..Default::default() };
    time("leads, search with a little over 1,000 matches", || leads(crm, manager, over_bound.clone())).await;
    let rarer = LeadFilter { search: "смирнова анна".into(), ..Default::default() };
    time("leads, search by name and first name", || leads(crm, manager, rarer.clone())).await;
    // one or two letters: the names starting with them, one range of the index of names
    let two_letters = LeadFilter { search: "як".into(), ..Default::default() };
    time("leads, search by two letters", || leads(crm, manager, two_letters.clone())).await;
    let two_by_name = LeadFilter { sort: LeadSort::FullName, ..two_letters.clone() };
    time("leads, search by two letters, sorted by name", || leads(crm, manager, two_by_name.clone())).await;
    let one_letter = LeadFilter { search: "с".into(), sort: LeadSort::Status, ..Default::default() };
    time("leads, search by one letter, sorted by status", || leads(crm, manager, one_letter.clone())).await;
    let by_phone = LeadFilter { search: "8 912 3".into(), ..Default::default() };
    time("leads, search by part of a phone", || leads(crm, manager, by_phone.clone())).await;
    // three digits of an operator's code: 1.5 % of the leads, counted to the bound
    let operator_code = LeadFilter { search: "(912)".into(), ..Default::default() };
    time("leads, search by three digits of a phone", || leads(crm, manager, operator_code.clone())).await;
    // part of an e-mail holding a LIKE wildcard, searched for literally
    let underscore = LeadFilter { search: "ivan_p".into(), ..Default::default() };
    time("leads, search by part of an e-mail with an underscore", || leads(crm, manager, underscore.clone())).await;
    let exact = LeadFilter { search: "+79012345678".into(), ..Default::default() };
    time("leads, search by a whole phone", || leads(crm, manager, exact.clone())).await;
    // the filters of the leads list a search is not, alone and together
    let one_campaign = LeadFilter { campaign_id: Some(CampaignId::new(7)), ..Default::default() };
    time("leads, one campaign", || leads(crm, manager, one_campaign.clone())).await;
    let month = LeadFilter {
        created_from: Some(anchor - chrono::Days::new(60)),
        created_to: Some(anchor - chrono::Days::new(30)),
        ..Default::default()
    };
    time("leads, created within a month", || leads(crm, manager, month.clone())).await;
    let year = LeadFilter { created_from: Some(anchor - chrono::Days::new(365)), ..Default::default() };
    time("leads, created within a year", || leads(crm, manager, year.clone())).await;
    let month_in_work = LeadFilter { status: Some(LeadStatus::InWork), ..month.clone() };
    time("leads, created within a month, status filter", || leads(crm, manager, month_in_work.clone())).await;
    let duplicates = LeadFilter { duplicates: true, ..Default::default() };
    time("leads, duplicates only", || leads(crm, manager, duplicates.clone())).await;
    let searched_month = LeadFilter { search: "смирнова".into(), ..month.clone() };
    time("leads, created within a month, search by name", || leads(crm, manager, searched_month.clone())).await;
    // ("иванов": the patronymics Иванович and Ивановна hold it too, one in eight leads; "ова":
    // a third of the names)
    let month_patronymic = LeadFilter { search: "иванов".into(), ..month.clone() };
    time("leads, created within a month, search by a surname in patronymics", || {
        leads(crm, manager, month_patronymic.clone())
    })
    .await;
    let month_fragment = LeadFilter { search: "ова".into(), ..month.clone() };
    time("leads, created within a month, search by a common fragment", || leads(crm, manager, month_fragment.clone()))
        .await;
    let clients_by_name = ClientFilter { search: "смирнова".into(), ..Default::default() };
    time("clients, search by name", || async { crm.list_clients(manager, &clients_by_name).await.map(drop) }).await;
    let clients_by_phone = ClientFilter { search: "912 34".into(), ..Default::default() };
    time("clients, search by part of a phone", || async {
        crm.list_clients(manager, &clients_by_phone).await.map(drop)
    })
    .await;
    let clients_of_campaign = ClientFilter { campaign_id: Some(CampaignId::new(7)), ..Default::default() };
    time("clients, one campaign", || async { crm.list_clients(manager, &clients_of_campaign).await.map(drop) }).await;
    time("clients, first page + total", || async {
        crm.list_clients(manager, &ClientFilter::default()).await.map(drop)
    })
    .await;
    time("contracts, first page + total", || async {
        crm.list_contracts(manager, &crm::contracts::ContractFilter::default()).await.map(drop)
    })
    .await;
    // a contract's number (93 matches), its client's surname, a fragment a third of them hold
    for (what, search) in [("a number", "д-2026/0123"), ("a client's name", "смирнова"), ("a common fragment", "ова")]
    {
        let filter = crm::contracts::ContractFilter { search: search.into(), ..Default::default() };
        time(&format!("contracts, search by {what}"), || async {
            crm.list_contracts(manager, &filter).await.map(drop)
        })
        .await;
    }
    // the contracts list's other filters, alone and searched
    let one_service = crm::contracts::ContractFilter { service_id: Some(ServiceId::new(3)), ..Default::default() };
    time("contracts, one service", || async { crm.list_contracts(manager, &one_service).await.map(drop) }).await;
    let signed_in_a_month = crm::contracts::ContractFilter {
        signed_from: Some(anchor - chrono::Days::new(60)),
        signed_to: Some(anchor - chrono::Days::new(30)),
        ..Default::default()
    };
    time("contracts, signed within a month", || async {
        crm.list_contracts(manager, &signed_in_a_month).await.map(drop)
    })
    .await;
    let month_searched =
        crm::contracts::ContractFilter { search: "смирнова".into(), ..signed_in_a_month.clone() };
    time("contracts, signed within a month, search by a client's name", || async {
        crm.list_contracts(manager, &month_searched).await.map(drop)
    })
    .await;
    let by_amount = crm::contracts::ContractFilter {
        sort: crm::contracts::ContractSort::Amount,
        include_archived: true,
        ..Default::default()
    };
    time("contracts, archived too, by amount", || async { crm.list_contracts(manager, &by_amount).await.map(drop) })
        .await;
    // the campaigns list: 2,000 campaigns searched, and those of one status
    let marketer = crm.sign_in("marketer", "bench-password").await.expect("sign in");
    let autumn = crm::campaigns::CampaignFilter { search: "осень".into(), ..Default::default() };
    time("campaigns, search by name", || async { crm.list_campaigns(&marketer, &autumn).await.map(drop) }).await;
    let clients_searched_by_revenue =
        ClientFilter { search: "смирнова".into(), sort: ClientSort::Revenue, ..Default::default() };
    time("clients, search by name, by revenue", || async {
        crm.list_clients(manager, &clients_searched_by_revenue).await.map(drop)
    })
    .await;
    let expiring = crm::contracts::ContractFilter { expiring: true, ..Default::default() };
    time("contracts, ending within 30 days, by signing", || async {
        crm.list_contracts(manager, &expiring).await.map(drop)
    })
    .await;
    // the order the list takes when the filter is ticked: soonest first
    let soonest = crm::contracts::ContractFilter { sort: crm::contracts::ContractSort::ValidTo, ..expiring.clone() };
    time("contracts, ending within 30 days, soonest first", || async {
        crm.list_contracts(manager, &soonest).await.map(drop)
    })
    .await;
    time("my day (manager: tasks and ending contracts)", || async { crm.my_day(manager).await.map(drop) }).await;
    // the lists' other filters and sorts a user picks (the demo gives every client to the
    // manager: one owner's list is the whole list, the worst case)
    let owned = ClientFilter { owner_id: Some(manager.user_id), ..Default::default() };
    time("clients, one owner", || async { crm.list_clients(manager, &owned).await.map(drop) }).await;
    let owned_by_name = ClientFilter { sort: ClientSort::FullName, ..owned.clone() };
    time("clients, one owner, sorted by name", || async { crm.list_clients(manager, &owned_by_name).await.map(drop) })
        .await;
    let archived_too = ClientFilter { include_archived: true, ..Default::default() };
    time("clients, archived too", || async { crm.list_clients(manager, &archived_too).await.map(drop) }).await;
    let (_, middle_client) = middle_records(crm).await;
    let of_client =
        crm::contracts::ContractFilter { client_id: Some(ClientId::new(middle_client)), ..Default::default() };
    time("contracts of one client", || async { crm.list_contracts(manager, &of_client).await.map(drop) }).await;
    let unassigned = crm::contracts::ContractFilter { unassigned_only: true, ..Default::default() };
    time("contracts with no client (the conversion's picker)", || async {
        crm.list_contracts(manager, &unassigned).await.map(drop)
    })
    .await;
    let services = crm::services::ServiceFilter { search: "сайт".into(), ..Default::default() };
    time("services, search by name", || async { crm.list_services(&marketer, &services).await.map(drop) }).await;
    let by_budget = crm::campaigns::CampaignFilter {
        sort: crm::campaigns::CampaignSort::Budget,
        channel_id: Some(ChannelId::new(1)),
        ..Default::default()
    };
    time("campaigns, one channel, by budget", || async { crm.list_campaigns(&marketer, &by_budget).await.map(drop) })
        .await;
    // more pairs of filters and sorts
    let service_by_amount = crm::contracts::ContractFilter {
        sort: crm::contracts::ContractSort::Amount,
        service_id: Some(ServiceId::new(3)),
        ..Default::default()
    };
    time("contracts, one service, by amount", || async {
        crm.list_contracts(manager, &service_by_amount).await.map(drop)
    })
    .await;
    for (sort, what) in
        [(crm::contracts::ContractSort::Name, "name"), (crm::contracts::ContractSort::ValidTo, "validity")]
    {
        let filter = crm::contracts::ContractFilter { sort, ..service_by_amount.clone() };
        time(&format!("contracts, one service, by {what}"), || async {
            crm.list_contracts(manager, &filter).await.map(drop)
        })
        .await;
    }
    let month_by_name = crm::contracts::ContractFilter {
        sort: crm::contracts::ContractSort::Name,
        signed_from: Some(anchor - chrono::Days::new(60)),
        signed_to: Some(anchor - chrono::Days::new(30)),
        ..Default::default()
    };
    time("contracts, signed within a month, by name", || async {
        crm.list_contracts(manager, &month_by_name).await.map(drop)
    })
    .await;
    for (sort, what) in
        [(crm::contracts::ContractSort::Amount, "amount"), (crm::contracts::ContractSort::ValidTo, "validity")]
    {
        let filter = crm::contracts::ContractFilter { sort, ..month_by_name.clone() };
        time(&format!("contracts, signed within a month, by {what}"), || async {
            crm.list_contracts(manager, &filter).await.map(drop)
        })
        .await;
    }
    let campaign_by_revenue =
        ClientFilter { sort: ClientSort::Revenue, campaign_id: Some(CampaignId::new(7)), ..Default::default() };
    time("clients, one campaign, by revenue", || async {
        crm.list_clients(manager, &campaign_by_revenue).await.map(drop)
    })
    .await;
    let campaign_month = LeadFilter { campaign_id: Some(CampaignId::new(7)), ..month.clone() };
    time("leads, one campaign, created within a month", || leads(crm, manager, campaign_month.clone())).await;
    let archived_by_name = LeadFilter { include_archived: true, sort: LeadSort::FullName, ..Default::default() };
    time("leads, archived too, sorted by name", || leads(crm, manager, archived_by_name.clone())).await;
    let archived_searched =
        LeadFilter { include_archived: true, search: "смирнова".into(), ..Default::default() };
    time("leads, archived too, search by name", || leads(crm, manager, archived_searched.clone())).await;
    let leads_archived_too = LeadFilter { include_archived: true, ..Default::default() };
    time("leads, archived too", || leads(crm, manager, leads_archived_too.clone())).await;
    let campaign_by_name = LeadFilter { sort: LeadSort::FullName, ..one_campaign.clone() };
    time("leads, one campaign, sorted by name", || leads(crm, manager, campaign_by_name.clone())).await;
    let campaign_in_work = LeadFilter { status: Some(LeadStatus::InWork), ..one_campaign.clone() };
    time("leads, one campaign, status filter", || leads(crm, manager, campaign_in_work.clone())).await;
    let month_by_status = LeadFilter { sort: LeadSort::Status, ..month.clone() };
    time("leads, created within a month, sorted by status", || leads(crm, manager, month_by_status.clone())).await;
    for (sort, name) in
        [(ClientSort::CreatedAt, "date"), (ClientSort::FullName, "name"), (ClientSort::Revenue, "revenue")]
    {
        let filter = ClientFilter { sort, ..Default::default() };
        let at = |page: PageRequest| ClientFilter { page, ..filter.clone() };
        let first = crm.list_clients(manager, &filter).await.expect("a page");
        let total = first.total;
        let next = at(PageRequest::new(50, 50).after(first.items.last().map_or(0, |c| c.id.get())));
        time(&format!("clients by {name}, next page"), || async { crm.list_clients(manager, &next).await.map(drop) })
            .await;
        let last = at(PageRequest::last(50));
        time(&format!("clients by {name}, last page"), || async { crm.list_clients(manager, &last).await.map(drop) })
            .await;
        let middle = at(PageRequest::new(total / 2 / 50 * 50, 50));
        time(&format!("clients by {name}, go to the middle page"), || async {
            crm.list_clients(manager, &middle).await.map(drop)
        })
        .await;
    }
}

/// The next, previous, last and middle pages of the lead list sorted as `filter` says.
async fn lead_pages(crm: &Crm, manager: &Actor, name: &str, filter: LeadFilter) {
    let at = |page: PageRequest| LeadFilter { page, ..filter.clone() };
    let first = crm.list_leads(manager, &filter).await.expect("a page");
    let total = first.total;
    let next = at(PageRequest::new(50, 50).after(first.items.last().map_or(0, |l| l.id.get())));
    time(&format!("leads by {name}, next page"), || leads(crm, manager, next.clone())).await;
    let last = at(PageRequest::last(50));
    time(&format!("leads by {name}, last page"), || leads(crm, manager, last.clone())).await;
    let last_page = crm.list_leads(manager, &last).await.expect("the last page");
    let before =
        at(PageRequest::new(last_page.offset - 50, 50).before(last_page.items.first().map_or(0, |l| l.id.get())));
    time(&format!("leads by {name}, previous page"), || leads(crm, manager, before.clone())).await;
    let middle = at(PageRequest::new(total / 2 / 50 * 50, 50));
    time(&format!("leads by {name}, go to the middle page"), || leads(crm, manager, middle.clone())).await;
}

/// The day's work: cards, the board, my day, the history page.
async fn days_work(crm: &Crm, manager: &Actor, anchor: NaiveDate) {
    // The day's work, with about five history entries per lead (the 5,000,000 at a
    // million): the demo's story of each lead (about 2.6) and a note and an edit added here.
    let started = Instant::now();
    let added = add_history(crm).await;
    println!(
        "{:<46} {:>10.1} s   ({})",
        "add 2 history entries per lead",
        started.elapsed().as_secs_f64(),
        if added > 0 { format!("{added} entries") } else { "added by an earlier run".to_owned() },
    );
    let operator = crm.sign_in("operator", "bench-password").await.expect("sign in");
    let admin = crm.sign_in("admin", "bench-password").await.expect("sign in");
    let (lead, client) = middle_records(crm).await;
    time("lead card + first timeline page", || async { crm.lead_card(manager, LeadId::new(lead)).await.map(drop) })
        .await;
    // a lead worked on for years: 5,000 entries on its timeline, its first and 50th pages
    let busy = busy_lead(crm).await;
    time("lead card of a lead with 5,000 entries", || async {
        crm.lead_card(manager, LeadId::new(busy)).await.map(drop)
    })
    .await;
    let deep = PageRequest::new(2_500, 50);
    time("timeline of a lead with 5,000 entries, page 50", || async {
        crm.timeline(manager, crm::history::Record::Lead(LeadId::new(busy)), deep).await.map(drop)
    })
    .await;
    time("client card + contracts + timeline", || async {
        crm.client_card(manager, ClientId::new(client)).await.map(drop)
    })
    .await;
    time("board, every column's first page", || async {
        crm.lead_board(&operator, &Default::default()).await.map(drop)
    })
    .await;
    // a column scrolled to its end: the next twenty cards after the first eight
    time("board, a column's next cards", || async {
        let next = PageRequest::new(8, 20);
        crm.board_column(&operator, &LeadFilter::default(), LeadStatus::InWork, next).await.map(drop)
    })
    .await;
    // each column is the leads list of its status, searched
    for (what, search) in [
        ("a surname", "смирнова"),
        ("two letters", "як"),
        ("a first name", "анна"),
        ("a common fragment", "ова"),
        ("three digits of a phone", "(912)"),
    ] {
        let filter = crm::board::BoardFilter {
            leads: LeadFilter { search: search.into(), ..Default::default() },
            ..Default::default()
        };
        time(&format!("board, searched by {what}"), || async { crm.lead_board(&operator, &filter).await.map(drop) })
            .await;
    }
    // the board's other filters: one campaign, one's own leads (the operator's: all of them in
    // the demo), a month
    for (what, leads) in [
        ("one campaign", LeadFilter { campaign_id: Some(CampaignId::new(7)), ..Default::default() }),
        ("mine", LeadFilter { owner_id: Some(operator.user_id), ..Default::default() }),
        (
            "created within a month",
            LeadFilter {
                created_from: Some(anchor - chrono::Days::new(60)),
                created_to: Some(anchor - chrono::Days::new(30)),
                ..Default::default()
            },
        ),
    ] {
        let filter = crm::board::BoardFilter { leads, ..Default::default() };
        time(&format!("board, {what}"), || async { crm.lead_board(&operator, &filter).await.map(drop) }).await;
    }
    time("picker search (campaigns, \"осень\")", || async {
        crm.campaign_options(&operator, "осень").await.map(drop)
    })
    .await;
    time("lead duplicates on a card", || async { crm.lead_duplicates(manager, LeadId::new(lead)).await.map(drop) })
        .await;
    // a bulk owner change of one page of leads, back and forth so that every run changes them
    let page: Vec<i64> = crm
        .list_leads(&admin, &LeadFilter::default())
        .await
        .expect("a page")
        .items
        .iter()
        .map(|l| l.id.get())
        .collect();
    let owners = [operator.user_id, manager.user_id];
    let mut turn = 0usize;
    time("bulk owner change, 50 leads", || {
        turn += 1;
        let selection = crm::bulk::Selection::Ids { ids: page.clone() };
        let action = crm::bulk::LeadAction::SetOwner { owner_id: owners[turn % 2] };
        let (crm, admin) = (&crm, &admin);
        async move { crm.bulk_leads(admin, &selection, &action).await.map(drop) }
    })
    .await;
    let statuses = [crm::leads::LeadStatus::InWork, crm::leads::LeadStatus::New];
    time("bulk status change, 50 leads", || {
        turn += 1;
        let selection = crm::bulk::Selection::Ids { ids: page.clone() };
        let action = crm::bulk::LeadAction::SetStatus { status: statuses[turn % 2], lost_reason_id: None };
        let (crm, admin) = (&crm, &admin);
        async move { crm.bulk_leads(admin, &selection, &action).await.map(drop) }
    })
    .await;
    let mut archived = false;
    let selection = crm::bulk::Selection::Ids { ids: page.clone() };
    time("bulk archive or restore, 50 leads", || {
        archived = !archived;
        let action = if archived { crm::bulk::LeadAction::Archive } else { crm::bulk::LeadAction::Restore };
        let (crm, admin, selection) = (&crm, &admin, &selection);
        async move { crm.bulk_leads(admin, selection, &action).await.map(drop) }
    })
    .await;
    if archived {
        // (the page left live for the rows after)
        crm.bulk_leads(&admin, &selection, &crm::bulk::LeadAction::Restore).await.expect("the page restored");
    }
    // one lead's name corrected, back and forth (its first letters change: the leads counted
    // per first letters follow; the lead is read first for its version, and the figure holds
    // both), and a new lead saved (its phone and e-mail checked against every lead)
    let names = ["Андреева Мария Петровна", "Яковлева Мария Петровна"];
    let edited = LeadId::new(page[0]);
    time("lead saved with another name", || {
        turn += 1;
        let full_name = names[turn % 2].to_owned();
        let (crm, admin) = (&crm, &admin);
        async move {
            let lead = crm.get_lead(admin, edited).await?;
            let input = crm::leads::LeadInput {
                full_name,
                phone: lead.phone.unwrap_or_default(),
                email: lead.email.unwrap_or_default(),
                campaign_id: lead.campaign_id,
                note: lead.note,
                ..Default::default()
            };
            crm.update_lead(admin, edited, lead.version, &input).await.map(drop)
        }
    })
    .await;
    let stamp = chrono::Utc::now().timestamp_micros();
    time("new lead saved", || {
        turn += 1;
        let input = crm::leads::LeadInput {
            full_name: "Новикова Елена Сергеевна".into(),
            email: format!("bench-{stamp}-{turn}@example.ru"),
            campaign_id: Some(CampaignId::new(7)),
            ..Default::default()
        };
        let (crm, operator) = (&crm, &operator);
        async move { crm.create_lead(operator, &input).await.map(drop) }
    })
    .await;
    time("my day (operator)", || async { crm.my_day(&operator).await.map(drop) }).await;
    time("task counts (the badge, each minute)", || async { crm.task_counts(&operator).await.map(drop) }).await;
    let mine = LeadFilter { owner_id: Some(operator.user_id), ..Default::default() };
    time("leads, mine, first page + total", || leads(crm, &operator, mine.clone())).await;
    // (every lead of the demo is the operator's)
    lead_pages(crm, &operator, "date, mine", mine.clone()).await;
    let mine_searched = LeadFilter { search: "смирнова".into(), ..mine.clone() };
    time("leads, mine, search by name", || leads(crm, &operator, mine_searched.clone())).await;
    time("history page, first page + total", || async {
        crm.history(&admin, &crm::history::HistoryFilter::default()).await.map(drop)
    })
    .await;
    let leads_only = crm::history::HistoryFilter { entity: Some("lead".into()), ..Default::default() };
    time("history page, one kind (leads)", || async { crm.history(&admin, &leads_only).await.map(drop) }).await;
    let users_only = crm::history::HistoryFilter { entity: Some("user".into()), ..Default::default() };
    time("history page, a rare kind (users)", || async { crm.history(&admin, &users_only).await.map(drop) }).await;
    let by_user = crm::history::HistoryFilter { user_id: Some(manager.user_id), ..Default::default() };
    time("history page, one user", || async { crm.history(&admin, &by_user).await.map(drop) }).await;
    let a_month = crm::history::HistoryFilter {
        from: Some(anchor - chrono::Days::new(60)),
        to: Some(anchor - chrono::Days::new(30)),
        ..Default::default()
    };
    time("history page, within a month", || async { crm.history(&admin, &a_month).await.map(drop) }).await;
    let leads_in_a_month = crm::history::HistoryFilter { entity: Some("lead".into()), ..a_month.clone() };
    time("history page, one kind within a month", || async { crm.history(&admin, &leads_in_a_month).await.map(drop) })
        .await;
}

/// The peak memory of this process since the last reset (Linux: VmHWM, reset by writing 5 to
/// clear_refs), in MB; `None` where that is not available.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb / 1024)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs `op` once (these take seconds) and prints its time, with the peak memory it reached.
async fn once<F, Fut, T>(what: &str, op: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = crm::Result<(T, String)>>,
{
    reset_peak_rss();
    let started = Instant::now();
    let (value, detail) = op().await.expect(what);
    let seconds = started.elapsed().as_secs_f64();
    record(what, seconds * 1000.0);
    let peak = peak_rss_mb().map_or_else(String::new, |mb| format!(", peak memory {mb} MB"));
    println!("{what:<46} {seconds:>10.1} s   ({detail}{peak})");
    value
}

/// Exports of every lead, an import of 100,000 new leads from CSV (each checked against every
/// lead for duplicates), a backup, its restore, and (from SQLite) the move to an office server.
async fn data_in_out(backend: &str, crm: &Crm, admin: &Actor, args: &Args) {
    use crm::export::{ExportList, Format};
    use crm::i18n::Lang;
    let dir = tempfile::tempdir().expect("temp dir");
    let quiet = |_: crm::backup::Progress| {};
    let formats = if args.wants("export") { &[Format::Xlsx, Format::Csv][..] } else { &[] };
    for &format in formats {
        let out = dir.path().join(format!("leads.{}", format.extension()));
        let what = ExportList::Leads(LeadFilter { include_archived: true, ..Default::default() });
        once(&format!("export every lead to {}", format.extension().to_uppercase()), || async {
            let done = crm.export(admin, &what, format, Lang::Ru, &out, &quiet).await?;
            let mb = std::fs::metadata(&out).map(|m| m.len()).unwrap_or_default() as f64 / 1e6;
            Ok(((), format!("{} rows, {mb:.0} MB file", done.rows)))
        })
        .await;
    }

    if args.wants("import") {
        import(crm, admin, args, dir.path()).await;
    }
    let file = dir.path().join("bench.crm-backup");
    if args.wants("backup") {
        backup_and_restore(crm, &file, &dir.path().join("aside.crm-backup")).await;
    }
    if backend == "sqlite" && args.wants("move") {
        let url = pg::postgres_database().await;
        let office = Crm::open(&url, Settings { role_prefix: pg::role_prefix(&url), ..Settings::default() })
            .await
            .expect("an empty office database");
        once("move to an empty office database (verified)", || async {
            let moved = crm::backup::move_to(crm.db(), office.db(), &quiet).await?;
            Ok(((), format!("{} rows", moved.tables.iter().map(|t| t.rows).sum::<u64>())))
        })
        .await;
        office.db().close().await;
    }
}

/// A backup of the whole database, its check, and its restore.
async fn backup_and_restore(crm: &Crm, file: &std::path::Path, aside: &std::path::Path) {
    let quiet = |_: crm::backup::Progress| {};
    let made = once("backup (whole database, verified)", || async {
        let info = crm::backup::make(crm.db(), file, &quiet).await?;
        let detail = format!("{:.0} MB", info.size_bytes as f64 / 1e6);
        Ok((info, detail))
    })
    .await;
    once("check a backup (integrity + checksums)", || async {
        crm::backup::check(&made.path).await?;
        Ok(((), String::new()))
    })
    .await;
    once("restore a backup (current kept aside, verified)", || async {
        let restored = crm::backup::restore(crm.db(), &made.path, aside, &quiet).await?;
        Ok(((), format!("{} rows", restored.replaced.tables.iter().map(|t| t.rows).sum::<u64>())))
    })
    .await;
}

/// An import of new leads (a tenth of the data set) from CSV, each row checked as the form
/// checks it and against every lead: one row in 50 has the phone of a lead the data set has (a
/// duplicate, skipped), one in 200 a malformed e-mail (rejected).
async fn import(crm: &Crm, admin: &Actor, args: &Args, dir: &std::path::Path) {
    use crm::i18n::Lang;
    let quiet = |_: crm::backup::Progress| {};
    let rows = (args.leads / 10).max(1_000);
    let csv = dir.join("new-leads.csv");
    let mut text = String::from("ФИО;Телефон;E-mail;Комментарий\n");
    for i in 0..rows {
        let phone = if i % 50 == 7 {
            // the demo generator's number of lead i + 1 (about 15 % of its leads have none)
            format!("+79{:09}", ((i as i64 + 1) * 7919 + 12_345_678) % 1_000_000_000)
        } else {
            // numbers of a range the demo data does not use
            format!("+7 (955) {:03}-{:02}-{:02}", i / 10_000, (i / 100) % 100, i % 100)
        };
        let email = if i % 200 == 3 { "нет почты" } else { "" };
        text.push_str(&format!("Новый Лид {i};{phone};{email};с выставки\n"));
    }
    std::fs::write(&csv, text).expect("write the CSV");
    let never = std::sync::atomic::AtomicBool::new(false);
    let options = crm::import::ImportOptions::default();
    once(&format!("import {rows} leads from CSV"), || async {
        let report = crm
            .import(admin, &csv, "new-leads.csv", crm::import::ImportKind::Leads, &options, Lang::Ru, &quiet, &never)
            .await?;
        let detail = format!(
            "{} created, {} skipped as duplicates, {} rejected",
            report.created,
            report.skipped,
            report.rejected.len()
        );
        Ok(((), detail))
    })
    .await;
}

/// Two entries on every lead's timeline besides the demo's story: a note and an edit with its
/// changes, at the lead's creation.
async fn add_history(crm: &Crm) -> i64 {
    let mut tx = crm.db().write().await.expect("write");
    // a database kept by --postgres-url has them from an earlier run (a SQLite file kept by
    // --keep is copied, and its copy thrown away)
    let earlier: i64 = tx
        .scalar(crm::db::Query::new(
            "select count(*) from (select 1 from audit_log
             where action = 'note' and details = 'Просил перезвонить после обеда' limit 1) e",
        ))
        .await
        .expect("an earlier run's entries");
    if earlier > 0 {
        tx.commit().await.expect("commit");
        return 0;
    }
    let added = tx
        .execute(crm::db::Query::new(
            "insert into audit_log (at, user_id, action, entity, entity_id, details, changes)
             select l.created_at, l.created_by, case n.k when 1 then 'note' else 'update' end, 'lead', l.id,
                    case n.k when 1 then 'Просил перезвонить после обеда' else l.full_name end,
                    case n.k when 2 then '[{\"field\":\"email\",\"old\":\"\",\"new\":\"a@example.ru\"}]' else '' end
             from leads l cross join (select 1 as k union all select 2) n",
        ))
        .await
        .expect("history entries");
    tx.commit().await.expect("commit");
    let mut tx = crm.db().write().await.expect("write");
    tx.execute(crm::db::Query::new("analyze")).await.expect("analyze");
    tx.commit().await.expect("commit");
    i64::try_from(added).unwrap_or(i64::MAX)
}

/// A lead a third of the way down the table with 5,000 notes on its timeline (added once: a
/// database kept by --postgres-url has them from an earlier run).
async fn busy_lead(crm: &Crm) -> i64 {
    let mut tx = crm.db().write().await.expect("write");
    let lead: i64 = tx.scalar(crm::db::Query::new("select max(id) / 3 from leads")).await.expect("a lead");
    let earlier: i64 = tx
        .scalar(
            crm::db::Query::new("select count(*) from audit_log where entity = 'lead' and entity_id = $1").bind(lead),
        )
        .await
        .expect("its entries");
    if earlier < 5_000 {
        tx.execute(
            crm::db::Query::new(
                "insert into audit_log (at, user_id, action, entity, entity_id, details, changes)
                 with recursive n(k) as (select 1 union all select k + 1 from n where k < 5000)
                 select l.created_at, l.created_by, 'note', 'lead', l.id, 'Звонок клиенту', ''
                 from leads l cross join n where l.id = $1",
            )
            .bind(lead),
        )
        .await
        .expect("the notes");
    }
    tx.commit().await.expect("commit");
    lead
}

/// A lead and a client from the middle of the tables.
async fn middle_records(crm: &Crm) -> (i64, i64) {
    let mut tx = crm.db().read().await.expect("read");
    let ids = tx
        .fetch_one(crm::db::Query::new(
            "select (select max(id) / 2 from leads), (select min(id) from clients where id >= (select max(id) / 2 from clients))",
        ))
        .await
        .expect("ids");
    tx.commit().await.expect("commit");
    ids
}

/// The statistics as the page asks for them: the figures, sorted and cut to the table's page.
async fn stats(crm: &Crm, actor: &Actor, filter: StatsFilter) -> crm::Result<()> {
    stats_page(crm, actor, filter, CampaignView::default()).await
}

async fn stats_page(crm: &Crm, actor: &Actor, filter: StatsFilter, view: CampaignView) -> crm::Result<()> {
    crm.campaign_stats_page(actor, &filter, &view).await.map(drop)
}

async fn leads(crm: &Crm, actor: &Actor, filter: LeadFilter) -> crm::Result<()> {
    crm.list_leads(actor, &filter).await.map(drop)
}

async fn time<F, Fut>(what: &str, mut op: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = crm::Result<()>>,
{
    let (rows, count) = ROWS.get().cloned().unwrap_or((None, RUNS));
    if rows.is_some_and(|rows| !rows.split(',').any(|part| what.contains(part))) {
        return;
    }
    op().await.expect(what);
    let mut runs = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        op().await.expect(what);
        runs.push(started.elapsed());
    }
    runs.sort();
    line(what, runs[count / 2], runs[0], runs[count - 1]);
}

fn line(what: &str, median: Duration, min: Duration, max: Duration) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    record(what, ms(median));
    println!("{what:<46} {:>10.1} ms (min {:.1}, max {:.1})", ms(median), ms(min), ms(max));
}
