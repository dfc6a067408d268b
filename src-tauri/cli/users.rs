//! `crm users add | list | deactivate`: setting up an office's staff from a script, through the
//! same use cases as Administration in the window (on an office server they move the users'
//! PostgreSQL roles too).

use clap::Subcommand;

use super::{printable, read_secret};
use crate::app::Crm;
use crate::error::{Error, Result};
use crate::users::{NewUser, User, UserUpdate};

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Add a user (their password from CRM_NEW_USER_PASSWORD or a prompt).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// A role: administrator, operator, marketer or manager (repeat for several).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// An extra permission such as leads.view (repeat for several).
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// The administrator doing it (password from CRM_PASSWORD or a prompt).
        #[arg(long)]
        user: String,
    },
    /// List the users.
    List {
        #[arg(long)]
        user: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a user: they can no longer sign in (nor connect to an office server).
    Deactivate {
        /// The username to deactivate.
        username: String,
        #[arg(long)]
        user: String,
    },
}

pub async fn run(crm: &Crm, command: UsersCommand) -> Result<()> {
    match command {
        UsersCommand::Add { username, full_name, roles, permissions, user } => {
            let admin = sign_in(crm, &user).await?;
            let password = read_secret("CRM_NEW_USER_PASSWORD", &format!("Password for the new user {username}: "))?;
            let input = NewUser { username, full_name, password, roles, extra_permissions: permissions };
            let created = crm.create_user(&admin, &input).await?;
            out!("user {} created", printable(&created.username));
        }
        UsersCommand::List { user, json } => {
            let admin = sign_in(crm, &user).await?;
            let users = crm.list_users(&admin).await?;
            if json {
                let text = serde_json::to_string_pretty(&users).map_err(|e| Error::Internal(e.to_string()))?;
                out!("{text}");
            } else {
                print_users(&users);
            }
        }
        UsersCommand::Deactivate { username, user } => {
            let admin = sign_in(crm, &user).await?;
            let key = crate::domain::text::key(username.trim());
            let users = crm.list_users(&admin).await?;
            let found = users.into_iter().find(|u| crate::domain::text::key(&u.username) == key);
            let Some(found) = found else {
                return Err(Error::field("username", "unknown"));
            };
            let update = UserUpdate {
                full_name: found.full_name.clone(),
                is_active: false,
                roles: found.roles.clone(),
                extra_permissions: found.extra_permissions.clone(),
            };
            crm.update_user(&admin, found.id, found.version, &update).await?;
            out!("user {} deactivated", printable(&found.username));
        }
    }
    Ok(())
}

async fn sign_in(crm: &Crm, username: &str) -> Result<crate::Actor> {
    let password = read_secret("CRM_PASSWORD", &format!("Password for {username}: "))?;
    crm.sign_in(username, &password).await
}

fn print_users(users: &[User]) {
    out!("{:<24} {:<32} {:<8} roles", "username", "full name", "active");
    for u in users {
        let mut roles = u.roles.join(",");
        if !u.extra_permissions.is_empty() {
            roles.push_str(&format!(" +{}", u.extra_permissions.join(",")));
        }
        out!(
            "{:<24} {:<32} {:<8} {}",
            printable(&u.username),
            printable(&u.full_name),
            if u.is_active { "yes" } else { "no" },
            printable(&roles)
        );
    }
}
