//! Contract documents and the native file dialogs. The Rust side opens the dialog and reads the
//! file itself (size checked before reading); the window only ever sees a token and the file
//! name. "Open" writes a temporary copy and hands it to the system's default application;
//! "save a copy" asks where with a native save dialog.
//!
//! Test seams (WebDriver cannot drive native dialogs), both documented in tests/e2e:
//! `CRM_E2E_PICK_FILE=/abs/path` makes "choose a file" take that path instead of asking, and
//! `CRM_E2E_SAVE_DIR=/abs/dir` makes "save a copy" write into that directory. The file then goes
//! through exactly the same reading and checks.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use super::error::{Reply, UiError};
use super::state::Desktop;
use crate::contracts::DocumentUpload;
use crate::error::{Error, FieldError};
use crate::i18n::Lang;

/// A picked file as the window sees it.
#[derive(Debug, Serialize)]
pub struct PickedFile {
    pub token: u64,
    pub file_name: String,
    pub size_bytes: u64,
}

/// Runs an rfd dialog the way GTK wants it: built on the main thread, awaited on another.
async fn on_dialog_thread<T: Send + 'static>(
    app: &AppHandle,
    dialog: impl FnOnce(rfd::AsyncFileDialog) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>
        + Send
        + 'static,
) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    app.run_on_main_thread(move || {
        let mut builder = rfd::AsyncFileDialog::new();
        if let Some(window) = &window {
            builder = builder.set_parent(window);
        }
        let future = dialog(builder);
        std::thread::spawn(move || {
            let _ = tx.send(tauri::async_runtime::block_on(future));
        });
    })
    .ok()?;
    rx.await.ok()
}

fn invalid(lang: Lang, error: FieldError) -> UiError {
    UiError::from_core(lang, &Error::Invalid(vec![error]))
}

/// Reads a picked file after checking its size, so a huge file is never loaded.
fn read_checked(path: &Path, max: usize, lang: Lang) -> Reply<DocumentUpload> {
    let too_large = FieldError::new("document", "file_too_large").with("max", max / (1024 * 1024));
    let meta = std::fs::metadata(path).map_err(|e| UiError::other("io", e.to_string()))?;
    if meta.len() > max as u64 {
        return Err(invalid(lang, too_large));
    }
    let bytes = std::fs::read(path).map_err(|e| UiError::other("io", e.to_string()))?;
    if bytes.len() > max {
        return Err(invalid(lang, too_large));
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(DocumentUpload { file_name, bytes })
}

/// "Choose a file…": the native open dialog; `None` when the user cancels.
#[tauri::command(rename_all = "snake_case")]
pub async fn pick_document(app: AppHandle, state: State<'_, Desktop>) -> Reply<Option<PickedFile>> {
    let (crm, lang) = state.crm().await?;
    let path: Option<PathBuf> = match std::env::var_os("CRM_E2E_PICK_FILE") {
        Some(path) => Some(path.into()),
        None => on_dialog_thread(&app, |d| {
            Box::pin(
                d.add_filter("PDF, DOC, DOCX, ODT, JPG, PNG", &["pdf", "doc", "docx", "odt", "jpg", "jpeg", "png"])
                    .pick_file(),
            )
        })
        .await
        .flatten()
        .map(|file| file.path().to_path_buf()),
    };
    let Some(path) = path else { return Ok(None) };
    let upload = tokio::task::spawn_blocking({
        let max = crm.settings().max_document_bytes;
        move || read_checked(&path, max, lang)
    })
    .await
    .map_err(|e| UiError::other("internal", e.to_string()))??;
    let (file_name, size_bytes) = (upload.file_name.clone(), upload.bytes.len() as u64);
    let token = state.uploads.lock().map_err(|e| UiError::other("internal", e.to_string()))?.keep(upload);
    Ok(Some(PickedFile { token, file_name, size_bytes }))
}

/// A file name safe to create on any OS: no directories, no reserved characters.
fn safe_file_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "document".to_owned()
    } else {
        cleaned
    }
}

/// "Open": writes a temporary copy and hands it to the system's default application.
#[tauri::command(rename_all = "snake_case")]
pub async fn open_document(state: State<'_, Desktop>, contract_id: i64) -> Reply<()> {
    let s = state.session().await?;
    let document = s.reply(s.crm.get_document(&s.actor, contract_id).await)?;
    let dir = std::env::temp_dir().join("crm-documents").join(contract_id.to_string());
    let path = dir.join(safe_file_name(&document.file_name));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, &document.bytes))
        .map_err(|e| UiError::other("io", e.to_string()))?;
    open_with_system(&path).map_err(|e| UiError::other("io", e.to_string()))
}

/// The platform's "open with the default application" (no extra crate needed for three lines).
fn open_with_system(path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "windows")]
    let mut command = {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]).arg(path);
        c
    };
    #[cfg(target_os = "macos")]
    let mut command = {
        let mut c = std::process::Command::new("open");
        c.arg(path);
        c
    };
    #[cfg(not(any(target_os = "windows", target_os = "macos")))]
    let mut command = {
        let mut c = std::process::Command::new("xdg-open");
        c.arg(path);
        c
    };
    command.spawn().map(|_| ())
}

/// "Save a copy…": the native save dialog; returns where it was saved, or `None` if cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn save_document_copy(app: AppHandle, state: State<'_, Desktop>, contract_id: i64) -> Reply<Option<String>> {
    let s = state.session().await?;
    let document = s.reply(s.crm.get_document(&s.actor, contract_id).await)?;
    let name = safe_file_name(&document.file_name);
    let target: Option<PathBuf> = match std::env::var_os("CRM_E2E_SAVE_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join(&name)),
        None => {
            let suggested = name.clone();
            on_dialog_thread(&app, move |d| Box::pin(d.set_file_name(suggested).save_file()))
                .await
                .flatten()
                .map(|file| file.path().to_path_buf())
        }
    };
    let Some(target) = target else { return Ok(None) };
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| UiError::other("io", e.to_string()))?;
    }
    // Written beside the target and renamed, so a half-written copy never carries the real name.
    let partial = target.with_extension("crm-partial");
    std::fs::write(&partial, &document.bytes)
        .and_then(|()| std::fs::rename(&partial, &target))
        .map_err(|e| UiError::other("io", e.to_string()))?;
    Ok(Some(target.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_file_names_cannot_escape_their_folder() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("договор №5.pdf"), "договор №5.pdf");
        assert_eq!(safe_file_name("  "), "document");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_reading() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), vec![0u8; 2048]).unwrap();
        let error = read_checked(file.path(), 1024, Lang::En).unwrap_err();
        assert_eq!(error.code, "invalid");
        assert_eq!(error.fields[0].field, "document");
    }
}
