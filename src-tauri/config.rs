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
    /// `sqlite:PATH` or `postgres://USER@HOST:PORT/DB` (the password lives in the OS keyring).
    pub database_url: Option<String>,
    /// Region for phone numbers without a country code, e.g. `RU`.
    pub phone_region: Option<String>,
    /// `ru` or `en`.
    pub language: Option<String>,
    /// The prefix of the office database's PostgreSQL roles, when a server holds two CRM
    /// databases (default `crm`; also `CRM_ROLE_PREFIX`).
    pub role_prefix: Option<String>,
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
