//! The backups folder: a daily backup of a local database on the first start of each day, kept
//! seven days and four weeks; backups made by hand and the copies kept aside by a restore stay
//! until someone deletes them.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{BackupInfo, OnProgress, EXTENSION};
use crate::db::Db;
use crate::error::Result;

/// Daily backups kept, one per day, and then weekly ones, one per week.
const DAILY_KEPT: usize = 7;
const WEEKLY_KEPT: usize = 4;

/// Why a backup was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Made {
    Daily,
    Manual,
    BeforeRestore,
}

impl Made {
    fn suffix(self) -> &'static str {
        match self {
            Self::Daily => "",
            Self::Manual => "-manual",
            Self::BeforeRestore => "-before-restore",
        }
    }
}

/// The file name of a backup of the database `stem` made at local time `at`, e.g.
/// `crm-2026-11-30-081205-manual.crm-backup`.
pub fn file_name(stem: &str, at: NaiveDateTime, made: Made) -> String {
    format!("{stem}-{}{}.{EXTENSION}", at.format("%Y-%m-%d-%H%M%S"), made.suffix())
}

/// The time and kind of a backup of `stem` from its file name; `None` for any other file.
fn parse_name(stem: &str, name: &str) -> Option<(NaiveDateTime, Made)> {
    let rest = name.strip_prefix(stem)?.strip_prefix('-')?.strip_suffix(&format!(".{EXTENSION}"))?;
    let (stamp, made) = match rest.len() {
        17 => (rest, Made::Daily),
        _ => match rest.split_at_checked(17)? {
            (stamp, "-manual") => (stamp, Made::Manual),
            (stamp, "-before-restore") => (stamp, Made::BeforeRestore),
            _ => return None,
        },
    };
    NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d-%H%M%S").ok().map(|at| (at, made))
}

/// The name by which a database's backups are found: a local file's name without its
/// extension, an office database's name.
pub fn stem(db: &Db) -> String {
    let name = match db {
        Db::Sqlite(pool) => pool.connect_options().get_filename().file_stem().map(|s| s.to_string_lossy().into_owned()),
        Db::Postgres(pool) => pool.connect_options().get_database().map(str::to_owned),
    };
    // a name that is safe in a file name on every system
    let name: String =
        name.unwrap_or_default().chars().filter(|c| c.is_alphanumeric() || matches!(c, '_' | '.')).collect();
    if name.is_empty() {
        "crm".to_owned()
    } else {
        name
    }
}

/// A new backup's path in `dir` for database `db`, named for the local time now.
pub fn new_path(dir: &Path, db: &Db, made: Made) -> PathBuf {
    let mut at = chrono::Local::now().naive_local();
    loop {
        let path = dir.join(file_name(&stem(db), at, made));
        // two backups in one second: the second is named a second later
        if !path.exists() {
            return path;
        }
        at += chrono::Duration::seconds(1);
    }
}

/// A backup in the folder.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub path: PathBuf,
    pub file_name: String,
    /// Local time it was made, from its name.
    pub at: NaiveDateTime,
    pub made: Made,
    pub size_bytes: u64,
    /// What it says of itself, or why it cannot be read.
    pub info: Option<BackupInfo>,
    pub problem: Option<String>,
}

/// The backups of database `stem` in `dir`, newest first (a missing folder holds none). Each is
/// read only as far as its own description, not checked whole.
pub async fn list(dir: &Path, stem: &str, lang: crate::i18n::Lang) -> Vec<Listed> {
    let mut found: Vec<Listed> = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((at, made)) = parse_name(stem, &file_name) else { continue };
        let path = entry.path();
        let size_bytes = entry.metadata().map(|m| m.len()).unwrap_or_default();
        let (info, problem) = match super::inspect(&path).await {
            Ok(info) => (Some(info), None),
            Err(e) => (None, Some(crate::i18n::error_message(lang, &e))),
        };
        found.push(Listed { path, file_name, at, made, size_bytes, info, problem });
    }
    found.sort_by_key(|b| std::cmp::Reverse(b.at));
    found
}

/// The daily backup: made unless one of `stem` exists for the day of `now` (local time), then
/// the old daily ones beyond seven days and four weeks are deleted. Returns the new backup.
pub async fn daily(db: &Db, dir: &Path, stem: &str, now: NaiveDateTime) -> Result<Option<BackupInfo>> {
    remove_abandoned(dir, stem);
    let dailies = daily_backups(dir, stem);
    if dailies.iter().any(|(at, _)| at.date() == now.date()) {
        return Ok(None);
    }
    let silent: OnProgress<'_> = &|_| {};
    let made = super::make(db, &dir.join(file_name(stem, now, Made::Daily)), silent).await?;
    let mut dailies = daily_backups(dir, stem);
    dailies.sort_by_key(|d| std::cmp::Reverse(d.0));
    let dates: Vec<NaiveDate> = dailies.iter().map(|(at, _)| at.date()).collect();
    for i in to_prune(&dates) {
        if let Err(e) = std::fs::remove_file(&dailies[i].1) {
            tracing::warn!("could not delete the old backup {}: {e}", dailies[i].1.display());
        }
    }
    Ok(Some(made))
}

/// A part of a backup (or its SQLite journal) untouched this long was left by an app closed while
/// writing it: a backup being written grows or is read through for its checksums all the time.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes the unfinished backups of `stem` that nothing writes any more. A backup is written as
/// `NAME.crm-backup.part` and renamed when done; an app closed meanwhile (at a million leads the
/// daily backup takes ten seconds) left the part behind, as large as the database, for good.
fn remove_abandoned(dir: &Path, stem: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(finished) = name.strip_suffix(".part").or_else(|| name.strip_suffix(".part-journal")) else {
            continue;
        };
        let idle = entry.metadata().and_then(|m| m.modified()).ok().and_then(|at| at.elapsed().ok());
        if parse_name(stem, finished).is_some() && idle.is_some_and(|idle| idle >= ABANDONED_AFTER) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!("deleted an unfinished backup: {}", entry.path().display()),
                Err(e) => tracing::warn!("could not delete the unfinished backup {}: {e}", entry.path().display()),
            }
        }
    }
}

fn daily_backups(dir: &Path, stem: &str) -> Vec<(NaiveDateTime, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match parse_name(stem, &name)? {
                (at, Made::Daily) => Some((at, e.path())),
                _ => None,
            }
        })
        .collect()
}

/// Which of the daily backups made on `dates` (newest first) to delete: all but the newest of
/// each of the last seven days that have one, and then the newest of each of the four weeks
/// before them.
fn to_prune(dates: &[NaiveDate]) -> Vec<usize> {
    let mut days: Vec<NaiveDate> = Vec::new();
    let mut weeks: Vec<(i32, u32)> = Vec::new();
    let mut prune = Vec::new();
    for (i, date) in dates.iter().enumerate() {
        let week = (date.iso_week().year(), date.iso_week().week());
        if days.contains(date) {
            prune.push(i);
        } else if days.len() < DAILY_KEPT {
            days.push(*date);
        } else if !weeks.contains(&week) && weeks.len() < WEEKLY_KEPT && !days.iter().any(|d| same_week(d, week)) {
            weeks.push(week);
        } else {
            prune.push(i);
        }
    }
    prune
}

fn same_week(date: &NaiveDate, week: (i32, u32)) -> bool {
    (date.iso_week().year(), date.iso_week().week()) == week
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn a_backup_name_says_when_and_why_it_was_made() {
        for made in [Made::Daily, Made::Manual, Made::BeforeRestore] {
            let name = file_name("crm", at("2026-11-30 08:12:05"), made);
            assert_eq!(parse_name("crm", &name), Some((at("2026-11-30 08:12:05"), made)), "{name}");
        }
        assert_eq!(file_name("crm", at("2026-11-30 08:12:05"), Made::Daily), "crm-2026-11-30-081205.crm-backup");
        assert_eq!(parse_name("other", "crm-2026-11-30-081205.crm-backup"), None);
        assert_eq!(parse_name("crm", "crm-2026-11-30-081205-copy.crm-backup"), None);
        assert_eq!(parse_name("crm", "crm-2026-11-30-081205.crm-backup.part"), None);
    }

    #[test]
    fn an_unfinished_backup_nothing_writes_any_more_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let hours_ago = |h: u64| std::time::SystemTime::now() - std::time::Duration::from_secs(h * 3600);
        let files = [
            ("crm-2026-11-30-081205.crm-backup.part", hours_ago(2)),
            ("crm-2026-11-30-081205.crm-backup.part-journal", hours_ago(2)),
            // being written now (another backup of the same database, the command line's)
            ("crm-2026-12-01-090000-manual.crm-backup.part", hours_ago(0)),
            // another database's, and a finished backup
            ("office-2026-11-30-081205.crm-backup.part", hours_ago(2)),
            ("crm-2026-11-29-081205.crm-backup", hours_ago(30)),
        ];
        for (name, modified) in files {
            std::fs::File::create(dir.path().join(name)).unwrap().set_modified(modified).unwrap();
        }
        remove_abandoned(dir.path(), "crm");
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(
            left,
            [
                "crm-2026-11-29-081205.crm-backup",
                "crm-2026-12-01-090000-manual.crm-backup.part",
                "office-2026-11-30-081205.crm-backup.part"
            ]
        );
    }

    #[test]
    fn seven_days_and_four_weeks_of_daily_backups_are_kept() {
        // a backup every day for sixty days, newest first
        let newest = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let dates: Vec<NaiveDate> = (0..60).map(|d| newest - chrono::Days::new(d)).collect();
        let pruned = to_prune(&dates);
        let kept: Vec<NaiveDate> = (0..dates.len()).filter(|i| !pruned.contains(i)).map(|i| dates[i]).collect();
        assert_eq!(kept.len(), DAILY_KEPT + WEEKLY_KEPT, "{kept:?}");
        assert_eq!(kept[..7], dates[..7]);
        // 30 Nov 2026 is a Monday: the seven days (24-30 Nov) reach into the week of 23-29 Nov;
        // the weekly ones are the newest of each of the four weeks before that one
        let weekly: Vec<String> = kept[7..].iter().map(|d| d.to_string()).collect();
        assert_eq!(weekly, ["2026-11-22", "2026-11-15", "2026-11-08", "2026-11-01"]);
    }

    #[test]
    fn gaps_between_backups_do_not_shorten_what_is_kept() {
        // a computer used twice a week: every backup is a different day and week pair
        let dates: Vec<NaiveDate> =
            (0..20).map(|i| NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() - chrono::Days::new(i * 4)).collect();
        let pruned = to_prune(&dates);
        assert_eq!(dates.len() - pruned.len(), DAILY_KEPT + WEEKLY_KEPT);
        assert!(pruned.iter().all(|&i| i >= DAILY_KEPT), "the newest seven stay: {pruned:?}");
    }
}
