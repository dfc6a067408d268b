//! Row-level rules every entity module shares: versioned updates and archiving, references to
//! live rows, names unique ignoring case and the unique violations behind them. `table` and
//! `entity` are always literals of the calling module (a table name, and its row's name in
//! errors and the audit log).

use sqlx::error::DatabaseError;

use crate::app::{audit, now};
use crate::db::{reading, Lock, Query, Row, Tx, Value};
use crate::domain::id::{ClientId, Version};
use crate::domain::text;
use crate::error::{Checks, Error, FieldError, Result};
use crate::permission::Actor;

/// Runs `update`, an `update {table} ... where id = $ and version = $` for row `id`. No row
/// changed means the row is gone (`NotFound`) or someone saved a newer version first
/// (`Conflict`).
pub(crate) async fn update_versioned(
    tx: &mut Tx,
    table: &'static str,
    entity: &'static str,
    id: impl Into<i64>,
    update: Query,
) -> Result<()> {
    let id = id.into();
    if tx.execute(update).await? > 0 {
        return Ok(());
    }
    Err(unchanged(tx, table, entity, id).await?)
}

/// [`update_versioned`] of an `update ... returning ...`: the row it returns.
async fn update_versioned_returning<T: Row>(
    tx: &mut Tx,
    table: &'static str,
    entity: &'static str,
    id: i64,
    update: Query,
) -> Result<T> {
    match tx.fetch_optional(update).await? {
        Some(row) => Ok(row),
        None => Err(unchanged(tx, table, entity, id).await?),
    }
}

/// Why a versioned update of row `id` changed nothing: the row is gone or was saved since.
async fn unchanged(tx: &mut Tx, table: &'static str, entity: &'static str, id: i64) -> Result<Error> {
    let exists: Option<(i64,)> =
        tx.fetch_optional(Query::new(format!("select id from {table} where id = $1")).bind(id)).await?;
    Ok(match exists {
        Some(_) => Error::Conflict { entity, id },
        None => Error::NotFound { entity, id },
    })
}

/// Archives (or restores) row `id` of `table` read at `version`, and records it in the audit log.
pub(crate) async fn set_archived(
    tx: &mut Tx,
    actor: &Actor,
    table: &'static str,
    entity: &'static str,
    id: impl Into<i64>,
    version: Version,
    archived: bool,
) -> Result<()> {
    let id = id.into();
    // the record's name at the time, as its other entries give it (the History page shows it)
    let name_column = if matches!(table, "leads" | "clients") { "full_name" } else { "name" };
    let update = Query::new(format!(
        "update {table} set is_archived = $1, version = version + 1, updated_at = $2 where id = $3 and version = $4
         returning {name_column}"
    ))
    .bind(archived)
    .bind(now())
    .bind(id)
    .bind(version);
    let (name,): (String,) = update_versioned_returning(tx, table, entity, id, update).await?;
    audit(tx, actor, archive_action(archived), entity, id, &name).await
}

/// The audit log's name for archiving or restoring.
pub(crate) fn archive_action(archived: bool) -> &'static str {
    if archived {
        "archive"
    } else {
        "restore"
    }
}

/// Fails with `in_use` naming the first table that still refers to row `id`.
async fn ensure_unreferenced(tx: &mut Tx, id: i64, references: &[(&'static str, &'static str)]) -> Result<()> {
    for (table, column) in references {
        let used: Option<(i64,)> = tx
            .fetch_optional(Query::new(format!("select id from {table} where {column} = $1 limit 1")).bind(id))
            .await?;
        if used.is_some() {
            return Err(Error::State { code: "in_use", params: vec![("what", (*table).to_owned())] });
        }
    }
    Ok(())
}

/// Deletes row `id` of `table` when no row of `references` refers to it, else `in_use`. A reference
/// another writer adds at the same moment makes the delete break a foreign key: that is `in_use`
/// too, not a database error.
pub(crate) async fn delete_unreferenced(
    tx: &mut Tx,
    table: &'static str,
    id: impl Into<i64>,
    references: &[(&'static str, &'static str)],
) -> Result<()> {
    let id = id.into();
    ensure_unreferenced(tx, id, references).await?;
    let deleted = tx.execute(Query::new(format!("delete from {table} where id = $1")).bind(id)).await;
    match deleted {
        Err(Error::Database(sqlx::Error::Database(db))) if db.is_foreign_key_violation() => {
            let what = references.first().map_or(table, |r| r.0);
            Err(Error::State { code: "in_use", params: vec![("what", what.to_owned())] })
        }
        other => other.map(drop),
    }
}

/// Checks that row `id` of `table` exists (`unknown`) and is live (`archived`), recording the
/// problem on `field`. A reference the record already had (`current`) may stay although it was
/// archived since, so old records remain editable.
pub(crate) async fn check_reference<I: Copy + PartialEq + Into<Value>>(
    tx: &mut Tx,
    checks: &mut Checks,
    field: &'static str,
    table: &'static str,
    id: I,
    current: Option<I>,
) -> Result<Option<I>> {
    let row: Option<(bool,)> =
        tx.fetch_optional(Query::new(format!("select is_archived from {table} where id = $1")).bind(id)).await?;
    let problem = match row {
        None => "unknown",
        Some((true,)) if current != Some(id) => "archived",
        Some(_) => return Ok(Some(id)),
    };
    checks.push(FieldError::new(field, problem));
    Ok(None)
}

/// A reference the form must have: `required` on `field` when it is missing, else as
/// [`check_reference`].
pub(crate) async fn check_required_reference<I: Copy + PartialEq + Into<Value>>(
    tx: &mut Tx,
    checks: &mut Checks,
    field: &'static str,
    table: &'static str,
    id: Option<I>,
    current: Option<I>,
) -> Result<Option<I>> {
    match id {
        Some(id) => check_reference(tx, checks, field, table, id, current).await,
        None => {
            checks.push(FieldError::new(field, "required"));
            Ok(None)
        }
    }
}

/// Whether a row of `table` other than `except` already has this name, ignoring case (`table`
/// has a unique `name_key`).
pub(crate) async fn name_taken(
    tx: &mut Tx,
    table: &'static str,
    name: &str,
    except: Option<impl Into<i64>>,
) -> Result<bool> {
    let taken: Option<(i64,)> = tx
        .fetch_optional(
            Query::new(format!("select id from {table} where name_key = $1 and id <> $2"))
                .bind(text::key(name))
                .bind(except.map_or(0, Into::into)),
        )
        .await?;
    Ok(taken.is_some())
}

/// Fails with `name_taken` on `name` when [`name_taken`] says so.
pub(crate) async fn ensure_name_free(
    tx: &mut Tx,
    table: &'static str,
    name: &str,
    except: Option<impl Into<i64>>,
) -> Result<()> {
    if name_taken(tx, table, name, except).await? {
        return Err(Error::field("name", "name_taken"));
    }
    Ok(())
}

/// The database's report, if `error` is a unique violation.
pub(crate) fn unique_violation(error: &Error) -> Option<&dyn DatabaseError> {
    match error {
        Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => Some(db.as_ref()),
        _ => None,
    }
}

/// A unique violation while saving a row whose only unique column is `name_key` (a service,
/// campaign, channel or contract): someone else's save of the same name slipped past
/// [`name_taken`] at the same moment. Other errors pass through.
pub(crate) fn name_race(error: Error) -> Error {
    if unique_violation(&error).is_some() {
        Error::field("name", "name_taken")
    } else {
        error
    }
}

/// Recounts a client's contracts and their total amount (the `clients.contracts` and
/// `clients.revenue` columns) after a contract of theirs was added or changed, in the same
/// transaction, and the signing day each of them keeps of the one before it (see
/// [`signing_order`]). Recomputing from the client's own contracts (an index look-up) rather than
/// adding deltas keeps the totals right whatever the change was.
///
/// Two contract writes for one client at once on PostgreSQL: the lock makes the second wait for
/// the first to commit, and its recount (a new statement, so a new snapshot) then counts both.
pub(crate) async fn refresh_client_totals(tx: &mut Tx, client_id: ClientId) -> Result<()> {
    tx.lock(Lock::Client(client_id)).await?;
    tx.execute(
        Query::new(
            "update clients set
                contracts = (select count(*) from contracts where client_id = $1),
                revenue = (select cast(coalesce(sum(amount), 0) as bigint) from contracts where client_id = $1)
             where id = $1",
        )
        .bind(client_id),
    )
    .await?;
    tx.execute(Query::new(signing_order("client_id = $1")).bind(client_id)).await?;
    Ok(())
}

/// The update that makes `contracts.prev_signed_on` right for the contracts of the clients
/// `clients` names (a condition on `client_id`): the signing day of the same client's previous
/// contract, by signing day and then id (null for the first), so that sales per client for a
/// period count the clients who signed in it from one index range
/// (migrations/*/0023_signing_order.sql). Writes only what changed.
fn signing_order(clients: &str) -> String {
    format!(
        "update contracts set prev_signed_on = p.prev
         from (select id, lag(signed_on) over (partition by client_id order by signed_on, id) as prev
               from contracts where client_id is not null and {clients}) p
         where contracts.id = p.id and contracts.prev_signed_on is distinct from p.prev"
    )
}

/// [`signing_order`] made again for every contract: after a bulk load, and as a repair.
pub(crate) async fn refresh_signing_order(tx: &mut Tx) -> Result<u64> {
    tx.execute(Query::new(signing_order("true"))).await
}

/// The rows of `select` (which ends in `where {column}`) whose column is one of `ids`: a query
/// per thousand ids, where a query for each id was planned again each time (a bulk change of 50
/// leads on PostgreSQL planned its lead's read 50 times, about a millisecond each).
pub(crate) async fn fetch_in<T: Row>(tx: &mut Tx, select: &str, ids: &[i64]) -> Result<Vec<T>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let mut q = Query::new(format!("{select} in "));
        q.push_list(chunk.iter().copied());
        rows.extend(tx.fetch_all::<T>(q).await?);
    }
    Ok(rows)
}

/// Most entries a picker offers at once: it searches, it does not scroll through thousands.
pub const OPTIONS_LIMIT: i64 = 50;

/// Live rows of `table` (a literal with `name` and `name_key`) whose name contains `search`
/// ignoring case, by name, for a picker: at most [`OPTIONS_LIMIT`], so a picker stays quick
/// at thousands of campaigns.
pub(crate) async fn options<I>(actor: &Actor, table: &'static str, search: &str) -> Result<Vec<(I, String)>>
where
    (I, String): Row,
{
    text::check_search(search).map_err(|e| Error::Invalid(vec![e]))?;
    let mut q = Query::new(format!("select id, name from {table} where is_archived = false"));
    if !search.trim().is_empty() {
        q.push(" and name_key like ").push_bind(text::like_pattern(search)).push(" escape '\\'");
    }
    q.push(" order by name_key limit ").push_bind(OPTIONS_LIMIT);
    reading!(actor.db, |tx| {
        let rows = tx.fetch_all(q.clone()).await?;
        Ok(rows)
    })
}
