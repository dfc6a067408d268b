//! The contract form: raw text in, a checked [`ValidContract`] out, with every field error at once.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::db::Tx;
use crate::domain::id::ServiceId;
use crate::domain::text::Name;
use crate::domain::{date, Money};
use crate::error::{Checks, FieldError, Result};
use crate::store::{check_required_reference, name_taken};

use super::Contract;

/// What a form sends: raw text, parsed and checked by the core. Dates are `YYYY-MM-DD` (the
/// date input's format) or `DD.MM.YYYY` (typed by hand).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContractInput {
    pub name: String,
    pub service_id: Option<ServiceId>,
    pub signed_on: String,
    pub valid_from: String,
    pub valid_to: String,
    pub amount: String,
}

/// A contract form that passed every check.
pub(crate) struct ValidContract {
    pub name: Name,
    pub service_id: ServiceId,
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
    let name = checks.take(Name::parse("name", &input.name, 200));
    if let Some(name) = &name {
        if name_taken(tx, "contracts", name, current.map(|c| c.id)).await? {
            checks.push(FieldError::new("name", "name_taken"));
        }
    }
    // a contract being edited may keep a service archived since
    let had = current.map(|c| c.service_id);
    let service_id = check_required_reference(tx, checks, "service_id", "services", input.service_id, had).await?;
    let signed_on = checks.take(date::required("signed_on", &input.signed_on));
    let valid_from = checks.take(date::required("valid_from", &input.valid_from));
    let valid_to = checks.take(date::required("valid_to", &input.valid_to));
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
        // a missing service is in `checks`, which the caller finishes before using this
        service_id: service_id.unwrap_or(ServiceId::new(0)),
        signed_on: signed_on.unwrap_or_default(),
        valid_from: valid_from.unwrap_or_default(),
        valid_to: valid_to.unwrap_or_default(),
        amount: amount.unwrap_or_default(),
    })
}
