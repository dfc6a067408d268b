//! Fuzzing the use cases: random input of every shape a window, a CLI or a hostile peer could
//! send (any Unicode with NUL, bidi marks and emoji, megabyte strings, SQL, LIKE and FTS syntax,
//! numbers and dates at every edge, any page, id, version and sort) goes into the use cases of
//! every kind of record, on one backend, as the people of an office. Each answer must be a
//! result or an error a person can read: a field error, "not found", "forbidden", "changed by
//! someone else", a refused state. A generic database or internal error, or a panic, is a
//! failure; so is anything accepted that does not read back as the form's rules made it.
//!
//! Used by the core suite (a few thousand cases on each backend) and by `cargo xtask fuzz`
//! (long runs, any seed). Inputs come from proptest's strategies; a failing input is shrunk
//! (proptest's value trees) to the smallest that still fails before it is reported.

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crm::app::Direction;
use crm::campaigns::{CampaignFilter, CampaignInput, CampaignSort, CampaignStatus};
use crm::clients::{ClientFilter, ClientInput, ClientSort, Conversion};
use crm::contracts::{ContractFilter, ContractInput, ContractSort};
use crm::domain::id::{CampaignId, ChannelId, ClientId, LeadId, LostReasonId, ServiceId, UserId, Version};
use crm::history::{HistoryFilter, Record};
use crm::leads::{LeadFilter, LeadInput, LeadSort, LeadStatus};
use crm::services::{ServiceFilter, ServiceInput, ServiceSort};
use crm::stats::{ClientSalesFilter, StatsFilter};
use crm::tasks::{TaskFilter, TaskInput, TaskKind, TaskState};
use crm::users::{NewUser, UserUpdate};
use crm::{Actor, Crm, Error, PageRequest};

pub const PASSWORD: &str = "correct horse battery";

pub struct Options {
    pub cases: u32,
    pub seed: u64,
}

/// What a run saw.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    pub accepted: u64,
    /// Answers people get as such, by kind (`invalid:field:code`, `forbidden`, ...).
    pub refused: BTreeMap<String, u64>,
    /// Inputs that ended in a generic error, a panic or a wrong read-back: each shrunk, with why.
    pub failures: Vec<String>,
}

impl Report {
    pub fn print(&self, backend: &str) {
        println!(
            "fuzz {backend}: {} cases, {} accepted, {} refused in words, {} failures",
            self.cases,
            self.accepted,
            self.refused.values().sum::<u64>(),
            self.failures.len()
        );
        let mut kinds: Vec<_> = self.refused.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = kinds.iter().take(12).map(|(k, n)| format!("{k} {n}")).collect();
        println!("  most frequent refusals: {}", top.join(", "));
        for failure in &self.failures {
            println!("  FAILURE {failure}");
        }
    }
}

/// A record picked for an operation: one the run made (by its index, modulo how many there
/// are), or a raw id that names nothing (or something of another kind).
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    Known(usize),
    Raw(i64),
}

/// The version an edit claims to be made on: the record's current one, or any number.
#[derive(Debug, Clone, Copy)]
pub enum Ver {
    Current,
    Raw(i64),
}

/// One call of one use case, as a person (by role) makes it.
#[derive(Debug, Clone)]
pub enum Op {
    CreateLead(LeadInput, [Option<Pick>; 3]),
    UpdateLead(Pick, Ver, LeadInput),
    SetLeadStatus(Pick, Ver, LeadStatus, Option<Pick>),
    ArchiveLead(Pick, Ver, bool),
    ListLeads(LeadFilter),
    Board(LeadFilter, Option<i64>),
    LeadCard(Pick),
    Duplicates(Pick),
    Merge(Pick, Pick, Vec<String>),
    Convert(Pick, Ver, ContractInput),
    CreateService(ServiceInput),
    UpdateService(Pick, Ver, ServiceInput),
    ListServices(ServiceFilter),
    CreateCampaign(CampaignInput, [Option<Pick>; 2]),
    UpdateCampaign(Pick, Ver, CampaignInput),
    ListCampaigns(CampaignFilter),
    Pickers(String),
    CreateChannel(String),
    CreateLostReason(String),
    UpdateClient(Pick, Ver, ClientInput),
    ListClients(ClientFilter),
    CreateContract(ContractInput, Option<Pick>),
    AddContract(Pick, ContractInput),
    ListContracts(ContractFilter),
    Stats(StatsFilter),
    Sales(ClientSalesFilter),
    History(HistoryFilter),
    Timeline(Pick, PageRequest),
    AddNote(Pick, String),
    CreateTask(TaskInput, Option<Pick>),
    ListTasks(TaskFilter),
    CreateUser(NewUser),
    UpdateUser(Pick, Ver, UserUpdate),
    ResetPassword(Pick, String),
    SignIn(String, String),
    SaveFilter(String, String, serde_json::Value),
}

/// Who makes a call: index into the run's people (administrator, operator, manager, marketer).
#[derive(Debug, Clone)]
pub struct Case {
    pub person: usize,
    pub op: Op,
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Text people could never type but a peer could send, and text they do.
const NASTY: &[&str] = &[
    "",
    " ",
    "\0",
    "a\0b",
    "\u{202e}",
    "\u{200f}",
    "\u{2066}x\u{2069}",
    "\u{feff}",
    "\u{1b}[31m",
    "\r\n",
    "\t",
    "%",
    "_",
    "\\",
    "'",
    "''",
    "\"",
    "';--",
    "' or 1=1 --",
    "%_\\%",
    "NEAR(a b)",
    "\"a\" AND \"b\"",
    "*",
    "-",
    "^",
    "a OR b",
    "$1",
    "?",
    "\\x00",
    "😀",
    "👨‍👩‍👧",
    "İ",
    "ß",
    "ﬃ",
    "Ё",
    "й",
    "й",
    "\u{0301}",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "مرحبا",
    "שלום",
    "\u{fffd}",
    "\u{10ffff}",
    "NULL",
    "null",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
];

fn nasty() -> impl Strategy<Value = String> {
    prop::sample::select(NASTY).prop_map(str::to_owned)
}

/// Any text: plausible words, arbitrary Unicode, the nasty pieces above, combinations of them,
/// and lengths around every limit up to a megabyte.
pub fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[А-Яа-яЁё]{1,12}( [А-Яа-я]{1,12}){0,2}",
        2 => "[a-zA-Z0-9 ]{0,20}",
        3 => any::<String>(),
        3 => nasty(),
    ];
    prop_oneof![
        6 => piece.clone(),
        3 => prop::collection::vec(piece, 1..5).prop_map(|parts| parts.concat()),
        1 => (prop::sample::select(&[1usize, 99, 100, 101, 199, 200, 201, 254, 255, 256, 1000, 2000, 2001, 5000,
            10_001, 50_001, 1 << 20][..]), prop::sample::select(&["я", "a", " ", "😀", "%", "\0"][..]))
            .prop_map(|(n, c)| c.repeat(n)),
    ]
}

/// Phone numbers as people write them, and not.
pub fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "\\+79[0-9]{9}",
        2 => "8 ?\\(?9[0-9]{2}\\)? ?[0-9]{3}-?[0-9]{2}-?[0-9]{2}",
        2 => "\\+[0-9]{1,3} [0-9]{2,4} [0-9]{3,8}",
        1 => "[0-9+() -]{0,25}",
        1 => "[٠-٩０-９]{5,12}",
        1 => Just(String::new()),
        2 => text(),
    ]
}

pub fn email() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,15}\\.[a-z]{2,6}",
        1 => "[A-Z]{1,10}@[A-Z]{1,10}\\.RU",
        1 => "[а-я]{1,10}@[а-я]{1,10}\\.рф",
        1 => "[a-z]{1,64}@[a-z]{1,63}\\.[a-z]{2,3}",
        1 => Just(String::new()),
        2 => text(),
    ]
}

/// Amounts as people type them, and the edges of the type that holds them.
pub fn money() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9]{1,7}([.,][0-9]{1,2})?",
        2 => "[0-9]{1,3}( [0-9]{3}){0,4},[0-9]{2}",
        2 => prop::sample::select(&["0", "-0", "-1", "0,001", "1.005", "1e10", "1E-2", "NaN", "inf", "∞", "1,2,3",
            "99999999999999999999", "79228162514264337593543950335", "79228162514264337593543950336",
            "-79228162514264337593543950335", "9223372036854775807", "92233720368547758.08", " 12 ", "12 ₽",
            "₽12", "1 000 000,00", "0x10", "+5", "--5", "٣", "１２"][..]).prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
        1 => text(),
    ]
}

/// Dates as text, in both languages' forms and outside any calendar.
pub fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => date().prop_map(|d| d.format("%Y-%m-%d").to_string()),
        2 => date().prop_map(|d| d.format("%d.%m.%Y").to_string()),
        2 => prop::sample::select(&["", "2026-02-29", "2024-02-29", "2026-13-01", "2026-00-10", "0000-01-01",
            "-5000-01-01", "+275760-09-13", "9999-12-31", "10000-01-01", "1900-01-01", "1969-12-31", "31.12.9999",
            "29.02.2026", "2026-1-1", "2026/11/29", "tomorrow", "2026-11-29T10:00", "2026-11-29 10:00"][..])
            .prop_map(str::to_owned),
        1 => "-?[0-9]{1,7}-[0-9]{1,2}-[0-9]{1,2}",
        1 => text(),
    ]
}

/// A day anywhere in chrono's range, mostly near today.
pub fn date() -> impl Strategy<Value = NaiveDate> {
    let today = chrono::Utc::now().date_naive().num_days_from_ce();
    prop_oneof![
        4 => today - 800..today + 800,
        1 => NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce(),
        1 => prop::sample::select(vec![NaiveDate::MIN.num_days_from_ce(), NaiveDate::MAX.num_days_from_ce(),
            1, 0, -1, 719_163]),
    ]
    .prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).expect("in range"))
}

fn date_time_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (date(), 0u32..24, 0u32..60).prop_map(|(d, h, m)| format!("{}T{h:02}:{m:02}", d.format("%Y-%m-%d"))),
        1 => (date(), 0u32..30, 0u32..70).prop_map(|(d, h, m)| format!("{} {h}:{m}", d.format("%d.%m.%Y"))),
        1 => date_text(),
    ]
}

fn number() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -3i64..300,
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::from(i32::MAX),
            i64::from(i32::MAX) + 1, i64::MAX - 1, i64::MAX]),
        1 => any::<i64>(),
    ]
}

fn page() -> impl Strategy<Value = PageRequest> {
    (number(), number(), prop::option::of(number()), prop::option::of(number()), any::<bool>())
        .prop_map(|(offset, limit, after, before, last)| PageRequest { offset, limit, after, before, last })
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![8 => any::<usize>().prop_map(Pick::Known), 1 => number().prop_map(Pick::Raw)]
}

fn ver() -> impl Strategy<Value = Ver> {
    prop_oneof![6 => Just(Ver::Current), 1 => number().prop_map(Ver::Raw)]
}

fn direction() -> impl Strategy<Value = Option<Direction>> {
    prop::option::of(prop::sample::select(vec![Direction::Asc, Direction::Desc]))
}

fn lead_status() -> impl Strategy<Value = LeadStatus> {
    prop::sample::select(LeadStatus::ALL.to_vec())
}

fn maybe_date() -> impl Strategy<Value = Option<NaiveDate>> {
    prop::option::weighted(0.3, date())
}

fn lead_input() -> impl Strategy<Value = LeadInput> {
    (text(), phone(), email(), text(), prop::option::weighted(0.3, lead_status())).prop_map(
        |(full_name, phone, email, note, status)| LeadInput {
            full_name,
            phone,
            email,
            note,
            status,
            ..Default::default()
        },
    )
}

fn lead_filter() -> impl Strategy<Value = LeadFilter> {
    (
        text(),
        prop::option::weighted(0.2, lead_status()),
        prop::option::weighted(0.2, number()),
        prop::option::weighted(0.1, number()),
        (maybe_date(), maybe_date()),
        (any::<bool>(), any::<bool>()),
        prop::sample::select(vec![LeadSort::CreatedAt, LeadSort::FullName, LeadSort::Status]),
        direction(),
        page(),
    )
        .prop_map(
            |(
                search,
                status,
                campaign_id,
                owner_id,
                (created_from, created_to),
                (include_archived, duplicates),
                sort,
                direction,
                page,
            )| {
                LeadFilter {
                    search,
                    status,
                    campaign_id: campaign_id.map(CampaignId::new),
                    owner_id: owner_id.map(UserId::new),
                    created_from,
                    created_to,
                    include_archived,
                    duplicates,
                    sort,
                    direction,
                    page,
                }
            },
        )
}

fn service_input() -> impl Strategy<Value = ServiceInput> {
    (text(), text(), money()).prop_map(|(name, description, price)| ServiceInput { name, description, price })
}

fn campaign_input() -> impl Strategy<Value = CampaignInput> {
    (text(), money(), date_text(), date_text()).prop_map(|(name, budget, starts_on, ends_on)| CampaignInput {
        name,
        budget,
        starts_on,
        ends_on,
        service_id: None,
        channel_id: None,
    })
}

fn contract_input() -> impl Strategy<Value = ContractInput> {
    (text(), date_text(), date_text(), date_text(), money()).prop_map(
        |(name, signed_on, valid_from, valid_to, amount)| ContractInput {
            name,
            service_id: None,
            signed_on,
            valid_from,
            valid_to,
            amount,
        },
    )
}

fn list_ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => lead_filter().prop_map(Op::ListLeads),
        1 => (lead_filter(), prop::option::of(number())).prop_map(|(f, n)| Op::Board(f, n)),
        1 => (text(), any::<bool>(), prop::sample::select(vec![ServiceSort::Name, ServiceSort::Price, ServiceSort::CreatedAt]),
            direction(), page())
            .prop_map(|(search, include_archived, sort, direction, page)| Op::ListServices(ServiceFilter {
                search, include_archived, sort, direction, page })),
        1 => (text(), prop::option::of(prop::sample::select(vec![CampaignStatus::Planned, CampaignStatus::Active,
            CampaignStatus::Finished])), prop::option::of(number()), prop::option::of(number()), any::<bool>(),
            prop::sample::select(vec![CampaignSort::Name, CampaignSort::StartsOn, CampaignSort::Budget,
            CampaignSort::CreatedAt]), direction(), page())
            .prop_map(|(search, status, channel_id, service_id, include_archived, sort, direction, page)| {
                Op::ListCampaigns(CampaignFilter { search, status, channel_id: channel_id.map(ChannelId::new), service_id: service_id.map(ServiceId::new), include_archived, sort,
                    direction, page })
            }),
        1 => (text(), prop::option::of(number()), prop::option::of(number()), any::<bool>(),
            prop::sample::select(vec![ClientSort::CreatedAt, ClientSort::FullName, ClientSort::Revenue]), direction(), page())
            .prop_map(|(search, campaign_id, owner_id, include_archived, sort, direction, page)| {
                Op::ListClients(ClientFilter { search, campaign_id: campaign_id.map(CampaignId::new), owner_id: owner_id.map(UserId::new), include_archived, sort, direction, page })
            }),
        1 => (text(), prop::option::of(number()), prop::option::of(number()), (any::<bool>(), any::<bool>()),
            (maybe_date(), maybe_date()), any::<bool>(), prop::sample::select(vec![ContractSort::SignedOn,
            ContractSort::Name, ContractSort::Amount, ContractSort::ValidTo]), direction(), page())
            .prop_map(|(search, service_id, client_id, (unassigned_only, expiring), (signed_from, signed_to),
                include_archived, sort, direction, page)| {
                Op::ListContracts(ContractFilter { search, service_id: service_id.map(ServiceId::new), client_id: client_id.map(ClientId::new), unassigned_only, expiring, signed_from,
                    signed_to, include_archived, sort, direction, page })
            }),
        2 => (maybe_date(), maybe_date(), prop::option::of(number()), prop::option::of(number()))
            .prop_map(|(from, to, channel_id, service_id)| Op::Stats(StatsFilter { from, to, channel_id: channel_id.map(ChannelId::new), service_id: service_id.map(ServiceId::new) })),
        1 => (text(), maybe_date(), maybe_date(), page())
            .prop_map(|(search, from, to, page)| Op::Sales(ClientSalesFilter { search, from, to, page })),
        1 => (prop::option::of(number()), prop::option::of(prop_oneof![3 => prop::sample::select(vec!["lead", "client",
            "contract", "service", "campaign", "user", "task"]).prop_map(str::to_owned), 1 => text()]),
            maybe_date(), maybe_date(), page())
            .prop_map(|(user_id, entity, from, to, page)| Op::History(HistoryFilter { user_id: user_id.map(UserId::new), entity, from, to, page })),
        1 => (pick(), page()).prop_map(|(p, page)| Op::Timeline(p, page)),
        1 => (prop::option::of(number()), any::<bool>(), prop::sample::select(vec![TaskState::Open, TaskState::Done,
            TaskState::All]), page())
            .prop_map(|(assignee_id, everyone, state, page)| Op::ListTasks(TaskFilter { assignee_id: assignee_id.map(UserId::new), everyone, state, page,
                ..Default::default() })),
        1 => text().prop_map(Op::Pickers),
        1 => pick().prop_map(Op::LeadCard),
        1 => pick().prop_map(Op::Duplicates),
    ]
}

fn roles() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec!["operator", "manager", "marketer", "administrator"]).prop_map(str::to_owned),
            1 => text(),
        ],
        0..4,
    )
}

fn write_ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (lead_input(), [prop::option::of(pick()), prop::option::of(pick()), prop::option::of(pick())])
            .prop_map(|(input, picks)| Op::CreateLead(input, picks)),
        3 => (pick(), ver(), lead_input()).prop_map(|(p, v, input)| Op::UpdateLead(p, v, input)),
        2 => (pick(), ver(), lead_status(), prop::option::of(pick())).prop_map(|(p, v, s, r)| Op::SetLeadStatus(p, v, s, r)),
        1 => (pick(), ver(), any::<bool>()).prop_map(|(p, v, a)| Op::ArchiveLead(p, v, a)),
        1 => (pick(), pick(), prop::collection::vec(prop_oneof![prop::sample::select(vec!["full_name", "phone",
            "email", "campaign_id", "note", "status", "owner_id"]).prop_map(str::to_owned), text()], 0..4))
            .prop_map(|(a, b, take)| Op::Merge(a, b, take)),
        2 => (pick(), ver(), contract_input()).prop_map(|(p, v, c)| Op::Convert(p, v, c)),
        3 => service_input().prop_map(Op::CreateService),
        1 => (pick(), ver(), service_input()).prop_map(|(p, v, s)| Op::UpdateService(p, v, s)),
        3 => (campaign_input(), [prop::option::of(pick()), prop::option::of(pick())])
            .prop_map(|(c, picks)| Op::CreateCampaign(c, picks)),
        1 => (pick(), ver(), campaign_input()).prop_map(|(p, v, c)| Op::UpdateCampaign(p, v, c)),
        1 => text().prop_map(Op::CreateChannel),
        1 => text().prop_map(Op::CreateLostReason),
        2 => (pick(), ver(), (text(), phone(), email(), text()))
            .prop_map(|(p, v, (full_name, phone, email, note))| Op::UpdateClient(p, v, ClientInput { full_name, phone,
                email, note })),
        2 => (contract_input(), prop::option::of(pick())).prop_map(|(c, p)| Op::CreateContract(c, p)),
        1 => (pick(), contract_input()).prop_map(|(p, c)| Op::AddContract(p, c)),
        3 => (pick(), text()).prop_map(|(p, body)| Op::AddNote(p, body)),
        2 => (text(), prop::sample::select(vec![TaskKind::Call, TaskKind::Meeting, TaskKind::Email, TaskKind::Other]),
            date_time_text(), prop::option::of(pick()))
            .prop_map(|(subject, kind, due_at, record)| Op::CreateTask(TaskInput { subject, kind, due_at, assignee_id: None,
                record: None }, record)),
        1 => (prop_oneof![3 => "[a-z][a-z0-9._-]{0,20}", 1 => text()], text(),
            prop_oneof![3 => "[a-zA-Z0-9 !@#]{8,30}", 1 => text()],
            roles())
            .prop_map(|(username, full_name, password, roles)| Op::CreateUser(NewUser { username, full_name, password, roles,
                extra_permissions: vec![] })),
        1 => (pick(), ver(), text(), any::<bool>(), roles())
            .prop_map(|(p, v, full_name, is_active, roles)| Op::UpdateUser(p, v, UserUpdate { full_name, is_active, roles,
                extra_permissions: vec![] })),
        1 => (pick(), prop_oneof![3 => "[a-zA-Z0-9 !@#]{8,30}", 1 => text()]).prop_map(|(p, pw)| Op::ResetPassword(p, pw)),
        1 => (prop_oneof![Just("admin".to_owned()), text()], text()).prop_map(|(u, p)| Op::SignIn(u, p)),
        1 => (prop_oneof![3 => prop::sample::select(vec!["leads", "clients", "contracts", "campaigns", "services"])
            .prop_map(str::to_owned), 1 => text()], text(), prop_oneof![
                Just(serde_json::json!({})),
                text().prop_map(|s| serde_json::json!({ "search": s, "status": "new" })),
                text().prop_map(serde_json::Value::String),
                Just(serde_json::json!({ "page": { "offset": -1, "limit": 1e300 }, "sort": "nope" })),
                text().prop_map(|s| serde_json::json!([s, 1, null, {"a": [true]}])),
            ])
            .prop_map(|(list, name, filter)| Op::SaveFilter(list, name, filter)),
    ]
}

pub fn case() -> impl Strategy<Value = Case> {
    (prop_oneof![3 => Just(0usize), 1 => 1usize..4], prop_oneof![3 => write_ops(), 2 => list_ops()])
        .prop_map(|(person, op)| Case { person, op })
}

// ---------------------------------------------------------------------------------------------
// Running

/// The records a run has made, by kind, with the last version it saw of each.
#[derive(Debug, Default, Clone)]
struct Known {
    leads: Vec<(i64, i64)>,
    services: Vec<(i64, i64)>,
    campaigns: Vec<(i64, i64)>,
    clients: Vec<(i64, i64)>,
    reasons: Vec<i64>,
    channels: Vec<i64>,
    users: Vec<i64>,
    /// Users the run made (the people of the run are not edited: they keep working).
    made_users: Vec<(i64, i64)>,
}

fn id_of(list: &[(i64, i64)], pick: Pick) -> (i64, i64) {
    match pick {
        Pick::Known(i) if !list.is_empty() => list[i % list.len()],
        // none made yet: an id no record has (not 1, the administrator, for users)
        Pick::Known(_) => (i64::MAX, 1),
        Pick::Raw(id) => (id, 1),
    }
}

/// A user to edit: one the run made, never one of its people (who keep working as they are).
fn other_user(known: &Known, people: &[Actor], pick: Pick) -> (i64, i64) {
    let (id, version) = id_of(&known.made_users, pick);
    if people.iter().any(|p| p.user_id == UserId::new(id)) {
        (i64::MAX, version)
    } else {
        (id, version)
    }
}

fn plain_id(list: &[i64], pick: Pick) -> i64 {
    match pick {
        Pick::Known(i) if !list.is_empty() => list[i % list.len()],
        Pick::Known(_) => 1,
        Pick::Raw(id) => id,
    }
}

fn version(current: i64, v: Ver) -> i64 {
    match v {
        Ver::Current => current,
        Ver::Raw(n) => n,
    }
}

/// What one call came to.
enum Outcome {
    Accepted,
    Refused(String),
    Failed(String),
}

/// A person's view of an error: refused in words, or a failure people must never see.
fn judge(error: &Error) -> Outcome {
    match error {
        Error::Invalid(fields) => {
            let f = &fields[0];
            Outcome::Refused(format!("invalid:{}:{}", f.field, f.code))
        }
        Error::Forbidden(p) => Outcome::Refused(format!("forbidden:{p}")),
        Error::NotFound { entity, .. } => Outcome::Refused(format!("not_found:{entity}")),
        Error::Conflict { entity, .. } => Outcome::Refused(format!("conflict:{entity}")),
        Error::State { code, .. } => Outcome::Refused(format!("state:{code}")),
        Error::BadCredentials => Outcome::Refused("bad_credentials".into()),
        Error::Throttled { .. } => Outcome::Refused("throttled".into()),
        Error::Deactivated => Outcome::Refused("deactivated".into()),
        Error::Unauthenticated => Outcome::Refused("unauthenticated".into()),
        Error::PasswordChangeRequired => Outcome::Refused("password_change_required".into()),
        other => Outcome::Failed(format!("{other}")),
    }
}

fn answer<T>(result: &crm::Result<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Accepted,
        Err(e) => judge(e),
    }
}

/// A name as the forms keep it: trimmed, inner white space folded.
fn folded(input: &str) -> String {
    input.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Equal as the window would receive them.
fn same<T: serde::Serialize>(what: &str, sent: &T, read: &T) -> Result<(), String> {
    let (a, b) = (serde_json::to_value(sent).unwrap(), serde_json::to_value(read).unwrap());
    if a == b {
        Ok(())
    } else {
        Err(format!("{what} read back differs: saved {a} read {b}"))
    }
}

fn expect(what: &str, ok: bool) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

/// Calls the use case of `case` on `crm` as one of `people`; returns its outcome, and the
/// record it made or changed (kind, id, version) so that later cases can work on it.
async fn call(crm: Crm, people: Vec<Actor>, known: Known, case: Case) -> (Outcome, Option<(&'static str, i64, i64)>) {
    let actor = &people[case.person % people.len()];
    let mut made = None;
    let checked = |result: Result<(), String>| match result {
        Ok(()) => Outcome::Accepted,
        Err(why) => Outcome::Failed(why),
    };
    let outcome = match case.op {
        Op::CreateLead(mut input, [campaign, reason, owner]) => {
            input.campaign_id = (campaign.map(|p| id_of(&known.campaigns, p).0)).map(CampaignId::new);
            input.lost_reason_id = (reason.map(|p| plain_id(&known.reasons, p))).map(LostReasonId::new);
            input.owner_id = (owner.map(|p| plain_id(&known.users, p))).map(UserId::new);
            match crm.create_lead(actor, &input).await {
                Ok(lead) => {
                    made = Some(("lead", lead.id.get(), lead.version.get()));
                    let read = crm.get_lead(actor, lead.id).await;
                    checked(match read {
                        Err(e) => Err(format!("a new lead does not read back: {e}")),
                        Ok(read) => same("lead", &lead, &read)
                            .and(expect("name not kept as typed", lead.full_name == folded(&input.full_name)))
                            .and(expect("note not kept as typed", lead.note == input.note.trim()))
                            .and(expect(
                                "e-mail not kept as typed",
                                lead.email.as_deref().unwrap_or("") == input.email.trim().to_lowercase(),
                            )),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::UpdateLead(p, v, mut input) => {
            let (id, current) = id_of(&known.leads, p);
            input.campaign_id = None;
            match crm.update_lead(actor, LeadId::new(id), Version::new(version(current, v)), &input).await {
                Ok(lead) => {
                    made = Some(("lead", lead.id.get(), lead.version.get()));
                    checked(match crm.get_lead(actor, LeadId::new(id)).await {
                        Err(e) => Err(format!("a saved lead does not read back: {e}")),
                        Ok(read) => same("lead", &lead, &read)
                            .and(expect("name not kept as typed", lead.full_name == folded(&input.full_name))),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::SetLeadStatus(p, v, status, reason) => {
            let (id, current) = id_of(&known.leads, p);
            let result = crm
                .set_lead_status(
                    actor,
                    LeadId::new(id),
                    Version::new(version(current, v)),
                    status,
                    (reason.map(|r| plain_id(&known.reasons, r))).map(LostReasonId::new),
                )
                .await;
            if let Ok(lead) = &result {
                made = Some(("lead", lead.id.get(), lead.version.get()));
            }
            answer(&result)
        }
        Op::ArchiveLead(p, v, archived) => {
            let (id, current) = id_of(&known.leads, p);
            let result =
                crm.set_lead_archived(actor, LeadId::new(id), Version::new(version(current, v)), archived).await;
            if let Ok(lead) = &result {
                made = Some(("lead", lead.id.get(), lead.version.get()));
            }
            answer(&result)
        }
        Op::ListLeads(filter) => page_answer(crm.list_leads(actor, &filter).await),
        Op::Board(filter, per_column) => {
            answer(&crm.lead_board(actor, &crm::board::BoardFilter { leads: filter, per_column }).await)
        }
        Op::LeadCard(p) => answer(&crm.lead_card(actor, LeadId::new(id_of(&known.leads, p).0)).await),
        Op::Duplicates(p) => answer(&crm.lead_duplicates(actor, LeadId::new(id_of(&known.leads, p).0)).await),
        Op::Merge(a, b, take) => {
            let ((keep, keep_version), (drop, drop_version)) = (id_of(&known.leads, a), id_of(&known.leads, b));
            let input = crm::merge::MergeInput {
                keep: LeadId::new(keep),
                keep_version: Version::new(keep_version),
                drop: LeadId::new(drop),
                drop_version: Version::new(drop_version),
                take,
            };
            let result = crm.merge_leads(actor, &input).await;
            if let Ok(lead) = &result {
                made = Some(("lead", lead.id.get(), lead.version.get()));
            }
            answer(&result)
        }
        Op::Convert(p, v, mut contract) => {
            let (id, current) = id_of(&known.leads, p);
            contract.service_id = (known.services.first().map(|s| s.0)).map(ServiceId::new);
            let conversion = Conversion::NewContract { contract, document: None };
            match crm.convert_lead(actor, LeadId::new(id), Version::new(version(current, v)), conversion).await {
                Ok(client) => {
                    made = Some(("client", client.id.get(), client.version.get()));
                    checked(match crm.get_client(actor, client.id).await {
                        Err(e) => Err(format!("a new client does not read back: {e}")),
                        Ok(read) => same("client", &client, &read),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::CreateService(input) => match crm.create_service(actor, &input).await {
            Ok(service) => {
                made = Some(("service", service.id.get(), service.version.get()));
                checked(match crm.get_service(actor, service.id).await {
                    Err(e) => Err(format!("a new service does not read back: {e}")),
                    Ok(read) => same("service", &service, &read)
                        .and(expect("name not kept as typed", service.name == folded(&input.name)))
                        .and(expect("description not kept as typed", service.description == input.description.trim())),
                })
            }
            Err(e) => judge(&e),
        },
        Op::UpdateService(p, v, input) => {
            let (id, current) = id_of(&known.services, p);
            match crm.update_service(actor, ServiceId::new(id), Version::new(version(current, v)), &input).await {
                Ok(service) => {
                    made = Some(("service", service.id.get(), service.version.get()));
                    checked(match crm.get_service(actor, ServiceId::new(id)).await {
                        Err(e) => Err(format!("a saved service does not read back: {e}")),
                        Ok(read) => same("service", &service, &read),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::ListServices(filter) => page_answer(crm.list_services(actor, &filter).await),
        Op::CreateCampaign(mut input, [service, channel]) => {
            input.service_id = (service.map(|p| id_of(&known.services, p).0)).map(ServiceId::new);
            input.channel_id = (channel.map(|p| plain_id(&known.channels, p))).map(ChannelId::new);
            match crm.create_campaign(actor, &input).await {
                Ok(campaign) => {
                    made = Some(("campaign", campaign.id.get(), campaign.version.get()));
                    checked(match crm.get_campaign(actor, campaign.id).await {
                        Err(e) => Err(format!("a new campaign does not read back: {e}")),
                        Ok(read) => same("campaign", &campaign, &read)
                            .and(expect("name not kept as typed", campaign.name == folded(&input.name))),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::UpdateCampaign(p, v, mut input) => {
            let (id, current) = id_of(&known.campaigns, p);
            input.service_id = (known.services.first().map(|s| s.0)).map(ServiceId::new);
            input.channel_id = (known.channels.first().copied()).map(ChannelId::new);
            match crm.update_campaign(actor, CampaignId::new(id), Version::new(version(current, v)), &input).await {
                Ok(campaign) => {
                    made = Some(("campaign", campaign.id.get(), campaign.version.get()));
                    checked(match crm.get_campaign(actor, CampaignId::new(id)).await {
                        Err(e) => Err(format!("a saved campaign does not read back: {e}")),
                        Ok(read) => same("campaign", &campaign, &read),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::ListCampaigns(filter) => page_answer(crm.list_campaigns(actor, &filter).await),
        Op::Pickers(search) => match crm.campaign_options(actor, &search).await {
            Ok(_) => answer(&crm.service_options(actor, &search).await),
            Err(e) => judge(&e),
        },
        Op::CreateChannel(name) => match crm.create_channel(actor, &name).await {
            Ok(channel) => {
                made = Some(("channel", channel.id.get(), channel.version.get()));
                checked(expect("channel name not kept as typed", channel.name == folded(&name)))
            }
            Err(e) => judge(&e),
        },
        Op::CreateLostReason(name) => match crm.create_lost_reason(actor, &name).await {
            Ok(reason) => {
                made = Some(("reason", reason.id.get(), reason.version.get()));
                checked(expect("reason not kept as typed", reason.name == folded(&name)))
            }
            Err(e) => judge(&e),
        },
        Op::UpdateClient(p, v, input) => {
            let (id, current) = id_of(&known.clients, p);
            match crm.update_client(actor, ClientId::new(id), Version::new(version(current, v)), &input).await {
                Ok(client) => {
                    made = Some(("client", client.id.get(), client.version.get()));
                    checked(match crm.get_client(actor, ClientId::new(id)).await {
                        Err(e) => Err(format!("a saved client does not read back: {e}")),
                        Ok(read) => same("client", &client, &read)
                            .and(expect("name not kept as typed", client.full_name == folded(&input.full_name))),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::ListClients(filter) => page_answer(crm.list_clients(actor, &filter).await),
        Op::CreateContract(mut input, service) => {
            input.service_id = (service.map(|p| id_of(&known.services, p).0)).map(ServiceId::new);
            match crm.create_contract(actor, &input, None).await {
                Ok(contract) => checked(match crm.get_contract(actor, contract.id).await {
                    Err(e) => Err(format!("a new contract does not read back: {e}")),
                    Ok(read) => same("contract", &contract, &read)
                        .and(expect("name not kept as typed", contract.name == folded(&input.name))),
                }),
                Err(e) => judge(&e),
            }
        }
        Op::AddContract(p, mut input) => {
            input.service_id = (known.services.first().map(|s| s.0)).map(ServiceId::new);
            let (id, _) = id_of(&known.clients, p);
            match crm.add_contract_to_client(actor, ClientId::new(id), &input, None).await {
                Ok(contract) => checked(match crm.get_contract(actor, contract.id).await {
                    Err(e) => Err(format!("a new contract does not read back: {e}")),
                    Ok(read) => same("contract", &contract, &read),
                }),
                Err(e) => judge(&e),
            }
        }
        Op::ListContracts(filter) => page_answer(crm.list_contracts(actor, &filter).await),
        Op::Stats(filter) => answer(&crm.campaign_stats(actor, &filter).await),
        Op::Sales(filter) => page_answer(crm.client_sales(actor, &filter).await),
        Op::History(filter) => page_answer(crm.history(actor, &filter).await),
        Op::Timeline(p, page) => {
            page_answer(crm.timeline(actor, Record::Lead(LeadId::new(id_of(&known.leads, p).0)), page).await)
        }
        Op::AddNote(p, body) => {
            let record = Record::Lead(LeadId::new(id_of(&known.leads, p).0));
            match crm.add_note(actor, record, &body).await {
                Ok(entry) => {
                    let first = PageRequest::new(0, 50);
                    checked(match crm.timeline(actor, record, first).await {
                        Err(e) => Err(format!("the timeline of a noted lead does not read: {e}")),
                        Ok(page) => match page.items.iter().find(|e| e.id == entry.id) {
                            None => Err("a new note is not on its lead's timeline".into()),
                            Some(read) => same("note", &entry, read)
                                .and(expect("note not kept as typed", entry.details == body.trim())),
                        },
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::CreateTask(mut input, record) => {
            input.record = record.map(|p| Record::Lead(LeadId::new(id_of(&known.leads, p).0)));
            match crm.create_task(actor, &input).await {
                Ok(task) => checked(expect("subject not kept as typed", task.subject == folded(&input.subject))),
                Err(e) => judge(&e),
            }
        }
        Op::ListTasks(filter) => page_answer(crm.list_tasks(actor, &filter).await),
        Op::CreateUser(input) => match crm.create_user(actor, &input).await {
            Ok(user) => {
                made = Some(("user", user.id.get(), user.version.get()));
                let read = crm.get_user(actor, user.id).await;
                let signed = crm.sign_in(&input.username, &input.password).await;
                checked(match (read, signed) {
                    (Err(e), _) => Err(format!("a new user does not read back: {e}")),
                    (_, Err(e)) if !matches!(e, Error::PasswordChangeRequired) => {
                        Err(format!("a new user cannot sign in with the password given: {e}"))
                    }
                    (Ok(read), _) => same("user", &user, &read),
                })
            }
            Err(e) => judge(&e),
        },
        Op::UpdateUser(p, v, input) => {
            let (id, current) = other_user(&known, &people, p);
            match crm.update_user(actor, UserId::new(id), Version::new(version(current, v)), &input).await {
                Ok(user) => {
                    made = Some(("user", user.id.get(), user.version.get()));
                    checked(match crm.get_user(actor, UserId::new(id)).await {
                        Err(e) => Err(format!("a saved user does not read back: {e}")),
                        Ok(read) => same("user", &user, &read)
                            .and(expect("name not kept as typed", user.full_name == folded(&input.full_name))),
                    })
                }
                Err(e) => judge(&e),
            }
        }
        Op::ResetPassword(p, password) => {
            let (id, _) = other_user(&known, &people, p);
            answer(&crm.reset_password(actor, UserId::new(id), &password).await)
        }
        Op::SignIn(username, password) => answer(&crm.sign_in(&username, &password).await),
        Op::SaveFilter(list, name, filter) => answer(&crm.save_filter(actor, &list, &name, &filter).await),
    };
    (outcome, made)
}

fn page_answer<T>(result: crm::Result<crm::Page<T>>) -> Outcome {
    match result {
        Ok(page) if page.items.len() as i64 > page.limit.max(0) && page.limit > 0 => {
            Outcome::Failed(format!("a page of {} rows holds {}", page.limit, page.items.len()))
        }
        Ok(_) => Outcome::Accepted,
        Err(e) => judge(&e),
    }
}

/// Runs a case in a task of its own, so that a panic is a failure of this case, not the run's.
async fn run_case(
    crm: &Crm,
    people: &[Actor],
    known: &Known,
    case: Case,
) -> (Outcome, Option<(&'static str, i64, i64)>) {
    let task = tokio::spawn(call(crm.clone(), people.to_vec(), known.clone(), case));
    match task.await {
        Ok(done) => done,
        Err(e) => (Outcome::Failed(format!("panicked: {e}")), None),
    }
}

fn remember(known: &mut Known, made: Option<(&'static str, i64, i64)>) {
    let Some((kind, id, version)) = made else { return };
    let list = match kind {
        "lead" => &mut known.leads,
        "service" => &mut known.services,
        "campaign" => &mut known.campaigns,
        "client" => &mut known.clients,
        "reason" => return known.reasons.push(id),
        "channel" => return known.channels.push(id),
        "user" => {
            if !known.users.contains(&id) {
                known.users.push(id);
            }
            &mut known.made_users
        }
        _ => return,
    };
    match list.iter_mut().find(|(i, _)| *i == id) {
        Some(entry) => entry.1 = version,
        None => list.push((id, version)),
    }
}

/// Shortens the long strings of a case for the report.
fn shown(case: &Case) -> String {
    let text = format!("{case:?}");
    if text.len() <= 1500 {
        return text;
    }
    let cut: String = text.chars().take(1500).collect();
    format!("{cut}… ({} bytes)", text.len())
}

/// The people of the run, signed in: an administrator, an operator, a manager, a marketer. On
/// an office server (`office` given) each signs in as an office computer does, with the login
/// role of their own, so that the server's grants and policies are part of what is fuzzed.
pub async fn people(owner: &Crm, admin: &Actor, office: Option<&Crm>) -> (Crm, Vec<Actor>) {
    for (name, role) in [("olga", "operator"), ("mark", "manager"), ("maria", "marketer")] {
        let input = NewUser {
            username: name.into(),
            full_name: format!("Fuzz {role}"),
            password: PASSWORD.into(),
            roles: vec![role.into()],
            extra_permissions: vec![],
        };
        owner.create_user(admin, &input).await.expect("create user");
    }
    let crm = office.unwrap_or(owner).clone();
    let mut people = Vec::new();
    for name in ["admin", "olga", "mark", "maria"] {
        people.push(crm.sign_in(name, PASSWORD).await.expect("sign in"));
    }
    (crm, people)
}

/// Runs `options.cases` random cases on `crm` as `people` (see [`people`]).
pub async fn run(crm: &Crm, people: &[Actor], options: &Options) -> Report {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&options.seed.to_le_bytes());
    let config = Config { failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = case();
    let mut known = Known::default();
    // something of each kind to work on from the start
    let admin = &people[0];
    let channel = crm.create_channel(admin, "Fuzz channel").await.expect("channel");
    known.channels.push(channel.id.get());
    let service = ServiceInput { name: "Fuzz service".into(), description: String::new(), price: "1000".into() };
    let service = crm.create_service(admin, &service).await.expect("service");
    known.services.push((service.id.get(), service.version.get()));
    known.users.extend(people.iter().map(|p| p.user_id.get()));
    let mut report = Report::default();
    for _ in 0..options.cases {
        let mut tree = strategy.new_tree(&mut runner).expect("a case");
        let (outcome, made) = run_case(crm, people, &known, tree.current()).await;
        report.cases += 1;
        remember(&mut known, made);
        match outcome {
            Outcome::Accepted => report.accepted += 1,
            Outcome::Refused(kind) => *report.refused.entry(kind).or_default() += 1,
            Outcome::Failed(why) => {
                // the smallest input that still fails (proptest's shrinking, run by hand: the
                // use cases are async)
                let (mut smallest, mut reason) = (tree.current(), why);
                let mut steps = 0;
                while steps < 200 && tree.simplify() {
                    steps += 1;
                    let (outcome, made) = run_case(crm, people, &known, tree.current()).await;
                    remember(&mut known, made);
                    if let Outcome::Failed(why) = outcome {
                        (smallest, reason) = (tree.current(), why);
                    } else if !tree.complicate() {
                        break;
                    }
                }
                report.failures.push(format!("{reason}\n    input: {}", shown(&smallest)));
            }
        }
    }
    report
}
