//! The campaign form: raw text parsed into a valid campaign, with every problem reported at once,
//! and the reference checks that leads reuse.

use chrono::NaiveDate;
use serde::Deserialize;

use super::Campaign;
use crate::db::{Query, Tx};
use crate::domain::{text, Money};
use crate::error::{Checks, Error, FieldError, Result};

/// What the campaign form sends: raw text, parsed and checked by the core.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CampaignInput {
    pub name: String,
    pub service_id: Option<i64>,
    pub channel_id: Option<i64>,
    pub budget: String,
    /// `YYYY-MM-DD` or `DD.MM.YYYY`.
    pub starts_on: String,
    /// Empty for an open-ended campaign.
    pub ends_on: String,
}

pub(super) struct ValidCampaign {
    pub(super) name: String,
    pub(super) service_id: i64,
    pub(super) channel_id: i64,
    pub(super) budget: Money,
    pub(super) starts_on: NaiveDate,
    pub(super) ends_on: Option<NaiveDate>,
}

impl CampaignInput {
    /// Checks every field, the references included, and reports all problems at once.
    pub(super) async fn validate(&self, tx: &mut Tx, current: Option<&Campaign>) -> Result<ValidCampaign> {
        let mut checks = Checks::new();
        let name = checks.take(text::name("name", &self.name, 200));
        let budget = checks.take(Money::parse("budget", &self.budget));
        let starts_on = checks
            .take(parse_date("starts_on", &self.starts_on))
            .and_then(|d| d.or_else(|| flag(&mut checks, "starts_on", "required")));
        let ends_on = checks.take(parse_date("ends_on", &self.ends_on));
        if let (Some(start), Some(Some(end))) = (starts_on, ends_on) {
            if end < start {
                checks.push(FieldError::new("ends_on", "end_before_start"));
            }
        }
        let service_id = match self.service_id {
            Some(id) => {
                check_reference(tx, &mut checks, "service_id", "services", id, current.map(|c| c.service_id)).await?
            }
            None => flag(&mut checks, "service_id", "required"),
        };
        let channel_id = match self.channel_id {
            Some(id) => {
                check_reference(tx, &mut checks, "channel_id", "channels", id, current.map(|c| c.channel_id)).await?
            }
            None => flag(&mut checks, "channel_id", "required"),
        };
        if let Some(name) = &name {
            if name_taken(tx, "campaigns", name, current.map(|c| c.id)).await? {
                checks.push(FieldError::new("name", "name_taken"));
            }
        }
        checks.finish()?;
        Ok(ValidCampaign {
            name: name.unwrap_or_default(),
            service_id: service_id.unwrap_or_default(),
            channel_id: channel_id.unwrap_or_default(),
            budget: budget.unwrap_or_default(),
            starts_on: starts_on.unwrap_or_default(),
            ends_on: ends_on.flatten(),
        })
    }
}

/// Records `code` on `field` and yields no value.
fn flag<T>(checks: &mut Checks, field: &'static str, code: &'static str) -> Option<T> {
    checks.push(FieldError::new(field, code));
    None
}

/// Parses an ISO date (`2025-03-01`) or a Russian one (`01.03.2025`); empty input is `None`.
pub fn parse_date(field: &'static str, input: &str) -> std::result::Result<Option<NaiveDate>, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(trimmed, "%d.%m.%Y"))
        .map(Some)
        .map_err(|_| FieldError::new(field, "date_invalid"))
}

/// Whether another row of `table` (one with a `name_key`) already has this name, ignoring case.
pub(crate) async fn name_taken(tx: &mut Tx, table: &'static str, name: &str, except: Option<i64>) -> Result<bool> {
    let taken: Option<(i64,)> = tx
        .fetch_optional(
            Query::new(format!("select id from {table} where name_key = $1 and id <> $2"))
                .bind(text::key(name))
                .bind(except.unwrap_or(0)),
        )
        .await?;
    Ok(taken.is_some())
}

/// A unique violation while saving a campaign or channel: the only unique column they have
/// is `name_key`, so it is someone else's save of the same name that slipped past
/// [`name_taken`] at the same moment. Other errors pass through.
pub(crate) fn name_race(error: Error) -> Error {
    match &error {
        Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Error::Invalid(vec![FieldError::new("name", "name_taken")])
        }
        _ => error,
    }
}

/// Checks that row `id` of `table` exists (`unknown`) and is live (`archived`), recording the
/// problem on `field`. A reference the record already had may stay although it was archived
/// since, so old records remain editable.
pub(crate) async fn check_reference(
    tx: &mut Tx,
    checks: &mut Checks,
    field: &'static str,
    table: &'static str,
    id: i64,
    current: Option<i64>,
) -> Result<Option<i64>> {
    let row: Option<(bool,)> =
        tx.fetch_optional(Query::new(format!("select is_archived from {table} where id = $1")).bind(id)).await?;
    Ok(match row {
        None => flag(checks, field, "unknown"),
        Some((true,)) if current != Some(id) => flag(checks, field, "archived"),
        Some(_) => Some(id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_are_read_in_iso_and_russian_forms() {
        assert_eq!(parse_date("d", "2025-03-01").unwrap(), Some(day("2025-03-01")));
        assert_eq!(parse_date("d", " 01.03.2025 ").unwrap(), Some(day("2025-03-01")));
        assert_eq!(parse_date("d", "").unwrap(), None);
        assert_eq!(parse_date("d", "31.02.2025").unwrap_err().code, "date_invalid");
    }
}
