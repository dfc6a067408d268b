//! Money: an exact decimal amount in roubles, stored as integer kopecks.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A non-negative or positive amount of money with at most two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Serialised as a string with exactly two decimals (`"1250.50"`): exact, and the same for every
/// amount whatever its origin.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Money::parse("amount", &text).map_err(|e| serde::de::Error::custom(e.code))
    }
}

/// The largest amount accepted: a trillion roubles leaves a wide margin below i64 kopecks even
/// when a million of them are summed.
const MAX_ROUBLES: i64 = 1_000_000_000_000;

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn from_kopecks(kopecks: i64) -> Self {
        Self(Decimal::new(kopecks, 2))
    }

    /// Kopecks for storage. Amounts are parsed with at most two decimals, so this is exact.
    pub fn kopecks(self) -> i64 {
        let scaled = (self.0 * Decimal::ONE_HUNDRED).trunc();
        i64::try_from(scaled).expect("amounts are bounded when parsed")
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Parses user input such as `1 250,50` or `1250.5` for the named field.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let cleaned: String =
            input.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}' && *c != '₽').collect();
        // `1 250,50` and `1250.50` both work; with both marks (`1,250.50`, `1.250,50`) the last
        // one is the decimal separator and the other only groups digits.
        let decimal = match (cleaned.rfind(','), cleaned.rfind('.')) {
            (Some(comma), Some(dot)) if dot > comma => '.',
            (Some(_), _) => ',',
            (None, _) => '.',
        };
        let cleaned: String = cleaned
            .chars()
            .filter(|c| !matches!(c, ',' | '.') || *c == decimal)
            .map(|c| if c == ',' { '.' } else { c })
            .collect();
        if cleaned.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        let value = Decimal::from_str(&cleaned).map_err(|_| FieldError::new(field, "not_a_number"))?;
        Self::try_from_decimal(field, value)
    }

    pub fn try_from_decimal(field: &'static str, value: Decimal) -> Result<Self, FieldError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(field, "negative"));
        }
        if value.normalize().scale() > 2 {
            return Err(FieldError::new(field, "too_many_decimals"));
        }
        if value > Decimal::from(MAX_ROUBLES) {
            return Err(FieldError::new(field, "too_large"));
        }
        Ok(Self(value.normalize().round_dp(2)))
    }
}

impl From<i64> for Money {
    fn from(kopecks: i64) -> Self {
        Self::from_kopecks(kopecks)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{:.2}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_russian_and_english_notation_exactly() {
        assert_eq!(Money::parse("price", "1 250,50").unwrap().kopecks(), 125_050);
        assert_eq!(Money::parse("price", "1250.5").unwrap().kopecks(), 125_050);
        assert_eq!(Money::parse("price", "0").unwrap().kopecks(), 0);
        assert_eq!(Money::parse("price", "99 ₽").unwrap().kopecks(), 9_900);
    }

    #[test]
    fn rejects_what_is_not_money_naming_the_field() {
        let err = |s| Money::parse("budget", s).unwrap_err();
        assert_eq!(err("").code, "required");
        assert_eq!(err("abc").code, "not_a_number");
        assert_eq!(err("-1").code, "negative");
        assert_eq!(err("1.005").code, "too_many_decimals");
        assert_eq!(err("10000000000000").code, "too_large");
        assert_eq!(err("abc").field, "budget");
    }

    #[test]
    fn with_both_marks_the_last_one_is_the_decimal_separator() {
        let kopecks = |s| Money::parse("x", s).unwrap().kopecks();
        assert_eq!(kopecks("1,250.50"), 125_050);
        assert_eq!(kopecks("1.250,50"), 125_050);
        assert_eq!(kopecks("1 250,5 ₽"), 125_050);
        assert_eq!(Money::parse("x", "1.250.50").unwrap_err().code, "not_a_number");
    }

    #[test]
    fn serialises_with_two_decimals() {
        assert_eq!(serde_json::to_string(&Money::parse("x", "16000").unwrap()).unwrap(), "\"16000.00\"");
    }

    #[test]
    fn round_trips_through_kopecks() {
        let m = Money::from_kopecks(123_456_789);
        assert_eq!(m.to_string(), "1234567.89");
        assert_eq!(Money::parse("x", &m.to_string()).unwrap(), m);
    }
}
