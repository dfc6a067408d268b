//! A query value: SQL text with `$n` placeholders and the arguments to bind.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::domain::contact::{Email, Phone};
use crate::domain::text::{Name, PersonName};

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

/// The SQL type of a column whose rows are read without a struct (see [`super::Tx::fetch_values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I64,
    Text,
    Bool,
    Date,
    Timestamp,
    Bytes,
}

/// The values of one row read by [`super::Tx::for_each_values`], taken in the order of its columns.
pub struct Columns(std::vec::IntoIter<Value>);

impl Columns {
    pub fn new(values: Vec<Value>) -> Self {
        Self(values.into_iter())
    }

    fn next(&mut self) -> crate::error::Result<Value> {
        self.0.next().ok_or_else(|| crate::error::Error::Internal("a row has fewer columns than read".into()))
    }

    fn required<T>(value: Option<T>) -> crate::error::Result<T> {
        value.ok_or_else(|| crate::error::Error::Internal("NULL in a column that must have a value".into()))
    }

    fn mismatch(value: &Value) -> crate::error::Error {
        crate::error::Error::Internal(format!("a column read as another kind: {value:?}"))
    }

    pub fn opt_i64(&mut self) -> crate::error::Result<Option<i64>> {
        match self.next()? {
            Value::I64(v) => Ok(v),
            other => Err(Self::mismatch(&other)),
        }
    }

    pub fn i64(&mut self) -> crate::error::Result<i64> {
        Self::required(self.opt_i64()?)
    }

    pub fn opt_text(&mut self) -> crate::error::Result<Option<String>> {
        match self.next()? {
            Value::Text(v) => Ok(v),
            other => Err(Self::mismatch(&other)),
        }
    }

    pub fn text(&mut self) -> crate::error::Result<String> {
        Self::required(self.opt_text()?)
    }

    pub fn bool(&mut self) -> crate::error::Result<bool> {
        match self.next()? {
            Value::Bool(v) => Self::required(v),
            other => Err(Self::mismatch(&other)),
        }
    }

    pub fn timestamp(&mut self) -> crate::error::Result<DateTime<Utc>> {
        match self.next()? {
            Value::Timestamp(v) => Self::required(v),
            other => Err(Self::mismatch(&other)),
        }
    }
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

/// The parsed text types bind as the text they hold.
macro_rules! text_from {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::Text(Some(v.as_str().to_owned())) }
        }
        impl From<&$t> for Value {
            fn from(v: &$t) -> Self { Value::Text(Some(v.as_str().to_owned())) }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Self { Value::Text(v.map(|v| v.as_str().to_owned())) }
        }
        impl From<Option<&$t>> for Value {
            fn from(v: Option<&$t>) -> Self { Value::Text(v.map(|v| v.as_str().to_owned())) }
        }
    )*};
}

text_from!(Phone, Email, PersonName, Name);

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

    /// Appends `($n, $n+1, ...)`, each value a new argument: the list of an `in`. Give it at
    /// least one value (`in ()` is not SQL); every caller returns early on an empty list.
    pub fn push_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            self.push(if i == 0 { "" } else { ", " }).push_bind(value);
        }
        self.push(")")
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub(crate) fn into_parts(self) -> (SqlStr, Vec<Value>) {
        // Safe: the text is built only from literals in this crate; every value is bound.
        (AssertSqlSafe(self.sql).into_sql_str(), self.args)
    }

    /// The same query with anonymous `?` placeholders and its arguments in order of occurrence,
    /// for SQLite. SQLite finds a named parameter such as `$7` by a linear scan of all names, so
    /// binding a statement with n of them costs O(n²): measured at 85% of the time of the demo
    /// generator's 9,000-parameter inserts. `?` parameters bind in O(1).
    pub(crate) fn into_sqlite_parts(self) -> (SqlStr, Vec<Value>) {
        let (sql, order) = positional(&self.sql, self.args.len());
        let mut uses = vec![0usize; self.args.len()];
        for &i in &order {
            uses[i] += 1;
        }
        let mut slots: Vec<Option<Value>> = self.args.into_iter().map(Some).collect();
        let args = order
            .into_iter()
            .map(|i| {
                uses[i] -= 1;
                // moved on its last use, cloned before (only for a `$n` written twice)
                if uses[i] == 0 { slots[i].take() } else { slots[i].clone() }.expect("each argument is taken once")
            })
            .collect();
        (AssertSqlSafe(sql).into_sql_str(), args)
    }
}

/// Replaces each `$n` (1 <= n <= `arg_count`) outside string literals and comments with `?` and
/// returns the zero-based argument index of each placeholder in order of occurrence.
fn positional(sql: &str, arg_count: usize) -> (String, Vec<usize>) {
    let mut order = Vec::with_capacity(arg_count);
    let out = rewrite_placeholders(sql, arg_count, |i, out| {
        out.push('?');
        order.push(i);
    });
    (out, order)
}

/// `sql` with each `$n` (1 <= n <= `arg_count`) outside string literals and comments replaced
/// by what `write` writes for the zero-based argument index `n - 1`.
fn rewrite_placeholders(sql: &str, arg_count: usize, mut write: impl FnMut(usize, &mut String)) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        // copied verbatim: a string literal, a line comment, a block comment
        let skip = match c {
            '\'' => rest[1..].find('\'').map_or(rest.len(), |end| end + 2),
            '-' if rest.starts_with("--") => rest.find('\n').unwrap_or(rest.len()),
            '/' if rest.starts_with("/*") => rest.find("*/").map_or(rest.len(), |end| end + 2),
            _ => 0,
        };
        if skip > 0 {
            out.push_str(&rest[..skip]);
            rest = &rest[skip..];
            continue;
        }
        if c == '$' {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            if let Ok(n) = rest[1..1 + digits].parse::<usize>() {
                if (1..=arg_count).contains(&n) {
                    write(n - 1, &mut out);
                    rest = &rest[1 + digits..];
                    continue;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

impl Query {
    /// This query with `head` put in front: a shared `from ... where ...` clause serves both the
    /// count and the page of a list.
    pub fn prefixed(self, head: &str) -> Self {
        Self { sql: format!("{head}{}", self.sql), args: self.args }
    }

    /// Appends `other` (its own `$1`, `$2`, ... renumbered after this query's arguments).
    pub fn append(&mut self, other: Query) -> &mut Self {
        let offset = self.args.len();
        let sql = rewrite_placeholders(&other.sql, other.args.len(), |i, out| {
            out.push('$');
            out.push_str(&(i + 1 + offset).to_string());
        });
        self.sql.push_str(&sql);
        self.args.extend(other.args);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appended_query_numbers_its_arguments_after_the_first_ones() {
        let mut q = Query::new("select 1 from (select a from t where b = $1) s").bind(1i64);
        q.append(Query::new(" where c = $1 and d = '$1' and e = $2 or f = $1").bind(2i64).bind(3i64));
        assert_eq!(
            q.sql(),
            "select 1 from (select a from t where b = $1) s where c = $2 and d = '$1' and e = $3 or f = $2"
        );
        assert_eq!(q.args.len(), 3);
    }

    #[test]
    fn sqlite_placeholders_follow_occurrence_and_repeat_reused_arguments() {
        let q = Query::new("insert into t (a, b, c) values ($2, $1, $2) -- '$9'").bind(1i64).bind(2i64);
        let (sql, args) = q.into_sqlite_parts();
        assert_eq!(sql.as_str(), "insert into t (a, b, c) values (?, ?, ?) -- '$9'");
        let values: Vec<_> = args.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(values, ["I64(Some(2))", "I64(Some(1))", "I64(Some(2))"]);
    }

    #[test]
    fn comments_and_literals_are_copied_untouched() {
        let sql = "select $1 -- the client's $1\n, '$1 it''s' /* $1 ' */, $2";
        let (out, order) = positional(sql, 2);
        assert_eq!(out, "select ? -- the client's $1\n, '$1 it''s' /* $1 ' */, ?");
        assert_eq!(order, vec![0, 1]);
    }

    #[test]
    fn dollars_in_literals_and_out_of_range_numbers_stay() {
        let (sql, order) = positional("select '$1', $3, $1", 1);
        assert_eq!((sql.as_str(), order), ("select '$1', $3, ?", vec![0]));
    }
}
