//! The import wizard: a file picked in the native dialog (its path stays here), its preview and
//! guessed mapping, the import or its dry run with progress and a cancel button, the rejected
//! rows saved to a file, and the undo from the History page. Thin adapters over
//! `crate::import`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tauri::{AppHandle, State};

use super::documents::{e2e_seam, on_dialog_thread};
use super::error::{Reply, UiError};
use super::state::Desktop;
use crate::domain::id::ImportId;
use crate::error::Error;
use crate::import::{ImportKind, ImportOptions, Preview, Rejected, Report};

/// Rejected rows shown in the window (all of them go to the file).
const SHOWN_REJECTED: usize = 200;

/// The file the wizard works on, and the last import's report (for "Save rejected rows…").
#[derive(Default)]
pub struct ImportState {
    file: std::sync::Mutex<Option<PathBuf>>,
    report: std::sync::Mutex<Option<Report>>,
    cancel: AtomicBool,
}

impl ImportState {
    /// Forgets the picked file and the last report (at sign-out: they were that person's).
    pub fn forget(&self) {
        if let Ok(mut file) = self.file.lock() {
            *file = None;
        }
        if let Ok(mut report) = self.report.lock() {
            *report = None;
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PickedTable {
    pub file_name: String,
    pub size_bytes: u64,
}

/// What the window shows of a report: the figures and the first rejected rows.
#[derive(Debug, Serialize)]
pub struct ImportResult {
    pub import_id: Option<ImportId>,
    pub dry_run: bool,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub rejected_count: usize,
    pub rejected: Vec<Rejected>,
}

fn internal(e: impl std::fmt::Display) -> UiError {
    UiError::other("internal", e.to_string())
}

/// "Choose a file…": a CSV, XLSX, XLS or ODS file; `None` when cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn pick_import_file(app: AppHandle, state: State<'_, Desktop>) -> Reply<Option<PickedTable>> {
    let s = state.session().await?;
    s.reply(s.crm.may_import(&s.actor))?;
    let path: Option<PathBuf> = match e2e_seam("CRM_E2E_PICK_IMPORT") {
        Some(path) => Some(path.into()),
        None => on_dialog_thread(&app, |d| {
            Box::pin(d.add_filter("CSV, Excel, OpenDocument", &["csv", "txt", "xlsx", "xls", "ods"]).pick_file())
        })
        .await
        .flatten()
        .map(|file| file.path().to_path_buf()),
    };
    let Some(path) = path else { return Ok(None) };
    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    *state.imports.file.lock().map_err(internal)? = Some(path);
    Ok(Some(PickedTable { file_name, size_bytes }))
}

impl Desktop {
    fn import_file(&self, lang: crate::i18n::Lang) -> Reply<PathBuf> {
        self.imports
            .file
            .lock()
            .map_err(internal)?
            .clone()
            .ok_or_else(|| UiError::from_core(lang, &Error::field("file", "file_pick_again")))
    }
}

#[tauri::command(rename_all = "snake_case")]
pub async fn preview_import(state: State<'_, Desktop>, kind: ImportKind, sheet: String) -> Reply<Preview> {
    let s = state.session().await?;
    let file = state.import_file(s.lang)?;
    s.reply(s.crm.preview_import(&s.actor, &file, kind, &sheet, s.lang).await)
}

/// The import (or, with `options.dry_run`, its check) of the picked file.
#[tauri::command(rename_all = "snake_case")]
pub async fn run_import(state: State<'_, Desktop>, kind: ImportKind, options: ImportOptions) -> Reply<ImportResult> {
    let s = state.session().await?;
    let file = state.import_file(s.lang)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    state.imports.cancel.store(false, Ordering::Relaxed);
    let busy = state.busy(s.lang)?;
    let report = s
        .crm
        .import(&s.actor, &file, &name, kind, &options, s.lang, &|p| state.publish(p), &state.imports.cancel)
        .await;
    drop(busy);
    let report = s.reply(report)?;
    let result = ImportResult {
        import_id: report.import_id,
        dry_run: report.dry_run,
        rows: report.rows,
        created: report.created,
        updated: report.updated,
        skipped: report.skipped,
        rejected_count: report.rejected.len(),
        rejected: report.rejected.iter().take(SHOWN_REJECTED).cloned().collect(),
    };
    *state.imports.report.lock().map_err(internal)? = Some(report);
    Ok(result)
}

/// "Cancel": the running import stops at its next batch of rows, and imports nothing.
#[tauri::command(rename_all = "snake_case")]
pub async fn cancel_import(state: State<'_, Desktop>) -> Reply<()> {
    state.imports.cancel.store(true, Ordering::Relaxed);
    Ok(())
}

/// "Save rejected rows…": the last import's rejected rows with their reasons, as CSV for Excel.
#[tauri::command(rename_all = "snake_case")]
pub async fn save_rejected_rows(app: AppHandle, state: State<'_, Desktop>) -> Reply<Option<String>> {
    let s = state.session().await?;
    let Some(report) = state.imports.report.lock().map_err(internal)?.clone() else { return Ok(None) };
    let name =
        if s.lang == crate::i18n::Lang::En { "Rejected rows.csv" } else { "Отклонённые строки.csv" };
    let target: Option<PathBuf> = match e2e_seam("CRM_E2E_SAVE_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join(name)),
        None => {
            let suggested = name.to_owned();
            on_dialog_thread(&app, move |d| {
                Box::pin(d.set_file_name(suggested).add_filter("CSV", &["csv"]).save_file())
            })
            .await
            .flatten()
            .map(|file| file.path().to_path_buf())
        }
    };
    let Some(target) = target else { return Ok(None) };
    s.reply(crate::import::write_rejected(&report, &target, s.lang))?;
    Ok(Some(target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
}

/// "Undo the import" on the History page.
#[tauri::command(rename_all = "snake_case")]
pub async fn undo_import(state: State<'_, Desktop>, id: ImportId) -> Reply<u64> {
    let s = state.session().await?;
    s.reply(s.crm.undo_import(&s.actor, id).await)
}
