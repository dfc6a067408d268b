//! A query value: SQL text with `$n` placeholders and the arguments to bind.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// An argument of a [`Query`]. Each kind carries an `Option` so that a NULL keeps its SQL type,
/// which PostgreSQL needs.
#[derive(Debug, Clone)]
pub enum Value {
    I64(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    Timestamp(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(Some(v.into())) }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Self { Value::$variant(v.map(Into::into)) }
        }
    )*};
}

value_from!(
    i64 => I64,
    i32 => I64,
    String => Text,
    &str => Text,
    bool => Bool,
    NaiveDate => Date,
    DateTime<Utc> => Timestamp,
    Vec<u8> => Bytes,
);

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}

/// SQL text plus arguments. Static text uses `$1..$n` written by hand with [`Query::bind`];
/// text built from parts (filters, sort) uses [`Query::push`] and [`Query::push_bind`], which
/// numbers the placeholder itself. Only fixed fragments are ever pushed: values always bind.
#[derive(Debug, Clone, Default)]
pub struct Query {
    sql: String,
    args: Vec<Value>,
}

impl Query {
    pub fn new(sql: impl Into<String>) -> Self {
        Self { sql: sql.into(), args: Vec::new() }
    }

    /// Appends the argument for the next `$n` written in the text.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends a fixed SQL fragment (never user input).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends `$n` for a new argument.
    pub fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.args.push(value.into());
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub(crate) fn into_parts(self) -> (SqlStr, Vec<Value>) {
        // Safe: the text is built only from literals in this crate; every value is bound.
        (AssertSqlSafe(self.sql).into_sql_str(), self.args)
    }
}

impl Query {
    /// This query with `head` put in front: a shared `from ... where ...` clause serves both the
    /// count and the page of a list.
    pub fn prefixed(self, head: &str) -> Self {
        Self { sql: format!("{head}{}", self.sql), args: self.args }
    }
}
