//! The permission matrix: every use case that takes an `Actor`, called by a user of each role and
//! by a signed-in user with no role, is allowed or denied as the spec says. The table is written
//! out by hand rather than read from the seeded roles, so wrong seed data fails here too, and a
//! use case without a row fails `every_use_case_taking_an_actor_has_a_row_in_the_matrix`.

use std::path::Path;

use crm::bulk::{ArchiveList, ClientAction, LeadAction, Selection};
use crm::campaigns::{CampaignFilter, CampaignInput};
use crm::clients::{ClientFilter, ClientInput, Conversion};
use crm::contracts::ContractFilter;
use crm::db::Query;
use crm::history::{HistoryFilter, Record};
use crm::leads::{LeadFilter, LeadInput, LeadStatus};
use crm::merge::MergeInput;
use crm::services::{ServiceFilter, ServiceInput};
use crm::stats::{ClientSalesFilter, StatsFilter};
use crm::tasks::{TaskFilter, TaskInput};
use crm::users::{NewUser, UserUpdate};
use crm::PageRequest;
use crm::{Actor, Error};

use crate::both_backends;
use crate::contracts::{contract, files, upload};
use crate::support::{TestCrm, PASSWORD};
use crm::domain::id::{
    CampaignId, ChannelId, ClientId, ContractId, ImportId, LeadId, LostReasonId, RoleId, ServiceId, UserId, Version,
};

const Y: bool = true;
const N: bool = false;

/// The roles of the matrix's columns: one per built-in role, then a user with none.
const COLUMNS: [&[&str]; 5] = [&["administrator"], &["operator"], &["marketer"], &["manager"], &[]];

/// Who may call each use case, as the spec says. Operators create, view and edit leads;
/// marketers services, campaigns and channels; managers contracts and active clients, and they
/// view and convert leads; administrators everything; every role views statistics. Look-up
/// lists go to the roles whose forms need them (the `require_any` calls), which with statistics
/// for every role means every role. Anyone signed in may change their own password.
#[rustfmt::skip]
const MATRIX: &[(&str, [bool; 5])] = &[
    //                          adm opr mkt mgr none
    ("list_services",          [Y,  N,  Y,  N,  N]),
    ("get_service",            [Y,  N,  Y,  N,  N]),
    ("service_options",        [Y,  Y,  Y,  Y,  N]),
    ("create_service",         [Y,  N,  Y,  N,  N]),
    ("update_service",         [Y,  N,  Y,  N,  N]),
    ("set_service_archived",   [Y,  N,  Y,  N,  N]),
    ("delete_service",         [Y,  N,  Y,  N,  N]),
    ("list_channels",          [Y,  Y,  Y,  Y,  N]),
    ("create_channel",         [Y,  N,  Y,  N,  N]),
    ("rename_channel",         [Y,  N,  Y,  N,  N]),
    ("set_channel_archived",   [Y,  N,  Y,  N,  N]),
    ("list_campaigns",         [Y,  N,  Y,  N,  N]),
    ("get_campaign",           [Y,  N,  Y,  N,  N]),
    ("campaign_options",       [Y,  Y,  Y,  Y,  N]),
    ("create_campaign",        [Y,  N,  Y,  N,  N]),
    ("update_campaign",        [Y,  N,  Y,  N,  N]),
    ("start_campaign",         [Y,  N,  Y,  N,  N]),
    ("finish_campaign",        [Y,  N,  Y,  N,  N]),
    ("set_campaign_archived",  [Y,  N,  Y,  N,  N]),
    ("delete_campaign",        [Y,  N,  Y,  N,  N]),
    ("list_leads",             [Y,  Y,  N,  Y,  N]),
    ("get_lead",               [Y,  Y,  N,  Y,  N]),
    ("create_lead",            [Y,  Y,  N,  N,  N]),
    ("update_lead",            [Y,  Y,  N,  N,  N]),
    ("set_lead_archived",      [Y,  Y,  N,  N,  N]),
    ("convert_lead",           [Y,  N,  N,  Y,  N]),
    ("list_contracts",         [Y,  N,  N,  Y,  N]),
    ("get_contract",           [Y,  N,  N,  Y,  N]),
    ("get_document",           [Y,  N,  N,  Y,  N]),
    ("create_contract",        [Y,  N,  N,  Y,  N]),
    ("update_contract",        [Y,  N,  N,  Y,  N]),
    ("attach_document",        [Y,  N,  N,  Y,  N]),
    ("read_document_file",     [Y,  N,  N,  Y,  N]),
    ("set_contract_archived",  [Y,  N,  N,  Y,  N]),
    ("list_clients",           [Y,  N,  N,  Y,  N]),
    ("get_client",             [Y,  N,  N,  Y,  N]),
    ("update_client",          [Y,  N,  N,  Y,  N]),
    ("set_client_archived",    [Y,  N,  N,  Y,  N]),
    ("add_contract_to_client", [Y,  N,  N,  Y,  N]),
    ("campaign_stats",         [Y,  Y,  Y,  Y,  N]),
    ("campaign_stats_page",    [Y,  Y,  Y,  Y,  N]),
    ("client_sales",           [Y,  Y,  Y,  Y,  N]),
    ("campaign_stats_reference", [Y, Y,  Y,  Y,  N]),
    ("stats_series",           [Y,  Y,  Y,  Y,  N]),
    ("server_notices",         [Y,  Y,  Y,  Y,  Y]),
    ("verify_stats",           [Y,  Y,  Y,  Y,  N]),
    ("rebuild_stats",          [Y,  N,  N,  N,  N]),
    ("list_users",             [Y,  N,  N,  N,  N]),
    ("get_user",               [Y,  N,  N,  N,  N]),
    ("create_user",            [Y,  N,  N,  N,  N]),
    ("update_user",            [Y,  N,  N,  N,  N]),
    ("reset_password",         [Y,  N,  N,  N,  N]),
    ("list_roles",             [Y,  N,  N,  N,  N]),
    ("list_permissions",       [Y,  N,  N,  N,  N]),
    ("set_role_permissions",   [Y,  N,  N,  N,  N]),
    ("lead_card",              [Y,  Y,  N,  Y,  N]),
    ("client_card",            [Y,  N,  N,  Y,  N]),
    ("timeline",               [Y,  Y,  N,  Y,  N]),
    ("add_note",               [Y,  Y,  N,  Y,  N]),
    ("history",                [Y,  N,  N,  N,  N]),
    ("set_lead_status",        [Y,  Y,  N,  N,  N]),
    ("set_owner",              [Y,  N,  N,  N,  N]),
    ("user_options",           [Y,  Y,  Y,  Y,  Y]),
    ("list_lost_reasons",      [Y,  Y,  Y,  Y,  N]),
    ("create_lost_reason",     [Y,  N,  Y,  N,  N]),
    ("rename_lost_reason",     [Y,  N,  Y,  N,  N]),
    ("set_lost_reason_archived", [Y, N, Y,  N,  N]),
    ("lead_board",             [Y,  Y,  N,  Y,  N]),
    ("board_column",           [Y,  Y,  N,  Y,  N]),
    ("bulk_leads",             [Y,  Y,  N,  N,  N]),
    ("bulk_clients",           [Y,  N,  N,  Y,  N]),
    ("bulk_archive",           [Y,  N,  Y,  N,  N]),
    ("saved_filters",          [Y,  Y,  Y,  Y,  Y]),
    ("save_filter",            [Y,  Y,  Y,  Y,  Y]),
    ("delete_saved_filter",    [Y,  Y,  Y,  Y,  Y]),
    ("lead_duplicates",        [Y,  Y,  N,  Y,  N]),
    ("merge_leads",            [Y,  Y,  N,  N,  N]),
    ("create_task",            [Y,  Y,  Y,  Y,  Y]),
    ("update_task",            [Y,  Y,  Y,  Y,  Y]),
    ("set_task_done",          [Y,  Y,  Y,  Y,  Y]),
    ("list_tasks",             [Y,  Y,  Y,  Y,  Y]),
    ("task_counts",            [Y,  Y,  Y,  Y,  Y]),
    ("my_day",                 [Y,  Y,  Y,  Y,  Y]),
    ("change_own_password",    [Y,  Y,  Y,  Y,  Y]),
    ("refresh",                [Y,  Y,  Y,  Y,  Y]),
    // an export of leads: the export permission and the leads' view permission
    ("export",                 [Y,  Y,  N,  Y,  N]),
    // an import of leads: the import permission and the leads' edit permission
    ("preview_import",         [Y,  Y,  N,  N,  N]),
    ("import",                 [Y,  Y,  N,  N,  N]),
    // an import that is not there: allowed means refused for that, not for the permission
    ("undo_import",            [Y,  Y,  Y,  Y,  N]),
    ("back_up",                [Y,  N,  N,  N,  N]),
    ("restore_backup",         [Y,  N,  N,  N,  N]),
    ("move_to_office",         [Y,  N,  N,  N,  N]),
];

both_backends! {
    async fn administrator(t: TestCrm) { check_column(t, 0).await }
    async fn operator(t: TestCrm) { check_column(t, 1).await }
    async fn marketer(t: TestCrm) { check_column(t, 2).await }
    async fn manager(t: TestCrm) { check_column(t, 3).await }
    async fn no_role(t: TestCrm) { check_column(t, 4).await }

    async fn a_deactivated_users_session_ends_at_their_next_call(t: TestCrm) {
        let operator = t.user("olga", &["operator"]).await;
        let roles = vec!["operator".into()];
        let off = UserUpdate { full_name: "Olga".into(), is_active: false, roles, ..Default::default() };
        let v = version(&t, "users", operator.user_id).await;
        t.crm.update_user(&t.admin, operator.user_id, v, &off).await.unwrap();
        assert!(matches!(t.crm.refresh(&operator).await, Err(Error::Unauthenticated)));
        if t.crm.db().backend() == crm::db::Backend::Postgres {
            // their open connection gone (closed when idle, or the server restarted): the new
            // one is refused (NOLOGIN), which ends the session too, not "database error"
            let mut tx = t.crm.db().write().await.unwrap();
            tx.execute(crm::db::Query::new(
                "select pg_terminate_backend(pid) from pg_stat_activity
                 where datname = current_database() and usename <> current_user",
            ))
            .await
            .unwrap();
            tx.commit().await.unwrap();
            let refreshed = t.crm.refresh(&operator).await;
            assert!(matches!(refreshed, Err(Error::Unauthenticated)), "{refreshed:?}");
        }
    }
}

#[test]
fn every_use_case_taking_an_actor_has_a_row_in_the_matrix() {
    let mut found = Vec::new();
    collect_use_cases(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri"), &mut found);
    let listed: Vec<&str> = MATRIX.iter().map(|(name, _)| *name).collect();
    let missing: Vec<&String> = found.iter().filter(|name| !listed.contains(&name.as_str())).collect();
    let stale: Vec<&&str> = listed.iter().filter(|name| !found.iter().any(|f| f == *name)).collect();
    assert!(missing.is_empty(), "use cases without a row in the matrix: {missing:?}");
    assert!(stale.is_empty(), "rows of the matrix for no use case: {stale:?}");
    assert_eq!(listed.len(), found.len(), "a use case has two rows in the matrix");
}

/// Names of the `pub async fn NAME(&self, actor: &Actor, ...)` in the `.rs` files under `dir`.
fn collect_use_cases(dir: &Path, names: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read source folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            collect_use_cases(&path, names);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).expect("read source");
            // one space between tokens, so a signature rustfmt split over lines reads the same
            let flat = source.split_whitespace().collect::<Vec<_>>().join(" ");
            for rest in flat.split("pub async fn ").skip(1) {
                let Some((name, params)) = rest.split_once('(') else { continue };
                if params.trim_start().starts_with("&self, actor: &Actor") {
                    names.push(name.to_owned());
                }
            }
        }
    }
}

/// Calls every use case as a user holding the roles of `column` and checks each answer against
/// the matrix; reports every mismatch at once.
async fn check_column(t: TestCrm, column: usize) {
    let fx = fixture(&t).await;
    let actor = t.user("subject", COLUMNS[column]).await;
    let mut wrong = Vec::new();
    for (name, allowed) in MATRIX {
        let before = fingerprint(&t).await;
        let result = call(&t, &fx, &actor, name).await;
        let forbidden = matches!(result, Err(Error::Forbidden(_)));
        if allowed[column] == forbidden {
            let expected = if allowed[column] { "allowed" } else { "forbidden" };
            wrong.push(format!("{name}: expected {expected}, got {result:?}"));
        } else if forbidden && fingerprint(&t).await != before {
            wrong.push(format!("{name}: forbidden, yet it wrote"));
        }
    }
    assert!(wrong.is_empty(), "as a user with roles {:?}:\n{}", COLUMNS[column], wrong.join("\n"));
}

/// What the use cases are called on, made by the first administrator.
struct Fixture {
    service: ServiceId,
    /// Referenced by nothing, so `delete_service` can succeed.
    unused_service: ServiceId,
    channel: ChannelId,
    /// Planned, so `start_campaign` and then `finish_campaign` succeed.
    campaign: CampaignId,
    unused_campaign: CampaignId,
    lead: LeadId,
    lead_to_convert: LeadId,
    /// Unassigned, with a PDF.
    contract: ContractId,
    client: ClientId,
    user: UserId,
    operator_role: RoleId,
    lost_reason: LostReasonId,
    /// Two leads of one person, to merge.
    merge_keep: LeadId,
    merge_drop: LeadId,
}

async fn fixture(t: &TestCrm) -> Fixture {
    let (crm, admin) = (&t.crm, &t.admin);
    let service = crm.create_service(admin, &service_input("SEO")).await.unwrap().id;
    let unused_service = crm.create_service(admin, &service_input("Баннер")).await.unwrap().id;
    let channel = crm.create_channel(admin, "Контекст").await.unwrap().id;
    let campaign = crm.create_campaign(admin, &campaign_input("Весна", service, channel)).await.unwrap().id;
    let unused_campaign = crm.create_campaign(admin, &campaign_input("Осень", service, channel)).await.unwrap().id;
    let lead = crm.create_lead(admin, &lead_input("Иванов Иван", "01", campaign)).await.unwrap().id;
    let lead_to_convert = crm.create_lead(admin, &lead_input("Сидорова Анна", "02", campaign)).await.unwrap().id;
    let buyer = crm.create_lead(admin, &lead_input("Петров Пётр", "03", campaign)).await.unwrap();
    let document = Some(upload("d.pdf", files::pdf()));
    let contract = crm.create_contract(admin, &contract("Д-1", service, "1000"), document).await.unwrap().id;
    let first = Conversion::NewContract { contract: contract_input("Д-2", service), document: None };
    let client = crm.convert_lead(admin, buyer.id, buyer.version, first).await.unwrap().id;
    let user = t.user("someone", &[]).await.user_id;
    let roles = crm.list_roles(admin).await.unwrap();
    let operator_role = roles.iter().find(|r| r.code == "operator").expect("operator role").id;
    let lost_reason = crm.list_lost_reasons(admin, false).await.unwrap()[0].id;
    let merge_keep = crm.create_lead(admin, &lead_input("Дубль Один", "11", campaign)).await.unwrap().id;
    let twin = LeadInput { email: "dubl@example.ru".into(), ..lead_input("Дубль Один", "12", campaign) };
    let merge_drop = crm.create_lead(admin, &twin).await.unwrap().id;
    Fixture {
        service,
        unused_service,
        channel,
        campaign,
        unused_campaign,
        lead,
        lead_to_convert,
        contract,
        client,
        user,
        operator_role,
        lost_reason,
        merge_keep,
        merge_drop,
    }
}

/// Calls use case `name` as `actor` with realistic arguments, reading current versions first
/// so that allowed edits succeed rather than conflict. Only whether it is `Forbidden` matters.
async fn call(t: &TestCrm, fx: &Fixture, actor: &Actor, name: &str) -> Result<(), Error> {
    let crm = &t.crm;
    let pdf = || upload("d.pdf", files::pdf());
    match name {
        "list_services" => crm.list_services(actor, &ServiceFilter::default()).await.map(drop),
        "get_service" => crm.get_service(actor, fx.service).await.map(drop),
        "service_options" => crm.service_options(actor, "").await.map(drop),
        "create_service" => crm.create_service(actor, &service_input("Аудит")).await.map(drop),
        "update_service" => crm
            .update_service(actor, fx.service, version(t, "services", fx.service).await, &service_input("SEO"))
            .await
            .map(drop),
        "set_service_archived" => {
            crm.set_service_archived(actor, fx.service, version(t, "services", fx.service).await, false).await.map(drop)
        }
        "delete_service" => crm.delete_service(actor, fx.unused_service).await,
        "list_channels" => crm.list_channels(actor, false).await.map(drop),
        "create_channel" => crm.create_channel(actor, "Соцсети").await.map(drop),
        "rename_channel" => {
            crm.rename_channel(actor, fx.channel, version(t, "channels", fx.channel).await, "Контекст").await.map(drop)
        }
        "set_channel_archived" => {
            crm.set_channel_archived(actor, fx.channel, version(t, "channels", fx.channel).await, false).await.map(drop)
        }
        "list_campaigns" => crm.list_campaigns(actor, &CampaignFilter::default()).await.map(drop),
        "get_campaign" => crm.get_campaign(actor, fx.campaign).await.map(drop),
        "campaign_options" => crm.campaign_options(actor, "").await.map(drop),
        "create_campaign" => {
            crm.create_campaign(actor, &campaign_input("Лето", fx.service, fx.channel)).await.map(drop)
        }
        "update_campaign" => {
            let input = campaign_input("Весна", fx.service, fx.channel);
            crm.update_campaign(actor, fx.campaign, version(t, "campaigns", fx.campaign).await, &input).await.map(drop)
        }
        "start_campaign" => {
            crm.start_campaign(actor, fx.campaign, version(t, "campaigns", fx.campaign).await).await.map(drop)
        }
        "finish_campaign" => {
            crm.finish_campaign(actor, fx.campaign, version(t, "campaigns", fx.campaign).await).await.map(drop)
        }
        "set_campaign_archived" => crm
            .set_campaign_archived(actor, fx.campaign, version(t, "campaigns", fx.campaign).await, false)
            .await
            .map(drop),
        "delete_campaign" => crm.delete_campaign(actor, fx.unused_campaign).await,
        "list_leads" => crm.list_leads(actor, &LeadFilter::default()).await.map(drop),
        "get_lead" => crm.get_lead(actor, fx.lead).await.map(drop),
        "create_lead" => crm.create_lead(actor, &lead_input("Новиков Олег", "04", fx.campaign)).await.map(drop),
        "update_lead" => {
            let input = lead_input("Иванов Иван", "01", fx.campaign);
            crm.update_lead(actor, fx.lead, version(t, "leads", fx.lead).await, &input).await.map(drop)
        }
        "set_lead_archived" => {
            crm.set_lead_archived(actor, fx.lead, version(t, "leads", fx.lead).await, false).await.map(drop)
        }
        "convert_lead" => {
            let conversion = Conversion::NewContract { contract: contract_input("Д-3", fx.service), document: None };
            let version = version(t, "leads", fx.lead_to_convert).await;
            crm.convert_lead(actor, fx.lead_to_convert, version, conversion).await.map(drop)
        }
        "list_contracts" => crm.list_contracts(actor, &ContractFilter::default()).await.map(drop),
        "get_contract" => crm.get_contract(actor, fx.contract).await.map(drop),
        "get_document" => crm.get_document(actor, fx.contract).await.map(drop),
        "create_contract" => {
            crm.create_contract(actor, &contract_input("Д-4", fx.service), Some(pdf())).await.map(drop)
        }
        "update_contract" => {
            let input = contract("Д-1", fx.service, "1000");
            crm.update_contract(actor, fx.contract, version(t, "contracts", fx.contract).await, &input).await.map(drop)
        }
        "attach_document" => {
            crm.attach_document(actor, fx.contract, version(t, "contracts", fx.contract).await, pdf()).await.map(drop)
        }
        "read_document_file" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("scan.pdf");
            std::fs::write(&path, &pdf().bytes).expect("write the file");
            crm.read_document_file(actor, path).await.map(drop)
        }
        "set_contract_archived" => crm
            .set_contract_archived(actor, fx.contract, version(t, "contracts", fx.contract).await, false)
            .await
            .map(drop),
        "list_clients" => crm.list_clients(actor, &ClientFilter::default()).await.map(drop),
        "get_client" => crm.get_client(actor, fx.client).await.map(drop),
        "update_client" => {
            let input =
                ClientInput { full_name: "Петров Пётр".into(), phone: phone("03"), ..Default::default() };
            crm.update_client(actor, fx.client, version(t, "clients", fx.client).await, &input).await.map(drop)
        }
        "set_client_archived" => {
            crm.set_client_archived(actor, fx.client, version(t, "clients", fx.client).await, false).await.map(drop)
        }
        "add_contract_to_client" => {
            crm.add_contract_to_client(actor, fx.client, &contract_input("Д-5", fx.service), None).await.map(drop)
        }
        "campaign_stats" => crm.campaign_stats(actor, &StatsFilter::default()).await.map(drop),
        "campaign_stats_page" => {
            crm.campaign_stats_page(actor, &StatsFilter::default(), &Default::default()).await.map(drop)
        }
        "client_sales" => crm.client_sales(actor, &ClientSalesFilter::default()).await.map(drop),
        "campaign_stats_reference" => crm.campaign_stats_reference(actor, &StatsFilter::default()).await.map(drop),
        "verify_stats" => crm.verify_stats(actor).await.map(drop),
        "stats_series" => crm.stats_series(actor, &Default::default()).await.map(drop),
        "server_notices" => crm.server_notices(actor).await.map(drop),
        "rebuild_stats" => crm.rebuild_stats(actor).await.map(drop),
        "list_users" => crm.list_users(actor).await.map(drop),
        "get_user" => crm.get_user(actor, fx.user).await.map(drop),
        "create_user" => {
            let input = NewUser {
                username: "newcomer".into(),
                full_name: "Newcomer".into(),
                password: PASSWORD.into(),
                ..Default::default()
            };
            crm.create_user(actor, &input).await.map(drop)
        }
        "update_user" => {
            let input = UserUpdate { full_name: "Someone".into(), is_active: true, ..Default::default() };
            crm.update_user(actor, fx.user, version(t, "users", fx.user).await, &input).await.map(drop)
        }
        "reset_password" => crm.reset_password(actor, fx.user, "a fresh password").await,
        "list_roles" => crm.list_roles(actor).await.map(drop),
        "list_permissions" => crm.list_permissions(actor).await.map(drop),
        "set_role_permissions" => {
            // the role's own permissions again: allowed, the call changes nothing that matters
            let roles = crm.list_roles(&t.admin).await.expect("roles");
            let role = roles.iter().find(|r| r.id == fx.operator_role).expect("operator role");
            crm.set_role_permissions(actor, role.id, role.version, &role.permissions).await.map(drop)
        }
        "lead_card" => crm.lead_card(actor, fx.lead).await.map(drop),
        "client_card" => crm.client_card(actor, fx.client).await.map(drop),
        "timeline" => crm.timeline(actor, Record::Lead(fx.lead), PageRequest::default()).await.map(drop),
        "add_note" => crm.add_note(actor, Record::Lead(fx.lead), "Перезвонить после обеда").await.map(drop),
        "history" => crm.history(actor, &HistoryFilter::default()).await.map(drop),
        "set_lead_status" => crm
            .set_lead_status(actor, fx.lead, version(t, "leads", fx.lead).await, LeadStatus::InWork, None)
            .await
            .map(drop),
        "set_owner" => crm.set_owner(actor, Record::Lead(fx.lead), version(t, "leads", fx.lead).await, fx.user).await,
        "user_options" => crm.user_options(actor).await.map(drop),
        "list_lost_reasons" => crm.list_lost_reasons(actor, true).await.map(drop),
        "create_lost_reason" => crm.create_lost_reason(actor, "Переехал").await.map(drop),
        "rename_lost_reason" => {
            let version = version(t, "lost_reasons", fx.lost_reason).await;
            crm.rename_lost_reason(actor, fx.lost_reason, version, "Дорого").await.map(drop)
        }
        "set_lost_reason_archived" => {
            let version = version(t, "lost_reasons", fx.lost_reason).await;
            crm.set_lost_reason_archived(actor, fx.lost_reason, version, false).await.map(drop)
        }
        "lead_board" => crm.lead_board(actor, &Default::default()).await.map(drop),
        "board_column" => {
            crm.board_column(actor, &LeadFilter::default(), LeadStatus::New, PageRequest::default()).await.map(drop)
        }
        "bulk_leads" => {
            let selection = Selection::Ids { ids: vec![fx.lead.get()] };
            crm.bulk_leads(
                actor,
                &selection,
                &LeadAction::SetStatus { status: LeadStatus::InWork, lost_reason_id: None },
            )
            .await
            .map(drop)
        }
        "bulk_clients" => {
            let selection = Selection::Ids { ids: vec![fx.client.get()] };
            crm.bulk_clients(actor, &selection, &ClientAction::Restore).await.map(drop)
        }
        "saved_filters" => crm.saved_filters(actor, "leads").await.map(drop),
        "save_filter" => {
            crm.save_filter(actor, "leads", "Мои новые", &serde_json::json!({ "status": "new" })).await.map(drop)
        }
        "delete_saved_filter" => {
            let saved = crm.save_filter(actor, "clients", "Все", &serde_json::json!({})).await?;
            crm.delete_saved_filter(actor, saved.id).await
        }
        "lead_duplicates" => crm.lead_duplicates(actor, fx.lead).await.map(drop),
        "export" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let what = crm::export::ExportList::Leads(LeadFilter::default());
            let out = dir.path().join("leads.csv");
            let format = crm::export::Format::Csv;
            crm.export(actor, &what, format, crm::i18n::Lang::Ru, &out, &|_| {}).await.map(drop)
        }
        "preview_import" | "import" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("leads.csv");
            std::fs::write(&path, "ФИО;Телефон\nИмпорт Проверка;+79120009999\n").expect("file");
            let kind = crm::import::ImportKind::Leads;
            if name == "preview_import" {
                crm.preview_import(actor, &path, kind, "", crm::i18n::Lang::Ru).await.map(drop)
            } else {
                let options = crm::import::ImportOptions { dry_run: true, ..Default::default() };
                let never = std::sync::atomic::AtomicBool::new(false);
                crm.import(actor, &path, "leads.csv", kind, &options, crm::i18n::Lang::Ru, &|_| {}, &never)
                    .await
                    .map(drop)
            }
        }
        "undo_import" => crm.undo_import(actor, ImportId::new(999_999)).await.map(drop),
        "back_up" => {
            let dir = tempfile::tempdir().expect("temp dir");
            crm.back_up(actor, &dir.path().join("b.crm-backup"), &|_| {}).await.map(drop)
        }
        // a file that is not there: allowed means refused for that, not for the permission
        "restore_backup" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let (file, aside) = (dir.path().join("none.crm-backup"), dir.path().join("aside.crm-backup"));
            crm.restore_backup(actor, &file, &aside, &|_| {}).await.map(drop)
        }
        // to itself: allowed means refused as no office database (or, on one, as no local one)
        "move_to_office" => crm.move_to_office(actor, crm, &|_| {}).await.map(drop),
        "merge_leads" => {
            let input = MergeInput {
                keep: fx.merge_keep,
                keep_version: version(t, "leads", fx.merge_keep).await,
                drop: fx.merge_drop,
                drop_version: version(t, "leads", fx.merge_drop).await,
                take: vec!["email".into()],
            };
            crm.merge_leads(actor, &input).await.map(drop)
        }
        "bulk_archive" => crm
            .bulk_archive(
                actor,
                ArchiveList::Services,
                &crm::bulk::Selection::Ids { ids: vec![fx.service.get()] },
                false,
            )
            .await
            .map(drop),
        "create_task" => crm.create_task(actor, &task_input(None)).await.map(drop),
        "update_task" => {
            // one's own task: everyone may change those
            let task = crm.create_task(actor, &task_input(None)).await?;
            crm.update_task(actor, task.id, task.version, &task_input(None)).await.map(drop)
        }
        "set_task_done" => {
            let task = crm.create_task(actor, &task_input(None)).await?;
            crm.set_task_done(actor, task.id, task.version, true, "Дозвонился").await.map(drop)
        }
        "list_tasks" => crm.list_tasks(actor, &TaskFilter::default()).await.map(drop),
        "task_counts" => crm.task_counts(actor).await.map(drop),
        "my_day" => crm.my_day(actor).await.map(drop),
        "change_own_password" => crm.change_own_password(actor, PASSWORD, "a brand new password").await,
        "refresh" => crm.refresh(actor).await.map(drop),
        other => panic!("the matrix names {other}, which `call` does not know"),
    }
}

fn task_input(record: Option<Record>) -> TaskInput {
    TaskInput {
        subject: "Перезвонить".into(), due_at: "2030-01-15T10:00".into(), record, ..Default::default()
    }
}

fn service_input(name: &str) -> ServiceInput {
    ServiceInput { name: name.into(), description: String::new(), price: "1000".into() }
}

/// A planned campaign: it starts far in the future.
fn campaign_input(name: &str, service: ServiceId, channel: ChannelId) -> CampaignInput {
    CampaignInput {
        name: name.into(),
        service_id: Some(service),
        channel_id: Some(channel),
        budget: "10000".into(),
        starts_on: "2099-01-01".into(),
        ends_on: String::new(),
    }
}

fn phone(last_two_digits: &str) -> String {
    format!("+7 912 345 67 {last_two_digits}")
}

fn lead_input(full_name: &str, last_two_digits: &str, campaign: CampaignId) -> LeadInput {
    LeadInput {
        full_name: full_name.into(),
        phone: phone(last_two_digits),
        campaign_id: Some(campaign),
        ..Default::default()
    }
}

fn contract_input(name: &str, service: ServiceId) -> crm::contracts::ContractInput {
    contract(name, service, "500")
}

/// The current version of row `id` of `table` (a literal from this file).
async fn version(t: &TestCrm, table: &str, id: impl Into<i64>) -> Version {
    let id: i64 = id.into();
    let mut tx = t.crm.db().read().await.expect("read");
    let query = Query::new(format!("select version from {table} where id = $1")).bind(id);
    let version = tx.scalar(query).await.expect("version");
    tx.commit().await.expect("commit");
    version
}

/// Every table a use case may write, and whether its rows carry a version.
const TABLES: [(&str, bool); 17] = [
    ("users", true),
    ("permissions", false),
    ("roles", true),
    ("role_permissions", false),
    ("user_roles", false),
    ("user_permissions", false),
    ("channels", true),
    ("services", true),
    ("campaigns", true),
    ("leads", true),
    ("clients", true),
    ("contracts", true),
    ("contract_documents", false),
    ("audit_log", false),
    ("lost_reasons", true),
    ("tasks", true),
    ("saved_filters", false),
];

/// Row counts and version sums of every table: a refused call must leave them all as they were
/// (an insert or delete changes a count, an update a version, and every write is audited).
async fn fingerprint(t: &TestCrm) -> String {
    let parts: Vec<String> = TABLES
        .iter()
        .map(|(table, versioned)| {
            let sum = if *versioned { "coalesce(sum(version), 0)" } else { "0" };
            format!("(select cast(count(*) as text) || '/' || cast({sum} as text) from {table})")
        })
        .collect();
    let mut tx = t.crm.db().read().await.expect("read");
    let fingerprint =
        tx.scalar(Query::new(format!("select {}", parts.join(" || ' ' || ")))).await.expect("fingerprint");
    tx.commit().await.expect("commit");
    fingerprint
}
