//! Imports: leads, services and campaigns from CSV or a workbook, each row checked as its form
//! checks it. The wizard shows the first rows and the guessed mapping ([`Crm::preview_import`]);
//! the import (or its dry run) goes in one transaction, a savepoint per row, so a rejected row
//! loses nothing else, a cancel or a failure leaves nothing behind, and a dry run is the real
//! import rolled back: its figures are exactly those the import will give. Rejected rows come
//! back with their reason, to be written to a file, fixed and imported again; a whole import
//! can be undone (its records archived) while nobody has touched them.

mod fields;
mod rows;
pub mod table;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

pub use fields::ImportKind;

use crate::app::{audit, now, Crm};
use crate::backup::{OnProgress, Progress};
use crate::db::{Query, Tx};
use crate::domain::id::{CampaignId, ImportId, LeadId};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::permission::{Actor, Permission};

/// Rows between progress reports and cancel checks.
const BATCH: u64 = 500;
/// Rows shown in the wizard's preview.
const PREVIEW_ROWS: usize = 8;

/// What a duplicate (a lead with a phone or e-mail a live lead has, a service or campaign whose
/// name exists) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    #[default]
    Skip,
    Update,
}

/// How to import a file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ImportOptions {
    /// The sheet of a workbook (the first when empty).
    pub sheet: String,
    /// The field of each column (`None`: not imported); guessed from the headers when absent.
    pub mapping: Option<Vec<Option<String>>>,
    /// The campaign of lead rows that name none.
    pub campaign_id: Option<CampaignId>,
    pub on_duplicate: OnDuplicate,
    /// Check everything, write nothing.
    pub dry_run: bool,
}

/// A field for the wizard's mapping.
#[derive(Debug, Clone, Serialize)]
pub struct FieldInfo {
    pub name: &'static str,
    pub label: &'static str,
    pub required: bool,
}

/// The wizard's second step: the file's sheets, how it was read, its headers and first rows,
/// the mapping guessed from the headers, and the fields a column can fill.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub file: table::FileInfo,
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub mapping: Vec<Option<String>>,
    pub fields: Vec<FieldInfo>,
}

/// A row that was not imported: its line in the file (the header is line 1), why, and its cells.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
    pub cells: Vec<String>,
}

/// What an import (or its dry run) did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The import's id (none for a dry run): its History entry, and what an undo names.
    pub import_id: Option<ImportId>,
    pub dry_run: bool,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub rejected: Vec<Rejected>,
    /// The file's header row, for the rejected-rows file.
    pub headers: Vec<String>,
}

/// What became of one row.
enum Outcome {
    Created,
    Updated,
    Skipped,
    Rejected(String),
}

/// Rows written by one import past which SQLite's planner statistics are refreshed: a first
/// import of 100,000 leads into a new file otherwise left its tables "empty" to the planner of
/// every open connection until it aged out (half an hour).
const REFRESHED_AFTER: u64 = 1_000;

impl Crm {
    /// Whether the actor may import at all: asked before the file dialog opens (each kind of
    /// record needs its own create permission too, checked by the import).
    pub fn may_import(&self, actor: &Actor) -> Result<()> {
        actor.require(Permission::DataImport)
    }

    /// The wizard's preview of `path` as `kind`: sheets, headers, first rows, the guessed mapping.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn preview_import(
        &self,
        actor: &Actor,
        path: &Path,
        kind: ImportKind,
        sheet: &str,
        lang: Lang,
    ) -> Result<Preview> {
        require(actor, kind)?;
        let (_, file) = table::inspect(path)?;
        let sheet = if sheet.is_empty() { file.sheets[0].clone() } else { sheet.to_owned() };
        let mut rows = table::open(path, &sheet)?;
        let (headers, _) = header_row(&mut rows)?;
        let mut first = Vec::new();
        for row in rows.by_ref() {
            let row = row?;
            if row.iter().any(|c| !c.trim().is_empty()) {
                first.push(row);
            }
            if first.len() == PREVIEW_ROWS {
                break;
            }
        }
        let mapping = fields::guess(kind, &headers);
        let fields = kind
            .fields()
            .iter()
            .map(|f| FieldInfo { name: f.name, label: fields::label(f.name, lang), required: f.required })
            .collect();
        Ok(Preview { file, sheet, headers, rows: first, mapping, fields })
    }

    /// Imports `path` (shown to people as `file_name`) as `kind`. `cancel` stops it between
    /// batches of rows; then nothing is imported.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn import(
        &self,
        actor: &Actor,
        path: &Path,
        file_name: &str,
        kind: ImportKind,
        options: &ImportOptions,
        lang: Lang,
        progress: OnProgress<'_>,
        cancel: &AtomicBool,
    ) -> Result<Report> {
        require(actor, kind)?;
        let mut rows = table::open(path, &options.sheet)?;
        let (headers, header_line) = header_row(&mut rows)?;
        let mapping = match &options.mapping {
            Some(mapping) => mapping.clone(),
            None => fields::guess(kind, &headers),
        };
        let columns = fields::check(kind, &mapping, lang)?;
        // (progress tells the rows read so far: a streamed file's row count is known at its end)
        let mut tx = actor.db.write().await?;
        let import_id: ImportId = tx
            .scalar(
                Query::new("insert into imports (kind, file_name, user_id, at) values ($1, $2, $3, $4) returning id")
                    .bind(kind.name())
                    .bind(file_name)
                    .bind(actor.user_id)
                    .bind(now()),
            )
            .await?;
        let ctx = rows::Context::load(&mut tx, actor, self.settings.phone_region, options, lang).await?;
        let report = Report { dry_run: options.dry_run, headers: headers.clone(), ..Report::default() };
        let mut run = Run { crm: self, ctx, kind, columns, headers, import_id, lang, report };
        // lines as a spreadsheet numbers them: the header's, then one per row after it
        let mut batch = Vec::with_capacity(BATCH as usize);
        for (line, row) in (header_line + 1..).zip(rows) {
            let cells = row?;
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            batch.push((line, cells));
            if batch.len() == BATCH as usize {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::state("import_cancelled"));
                }
                run.rows(&mut tx, std::mem::take(&mut batch)).await?;
                progress(Progress { table: kind.name(), done: run.report.rows, total: 0 });
            }
        }
        run.rows(&mut tx, batch).await?;
        let mut report = run.report;
        if report.rows == 0 {
            return Err(Error::state("import_no_rows"));
        }
        tx.execute(
            Query::new("update imports set created = $1, updated = $2, skipped = $3, rejected = $4 where id = $5")
                .bind(report.created as i64)
                .bind(report.updated as i64)
                .bind(report.skipped as i64)
                .bind(report.rejected.len() as i64)
                .bind(import_id),
        )
        .await?;
        let summary = format!(
            "{file_name}: {} / {} / {} / {}",
            report.created,
            report.updated,
            report.skipped,
            report.rejected.len()
        );
        audit(&mut tx, actor, "import", "import", import_id, &summary).await?;
        progress(Progress { table: kind.name(), done: report.rows, total: report.rows });
        if options.dry_run {
            // the same work, not kept: the figures are the import's own
            drop(tx);
        } else {
            tx.commit().await?;
            report.import_id = Some(import_id);
            if report.created + report.updated >= REFRESHED_AFTER {
                actor.db.refresh_statistics().await;
            }
        }
        Ok(report)
    }

    /// Undoes import `id`: archives every record it created, when none of them was changed since
    /// (otherwise nothing is archived, and the answer says how many were changed). Records the
    /// import updated keep their new values. Returns how many were archived.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn undo_import(&self, actor: &Actor, id: ImportId) -> Result<u64> {
        actor.require(Permission::DataImport)?;
        let mut tx = actor.db.write().await?;
        let found: Option<(String, Option<chrono::DateTime<chrono::Utc>>)> =
            tx.fetch_optional(Query::new("select kind, undone_at from imports where id = $1").bind(id)).await?;
        let Some((kind, undone)) = found else { return Err(Error::NotFound { entity: "import", id: id.get() }) };
        if undone.is_some() {
            return Err(Error::state("import_undone_already"));
        }
        let at = now();
        let archived = match kind.as_str() {
            "clients" => {
                for permission in [Permission::ContractsEdit, Permission::ClientsEdit, Permission::LeadsEdit] {
                    actor.require(permission)?;
                }
                undo_clients(&mut tx, actor, at, id).await?
            }
            table => {
                let (table, permission) = match table {
                    "leads" => ("leads", Permission::LeadsEdit),
                    "services" => ("services", Permission::ServicesEdit),
                    _ => ("campaigns", Permission::CampaignsEdit),
                };
                actor.require(permission)?;
                // changed since: edited (a new version; for a lead, also converted) or archived
                ensure_untouched(&mut tx, &[(table, "import_id = $1 and (version > 1 or is_archived = true)")], id)
                    .await?;
                archive_imported(&mut tx, actor, table, at, id).await?
            }
        };
        tx.execute(
            Query::new("update imports set undone_at = $1, undone_by = $2 where id = $3")
                .bind(at)
                .bind(actor.user_id)
                .bind(id),
        )
        .await?;
        audit(&mut tx, actor, "undo_import", "import", id, "").await?;
        tx.commit().await?;
        Ok(archived)
    }
}

/// Refuses an undo while any of `tables` has a row matching its condition on import `$1`: a
/// record changed since the import, whose change the undo would lose.
async fn ensure_untouched(tx: &mut Tx, tables: &[(&str, &str)], import_id: ImportId) -> Result<()> {
    let mut touched = 0i64;
    for (table, condition) in tables {
        let count: i64 =
            tx.scalar(Query::new(format!("select count(*) from {table} where {condition}")).bind(import_id)).await?;
        touched += count;
    }
    if touched > 0 {
        return Err(Error::State { code: "import_touched", params: vec![("count", touched.to_string())] });
    }
    Ok(())
}

/// Archives the records of `table` (a literal) that import `import_id` created, each with its
/// history entry, written in one statement (an import may hold 100,000). Returns how many.
async fn archive_imported(
    tx: &mut Tx,
    actor: &Actor,
    table: &str,
    at: chrono::DateTime<chrono::Utc>,
    import_id: ImportId,
) -> Result<u64> {
    let entity = table.trim_end_matches('s');
    tx.execute(
        Query::new(format!(
            "insert into audit_log (at, user_id, action, entity, entity_id, details)
             select $1, $2, 'archive', '{entity}', id, {} from {table} where import_id = $3",
            name_column(table)
        ))
        .bind(at)
        .bind(actor.user_id)
        .bind(import_id),
    )
    .await?;
    tx.execute(
        Query::new(format!(
            "update {table} set is_archived = true, version = version + 1, updated_at = $1 where import_id = $2"
        ))
        .bind(at)
        .bind(import_id),
    )
    .await
}

/// Undoes an import of clients: its contracts, its clients and the leads it made for them are
/// archived together, so that the statistics no longer count them. Refused when a client was
/// made from a lead older than the import (un-converting a lead is not archiving it: those are
/// archived one by one), and while anything of it was changed since: a client or contract
/// edited or archived, a contract added to one of its clients, one of its leads edited.
async fn undo_clients(tx: &mut Tx, actor: &Actor, at: chrono::DateTime<chrono::Utc>, id: ImportId) -> Result<u64> {
    let older: i64 = tx
        .scalar(
            Query::new(
                "select count(*) from clients cl join leads l on l.id = cl.lead_id
                 where cl.import_id = $1 and (l.import_id is null or l.import_id <> $1)",
            )
            .bind(id),
        )
        .await?;
    if older > 0 {
        return Err(Error::State { code: "import_clients_not_undone", params: vec![("count", older.to_string())] });
    }
    ensure_untouched(
        tx,
        &[
            ("clients", "import_id = $1 and (version > 1 or is_archived = true)"),
            ("contracts", "import_id = $1 and (version > 1 or is_archived = true)"),
            // made by the import (version 1), then converted by it (version 2)
            ("leads", "import_id = $1 and (version > 2 or is_archived = true)"),
            (
                "contracts",
                "(import_id is null or import_id <> $1) and client_id in (select id from clients where import_id = $1)",
            ),
        ],
        id,
    )
    .await?;
    let contracts = archive_imported(tx, actor, "contracts", at, id).await?;
    let clients = archive_imported(tx, actor, "clients", at, id).await?;
    let leads = archive_imported(tx, actor, "leads", at, id).await?;
    Ok(contracts + clients + leads)
}

/// An import as it runs: what each row needs, and what became of the rows so far.
struct Run<'a> {
    crm: &'a Crm,
    ctx: rows::Context<'a>,
    kind: ImportKind,
    columns: Vec<(&'static str, usize)>,
    headers: Vec<String>,
    import_id: ImportId,
    lang: Lang,
    report: Report,
}

/// A row of a file: its line and its cells.
type Line = (u64, Vec<String>);

/// A lead row of a batch after the checks that need no database.
enum Checked {
    Done(Outcome),
    Refused(crate::leads::Refused),
    New(crate::leads::ValidLead),
}

impl Run<'_> {
    /// A batch of rows, in file order: lead rows as a batch ([`Self::leads`]), others one at a
    /// time.
    async fn rows(&mut self, tx: &mut Tx, batch: Vec<Line>) -> Result<()> {
        self.report.rows += batch.len() as u64;
        if self.kind == ImportKind::Leads {
            return self.leads(tx, batch).await;
        }
        for (line, cells) in batch {
            self.one(tx, line, cells).await?;
        }
        Ok(())
    }

    /// One row through its form's use case, in a savepoint: a rejected row leaves nothing.
    async fn one(&mut self, tx: &mut Tx, line: u64, cells: Vec<String>) -> Result<()> {
        let values = rows::Values::new(&self.columns, &cells, &self.headers);
        tx.execute(Query::new("savepoint import_row")).await?;
        let outcome = match self.kind {
            ImportKind::Leads => self.ctx.lead(tx, &values, self.import_id).await,
            ImportKind::Services => self.ctx.service(tx, &values, self.import_id).await,
            ImportKind::Campaigns => self.ctx.campaign(tx, &values, self.import_id).await,
            ImportKind::Clients => self.ctx.client(tx, self.crm, &values, self.import_id).await,
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(Error::Invalid(errors)) => Outcome::Rejected(self.ctx.explain(&values, &errors)),
            Err(Error::State { code, params }) => Outcome::Rejected(crate::i18n::message(self.lang, code, &params)),
            Err(other) => return Err(other),
        };
        drop(values);
        let undo = if matches!(outcome, Outcome::Rejected(_)) { "rollback to" } else { "release" };
        tx.execute(Query::new(format!("{undo} savepoint import_row"))).await?;
        self.record(line, cells, outcome);
        Ok(())
    }

    fn record(&mut self, line: u64, cells: Vec<String>, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.report.created += 1,
            Outcome::Updated => self.report.updated += 1,
            Outcome::Skipped => self.report.skipped += 1,
            Outcome::Rejected(reason) => self.report.rejected.push(Rejected { line, reason, cells }),
        }
    }

    /// Lead rows, with the outcome each would have one at a time, at a fraction of the cost:
    /// every row checked in Rust, one look-up of the batch's phones and e-mails among the live
    /// leads, the new leads inserted by multi-row statements. A duplicate to update goes through
    /// the form's use case after the new leads before it are in.
    async fn leads(&mut self, tx: &mut Tx, batch: Vec<Line>) -> Result<()> {
        let region = self.ctx.region;
        let checked: Vec<Checked> = batch
            .iter()
            .map(|(_, cells)| {
                let values = rows::Values::new(&self.columns, cells, &self.headers);
                match self.ctx.lead_input(&values) {
                    Err(outcome) => Checked::Done(outcome),
                    Ok(input) => match input.check_new(region) {
                        Ok(lead) => Checked::New(lead),
                        Err(refused) => Checked::Refused(refused),
                    },
                }
            })
            .collect();
        let (mut phones, mut emails) = (Vec::new(), Vec::new());
        for step in &checked {
            let (phone, email) = match step {
                Checked::New(lead) => (&lead.phone, &lead.email),
                Checked::Refused(refused) => (&refused.phone, &refused.email),
                Checked::Done(_) => continue,
            };
            phones.extend(phone.as_deref());
            emails.extend(email.as_deref());
        }
        let holders = crate::leads::holders(tx, &phones, &emails).await?;
        drop((phones, emails));
        // the contacts of this batch's new leads, which the look-up cannot know yet
        let mut taken = std::collections::HashSet::new();
        let mut new: Vec<(Line, crate::leads::ValidLead)> = Vec::new();
        for ((line, cells), step) in batch.into_iter().zip(checked) {
            match step {
                Checked::Done(outcome) => self.record(line, cells, outcome),
                Checked::Refused(refused) => {
                    // as the form: every problem, the contacts a live lead has among them
                    let mut errors = refused.errors;
                    errors.extend(taken_by(&holders, refused.phone.as_deref(), refused.email.as_deref()));
                    let reason = self.ctx.explain(&rows::Values::new(&self.columns, &cells, &self.headers), &errors);
                    self.record(line, cells, Outcome::Rejected(reason));
                }
                Checked::New(lead) => {
                    let contacts = [lead.phone.as_deref(), lead.email.as_deref()];
                    let duplicate = contacts.iter().flatten().any(|c| holders.contains_key(*c) || taken.contains(*c));
                    if !duplicate {
                        taken.extend(contacts.iter().flatten().map(|c| (*c).to_owned()));
                        new.push(((line, cells), lead));
                    } else if self.ctx.options.on_duplicate == OnDuplicate::Skip {
                        self.record(line, cells, Outcome::Skipped);
                    } else {
                        self.insert(tx, std::mem::take(&mut new)).await?;
                        self.one(tx, line, cells).await?;
                    }
                }
            }
        }
        self.insert(tx, new).await
    }

    /// New leads of a batch, inserted together; if a contact was taken meanwhile (by another
    /// computer, or by an update of this batch), nothing of them is kept and each goes one at
    /// a time, which names the lead that has it.
    async fn insert(&mut self, tx: &mut Tx, new: Vec<(Line, crate::leads::ValidLead)>) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        let (lines, leads): (Vec<Line>, Vec<_>) = new.into_iter().unzip();
        tx.execute(Query::new("savepoint import_batch")).await?;
        match crate::leads::add_leads(tx, self.ctx.actor, &leads, self.import_id).await {
            Ok(()) => {
                tx.execute(Query::new("release savepoint import_batch")).await?;
                self.report.created += lines.len() as u64;
            }
            Err(e) if crate::store::unique_violation(&e).is_some() => {
                tx.execute(Query::new("rollback to savepoint import_batch")).await?;
                tx.execute(Query::new("release savepoint import_batch")).await?;
                for (line, cells) in lines {
                    self.one(tx, line, cells).await?;
                }
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// `phone_taken` / `email_taken` for the contacts a live lead holds, as the form reports them.
fn taken_by(
    holders: &std::collections::HashMap<String, (LeadId, String)>,
    phone: Option<&str>,
    email: Option<&str>,
) -> Vec<crate::error::FieldError> {
    [("phone", "phone_taken", phone), ("email", "email_taken", email)]
        .into_iter()
        .filter_map(|(field, code, value)| {
            let (id, name) = holders.get(value?)?;
            Some(crate::error::FieldError::new(field, code).with("lead", name.clone()).with("id", *id))
        })
        .collect()
}

fn name_column(table: &str) -> &'static str {
    if table == "leads" || table == "clients" {
        "full_name"
    } else {
        "name"
    }
}

/// Importing a kind of record needs the import permission and the permission to create it.
fn require(actor: &Actor, kind: ImportKind) -> Result<()> {
    actor.require(Permission::DataImport)?;
    actor.require(match kind {
        ImportKind::Leads => Permission::LeadsEdit,
        ImportKind::Services => Permission::ServicesEdit,
        ImportKind::Campaigns => Permission::CampaignsEdit,
        ImportKind::Clients => Permission::LeadsConvert,
    })?;
    if kind == ImportKind::Clients {
        actor.require(Permission::ContractsEdit)?;
    }
    Ok(())
}

/// The header row, the first row with any text in it, and its line; a table without one is
/// refused.
fn header_row(rows: &mut table::Rows) -> Result<(Vec<String>, u64)> {
    for (line, row) in (1u64..).zip(rows.by_ref()) {
        let row = row?;
        if row.iter().any(|c| !c.trim().is_empty()) {
            return Ok((row.into_iter().map(|c| c.trim().to_owned()).collect(), line));
        }
    }
    Err(Error::state("import_empty"))
}

/// Writes rejected rows to a CSV file for Excel (the file's own columns and a last column with
/// the reason), to be fixed and imported again.
pub fn write_rejected(report: &Report, out: &Path, lang: Lang) -> Result<()> {
    use crate::export::{Cell, Column};
    let mut book = crate::export::Book::create(out, crate::export::Format::Csv, lang)?;
    let mut columns: Vec<Column> = report.headers.iter().map(|h| Column { title: h.clone(), width: 16.0 }).collect();
    let reason = if lang == Lang::En { "Why not imported" } else { "Почему не загружена" };
    columns.push(Column { title: reason.to_owned(), width: 40.0 });
    book.table("", &columns)?;
    for rejected in &report.rejected {
        let mut cells: Vec<Cell> = rejected.cells.iter().map(|c| Cell::text(c.clone())).collect();
        cells.resize(report.headers.len(), Cell::Empty);
        cells.push(Cell::text(rejected.reason.clone()));
        book.row(cells)?;
    }
    book.finish()
}
