//! Settings → Backups: the list, "Back up now", restoring (from the list or a file picked in the
//! native dialog), moving this computer's database to an office server, and the daily backup
//! made when a local database opens. Thin adapters over `crate::backup`.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use serde::Serialize;
use tauri::State;

use super::error::{Reply, UiError};
use super::setup::{OfficeInput, OwnerLogin};
use super::state::{Desktop, Session};
use crate::app::{Crm, Settings};
use crate::backup::schedule::{self, Listed, Made};
use crate::backup::{BackupInfo, Progress};
use crate::config::{backups_dir, ConfigFile, Location};
use crate::db::Backend;
use crate::error::Error;

/// A backup as the settings page lists it.
#[derive(Debug, Serialize)]
pub struct BackupItem {
    pub file_name: String,
    /// Local time it was made.
    pub at: NaiveDateTime,
    pub made: Made,
    pub size_bytes: u64,
    pub source: Option<Backend>,
    pub users: u64,
    pub leads: u64,
    pub clients: u64,
    pub contracts: u64,
    /// Why it cannot be restored (damaged, from a newer app), in the user's language.
    pub problem: Option<String>,
}

impl From<Listed> for BackupItem {
    fn from(listed: Listed) -> Self {
        let rows = |table: &str| listed.info.as_ref().map_or(0, |i| i.rows(table));
        Self {
            users: rows("users"),
            leads: rows("leads"),
            clients: rows("clients"),
            contracts: rows("contracts"),
            source: listed.info.as_ref().map(|i| i.source),
            file_name: listed.file_name,
            at: listed.at,
            made: listed.made,
            size_bytes: listed.size_bytes,
            problem: listed.problem,
        }
    }
}

fn item(info: BackupInfo, made: Made) -> BackupItem {
    BackupItem {
        file_name: info.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        at: info.made_at.with_timezone(&chrono::Local).naive_local(),
        made,
        size_bytes: info.size_bytes,
        source: Some(info.source),
        users: info.rows("users"),
        leads: info.rows("leads"),
        clients: info.rows("clients"),
        contracts: info.rows("contracts"),
        problem: None,
    }
}

#[derive(Debug, Serialize)]
pub struct BackupList {
    /// The folder, to show (backups of the open database are the files named after it).
    pub folder: String,
    pub items: Vec<BackupItem>,
}

/// What a restore or a move did, to show before signing in again.
#[derive(Debug, Serialize)]
pub struct Replacement {
    pub rows: u64,
    pub one_time_passwords: Vec<(String, String)>,
    /// A restore's copy of what was replaced (its file name in the backups folder).
    pub kept_aside: Option<String>,
    /// A move's office server.
    pub server: Option<String>,
}

fn folder(lang: crate::i18n::Lang) -> Reply<PathBuf> {
    backups_dir().map_err(|e| UiError::from_core(lang, &e))
}

/// Marks a long copy as running while it lives (one at a time), for `progress`.
pub(super) struct Busy<'a>(&'a Desktop);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.0.progress.lock() {
            *slot = None;
        }
    }
}

impl Desktop {
    /// Starts a long copy, or says that one runs already.
    pub(super) fn busy(&self, lang: crate::i18n::Lang) -> Reply<Busy<'_>> {
        let mut progress = self.progress.lock().map_err(|e| UiError::other("internal", e.to_string()))?;
        if progress.is_some() {
            return Err(UiError::from_core(lang, &Error::state("backup_running")));
        }
        *progress = Some(Progress { table: "", done: 0, total: 0 });
        Ok(Busy(self))
    }

    /// What a running copy reports its progress to.
    pub(super) fn publish(&self, progress: Progress) {
        if let Ok(mut slot) = self.progress.lock() {
            *slot = Some(progress);
        }
    }

    /// After the database's contents were replaced: everyone signs in again.
    async fn sign_out_after_replacement(&self) {
        self.inner.write().await.actor = None;
        self.imports.forget();
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.forget_all();
        }
    }
}

/// Starts the daily backup of a local database that has just been opened, in the background;
/// a failure is logged (the settings page lists what there is).
///
/// It runs on a thread of its own at the lowest priority, through a connection that thread
/// opens (whose worker thread inherits the priority): at a million leads it reads and writes
/// for seconds, just as the person signs in and opens the first pages, and the window's work
/// goes first.
pub fn start_daily(crm: &Crm) {
    if crm.db().backend() != Backend::Sqlite || crm.is_gateway() {
        return;
    }
    let db = crm.db().clone();
    let spawned = std::thread::Builder::new().name("daily-backup".into()).spawn(move || {
        lowest_priority();
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => return tracing::error!("the daily backup could not start: {e}"),
        };
        runtime.block_on(async move {
            let Ok(dir) = backups_dir() else { return };
            let now = chrono::Local::now().naive_local();
            let made = async {
                let own = db.alone().await?;
                let made = schedule::daily(&own, &dir, &schedule::stem(&db), now).await;
                own.close().await;
                made
            };
            match made.await {
                Ok(Some(info)) => tracing::info!("daily backup made: {}", info.path.display()),
                Ok(None) => {}
                Err(e) => tracing::error!("the daily backup failed: {e}"),
            }
        });
    });
    if let Err(e) = spawned {
        tracing::error!("the daily backup could not start: {e}");
    }
}

/// Lowers the calling thread's priority to the least (Linux: nice 19; threads it starts
/// inherit it). Elsewhere the thread keeps the usual priority.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority reads its three integer arguments only; on Linux PRIO_PROCESS with
    // 0 names the calling thread (a thread's nice value is its own).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_backups(state: State<'_, Desktop>) -> Reply<BackupList> {
    let s = state.session().await?;
    s.reply(s.crm.check_backups(&s.actor))?;
    let dir = folder(s.lang)?;
    let items = schedule::list(&dir, &schedule::stem(s.crm.db()), s.lang).await;
    Ok(BackupList { folder: dir.display().to_string(), items: items.into_iter().map(Into::into).collect() })
}

#[tauri::command(rename_all = "snake_case")]
pub async fn back_up_now(state: State<'_, Desktop>) -> Reply<BackupItem> {
    let s = state.session().await?;
    let path = schedule::new_path(&folder(s.lang)?, s.crm.db(), Made::Manual);
    let _busy = state.busy(s.lang)?;
    let info = s.reply(s.crm.back_up(&s.actor, &path, &|p| state.publish(p)).await)?;
    Ok(item(info, Made::Manual))
}

/// Where the long copy stands (none when nothing runs), for the progress bar.
#[tauri::command(rename_all = "snake_case")]
pub async fn progress(state: State<'_, Desktop>) -> Reply<Option<Progress>> {
    Ok(state.progress.lock().map_err(|e| UiError::other("internal", e.to_string()))?.clone())
}

/// Restores the backup `file_name` of the list, or (without one) a file picked in the native
/// dialog; `None` when the dialog was cancelled. Everyone signs in again afterwards.
#[tauri::command(rename_all = "snake_case")]
pub async fn restore_backup(
    app: tauri::AppHandle,
    state: State<'_, Desktop>,
    file_name: Option<String>,
) -> Reply<Option<Replacement>> {
    let s = state.session().await?;
    s.reply(s.crm.check_backups(&s.actor))?;
    let dir = folder(s.lang)?;
    let file = match file_name {
        // only a name the list shows: never a path from the page
        Some(name) => {
            let listed = schedule::list(&dir, &schedule::stem(s.crm.db()), s.lang).await;
            match listed.into_iter().find(|l| l.file_name == name) {
                Some(listed) => listed.path,
                None => {
                    return Err(UiError::from_core(
                        s.lang,
                        &Error::State { code: "backup_missing", params: vec![("path", name)] },
                    ))
                }
            }
        }
        None => match pick_backup(&app).await {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let aside = schedule::new_path(&dir, s.crm.db(), Made::BeforeRestore);
    let busy = state.busy(s.lang)?;
    let restored = s.reply(s.crm.restore_backup(&s.actor, &file, &aside, &|p| state.publish(p)).await)?;
    drop(busy);
    state.sign_out_after_replacement().await;
    Ok(Some(Replacement {
        rows: restored.replaced.tables.iter().map(|t| t.rows).sum(),
        one_time_passwords: restored.replaced.one_time_passwords,
        kept_aside: restored.kept_aside.file_name().map(|n| n.to_string_lossy().into_owned()),
        server: None,
    }))
}

async fn pick_backup(app: &tauri::AppHandle) -> Option<PathBuf> {
    if let Some(path) = super::documents::e2e_seam("CRM_E2E_PICK_BACKUP") {
        return Some(path.into());
    }
    let start = backups_dir().ok();
    super::documents::on_dialog_thread(app, move |d| {
        let d = d.add_filter("CRM", &[crate::backup::EXTENSION]);
        let d = match start {
            Some(dir) => d.set_directory(dir),
            None => d,
        };
        Box::pin(d.pick_file())
    })
    .await
    .flatten()
    .map(|file| file.path().to_path_buf())
}

/// "Move to an office database": copies this computer's local database into a new, empty office
/// database (set up with its owner's login, typed once and never kept), verified, then this
/// computer works on the office database. Everyone gets a one-time password there.
#[tauri::command(rename_all = "snake_case")]
pub async fn move_to_office(state: State<'_, Desktop>, input: OfficeInput, owner: OwnerLogin) -> Reply<Replacement> {
    let s: Session = state.session().await?;
    s.reply(s.crm.check_backups(&s.actor))?;
    let (server, settings) = state.owner_target(&input, &owner, s.lang).await?;
    let office = Crm::open_as_owner(&server, owner.username.trim(), &owner.password, settings.clone())
        .await
        .map_err(|e| super::setup::connection_error(s.lang, &e))?;
    let busy = state.busy(s.lang)?;
    let moved = s.reply(s.crm.move_to_office(&s.actor, &office, &|p| state.publish(p)).await);
    drop(busy);
    office.db().close().await;
    let moved = moved?;
    let location = Location::Office(server.clone());
    super::setup::save_location(&location).map_err(|e| UiError::from_core(s.lang, &e))?;
    state.switch_to(Crm::open_office(&server, settings), &location).await;
    Ok(Replacement {
        rows: moved.tables.iter().map(|t| t.rows).sum(),
        one_time_passwords: moved.one_time_passwords,
        kept_aside: None,
        server: Some(server.describe()),
    })
}

impl Desktop {
    /// The office server of the form and the settings to open it with, for the owner's login.
    async fn owner_target(
        &self,
        input: &OfficeInput,
        owner: &OwnerLogin,
        lang: crate::i18n::Lang,
    ) -> Reply<(crate::config::OfficeServer, crate::app::Settings)> {
        self.ensure_switchable(lang)?;
        let server = self.office_server(input, lang)?;
        if owner.username.trim().is_empty() {
            return Err(UiError::from_core(lang, &Error::field("owner_username", "required")));
        }
        let settings =
            ConfigFile::load().and_then(|f| Settings::from_config(&f)).map_err(|e| UiError::from_core(lang, &e))?;
        Ok((server, settings))
    }
}
