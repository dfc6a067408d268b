//! Calendar dates typed in forms: ISO `YYYY-MM-DD` (what a date input sends) or Russian
//! `DD.MM.YYYY` (typed by hand).

use chrono::{DateTime, Local, NaiveDate, Utc};

use crate::error::FieldError;

/// A date the form must have: empty input is `required`, anything unreadable `date_invalid`.
/// The UTC instant a calendar day starts at in this computer's time zone: date filters are days
/// as the office lives them, while timestamps are stored in UTC. (A day that starts inside a
/// daylight-saving gap starts at its first existing instant.)
pub fn local_day_start(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    midnight.and_local_timezone(Local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| midnight.and_utc())
}

/// The UTC instant the calendar day after `day` starts (see [`local_day_start`]): a filter's
/// exclusive upper bound for "up to and including `day`". `None` past [`YEARS`]: nothing is
/// stored later, and on SQLite such an instant (year 10000, written "+10000-01-01T...") sorts
/// as text before every stored one, which emptied a list filtered up to 31.12.9999.
pub fn local_day_end(day: NaiveDate) -> Option<DateTime<Utc>> {
    next_day(day).map(local_day_start)
}

/// The day after `day`, if within [`YEARS`].
pub fn next_day(day: NaiveDate) -> Option<NaiveDate> {
    day.checked_add_days(chrono::Days::new(1)).filter(|next| YEARS.contains(&chrono::Datelike::year(next)))
}

pub fn required(field: &'static str, input: &str) -> Result<NaiveDate, FieldError> {
    optional(field, input)?.ok_or_else(|| FieldError::new(field, "required"))
}

/// A date the form may leave empty (`None`, e.g. an open end); anything unreadable is
/// `date_invalid`.
pub fn optional(field: &'static str, input: &str) -> Result<Option<NaiveDate>, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(trimmed, "%d.%m.%Y"))
        .map_err(|_| FieldError::new(field, "date_invalid"))
        .and_then(|day| plausible(field, day))
        .map(Some)
}

/// The years a business date may have. chrono reads years up to ±262,142, where adding a day
/// overflows and PostgreSQL's timestamps end: such a date is a typo, refused like any other.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// `day` when its year is in [`YEARS`], else `date_invalid` on `field`.
pub fn plausible(field: &'static str, day: NaiveDate) -> Result<NaiveDate, FieldError> {
    if YEARS.contains(&chrono::Datelike::year(&day)) {
        Ok(day)
    } else {
        Err(FieldError::new(field, "date_invalid"))
    }
}

/// A period filter: each given day plausible, and the end not before the start (the error on the
/// end's field). `from` and `to` are (field, day).
pub fn check_period(
    from: (&'static str, Option<NaiveDate>),
    to: (&'static str, Option<NaiveDate>),
) -> crate::error::Result<()> {
    let mut checks = crate::error::Checks::new();
    for (field, day) in [from, to] {
        if let Some(day) = day {
            checks.take(plausible(field, day));
        }
    }
    checks.finish()?;
    match (from.1, to.1) {
        (Some(start), Some(end)) if end < start => Err(crate::error::Error::field(to.0, "end_before_start")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_are_read_in_iso_and_russian_forms() {
        assert_eq!(optional("d", "2025-03-01").unwrap(), Some(day("2025-03-01")));
        assert_eq!(optional("d", " 01.03.2025 ").unwrap(), Some(day("2025-03-01")));
        assert_eq!(optional("d", "").unwrap(), None);
        assert_eq!(optional("d", "31.02.2025").unwrap_err().code, "date_invalid");
        assert_eq!(optional("d", "+262142-12-31").unwrap_err().code, "date_invalid");
        assert_eq!(optional("d", "01.01.0001").unwrap_err().code, "date_invalid");
    }

    #[test]
    fn a_required_date_may_not_be_empty() {
        assert_eq!(required("d", " 2025-03-01 ").unwrap(), day("2025-03-01"));
        let err = required("signed_on", "  ").unwrap_err();
        assert_eq!((err.field, err.code), ("signed_on", "required"));
        assert_eq!(required("d", "1.3.25x").unwrap_err().code, "date_invalid");
    }
}
