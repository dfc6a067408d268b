//! The contract form: raw text in, a checked [`ValidContract`] out, with every field error at once.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::db::{Query, Tx};
use crate::domain::{text, Money};
use crate::error::{Checks, Error, FieldError, Result};

use super::Contract;

/// What a form sends: raw text, parsed and checked by the core. Dates are `YYYY-MM-DD` (the
/// date input's format) or `DD.MM.YYYY` (typed by hand).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContractInput {
    pub name: String,
    pub service_id: Option<i64>,
    pub signed_on: String,
    pub valid_from: String,
    pub valid_to: String,
    pub amount: String,
}

/// A contract form that passed every check.
pub(crate) struct ValidContract {
    pub name: String,
    pub service_id: i64,
    pub signed_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub amount: Money,
}

/// Checks a contract form, recording every problem in `checks`: the fields themselves, a name
/// already in use and the service. `current` is the contract being edited, if any.
pub(super) async fn check_input(
    tx: &mut Tx,
    checks: &mut Checks,
    input: &ContractInput,
    current: Option<&Contract>,
) -> Result<ValidContract> {
    let name = checks.take(text::name("name", &input.name, 200));
    if let Some(name) = &name {
        if name_taken(tx, name, current.map(|c| c.id)).await? {
            checks.push(FieldError::new("name", "name_taken"));
        }
    }
    let service_id = check_service(tx, checks, input.service_id, current.map(|c| c.service_id)).await?;
    let signed_on = checks.take(parse_date("signed_on", &input.signed_on));
    let valid_from = checks.take(parse_date("valid_from", &input.valid_from));
    let valid_to = checks.take(parse_date("valid_to", &input.valid_to));
    if let (Some(from), Some(to)) = (valid_from, valid_to) {
        if to < from {
            checks.push(FieldError::new("valid_to", "end_before_start"));
        }
    }
    let amount = checks.take(Money::parse("amount", &input.amount).and_then(|m| {
        if m.is_zero() {
            Err(FieldError::new("amount", "not_positive"))
        } else {
            Ok(m)
        }
    }));
    Ok(ValidContract {
        name: name.unwrap_or_default(),
        service_id: service_id.unwrap_or_default(),
        signed_on: signed_on.unwrap_or_default(),
        valid_from: valid_from.unwrap_or_default(),
        valid_to: valid_to.unwrap_or_default(),
        amount: amount.unwrap_or_default(),
    })
}

/// The service must exist and be live; a contract being edited may keep a service archived since.
async fn check_service(tx: &mut Tx, checks: &mut Checks, id: Option<i64>, current: Option<i64>) -> Result<Option<i64>> {
    let Some(id) = id else {
        checks.push(FieldError::new("service_id", "required"));
        return Ok(None);
    };
    let archived: Option<(bool,)> =
        tx.fetch_optional(Query::new("select is_archived from services where id = $1").bind(id)).await?;
    let problem = match archived {
        None => Some("unknown"),
        Some((true,)) if current != Some(id) => Some("archived"),
        Some(_) => None,
    };
    if let Some(code) = problem {
        checks.push(FieldError::new("service_id", code));
    }
    Ok(Some(id))
}

async fn name_taken(tx: &mut Tx, name: &str, except: Option<i64>) -> Result<bool> {
    let taken: Option<(i64,)> = tx
        .fetch_optional(
            Query::new("select id from contracts where name_key = $1 and id <> $2")
                .bind(text::key(name))
                .bind(except.unwrap_or(0)),
        )
        .await?;
    Ok(taken.is_some())
}

/// The unique name index is the last guard when two people save the same name at once.
pub(super) fn name_race(error: Error) -> Error {
    if is_unique_violation(&error) {
        Error::field("name", "name_taken")
    } else {
        error
    }
}

pub(crate) fn is_unique_violation(error: &Error) -> bool {
    matches!(error, Error::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
}

/// Accepts `YYYY-MM-DD` and `DD.MM.YYYY`.
fn parse_date(field: &'static str, input: &str) -> Result<NaiveDate, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(trimmed, "%d.%m.%Y"))
        .map_err(|_| FieldError::new(field, "date_invalid"))
}
