//! The command line: the same binary as the app. Without a subcommand it opens the window.

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use rust_decimal::RoundingStrategy::MidpointAwayFromZero;

use crate::app::{Crm, Settings};
use crate::config::{redact_url, resolve_location, ConfigFile, Location};
use crate::demo::DemoOptions;
use crate::domain::id::{ChannelId, ServiceId};
use crate::error::{Error, Result};
use crate::i18n::{error_message, Lang};
use crate::stats::{CampaignStats, Figures, StatsFilter};

/// Prints a line to stdout; a closed pipe (`crm stats | head`) ends the program quietly instead
/// of panicking as `println!` would.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod agenda;
mod backup;
mod export;
mod import;
mod users;

/// `text` safe to print on a terminal: control characters (ESC, BEL, NUL, ...) and the bidi
/// controls that reorder what follows them are shown as U+FFFD, so nothing read from the
/// database can move the cursor, recolour the terminal or disguise the rest of the line.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || crate::domain::text::is_bidi_control(c) { '\u{fffd}' } else { c })
        .collect()
}

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
    /// Campaign statistics, as the given user sees them (password from CRM_PASSWORD or a prompt).
    Stats {
        /// The user whose permissions apply.
        #[arg(long)]
        user: String,
        /// First day of the period, YYYY-MM-DD.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day of the period, YYYY-MM-DD.
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Only campaigns of this channel id.
        #[arg(long)]
        channel: Option<ChannelId>,
        /// Only campaigns of this service id.
        #[arg(long)]
        service: Option<ServiceId>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Recompute the figures from the records and report every campaign and day where the
        /// kept roll-ups differ (exit status 1 if any).
        #[arg(long, conflicts_with_all = ["rebuild", "from", "to", "channel", "service"])]
        verify: bool,
        /// Make the roll-ups again from the records (administrators).
        #[arg(long, conflicts_with_all = ["from", "to", "channel", "service", "json"])]
        rebuild: bool,
    },
    /// Your open tasks, overdue first, and the contracts that run out soon (password from
    /// CRM_PASSWORD or a prompt).
    Agenda {
        #[arg(long)]
        user: String,
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
    },
    /// Fill the database with realistic generated data (deterministic for a seed).
    Demo {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many leads to generate.
        #[arg(long, default_value_t = 2000)]
        leads: u64,
        /// Last day of the generated year, YYYY-MM-DD [default: today].
        #[arg(long)]
        anchor: Option<NaiveDate>,
        /// Add to a database that already holds business data.
        #[arg(long)]
        append: bool,
        /// The administrator adding the data, on a database that has users (password from
        /// CRM_PASSWORD or a prompt).
        #[arg(long)]
        user: Option<String>,
        /// Add to a database where other people than that administrator work.
        #[arg(long)]
        with_other_users: bool,
    },
    /// Users: add, list, deactivate (as an administrator).
    Users {
        #[command(subcommand)]
        command: users::UsersCommand,
    },
    /// Change your own password (current from CRM_PASSWORD or a prompt, the new one from
    /// CRM_NEW_PASSWORD or a prompt).
    Password {
        #[arg(long)]
        user: String,
    },
    /// Import leads, services, campaigns or clients (with their contracts) from a CSV, XLSX, XLS or ODS file, as the given user
    /// (password from CRM_PASSWORD or a prompt).
    Import(import::ImportArgs),
    /// Export a list (with its filters) or the statistics to XLSX or CSV, as the given user sees
    /// them (password from CRM_PASSWORD or a prompt).
    Export(export::ExportArgs),
    /// Back up the database into one file (a local database by default into the backups folder;
    /// an office database with the owner's login in --database-url).
    Backup {
        /// Where to write the backup [default: the backups folder beside the local database].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Replace everything in the database with a backup (the current contents are kept aside
    /// as a backup first).
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Copy this computer's local database into an empty office database on PostgreSQL and
    /// switch this computer to it.
    Move {
        /// The office database with its owner's login: postgres://OWNER:PASSWORD@HOST[:PORT]/DB
        #[arg(long)]
        to: String,
    },
    /// An office database on PostgreSQL (with the database owner's login in --database-url).
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum OfficeCommand {
    /// Upgrade an office that signed in through one shared login: bring the schema up to date
    /// (each user becomes a PostgreSQL login role) and print a one-time password for every user,
    /// with which they choose their own at their next sign-in.
    Upgrade,
    /// Create the trigram indexes of substring search (pg_trgm), where the migration found the
    /// extension missing: run once a superuser has installed it (Debian: postgresql-contrib).
    SearchIndexes,
}

pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line, as every other error of the CLI: clap's first line says what is wrong.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default().trim_start_matches("error: ");
            eprintln!("crm: {first} (see `crm --help`)");
            return std::process::ExitCode::from(2);
        }
    };
    #[cfg(feature = "desktop")]
    if cli.command.is_none() {
        crate::desktop::before_start();
    }
    let lang = Lang::from_locale(&std::env::var("LANG").unwrap_or_default());
    let _logging = crate::logging::init(crate::config::logs_dir().ok().as_deref());
    let Some(command) = cli.command else {
        return open_window(cli.database_url, lang);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crm: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.database_url, command, lang)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            match &error {
                // An unexpected failure says what it is, and where the log has the rest.
                Error::Database(_) | Error::Migrate(_) | Error::Internal(_)
                    if crate::i18n::database_problem(&error).is_none() =>
                {
                    let incident = crate::logging::incident(&error);
                    let detail = crate::i18n::message(lang, "database_detail", &[("detail", error.to_string())]);
                    eprintln!("crm: {detail} ({})", crate::logging::pointer(lang, &incident));
                }
                _ => eprintln!("crm: {}", error_message(lang, &error)),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "desktop")]
fn open_window(database_url: Option<String>, _lang: Lang) -> std::process::ExitCode {
    crate::desktop::run(database_url)
}

#[cfg(not(feature = "desktop"))]
fn open_window(_database_url: Option<String>, lang: Lang) -> std::process::ExitCode {
    eprintln!("crm: {}", crate::i18n::message(lang, "no_window", &[]));
    std::process::ExitCode::FAILURE
}

async fn open(database_url: Option<String>) -> Result<Crm> {
    let file = ConfigFile::load()?;
    let location = resolve_location(database_url.as_deref(), &file)?;
    if let Location::Url(url) = &location {
        tracing::info!("database: {}", redact_url(url));
    }
    Crm::open_location(&location, Settings::from_config(&file)?).await
}

/// For the commands that change the schema or create the first user: on an office server they
/// need the database owner's login, which is never kept in the settings.
async fn open_as_owner(database_url: Option<String>) -> Result<Crm> {
    let crm = open(database_url).await?;
    if crm.is_gateway() {
        return Err(Error::state("owner_login_needed"));
    }
    Ok(crm)
}

fn read_secret(env: &str, prompt: &str) -> Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    rpassword::prompt_password(prompt)
        .map_err(|e| Error::Config(format!("cannot read the password ({env} is not set): {e}")))
}

async fn run(database_url: Option<String>, command: Command, lang: Lang) -> Result<()> {
    match command {
        Command::Migrate => {
            let crm = open_as_owner(database_url).await?;
            out!("database is up to date ({:?})", crm.db().backend());
            // what administrators would hear at sign-in: said to the owner now, while the
            // database is cheap to make again
            for code in crm.database_notices().await? {
                eprintln!("crm: {}", crate::i18n::message(lang, code, &[]));
            }
        }
        Command::CreateAdmin { username, full_name } => {
            let crm = open_as_owner(database_url).await?;
            let password = read_secret("CRM_ADMIN_PASSWORD", "Password for the new administrator: ")?;
            let actor = crm.create_first_admin(&username, &full_name, &password).await?;
            out!("administrator {} created", actor.username);
        }
        Command::Stats { user, from, to, channel, service, json, verify, rebuild } => {
            let crm = open(database_url).await?;
            let password = read_secret("CRM_PASSWORD", &format!("Password for {user}: "))?;
            let actor = crm.sign_in(&user, &password).await?;
            if rebuild {
                let made = crm.rebuild_stats(&actor).await?;
                out!("statistics rebuilt from the records: {made} campaign-days");
                return Ok(());
            }
            if verify {
                let differences = crm.verify_stats(&actor).await?;
                if json {
                    let text =
                        serde_json::to_string_pretty(&differences).map_err(|e| Error::Internal(e.to_string()))?;
                    out!("{text}");
                } else {
                    for d in differences.lead_counts.iter().take(100) {
                        out!(
                            "leads of campaign {} owned by {} with status {}{}: kept {}, the records say {}",
                            d.campaign_id,
                            d.owner_id,
                            d.status,
                            if d.is_archived { " (archived)" } else { "" },
                            d.kept,
                            d.counted
                        );
                    }
                    for d in &differences.list_counts {
                        let what = match d.list.as_str() {
                            "sold_clients" => "clients with a contract",
                            other => other,
                        };
                        out!(
                            "{what}{}: kept {}, the records say {}",
                            if d.is_archived { " (archived)" } else { "" },
                            d.kept,
                            d.counted
                        );
                    }
                    for d in differences.signing_days.iter().take(100) {
                        out!(
                            "contracts signed on {}: kept {}, the records say {}; following one signed that day: kept {}, the records say {}",
                            d.day,
                            d.kept_signed,
                            d.signed,
                            d.kept_continued,
                            d.continued
                        );
                    }
                    for d in differences.roll_ups.iter().take(100) {
                        let when = match d.period {
                            "month" => format!("in {}", d.day.format("%Y-%m")),
                            _ => format!("on {}", d.day),
                        };
                        let what = match d.period {
                            crate::stats::SHARE_PERIOD => {
                                format!("all campaigns of share {} (id modulo {})", d.campaign_id, crate::stats::SHARES)
                            }
                            _ => format!("campaign {}", d.campaign_id),
                        };
                        out!(
                            "{what} {when}: kept {} leads, {} clients, {} revenue; the records say {}, {}, {}",
                            d.kept_leads,
                            d.kept_clients,
                            crate::domain::Money::from_kopecks(d.kept_revenue),
                            d.leads,
                            d.clients,
                            crate::domain::Money::from_kopecks(d.revenue)
                        );
                    }
                    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "none".to_owned(), |d| d.to_string());
                    for d in differences.signing_order.iter().take(100) {
                        out!(
                            "contract {}: kept {} as its client's previous signing day, the records say {}",
                            d.contract_id,
                            day(d.kept),
                            day(d.signed_before)
                        );
                    }
                }
                if differences.is_empty() {
                    if !json {
                        out!("the statistics agree with the records");
                    }
                    return Ok(());
                }
                return Err(Error::State {
                    code: "stats_differ",
                    params: vec![("places", differences.len().to_string())],
                });
            }
            let filter = StatsFilter { from, to, channel_id: channel, service_id: service };
            let stats = crm.campaign_stats(&actor, &filter).await?;
            if json {
                let text = serde_json::to_string_pretty(&stats).map_err(|e| Error::Internal(e.to_string()))?;
                out!("{text}");
            } else {
                print_stats(&stats);
            }
        }
        Command::Users { command } => {
            let crm = open(database_url).await?;
            users::run(&crm, command).await?;
        }
        Command::Agenda { user, json } => {
            let crm = open(database_url).await?;
            agenda::run(&crm, &user, json).await?;
        }
        Command::Password { user } => {
            let crm = open(database_url).await?;
            let current = read_secret("CRM_PASSWORD", &format!("Current password for {user}: "))?;
            let actor = crm.sign_in(&user, &current).await?;
            let new = match std::env::var("CRM_NEW_PASSWORD") {
                Ok(new) => new,
                Err(_) => {
                    let new = read_secret("CRM_NEW_PASSWORD", "New password: ")?;
                    if read_secret("CRM_NEW_PASSWORD", "New password again: ")? != new {
                        return Err(Error::field("new_password", "password_mismatch"));
                    }
                    new
                }
            };
            crm.change_own_password(&actor, &current, &new).await?;
            out!("password changed");
        }
        Command::Import(args) => import::run(&open(database_url).await?, &args, lang).await?,
        Command::Export(args) => export::run(&open(database_url).await?, &args, lang).await?,
        Command::Backup { out } => backup::make(&open_as_owner(database_url).await?, out).await?,
        Command::Restore { file, yes } => backup::restore(&open_as_owner(database_url).await?, &file, yes).await?,
        Command::Move { to } => {
            let crm = open_as_owner(database_url).await?;
            let settings = Settings::from_config(&ConfigFile::load()?)?;
            backup::move_to(&crm, &to, settings).await?;
        }
        Command::Office { command: OfficeCommand::SearchIndexes } => {
            let crm = open_as_owner(database_url).await?;
            if crm.enable_trigram_search().await? {
                out!("substring search reads its trigram indexes");
            } else {
                return Err(Error::state("trigram_missing"));
            }
        }
        Command::Office { command: OfficeCommand::Upgrade } => {
            let crm = open_as_owner(database_url).await?;
            let issued = crm.issue_one_time_passwords().await?;
            out!("the office database is up to date; every person signs in as themselves now");
            if issued.is_empty() {
                out!("every user has a password of their own already");
            } else {
                out!("one-time passwords (valid 7 days; each person chooses their own at the next sign-in):");
                for (username, password) in issued {
                    out!("  {:<24} {password}", printable(&username));
                }
            }
        }
        Command::Demo { seed, leads, anchor, append, user, with_other_users } => {
            let crm = open_as_owner(database_url).await?;
            let admin = match &user {
                Some(name) => {
                    let password = read_secret("CRM_PASSWORD", &format!("Password for {name}: "))?;
                    Some(crm.sign_in(name, &password).await?)
                }
                None => None,
            };
            let chosen = std::env::var("CRM_DEMO_PASSWORD").ok().filter(|p| !p.is_empty());
            let password = chosen.clone().unwrap_or_else(crate::auth::generate_password);
            // made today, the day's work ends now (see `DemoOptions::until`)
            let until = anchor.is_none().then(chrono::Utc::now);
            let anchor = anchor.unwrap_or_else(|| chrono::Local::now().date_naive());
            let options =
                DemoOptions { seed, leads, anchor, append, password: password.clone(), with_other_users, until };
            let report = crm.generate_demo(admin.as_ref(), &options).await?;
            out!(
                "generated {} services, {} campaigns, {} leads, {} clients, {} contracts in {:.1} s",
                report.services,
                report.campaigns,
                report.leads,
                report.clients,
                report.contracts,
                report.seconds
            );
            match (report.users_created.is_empty(), chosen) {
                (true, _) => {}
                (false, Some(_)) => {
                    out!("demo users {} (password from CRM_DEMO_PASSWORD)", report.users_created.join(", "))
                }
                (false, None) => out!(
                    "demo users {}, password {password} (shown only now; set CRM_DEMO_PASSWORD to choose one)",
                    report.users_created.join(", ")
                ),
            }
        }
    }
    Ok(())
}

fn dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn percent(value: Option<rust_decimal::Decimal>) -> String {
    value.map_or_else(
        || "-".to_owned(),
        |v| format!("{}%", (v * rust_decimal::Decimal::ONE_HUNDRED).round_dp_with_strategy(1, MidpointAwayFromZero)),
    )
}

fn print_stats(stats: &CampaignStats) {
    out!(
        "{:<44} {:>7} {:>7} {:>7} {:>14} {:>12} {:>7} {:>10} {:>11}",
        "campaign",
        "leads",
        "clients",
        "conv.",
        "revenue",
        "budget",
        "ROAS",
        "per lead",
        "per client"
    );
    let line = |name: &str, f: &Figures| {
        let name: String = printable(name).chars().take(44).collect();
        out!(
            "{:<44} {:>7} {:>7} {:>7} {:>14} {:>12} {:>7} {:>10} {:>11}",
            name,
            f.leads,
            f.clients,
            percent(f.conversion),
            f.revenue,
            f.budget,
            f.roas.map_or_else(|| "-".to_owned(), |r| r.round_dp_with_strategy(2, MidpointAwayFromZero).to_string()),
            dash(f.cost_per_lead),
            dash(f.cost_per_client)
        );
    };
    for row in &stats.campaigns {
        line(&row.name, &row.figures);
    }
    line("TOTAL", &stats.total);
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_and_bidi_characters_never_reach_the_terminal() {
        assert_eq!(printable("Ольга\u{1b}[31m\u{7}"), "Ольга\u{fffd}[31m\u{fffd}");
        assert_eq!(printable("invoice\u{202e}fdp.exe"), "invoice\u{fffd}fdp.exe");
        assert_eq!(printable("Plain name"), "Plain name");
    }
}
