//! Logging, set up once at start for the window and the command line: a file a day in the data
//! folder's `logs/` (`crm.YYYY-MM-DD.log`, the last 14 kept), and the terminal's standard error
//! when there is one. `CRM_LOG` sets the filter (tracing's `EnvFilter` syntax); the default is
//! `crm=info` in the file and warnings only on the terminal.
//!
//! Nothing secret is logged: use cases log their name, the user's id, the time taken and the
//! outcome; errors their kind and detail. Passwords, tokens, document contents and database
//! passwords never reach a log line (database URLs are logged without their password).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// How many daily files are kept.
pub const KEEP_DAYS: usize = 14;

/// Keeps the file writer running; dropped at exit, it writes out what is still queued.
pub struct Logging {
    _guard: Option<WorkerGuard>,
}

/// Starts logging to `dir` (created if need be) and to the terminal. A folder that cannot be
/// written leaves the terminal only (said there): the app runs without its log rather than not
/// at all.
pub fn init(dir: Option<&Path>) -> Logging {
    let filter = |default: &str| EnvFilter::try_from_env("CRM_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let terminal = std::io::stderr().is_terminal().then(|| {
        // (an incident is said in words by the CLI and the window themselves)
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_filter(filter("crm=warn,crm::logging=off"))
    });
    let (file, guard, problem) = match dir.map(appender) {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            // a use case's line when it ends: its name, the user's id, the time it took (and its
            // error, logged on its own line, when it failed)
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
                .with_filter(filter("crm=info"));
            (Some(layer), Some(guard), None)
        }
        Some(Err(e)) => (None, None, Some(e)),
        None => (None, None, None),
    };
    // a second init (tests that start the app twice) keeps the first
    let _ = tracing_subscriber::registry().with(terminal).with(file).try_init();
    if let Some(problem) = problem {
        tracing::warn!("no log file: {problem}");
    }
    Logging { _guard: guard }
}

fn appender(dir: &Path) -> Result<RollingFileAppender, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("crm")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Today's log file in `dir` (the one being written), as people are told where to look.
pub fn today_file(dir: &Path) -> PathBuf {
    dir.join(format!("crm.{}.log", chrono::Utc::now().format("%Y-%m-%d")))
}

/// The last `lines` lines of the newest log file in `dir`, for "Copy diagnostics".
pub fn tail(dir: &Path, lines: usize) -> Vec<String> {
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("crm.") && n.ends_with(".log"))
        })
        .max();
    let Some(bytes) = newest.and_then(|p| end_of(&p).ok()) else { return Vec::new() };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].iter().map(|l| (*l).to_owned()).collect()
}

/// The last 64 KiB of a file, from the start of a line: a busy day's log is megabytes, and only
/// its end is wanted.
fn end_of(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    const TAIL: u64 = 64 * 1024;
    let mut file = std::fs::File::open(path)?;
    let start = file.metadata()?.len().saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    if start > 0 {
        // the first line is cut: it begins after the first newline
        let cut = bytes.iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| i + 1);
        bytes.drain(..cut);
    }
    Ok(bytes)
}

/// Logs an unexpected error under a new incident id and returns the id, which the person is shown
/// with the message so that the log line can be found (`E-` and six letters or digits).
pub fn incident(error: &dyn std::fmt::Display) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let id: String = (0..6).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect();
    let id = format!("E-{id}");
    tracing::error!(incident = %id, "{error}");
    id
}

/// "incident E-XXXXXX, see the log: PATH" in `lang`.
pub fn pointer(lang: crate::i18n::Lang, incident: &str) -> String {
    let log = crate::config::logs_dir().map(|dir| today_file(&dir).display().to_string()).unwrap_or_default();
    crate::i18n::message(lang, "incident", &[("id", incident.to_owned()), ("log", log)])
}

/// What "Copy diagnostics" gives a person to send to whoever helps them: the app's version, the
/// system, the database (`kind` and `location`: a file path or `host:port/db`, never a password),
/// where the log is, and its last lines.
pub fn diagnostics(kind: &str, location: &str) -> String {
    let dir = crate::config::logs_dir().ok();
    let mut text = format!(
        "crm {}\nsystem: {} {}\ndatabase: {kind} {location}\nlog: {}\n\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        dir.as_deref().map(|d| d.display().to_string()).unwrap_or_default(),
    );
    for line in dir.as_deref().map(|d| tail(d, 60)).unwrap_or_default() {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_newest_files_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("crm.2026-12-01.log"), "old\n").unwrap();
        let lines: Vec<String> = (1..=100).map(|i| format!("line {i}")).collect();
        std::fs::write(dir.path().join("crm.2026-12-02.log"), lines.join("\n")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a log\n").unwrap();
        assert_eq!(tail(dir.path(), 2), ["line 99", "line 100"]);
        assert!(tail(&dir.path().join("missing"), 5).is_empty());
        // a long day's log: only its end is read, from a whole line
        let long: Vec<String> = (1..=20_000).map(|i| format!("entry {i} of a long day")).collect();
        std::fs::write(dir.path().join("crm.2026-12-03.log"), long.join("\n")).unwrap();
        let last = tail(dir.path(), 3000);
        assert!(last.len() < 3000 && last.iter().all(|l| l.starts_with("entry ")), "{:?}", &last[..2]);
        assert_eq!(last.last().map(String::as_str), Some("entry 20000 of a long day"));
    }

    #[test]
    fn an_incident_id_is_short_and_plain() {
        let id = incident(&"boom");
        assert!(id.starts_with("E-") && id.len() == 8, "{id}");
        assert!(id[2..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{id}");
    }
}
