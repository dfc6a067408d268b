//! The command line: the same binary as the app. Without a subcommand it opens the window.

use clap::{Parser, Subcommand};

use crate::app::{Crm, Settings};
use crate::config::{redact_url, resolve_database_url, ConfigFile};
use crate::domain::contact::parse_region;
use crate::error::{Error, Result};
use crate::i18n::{error_message, Lang};

#[derive(Parser, Debug)]
#[command(name = "crm", version, about = "CRM for services, ad campaigns, leads, contracts and clients")]
pub struct Cli {
    /// Database URL: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    /// [default: a SQLite file in the OS data directory]
    #[arg(long, env = "CRM_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create or update the database schema.
    Migrate,
    /// Create the first administrator (only while the database has no users).
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Administrator")]
        full_name: String,
    },
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let lang = Lang::from_locale(&std::env::var("LANG").unwrap_or_default());
    let Some(command) = cli.command else {
        return open_window(cli.database_url);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crm: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.database_url, command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            if let Error::Database(e) = &error {
                tracing::error!("{e}");
                eprintln!("crm: {}: {e}", error_message(lang, &error));
            } else {
                eprintln!("crm: {}", error_message(lang, &error));
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "desktop")]
fn open_window(database_url: Option<String>) -> std::process::ExitCode {
    crate::desktop::run(database_url)
}

#[cfg(not(feature = "desktop"))]
fn open_window(_database_url: Option<String>) -> std::process::ExitCode {
    eprintln!("crm: this build has no window (built without the `desktop` feature); see `crm --help`");
    std::process::ExitCode::FAILURE
}

/// Settings from the config file.
pub fn settings(file: &ConfigFile) -> Result<Settings> {
    let mut settings = Settings::default();
    if let Some(code) = file.phone_region.as_deref() {
        settings.phone_region =
            parse_region(code).ok_or_else(|| Error::Config(format!("unknown phone_region {code:?}")))?;
    }
    Ok(settings)
}

async fn open(database_url: Option<String>) -> Result<Crm> {
    let file = ConfigFile::load()?;
    let url = resolve_database_url(database_url.as_deref(), &file)?;
    tracing::info!("database: {}", redact_url(&url));
    Crm::open(&url, settings(&file)?).await
}

fn read_secret(env: &str, prompt: &str) -> Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    rpassword::prompt_password(prompt)
        .map_err(|e| Error::Config(format!("cannot read the password ({env} is not set): {e}")))
}

async fn run(database_url: Option<String>, command: Command) -> Result<()> {
    match command {
        Command::Migrate => {
            let crm = open(database_url).await?;
            println!("database is up to date ({:?})", crm.db().backend());
        }
        Command::CreateAdmin { username, full_name } => {
            let crm = open(database_url).await?;
            let password = read_secret("CRM_ADMIN_PASSWORD", "Password for the new administrator: ")?;
            let actor = crm.create_first_admin(&username, &full_name, &password).await?;
            println!("administrator {} created", actor.username);
        }
    }
    Ok(())
}
