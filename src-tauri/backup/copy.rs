//! Every table of one CRM database copied into another, and the copy proved equal.
//!
//! The tables are listed here in an order where each row's references come before it; a test
//! fails when a migration adds a table this list does not name. Columns are not listed: they are
//! read from the schema of the SQLite side (every copy has one: the backup file, or the local
//! database being moved) and checked against the PostgreSQL side, so a migration that adds a
//! column is copied with no change here.

use sha2::{Digest, Sha256};

use crate::db::{Backend, Kind, Query, Tx, Value};
use crate::error::{Error, Result};

/// A table a backup holds.
pub(crate) struct Table {
    pub name: &'static str,
    /// The primary key, which orders the rows on both sides.
    order: &'static str,
    /// Rows per read, paged by the (integer) key; `None`: a small table read whole.
    page: Option<i64>,
    /// A column referring to this same table: copied as NULL, then set once every row is in.
    later: Option<&'static str>,
}

const fn table(name: &'static str, order: &'static str, page: Option<i64>) -> Table {
    Table { name, order, page, later: None }
}

/// Rows per read of an ordinary table.
const PAGE: Option<i64> = Some(5_000);

/// Parents before children.
pub(crate) const TABLES: &[Table] = &[
    table("permissions", "code", None),
    table("roles", "id", None),
    table("role_permissions", "role_id, permission_code", None),
    table("users", "id", None),
    table("user_roles", "user_id, role_id", None),
    table("user_permissions", "user_id, permission_code", None),
    table("imports", "id", PAGE),
    table("channels", "id", PAGE),
    table("services", "id", PAGE),
    table("campaigns", "id", PAGE),
    table("lost_reasons", "id", PAGE),
    Table { later: Some("merged_into"), ..table("leads", "id", PAGE) },
    table("clients", "id", PAGE),
    table("contracts", "id", PAGE),
    // documents are up to a few megabytes each
    table("contract_documents", "contract_id", Some(16)),
    table("audit_log", "id", PAGE),
    table("tasks", "id", PAGE),
    table("saved_filters", "id", PAGE),
];

/// What a backup leaves out: each database's own migration ledger, sign-in pauses (a restored
/// database starts without any), a PostgreSQL database's `office` row (its role prefix and days
/// belong to that server), and what the database derives from the rows and makes again as they
/// go in: the statistics' roll-ups, the lead and list counts, the contracts per signing day, and (below) the trigram search indexes.
pub(crate) const NOT_COPIED: &[&str] = &[
    "_sqlx_migrations",
    "sign_in_throttle",
    "office",
    "stat_days",
    "stat_months",
    "stat_day_totals",
    "lead_counts",
    "list_counts",
    "signing_days",
];

/// SQLite's full-text tables and their shadow tables (`leads_search_data`, ...): derived too.
const DERIVED_PREFIXES: &[&str] = &["leads_search", "clients_search", "contracts_search"];

/// Left out of the checksums: a password lives where the backend keeps it (an argon2 hash in a
/// local file, the login role on an office server), so it does not travel between backends.
const NOT_SUMMED: &[(&str, &str)] = &[("users", "password_hash"), ("users", "must_change_password")];

/// Values per INSERT statement: large enough to be fast, well inside both backends' limits.
const VALUES_PER_INSERT: usize = 9_000;

/// Fails for a table of the schema that the lists above do not name: a migration added it, and
/// a backup without it would lose its rows.
pub(crate) async fn check_tables(sqlite: &mut Tx) -> Result<()> {
    let names: Vec<(String,)> = sqlite
        .fetch_all(Query::new(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> 'crm_backup'",
        ))
        .await?;
    let copied_or_derived = |n: &str| {
        TABLES.iter().any(|t| t.name == n)
            || NOT_COPIED.contains(&n)
            || DERIVED_PREFIXES.iter().any(|p| n.starts_with(p))
    };
    match names.into_iter().find(|(n,)| !copied_or_derived(n)) {
        Some((name,)) => Err(Error::Internal(format!("table {name} is in no backup: name it in backup/copy.rs"))),
        None => Ok(()),
    }
}

pub(crate) struct Column {
    name: String,
    kind: Kind,
}

/// The columns of `table` as a SQLite database's schema declares them.
pub(crate) async fn columns(sqlite: &mut Tx, table: &str) -> Result<Vec<Column>> {
    let declared: Vec<(String, String)> =
        sqlite.fetch_all(Query::new("select name, type from pragma_table_info($1) order by cid").bind(table)).await?;
    if declared.is_empty() {
        return Err(Error::Internal(format!("table {table} is missing")));
    }
    declared
        .into_iter()
        .map(|(name, declared)| {
            let kind = match declared.to_ascii_lowercase().as_str() {
                "integer" | "bigint" => Kind::I64,
                "text" => Kind::Text,
                "boolean" => Kind::Bool,
                "date" => Kind::Date,
                "timestamp" => Kind::Timestamp,
                "blob" => Kind::Bytes,
                other => return Err(Error::Internal(format!("{table}.{name}: no copy for type {other}"))),
            };
            Ok(Column { name, kind })
        })
        .collect()
}

/// Checks that `table` has the same columns on a PostgreSQL database: the two schemas agree.
pub(crate) async fn check_columns(pg: &mut Tx, table: &str, columns: &[Column]) -> Result<()> {
    let mut there: Vec<String> = pg
        .fetch_all::<(String,)>(
            Query::new(
                "select column_name::text from information_schema.columns
                 where table_schema = current_schema() and table_name = $1",
            )
            .bind(table),
        )
        .await?
        .into_iter()
        .map(|(name,)| name)
        .collect();
    let mut here: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    there.sort();
    here.sort();
    if there != here {
        return Err(Error::Internal(format!("table {table} differs: {here:?} here, {there:?} there")));
    }
    Ok(())
}

/// A table's row count and the SHA-256 of its contents in key order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableSum {
    pub table: String,
    pub rows: u64,
    pub sha256: String,
}

/// Hashes values in a form that is the same whichever backend they were read from.
struct Summer {
    table: &'static str,
    skip: Vec<bool>,
    hash: Sha256,
    rows: u64,
}

impl Summer {
    fn new(table: &'static str, columns: &[Column]) -> Self {
        let skip = columns.iter().map(|c| NOT_SUMMED.contains(&(table, c.name.as_str()))).collect();
        Self { table, skip, hash: Sha256::new(), rows: 0 }
    }

    fn add(&mut self, row: &[Value]) {
        self.rows += 1;
        for (value, skip) in row.iter().zip(&self.skip) {
            if *skip {
                continue;
            }
            let h = &mut self.hash;
            match value {
                Value::I64(Some(v)) => (h.update([1]), h.update(v.to_le_bytes())),
                Value::Text(Some(v)) => (h.update([2]), bytes(h, v.as_bytes())),
                Value::Bool(Some(v)) => (h.update([3]), h.update([u8::from(*v)])),
                Value::Date(Some(v)) => (h.update([4]), h.update(chrono::Datelike::num_days_from_ce(v).to_le_bytes())),
                // PostgreSQL keeps microseconds; a local file may hold nanoseconds
                Value::Timestamp(Some(v)) => (h.update([5]), h.update(v.timestamp_micros().to_le_bytes())),
                Value::Bytes(Some(v)) => (h.update([6]), bytes(h, v)),
                _ => (h.update([0]), ()),
            };
        }
    }

    fn finish(self) -> TableSum {
        let digest = self.hash.finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        TableSum { table: self.table.to_owned(), rows: self.rows, sha256 }
    }
}

fn bytes(hash: &mut Sha256, value: &[u8]) {
    hash.update((value.len() as u64).to_le_bytes());
    hash.update(value);
}

/// One page of `table` after the key `after` (the whole table when it is not paged).
async fn read_page(tx: &mut Tx, table: &Table, columns: &[Column], after: i64) -> Result<Vec<Vec<Value>>> {
    let list = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let (name, order) = (table.name, table.order);
    let kinds: Vec<Kind> = columns.iter().map(|c| c.kind).collect();
    let query = match table.page {
        Some(page) => Query::new(format!("select {list} from {name} where {order} > $1 order by {order} limit {page}"))
            .bind(after),
        None => Query::new(format!("select {list} from {name} order by {order}")),
    };
    tx.fetch_values(query, &kinds).await
}

/// Reads a table page by page, in key order.
struct Pager<'a> {
    table: &'a Table,
    columns: &'a [Column],
    key: Option<usize>,
    /// The key of the last row read; `None` once the table is read.
    after: Option<i64>,
}

impl<'a> Pager<'a> {
    fn new(table: &'a Table, columns: &'a [Column]) -> Self {
        let key = columns.iter().position(|c| c.name == table.order);
        Self { table, columns, key, after: Some(i64::MIN) }
    }

    /// The next page, or `None` after the last.
    async fn next(&mut self, tx: &mut Tx) -> Result<Option<Vec<Vec<Value>>>> {
        let Some(after) = self.after else { return Ok(None) };
        let rows = read_page(tx, self.table, self.columns, after).await?;
        self.after = match (self.table.page, self.key, rows.last()) {
            (Some(page), Some(key), Some(last)) if rows.len() as i64 == page => match &last[key] {
                Value::I64(Some(id)) => Some(*id),
                _ => return Err(Error::Internal(format!("{}: the key is not an integer", self.table.name))),
            },
            _ => None,
        };
        Ok(if rows.is_empty() { None } else { Some(rows) })
    }
}

/// The checksum of `table` as it is in `tx`.
pub(crate) async fn sum_table(tx: &mut Tx, table: &Table, columns: &[Column]) -> Result<TableSum> {
    let mut summer = Summer::new(table.name, columns);
    let mut pager = Pager::new(table, columns);
    while let Some(rows) = pager.next(tx).await? {
        rows.iter().for_each(|row| summer.add(row));
    }
    Ok(summer.finish())
}

/// A value as the target backend keeps it.
fn adapt(table: &str, column: &str, value: Value, to: Backend) -> Value {
    match (table, column, to, value) {
        // an office server keeps passwords in its login roles, never here
        ("users", "password_hash", Backend::Postgres, _) => Value::Text(None),
        // a local file's column is NOT NULL: empty means "no password on this computer"
        ("users", "password_hash", Backend::Sqlite, Value::Text(None)) => Value::Text(Some(String::new())),
        (_, _, _, value) => value,
    }
}

/// Copies every row of `table` from `from` into `to` (where it is empty) and returns the
/// checksum of what was read, for [`sum_table`] on the target to be compared with.
/// `progress` hears the rows copied so far.
pub(crate) async fn copy_table(
    from: &mut Tx,
    to: &mut Tx,
    table: &Table,
    columns: &[Column],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<TableSum> {
    let backend = to.backend();
    let names = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let head = match backend {
        // ids keep their values: the rows that refer to them come with them
        Backend::Postgres => format!("insert into {} ({names}) overriding system value values ", table.name),
        Backend::Sqlite => format!("insert into {} ({names}) values ", table.name),
    };
    let later = table.later.and_then(|column| columns.iter().position(|c| c.name == column));
    let key = columns.iter().position(|c| c.name == table.order);
    let per_insert = (VALUES_PER_INSERT / columns.len()).max(1);
    let mut summer = Summer::new(table.name, columns);
    let mut deferred: Vec<(i64, i64)> = Vec::new();
    let mut copied = 0u64;
    let mut pager = Pager::new(table, columns);
    while let Some(rows) = pager.next(from).await? {
        for chunk in rows.chunks(per_insert) {
            let mut insert = Query::new(head.clone());
            for (n, row) in chunk.iter().enumerate() {
                summer.add(row);
                insert.push(if n == 0 { "(" } else { ", (" });
                for (i, (value, column)) in row.iter().zip(columns).enumerate() {
                    if i > 0 {
                        insert.push(", ");
                    }
                    let value = match (later, key) {
                        (Some(l), Some(k)) if l == i => {
                            if let (Value::I64(Some(id)), Value::I64(Some(target))) = (&row[k], value) {
                                deferred.push((*id, *target));
                            }
                            Value::I64(None)
                        }
                        _ => adapt(table.name, &column.name, value.clone(), backend),
                    };
                    insert.push_bind(value);
                }
                insert.push(")");
            }
            to.execute(insert).await?;
            copied += chunk.len() as u64;
            progress(copied);
        }
    }
    if let Some(column) = table.later {
        for (id, target) in deferred {
            let sql = format!("update {} set {column} = $1 where {} = $2", table.name, table.order);
            to.execute(Query::new(sql).bind(target).bind(id)).await?;
        }
    }
    if backend == Backend::Postgres && table.order == "id" {
        // the next new row continues after the copied ones
        to.execute(Query::new(format!(
            "select setval(pg_get_serial_sequence('{0}', 'id'), coalesce(max(id), 0) + 1, false) from {0}",
            table.name
        )))
        .await?;
    }
    Ok(summer.finish())
}

/// Rows in `table`, for progress.
pub(crate) async fn count(tx: &mut Tx, table: &Table) -> Result<u64> {
    let n: i64 = tx.scalar(Query::new(format!("select count(*) from {}", table.name))).await?;
    Ok(n as u64)
}
