//! Contract documents and the native file dialogs. The Rust side opens the dialog and the core
//! reads and checks the file (size before reading, type by content); the window only ever sees a
//! token and the file name. "Open" writes a copy into the user's private cache and hands it to
//! the system's default application; "save a copy" asks where with a native save dialog.
//!
//! Test seams (WebDriver cannot drive native dialogs), both documented in tests/e2e:
//! `CRM_E2E_PICK_FILE=/abs/path` makes "choose a file" take that path instead of asking, and
//! `CRM_E2E_SAVE_DIR=/abs/dir` makes "save a copy" write into that directory (and "open" stop
//! after writing its copy, starting no viewer). The file goes through exactly the same checks.
//! The seams exist in debug builds only: an installed (release) app always asks.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use super::error::{Reply, UiError};
use super::state::Desktop;
use crate::config::documents_cache_dir;
use crate::contracts::{extension_of, Document};
use crate::domain::id::ContractId;
use crate::i18n::{message, Lang};

/// A test seam's value (see the module's documentation); never in a release build.
pub(super) fn e2e_seam(name: &str) -> Option<std::ffi::OsString> {
    if cfg!(debug_assertions) {
        std::env::var_os(name)
    } else {
        None
    }
}

/// A picked file as the window sees it.
#[derive(Debug, Serialize)]
pub struct PickedFile {
    pub token: u64,
    pub file_name: String,
    pub size_bytes: u64,
}

/// Runs an rfd dialog the way GTK wants it: built on the main thread, awaited on another.
pub(super) async fn on_dialog_thread<T: Send + 'static>(
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

/// "Choose a file…": the native open dialog; `None` when the user cancels. The core reads and
/// checks the file (size before reading, type by content), so a wrong file is refused here.
#[tauri::command(rename_all = "snake_case")]
pub async fn pick_document(app: AppHandle, state: State<'_, Desktop>) -> Reply<Option<PickedFile>> {
    let s = state.session().await?;
    // Refuse before the dialog opens rather than after the user chose a file.
    s.reply(s.crm.may_read_document_files(&s.actor))?;
    let path: Option<PathBuf> = match e2e_seam("CRM_E2E_PICK_FILE") {
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
    let upload = s.reply(s.crm.read_document_file(&s.actor, path).await)?;
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

/// The name a copy gets: the stored name's stem with the extension its content has.
fn copy_name(document: &Document) -> String {
    let name = safe_file_name(&document.file_name);
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(stem, _)| stem);
    let stem = if stem.trim().is_empty() { "document" } else { stem };
    format!("{stem}.{}", extension_of(&document.media_type))
}

/// A failure of the file system, in the user's language; the detail goes to the log only.
fn file_error(lang: Lang, code: &'static str) -> impl FnOnce(std::io::Error) -> UiError {
    move |e| {
        tracing::warn!("{code}: {e}");
        UiError::other(code, message(lang, code, &[]))
    }
}

/// Creates `dir` (and its parents) readable by this user only: opened contracts are private.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// "Open": writes a copy into the user's own cache directory (named by content type, so the
/// system picks the viewer for what the file is) and hands it to the default application.
#[tauri::command(rename_all = "snake_case")]
pub async fn open_document(state: State<'_, Desktop>, contract_id: ContractId) -> Reply<()> {
    let s = state.session().await?;
    let document = s.reply(s.crm.get_document(&s.actor, contract_id).await)?;
    let dir = s.reply(documents_cache_dir())?.join(contract_id.to_string());
    let path = dir.join(copy_name(&document));
    private_dir(&dir)
        .and_then(|()| std::fs::write(&path, &document.bytes))
        .map_err(file_error(s.lang, "document_save_failed"))?;
    if e2e_seam("CRM_E2E_SAVE_DIR").is_some() {
        // under test: the copy is written, no viewer is started on the test machine
        return Ok(());
    }
    // ShellExecute on Windows, `open` on macOS, xdg-open elsewhere: never through a shell, so
    // nothing in a file name is ever run as a command.
    opener::open(&path).map_err(|e| {
        tracing::warn!("cannot open {}: {e}", path.display());
        UiError::other("document_open_failed", message(s.lang, "document_open_failed", &[]))
    })
}

/// "Save a copy…": the native save dialog; returns where it was saved, or `None` if cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn save_document_copy(
    app: AppHandle,
    state: State<'_, Desktop>,
    contract_id: ContractId,
) -> Reply<Option<String>> {
    let s = state.session().await?;
    let document = s.reply(s.crm.get_document(&s.actor, contract_id).await)?;
    let name = copy_name(&document);
    let target: Option<PathBuf> = match e2e_seam("CRM_E2E_SAVE_DIR") {
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
    let failed = || file_error(s.lang, "document_save_failed");
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(failed())?;
    }
    // Written beside the target and renamed, so a half-written copy never carries the real name.
    let partial = target.with_extension("crm-partial");
    std::fs::write(&partial, &document.bytes).and_then(|()| std::fs::rename(&partial, &target)).map_err(failed())?;
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
    fn a_copy_is_named_by_what_the_file_is() {
        let doc = |name: &str, media_type: &str| Document {
            file_name: name.into(),
            media_type: media_type.into(),
            bytes: Vec::new(),
        };
        assert_eq!(copy_name(&doc("Договор 5.pdf", "application/pdf")), "Договор 5.pdf");
        assert_eq!(copy_name(&doc("run&calc.bat", "application/pdf")), "run&calc.pdf");
        assert_eq!(copy_name(&doc("скан", "image/png")), "скан.png");
        assert_eq!(copy_name(&doc(".bashrc", "image/jpeg")), "bashrc.jpg");
    }
}
