//! `crm import leads|services|campaigns FILE --user NAME`: the import of the window's wizard, with
//! the mapping guessed from the headers unless `--map` says otherwise, and a report (or JSON).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{printable, read_secret};
use crate::app::Crm;
use crate::domain::id::{CampaignId, ImportId};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::import::{ImportKind, ImportOptions, OnDuplicate};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Leads,
    Services,
    Campaigns,
    /// Clients with a contract per row (the lead found by phone or e-mail, or created).
    Clients,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Duplicate {
    Skip,
    Update,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// What the rows are.
    pub kind: Kind,
    /// A CSV, XLSX, XLS or ODS file.
    pub file: PathBuf,
    /// The user whose permissions apply (password from CRM_PASSWORD or a prompt).
    #[arg(long)]
    pub user: String,
    /// The sheet of a workbook [default: the first].
    #[arg(long, default_value = "")]
    pub sheet: String,
    /// Which field a column fills, by its header or number (from 1): `--map "Моб. тел=phone"`;
    /// `=-` leaves a column out. Repeat for each; the rest is guessed from the headers.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub map: Vec<String>,
    /// The campaign (id) of lead rows that name none.
    #[arg(long)]
    pub campaign: Option<CampaignId>,
    /// What a duplicate does.
    #[arg(long, value_enum, default_value = "skip")]
    pub on_duplicate: Duplicate,
    /// Check every row and report, import nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the rejected rows (with the reason) to this CSV file, to fix and import again.
    #[arg(long)]
    pub rejected: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    import_id: Option<ImportId>,
    dry_run: bool,
    rows: u64,
    created: u64,
    updated: u64,
    skipped: u64,
    rejected: Vec<JsonRejected<'a>>,
}

#[derive(Serialize)]
struct JsonRejected<'a> {
    line: u64,
    reason: &'a str,
}

pub async fn run(crm: &Crm, args: &ImportArgs, lang: Lang) -> Result<()> {
    let password = read_secret("CRM_PASSWORD", &format!("Password for {}: ", args.user))?;
    let actor = crm.sign_in(&args.user, &password).await?;
    let kind = match args.kind {
        Kind::Leads => ImportKind::Leads,
        Kind::Services => ImportKind::Services,
        Kind::Campaigns => ImportKind::Campaigns,
        Kind::Clients => ImportKind::Clients,
    };
    let preview = crm.preview_import(&actor, &args.file, kind, &args.sheet, lang).await?;
    let mut mapping = preview.mapping.clone();
    for item in &args.map {
        let (column, field) = item.rsplit_once('=').ok_or_else(|| Error::state("import_map_syntax"))?;
        let index = match column.trim().parse::<usize>() {
            Ok(n) if n >= 1 && n <= preview.headers.len() => n - 1,
            _ => preview
                .headers
                .iter()
                .position(|h| {
                    h.trim().eq_ignore_ascii_case(column.trim())
                        || h.trim().to_lowercase() == column.trim().to_lowercase()
                })
                .ok_or_else(|| Error::State {
                    code: "import_no_column",
                    params: vec![("column", column.to_owned())],
                })?,
        };
        let field = field.trim();
        mapping[index] = (!field.is_empty() && field != "-").then(|| field.to_owned());
    }
    let options = ImportOptions {
        sheet: preview.sheet.clone(),
        mapping: Some(mapping),
        campaign_id: args.campaign,
        on_duplicate: match args.on_duplicate {
            Duplicate::Skip => OnDuplicate::Skip,
            Duplicate::Update => OnDuplicate::Update,
        },
        dry_run: args.dry_run,
    };
    let file_name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let never = AtomicBool::new(false);
    let report = crm.import(&actor, &args.file, &file_name, kind, &options, lang, &|_| {}, &never).await?;
    if let Some(path) = &args.rejected {
        crate::import::write_rejected(&report, path, lang)?;
    }
    if args.json {
        let json = JsonReport {
            import_id: report.import_id,
            dry_run: report.dry_run,
            rows: report.rows,
            created: report.created,
            updated: report.updated,
            skipped: report.skipped,
            rejected: report.rejected.iter().map(|r| JsonRejected { line: r.line, reason: &r.reason }).collect(),
        };
        out!("{}", serde_json::to_string_pretty(&json).map_err(|e| Error::Internal(e.to_string()))?);
        return Ok(());
    }
    let verb = if report.dry_run { "would import" } else { "imported" };
    out!(
        "{verb} {} rows: {} created, {} updated, {} skipped as duplicates, {} rejected",
        report.rows,
        report.created,
        report.updated,
        report.skipped,
        report.rejected.len()
    );
    for rejected in report.rejected.iter().take(50) {
        out!("  line {}: {}", rejected.line, printable(&rejected.reason));
    }
    if report.rejected.len() > 50 {
        out!("  ... and {} more (--rejected FILE writes them all)", report.rejected.len() - 50);
    }
    if let Some(id) = report.import_id {
        out!("import #{id}; the History page can undo it while nobody has changed its records");
    }
    Ok(())
}
