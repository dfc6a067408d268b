//! "Export" on every list and on the statistics: the native save dialog, then the core writes
//! the file (all rows of the list as filtered and sorted) with its progress published.

use std::path::PathBuf;

use serde::Serialize;
use tauri::{AppHandle, State};

use super::documents::{e2e_seam, on_dialog_thread};
use super::error::Reply;
use super::state::Desktop;
use crate::export::{ExportList, Format};

#[derive(Debug, Serialize)]
pub struct ExportDone {
    pub rows: u64,
    pub file_name: String,
}

/// Asks where to save (the dialog suggests e.g. `Лиды 2026-11-30.xlsx`), then exports; `None`
/// when the dialog was cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_list(
    app: AppHandle,
    state: State<'_, Desktop>,
    what: ExportList,
    format: Format,
) -> Reply<Option<ExportDone>> {
    let s = state.session().await?;
    // the permission first: nobody picks a file for an export they may not make
    s.reply(s.crm.may_export(&s.actor))?;
    let name = what.file_name(format, s.lang);
    let target: Option<PathBuf> = match e2e_seam("CRM_E2E_SAVE_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join(&name)),
        None => {
            let extension = format.extension();
            on_dialog_thread(&app, move |d| {
                let kind = if extension == "csv" { "CSV" } else { "Excel" };
                Box::pin(d.set_file_name(name).add_filter(kind, &[extension]).save_file())
            })
            .await
            .flatten()
            .map(|file| file.path().to_path_buf())
        }
    };
    let Some(target) = target else { return Ok(None) };
    let busy = state.busy(s.lang)?;
    let done = s.reply(s.crm.export(&s.actor, &what, format, s.lang, &target, &|p| state.publish(p)).await)?;
    drop(busy);
    let file_name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Some(ExportDone { rows: done.rows, file_name }))
}
