//! Sign-in, sessions' actors, passwords and the first administrator.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};

use crate::app::{audit, now, Crm};
use crate::db::{reading, transact, Backend, Db, Lock, Query, Tx};
use crate::domain::id::UserId;
use crate::domain::text::PersonName;
use crate::domain::text::{self, key};
use crate::error::{Checks, Error, FieldError, Result};
use crate::permission::{Actor, Permission};

/// Failures allowed before sign-in is throttled, and the first pause (doubling up to the cap).
const FREE_FAILURES: i64 = 5;
const FIRST_PAUSE_SECONDS: i64 = 30;
const MAX_PAUSE_SECONDS: i64 = 15 * 60;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest username, in bytes of its lower-cased form (see [`check_username`]).
pub const MAX_USERNAME_BYTES: usize = 59;
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
        // No hash (a user restored from an office backup, who has a one-time password coming):
        // no password matches, in the time a real check takes.
        let (phc, none) = if phc.is_empty() { (dummy_hash(), true) } else { (phc, false) };
        let parsed = PasswordHash::new(&phc).map_err(|e| Error::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok() && !none)
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

/// Builds the dummy hash on a thread of its own, so the first sign-in under an unknown name does
/// not take twice as long as the others: the window calls it as it opens.
pub fn warm_up() {
    if DUMMY.get().is_none() {
        std::thread::spawn(dummy_hash);
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
    if !sasl_ready(password) {
        return Err(FieldError::new(field, "password_chars"));
    }
    Ok(())
}

/// Whether `text` passes SASLprep (RFC 4013), which an office server's sign-in (SCRAM) applies
/// to the login and the password: control characters, characters Unicode 3.2 did not have yet
/// (scripts added since, some emoji), and mixed right-to-left text cannot be signed in with
/// there. The same rule on both backends, so that a local office can move to a server.
fn sasl_ready(text: &str) -> bool {
    stringprep::saslprep(text).is_ok()
}

pub(crate) fn check_username(field: &'static str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if name.chars().count() > 64 {
        return Err(FieldError::new(field, "too_long").with("max", 64));
    }
    // On an office server the user is the login role `crm_<username>`, and a role name has at
    // most 63 bytes: 59 are left (59 Latin letters, 29 Cyrillic ones).
    if key(name).len() > MAX_USERNAME_BYTES {
        return Err(FieldError::new(field, "username_bytes").with("max", MAX_USERNAME_BYTES));
    }
    // (a right-to-left name cannot follow the role name's Latin prefix in SASLprep)
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        || !sasl_ready(&format!("crm_{}", key(name)))
    {
        return Err(FieldError::new(field, "username_chars"));
    }
    Ok(name.to_owned())
}

#[derive(sqlx::FromRow)]
struct Credentials {
    id: UserId,
    password_hash: String,
    is_active: bool,
}

impl Crm {
    /// Signs a user in, on their own connection.
    ///
    /// On a local SQLite file: a wrong password and an unknown user give the same error in the
    /// same time; after repeated failures the name is paused, doubling each time, whether or not
    /// such a user exists (the pause is kept per name in the database: see [`reserve_attempt`]).
    ///
    /// On an office PostgreSQL: connecting as the user's own login role is the sign-in, so the
    /// server checks the password (SCRAM) and counts failures, and every later statement runs
    /// with that role's privileges.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Actor> {
        // No username holds a control character (check_username), and PostgreSQL's sign-in
        // cannot carry a NUL: such input is simply not a user.
        if username.chars().any(char::is_control) || password.contains('\0') {
            return Err(Error::BadCredentials);
        }
        match &self.db {
            Db::Sqlite(_) => self.sign_in_locally(username, password).await,
            Db::Postgres(pool) => {
                // a login nobody can be given (too long for a role name, characters the
                // server's sign-in cannot carry: check_username, check_password) is not a user
                if check_username("username", username).is_err() || !sasl_ready(password) {
                    return Err(Error::BadCredentials);
                }
                let key = text::key(username.trim());
                let role = login_role(&self.settings.role_prefix, &key);
                let options = (*pool.connect_options()).clone().username(&role).password(password);
                let db = Db::connect_as(options, pool.named_statements()).await.map_err(office_sign_in_error)?;
                db.check_schema().await?;
                let mut tx = db.read().await?;
                let id: Option<UserId> = tx.scalar(Query::new("select crm_user_id()")).await?;
                let actor = match id {
                    Some(id) => load_actor(&mut tx, &db, id).await?,
                    None => None,
                };
                tx.commit().await?;
                match actor {
                    Some(actor) => Ok(actor),
                    // A login of the server that is no CRM user (the owner's, another
                    // application's): not a username here. (A deactivated user never gets this
                    // far: their role is NOLOGIN.)
                    None => {
                        db.close().await;
                        Err(Error::BadCredentials)
                    }
                }
            }
        }
    }

    async fn sign_in_locally(&self, username: &str, password: &str) -> Result<Actor> {
        let key = text::key(username.trim());
        let paused = reserve_attempt(&self.db, &key).await?;
        let mut tx = self.db.read().await?;
        let found: Option<Credentials> = tx
            .fetch_optional(
                Query::new("select id, password_hash, is_active from users where username_key = $1").bind(&key),
            )
            .await?;
        tx.commit().await?;
        // Every path verifies one argon2 hash before answering, so neither the time nor the
        // answer tells whether the name exists.
        let (hash, user) = match found {
            Some(user) => (user.password_hash.clone(), Some(user)),
            None => (dummy_hash(), None),
        };
        let matches = verify_password(password.to_owned(), hash).await?;
        if let Some(seconds) = paused {
            return Err(Error::Throttled { seconds });
        }
        let Some(user) = user.filter(|_| matches) else {
            return Err(Error::BadCredentials);
        };
        if !user.is_active {
            return Err(Error::Deactivated);
        }
        let mut tx = self.db.write().await?;
        tx.execute(Query::new("delete from sign_in_throttle where username_key = $1").bind(&key)).await?;
        tx.commit().await?;
        let mut tx = self.db.read().await?;
        let actor = load_actor(&mut tx, &self.db, user.id).await?;
        tx.commit().await?;
        actor.ok_or(Error::Unauthenticated)
    }

    /// The signed-in user as they are now (roles and permissions re-read): fails with
    /// `Unauthenticated` when the account is gone or deactivated, so every call re-checks it.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn refresh(&self, actor: &Actor) -> Result<Actor> {
        // every command of the window starts here: after a restart of the office server, this is
        // where a person's dead connections are met first
        let load: Result<Option<Actor>> = reading!(actor.db, |tx| { load_actor(tx, &actor.db, actor.user_id).await });
        match load {
            Ok(fresh) => fresh.ok_or(Error::Unauthenticated),
            // An office user deactivated meanwhile: their open connection has lost every
            // privilege (and a new one is refused), so the session is over.
            Err(Error::State { code: "rights_changed", .. }) => Err(Error::Unauthenticated),
            // ... and a new connection of theirs (the pool's idle one closed after two minutes,
            // or a second one) is refused: NOLOGIN, or a password reset by the administrator
            Err(e) => match office_sign_in_error(e) {
                Error::Deactivated | Error::BadCredentials => Err(Error::Unauthenticated),
                e => Err(e),
            },
        }
    }

    /// Whether any user exists: the first-run screen asks this. An office server reached with no
    /// login cannot be asked; its users exist (it was set up by its owner), so: sign in.
    pub async fn has_users(&self) -> Result<bool> {
        if self.is_gateway() {
            return Ok(true);
        }
        reading!(self.db, |tx| {
            let count: i64 = tx.scalar(Query::new("select count(*) from users")).await?;
            Ok(count > 0)
        })
    }

    /// Creates the first administrator; refused once any user exists.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn create_first_admin(&self, username: &str, full_name: &str, password: &str) -> Result<Actor> {
        let mut checks = Checks::new();
        let username = checks.take(check_username("username", username));
        let full_name = checks.take(PersonName::parse("full_name", full_name));
        checks.take(check_password("password", password));
        checks.finish()?;
        let (username, full_name) = (username.unwrap_or_default(), full_name.unwrap_or_default());

        transact!(self.db, |tx| {
            // Two computers on one office database at first run: only one becomes the administrator.
            tx.lock(Lock::Users).await?;
            let count: i64 = tx.scalar(Query::new("select count(*) from users")).await?;
            if count > 0 {
                return Err(Error::state("users_exist"));
            }
            let id = insert_user(tx, &username, &full_name, password).await?;
            tx.execute(
                Query::new(
                    "insert into user_roles (user_id, role_id) select $1, id from roles where code = 'administrator'",
                )
                .bind(id),
            )
            .await?;
            let actor = load_actor(tx, &self.db, id).await?.ok_or(Error::Unauthenticated)?;
            audit(tx, &actor, "create_first_admin", "user", id, &username).await
        })?;
        // Signed in as anyone else would be, on their own connection.
        self.sign_in(&username, password).await
    }

    /// Changes the signed-in user's own password; the current one must be given.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn change_own_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        check_password("new_password", new).map_err(|e| Error::Invalid(vec![e]))?;
        match &actor.db {
            Db::Sqlite(_) => {
                let mut tx = actor.db.read().await?;
                let hash: String =
                    tx.scalar(Query::new("select password_hash from users where id = $1").bind(actor.user_id)).await?;
                tx.commit().await?;
                if !verify_password(current.to_owned(), hash).await? {
                    return Err(Error::field("current_password", "password_wrong"));
                }
                transact!(actor.db, |tx| {
                    store_password(tx, actor.user_id, new, false).await?;
                    bump_user_version(tx, actor.user_id).await?;
                    audit(tx, actor, "change_password", "user", actor.user_id, "").await?;
                    Ok(())
                })
            }
            Db::Postgres(pool) => {
                // The server checks the current password: one connection made with it (a
                // password its sign-in cannot carry is not the current one).
                if !sasl_ready(current) || current.contains('\0') {
                    return Err(Error::field("current_password", "password_wrong"));
                }
                let options = (*pool.connect_options()).clone();
                Db::connect_once(options.clone().password(current)).await.map_err(|e| {
                    match office_sign_in_error(e) {
                        Error::BadCredentials => Error::field("current_password", "password_wrong"),
                        other => other,
                    }
                })?;
                transact!(actor.db, |tx| {
                    tx.execute(Query::new("select crm_set_own_password($1)").bind(scram_verifier(new))).await?;
                    audit(tx, actor, "change_password", "user", actor.user_id, "").await
                })?;
                // the session's later connections sign in with the new password
                pool.set_connect_options(options.password(new));
                Ok(())
            }
        }
    }
}

/// A password made by the app (one-time passwords, demo users): letters and digits that cannot
/// be mistaken for one another, in three groups of five (about 74 bits).
pub fn generate_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..15).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    chars.chunks(5).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

impl Crm {
    /// The upgrade of an office that signed in through one shared login: every active user who
    /// has no password of their own on the server yet gets a one-time password (returned, to be
    /// handed over in person), with which they choose their own at their next sign-in. Run with
    /// the database owner's login (`crm office upgrade`); running it again replaces the one-time
    /// passwords not used yet.
    pub async fn issue_one_time_passwords(&self) -> Result<Vec<(String, String)>> {
        if self.db.backend() != Backend::Postgres {
            return Err(Error::state("office_only"));
        }
        if self.is_gateway() {
            return Err(Error::state("owner_login_needed"));
        }
        transact!(self.db, |tx| {
            tx.lock(Lock::Users).await?;
            let users: Vec<(UserId, String)> = tx
                .fetch_all(Query::new(
                    "select id, username from users where is_active = true and must_change_password = true order by username_key",
                ))
                .await?;
            let mut issued = Vec::with_capacity(users.len());
            for (id, username) in users {
                let password = generate_password();
                store_password(tx, id, &password, true).await?;
                // by the database owner, who is nobody's user: the row names no user
                tx.execute(
                    Query::new(
                        "insert into audit_log (at, user_id, action, entity, entity_id, details)
                         values ($1, null, 'issue_one_time_password', 'user', $2, '')",
                    )
                    .bind(now())
                    .bind(id),
                )
                .await?;
                issued.push((username, password));
            }
            Ok(issued)
        })
    }
}

/// Marks a change of the user row that its edit form must not silently overwrite.
pub(crate) async fn bump_user_version(tx: &mut Tx, id: UserId) -> Result<()> {
    tx.execute(
        Query::new("update users set version = version + 1, updated_at = $1 where id = $2").bind(now()).bind(id),
    )
    .await?;
    Ok(())
}

/// The PostgreSQL login role of the user whose lower-cased username is `key`.
pub(crate) fn login_role(prefix: &str, key: &str) -> String {
    format!("{prefix}_{key}")
}

/// What a refused connection as a staff member's own role means to them. The server answers a
/// wrong password, an unknown role and an expired password alike (28P01: the detail goes to the
/// server's log only), and refuses a NOLOGIN role (a deactivated user) only after the password
/// was right (28000). A login of the server that may not connect to this database (42501: not a
/// member of `crm:staff`) is no CRM user either.
fn office_sign_in_error(error: Error) -> Error {
    if let Error::Database(sqlx::Error::Database(e)) = &error {
        match e.code().as_deref() {
            Some("28P01" | "42501") => return Error::BadCredentials,
            Some("28000") => return Error::Deactivated,
            // PgBouncer refuses an unknown login or a wrong password itself, as a protocol error
            Some("08P01") if ["authentication failed", "no such user"].iter().any(|m| e.message().contains(m)) => {
                return Error::BadCredentials
            }
            _ => {}
        }
    }
    error
}

/// A SCRAM-SHA-256 verifier of `password`: what PostgreSQL keeps and checks sign-ins against.
/// Made here, so the password itself never travels to the server or into its log.
fn scram_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// Gives user `id` a new password where the backend keeps passwords: an argon2 hash in the
/// users table of a local file, the login role's SCRAM verifier on an office server (through a
/// function of the database owner: staff hold no CREATEROLE). Lifts any sign-in pause. A
/// `one_time` password (an administrator's reset) lets its user do nothing but choose their own.
pub(crate) async fn store_password(tx: &mut Tx, id: UserId, password: &str, one_time: bool) -> Result<()> {
    match tx.backend() {
        Backend::Sqlite => {
            let hash = hash_password(password.to_owned()).await?;
            tx.execute(
                Query::new("update users set password_hash = $1, must_change_password = $2 where id = $3")
                    .bind(hash)
                    .bind(one_time)
                    .bind(id),
            )
            .await?;
            tx.execute(
                Query::new(
                    "delete from sign_in_throttle where username_key = (select username_key from users where id = $1)",
                )
                .bind(id),
            )
            .await?;
        }
        Backend::Postgres => {
            tx.execute(
                Query::new("select crm_set_password($1, $2, $3)")
                    .bind(id)
                    .bind(scram_verifier(password))
                    .bind(one_time),
            )
            .await?;
        }
    }
    Ok(())
}

/// Counts a sign-in attempt under `key` before its password is checked, and returns the seconds
/// left when the name is paused (then the attempt is not counted).
///
/// The attempt is counted as a failure in advance, and the pause it would earn is set in advance
/// too; a successful sign-in then deletes the row. So parallel guesses cannot all pass the check
/// before the first of them is recorded: the row is locked while one attempt is reserved (the
/// no-op update locks it on PostgreSQL; on SQLite the write transaction holds the database).
async fn reserve_attempt(db: &Db, key: &str) -> Result<Option<i64>> {
    let at = now();
    let mut tx = db.write().await?;
    tx.execute(
        Query::new(
            "insert into sign_in_throttle (username_key, failures, last_at) values ($1, 0, $2)
             on conflict (username_key) do nothing",
        )
        .bind(key)
        .bind(at),
    )
    .await?;
    tx.execute(Query::new("update sign_in_throttle set failures = failures where username_key = $1").bind(key)).await?;
    let (failures, locked_until): (i64, Option<DateTime<Utc>>) = tx
        .fetch_one(Query::new("select failures, locked_until from sign_in_throttle where username_key = $1").bind(key))
        .await?;
    if let Some(until) = locked_until.filter(|until| *until > at) {
        tx.commit().await?;
        return Ok(Some((until - at).num_seconds().max(1)));
    }
    let failures = failures + 1;
    tx.execute(
        Query::new(
            "update sign_in_throttle set failures = $1, locked_until = $2, last_at = $3 where username_key = $4",
        )
        .bind(failures)
        .bind(pause_after(failures))
        .bind(at)
        .bind(key),
    )
    .await?;
    // Names tried once and never again are forgotten after a day.
    tx.execute(
        Query::new("delete from sign_in_throttle where last_at < $1 and (locked_until is null or locked_until < $2)")
            .bind(at - Duration::days(1))
            .bind(at),
    )
    .await?;
    tx.commit().await?;
    Ok(None)
}

pub(crate) async fn insert_user(tx: &mut Tx, username: &str, full_name: &str, password: &str) -> Result<UserId> {
    let key = text::key(username);
    let taken: Option<(i64,)> =
        tx.fetch_optional(Query::new("select id from users where username_key = $1").bind(&key)).await?;
    if taken.is_some() {
        return Err(Error::Invalid(vec![FieldError::new("username", "username_taken")]));
    }
    let at = now();
    // a local file keeps the hash in the row (not null); the office server keeps none here
    let hash = match tx.backend() {
        Backend::Sqlite => Some(hash_password(password.to_owned()).await?),
        Backend::Postgres => None,
    };
    let id = tx
        .scalar(
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
        .await?;
    if tx.backend() == Backend::Postgres {
        // the login role was made by the insert's trigger; now it gets its password
        store_password(tx, id, password, false).await?;
    }
    Ok(id)
}

/// The user's roles and effective permissions (from roles and granted directly), or `None` when
/// the user is missing or deactivated.
pub(crate) async fn load_actor(tx: &mut Tx, db: &Db, user_id: UserId) -> Result<Option<Actor>> {
    let user: Option<(String, String, bool, bool)> = tx
        .fetch_optional(
            Query::new("select username, full_name, is_active, must_change_password from users where id = $1")
                .bind(user_id),
        )
        .await?;
    let Some((username, full_name, true, must_change_password)) = user else {
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
        must_change_password,
        db: db.clone(),
    }))
}
