//! Start-up and the database choice: the first-run screen ("this computer" or "office database"),
//! setting a new office database up with its owner's login, switching databases from the
//! settings page, and the language.
//!
//! The first-run screen shows while the config file names no database and none was given with
//! `--database-url` / `CRM_DATABASE_URL`. For an office the config file keeps only where the
//! server is (`[office]`): each person signs in to it as their own PostgreSQL role, so no
//! database password is kept on the computer, neither in the file nor in a keyring.

use serde::{Deserialize, Serialize};
use tauri::State;

use super::error::{Reply, UiError};
use super::secret;
use super::state::{DatabaseInfo, Desktop};
use crate::app::{Crm, Settings};
use crate::config::{
    default_sqlite_path, resolve_database_url, resolve_location, ConfigFile, Location, OfficeServer, Tls,
};
use crate::db::{Backend, Db};
use crate::error::{Error, FieldError};
use crate::i18n::Lang;
use crate::permission::Actor;

/// What the window shows first.
#[derive(Debug, Serialize)]
pub struct StartInfo {
    /// `choose_database`, `database_error`, `first_admin`, `sign_in`, `new_password` (signed in
    /// with a one-time password) or `signed_in`.
    pub stage: &'static str,
    pub lang: Lang,
    pub database: Option<DatabaseInfo>,
    pub user: Option<Actor>,
    pub error: Option<UiError>,
    /// Whether the URL was given at start (then settings cannot switch the database).
    pub fixed_url: bool,
}

/// The office (PostgreSQL) form, as typed: where the server is, nothing more.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficeInput {
    pub host: String,
    pub port: String,
    pub database: String,
    pub tls: Tls,
}

/// The database owner's login, typed once to set a new office database up; never kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OwnerLogin {
    pub username: String,
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
    /// The server, or field errors for the form (all at once). A host is a name or an address,
    /// never a URL: `/`, `?`, `@` and spaces are refused rather than changing what is reached.
    fn check(&self) -> Result<OfficeServer, Error> {
        let mut errors = Vec::new();
        let host = self.host.trim();
        if host.is_empty() {
            errors.push(FieldError::new("host", "required"));
        } else if host.contains(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '@' | '#')) {
            errors.push(FieldError::new("host", "host_invalid"));
        }
        if self.database.trim().is_empty() {
            errors.push(FieldError::new("database", "required"));
        }
        let port = match self.port.trim() {
            "" => Some(5432),
            text => text.parse::<u16>().ok().filter(|p| *p > 0),
        };
        if port.is_none() {
            errors.push(FieldError::new("port", "not_a_number"));
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(OfficeServer {
            host: host.to_owned(),
            port: port.unwrap_or(5432),
            database: self.database.trim().to_owned(),
            tls: self.tls,
            ca_file: None,
            // a config-file setting only (README: PgBouncer)
            pgbouncer: false,
        })
    }
}

fn describe_location(location: &Location, source: &'static str) -> DatabaseInfo {
    match location {
        Location::Office(server) => DatabaseInfo { kind: "postgres", location: server.describe(), source },
        Location::Url(url) => match Backend::of_url(url) {
            Ok(Backend::Postgres) => DatabaseInfo {
                kind: "postgres",
                location: OfficeServer::from_url(url).map(|s| s.describe()).unwrap_or_default(),
                source,
            },
            _ => DatabaseInfo {
                kind: "sqlite",
                location: url.trim_start_matches("sqlite://").trim_start_matches("sqlite:").to_owned(),
                source,
            },
        },
    }
}

impl Desktop {
    /// Makes `crm` the current database (closing the previous one) and signs out.
    async fn replace(&self, crm: Crm, info: DatabaseInfo) {
        super::backups::start_daily(&crm);
        let mut inner = self.inner.write().await;
        if let Some(old) = inner.crm.replace(crm) {
            old.db().close().await;
        }
        inner.database = Some(info);
        inner.actor = None;
    }

    /// Makes `crm`, opened at `location` from the settings, the current database.
    pub(super) async fn switch_to(&self, crm: Crm, location: &Location) {
        self.replace(crm, describe_location(location, "config")).await;
    }

    async fn open(&self, location: &Location, source: &'static str) -> Result<(), Error> {
        let settings = Settings::from_config(&ConfigFile::load()?)?;
        let crm = Crm::open_location(location, settings).await?;
        self.replace(crm, describe_location(location, source)).await;
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
                    let stage = if actor.must_change_password { "new_password" } else { "signed_in" };
                    info.user = Some(actor);
                    stage
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
            return match self.open(&Location::Url(url.clone()), "command_line").await {
                Ok(()) => None,
                Err(e) => Some(self.error_info(fail(e)).await),
            };
        }
        let file = match upgrade_shared_login(ConfigFile::load()).await {
            Ok(file) => file,
            Err(e) => return Some(self.error_info(fail(e)).await),
        };
        if file.office.is_none() && file.database_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return None;
        }
        let location = match resolve_location(None, &file) {
            Ok(location) => location,
            Err(e) => return Some(self.error_info(fail(e)).await),
        };
        match self.open(&location, "config").await {
            Ok(()) => None,
            Err(e) => Some(self.error_info(fail(e)).await),
        }
    }

    /// Refuses to switch databases when the URL was given at start: it would not survive a
    /// restart, and whoever started the app that way chose the database on purpose.
    pub(super) fn ensure_switchable(&self, lang: Lang) -> Reply<()> {
        match self.explicit_url {
            Some(_) => Err(UiError::other("database_fixed", crate::i18n::message(lang, "database_fixed", &[]))),
            None => Ok(()),
        }
    }

    async fn error_info(&self, error: UiError) -> StartInfo {
        let mut info = self.start_info(Some(error)).await;
        info.stage = "database_error";
        info
    }
}

/// A config file from before each person signed in as themselves named the office server with a
/// shared login (`database_url = "postgres://login@host/db"`, its password in the keyring). That
/// login is no longer used on staff computers: the file keeps only where the server is, and the
/// shared password leaves the keyring.
async fn upgrade_shared_login(file: Result<ConfigFile, Error>) -> Result<ConfigFile, Error> {
    let mut file = file?;
    let Some(url) = file.database_url.clone().filter(|u| Backend::of_url(u).ok() == Some(Backend::Postgres)) else {
        return Ok(file);
    };
    file.office = Some(OfficeServer::from_url(&url)?);
    file.database_url = None;
    file.save()?;
    secret::forget(url.split_once("://").map_or(url.as_str(), |(_, rest)| rest)).await;
    Ok(file)
}

pub(super) fn save_location(location: &Location) -> Result<(), Error> {
    let mut file = ConfigFile::load()?;
    match location {
        Location::Url(url) => {
            file.database_url = Some(url.to_owned());
            file.office = None;
        }
        Location::Office(server) => {
            file.office = Some(server.clone());
            file.database_url = None;
        }
    }
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

/// "Copy diagnostics" in Settings: version, system, database (no password), the log's last lines.
#[tauri::command(rename_all = "snake_case")]
pub async fn diagnostics(state: State<'_, Desktop>) -> Reply<String> {
    let info = state.start_info(None).await;
    let (kind, location) = info.database.map(|d| (d.kind, d.location)).unwrap_or(("none", String::new()));
    Ok(crate::logging::diagnostics(kind, &location))
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
    let location = Location::Url(resolve_database_url(None, &ConfigFile::default()).map_err(fail)?);
    let path = default_sqlite_path().map_err(fail)?;
    tracing::info!("local database at {}", path.display());
    state.open(&location, "config").await.map_err(fail)?;
    save_location(&location).map_err(fail)?;
    Ok(state.start_info(None).await)
}

/// "Test connection" on the office form: whether a PostgreSQL server answers there. Nobody has
/// signed in yet, so the test asks as a login that does not exist: a refused password is the
/// server's answer, and the success.
#[tauri::command(rename_all = "snake_case")]
pub async fn test_office_database(state: State<'_, Desktop>, input: OfficeInput) -> Reply<()> {
    let lang = state.lang().await;
    let server = state.office_server(&input, lang)?;
    let probe = server.connect_options("crm connection test", "-");
    match Db::connect_once(probe).await {
        Ok(()) => Ok(()),
        Err(Error::Database(sqlx::Error::Database(e))) if matches!(e.code().as_deref(), Some("28P01" | "28000")) => {
            Ok(())
        }
        Err(e) => Err(connection_error(lang, &e)),
    }
}

/// A failed connection test says why (host unreachable, wrong password...): no secret in it.
pub(super) fn connection_error(lang: Lang, error: &Error) -> UiError {
    let mut ui = UiError::from_core(lang, error);
    if let (None, Error::Database(e)) = (crate::i18n::database_problem(error), error) {
        // Anything unforeseen: the server's own words help whoever sets the office up.
        ui.message = crate::i18n::message(lang, "database_detail", &[("detail", e.to_string())]);
    }
    ui
}

/// "Office database": remembers where the server is; people sign in to it as themselves.
#[tauri::command(rename_all = "snake_case")]
pub async fn choose_office_database(state: State<'_, Desktop>, input: OfficeInput) -> Reply<StartInfo> {
    let lang = state.lang().await;
    state.ensure_switchable(lang)?;
    let location = Location::Office(state.office_server(&input, lang)?);
    state.open(&location, "config").await.map_err(|e| connection_error(lang, &e))?;
    save_location(&location).map_err(|e| UiError::from_core(lang, &e))?;
    Ok(state.start_info(None).await)
}

/// "Set up a new office database": the database owner's login, typed once, brings the schema up
/// to date (and the server roles with it); the first administrator is created next. The login
/// is held only until then, never saved.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_up_office_database(
    state: State<'_, Desktop>,
    input: OfficeInput,
    owner: OwnerLogin,
) -> Reply<StartInfo> {
    let lang = state.lang().await;
    state.ensure_switchable(lang)?;
    let server = state.office_server(&input, lang)?;
    if owner.username.trim().is_empty() {
        return Err(UiError::from_core(lang, &Error::field("owner_username", "required")));
    }
    let settings =
        ConfigFile::load().and_then(|f| Settings::from_config(&f)).map_err(|e| UiError::from_core(lang, &e))?;
    let crm = Crm::open_as_owner(&server, owner.username.trim(), &owner.password, settings.clone())
        .await
        .map_err(|e| connection_error(lang, &e))?;
    let location = Location::Office(server.clone());
    save_location(&location).map_err(|e| UiError::from_core(lang, &e))?;
    let has_users = crm.has_users().await.map_err(|e| UiError::from_core(lang, &e))?;
    if has_users {
        // an update of an existing office: the owner's connection is not needed any more
        crm.db().close().await;
        state.replace(Crm::open_office(&server, settings), describe_location(&location, "config")).await;
    } else {
        state.replace(crm, describe_location(&location, "config")).await;
    }
    Ok(state.start_info(None).await)
}

/// "Certificate authority…" on the office form: the native open dialog for the CA that signed the
/// office server's certificate (offices with their own CA and `verify-full`). Returns the file's
/// name to show; the path stays on the Rust side until the form is saved.
#[tauri::command(rename_all = "snake_case")]
pub async fn pick_ca_file(app: tauri::AppHandle, state: State<'_, Desktop>) -> Reply<Option<String>> {
    let lang = state.lang().await;
    let path: Option<std::path::PathBuf> = match super::documents::e2e_seam("CRM_E2E_PICK_CA") {
        Some(path) => Some(path.into()),
        None => super::documents::on_dialog_thread(&app, |d| {
            Box::pin(d.add_filter("PEM (.pem, .crt, .cer)", &["pem", "crt", "cer"]).pick_file())
        })
        .await
        .flatten()
        .map(|file| file.path().to_path_buf()),
    };
    let Some(path) = path else { return Ok(None) };
    let path = crate::config::check_ca_file(&path).map_err(|e| UiError::from_core(lang, &Error::Invalid(vec![e])))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    *state.picked_ca.lock().map_err(|e| UiError::other("internal", e.to_string()))? = Some(path);
    Ok(Some(name))
}

impl Desktop {
    /// The office form's server, with the certificate authority picked for it, if any.
    pub(super) fn office_server(&self, input: &OfficeInput, lang: Lang) -> Reply<OfficeServer> {
        let mut server = input.check().map_err(|e| UiError::from_core(lang, &e))?;
        server.ca_file = self.picked_ca.lock().map_err(|e| UiError::other("internal", e.to_string()))?.clone();
        Ok(server)
    }
}

/// After the first administrator of a new office database exists, the owner's connection that
/// created them is closed: from now on everyone, the administrator included, signs in as
/// themselves.
pub async fn forget_owner_login(state: &Desktop) -> Result<(), Error> {
    let file = ConfigFile::load()?;
    let (Some(server), None) = (file.office.clone(), &state.explicit_url) else { return Ok(()) };
    let settings = Settings::from_config(&file)?;
    let mut inner = state.inner.write().await;
    if inner.crm.as_ref().is_some_and(|crm| !crm.is_gateway()) {
        if let Some(old) = inner.crm.replace(Crm::open_office(&server, settings)) {
            old.db().close().await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_office_form_names_a_server_never_a_url() {
        let input =
            OfficeInput {
                host: " db.office ".into(), port: "".into(), database: "crm офис".into(), tls: Tls::Require
            };
        let server = input.check().unwrap();
        assert_eq!((server.host.as_str(), server.port, server.database.as_str()), ("db.office", 5432, "crm офис"));
        let options = server.connect_options("crm_анна", "p@ss:w/rd?");
        assert_eq!(
            (options.get_host(), options.get_username(), options.get_database()),
            ("db.office", "crm_анна", Some("crm офис"))
        );
        for host in ["db/other", "evil@db", "db?sslmode=disable", "db office"] {
            let Err(Error::Invalid(errors)) = OfficeInput { host: host.into(), ..input.clone() }.check() else {
                panic!("{host} accepted");
            };
            assert_eq!(errors[0].field, "host");
        }
    }

    #[test]
    fn the_office_form_reports_every_missing_field() {
        let Err(Error::Invalid(errors)) = OfficeInput { port: "x".into(), ..Default::default() }.check() else {
            panic!("expected field errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["host", "database", "port"]);
    }

    #[test]
    fn a_shared_login_url_becomes_the_server_alone() {
        let server = OfficeServer::from_url("postgres://office:secret@db.office:5433/crm?sslmode=require").unwrap();
        assert_eq!(server.describe(), "db.office:5433/crm");
        assert_eq!(server.tls, Tls::Require);
    }
}
