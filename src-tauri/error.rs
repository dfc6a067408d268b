//! One error type for every use case. Its variants are what a caller can act on; the UI switches
//! on `code()`, never on message text, and the message comes from [`crate::i18n`].

use serde::Serialize;

/// A problem with one input field: which field, and a message code with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    /// Message key in [`crate::i18n`], e.g. `required`, `too_long`, `phone_taken`.
    pub code: &'static str,
    /// Values substituted into the message, e.g. `max` for `too_long`.
    pub params: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str) -> Self {
        Self { field, code, params: Vec::new() }
    }

    pub fn with(mut self, key: &'static str, value: impl ToString) -> Self {
        self.params.push((key, value.to_string()));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nobody is signed in, the session's user is gone or deactivated, or the credentials are wrong.
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed sign-in attempts; try again in {seconds} s")]
    Throttled { seconds: i64 },
    #[error("this account is deactivated")]
    Deactivated,
    /// Signed in with a one-time password: the user must choose their own first.
    #[error("choose a new password first")]
    PasswordChangeRequired,
    /// The signed-in user lacks the permission the use case needs.
    #[error("permission denied: {0}")]
    Forbidden(&'static str),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: i64 },
    /// The input is invalid; nothing was written.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The record was changed by someone else since it was read (optimistic locking).
    #[error("{entity} {id} was changed by someone else")]
    Conflict { entity: &'static str, id: i64 },
    /// The operation is not allowed in the record's current state (e.g. converting twice).
    #[error("{code}")]
    State { code: &'static str, params: Vec<(&'static str, String)> },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn field(field: &'static str, code: &'static str) -> Self {
        Self::Invalid(vec![FieldError::new(field, code)])
    }

    pub fn state(code: &'static str) -> Self {
        Self::State { code, params: Vec::new() }
    }

    /// The database refused this connection's user a privilege (PostgreSQL's 42501): on an office
    /// server, a role that lost its rights mid-session.
    pub fn is_refused_by_server(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501"))
    }

    /// The office server rolled the transaction back because it deadlocked with another one
    /// (40P01) or could not be serialized (40001): running it again is safe and will succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("40P01" | "40001")))
    }

    /// The connection to the database broke under a statement: the office server restarted or
    /// shut down (57P01-57P03), or the network dropped it.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Io(_)) => true,
            Self::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006"))
            }
            _ => false,
        }
    }

    /// A stable code the UI and scripts can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad_credentials",
            Self::Throttled { .. } => "throttled",
            Self::Deactivated => "deactivated",
            Self::PasswordChangeRequired => "password_change_required",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Invalid(_) => "invalid",
            Self::Conflict { .. } => "conflict",
            Self::State { code, .. } => code,
            Self::Database(_) | Self::Migrate(_) => "database",
            Self::Config(_) => "config",
            Self::Internal(_) => "internal",
        }
    }

    /// The first field at fault, for forms that focus it.
    pub fn first_field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid(errors) => errors.first().map(|e| e.field),
            _ => None,
        }
    }
}

/// Collects field errors so a form gets all of them at once, not one per attempt.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value when it parsed, records the error otherwise.
    pub fn take<T>(&mut self, parsed: std::result::Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems found, in the order they were found.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
