//! The office database enforces every role itself: each CRM user is a PostgreSQL login role, and
//! what a staff member may do with psql and their own password is what their role may do in the
//! window, no more. These tests bypass the app: plain SQL on a connection as the user's role.

use sqlx::{Connection, PgConnection};

use crm::users::{NewUser, UserUpdate};
use crm::Error;

use crate::support::{pg, TestCrm, PASSWORD};
use crm::domain::id::UserId;

/// A plain SQL connection as the CRM user `username`: what psql gives a staff member.
async fn psql(t: &TestCrm, username: &str, password: &str) -> Result<PgConnection, sqlx::Error> {
    let crm::db::Db::Postgres(pool) = t.crm.db() else { panic!("an office test on SQLite") };
    let role = format!("{}_{username}", pg::role_prefix(&t.url));
    let options = (*pool.connect_options()).clone().username(&role).password(password);
    PgConnection::connect_with(&options).await
}

fn code(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(e) => e.code().map(|c| c.into_owned()).unwrap_or_default(),
        other => format!("{other}"),
    }
}

/// Runs `sql` in a transaction that is rolled back: Ok when the server allowed it.
async fn attempt(conn: &mut PgConnection, sql: &str) -> Result<(), String> {
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut *tx).await;
    tx.rollback().await.map_err(|e| e.to_string())?;
    result.map(drop).map_err(|e| code(&e))
}

/// A user holding exactly `roles`, and their id.
async fn staff(t: &TestCrm, username: &str, roles: &[&str]) -> UserId {
    t.user(username, roles).await.user_id
}

/// The trigram indexes of the leads' text past its first character (migration 0036): one read
/// by searches of every status, one for each status's live leads.
const LEADS_TRIGRAM_INDEXES: [&str; 5] = [
    "leads_search_tail_trgm",
    "leads_tail_trgm_converted",
    "leads_tail_trgm_in_work",
    "leads_tail_trgm_lost",
    "leads_tail_trgm_new",
];

/// Every trigram index the owner's `crm_enable_trigram_search()` makes, by name.
fn trigram_indexes() -> Vec<&'static str> {
    let mut all = vec!["clients_search_trgm", "contracts_search_trgm"];
    all.extend(LEADS_TRIGRAM_INDEXES);
    all.sort_unstable();
    all
}

const Y: bool = true;
const N: bool = false;

/// What each role may do with plain SQL. `{me}` is the user's own id, `{other}` the
/// administrator's. Columns: administrator, operator, marketer, manager, a user with no role.
#[rustfmt::skip]
const SQL_MATRIX: &[(&str, [bool; 5])] = &[
    // nobody reads password hashes or the sign-in counters, nor changes the server's roles
    ("select password_hash from users",                                          [N, N, N, N, N]),
    ("select username_key from sign_in_throttle",                                [N, N, N, N, N]),
    ("create table mine (a int)",                                                [N, N, N, N, N]),
    // names of colleagues are everyone's; changing users is administration
    ("select id, username, full_name from users",                                [Y, Y, Y, Y, Y]),
    ("update users set is_active = true where id = {me}",                        [Y, N, N, N, N]),
    ("insert into user_roles (user_id, role_id) select {me}, id from roles where code = 'administrator' on conflict do nothing",
                                                                                 [Y, N, N, N, N]),
    ("insert into user_permissions (user_id, permission_code) values ({me}, 'users.manage')",
                                                                                 [Y, N, N, N, N]),
    ("insert into role_permissions (role_id, permission_code) select id, 'users.manage' from roles where code = 'operator'",
                                                                                 [Y, N, N, N, N]),
    // the audit log is appended in one's own name, read by administrators, never rewritten
    ("insert into audit_log (at, user_id, action, entity) values (now(), {me}, 'x', 'y')",
                                                                                 [Y, Y, Y, Y, Y]),
    ("insert into audit_log (at, user_id, action, entity) values (now(), {other}, 'x', 'y')",
                                                                                 [N, N, N, N, N]),
    ("update audit_log set details = 'rewritten'",                              [N, N, N, N, N]),
    ("delete from audit_log",                                                    [N, N, N, N, N]),
    // timelines: those who view leads read leads' entries, managers also clients' and contracts'
    // (row-level security: `only_lead_entries` below checks which rows); the History page's
    // holders everything
    ("select * from audit_log where entity = 'lead'",                            [Y, Y, N, Y, N]),
    ("select * from audit_log",                                                  [Y, Y, N, Y, N]),
    // tasks: everyone their own; setting one for a colleague is fine, one by and for a colleague
    // only with tasks.all
    ("insert into tasks (subject, kind, due_at, assignee_id, created_by, created_at, updated_at) values ('T', 'call', now(), {other}, {me}, now(), now())",
                                                                                 [Y, Y, Y, Y, Y]),
    ("insert into tasks (subject, kind, due_at, assignee_id, created_by, created_at, updated_at) values ('T', 'call', now(), {other}, {other}, now(), now())",
                                                                                 [Y, N, N, N, N]),
    ("update tasks set kind = 'bogus'",                                          [Y, Y, Y, Y, Y]),
    // lost reasons: everyone reads them, administrators and marketers extend them
    ("select name from lost_reasons",                                            [Y, Y, Y, Y, Y]),
    ("insert into lost_reasons (name, name_key, created_at) values ('R', 'r', now())",
                                                                                 [Y, N, Y, N, N]),
    // saved filters: one's own only
    ("insert into saved_filters (user_id, list, name, name_key, filter, created_at) values ({other}, 'leads', 'x', 'x', '{}', now())",
                                                                                 [N, N, N, N, N]),
    ("insert into saved_filters (user_id, list, name, name_key, filter, created_at) values ({me}, 'leads', 'x', 'x', '{}', now())",
                                                                                 [Y, Y, Y, Y, Y]),
    // owners: reassigning is its own permission
    ("update clients set owner_id = {me}",                                       [Y, N, N, N, N]),
    ("update leads set owner_id = {me}",                                         [Y, N, N, N, N]),
    // statistics for every role, through views of the figures only
    ("select * from stat_leads",                                                 [Y, Y, Y, Y, N]),
    ("select * from stat_contracts",                                             [Y, Y, Y, Y, N]),
    // the roll-ups: read by every role, written only by the database's own triggers
    ("select * from stat_days",                                                  [Y, Y, Y, Y, N]),
    ("insert into stat_days (campaign_id, day, leads) values (1, '2026-01-01', 1000)",
                                                                                 [N, N, N, N, N]),
    ("update stat_days set revenue = revenue + 1",                               [N, N, N, N, N]),
    ("delete from stat_days",                                                    [N, N, N, N, N]),
    ("select crm_stat_rebuild()",                                                [Y, N, N, N, N]),
    ("select * from lead_counts",                                                [Y, Y, N, Y, N]),
    ("select * from crm_live_leads_per_day()",                                   [Y, Y, N, Y, N]),
    ("update lead_counts set n = n + 1",                                         [N, N, N, N, N]),
    ("select * from list_counts",                                                [Y, Y, Y, Y, N]),
    ("update list_counts set n = n + 1",                                         [N, N, N, N, N]),
    ("select * from list_count_deltas",                                          [N, N, N, N, N]),
    ("insert into list_count_deltas (list, is_archived, n) values ('contracts', false, 1)",
                                                                                 [N, N, N, N, N]),
    ("select * from signing_days",                                               [Y, Y, Y, Y, N]),
    ("update signing_days set signed = signed + 1",                              [N, N, N, N, N]),
    ("select * from signing_day_deltas",                                         [N, N, N, N, N]),
    ("insert into signing_day_deltas (day, signed, continued) values ('2026-01-01', 1, 0)",
                                                                                 [N, N, N, N, N]),
    // services and campaigns: marketers
    ("insert into services (name, name_key, price, created_at, updated_at) values ('S', 's', 1, now(), now())",
                                                                                 [Y, N, Y, N, N]),
    ("update campaigns set budget = 0",                                          [Y, N, Y, N, N]),
    ("delete from campaigns",                                                    [Y, N, Y, N, N]),
    ("insert into channels (name, name_key, created_at) values ('C', 'c', now())",
                                                                                 [Y, N, Y, N, N]),
    // leads: operators write them, managers read and convert them
    ("select full_name, phone, email from leads",                                [Y, Y, N, Y, N]),
    ("insert into leads (full_name, search, created_by, created_at, updated_at) values ('L', 'l', {me}, now(), now())",
                                                                                 [Y, Y, N, N, N]),
    ("update leads set full_name = 'X'",                                         [Y, Y, N, N, N]),
    ("update leads set status = 'converted'",                                    [Y, Y, N, Y, N]),
    ("delete from leads",                                                        [N, N, N, N, N]),
    // clients and contracts: managers
    ("select full_name, phone, email from clients",                              [Y, N, N, Y, N]),
    ("select name, amount from contracts",                                       [Y, N, N, Y, N]),
    ("select content from contract_documents",                                   [Y, N, N, Y, N]),
    ("update contracts set amount = 1",                                          [Y, N, N, Y, N]),
    ("update clients set revenue = 0",                                           [Y, N, N, Y, N]),
];

const COLUMNS: [&[&str]; 5] = [&["administrator"], &["operator"], &["marketer"], &["manager"], &[]];

async fn check_sql_column(t: TestCrm, column: usize) {
    let me = staff(&t, "someone", COLUMNS[column]).await;
    let mut conn = psql(&t, "someone", PASSWORD).await.expect("a staff member connects with their own password");
    let mut wrong = Vec::new();
    for (sql, allowed) in SQL_MATRIX {
        let sql = sql.replace("{me}", &me.to_string()).replace("{other}", &t.admin.user_id.to_string());
        match (attempt(&mut conn, &sql).await, allowed[column]) {
            (Ok(()), true) | (Err(_), false) => {}
            (Ok(()), false) => wrong.push(format!("allowed: {sql}")),
            (Err(code), true) => wrong.push(format!("refused ({code}): {sql}")),
        }
    }
    assert!(wrong.is_empty(), "{:?}: {wrong:#?}", COLUMNS[column]);
}

crate::office_only! {
    async fn an_administrator_with_psql_does_only_what_administration_needs(t: TestCrm) { check_sql_column(t, 0).await; }
    async fn an_operator_with_psql_does_only_what_an_operator_may(t: TestCrm) { check_sql_column(t, 1).await; }
    async fn a_marketer_with_psql_does_only_what_a_marketer_may(t: TestCrm) { check_sql_column(t, 2).await; }
    async fn a_manager_with_psql_does_only_what_a_manager_may(t: TestCrm) { check_sql_column(t, 3).await; }
    async fn a_user_without_a_role_with_psql_does_nothing(t: TestCrm) { check_sql_column(t, 4).await; }

    async fn every_table_and_column_has_grants_unless_it_is_the_owners_alone(t: TestCrm) {
        // Columns no staff role may read or change (password_hash: written as NULL on insert). A new table or column is either granted
        // in its migration or added here on purpose; anything else fails.
        let owners_alone = [
            "_sqlx_migrations.checksum",
            "_sqlx_migrations.description",
            "_sqlx_migrations.execution_time",
            "_sqlx_migrations.installed_on",
            // a write's changes to the counts, added to them at its commit (0021) by the owner's
            // functions; always empty outside a transaction
            "count_delta_commits.pending",
            "lead_count_deltas.campaign_id",
            "lead_count_deltas.is_archived",
            "lead_count_deltas.n",
            "lead_count_deltas.owner_id",
            "lead_count_deltas.status",
            "list_count_deltas.is_archived",
            "list_count_deltas.list",
            "list_count_deltas.n",
            "sign_in_throttle.failures",
            "sign_in_throttle.last_at",
            "sign_in_throttle.locked_until",
            "sign_in_throttle.username_key",
            "signing_day_deltas.continued",
            "signing_day_deltas.day",
            "signing_day_deltas.signed",
            "stat_day_deltas.campaign_id",
            "stat_day_deltas.clients",
            "stat_day_deltas.day",
            "stat_day_deltas.leads",
            "stat_day_deltas.revenue",
            "users.failed_logins",
            "users.locked_until",
            "users.password_hash",
        ];
        let mut tx = t.crm.db().read().await.unwrap();
        let ungranted: Vec<(String,)> = tx
            .fetch_all(
                crm::db::Query::new(
                    "select c.relname || '.' || a.attname from pg_class c
                     join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
                     join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                     where c.relkind in ('r', 'v', 'p')
                       and not exists (select 1 from pg_roles r where starts_with(r.rolname, $1)
                                       and has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT, UPDATE'))
                     order by 1",
                )
                .bind(format!("{}:", pg::role_prefix(&t.url))),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let ungranted: Vec<String> = ungranted.into_iter().map(|(c,)| c).collect();
        assert_eq!(ungranted, owners_alone, "columns without grants");
    }

    async fn administrators_hear_when_search_has_no_trigram_index_and_the_owner_makes_it(t: TestCrm) {
        assert_eq!(t.crm.server_notices(&t.admin).await.unwrap(), Vec::<&str>::new(), "the test server has pg_trgm");
        let mut tx = t.crm.db().write().await.unwrap();
        for index in LEADS_TRIGRAM_INDEXES {
            tx.execute(crm::db::Query::new(format!("drop index {index}"))).await.unwrap();
        }
        tx.execute(crm::db::Query::new("update office set trigram_search = false")).await.unwrap();
        tx.commit().await.unwrap();
        let olga = t.user("olga", &["operator"]).await;
        assert_eq!(t.crm.server_notices(&olga).await.unwrap(), Vec::<&str>::new(), "only administrators hear it");
        assert_eq!(t.crm.server_notices(&t.admin).await.unwrap(), ["trigram_missing"]);
        // search still works without the index
        let search = crm::leads::LeadFilter { search: "петров".into(), ..Default::default() };
        t.crm.list_leads(&olga, &search).await.unwrap();

        assert!(t.crm.enable_trigram_search().await.unwrap());
        assert_eq!(t.crm.server_notices(&t.admin).await.unwrap(), Vec::<&str>::new());
        let mut tx = t.crm.db().read().await.unwrap();
        let indexes: Vec<(String,)> = tx
            .fetch_all(crm::db::Query::new(
                "select indexname::text from pg_indexes where indexname like '%trgm%' order by 1",
            ))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(indexes.into_iter().map(|(name,)| name).collect::<Vec<_>>(), trigram_indexes());
    }

    async fn without_btree_gin_search_makes_its_indexes_and_finds_the_same_leads(t: TestCrm) {
        use crm::leads::{LeadFilter, LeadInput, LeadStatus};
        // A server without btree_gin, which migration 0034 keyed the index by status with where
        // it could: creating the extension fails (an event trigger refuses it, as a server
        // without contrib would). Since 0036 each status has a partial index of pg_trgm alone.
        let mut tx = t.crm.db().write().await.unwrap();
        for index in LEADS_TRIGRAM_INDEXES {
            tx.execute(crm::db::Query::new(format!("drop index {index}"))).await.unwrap();
        }
        for sql in [
            "drop extension if exists btree_gin",
            "update office set trigram_search = false",
            "create function refuse_btree_gin() returns event_trigger language plpgsql as $$
             begin
                 if exists (select 1 from pg_event_trigger_ddl_commands() where object_identity = 'btree_gin') then
                     raise exception 'extension \"btree_gin\" is not available';
                 end if;
             end $$",
            "create event trigger refuse_btree_gin on ddl_command_end when tag in ('CREATE EXTENSION')
             execute function refuse_btree_gin()",
        ] {
            tx.execute(crm::db::Query::new(sql)).await.unwrap();
        }
        tx.commit().await.unwrap();

        assert!(t.crm.enable_trigram_search().await.unwrap(), "pg_trgm alone is enough");
        assert_eq!(t.crm.server_notices(&t.admin).await.unwrap(), Vec::<&str>::new());
        let mut tx = t.crm.db().read().await.unwrap();
        let indexes: Vec<(String,)> = tx
            .fetch_all(crm::db::Query::new(
                "select indexname::text from pg_indexes where indexname like '%trgm%' order by 1",
            ))
            .await
            .unwrap();
        let btree_gin: i64 =
            tx.scalar(crm::db::Query::new("select count(*) from pg_extension where extname = 'btree_gin'")).await.unwrap();
        tx.commit().await.unwrap();
        let indexes: Vec<String> = indexes.into_iter().map(|(name,)| name).collect();
        assert_eq!(indexes, trigram_indexes());
        assert_eq!(btree_gin, 0);

        // a search of one status (the board's columns, the list filtered by status) reads the
        // same leads through the index without the status
        let mut ids = std::collections::HashMap::new();
        for (name, status) in [
            ("Анна Смирнова", LeadStatus::New),
            ("Смирнова Анна", LeadStatus::New),
            ("Петров Иван", LeadStatus::New),
            ("Иванова Анна", LeadStatus::InWork),
            ("Жанна Котова", LeadStatus::Lost),
        ] {
            let input = LeadInput { full_name: name.into(), email: format!("{}@example.ru", ids.len()), ..Default::default() };
            let lead = t.crm.create_lead(&t.admin, &input).await.unwrap();
            if status != LeadStatus::New {
                let reason = match status {
                    LeadStatus::Lost => Some(t.crm.list_lost_reasons(&t.admin, false).await.unwrap()[0].id),
                    _ => None,
                };
                t.crm.set_lead_status(&t.admin, lead.id, lead.version, status, reason).await.unwrap();
            }
            ids.insert(lead.id, name);
        }
        let filter = crm::board::BoardFilter { leads: LeadFilter { search: "анна".into(), ..Default::default() }, ..Default::default() };
        let board = t.crm.lead_board(&t.admin, &filter).await.unwrap();
        let names: Vec<(LeadStatus, Vec<&str>)> = board
            .iter()
            .map(|column| {
                let mut names: Vec<&str> = column.cards.items.iter().map(|card| ids[&card.lead.id]).collect();
                names.sort_unstable();
                assert_eq!(column.cards.total, names.len() as i64);
                (column.status, names)
            })
            .collect();
        assert_eq!(
            names,
            [
                (LeadStatus::New, vec!["Анна Смирнова", "Смирнова Анна"]),
                (LeadStatus::InWork, vec!["Иванова Анна"]),
                (LeadStatus::Converted, vec![]),
                (LeadStatus::Lost, vec!["Жанна Котова"]),
            ]
        );
        let lost = LeadFilter { search: "анна".into(), status: Some(LeadStatus::Lost), ..Default::default() };
        let listed = t.crm.list_leads(&t.admin, &lost).await.unwrap();
        assert_eq!(listed.items.iter().map(|lead| ids[&lead.id]).collect::<Vec<_>>(), ["Жанна Котова"]);
    }

    async fn staff_read_only_the_timeline_entries_and_tasks_their_role_may_see(t: TestCrm) {
        use crm::history::Record;
        use crm::tasks::TaskInput;
        let lead = t
            .crm
            .create_lead(&t.admin, &crm::leads::LeadInput { full_name: "Лид".into(), email: "l@example.ru".into(), ..Default::default() })
            .await
            .unwrap();
        t.crm.add_note(&t.admin, Record::Lead(lead.id), "заметка").await.unwrap();
        t.crm.create_channel(&t.admin, "Радио").await.unwrap();
        let olga = staff(&t, "olga", &["operator"]).await;
        let admins_task = TaskInput { subject: "Админ".into(), due_at: "2030-01-01 10:00".into(), ..Default::default() };
        t.crm.create_task(&t.admin, &admins_task).await.unwrap();
        let for_olga = TaskInput { assignee_id: Some(olga), ..admins_task };
        t.crm.create_task(&t.admin, &for_olga).await.unwrap();

        let mut conn = psql(&t, "olga", PASSWORD).await.unwrap();
        let entities: Vec<(String,)> =
            sqlx::query_as("select distinct entity from audit_log").fetch_all(&mut conn).await.unwrap();
        assert_eq!(entities, [("lead".to_owned(),)], "an operator reads leads' entries only");
        let tasks: Vec<(String, UserId)> =
            sqlx::query_as("select subject, assignee_id from tasks").fetch_all(&mut conn).await.unwrap();
        assert_eq!(tasks, [("Админ".to_owned(), olga)], "only the task set for her");
        // the leads counted by the first letters of their names, and by status or owner and day,
        // are the leads' readers' alone (row-level security: the list counts are every role's)
        let names = "select list, n from list_counts
                     where list like 'names:%' or list like 'status_days:%' or list like 'owner_days:%' order by list";
        let counted: Vec<(String, i64)> = sqlx::query_as(names).fetch_all(&mut conn).await.unwrap();
        let today = chrono::Utc::now().date_naive();
        let expected = [
            ("names:лид".to_owned(), 1),
            (format!("owner_days:{}:{today}", t.admin.user_id), 1),
            (format!("status_days:new:{today}"), 1),
        ];
        assert_eq!(counted, expected, "an operator reads them");
        staff(&t, "mark", &["marketer"]).await;
        let mut conn = psql(&t, "mark", PASSWORD).await.unwrap();
        let counted: Vec<(String, i64)> = sqlx::query_as(names).fetch_all(&mut conn).await.unwrap();
        assert_eq!(counted, [], "a marketer reads none of them");
    }

    async fn the_office_database_keeps_no_password_hash(t: TestCrm) {
        t.user("olga", &["operator"]).await;
        assert_eq!(t.count("users where password_hash is not null").await, 0);
    }

    async fn a_wrong_password_is_refused_by_the_server(t: TestCrm) {
        t.user("olga", &["operator"]).await;
        let err = psql(&t, "olga", "not her password").await.unwrap_err();
        assert_eq!(code(&err), "28P01");
        assert!(matches!(t.crm.sign_in("olga", "not her password").await, Err(Error::BadCredentials)));
        assert!(matches!(t.crm.sign_in("nobody", PASSWORD).await, Err(Error::BadCredentials)));
    }

    async fn a_server_login_that_is_no_crm_user_is_not_a_username(t: TestCrm) {
        let role = format!("{}_stranger", pg::role_prefix(&t.url));
        let mut tx = t.crm.db().write().await.unwrap();
        tx.execute(crm::db::Query::new(format!("create role \"{role}\" login password 'stranger-password'"))).await.unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(t.crm.sign_in("stranger", "stranger-password").await, Err(Error::BadCredentials)));
    }

    async fn an_expired_password_is_refused_like_a_wrong_one(t: TestCrm) {
        t.user("olga", &["operator"]).await;
        let role = format!("{}_olga", pg::role_prefix(&t.url));
        let mut tx = t.crm.db().write().await.unwrap();
        tx.execute(crm::db::Query::new(format!("alter role \"{role}\" valid until '2000-01-01'"))).await.unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(t.crm.sign_in("olga", PASSWORD).await, Err(Error::BadCredentials)));
    }

    async fn a_deactivated_user_cannot_connect_with_psql_and_an_open_session_loses_its_rights(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let mut open = psql(&t, "olga", PASSWORD).await.unwrap();
        attempt(&mut open, "select full_name from leads").await.expect("an operator reads leads");
        let user = t.crm.get_user(&t.admin, olga.user_id).await.unwrap();
        let off = UserUpdate { full_name: user.full_name, is_active: false, roles: user.roles, extra_permissions: vec![] };
        t.crm.update_user(&t.admin, user.id, user.version, &off).await.unwrap();

        assert_eq!(code(&psql(&t, "olga", PASSWORD).await.unwrap_err()), "28000", "NOLOGIN");
        assert_eq!(attempt(&mut open, "select full_name from leads").await, Err("42501".into()));
        assert!(matches!(t.crm.sign_in("olga", PASSWORD).await, Err(Error::Deactivated)));
        assert!(matches!(t.crm.refresh(&olga).await, Err(Error::Unauthenticated)));
    }

    async fn roles_and_extra_permissions_move_the_server_roles_in_step(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        let mut conn = psql(&t, "olga", PASSWORD).await.unwrap();
        assert!(attempt(&mut conn, "select name from contracts").await.is_err());

        let user = t.crm.get_user(&t.admin, olga.user_id).await.unwrap();
        let more = UserUpdate {
            full_name: user.full_name.clone(),
            is_active: true,
            roles: vec!["operator".into()],
            extra_permissions: vec!["contracts.view".into()],
        };
        t.crm.update_user(&t.admin, user.id, user.version, &more).await.unwrap();
        attempt(&mut conn, "select name from contracts").await.expect("an extra permission is a grant");

        let user = t.crm.get_user(&t.admin, olga.user_id).await.unwrap();
        let marketer = UserUpdate { roles: vec!["marketer".into()], extra_permissions: vec![], ..more };
        t.crm.update_user(&t.admin, user.id, user.version, &marketer).await.unwrap();
        assert!(attempt(&mut conn, "select full_name from leads").await.is_err(), "no longer an operator");
        attempt(&mut conn, "update campaigns set budget = budget").await.expect("a marketer now");

        // a role's permissions are the group role's members
        let roles = t.crm.list_roles(&t.admin).await.unwrap();
        let role = roles.iter().find(|r| r.code == "marketer").unwrap();
        let mut permissions = role.permissions.clone();
        permissions.push("leads.view".into());
        t.crm.set_role_permissions(&t.admin, role.id, role.version, &permissions).await.unwrap();
        attempt(&mut conn, "select full_name from leads").await.expect("marketers may view leads now");
    }

    async fn a_new_user_and_a_reset_password_are_the_servers_to_check(t: TestCrm) {
        let input = NewUser {
            username: "Пётр".into(),
            full_name: "Пётр Петров".into(),
            password: "первый пароль".into(),
            roles: vec!["manager".into()],
            extra_permissions: vec![],
        };
        let user = t.crm.create_user(&t.admin, &input).await.unwrap();
        psql(&t, "пётр", "первый пароль").await.expect("a Cyrillic username and password");
        t.crm.reset_password(&t.admin, user.id, "второй пароль").await.unwrap();
        assert_eq!(code(&psql(&t, "пётр", "первый пароль").await.unwrap_err()), "28P01");
        let peter = t.crm.sign_in("ПЁТР", "второй пароль").await.unwrap();
        t.crm.change_own_password(&peter, "второй пароль", "третий пароль").await.unwrap();
        psql(&t, "пётр", "третий пароль").await.expect("changed by the user");
        // the session goes on with the new password when it opens its next connection
        t.crm.refresh(&peter).await.unwrap();
    }

    async fn the_office_server_is_reached_over_tls_checked_against_its_ca(t: TestCrm) {
        use crm::config::{OfficeServer, Tls};
        let mut server = OfficeServer::from_url(&t.url).unwrap();
        server.host = "localhost".into();
        server.tls = Tls::VerifyFull;
        server.ca_file = Some(pg::ca_file());
        let settings = crate::support::settings_for(&t.url, crm::Settings::default());
        let office = crm::Crm::open_office(&server, settings.clone());
        let admin = office.sign_in("admin", PASSWORD).await.expect("verify-full against the office's CA");
        office.list_users(&admin).await.expect("works over TLS");
        let role = format!("{}_admin", pg::role_prefix(&t.url));
        let mut conn = PgConnection::connect_with(&server.connect_options(&role, PASSWORD)).await.unwrap();
        let (ssl,): (bool,) =
            sqlx::query_as("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetch_one(&mut conn).await.unwrap();
        assert!(ssl, "the connection is encrypted");

        // a certificate that no trusted authority signed is refused, in words
        let untrusted = OfficeServer { ca_file: None, ..server.clone() };
        let err = crm::Crm::open_office(&untrusted, settings.clone()).sign_in("admin", PASSWORD).await.unwrap_err();
        assert_eq!(crm::i18n::database_problem(&err), Some("db_tls_failed"), "{err:?}");
        // "require" encrypts without checking whose certificate it is
        let required = OfficeServer { tls: Tls::Require, ca_file: None, ..server };
        crm::Crm::open_office(&required, settings).sign_in("admin", PASSWORD).await.expect("TLS without a check");
    }

    async fn a_failed_user_change_leaves_the_server_roles_as_they_were(t: TestCrm) {
        let me = t.crm.get_user(&t.admin, t.admin.user_id).await.unwrap();
        let demoted = UserUpdate { full_name: me.full_name.clone(), is_active: true, roles: vec!["manager".into()], extra_permissions: vec![] };
        assert_eq!(t.crm.update_user(&t.admin, me.id, me.version, &demoted).await.unwrap_err().code(), "last_admin");
        let mut conn = psql(&t, "admin", PASSWORD).await.unwrap();
        attempt(&mut conn, "update users set is_active = true").await.expect("still the administrator");
    }
}

/// Cuts the connection of the one session waiting for a lock, as a restarting server would.
async fn cut_the_waiting_connection(t: &TestCrm) {
    let mut conn = PgConnection::connect(&t.url).await.expect("owner");
    for _ in 0..100 {
        let cut: Option<(bool,)> = sqlx::query_as(
            "select pg_terminate_backend(pid) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
        )
        .fetch_optional(&mut conn)
        .await
        .expect("terminate");
        if cut.is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("nobody waited for the lock");
}

crate::office_only! {
    async fn a_connection_cut_under_a_save_or_a_read_is_tried_again_on_a_new_one(t: TestCrm) {
        use crm::leads::{LeadFilter, LeadInput};
        let operator = t.user("olga", &["operator"]).await;
        let input = LeadInput { full_name: "Петров".into(), phone: "+7 912 345 67 40".into(), ..Default::default() };
        let lead = t.crm.create_lead(&operator, &input).await.unwrap();
        for round in ["save", "read"] {
            // the owner holds the leads table, so the operator's statement waits on the server,
            // where its connection is then cut: the core must try once more on a new connection
            let mut owner = PgConnection::connect(&t.url).await.expect("owner");
            let mut hold = owner.begin().await.unwrap();
            sqlx::query("lock table leads in access exclusive mode").execute(&mut *hold).await.unwrap();
            let (crm, actor, input) = (t.crm.clone(), operator.clone(), input.clone());
            let work = tokio::spawn(async move {
                match round {
                    "save" => crm.update_lead(&actor, lead.id, lead.version, &LeadInput { note: "перезвонить".into(), ..input })
                        .await
                        .map(|l| (l.version.get(), l.note)),
                    _ => crm.list_leads(&actor, &LeadFilter::default()).await.map(|page| (page.total, String::new())),
                }
            });
            cut_the_waiting_connection(&t).await;
            hold.commit().await.unwrap();
            let done = work.await.expect("task");
            match round {
                // saved once: one version further, not two
                "save" => assert_eq!(done.unwrap(), (lead.version.next().get(), "перезвонить".to_owned())),
                _ => assert_eq!(done.unwrap().0, 1),
            }
        }
    }
}

/// An office behind PgBouncer in transaction mode, as Debian 12 ships it (1.18: prepared
/// statements do not survive a transaction there), with `pgbouncer = true`: four computers share
/// the pooler's two server connections, and each person's work goes through as on the server
/// itself. A wrong password is refused as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_works_through_pgbouncer_in_transaction_mode() {
    use crm::config::OfficeServer;
    use crm::leads::{LeadFilter, LeadInput};

    let t = TestCrm::postgres().await;
    t.user("olga", &["operator"]).await;
    t.user("oleg", &["operator"]).await;
    let direct = OfficeServer::from_url(&t.url).expect("office server");
    let server = OfficeServer { port: pg::pgbouncer_port(), pgbouncer: true, ..direct };
    let settings = crate::support::settings_for(&t.url, crm::Settings::default());
    let office = crm::Crm::open_office(&server, settings.clone());
    assert!(matches!(office.sign_in("olga", "not her password").await, Err(Error::BadCredentials)));
    // without the setting, people are told what to change, not "database error"
    let unset = crm::Crm::open_office(&OfficeServer { pgbouncer: false, ..server.clone() }, settings.clone());
    let refused = unset.sign_in("olga", PASSWORD).await.unwrap_err();
    assert_eq!(crm::i18n::database_problem(&refused), Some("db_pooler"), "{refused:?}");

    let mut computers = Vec::new();
    for n in 0..4u32 {
        let office = crm::Crm::open_office(&server, settings.clone());
        computers.push(tokio::spawn(async move {
            let person =
                office.sign_in(["olga", "oleg"][n as usize % 2], PASSWORD).await.expect("sign in through PgBouncer");
            for i in 0..20u32 {
                let input = LeadInput {
                    full_name: format!("Лид {n} {i}"),
                    phone: format!("+7912{n}{i:06}"),
                    ..Default::default()
                };
                let lead = office.create_lead(&person, &input).await.expect("create");
                let edit = LeadInput { note: "перезвонить".into(), ..input };
                office.update_lead(&person, lead.id, lead.version, &edit).await.expect("update");
                let filter = LeadFilter { search: format!("Лид {n} {i}"), ..Default::default() };
                assert_eq!(office.list_leads(&person, &filter).await.expect("list").total, 1);
            }
        }));
    }
    for computer in computers {
        computer.await.expect("a computer's work");
    }
    assert_eq!(t.count("leads").await, 80);
    assert_eq!(t.count("audit_log where entity = 'lead' and action = 'update'").await, 80);
}

/// A role taken away while its user is signed in: the app's copy of their permissions is stale
/// until the next refresh (the window refreshes at every click), and the office server refuses
/// the query. The person hears that an administrator changed their permissions, in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_taken_away_mid_session_is_said_in_words() {
    let t = TestCrm::postgres().await;
    let olga = t.user("olga", &["operator"]).await;
    let filter = crm::leads::LeadFilter::default();
    assert!(t.crm.list_leads(&olga, &filter).await.is_ok());
    let user = t.crm.get_user(&t.admin, olga.user_id).await.unwrap();
    let update = UserUpdate { full_name: user.full_name, is_active: true, roles: vec![], extra_permissions: vec![] };
    t.crm.update_user(&t.admin, olga.user_id, user.version, &update).await.unwrap();
    let refused = t.crm.list_leads(&olga, &filter).await.unwrap_err();
    assert!(matches!(refused, Error::State { code: "rights_changed", .. }), "{refused:?}");
    // the next refresh reads the permissions she has now
    let fresh = t.crm.refresh(&olga).await.unwrap();
    assert!(matches!(t.crm.list_leads(&fresh, &filter).await, Err(Error::Forbidden(_))));
}

/// An office database made with `LC_CTYPE=C` (as `createdb` does on a server initialised in the C
/// locale): pg_trgm takes no Cyrillic letter into a trigram there, so its index cannot narrow a
/// search of a Russian name. Administrators are told at sign-in what to do; others hear nothing;
/// search still finds what it should. The harness's own databases classify letters as UTF-8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_database_that_cannot_see_russian_letters_in_trigrams_is_named_to_administrators() {
    async fn trigrams(t: &TestCrm) -> i64 {
        let mut tx = t.crm.db().read().await.unwrap();
        let n = tx.scalar(crm::db::Query::new("select cardinality(show_trgm('смирнова'))::bigint")).await.unwrap();
        tx.commit().await.unwrap();
        n
    }
    let utf8 = TestCrm::postgres().await;
    assert!(trigrams(&utf8).await > 0, "the harness's databases take Cyrillic letters into trigrams");
    assert_eq!(utf8.crm.server_notices(&utf8.admin).await.unwrap(), Vec::<&str>::new());

    let t = TestCrm::postgres_with("template template0 lc_collate 'C' lc_ctype 'C'").await;
    assert_eq!(trigrams(&t).await, 0, "LC_CTYPE=C: no trigram of a Cyrillic word");
    assert_eq!(t.crm.server_notices(&t.admin).await.unwrap(), ["trigram_ascii"]);
    let olga = t.user("olga", &["operator"]).await;
    assert_eq!(t.crm.server_notices(&olga).await.unwrap(), Vec::<&str>::new(), "only administrators hear it");
    let lead =
        crm::leads::LeadInput {
            full_name: "Смирнова Анна".into(), phone: "+79123456789".into(), ..Default::default()
        };
    t.crm.create_lead(&olga, &lead).await.unwrap();
    let search = crm::leads::LeadFilter { search: "смирнова".into(), ..Default::default() };
    assert_eq!(t.crm.list_leads(&olga, &search).await.unwrap().total, 1, "search still finds it");
}
