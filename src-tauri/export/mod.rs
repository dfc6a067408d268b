//! Exports: every list with its search, filters and sort (all its rows, not the page shown), and
//! the statistics, to XLSX or to CSV for Excel, in the user's language. Only what the user may
//! view, and only with the export permission.

mod book;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

pub use book::{Book, Cell, Column, Format};

use crate::app::{Crm, PageRequest};
use crate::backup::{OnProgress, Progress};
use crate::campaigns::{CampaignFilter, CampaignStatus};
use crate::clients::ClientFilter;
use crate::contracts::ContractFilter;
use crate::db::{Columns, Kind, Query, Tx, Value};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::leads::{LeadFilter, LeadStatus};
use crate::permission::{Actor, Permission};
use crate::services::ServiceFilter;
use crate::stats::{ClientSalesFilter, Figures, StatsFilter};

/// What to export: a list with the filter it is shown with, or the statistics.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "list", content = "filter", rename_all = "lowercase")]
pub enum ExportList {
    Leads(LeadFilter),
    Clients(ClientFilter),
    Contracts(ContractFilter),
    Campaigns(CampaignFilter),
    Services(ServiceFilter),
    Stats(StatsFilter),
}

impl ExportList {
    /// The list's name, for file names and progress.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Leads(_) => "leads",
            Self::Clients(_) => "clients",
            Self::Contracts(_) => "contracts",
            Self::Campaigns(_) => "campaigns",
            Self::Services(_) => "services",
            Self::Stats(_) => "stats",
        }
    }

    /// A file name to offer in the save dialog, e.g. `Лиды 2026-11-30.xlsx`.
    pub fn file_name(&self, format: Format, lang: Lang) -> String {
        let title = label(lang, self.name());
        format!("{title} {}.{}", chrono::Local::now().format("%Y-%m-%d"), format.extension())
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub rows: u64,
    pub path: PathBuf,
}

/// (key, Russian, English).
const LABELS: &[(&str, &str, &str)] = &[
    ("leads", "Лиды", "Leads"),
    ("clients", "Клиенты", "Clients"),
    ("contracts", "Договоры", "Contracts"),
    ("campaigns", "Кампании", "Campaigns"),
    ("services", "Услуги", "Services"),
    ("stats", "Статистика", "Statistics"),
    ("channels", "Каналы", "Channels"),
    ("total", "Итого", "Total"),
    ("client_sales", "Продажи по клиентам", "Sales per client"),
    ("id", "№", "No."),
    ("full_name", "ФИО", "Full name"),
    ("phone", "Телефон", "Phone"),
    ("email", "E-mail", "E-mail"),
    ("campaign", "Кампания", "Campaign"),
    ("status", "Статус", "Status"),
    ("lost_reason", "Причина отказа", "Reason lost"),
    ("owner", "Ответственный", "Owner"),
    ("created_at", "Создан", "Created"),
    ("created_by", "Кем создан", "Created by"),
    ("archived", "В архиве", "Archived"),
    ("note", "Заметка", "Note"),
    ("contracts_count", "Договоров", "Contracts"),
    ("revenue", "Выручка", "Revenue"),
    ("client_since", "Клиент с", "Client since"),
    ("contract_name", "Номер договора", "Contract"),
    ("service", "Услуга", "Service"),
    ("client", "Клиент", "Client"),
    ("signed_on", "Подписан", "Signed"),
    ("valid_from", "Действует с", "Valid from"),
    ("valid_to", "Действует по", "Valid to"),
    ("amount", "Сумма", "Amount"),
    ("document", "Документ", "Document"),
    ("name", "Название", "Name"),
    ("channel", "Канал", "Channel"),
    ("budget", "Бюджет", "Budget"),
    ("starts_on", "Начало", "Starts"),
    ("ends_on", "Окончание", "Ends"),
    ("description", "Описание", "Description"),
    ("price", "Цена", "Price"),
    ("campaigns_count", "Кампаний", "Campaigns"),
    ("leads_count", "Лиды", "Leads"),
    ("clients_count", "Клиенты", "Clients"),
    ("conversion", "Конверсия", "Conversion"),
    ("roas", "ROAS", "ROAS"),
    ("cost_per_lead", "Цена лида", "Cost per lead"),
    ("cost_per_client", "Цена клиента", "Cost per client"),
    ("yes", "да", "yes"),
    ("new", "Новый", "New"),
    ("in_work", "В работе", "In progress"),
    ("converted", "Клиент", "Client"),
    ("lost", "Потерян", "Lost"),
    ("planned", "Запланирована", "Planned"),
    ("active", "Идёт", "Active"),
    ("finished", "Завершена", "Finished"),
];

fn label(lang: Lang, key: &str) -> &'static str {
    LABELS.iter().find(|(k, _, _)| *k == key).map(|(_, ru, en)| if lang == Lang::En { *en } else { *ru }).unwrap_or("?")
}

fn columns(lang: Lang, keys: &[(&str, f64)]) -> Vec<Column> {
    keys.iter().map(|(key, width)| Column { title: label(lang, key).to_owned(), width: *width }).collect()
}

fn archived(lang: Lang, is_archived: bool) -> Cell {
    if is_archived {
        Cell::text(label(lang, "yes"))
    } else {
        Cell::Empty
    }
}

fn lead_status(status: LeadStatus) -> &'static str {
    match status {
        LeadStatus::New => "new",
        LeadStatus::InWork => "in_work",
        LeadStatus::Converted => "converted",
        LeadStatus::Lost => "lost",
    }
}

fn campaign_status(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Planned => "planned",
        CampaignStatus::Active => "active",
        CampaignStatus::Finished => "finished",
    }
}

const FIGURES: &[(&str, f64)] = &[
    ("leads_count", 10.0),
    ("clients_count", 10.0),
    ("conversion", 11.0),
    ("revenue", 16.0),
    ("budget", 16.0),
    ("roas", 8.0),
    ("cost_per_lead", 14.0),
    ("cost_per_client", 14.0),
];

fn figures(f: &Figures) -> Vec<Cell> {
    let money = |m: Option<crate::domain::money::Money>| m.map_or(Cell::Empty, |m| Cell::Money(m.amount()));
    vec![
        Cell::Int(f.leads),
        Cell::Int(f.clients),
        f.conversion.map_or(Cell::Empty, Cell::Percent),
        Cell::Money(f.revenue.amount()),
        Cell::Money(f.budget.amount()),
        f.roas.map_or(Cell::Empty, Cell::Ratio),
        money(f.cost_per_lead),
        money(f.cost_per_client),
    ]
}

/// A lead as an export writes it: its own columns only. The names of its campaign, owner,
/// creator and lost reason come from [`Names`], read once: at a million rows, the list's joins
/// and its other columns were a third of the export's time. Read as [`Value`]s
/// ([`Tx::for_each_values`]), which SQLite gives straight from the statement.
struct LeadLine {
    id: i64,
    full_name: String,
    phone: Option<String>,
    email: Option<String>,
    campaign_id: Option<i64>,
    status: LeadStatus,
    lost_reason_id: Option<i64>,
    owner_id: Option<i64>,
    created_at: chrono::DateTime<chrono::Utc>,
    created_by: i64,
    is_archived: bool,
    note: String,
}

const LEAD_LINE: &str = "select l.id, l.full_name, l.phone, l.email, l.campaign_id, l.status, l.lost_reason_id,
    l.owner_id, l.created_at, l.created_by, l.is_archived, l.note from leads l";

impl LeadLine {
    /// The kinds of [`LEAD_LINE`]'s columns, in order.
    const KINDS: [Kind; 12] = [
        Kind::I64,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::I64,
        Kind::Text,
        Kind::I64,
        Kind::I64,
        Kind::Timestamp,
        Kind::I64,
        Kind::Bool,
        Kind::Text,
    ];

    fn read(values: Vec<Value>) -> Result<Self> {
        let mut c = Columns::new(values);
        Ok(Self {
            id: c.i64()?,
            full_name: c.text()?,
            phone: c.opt_text()?,
            email: c.opt_text()?,
            campaign_id: c.opt_i64()?,
            status: LeadStatus::try_from(c.text()?).map_err(Error::Internal)?,
            lost_reason_id: c.opt_i64()?,
            owner_id: c.opt_i64()?,
            created_at: c.timestamp()?,
            created_by: c.i64()?,
            is_archived: c.bool()?,
            note: c.text()?,
        })
    }
}

/// The names a lead's ids stand for: campaigns, users, lost reasons (a few thousand at most).
struct Names {
    campaigns: HashMap<i64, String>,
    users: HashMap<i64, String>,
    reasons: HashMap<i64, String>,
}

impl Names {
    async fn load(tx: &mut Tx) -> Result<Self> {
        let mut map = async |sql: &str| -> Result<HashMap<i64, String>> {
            let rows: Vec<(i64, String)> = tx.fetch_all(Query::new(sql)).await?;
            Ok(rows.into_iter().collect())
        };
        Ok(Self {
            campaigns: map("select id, name from campaigns").await?,
            users: map("select id, full_name from users").await?,
            reasons: map("select id, name from lost_reasons").await?,
        })
    }
}

/// The name `id` stands for in `names`.
fn name(names: &HashMap<i64, String>, id: Option<i64>) -> Option<String> {
    id.and_then(|id| names.get(&id).cloned())
}

impl Crm {
    /// Whether the actor may export at all: asked before the save dialog opens.
    pub fn may_export(&self, actor: &Actor) -> Result<()> {
        actor.require(Permission::DataExport)
    }

    /// Writes `what` to `out` as `format` in `lang`; `progress` hears the rows written.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn export(
        &self,
        actor: &Actor,
        what: &ExportList,
        format: Format,
        lang: Lang,
        out: &Path,
        progress: OnProgress<'_>,
    ) -> Result<Exported> {
        self.may_export(actor)?;
        let mut book = Book::create(out, format, lang)?;
        match self.write(actor, what, lang, &mut book, progress).await {
            Ok(rows) => {
                book.finish()?;
                Ok(Exported { rows, path: out.to_owned() })
            }
            Err(e) => {
                book.abandon();
                Err(e)
            }
        }
    }

    async fn write(
        &self,
        actor: &Actor,
        what: &ExportList,
        lang: Lang,
        book: &mut Book,
        progress: OnProgress<'_>,
    ) -> Result<u64> {
        let table = what.name();
        let total = AtomicU64::new(0);
        let start = |n: u64| {
            total.store(n, Ordering::Relaxed);
            progress(Progress { table, done: 0, total: n });
        };
        // every row is written; progress is told every thousand
        let mut done = 0u64;
        let mut tick = |book: &mut Book, cells: Vec<Cell>| {
            done += 1;
            if done.is_multiple_of(1000) {
                progress(Progress { table, done, total: total.load(Ordering::Relaxed).max(done) });
            }
            book.row(cells)
        };
        let title = label(lang, table);
        let rows = match what {
            ExportList::Leads(filter) => {
                let keys = [
                    ("id", 8.0),
                    ("full_name", 30.0),
                    ("phone", 18.0),
                    ("email", 26.0),
                    ("campaign", 30.0),
                    ("status", 12.0),
                    ("lost_reason", 20.0),
                    ("owner", 22.0),
                    ("created_at", 17.0),
                    ("created_by", 22.0),
                    ("archived", 9.0),
                    ("note", 40.0),
                ];
                book.table(title, &columns(lang, &keys))?;
                let list = self.leads_query(actor, filter)?.with_select(LEAD_LINE);
                // one snapshot for the names and the rows
                let mut tx = actor.db.read().await?;
                let names = Names::load(&mut tx).await?;
                let rows = crate::app::read_list_values(&mut tx, list, &LeadLine::KINDS, start, |values| {
                    let l = LeadLine::read(values)?;
                    let cells = [
                        Cell::Int(l.id),
                        Cell::text(l.full_name),
                        Cell::opt_text(l.phone.as_deref().map(crate::domain::contact::display_phone)),
                        Cell::opt_text(l.email),
                        Cell::opt_text(name(&names.campaigns, l.campaign_id)),
                        Cell::text(label(lang, lead_status(l.status))),
                        Cell::opt_text(name(&names.reasons, l.lost_reason_id)),
                        Cell::opt_text(name(&names.users, l.owner_id)),
                        Cell::Time(l.created_at),
                        Cell::opt_text(name(&names.users, Some(l.created_by))),
                        archived(lang, l.is_archived),
                        Cell::text(l.note),
                    ];
                    tick(book, cells.into())
                })
                .await?;
                tx.commit().await?;
                rows
            }
            ExportList::Clients(filter) => {
                let keys = [
                    ("id", 8.0),
                    ("full_name", 30.0),
                    ("phone", 18.0),
                    ("email", 26.0),
                    ("campaign", 30.0),
                    ("contracts_count", 10.0),
                    ("revenue", 16.0),
                    ("owner", 22.0),
                    ("client_since", 17.0),
                    ("archived", 9.0),
                ];
                book.table(title, &columns(lang, &keys))?;
                let list = self.clients_query(actor, filter)?;
                self.read_all(actor, list, start, |c: crate::clients::Client| {
                    let cells = [
                        Cell::Int(c.id.get()),
                        Cell::text(c.full_name),
                        Cell::opt_text(c.phone.as_deref().map(crate::domain::contact::display_phone)),
                        Cell::opt_text(c.email),
                        Cell::opt_text(c.campaign_name),
                        Cell::Int(c.contracts),
                        Cell::Money(c.revenue.amount()),
                        Cell::opt_text(c.owner_name),
                        Cell::Time(c.created_at),
                        archived(lang, c.is_archived),
                    ];
                    tick(book, cells.into())
                })
                .await?
            }
            ExportList::Contracts(filter) => {
                let keys = [
                    ("id", 8.0),
                    ("contract_name", 22.0),
                    ("service", 28.0),
                    ("client", 30.0),
                    ("signed_on", 12.0),
                    ("valid_from", 12.0),
                    ("valid_to", 12.0),
                    ("amount", 16.0),
                    ("document", 30.0),
                    ("archived", 9.0),
                ];
                book.table(title, &columns(lang, &keys))?;
                self.each_contract(actor, filter, start, |c| {
                    let cells = [
                        Cell::Int(c.id.get()),
                        Cell::text(c.name),
                        Cell::text(c.service_name),
                        Cell::opt_text(c.client_name),
                        Cell::Date(c.signed_on),
                        Cell::Date(c.valid_from),
                        Cell::Date(c.valid_to),
                        Cell::Money(c.amount.amount()),
                        Cell::opt_text(c.document.map(|d| d.file_name)),
                        archived(lang, c.is_archived),
                    ];
                    tick(book, cells.into())
                })
                .await?
            }
            ExportList::Campaigns(filter) => {
                let keys = [
                    ("id", 8.0),
                    ("name", 34.0),
                    ("service", 28.0),
                    ("channel", 24.0),
                    ("budget", 16.0),
                    ("starts_on", 12.0),
                    ("ends_on", 12.0),
                    ("status", 14.0),
                    ("archived", 9.0),
                ];
                book.table(title, &columns(lang, &keys))?;
                self.each_campaign(actor, filter, start, |c| {
                    let cells = [
                        Cell::Int(c.id.get()),
                        Cell::text(c.name),
                        Cell::text(c.service_name),
                        Cell::text(c.channel_name),
                        Cell::Money(c.budget.amount()),
                        Cell::Date(c.starts_on),
                        c.ends_on.map_or(Cell::Empty, Cell::Date),
                        Cell::text(label(lang, campaign_status(c.status))),
                        archived(lang, c.is_archived),
                    ];
                    tick(book, cells.into())
                })
                .await?
            }
            ExportList::Services(filter) => {
                let keys = [("id", 8.0), ("name", 34.0), ("description", 60.0), ("price", 16.0), ("archived", 9.0)];
                book.table(title, &columns(lang, &keys))?;
                let list = self.services_query(actor, filter)?;
                self.read_all(actor, list, start, |s: crate::services::Service| {
                    let cells = [
                        Cell::Int(s.id.get()),
                        Cell::text(s.name),
                        Cell::text(s.description),
                        Cell::Money(s.price.amount()),
                        archived(lang, s.is_archived),
                    ];
                    tick(book, cells.into())
                })
                .await?
            }
            ExportList::Stats(filter) => self.write_stats(actor, filter, lang, book, &mut tick).await?,
        };
        progress(Progress { table, done: rows, total: rows });
        Ok(rows)
    }

    /// The statistics: per campaign, per channel, the total, and the sales per client of the
    /// same period, one table each (a worksheet each in XLSX).
    async fn write_stats(
        &self,
        actor: &Actor,
        filter: &StatsFilter,
        lang: Lang,
        book: &mut Book,
        tick: &mut (dyn FnMut(&mut Book, Vec<Cell>) -> Result<()> + Send),
    ) -> Result<u64> {
        let stats = self.campaign_stats(actor, filter).await?;
        let mut rows = 0u64;
        let mut keys = vec![("campaign", 34.0), ("channel", 24.0), ("service", 28.0)];
        keys.extend_from_slice(FIGURES);
        book.table(label(lang, "campaigns"), &columns(lang, &keys))?;
        for c in &stats.campaigns {
            let mut cells = vec![Cell::text(&c.name), Cell::text(&c.channel), Cell::text(&c.service)];
            cells.extend(figures(&c.figures));
            tick(book, cells)?;
            rows += 1;
        }
        let mut keys = vec![("channel", 24.0), ("campaigns_count", 10.0)];
        keys.extend_from_slice(FIGURES);
        book.table(label(lang, "channels"), &columns(lang, &keys))?;
        for c in &stats.channels {
            let mut cells = vec![Cell::text(&c.channel), Cell::Int(c.campaigns)];
            cells.extend(figures(&c.figures));
            tick(book, cells)?;
            rows += 1;
        }
        book.table(label(lang, "total"), &columns(lang, FIGURES))?;
        tick(book, figures(&stats.total))?;
        rows += 1;
        let keys = [("client", 34.0), ("campaign", 34.0), ("contracts_count", 10.0), ("revenue", 16.0)];
        book.table(label(lang, "client_sales"), &columns(lang, &keys))?;
        let mut page = PageRequest::new(0, PageRequest::MAX_LIMIT);
        loop {
            let sales_filter = ClientSalesFilter { search: String::new(), from: filter.from, to: filter.to, page };
            let sales = self.client_sales(actor, &sales_filter).await?;
            for s in &sales.items {
                let cells = [
                    Cell::text(&s.full_name),
                    Cell::opt_text(s.campaign.clone()),
                    Cell::Int(s.contracts),
                    Cell::Money(s.revenue.amount()),
                ];
                tick(book, cells.into())?;
                rows += 1;
            }
            if sales.items.len() < PageRequest::MAX_LIMIT as usize {
                break;
            }
            page = PageRequest::new(page.offset + PageRequest::MAX_LIMIT, PageRequest::MAX_LIMIT);
        }
        Ok(rows)
    }
}
