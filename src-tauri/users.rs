//! Administration: users, their roles and extra permissions, and which permissions a role has.
//! Every change keeps at least one active user who can manage users.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{audit, now, Crm};
use crate::auth::{bump_user_version, check_password, check_username, insert_user, store_password};
use crate::db::{reading, transact, Lock, Query, Tx};
use crate::domain::id::{RoleId, UserId, Version};
use crate::domain::text::PersonName;
use crate::error::{Checks, Error, FieldError, Result};
use crate::permission::{Actor, Permission};
use crate::store::update_versioned;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub full_name: String,
    pub is_active: bool,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub roles: Vec<String>,
    #[sqlx(skip)]
    pub extra_permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Role {
    pub id: RoleId,
    pub code: String,
    pub name: String,
    pub is_builtin: bool,
    pub version: Version,
    #[sqlx(skip)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewUser {
    pub username: String,
    pub full_name: String,
    pub password: String,
    pub roles: Vec<String>,
    pub extra_permissions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserUpdate {
    pub full_name: String,
    pub is_active: bool,
    pub roles: Vec<String>,
    pub extra_permissions: Vec<String>,
}

const USER_COLUMNS: &str = "id, username, full_name, is_active, version, created_at";

/// The roles picked for a user, each once; a code no role can have (the roles table holds
/// plain codes of at most 64 characters) is refused before any look-up.
fn parse_roles(codes: &[String]) -> Result<BTreeSet<String>, FieldError> {
    codes
        .iter()
        .map(|c| {
            let plain = !c.is_empty() && c.chars().count() <= 64 && !c.chars().any(char::is_control);
            plain.then(|| c.clone()).ok_or_else(|| FieldError::new("roles", "not_allowed"))
        })
        .collect()
}

fn parse_permissions(codes: &[String]) -> Result<BTreeSet<Permission>, FieldError> {
    codes
        .iter()
        .map(|c| Permission::from_code(c).ok_or_else(|| FieldError::new("extra_permissions", "not_allowed")))
        .collect()
}

impl Crm {
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require(Permission::UsersManage)?;
        reading!(actor.db, |tx| {
            let mut users: Vec<User> =
                tx.fetch_all(Query::new(format!("select {USER_COLUMNS} from users order by username_key"))).await?;
            for user in &mut users {
                fill_user(tx, user).await?;
            }
            Ok(users)
        })
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn get_user(&self, actor: &Actor, id: UserId) -> Result<User> {
        actor.require(Permission::UsersManage)?;
        reading!(actor.db, |tx| {
            let user = fetch_user(tx, id).await?;
            Ok(user)
        })
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn create_user(&self, actor: &Actor, input: &NewUser) -> Result<User> {
        actor.require(Permission::UsersManage)?;
        let mut checks = Checks::new();
        let username = checks.take(check_username("username", &input.username));
        let full_name = checks.take(PersonName::parse("full_name", &input.full_name));
        checks.take(check_password("password", &input.password));
        let roles = checks.take(parse_roles(&input.roles));
        let extra = checks.take(parse_permissions(&input.extra_permissions));
        checks.finish()?;
        let (username, full_name, roles, extra) = (
            username.unwrap_or_default(),
            full_name.unwrap_or_default(),
            roles.unwrap_or_default(),
            extra.unwrap_or_default(),
        );
        transact!(actor.db, |tx| {
            let id = insert_user(tx, &username, &full_name, &input.password).await?;
            set_roles_and_permissions(tx, id, &roles, &extra).await?;
            audit(tx, actor, "create", "user", id, &input.username).await?;
            let user = fetch_user(tx, id).await?;
            Ok(user)
        })
    }

    /// Edits a user's name, active flag, roles and extra permissions in one save.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn update_user(&self, actor: &Actor, id: UserId, version: Version, input: &UserUpdate) -> Result<User> {
        actor.require(Permission::UsersManage)?;
        let mut checks = Checks::new();
        let full_name = checks.take(PersonName::parse("full_name", &input.full_name));
        let roles = checks.take(parse_roles(&input.roles));
        let extra = checks.take(parse_permissions(&input.extra_permissions));
        checks.finish()?;
        let (full_name, roles, extra) =
            (full_name.unwrap_or_default(), roles.unwrap_or_default(), extra.unwrap_or_default());
        transact!(actor.db, |tx| {
            // Two administrators demoting each other at once must not both pass the check below.
            tx.lock(Lock::Users).await?;
            let update = Query::new(
                "update users set full_name = $1, is_active = $2, version = version + 1, updated_at = $3
                 where id = $4 and version = $5",
            )
            .bind(full_name.as_str())
            .bind(input.is_active)
            .bind(now())
            .bind(id)
            .bind(version);
            update_versioned(tx, "users", "user", id, update).await?;
            set_roles_and_permissions(tx, id, &roles, &extra).await?;
            ensure_an_admin_remains(tx).await?;
            audit(tx, actor, "update", "user", id, "").await?;
            let user = fetch_user(tx, id).await?;
            Ok(user)
        })
    }

    /// Sets a one-time password for a user (who forgot theirs) and lifts any sign-in pause: with
    /// it they can only choose their own (on an office server it also expires in a week).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn reset_password(&self, actor: &Actor, id: UserId, password: &str) -> Result<()> {
        actor.require(Permission::UsersManage)?;
        check_password("password", password).map_err(|e| Error::Invalid(vec![e]))?;
        transact!(actor.db, |tx| {
            let found: Option<(UserId,)> =
                tx.fetch_optional(Query::new("select id from users where id = $1").bind(id)).await?;
            if found.is_none() {
                return Err(Error::NotFound { entity: "user", id: id.get() });
            }
            store_password(tx, id, password, true).await?;
            bump_user_version(tx, id).await?;
            audit(tx, actor, "reset_password", "user", id, "").await
        })
    }

    /// Every permission the CRM knows, in display order: what the administration page offers
    /// for roles and extra permissions (so a new permission needs no change in the window).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_permissions(&self, actor: &Actor) -> Result<Vec<Permission>> {
        actor.require(Permission::UsersManage)?;
        Ok(Permission::ALL.to_vec())
    }

    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn list_roles(&self, actor: &Actor) -> Result<Vec<Role>> {
        actor.require(Permission::UsersManage)?;
        reading!(actor.db, |tx| {
            let mut roles: Vec<Role> =
                tx.fetch_all(Query::new("select id, code, name, is_builtin, version from roles order by id")).await?;
            for role in &mut roles {
                role.permissions = role_permissions(tx, role.id).await?;
            }
            Ok(roles)
        })
    }

    /// Replaces the permissions of a role (saved on `version`).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn set_role_permissions(
        &self,
        actor: &Actor,
        role_id: RoleId,
        version: Version,
        codes: &[String],
    ) -> Result<Role> {
        actor.require(Permission::UsersManage)?;
        let permissions =
            parse_permissions(codes).map_err(|e| Error::Invalid(vec![FieldError { field: "permissions", ..e }]))?;
        transact!(actor.db, |tx| {
            tx.lock(Lock::Users).await?;
            let update = Query::new("update roles set version = version + 1 where id = $1 and version = $2")
                .bind(role_id)
                .bind(version);
            update_versioned(tx, "roles", "role", role_id, update).await?;
            tx.execute(Query::new("delete from role_permissions where role_id = $1").bind(role_id)).await?;
            for p in &permissions {
                tx.execute(
                    Query::new("insert into role_permissions (role_id, permission_code) values ($1, $2)")
                        .bind(role_id)
                        .bind(p.code()),
                )
                .await?;
            }
            ensure_an_admin_remains(tx).await?;
            audit(tx, actor, "set_permissions", "role", role_id, &codes.join(",")).await?;
            let mut role: Role = tx
                .fetch_one(
                    Query::new("select id, code, name, is_builtin, version from roles where id = $1").bind(role_id),
                )
                .await?;
            role.permissions = role_permissions(tx, role_id).await?;
            Ok(role)
        })
    }
}

async fn fetch_user(tx: &mut Tx, id: UserId) -> Result<User> {
    let mut user: User = tx
        .fetch_optional(Query::new(format!("select {USER_COLUMNS} from users where id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound { entity: "user", id: id.get() })?;
    fill_user(tx, &mut user).await?;
    Ok(user)
}

async fn fill_user(tx: &mut Tx, user: &mut User) -> Result<()> {
    let roles: Vec<(String,)> = tx
        .fetch_all(
            Query::new("select r.code from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1 order by r.id")
                .bind(user.id),
        )
        .await?;
    let extra: Vec<(String,)> = tx
        .fetch_all(
            Query::new("select permission_code from user_permissions where user_id = $1 order by permission_code")
                .bind(user.id),
        )
        .await?;
    user.roles = roles.into_iter().map(|(r,)| r).collect();
    user.extra_permissions = extra.into_iter().map(|(p,)| p).collect();
    Ok(())
}

async fn role_permissions(tx: &mut Tx, role_id: RoleId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = tx
        .fetch_all(
            Query::new(
                "select rp.permission_code from role_permissions rp join permissions p on p.code = rp.permission_code
                 where rp.role_id = $1 order by p.sort_order",
            )
            .bind(role_id),
        )
        .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

async fn set_roles_and_permissions(
    tx: &mut Tx,
    user_id: UserId,
    roles: &BTreeSet<String>,
    extra: &BTreeSet<Permission>,
) -> Result<()> {
    tx.execute(Query::new("delete from user_roles where user_id = $1").bind(user_id)).await?;
    for code in roles {
        let added = tx
            .execute(
                Query::new("insert into user_roles (user_id, role_id) select $1, id from roles where code = $2")
                    .bind(user_id)
                    .bind(code),
            )
            .await?;
        if added == 0 {
            return Err(Error::field("roles", "not_allowed"));
        }
    }
    tx.execute(Query::new("delete from user_permissions where user_id = $1").bind(user_id)).await?;
    for p in extra {
        tx.execute(
            Query::new("insert into user_permissions (user_id, permission_code) values ($1, $2)")
                .bind(user_id)
                .bind(p.code()),
        )
        .await?;
    }
    Ok(())
}

/// Refuses a change that would leave no active user able to manage users.
async fn ensure_an_admin_remains(tx: &mut Tx) -> Result<()> {
    let admins: i64 = tx
        .scalar(Query::new(
            "select count(*) from users u where u.is_active = true and (
                exists (select 1 from user_roles ur join role_permissions rp on rp.role_id = ur.role_id
                        where ur.user_id = u.id and rp.permission_code = 'users.manage')
                or exists (select 1 from user_permissions up where up.user_id = u.id and up.permission_code = 'users.manage'))",
        ))
        .await?;
    if admins == 0 {
        return Err(Error::state("last_admin"));
    }
    Ok(())
}
