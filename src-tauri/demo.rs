//! Realistic generated data for trying the CRM and for benchmarks: services, campaigns over the
//! last year on the standard channels, leads with Russian names and phones, conversions with
//! contracts. Deterministic for a seed and an anchor date, so the same seed gives the same
//! statistics on SQLite and on PostgreSQL; fast enough for a million leads (multi-row inserts
//! with ids chosen here, in one transaction).

use std::time::Instant;

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::app::Crm;
use crate::auth::insert_user;
use crate::db::{Backend, Query, Tx, Value};
use crate::domain::text;
use crate::error::{Error, Result};
use crate::history::Changes;
use crate::permission::{Actor, Permission};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub leads: u64,
    /// The last day of the generated year (default: today).
    pub anchor: NaiveDate,
    /// Add to a database that already holds business data.
    pub append: bool,
    /// Password of the demo users `operator`, `marketer` and `manager` (created when missing,
    /// and `admin` on a database without users).
    pub password: String,
    /// Run on a database whose users include others than the administrator running it.
    pub with_other_users: bool,
    /// Nothing generated happens after this moment: the moment of generation, where the anchor
    /// is today (`crm demo` without `--anchor`), so that a demo made in the morning shows no
    /// leads, calls or conversions of the afternoon to come. `None`: the anchor day's work runs
    /// to 20:00 UTC (the same data for a seed and an anchor, whenever made).
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DemoReport {
    pub services: u64,
    pub campaigns: u64,
    pub leads: u64,
    pub clients: u64,
    pub contracts: u64,
    pub users_created: Vec<String>,
    pub seconds: f64,
}

const SERVICES: &[(&str, &str, i64)] = &[
    ("Разработка сайта", "Сайт под ключ: дизайн, вёрстка, CMS, запуск", 180_000),
    ("SEO-продвижение", "Продвижение в поиске Яндекса и Google, ежемесячно", 45_000),
    ("Настройка контекстной рекламы", "Яндекс Директ: семантика, объявления, аналитика", 30_000),
    ("SMM-сопровождение", "Ведение сообществ, контент-план, таргет", 40_000),
    ("Аудит сайта", "Технический и маркетинговый аудит с рекомендациями", 15_000),
    ("Фирменный стиль", "Логотип, палитра, шрифты, брендбук", 85_000),
    ("Email-маркетинг", "Рассылки, сегментация, автоматические цепочки", 25_000),
    ("Техническая поддержка", "Поддержка и доработка сайта, ежемесячно", 20_000),
];

/// Share of leads that become clients, by channel (in the seeded order).
const CONVERSION_BY_CHANNEL: &[f64] = &[0.14, 0.08, 0.11, 0.05, 0.06, 0.25];

#[rustfmt::skip]
const MALE: &[&str] = &[
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Виктор", "Владимир", "Дмитрий",
    "Евгений", "Егор", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Максим", "Михаил", "Никита",
    "Николай", "Олег", "Павел", "Роман", "Сергей", "Станислав", "Степан", "Юрий",
];
#[rustfmt::skip]
const FEMALE: &[&str] = &[
    "Александра", "Алина", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория", "Дарья",
    "Екатерина", "Елена", "Ирина", "Ксения", "Любовь", "Марина", "Мария", "Наталья", "Нина", "Ольга", "Полина",
    "Светлана", "Софья", "Татьяна", "Юлия",
];
/// Surnames as (male, female).
#[rustfmt::skip]
const SURNAMES: &[(&str, &str)] = &[
    ("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"), ("Попов", "Попова"),
    ("Васильев", "Васильева"), ("Петров", "Петрова"), ("Соколов", "Соколова"), ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"), ("Фёдоров", "Фёдорова"), ("Морозов", "Морозова"), ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"), ("Лебедев", "Лебедева"), ("Семёнов", "Семёнова"), ("Егоров", "Егорова"),
    ("Павлов", "Павлова"), ("Козлов", "Козлова"), ("Степанов", "Степанова"), ("Николаев", "Николаева"),
    ("Орлов", "Орлова"), ("Андреев", "Андреева"), ("Макаров", "Макарова"), ("Никитин", "Никитина"),
    ("Захаров", "Захарова"), ("Зайцев", "Зайцева"), ("Соловьёв", "Соловьёва"), ("Борисов", "Борисова"),
    ("Яковлев", "Яковлева"), ("Григорьев", "Григорьева"), ("Романов", "Романова"), ("Воробьёв", "Воробьёва"),
    ("Белоусов", "Белоусова"), ("Тихонов", "Тихонова"), ("Крылов", "Крылова"), ("Белый", "Белая"),
    ("Ковальчук", "Ковальчук"), ("Шевченко", "Шевченко"), ("Гусев", "Гусева"), ("Титов", "Титова"),
];
#[rustfmt::skip]
const PATRONYMIC_ROOTS: &[&str] = &[
    "Александров", "Алексеев", "Андреев", "Борисов", "Викторов", "Владимиров", "Дмитриев", "Евгеньев",
    "Иванов", "Игорев", "Максимов", "Михайлов", "Николаев", "Олегов", "Павлов", "Романов", "Сергеев", "Юрьев",
];
const MAIL_DOMAINS: &[&str] = &["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "rambler.ru"];
/// By `month % 12 / 3`: December, January and February are winter.
const SEASONS: &[&str] = &["Зима", "Весна", "Лето", "Осень"];

/// Rows per multi-row insert: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const BATCH: usize = 1000;
/// What the demo's operator has to do about a lead.
const TASKS: &[(&str, &str)] = &[
    ("call", "Перезвонить"),
    ("call", "Уточнить бюджет"),
    ("meeting", "Встреча в офисе"),
    ("email", "Отправить коммерческое предложение"),
    ("other", "Подготовить расчёт"),
];

impl Crm {
    /// Generates demo data; refuses a database that already holds business data unless appending.
    ///
    /// A database with users is someone's office: only an administrator signed in as themselves
    /// (`admin`) may fill it, and only with `with_other_users` when others work there too. The
    /// demo users get `options.password`, which the caller asks for or generates (never a
    /// published one).
    pub async fn generate_demo(&self, admin: Option<&Actor>, options: &DemoOptions) -> Result<DemoReport> {
        crate::domain::date::plausible("anchor", options.anchor).map_err(|e| Error::Invalid(vec![e]))?;
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let mut report = DemoReport::default();

        let mut tx = self.db.write().await?;
        let users: i64 = tx.scalar(Query::new("select count(*) from users")).await?;
        if users > 0 {
            let Some(admin) = admin else { return Err(Error::state("demo_needs_admin")) };
            admin.require(Permission::UsersManage)?;
            let others: i64 =
                tx.scalar(Query::new("select count(*) from users where id <> $1").bind(admin.user_id)).await?;
            if others > 0 && !options.with_other_users {
                return Err(Error::state("demo_other_users"));
            }
        }
        let existing: i64 = tx
            .scalar(Query::new(
                "select (select count(*) from services) + (select count(*) from campaigns) + (select count(*) from leads)",
            ))
            .await?;
        if existing > 0 && !options.append {
            return Err(Error::state("demo_needs_append"));
        }
        tx.commit().await?;

        if users == 0 {
            self.demo_user(options, "administrator", "admin", "Анна Администраторова", &mut report).await?;
        }
        let operator = self.demo_user(options, "operator", "operator", "Ольга Операторова", &mut report).await?;
        self.demo_user(options, "marketer", "marketer", "Марк Маркетов", &mut report).await?;
        let manager = self.demo_user(options, "manager", "manager", "Мария Менеджерова", &mut report).await?;

        let mut tx = self.db.write_large().await?;
        let suffix = if options.append { format!(" · {}", options.seed) } else { String::new() };
        let services = insert_services(&mut tx, &suffix, operator).await?;
        report.services = services.len() as u64;
        let channels: Vec<(i64,)> =
            tx.fetch_all(Query::new("select id from channels where is_archived = false order by id")).await?;
        let channels: Vec<i64> = channels.into_iter().map(|(id,)| id).collect();
        if channels.is_empty() {
            return Err(Error::state("demo_no_channels"));
        }
        let (campaigns, created) =
            insert_campaigns(&mut tx, &mut rng, options, &services, &channels, &suffix, operator).await?;
        // every campaign made, the planned ones too (only the started ones get leads)
        report.campaigns = created;
        let bulk = crate::stats::start_bulk_load(&mut tx).await?;
        let people = generate_people(&mut tx, &mut rng, options, &campaigns, &services, operator, manager).await?;
        crate::stats::finish_bulk_load(&mut tx, bulk).await?;
        report.leads = people.0;
        report.clients = people.1;
        report.contracts = people.2;
        tx.commit().await?;
        self.db.settle_after_bulk_load().await;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    async fn demo_user(
        &self,
        options: &DemoOptions,
        role: &str,
        username: &str,
        name: &str,
        report: &mut DemoReport,
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let found: Option<(i64,)> =
            tx.fetch_optional(Query::new("select id from users where username_key = $1").bind(username)).await?;
        if let Some((id,)) = found {
            return Ok(id);
        }
        let id = insert_user(&mut tx, username, name, &options.password).await?;
        tx.execute(
            Query::new("insert into user_roles (user_id, role_id) select $1, id from roles where code = $2")
                .bind(id)
                .bind(role),
        )
        .await?;
        tx.commit().await?;
        report.users_created.push(username.to_owned());
        Ok(id.get())
    }
}

struct DemoCampaign {
    id: i64,
    service: usize,
    channel_index: usize,
    starts_on: NaiveDate,
    lead_window_days: i64,
}

async fn insert_services(tx: &mut Tx, suffix: &str, by: i64) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    let at = Utc::now();
    for (name, description, roubles) in SERVICES {
        let name = format!("{name}{suffix}");
        let id: i64 = tx
            .scalar(
                Query::new(
                    "insert into services (name, name_key, description, price, created_by, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, $6) returning id",
                )
                .bind(&name)
                .bind(text::key(&name))
                .bind(*description)
                .bind(roubles * 100)
                .bind(by)
                .bind(at),
            )
            .await?;
        out.push((id, roubles * 100));
    }
    Ok(out)
}

async fn insert_campaigns(
    tx: &mut Tx,
    rng: &mut ChaCha8Rng,
    options: &DemoOptions,
    services: &[(i64, i64)],
    channels: &[i64],
    suffix: &str,
    by: i64,
) -> Result<(Vec<DemoCampaign>, u64)> {
    let count = (options.leads / 500).clamp(12, 2000) as usize;
    let year_start = options.anchor - Days::new(365);
    let channel_names: Vec<(String,)> =
        tx.fetch_all(Query::new("select name from channels where is_archived = false order by id")).await?;
    let mut out = Vec::with_capacity(count);
    let at = Utc::now();
    for n in 0..count {
        let service = rng.gen_range(0..services.len());
        let channel_index = rng.gen_range(0..channels.len());
        // about one campaign in ten is still planned
        let starts_on = year_start + Days::new(rng.gen_range(0..=385));
        let duration = rng.gen_range(14..=120);
        let ends_on = starts_on + Days::new(duration);
        let budget = rng.gen_range(20..=600) * 1_000 * 100;
        let season = SEASONS[(starts_on.format("%m").to_string().parse::<usize>().unwrap_or(1) % 12) / 3];
        // as a marketer names them: season, channel and a number (the service is its own field)
        let name =
            format!("{} {} · {} №{}{suffix}", season, starts_on.format("%Y"), channel_names[channel_index].0, n + 1);
        let started = (starts_on <= options.anchor).then_some(at);
        let id: i64 = tx
            .scalar(
                Query::new(
                    "insert into campaigns (name, name_key, service_id, channel_id, budget, starts_on, ends_on,
                     started_at, search, created_by, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $2, $9, $10, $10) returning id",
                )
                .bind(&name)
                .bind(text::key(&name))
                .bind(services[service].0)
                .bind(channels[channel_index])
                .bind(budget)
                .bind(starts_on)
                .bind(ends_on)
                .bind(started)
                .bind(by)
                .bind(at),
            )
            .await?;
        if starts_on <= options.anchor {
            let last_lead_day = (ends_on + Days::new(7)).min(options.anchor);
            let window = (last_lead_day - starts_on).num_days();
            out.push(DemoCampaign { id, service, channel_index, starts_on, lead_window_days: window });
        }
    }
    Ok((out, count as u64))
}

/// Leads, and for the converted ones a client with one to three contracts. Returns the counts.
async fn generate_people(
    tx: &mut Tx,
    rng: &mut ChaCha8Rng,
    options: &DemoOptions,
    campaigns: &[DemoCampaign],
    services: &[(i64, i64)],
    operator: i64,
    manager: i64,
) -> Result<(u64, u64, u64)> {
    let mut next = NextIds::load(tx).await?;
    let reasons: Vec<(i64, String)> =
        tx.fetch_all(Query::new("select id, name from lost_reasons where is_archived = false order by id")).await?;
    // the day's work comes from a stream of its own, so the figures of a seed stay what they were
    let mut work_rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x5eed_da75);
    // and so does each record's story (its timeline and the History page)
    let mut story_rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x0057_0a1e);
    let mut tasks = Rows::new("tasks");
    // Entries are written into the log in the order they happened at the end: written as each
    // lead is made, the log's indexes by time and by user were filled in random order
    tx.execute(Query::new(
        "create temporary table demo_story as
         select id as seq, at, user_id, action, entity, entity_id, details, changes from audit_log where false",
    ))
    .await?;
    let mut history = Story { rows: Rows::new("demo_story"), seq: 0 };
    let anchor_start = Utc.from_utc_datetime(&options.anchor.and_time(NaiveTime::MIN));
    // nothing happens after the anchor day ("today"), nor after `until`: no conversions or
    // signatures to come
    let last_moment =
        options.until.map_or(anchor_start + Duration::hours(20), |until| until.min(anchor_start + Duration::hours(20)));
    let anchor_noon = (anchor_start + Duration::hours(12)).min(last_moment);
    let (mut leads, mut clients, mut contracts) = (Rows::new("leads"), Rows::new("clients"), Rows::new("contracts"));
    let (mut n_leads, mut n_clients, mut n_contracts) = (0u64, 0u64, 0u64);
    // each campaign's leads spread over the days it brought them at one rate: picked evenly, a
    // campaign started yesterday got as many leads as one that ran four months, in one or two
    // days, and the last week of the year held twice a usual month's leads
    let by_days = WeightedIndex::new(campaigns.iter().map(|c| c.lead_window_days.max(0) + 1)).ok();
    for _ in 0..options.leads {
        let Some(campaign) = by_days.as_ref().map(|d| &campaigns[d.sample(rng)]) else { break };
        let lead_id = next.lead;
        next.lead += 1;
        let person = Person::generate(rng, lead_id);
        let day = campaign.starts_on + Days::new(rng.gen_range(0..=campaign.lead_window_days.max(0)) as u64);
        let created_at = before(
            Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
                + Duration::seconds(rng.gen_range(9 * 3600..20 * 3600)),
            anchor_start,
            last_moment,
        );
        let age_days = (options.anchor - day).num_days();
        let converted = rng.gen_bool(CONVERSION_BY_CHANNEL[campaign.channel_index % CONVERSION_BY_CHANNEL.len()]);
        // A lead converts some days after it came; one whose day has not come yet (after the
        // anchor, "today") is still being worked on.
        let converted_at = created_at + Duration::days(rng.gen_range(1..=20));
        let converted = converted && converted_at <= last_moment;
        let status = match (converted, rng.gen_range(0..100)) {
            (true, _) => "converted",
            (false, 0..=24) => "lost",
            (false, r) if age_days > 30 || r < 50 => "in_work",
            _ => "new",
        };
        let reason = reasons.choose(&mut work_rng).filter(|_| status == "lost");
        let lost_reason = Value::from(reason.map(|(id, _)| *id));
        leads.push(vec![
            lead_id.into(),
            person.full_name.clone().into(),
            person.phone.clone().into(),
            person.email.clone().into(),
            campaign.id.into(),
            status.into(),
            person.search.clone().into(),
            operator.into(),
            operator.into(),
            lost_reason,
            created_at.into(),
        ]);
        history.add(created_at, operator, "create", ("lead", lead_id), &person.full_name, Changes::default());
        if status != "new" {
            // taken into work within two days (before any conversion), lost up to two weeks later
            let latest = if converted { converted_at - Duration::hours(1) } else { last_moment };
            let worked_at = later(&mut story_rng, created_at, Duration::days(2), latest);
            history.add(worked_at, operator, "status", ("lead", lead_id), &person.full_name, {
                let mut changes = Changes::default();
                changes.field("status", Some("new"), Some("in_work"));
                changes
            });
            if status == "lost" {
                let lost_at = later(&mut story_rng, worked_at, Duration::days(14), last_moment);
                let mut changes = Changes::default();
                changes.field("status", Some("in_work"), Some("lost")).field(
                    "lost_reason",
                    None,
                    reason.map(|(_, name)| name.as_str()),
                );
                history.add(lost_at, operator, "status", ("lead", lead_id), &person.full_name, changes);
            }
        }
        // one lead in ten being worked on has a call or meeting around "today"
        if matches!(status, "new" | "in_work") && work_rng.gen_bool(0.1) {
            let due = anchor_noon + Duration::minutes(work_rng.gen_range(-3 * 24 * 60..14 * 24 * 60));
            let done = due < anchor_noon - Duration::days(1) && work_rng.gen_bool(0.7);
            let (kind, subject) = *TASKS.choose(&mut work_rng).expect("task kinds");
            // set in the week before it is due, and by "today" (noon) for one due later
            let earliest = (due - Duration::days(7)).min(anchor_noon - Duration::days(2)).max(created_at);
            let set_at = later(&mut story_rng, earliest, Duration::days(7), due.min(anchor_noon));
            tasks.push(vec![
                subject.into(),
                kind.into(),
                due.into(),
                operator.into(),
                lead_id.into(),
                done.into(),
                Value::from(done.then_some(due)),
                operator.into(),
                set_at.into(),
            ]);
            history.add(set_at, operator, "task_added", ("lead", lead_id), subject, Changes::default());
            if done {
                history.add(due, operator, "task_done", ("lead", lead_id), subject, Changes::default());
            }
        }
        n_leads += 1;
        if converted {
            let client_id = next.client;
            next.client += 1;
            n_clients += 1;
            let how_many = match rng.gen_range(0..100) {
                0..=69 => 1,
                70..=91 => 2,
                _ => 3,
            };
            // as a conversion writes it: the client, its contracts, then the lead's entry
            history.add(converted_at, manager, "create", ("client", client_id), &person.full_name, Changes::default());
            let (mut revenue, mut signed) = (0i64, 0i64);
            for k in 0..how_many {
                // a later contract comes up to a month after the previous one; none after today
                let days_left = (options.anchor - converted_at.date_naive()).num_days().max(0) as u64;
                let later = rng.gen_range(0..=30) * k;
                if later > days_left {
                    break;
                }
                let signed_on = converted_at.date_naive() + Days::new(later);
                let service = if k == 0 { campaign.service } else { rng.gen_range(0..services.len()) };
                let amount = ((services[service].1 as f64 * rng.gen_range(0.8..1.6) / 100_000.0).round() as i64
                    * 100_000)
                    .max(100_000);
                revenue += amount;
                signed += 1;
                let valid_to = signed_on + Days::new(rng.gen_range(90..=365));
                let contract_id = next.contract;
                next.contract += 1;
                let name = format!("Д-{}/{:06}", signed_on.format("%Y"), contract_id);
                contracts.push(vec![
                    contract_id.into(),
                    name.clone().into(),
                    text::key(&name).into(),
                    services[service].0.into(),
                    client_id.into(),
                    signed_on.into(),
                    signed_on.into(),
                    valid_to.into(),
                    amount.into(),
                    // found by its client's name too, as the app writes it
                    crate::contracts::search_text(&name, Some(&person.full_name)).into(),
                    manager.into(),
                    converted_at.into(),
                ]);
                history.add(converted_at, manager, "create", ("contract", contract_id), &name, Changes::default());
                n_contracts += 1;
            }
            let details = format!("client {client_id}");
            history.add(converted_at, manager, "convert", ("lead", lead_id), &details, Changes::default());
            // the totals every contract write keeps (store::refresh_client_totals)
            clients.push(vec![
                client_id.into(),
                lead_id.into(),
                person.full_name.into(),
                person.phone.into(),
                person.email.into(),
                person.search.into(),
                signed.into(),
                revenue.into(),
                manager.into(),
                manager.into(),
                converted_at.into(),
            ]);
        }
        if leads.len() >= BATCH {
            leads.flush(tx).await?;
        }
        if tasks.len() >= BATCH {
            leads.flush(tx).await?;
            tasks.flush(tx).await?;
        }
        if clients.len() >= BATCH {
            leads.flush(tx).await?;
            clients.flush(tx).await?;
        }
        if history.rows.len() >= BATCH {
            history.rows.flush(tx).await?;
        }
        if contracts.len() >= BATCH {
            leads.flush(tx).await?;
            clients.flush(tx).await?;
            contracts.flush(tx).await?;
        }
    }
    leads.flush(tx).await?;
    clients.flush(tx).await?;
    contracts.flush(tx).await?;
    tasks.flush(tx).await?;
    history.rows.flush(tx).await?;
    tx.execute(Query::new(
        "insert into audit_log (at, user_id, action, entity, entity_id, details, changes)
         select at, user_id, action, entity, entity_id, details, changes from demo_story order by at, seq",
    ))
    .await?;
    tx.execute(Query::new("drop table demo_story")).await?;
    next.sync_sequences(tx).await?;
    // fresh planner statistics: without them, queries after a bulk load can pick bad plans
    tx.execute(Query::new("analyze")).await?;
    Ok((n_leads, n_clients, n_contracts))
}

/// The next free id of each table: rows are inserted with ids chosen here, so that clients and
/// contracts can refer to leads and clients without reading ids back.
struct NextIds {
    lead: i64,
    client: i64,
    contract: i64,
}

impl NextIds {
    async fn load(tx: &mut Tx) -> Result<Self> {
        let (lead, client, contract): (i64, i64, i64) = tx
            .fetch_one(Query::new(
                "select (select coalesce(max(id), 0) + 1 from leads), (select coalesce(max(id), 0) + 1 from clients),
                        (select coalesce(max(id), 0) + 1 from contracts)",
            ))
            .await?;
        Ok(Self { lead, client, contract })
    }

    /// PostgreSQL identity sequences do not see explicit ids: move them past the new rows.
    async fn sync_sequences(&self, tx: &mut Tx) -> Result<()> {
        if tx.backend() == Backend::Postgres {
            for table in ["leads", "clients", "contracts"] {
                tx.execute(Query::new(format!(
                    "select setval(pg_get_serial_sequence('{table}', 'id'), (select coalesce(max(id), 1) from {table}))"
                )))
                .await?;
            }
        }
        Ok(())
    }
}

/// Buffered rows of one table, written with one multi-row insert per batch.
struct Rows {
    table: &'static str,
    rows: Vec<Vec<Value>>,
}

impl Rows {
    fn new(table: &'static str) -> Self {
        Self { table, rows: Vec::with_capacity(BATCH) }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        // rows end with created_at, which is their updated_at too; history entries have neither
        let (columns, updated_at) = match self.table {
            "leads" => (
                "id, full_name, phone, email, campaign_id, status, search, created_by, owner_id, lost_reason_id, created_at",
                true,
            ),
            "clients" => {
                ("id, lead_id, full_name, phone, email, search, contracts, revenue, converted_by, owner_id, created_at", true)
            }
            "tasks" => ("subject, kind, due_at, assignee_id, lead_id, is_done, done_at, created_by, created_at", true),
            "demo_story" => ("seq, at, user_id, action, entity, entity_id, details, changes", false),
            _ => (
                "id, name, name_key, service_id, client_id, signed_on, valid_from, valid_to, amount, search, created_by, created_at",
                true,
            ),
        };
        // ids are explicit (but for tasks and history): PostgreSQL's identity columns need to be
        // told so, SQLite has no such clause
        let explicit_ids = !matches!(self.table, "tasks" | "demo_story");
        let overriding =
            if explicit_ids && tx.backend() == Backend::Postgres { " overriding system value" } else { "" };
        let also = if updated_at { ", updated_at" } else { "" };
        let mut q = Query::new(format!("insert into {} ({columns}{also}){overriding} values ", self.table));
        for (i, row) in self.rows.drain(..).enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            let last = row.last().cloned().filter(|_| updated_at);
            for (j, value) in row.into_iter().enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                q.push_bind(value);
            }
            if let Some(updated_at) = last {
                q.push(", ").push_bind(updated_at);
            }
            q.push(")");
        }
        tx.execute(q).await?;
        Ok(())
    }
}

/// `at`, a moment of the anchor day's working hours (09:00 to 20:00 UTC from `day_start`), or,
/// where it comes after `last`, brought before it: those hours squeezed into the ones before
/// `last` from 09:00 (or into the hour before it, earlier in the morning), so that the day's
/// leads keep their order and none is dated in the future.
fn before(at: DateTime<Utc>, day_start: DateTime<Utc>, last: DateTime<Utc>) -> DateTime<Utc> {
    if at <= last {
        return at;
    }
    let opens = day_start + Duration::hours(9);
    let from = opens.min(last - Duration::hours(1));
    let span = (last - from).num_seconds();
    let into = (at - opens).num_seconds().clamp(0, 11 * 3600 - 1);
    from + Duration::seconds(into * span / (11 * 3600))
}

/// A moment after `after`, within `within` of it and not after `latest`, in the hours the leads
/// come (9:00-20:00 as they are made); `after` itself when no time is left. Drawn evenly over
/// the time there is: capped at "today", the entries of the last weeks' leads piled up at its
/// last moment.
fn later(rng: &mut ChaCha8Rng, after: DateTime<Utc>, within: Duration, latest: DateTime<Utc>) -> DateTime<Utc> {
    let minutes = ((after + within).min(latest) - after).num_minutes();
    if minutes < 1 {
        return after;
    }
    for _ in 0..8 {
        let at = after + Duration::minutes(rng.gen_range(1..=minutes));
        if (9..20).contains(&at.hour()) {
            return at;
        }
    }
    after + Duration::minutes(rng.gen_range(1..=minutes.min(30)))
}

/// The entries of the audit log (a record's timeline, the History page) the demo writes, as
/// the use cases making the same changes write them.
struct Story {
    rows: Rows,
    /// The order of writing, which breaks the ties of one moment (a conversion's entries).
    seq: i64,
}

impl Story {
    fn add(
        &mut self,
        at: DateTime<Utc>,
        user: i64,
        action: &str,
        (entity, id): (&str, i64),
        details: &str,
        changes: Changes,
    ) {
        self.seq += 1;
        self.rows.push(vec![
            self.seq.into(),
            at.into(),
            user.into(),
            action.into(),
            entity.into(),
            id.into(),
            details.into(),
            changes.to_text().into(),
        ]);
    }
}

struct Person {
    full_name: String,
    phone: Option<String>,
    email: Option<String>,
    search: String,
}

impl Person {
    fn generate(rng: &mut ChaCha8Rng, id: i64) -> Self {
        let female = rng.gen_bool(0.5);
        let (surname_m, surname_f) = *SURNAMES.choose(rng).expect("surnames");
        let root = PATRONYMIC_ROOTS.choose(rng).expect("roots");
        let (first, surname, patronymic) = if female {
            (*FEMALE.choose(rng).expect("names"), surname_f, format!("{root}на"))
        } else {
            (*MALE.choose(rng).expect("names"), surname_m, format!("{root}ич"))
        };
        let full_name = format!("{surname} {first} {patronymic}");
        let has_email = rng.gen_bool(0.6);
        let has_phone = !has_email || rng.gen_bool(0.85);
        // unique per lead id: 7919 is coprime with 10^9, so distinct ids give distinct numbers
        let phone = has_phone.then(|| format!("+79{:09}", (id * 7919 + 12_345_678) % 1_000_000_000));
        let email = has_email.then(|| {
            let domain = MAIL_DOMAINS.choose(rng).expect("domains");
            format!("{}.{}{}@{domain}", translit(first), translit(surname), id)
        });
        let search = crate::leads::search_text(&full_name, phone.as_deref(), email.as_deref());
        Self { full_name, phone, email, search }
    }
}

/// Russian letters to Latin for plausible e-mail addresses (simplified GOST 7.79-2000 B).
fn translit(word: &str) -> String {
    word.to_lowercase()
        .chars()
        .map(|c| match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' | 'ы' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ю' => "yu",
            'я' => "ya",
            _ => "",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_made_in_the_morning_dates_nothing_in_the_afternoon() {
        let day = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        let at = |h: i64, m: i64| day + Duration::hours(h) + Duration::minutes(m);
        // made at 13:00: the morning keeps its times, the afternoon goes to 09:00-13:00 in order
        assert_eq!(before(at(10, 0), day, at(13, 0)), at(10, 0));
        let squeezed: Vec<_> = [at(13, 30), at(15, 0), at(19, 59)].map(|t| before(t, day, at(13, 0))).into();
        assert!(squeezed.windows(2).all(|w| w[0] < w[1]), "{squeezed:?}");
        assert!(squeezed.iter().all(|t| *t >= at(9, 0) && *t < at(13, 0)), "{squeezed:?}");
        // made at 06:00 (before the day's hours): into the hour before
        let early = before(at(12, 0), day, at(6, 0));
        assert!(early >= at(5, 0) && early < at(6, 0), "{early}");
        // made before the day began in UTC (a time zone ahead of it): still before that moment
        let ahead = day - Duration::hours(2);
        assert!(before(at(19, 0), day, ahead) < ahead);
    }

    #[test]
    fn transliteration_gives_plain_latin() {
        assert_eq!(translit("Щукина"), "shchukina");
        assert_eq!(translit("Фёдор"), "fedor");
    }

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let a = Person::generate(&mut ChaCha8Rng::seed_from_u64(7), 42);
        let b = Person::generate(&mut ChaCha8Rng::seed_from_u64(7), 42);
        assert_eq!((a.full_name, a.phone, a.email), (b.full_name, b.phone, b.email));
    }
}
