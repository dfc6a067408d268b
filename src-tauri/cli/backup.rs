//! `crm backup`, `crm restore` and `crm move`: the backups of a local database (or, with the
//! owner's login, of an office database), and moving a local database to an office server.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use super::printable;
use crate::app::Crm;
use crate::backup::schedule::{self, Made};
use crate::backup::{self, BackupInfo, Progress};
use crate::config::{backups_dir, ConfigFile, OfficeServer};
use crate::db::Backend;
use crate::error::{Error, Result};

/// Shows progress on a terminal, on one line of stderr; nothing when stderr is not a terminal.
fn progress(what: &'static str) -> impl Fn(Progress) + Send + Sync {
    let terminal = std::io::stderr().is_terminal();
    move |p: Progress| {
        if terminal && p.total > 0 {
            let percent = p.done * 100 / p.total;
            eprint!("\r{what}: {percent:>3}% {:<24}", p.table);
            if p.done == p.total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    }
}

fn describe(info: &BackupInfo) -> String {
    let local = info.made_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M");
    let source = match info.source {
        Backend::Sqlite => "local database",
        Backend::Postgres => "office database",
    };
    format!(
        "{} ({local}, {source}, schema {}): {} users, {} leads, {} clients, {} contracts, {} history entries, {:.1} MB",
        printable(&info.path.display().to_string()),
        info.schema_version,
        info.rows("users"),
        info.rows("leads"),
        info.rows("clients"),
        info.rows("contracts"),
        info.rows("audit_log"),
        info.size_bytes as f64 / 1e6
    )
}

fn print_one_time(passwords: &[(String, String)]) {
    if passwords.is_empty() {
        return;
    }
    out!("these users have no password on this database yet; one-time passwords (each person chooses");
    out!("their own at the next sign-in):");
    for (username, password) in passwords {
        out!("  {:<24} {password}", printable(username));
    }
}

/// `crm backup [--out FILE]`.
pub async fn make(crm: &Crm, out: Option<PathBuf>) -> Result<()> {
    let path = match out {
        Some(path) => path,
        None => schedule::new_path(&backups_dir()?, crm.db(), Made::Manual),
    };
    let info = backup::make(crm.db(), &path, &progress("backing up")).await?;
    out!("backup made: {}", describe(&info));
    Ok(())
}

/// `crm restore FILE [--yes]`.
pub async fn restore(crm: &Crm, file: &Path, yes: bool) -> Result<()> {
    let info = backup::inspect(file).await?;
    out!("backup: {}", describe(&info));
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::state("restore_needs_yes"));
        }
        eprint!("Replace everything in this database with the backup? Type yes to go on: ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).map_err(|e| Error::Config(e.to_string()))?;
        if answer.trim() != "yes" {
            out!("nothing was changed");
            return Ok(());
        }
    }
    let aside = schedule::new_path(&backups_dir()?, crm.db(), Made::BeforeRestore);
    let restored = backup::restore(crm.db(), file, &aside, &progress("restoring")).await?;
    let rows: u64 = restored.replaced.tables.iter().map(|t| t.rows).sum();
    out!("restored and verified: {rows} rows in {} tables", restored.replaced.tables.len());
    out!("the previous contents were kept in {}", printable(&restored.kept_aside.display().to_string()));
    print_one_time(&restored.replaced.one_time_passwords);
    Ok(())
}

/// `crm move --to URL`: copies this computer's local database into an empty office database,
/// then makes this computer work on the office database (each person signs in as themselves).
pub async fn move_to(crm: &Crm, to: &str, settings: crate::app::Settings) -> Result<()> {
    if crm.db().backend() != Backend::Sqlite {
        return Err(Error::state("move_from_local_only"));
    }
    if Backend::of_url(to)? != Backend::Postgres {
        return Err(Error::state("move_to_office_only"));
    }
    let server = OfficeServer::from_url(to)?;
    let office = Crm::open(to, settings).await?;
    let moved = backup::move_to(crm.db(), office.db(), &progress("moving")).await;
    office.db().close().await;
    let moved = moved?;
    let rows: u64 = moved.tables.iter().map(|t| t.rows).sum();
    out!("copied and verified: {rows} rows in {} tables, to {}", moved.tables.len(), server.describe());
    let mut file = ConfigFile::load()?;
    file.office = Some(server);
    file.database_url = None;
    file.save()?;
    out!("this computer now works on the office database; the local file stays as it was");
    print_one_time(&moved.one_time_passwords);
    Ok(())
}
