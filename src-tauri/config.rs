//! Where the database is: `--database-url`, then `CRM_DATABASE_URL`, then the config file, then a
//! SQLite file in the OS data directory.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The settings file (`config.toml` in the OS config directory).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    /// `sqlite:PATH`, or (for the database owner's tools) `postgres://OWNER:PASSWORD@HOST/DB`.
    pub database_url: Option<String>,
    /// The office PostgreSQL server, where each person signs in as themselves: no login or
    /// password is kept here.
    pub office: Option<OfficeServer>,
    /// Region for phone numbers without a country code, e.g. `RU`.
    pub phone_region: Option<String>,
    /// Accept contract documents that can run code (PDF scripts, Word macros); off by default.
    pub allow_active_documents: Option<bool>,
    /// Contracts whose validity ends within this many days are shown as expiring (default 30).
    pub expiring_days: Option<u32>,
    /// `ru` or `en`.
    pub language: Option<String>,
    /// The prefix of the office database's PostgreSQL roles, when a server holds two CRM
    /// databases (default `crm`; also `CRM_ROLE_PREFIX`).
    pub role_prefix: Option<String>,
}

/// Where an office's PostgreSQL server is: only where, never who. Each person connects as their
/// own login role with their own password when they sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeServer {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub database: String,
    #[serde(default)]
    pub tls: Tls,
    /// The certificate authority that signed the server's certificate (`verify-full`), when it
    /// is not one the system trusts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The address is a PgBouncer in transaction mode older than 1.21 (Debian 12 ships 1.18),
    /// which cannot keep prepared statements between transactions: statements are then prepared
    /// unnamed inside each transaction, and no `extra_float_digits` is sent at connection. Not
    /// needed with PgBouncer 1.21+ and `max_prepared_statements` above 0 (the default from
    /// 1.22), nor in session mode.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pgbouncer: bool,
}

fn default_port() -> u16 {
    5432
}

/// TLS to the office server, as libpq's `sslmode` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tls {
    /// No TLS: a trusted network only.
    Disable,
    /// TLS when the server offers it.
    #[default]
    Prefer,
    /// TLS always, without checking whose certificate it is.
    Require,
    /// TLS with the server's certificate and name checked.
    VerifyFull,
}

impl OfficeServer {
    /// Connection options built from the fields (never a URL assembled from them), for the user
    /// `username` with `password`.
    pub fn connect_options(&self, username: &str, password: &str) -> sqlx::postgres::PgConnectOptions {
        use sqlx::postgres::{PgConnectOptions, PgSslMode};
        let mode = match self.tls {
            Tls::Disable => PgSslMode::Disable,
            Tls::Prefer => PgSslMode::Prefer,
            Tls::Require => PgSslMode::Require,
            Tls::VerifyFull => PgSslMode::VerifyFull,
        };
        let mut options = PgConnectOptions::new_without_pgpass()
            .host(self.host.trim())
            .port(self.port)
            .database(self.database.trim())
            .username(username)
            .password(password)
            .ssl_mode(mode)
            .application_name("crm");
        if let Some(ca) = &self.ca_file {
            options = options.ssl_root_cert(ca);
        }
        if self.pgbouncer {
            // PgBouncer refuses startup parameters it does not know (`ignore_startup_parameters`)
            options = options.statement_cache_capacity(0).extra_float_digits(None);
        }
        options
    }

    /// `host:port/database`, for the settings page and messages.
    pub fn describe(&self) -> String {
        format!("{}:{}/{}", self.host.trim(), self.port, self.database.trim())
    }

    /// The server of a `postgres://` URL, without its login (an office set up before each person
    /// signed in as themselves kept `postgres://login@host/db` here).
    pub fn from_url(url: &str) -> Result<Self> {
        let options: sqlx::postgres::PgConnectOptions =
            url.parse().map_err(|e| Error::Config(format!("bad PostgreSQL URL: {e}")))?;
        let tls = match options.get_ssl_mode() {
            sqlx::postgres::PgSslMode::Disable | sqlx::postgres::PgSslMode::Allow => Tls::Disable,
            sqlx::postgres::PgSslMode::Prefer => Tls::Prefer,
            sqlx::postgres::PgSslMode::Require => Tls::Require,
            _ => Tls::VerifyFull,
        };
        Ok(Self {
            host: options.get_host().to_owned(),
            port: options.get_port(),
            database: options.get_database().unwrap_or("crm").to_owned(),
            tls,
            ca_file: None,
            pgbouncer: false,
        })
    }
}

/// Checks a certificate authority file picked for an office server: readable, at most 1 MB, and
/// holding a PEM certificate. Returns its absolute path, to keep in the settings.
pub fn check_ca_file(path: &Path) -> Result<PathBuf, crate::error::FieldError> {
    use crate::error::FieldError;
    use std::io::Read as _;
    let unreadable = |_| FieldError::new("ca_file", "file_unreadable");
    let path = path.canonicalize().map_err(unreadable)?;
    let mut text = String::new();
    std::fs::File::open(&path).map_err(unreadable)?.take(1024 * 1024).read_to_string(&mut text).map_err(unreadable)?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(FieldError::new("ca_file", "ca_file_invalid"));
    }
    Ok(path)
}

/// The database a command or the window opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A URL with everything needed to connect: a SQLite file, or PostgreSQL with a login (the
    /// database owner's, for migrations and set-up).
    Url(String),
    /// An office server that people sign in to as themselves.
    Office(OfficeServer),
}

/// What to open, by precedence: `--database-url` / `CRM_DATABASE_URL`, the office server of the
/// config file, its `database_url`, then the default SQLite file (its folder created).
pub fn resolve_location(explicit: Option<&str>, file: &ConfigFile) -> Result<Location> {
    if explicit.is_none_or(|u| u.trim().is_empty()) {
        if let Some(office) = &file.office {
            return Ok(Location::Office(office.clone()));
        }
    }
    resolve_database_url(explicit, file).map(Location::Url)
}

fn project_dirs() -> Result<ProjectDirs> {
    ProjectDirs::from("ru", "crm", "crm").ok_or_else(|| Error::Config("no home directory to keep data in".into()))
}

pub fn config_path() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("CRM_CONFIG_DIR") {
        return Ok(PathBuf::from(dir).join("config.toml"));
    }
    Ok(project_dirs()?.config_dir().join("config.toml"))
}

/// The default embedded database: `crm.db` in the OS data directory (created on first use).
pub fn default_sqlite_path() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("CRM_DATA_DIR") {
        return Ok(PathBuf::from(dir).join("crm.db"));
    }
    Ok(project_dirs()?.data_dir().join("crm.db"))
}

/// Where backups of local databases are kept: `backups` in the OS data directory (beside the
/// default database; `CRM_DATA_DIR/backups` when that is set).
pub fn backups_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("CRM_DATA_DIR") {
        return Ok(PathBuf::from(dir).join("backups"));
    }
    Ok(project_dirs()?.data_dir().join("backups"))
}

/// Where the log files are written: `logs` in the OS data directory (`CRM_DATA_DIR/logs` when
/// that is set).
pub fn logs_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("CRM_DATA_DIR") {
        return Ok(PathBuf::from(dir).join("logs"));
    }
    Ok(project_dirs()?.data_dir().join("logs"))
}

/// Where opened documents are copied for the system's viewer: the user's own cache directory
/// (`CRM_DATA_DIR/documents` when that is set, as in tests), never a shared temp folder.
pub fn documents_cache_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("CRM_DATA_DIR") {
        return Ok(PathBuf::from(dir).join("documents"));
    }
    Ok(project_dirs()?.cache_dir().join("documents"))
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

impl ConfigFile {
    pub fn load() -> Result<Self> {
        let path = config_path()?;
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                // one line: where, and what (the crate's own report draws the line with a caret)
                let line = e.span().map_or(0, |span| text[..span.start.min(text.len())].matches('\n').count() + 1);
                let what = e.message().lines().next().unwrap_or_default().to_owned();
                Error::Config(format!("{}, line {line}: {what}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::Config(format!("{}: {e}", path.display()))),
        }
    }

    pub fn save(&self) -> Result<()> {
        let path = config_path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
        }
        let text = toml::to_string_pretty(self).map_err(|e| Error::Config(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }
}

/// The database URL to use, by precedence; creates the data directory for the default SQLite file.
pub fn resolve_database_url(explicit: Option<&str>, file: &ConfigFile) -> Result<String> {
    if let Some(url) = explicit.filter(|u| !u.trim().is_empty()) {
        return Ok(url.trim().to_owned());
    }
    if let Some(url) = file.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Ok(url.trim().to_owned());
    }
    let path = default_sqlite_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    }
    Ok(sqlite_url(&path))
}

/// A URL with its password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_from_printed_urls() {
        assert_eq!(redact_url("postgres://crm:s3cret@db.office:5432/crm"), "postgres://crm:***@db.office:5432/crm");
        assert_eq!(redact_url("sqlite:///home/a/crm.db"), "sqlite:///home/a/crm.db");
    }

    #[test]
    fn explicit_url_wins_over_the_file() {
        let file = ConfigFile { database_url: Some("sqlite://b.db".into()), ..Default::default() };
        assert_eq!(resolve_database_url(Some("postgres://x/y"), &file).unwrap(), "postgres://x/y");
        assert_eq!(resolve_database_url(None, &file).unwrap(), "sqlite://b.db");
    }
}
