//! A shared office under load: N computers, each its own `Crm` on the office server (as a staff
//! computer opens it: no owner's login) with one person signed in — operators, managers and
//! marketers in turn — working the same few hot leads, clients and contracts at once for a
//! while. Then the invariants are checked with plain SQL on the owner's connection.
//!
//! Used by the core suite (a short run that must pass) and by `cargo xtask soak` (long runs,
//! figures printed).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use sqlx::Connection as _;

use crm::campaigns::CampaignFilter;
use crm::clients::{ClientInput, Conversion};
use crm::config::OfficeServer;
use crm::contracts::ContractInput;
use crm::domain::id::{ClientId, ContractId, LeadId, ServiceId};
use crm::leads::{LeadFilter, LeadInput};
use crm::services::{ServiceFilter, ServiceInput};
use crm::stats::StatsFilter;
use crm::users::NewUser;
use crm::{Actor, Crm, Error, Settings};

pub const PASSWORD: &str = "correct horse battery";

pub struct Options {
    pub computers: usize,
    pub duration: Duration,
    /// Hot records of each kind: leads the operators edit, clients (each with a contract) the
    /// managers edit, and leads the managers race to convert.
    pub hot: usize,
    pub seed: u64,
    /// Restart the office server this long into the run, with this function (the harness's
    /// `pg::restart_server`).
    pub restart: Option<(Duration, fn())>,
}

/// What the run saw.
#[derive(Debug, Default)]
pub struct Report {
    pub operations: u64,
    /// Answers a person gets as such: someone else saved first, already converted, ...
    pub refused: BTreeMap<String, u64>,
    /// Failures of the server said in words (it does not answer, the outcome of a save is
    /// unknown): what a restart may cost, never a generic error.
    pub said: BTreeMap<String, u64>,
    /// What must never reach a person: generic database and internal errors, by message.
    pub failures: BTreeMap<String, u64>,
    pub latencies: Vec<Duration>,
    /// The same, by what was done (where the slow ones are).
    pub by_operation: BTreeMap<&'static str, Vec<Duration>>,
    /// Invariants the data broke, in words.
    pub violations: Vec<String>,
}

impl Report {
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    pub fn print(&self, options: &Options) {
        println!(
            "soak: {} computers for {:.0} s: {} operations ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms",
            options.computers,
            options.duration.as_secs_f64(),
            self.operations,
            self.operations as f64 / options.duration.as_secs_f64(),
            self.percentile(0.5).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
        );
        for (operation, latencies) in &self.by_operation {
            println!(
                "  {operation}: {} operations, p50 {:.1} ms, p99 {:.1} ms",
                latencies.len(),
                percentile(latencies, 0.5).as_secs_f64() * 1000.0,
                percentile(latencies, 0.99).as_secs_f64() * 1000.0,
            );
        }
        println!("  refused as people see it: {:?}", self.refused);
        println!("  server failures said in words: {:?}", self.said);
        println!("  errors people must never see: {} {:?}", self.failures.values().sum::<u64>(), self.failures);
        println!("  invariant violations: {} {:?}", self.violations.len(), self.violations);
    }
}

/// Acknowledged writes per record, to be found again in the data afterwards.
#[derive(Debug, Default)]
struct Acks {
    lead_updates: BTreeMap<LeadId, i64>,
    client_updates: BTreeMap<ClientId, i64>,
    contract_updates: BTreeMap<ContractId, i64>,
}

struct Hot {
    service: ServiceId,
    /// Leads the operators keep editing (never converted).
    leads: Vec<LeadId>,
    /// Leads the managers race to convert: one of them wins each.
    convertible: Vec<LeadId>,
    clients: Vec<ClientId>,
    contracts: Vec<ContractId>,
}

fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    sorted.get(((sorted.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or_default()
}

/// Runs the soak on the office database at `url` (the owner's login: it sets up the users and
/// the hot records, then checks the invariants), which must be new and empty.
pub async fn run(url: &str, settings: Settings, options: &Options) -> Report {
    let owner = Crm::open(url, settings.clone()).await.expect("open the office database as its owner");
    let admin = owner.create_first_admin("admin", "Администратор", PASSWORD).await.expect("first admin");
    let roles = ["operator", "manager", "marketer"];
    for role in roles {
        let user = NewUser {
            username: role.into(),
            full_name: format!("Soak {role}"),
            password: PASSWORD.into(),
            roles: vec![role.into()],
            extra_permissions: vec![],
        };
        owner.create_user(&admin, &user).await.expect("user");
    }
    let hot = hot_records(&owner, &admin, options.hot).await;
    let server = OfficeServer::from_url(url).expect("office server");

    let report = Arc::new(Mutex::new(Report::default()));
    let acks = Arc::new(Mutex::new(Acks::default()));
    let hot = Arc::new(hot);
    let deadline = Instant::now() + options.duration;
    let mut computers = Vec::new();
    for n in 0..options.computers {
        let office = Crm::open_office(&server, settings.clone());
        let role = roles[n % roles.len()];
        let person = office.sign_in(role, PASSWORD).await.expect("sign in");
        let (report, acks, hot) = (report.clone(), acks.clone(), hot.clone());
        let seed = options.seed.wrapping_mul(1000).wrapping_add(n as u64);
        computers.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut serial = 0u64;
            while Instant::now() < deadline {
                serial += 1;
                let operation = next_operation(role, &mut rng);
                let started = Instant::now();
                let outcome = work(&office, &person, operation, &hot, &mut rng, seed, serial, &acks).await;
                let took = started.elapsed();
                let mut report = report.lock().unwrap();
                report.operations += 1;
                report.latencies.push(took);
                report.by_operation.entry(operation).or_default().push(took);
                if let Err(e) = outcome {
                    let (bucket, key) = if expected(&e) {
                        (&mut report.refused, e.code().to_owned())
                    } else if let Some(code) = said_in_words(&e) {
                        (&mut report.said, code.to_owned())
                    } else {
                        (&mut report.failures, format!("{}: {e}", e.code()))
                    };
                    *bucket.entry(key).or_default() += 1;
                }
            }
        }));
    }
    if let Some((after, restart)) = options.restart {
        tokio::time::sleep(after).await;
        println!("soak: restarting the office server");
        tokio::task::spawn_blocking(restart).await.expect("restart");
        println!("soak: the office server is back");
    }
    for computer in computers {
        computer.await.expect("a computer's task");
    }
    let mut report = Arc::try_unwrap(report).expect("all computers done").into_inner().unwrap();
    let acks = Arc::try_unwrap(acks).expect("all computers done").into_inner().unwrap();
    let unknown = report.said.contains_key("outcome_unknown");
    report.violations = check(url, &acks, unknown).await;
    report
}

/// The message code of a failure of the server that a person is told in words.
fn said_in_words(error: &Error) -> Option<&'static str> {
    match error {
        Error::State { code: "outcome_unknown", .. } => Some("outcome_unknown"),
        other => crm::i18n::database_problem(other),
    }
}

/// A person's answer that is not a failure: someone else saved first, the lead is converted
/// already, its contact is taken, the contract belongs to another client, ...
fn expected(error: &Error) -> bool {
    matches!(error, Error::Conflict { .. } | Error::Invalid(_) | Error::State { .. })
        && !matches!(error, Error::State { code: "outcome_unknown", .. })
}

async fn hot_records(owner: &Crm, admin: &Actor, count: usize) -> Hot {
    let service = ServiceInput { name: "Сайт".into(), description: String::new(), price: "1000".into() };
    let service = owner.create_service(admin, &service).await.expect("service").id;
    let (mut leads, mut convertible, mut clients, mut contracts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..count * 3 {
        let input = LeadInput {
            full_name: format!("Горячий {i}"),
            phone: format!("+7 900 000 {:02} {:02}", i / 100, i % 100),
            ..Default::default()
        };
        let lead = owner.create_lead(admin, &input).await.expect("hot lead");
        if i >= count * 2 {
            convertible.push(lead.id);
        } else if i % 2 == 0 {
            let contract = ContractInput { name: format!("Д-{i}"), ..contract(service, "1000") };
            let conversion = Conversion::NewContract { contract, document: None };
            let client = owner.convert_lead(admin, lead.id, lead.version, conversion).await.expect("hot client");
            let filter = crm::contracts::ContractFilter { client_id: Some(client.id), ..Default::default() };
            contracts.push(owner.list_contracts(admin, &filter).await.expect("contracts").items[0].id);
            clients.push(client.id);
        } else {
            leads.push(lead.id);
        }
    }
    Hot { service, leads, convertible, clients, contracts }
}

fn contract(service: ServiceId, amount: &str) -> ContractInput {
    ContractInput {
        name: "Договор".into(),
        service_id: Some(service),
        signed_on: "2026-03-01".into(),
        valid_from: "2026-03-01".into(),
        valid_to: "2027-02-28".into(),
        amount: amount.into(),
    }
}

/// What a person of `role` does next, on a hot record most of the time.
fn next_operation(role: &str, rng: &mut rand_chacha::ChaCha8Rng) -> &'static str {
    match (role, rng.gen_range(0..4)) {
        ("operator", 0) => "create a lead",
        ("operator", 1 | 2) => "edit a hot lead",
        ("operator", _) => "search leads",
        ("manager", 0) => "edit a hot client",
        ("manager", 1) => "edit a hot contract",
        ("manager", 2) => "add a contract to a hot client",
        ("manager", _) => "convert a hot lead",
        ("marketer", 0 | 1) => "campaign statistics",
        ("marketer", 2) => "list campaigns",
        (_, _) => "list services",
    }
}

/// Does `operation` (from [`next_operation`]) as `person`.
#[allow(clippy::too_many_arguments)]
async fn work(
    office: &Crm,
    person: &Actor,
    operation: &str,
    hot: &Hot,
    rng: &mut rand_chacha::ChaCha8Rng,
    seed: u64,
    serial: u64,
    acks: &Mutex<Acks>,
) -> crm::Result<()> {
    fn pick<T: Copy>(rng: &mut rand_chacha::ChaCha8Rng, ids: &[T]) -> T {
        ids[rng.gen_range(0..ids.len())]
    }
    match operation {
        "create a lead" => {
            // a mobile number of this computer's own (9, then 10-99 by computer, then the serial):
            // never a hot lead's (900 000 ...), never another computer's, ten million a run
            let phone = format!("+79{:02}{:07}", 10 + seed % 1000 % 90, serial % 10_000_000);
            let input = LeadInput { full_name: format!("Новый {seed}-{serial}"), phone, ..Default::default() };
            office.create_lead(person, &input).await.map(drop)
        }
        "edit a hot lead" => {
            let id = pick(rng, &hot.leads);
            let lead = office.get_lead(person, id).await?;
            let input = LeadInput {
                full_name: lead.full_name.clone(),
                phone: lead.phone.clone().unwrap_or_default(),
                email: lead.email.clone().unwrap_or_default(),
                campaign_id: lead.campaign_id,
                note: format!("звонок {seed}-{serial}"),
                ..Default::default()
            };
            office.update_lead(person, id, lead.version, &input).await?;
            *acks.lock().unwrap().lead_updates.entry(id).or_default() += 1;
            Ok(())
        }
        "search leads" => {
            let filter = LeadFilter { search: "горячий".into(), ..Default::default() };
            office.list_leads(person, &filter).await.map(drop)
        }
        "edit a hot client" => {
            let id = pick(rng, &hot.clients);
            let client = office.get_client(person, id).await?;
            // a new name each time: the client's contracts are searched by it
            let input = ClientInput {
                full_name: format!("Клиент {id} {seed}-{serial}"),
                phone: client.phone.clone().unwrap_or_default(),
                email: client.email.clone().unwrap_or_default(),
                note: format!("встреча {seed}-{serial}"),
            };
            office.update_client(person, id, client.version, &input).await?;
            *acks.lock().unwrap().client_updates.entry(id).or_default() += 1;
            Ok(())
        }
        "edit a hot contract" => {
            let id = pick(rng, &hot.contracts);
            let current = office.get_contract(person, id).await?;
            let amount = format!("{}", rng.gen_range(1000..100_000));
            let input = ContractInput { name: current.name.clone(), ..contract(hot.service, &amount) };
            office.update_contract(person, id, current.version, &input).await?;
            *acks.lock().unwrap().contract_updates.entry(id).or_default() += 1;
            Ok(())
        }
        "add a contract to a hot client" => {
            let id = pick(rng, &hot.clients);
            let input = ContractInput { name: format!("Доп {seed}-{serial}"), ..contract(hot.service, "500") };
            office.add_contract_to_client(person, id, &input, None).await.map(drop)
        }
        "convert a hot lead" => {
            // converting a lead: one of the managers wins, the others hear it is converted
            let id = pick(rng, &hot.convertible);
            let lead = office.get_lead(person, id).await?;
            let input = ContractInput { name: format!("Конв {seed}-{serial}"), ..contract(hot.service, "700") };
            let conversion = Conversion::NewContract { contract: input, document: None };
            office.convert_lead(person, id, lead.version, conversion).await.map(drop)
        }
        "campaign statistics" => office.campaign_stats(person, &StatsFilter::default()).await.map(drop),
        "list campaigns" => office.list_campaigns(person, &CampaignFilter::default()).await.map(drop),
        _ => office.list_services(person, &ServiceFilter::default()).await.map(drop),
    }
}

/// The invariants, each a query on the owner's connection that finds what breaks it.
async fn check(url: &str, acks: &Acks, unknown_outcomes: bool) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("owner's connection");
    let mut violations = Vec::new();
    let checks = [
        (
            "a converted lead without exactly one client",
            "select count(*) from leads l where l.status = 'converted'
             and (select count(*) from clients c where c.lead_id = l.id) <> 1",
        ),
        ("a client of a lead that is not converted", "select count(*) from clients c join leads l on l.id = c.lead_id where l.status <> 'converted'"),
        (
            "a client whose totals differ from its contracts",
            "select count(*) from clients c where c.contracts <> (select count(*) from contracts k where k.client_id = c.id)
             or c.revenue <> (select coalesce(sum(k.amount), 0) from contracts k where k.client_id = c.id)",
        ),
        (
            "a phone held by two live leads",
            "select count(*) from (select phone from leads where is_archived = false and phone is not null
             group by phone having count(*) > 1) d",
        ),
        (
            "a kept lead count that differs from the leads",
            "select count(*) from (
                 select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived,
                        count(*) as n
                 from leads group by 1, 2, 3, 4
             ) r full join (select * from lead_counts where n <> 0) k
               on (k.campaign_id, k.owner_id, k.status, k.is_archived) = (r.campaign_id, r.owner_id, r.status, r.is_archived)
             where k.n is distinct from r.n",
        ),
        (
            "a write's change to the counts left unapplied after its commit",
            "select (select count(*) from lead_count_deltas) + (select count(*) from stat_day_deltas)
                    + (select count(*) from list_count_deltas) + (select count(*) from signing_day_deltas)
                    + (select count(*) from count_delta_commits)",
        ),
        (
            "a day's kept count of contracts signed, or following one signed, that differs from the contracts",
            "select count(*) from (
                 select day, sum(signed) as signed, sum(continued) as continued from (
                     select signed_on as day, 1 as signed, 0 as continued from contracts where client_id is not null
                     union all
                     select prev_signed_on, 0, 1 from contracts where client_id is not null and prev_signed_on is not null
                 ) x group by day
             ) r full join (select * from signing_days where signed <> 0 or continued <> 0) k on k.day = r.day
             where k.signed is distinct from r.signed or k.continued is distinct from r.continued",
        ),
    ];
    for (what, sql) in checks {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await.expect(what);
        if n != 0 {
            violations.push(format!("{what}: {n}"));
        }
    }
    // a contract is found by its client's current name (a client's edit rewrites it)
    let searched: Vec<(String, String)> =
        sqlx::query_as("select k.search, c.full_name from contracts k join clients c on c.id = k.client_id")
            .fetch_all(&mut conn)
            .await
            .expect("contracts and their clients");
    let stale = searched.iter().filter(|(search, name)| !search.ends_with(&name.to_lowercase())).count();
    if stale != 0 {
        violations.push(format!("a contract searched by its client's old name: {stale}"));
    }
    // every acknowledged write is in the history, and nothing else was written
    fn by_id<I: Copy + Into<i64>>(acked: &BTreeMap<I, i64>) -> BTreeMap<i64, i64> {
        acked.iter().map(|(id, count)| ((*id).into(), *count)).collect()
    }
    let audited = [
        ("lead", by_id(&acks.lead_updates)),
        ("client", by_id(&acks.client_updates)),
        ("contract", by_id(&acks.contract_updates)),
    ];
    for (entity, acked) in &audited {
        for (id, count) in acked {
            let written: i64 = sqlx::query_scalar(
                "select count(*) from audit_log where entity = $1 and entity_id = $2 and action = 'update'",
            )
            .bind(entity)
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("audit count");
            // a save whose outcome was unknown may have been kept: then only "none lost"
            if written < *count || (written > *count && !unknown_outcomes) {
                violations.push(format!("{entity} {id}: {count} acknowledged updates, {written} in the history"));
            }
        }
    }
    violations
}
