//! Sign-in, sessions' actors, passwords and the first administrator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};

use crate::app::{audit, now, Crm};
use crate::db::{Lock, Query, Tx};
use crate::domain::text;
use crate::error::{Checks, Error, FieldError, Result};
use crate::permission::{Actor, Permission};

/// Failures allowed before sign-in is throttled, and the first pause (doubling up to the cap).
const FREE_FAILURES: i64 = 5;
const FIRST_PAUSE_SECONDS: i64 = 30;
const MAX_PAUSE_SECONDS: i64 = 15 * 60;
pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;

/// argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane), set explicitly so a
/// change of the crate's defaults cannot weaken stored hashes unnoticed.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes off the async threads: argon2 is deliberately slow.
pub(crate) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

async fn verify_password(password: String, phc: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| Error::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// A hash to verify against when the username is unknown, so that an unknown user costs the same
/// time as a wrong password and timing does not reveal who exists.
static DUMMY: OnceLock<String> = OnceLock::new();

fn dummy_hash() -> String {
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            hasher().hash_password(b"not a real password", &salt).expect("hashing a constant").to_string()
        })
        .clone()
}

/// Builds the dummy hash in the background, so the first sign-in under an unknown name does not
/// take twice as long as the others.
pub(crate) fn warm_up() {
    if DUMMY.get().is_none() {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(dummy_hash);
        }
    }
}

/// Sign-in failures per unknown username key: (failures, paused until). Kept in memory, at most
/// [`UNKNOWN_NAMES_KEPT`] names (then forgotten all at once): an unknown name has no row to keep
/// them in, and what matters is that it answers like a known one while someone is guessing.
#[derive(Clone, Default)]
pub(crate) struct UnknownSignIns(Arc<Mutex<HashMap<String, Failures>>>);

/// Failed attempts in a row, and the end of the pause they earned.
type Failures = (i64, Option<DateTime<Utc>>);

const UNKNOWN_NAMES_KEPT: usize = 10_000;

impl UnknownSignIns {
    fn get(&self, key: &str) -> Failures {
        self.0.lock().map(|m| m.get(key).copied().unwrap_or_default()).unwrap_or_default()
    }

    fn fail(&self, key: &str, failures: i64) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= UNKNOWN_NAMES_KEPT {
                map.clear();
            }
            map.insert(key.to_owned(), (failures, pause_after(failures)));
        }
    }
}

/// When an account with `failures` failed attempts in a row may try again (none below the
/// free allowance); the pause doubles with each failure up to the cap.
fn pause_after(failures: i64) -> Option<DateTime<Utc>> {
    (failures >= FREE_FAILURES).then(|| {
        let doublings = (failures - FREE_FAILURES).min(10) as u32;
        let pause = (FIRST_PAUSE_SECONDS << doublings).min(MAX_PAUSE_SECONDS);
        now() + Duration::seconds(pause)
    })
}

/// Checks a new password against the policy.
pub(crate) fn check_password(field: &'static str, password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(field, "password_short").with("min", MIN_PASSWORD_CHARS));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(field, "too_long").with("max", MAX_PASSWORD_CHARS));
    }
    Ok(())
}

pub(crate) fn check_username(field: &'static str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if name.chars().count() > 64 {
        return Err(FieldError::new(field, "too_long").with("max", 64));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(FieldError::new(field, "username_chars"));
    }
    Ok(name.to_owned())
}

#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    password_hash: String,
    is_active: bool,
    failed_logins: i64,
    locked_until: Option<DateTime<Utc>>,
}

impl Crm {
    /// Signs a user in. Wrong password and unknown user give the same error in the same time;
    /// after repeated failures the account is paused, doubling each time.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Actor> {
        let key = text::key(username.trim());
        let mut tx = self.db.read().await?;
        let found: Option<Credentials> = tx
            .fetch_optional(
                Query::new(
                    "select id, password_hash, is_active, failed_logins, locked_until from users where username_key = $1",
                )
                .bind(&key),
            )
            .await?;
        tx.commit().await?;
        // Every path verifies one argon2 hash before answering, so neither the time nor the
        // answer tells whether the name exists or is paused.
        let at = now();
        let paused = |until: Option<DateTime<Utc>>| until.filter(|until| *until > at);
        let Some(user) = found else {
            let (failures, locked_until) = self.unknown_sign_ins.get(&key);
            verify_password(password.to_owned(), dummy_hash()).await?;
            if let Some(until) = paused(locked_until) {
                return Err(Error::Throttled { seconds: (until - at).num_seconds().max(1) });
            }
            self.unknown_sign_ins.fail(&key, failures + 1);
            return Err(Error::BadCredentials);
        };
        let matches = verify_password(password.to_owned(), user.password_hash).await?;
        if let Some(until) = paused(user.locked_until) {
            return Err(Error::Throttled { seconds: (until - at).num_seconds().max(1) });
        }
        if !matches {
            self.record_failed_sign_in(user.id, user.failed_logins + 1).await?;
            return Err(Error::BadCredentials);
        }
        if !user.is_active {
            return Err(Error::Deactivated);
        }
        if user.failed_logins > 0 {
            let mut tx = self.db.write().await?;
            tx.execute(
                Query::new("update users set failed_logins = 0, locked_until = null where id = $1").bind(user.id),
            )
            .await?;
            tx.commit().await?;
        }
        self.actor(user.id).await
    }

    async fn record_failed_sign_in(&self, user_id: i64, failures: i64) -> Result<()> {
        let locked_until = pause_after(failures);
        let mut tx = self.db.write().await?;
        tx.execute(
            Query::new("update users set failed_logins = $1, locked_until = $2 where id = $3")
                .bind(failures)
                .bind(locked_until)
                .bind(user_id),
        )
        .await?;
        tx.commit().await
    }

    /// Loads the actor for a signed-in user id: fails with `Unauthenticated` when the user is gone
    /// or deactivated, so every call re-checks the account.
    pub async fn actor(&self, user_id: i64) -> Result<Actor> {
        let mut tx = self.db.read().await?;
        let actor = load_actor(&mut tx, user_id).await?;
        tx.commit().await?;
        actor.ok_or(Error::Unauthenticated)
    }

    /// Whether any user exists: the first-run screen asks this.
    pub async fn has_users(&self) -> Result<bool> {
        let mut tx = self.db.read().await?;
        let count: i64 = tx.scalar(Query::new("select count(*) from users")).await?;
        tx.commit().await?;
        Ok(count > 0)
    }

    /// Creates the first administrator; refused once any user exists.
    pub async fn create_first_admin(&self, username: &str, full_name: &str, password: &str) -> Result<Actor> {
        let mut checks = Checks::new();
        let username = checks.take(check_username("username", username));
        let full_name = checks.take(text::name("full_name", full_name, 200));
        checks.take(check_password("password", password));
        checks.finish()?;
        let (username, full_name) = (username.unwrap_or_default(), full_name.unwrap_or_default());
        let hash = hash_password(password.to_owned()).await?;

        let mut tx = self.db.write().await?;
        // Two computers on one office database at first run: only one becomes the administrator.
        tx.lock(Lock::Users).await?;
        let count: i64 = tx.scalar(Query::new("select count(*) from users")).await?;
        if count > 0 {
            return Err(Error::state("users_exist"));
        }
        let id = insert_user(&mut tx, &username, &full_name, &hash).await?;
        tx.execute(
            Query::new(
                "insert into user_roles (user_id, role_id) select $1, id from roles where code = 'administrator'",
            )
            .bind(id),
        )
        .await?;
        let actor = load_actor(&mut tx, id).await?.ok_or(Error::Unauthenticated)?;
        audit(&mut tx, &actor, "create_first_admin", "user", id, &username).await?;
        tx.commit().await?;
        Ok(actor)
    }

    /// Changes the signed-in user's own password; the current one must be given.
    pub async fn change_own_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        check_password("new_password", new).map_err(|e| Error::Invalid(vec![e]))?;
        let mut tx = self.db.read().await?;
        let hash: String =
            tx.scalar(Query::new("select password_hash from users where id = $1").bind(actor.user_id)).await?;
        tx.commit().await?;
        if !verify_password(current.to_owned(), hash).await? {
            return Err(Error::field("current_password", "password_wrong"));
        }
        let new_hash = hash_password(new.to_owned()).await?;
        let mut tx = self.db.write().await?;
        tx.execute(
            Query::new("update users set password_hash = $1, version = version + 1, updated_at = $2 where id = $3")
                .bind(new_hash)
                .bind(now())
                .bind(actor.user_id),
        )
        .await?;
        audit(&mut tx, actor, "change_password", "user", actor.user_id, "").await?;
        tx.commit().await
    }
}

pub(crate) async fn insert_user(tx: &mut Tx, username: &str, full_name: &str, hash: &str) -> Result<i64> {
    let key = text::key(username);
    let taken: Option<(i64,)> =
        tx.fetch_optional(Query::new("select id from users where username_key = $1").bind(&key)).await?;
    if taken.is_some() {
        return Err(Error::Invalid(vec![FieldError::new("username", "username_taken")]));
    }
    let at = now();
    tx.scalar(
        Query::new(
            "insert into users (username, username_key, full_name, password_hash, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5) returning id",
        )
        .bind(username)
        .bind(key)
        .bind(full_name)
        .bind(hash)
        .bind(at),
    )
    .await
}

/// The user's roles and effective permissions (from roles and granted directly), or `None` when
/// the user is missing or deactivated.
pub(crate) async fn load_actor(tx: &mut Tx, user_id: i64) -> Result<Option<Actor>> {
    let user: Option<(String, String, bool)> = tx
        .fetch_optional(Query::new("select username, full_name, is_active from users where id = $1").bind(user_id))
        .await?;
    let Some((username, full_name, true)) = user else {
        return Ok(None);
    };
    let roles: Vec<(String,)> = tx
        .fetch_all(
            Query::new("select r.code from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1 order by r.code")
                .bind(user_id),
        )
        .await?;
    let codes: Vec<(String,)> = tx
        .fetch_all(
            Query::new(
                "select rp.permission_code from user_roles ur
                 join role_permissions rp on rp.role_id = ur.role_id where ur.user_id = $1
                 union
                 select permission_code from user_permissions where user_id = $1",
            )
            .bind(user_id),
        )
        .await?;
    Ok(Some(Actor {
        user_id,
        username,
        full_name,
        roles: roles.into_iter().map(|(r,)| r).collect(),
        permissions: codes.iter().filter_map(|(c,)| Permission::from_code(c)).collect(),
    }))
}
