//! Start-up and the database choice: the first-run screen ("this computer" or "office database"),
//! the password prompt when no keyring holds it, switching databases from the settings page, and
//! the language.
//!
//! The first-run screen shows while the config file names no database and none was given with
//! `--database-url` / `CRM_DATABASE_URL`. The config file keeps `postgres://user@host:port/db`
//! without the password; the password goes to the OS keyring (see `secret.rs`).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use tauri::State;

use super::error::{Reply, UiError};
use super::secret;
use super::state::{DatabaseInfo, Desktop};
use crate::app::Crm;
use crate::config::{default_sqlite_path, redact_url, resolve_database_url, ConfigFile};
use crate::db::{Backend, Db};
use crate::error::{Error, FieldError};
use crate::i18n::Lang;
use crate::permission::Actor;

/// What the window shows first.
#[derive(Debug, Serialize)]
pub struct StartInfo {
    /// `choose_database`, `password`, `database_error`, `first_admin`, `sign_in` or `signed_in`.
    pub stage: &'static str,
    pub lang: Lang,
    pub database: Option<DatabaseInfo>,
    pub user: Option<Actor>,
    pub error: Option<UiError>,
    /// The office database waiting for its password (stage `password`).
    pub office: Option<OfficeInput>,
    /// Whether the URL was given at start (then settings cannot switch the database).
    pub fixed_url: bool,
}

/// The office (PostgreSQL) form, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficeInput {
    pub host: String,
    pub port: String,
    pub database: String,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
}

/// The language from the OS locale: `LC_ALL`, `LC_MESSAGES`, `LANG` where set (Unix), else what
/// the system reports (Windows and macOS set no such variables); Russian by default.
pub fn os_language() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .or_else(sys_locale::get_locale)
        .map_or(Lang::Ru, |locale| Lang::from_locale(&locale))
}

/// The remembered language, else the OS one.
pub fn initial_language() -> Lang {
    match ConfigFile::load().ok().and_then(|f| f.language) {
        Some(code) if code == "en" => Lang::En,
        Some(code) if code == "ru" => Lang::Ru,
        _ => os_language(),
    }
}

impl OfficeInput {
    /// Field errors for the form (all at once).
    fn check(&self) -> Result<u16, Error> {
        let mut errors = Vec::new();
        for (field, value) in [("host", &self.host), ("database", &self.database), ("username", &self.username)] {
            if value.trim().is_empty() {
                errors.push(FieldError::new(field, "required"));
            }
        }
        let port = match self.port.trim() {
            "" => Some(5432),
            text => text.parse::<u16>().ok().filter(|p| *p > 0),
        };
        if port.is_none() {
            errors.push(FieldError::new("port", "not_a_number"));
        }
        if errors.is_empty() {
            Ok(port.unwrap_or(5432))
        } else {
            Err(Error::Invalid(errors))
        }
    }

    /// `user@host:port/db`: the config file's URL without the scheme, and the keyring account.
    fn account(&self, port: u16) -> String {
        format!("{}@{}:{port}/{}", encode(self.username.trim()), self.host.trim(), encode(self.database.trim()))
    }

    /// The form for a `postgres://user@host:port/db` URL of the config file (names decoded).
    fn from_url(url: &str) -> Self {
        let Ok(url) = url::Url::parse(url) else { return Self::default() };
        let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
        Self {
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port().unwrap_or(5432).to_string(),
            database: decode(url.path().trim_start_matches('/')),
            username: decode(url.username()),
            password: String::new(),
        }
    }
}

/// What a user name, password or database name may keep unencoded in a URL: RFC 3986's
/// unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

fn with_password(account: &str, password: &str) -> String {
    match account.split_once('@') {
        Some((user, rest)) if !password.is_empty() => format!("postgres://{user}:{}@{rest}", encode(password)),
        _ => format!("postgres://{account}"),
    }
}

fn has_password(url: &str) -> bool {
    redact_url(url) != url
}

fn describe(url: &str, source: &'static str, keyring: bool) -> DatabaseInfo {
    match Backend::of_url(url) {
        Ok(Backend::Postgres) => DatabaseInfo {
            kind: "postgres",
            location: redact_url(url).split_once("://").map_or(String::new(), |(_, r)| r.replace(":***", "")),
            source,
            keyring,
        },
        _ => DatabaseInfo {
            kind: "sqlite",
            location: url.trim_start_matches("sqlite://").trim_start_matches("sqlite:").to_owned(),
            source,
            keyring,
        },
    }
}

impl Desktop {
    /// Opens `url` as the current database (closing the previous one) and signs out.
    async fn open(&self, url: &str, info: DatabaseInfo) -> Result<(), Error> {
        let settings = crate::cli::settings(&ConfigFile::load()?)?;
        let crm = Crm::open(url, settings).await?;
        let mut inner = self.inner.write().await;
        if let Some(old) = inner.crm.replace(crm) {
            old.db().close().await;
        }
        inner.database = Some(info);
        inner.actor = None;
        Ok(())
    }

    /// Where the window stands now, for the UI to pick its screen.
    async fn start_info(&self, error: Option<UiError>) -> StartInfo {
        let inner = self.inner.read().await;
        let lang = inner.lang;
        let mut info = StartInfo {
            stage: "choose_database",
            lang,
            database: inner.database.clone(),
            user: None,
            error,
            office: None,
            fixed_url: self.explicit_url.is_some(),
        };
        let Some(crm) = inner.crm.clone() else {
            return info;
        };
        let signed_in = inner.actor.clone();
        drop(inner);
        info.stage = match signed_in {
            Some(actor) => match crm.refresh(&actor).await {
                Ok(actor) => {
                    info.user = Some(actor);
                    "signed_in"
                }
                Err(_) => "sign_in",
            },
            None => match crm.has_users().await {
                Ok(true) => "sign_in",
                Ok(false) => "first_admin",
                Err(e) => {
                    info.error = Some(UiError::from_core(lang, &e));
                    "database_error"
                }
            },
        };
        info
    }

    /// Opens the database the start-up settings name, unless one is open already.
    async fn open_configured(&self) -> Option<StartInfo> {
        let lang = self.lang().await;
        let fail = |e: Error| UiError::from_core(lang, &e);
        if let Some(url) = &self.explicit_url {
            return match self.open(url, describe(url, "command_line", false)).await {
                Ok(()) => None,
                Err(e) => Some(self.error_info(fail(e)).await),
            };
        }
        let file = match ConfigFile::load() {
            Ok(file) => file,
            Err(e) => return Some(self.error_info(fail(e)).await),
        };
        let url = file.database_url.clone().filter(|u| !u.trim().is_empty())?;
        let result = if Backend::of_url(&url).ok() == Some(Backend::Postgres) && !has_password(&url) {
            let account = url.split_once("://").map_or(url.as_str(), |(_, r)| r).to_owned();
            match secret::load(&account).await {
                Some(password) => {
                    match self.open(&with_password(&account, &password), describe(&url, "config", true)).await {
                        // The server refused the kept password (changed on the server): ask again.
                        Err(Error::Database(sqlx::Error::Database(e))) if e.code().as_deref() == Some("28P01") => {
                            let mut info = self.start_info(None).await;
                            info.stage = "password";
                            info.office = Some(OfficeInput::from_url(&url));
                            return Some(info);
                        }
                        other => other,
                    }
                }
                // No password kept: the server may not need one (local trust); else ask for it.
                None => match self.open(&url, describe(&url, "config", false)).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        tracing::info!("office database without a password: {e}");
                        let mut info = self.start_info(None).await;
                        info.stage = "password";
                        info.office = Some(OfficeInput::from_url(&url));
                        return Some(info);
                    }
                },
            }
        } else {
            self.open(&url, describe(&url, "config", false)).await
        };
        match result {
            Ok(()) => None,
            Err(e) => Some(self.error_info(fail(e)).await),
        }
    }

    /// Refuses to switch databases when the URL was given at start: it would not survive a
    /// restart, and whoever started the app that way chose the database on purpose.
    fn ensure_switchable(&self, lang: Lang) -> Reply<()> {
        match self.explicit_url {
            Some(_) => Err(UiError::other("database_fixed", crate::i18n::message(lang, "database_fixed", &[]))),
            None => Ok(()),
        }
    }

    async fn set_keyring(&self, keyring: bool) {
        if let Some(info) = self.inner.write().await.database.as_mut() {
            info.keyring = keyring;
        }
    }

    async fn error_info(&self, error: UiError) -> StartInfo {
        let mut info = self.start_info(Some(error)).await;
        info.stage = "database_error";
        info
    }
}

fn save_database_url(url: &str) -> Result<(), Error> {
    let mut file = ConfigFile::load()?;
    file.database_url = Some(url.to_owned());
    file.save()
}

/// First call of the window: opens the configured database (or not) and says which screen to show.
#[tauri::command(rename_all = "snake_case")]
pub async fn app_start(state: State<'_, Desktop>) -> Reply<StartInfo> {
    if state.inner.read().await.crm.is_none() {
        if let Some(info) = state.open_configured().await {
            return Ok(info);
        }
    }
    Ok(state.start_info(None).await)
}

/// Sets and remembers the language.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_language(state: State<'_, Desktop>, lang: Lang) -> Reply<()> {
    state.inner.write().await.lang = lang;
    let mut file = ConfigFile::load().map_err(|e| UiError::from_core(lang, &e))?;
    file.language = Some(if lang == Lang::En { "en" } else { "ru" }.to_owned());
    file.save().map_err(|e| UiError::from_core(lang, &e))
}

/// "This computer": a SQLite file in the OS data directory.
#[tauri::command(rename_all = "snake_case")]
pub async fn choose_local_database(state: State<'_, Desktop>) -> Reply<StartInfo> {
    let lang = state.lang().await;
    state.ensure_switchable(lang)?;
    let fail = |e: Error| UiError::from_core(lang, &e);
    let url = resolve_database_url(None, &ConfigFile::default()).map_err(fail)?;
    let path = default_sqlite_path().map_err(fail)?;
    tracing::info!("local database at {}", path.display());
    state.open(&url, describe(&url, "config", false)).await.map_err(fail)?;
    save_database_url(&url).map_err(fail)?;
    Ok(state.start_info(None).await)
}

/// "Test connection" on the office form: connects and disconnects, changing nothing.
#[tauri::command(rename_all = "snake_case")]
pub async fn test_office_database(state: State<'_, Desktop>, input: OfficeInput) -> Reply<()> {
    let lang = state.lang().await;
    let port = input.check().map_err(|e| UiError::from_core(lang, &e))?;
    let url = with_password(&input.account(port), &input.password);
    let db = Db::connect(&url).await.map_err(|e| connection_error(lang, &e))?;
    db.close().await;
    Ok(())
}

/// A failed connection test says why (host unreachable, wrong password...): no secret in it.
fn connection_error(lang: Lang, error: &Error) -> UiError {
    let mut ui = UiError::from_core(lang, error);
    if let (None, Error::Database(e)) = (crate::i18n::database_problem(error), error) {
        // Anything unforeseen: the server's own words help whoever sets the office up.
        ui.message = crate::i18n::message(lang, "database_detail", &[("detail", e.to_string())]);
    }
    ui
}

/// "Office database": connects, brings the schema up to date, keeps the password in the keyring
/// and the rest in the config file.
#[tauri::command(rename_all = "snake_case")]
pub async fn choose_office_database(state: State<'_, Desktop>, input: OfficeInput) -> Reply<StartInfo> {
    let lang = state.lang().await;
    state.ensure_switchable(lang)?;
    let port = input.check().map_err(|e| UiError::from_core(lang, &e))?;
    let account = input.account(port);
    let url = with_password(&account, &input.password);
    let plain = format!("postgres://{account}");
    state.open(&url, describe(&plain, "config", false)).await.map_err(|e| connection_error(lang, &e))?;
    // Kept only once it has worked: a mistyped password must not be remembered.
    let keyring = !input.password.is_empty() && secret::store(&account, &input.password).await;
    state.set_keyring(keyring).await;
    save_database_url(&plain).map_err(|e| UiError::from_core(lang, &e))?;
    Ok(state.start_info(None).await)
}

/// The office password typed at start, when no keyring holds it.
#[tauri::command(rename_all = "snake_case")]
pub async fn unlock_office_database(state: State<'_, Desktop>, password: String) -> Reply<StartInfo> {
    let lang = state.lang().await;
    let file = ConfigFile::load().map_err(|e| UiError::from_core(lang, &e))?;
    let url = file.database_url.unwrap_or_default();
    let account = url.split_once("://").map_or(url.as_str(), |(_, r)| r).to_owned();
    state
        .open(&with_password(&account, &password), describe(&url, "config", false))
        .await
        .map_err(|e| connection_error(lang, &e))?;
    let keyring = secret::store(&account, &password).await;
    state.set_keyring(keyring).await;
    Ok(state.start_info(None).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_urls_keep_the_password_out_of_the_account() {
        let input = OfficeInput {
            host: "db.office".into(),
            port: "".into(),
            database: "crm".into(),
            username: "anna".into(),
            password: "p@ss:w/rd".into(),
        };
        let account = input.account(input.check().unwrap());
        assert_eq!(account, "anna@db.office:5432/crm");
        assert_eq!(with_password(&account, "p@ss:w/rd"), "postgres://anna:p%40ss%3Aw%2Frd@db.office:5432/crm");
        assert!(!has_password(&format!("postgres://{account}")));
        let back = OfficeInput::from_url("postgres://anna@db.office:5433/crm");
        assert_eq!((back.host.as_str(), back.port.as_str(), back.database.as_str()), ("db.office", "5433", "crm"));
        // names that need encoding come back as typed
        let input = OfficeInput { username: "анна".into(), database: "crm офис".into(), ..input };
        let back = OfficeInput::from_url(&format!("postgres://{}", input.account(5432)));
        assert_eq!((back.username.as_str(), back.database.as_str(), back.port.as_str()), ("анна", "crm офис", "5432"));
    }

    #[test]
    fn the_office_form_reports_every_missing_field() {
        let Err(Error::Invalid(errors)) = OfficeInput { port: "x".into(), ..Default::default() }.check() else {
            panic!("expected field errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["host", "database", "username", "port"]);
    }
}
