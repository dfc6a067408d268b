//! Phone numbers and e-mail addresses, parsed once at the edge.

use email_address::EmailAddress;
use phonenumber::country::Id as Country;
use phonenumber::Mode;

use crate::error::{Checks, FieldError};

/// A phone number as stored, in E.164 (`+79123456789`): only [`Phone::parse`] makes one, so a
/// record that holds a `Phone` holds a number of the numbering plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Reads a number as people type it (see [`parse_phone`]); `field` names it in the error.
    pub fn parse(field: &'static str, input: &str, region: Country) -> Result<Self, FieldError> {
        parse_phone(field, input, region).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address as stored, lower-cased: only [`Email::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Checks an address and lower-cases it (see [`parse_email`]).
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        parse_email(field, input).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Phone {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Email {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Normalises a phone number to E.164 (`+79123456789`), reading national forms such as
/// `8 (912) 345-67-89` in the given default region.
pub fn parse_phone(field: &'static str, input: &str, region: Country) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.chars().filter(char::is_ascii_digit).count() < 5 {
        return Err(FieldError::new(field, "phone_invalid"));
    }
    if let Some(e164) = russian_mobile(trimmed, region) {
        return Ok(e164);
    }
    let number = phonenumber::parse(Some(region), trimmed).map_err(|_| FieldError::new(field, "phone_invalid"))?;
    if !phonenumber::is_valid(&number) {
        return Err(FieldError::new(field, "phone_invalid"));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// A Russian mobile number in one of the forms offices write it (`+7 (912) 345-67-89`,
/// `8 912 345 67 89`, `79123456789`, `9123456789`: digits, spaces, `-`, `.`, brackets), in
/// E.164, by hand: exactly what the numbering plan makes of it (every `9XX XXX XX XX` is a
/// valid mobile; a test compares), at a small fraction of the cost (an import reads 100,000).
/// `None` for anything else, which [`parse_phone`] hands to the numbering plan.
fn russian_mobile(input: &str, region: Country) -> Option<String> {
    let (international, rest) = match input.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let mut digits = [0u8; 11];
    let mut n = 0;
    for b in rest.bytes() {
        match b {
            b'0'..=b'9' => {
                *digits.get_mut(n)? = b;
                n += 1;
            }
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    let national = match (international, n) {
        (true, 11) if digits[0] == b'7' => &digits[1..],
        // national forms: only where the default region is Russia
        (false, 11) if region == Country::RU && (digits[0] == b'7' || digits[0] == b'8') => &digits[1..],
        (false, 10) if region == Country::RU => &digits[..10],
        _ => return None,
    };
    if national[0] != b'9' {
        return None;
    }
    let mut e164 = String::with_capacity(12);
    e164.push_str("+7");
    e164.extend(national.iter().map(|&d| d as char));
    Some(e164)
}

/// A stored E.164 number as people read it, by the numbering plan of its country
/// (`+79123456789` -> `+7 912 345-67-89`, `+77012345678` -> `+7 701 234 5678`); as stored if
/// it does not parse.
pub fn display_phone(e164: &str) -> String {
    // Russian mobile numbers, most of any office's, by hand: the same text as the numbering
    // plan gives (a test checks), at a fraction of the cost (an export formats a million)
    let b = e164.as_bytes();
    if b.len() == 12 && e164.starts_with("+79") && b[1..].iter().all(u8::is_ascii_digit) {
        return format!("+7 {} {}-{}-{}", &e164[2..5], &e164[5..8], &e164[8..10], &e164[10..12]);
    }
    phonenumber::parse(None, e164)
        .map(|number| number.format().mode(Mode::International).to_string())
        .unwrap_or_else(|_| e164.to_owned())
}

/// Serializes a stored phone for people (see [`display_phone`]): what the window shows in lists,
/// cards and forms alike, and what the forms read back.
pub fn serialize_phone<S: serde::Serializer>(phone: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match phone {
        Some(e164) => serializer.serialize_some(&display_phone(e164)),
        None => serializer.serialize_none(),
    }
}

/// A person's phone and e-mail as stored, each `None` when empty or invalid (its error goes to
/// `checks`). Somebody nobody can reach is of no use: with neither, `contact_required` is
/// recorded on `phone`.
pub(crate) fn parse_contacts(
    checks: &mut Checks,
    phone: &str,
    email: &str,
    region: Country,
) -> (Option<Phone>, Option<Email>) {
    let (phone, email) = (phone.trim(), email.trim());
    if phone.is_empty() && email.is_empty() {
        checks.push(FieldError::new("phone", "contact_required"));
        return (None, None);
    }
    let phone = (!phone.is_empty()).then(|| checks.take(Phone::parse("phone", phone, region))).flatten();
    let email = (!email.is_empty()).then(|| checks.take(Email::parse("email", email))).flatten();
    (phone, email)
}

/// Parses a region code such as `RU` or `KZ`.
pub fn parse_region(code: &str) -> Option<Country> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// Validates an e-mail address and lower-cases it (addresses are compared ignoring case).
pub fn parse_email(field: &'static str, input: &str) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.len() > 254 {
        return Err(FieldError::new(field, "too_long").with("max", 254));
    }
    let lower = trimmed.to_lowercase();
    match EmailAddress::parse_with_options(&lower, email_address::Options::default().without_display_text()) {
        Ok(addr) if addr.domain().contains('.') => Ok(lower),
        _ => Err(FieldError::new(field, "email_invalid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_mobiles_are_shown_as_the_numbering_plan_shows_them() {
        for n in ["+79123456789", "+79001112233", "+79990000000", "+79585550101"] {
            let plan = phonenumber::parse(None, n).unwrap().format().mode(Mode::International).to_string();
            assert_eq!(display_phone(n), plan);
        }
        assert_eq!(display_phone("+77012345678"), "+7 701 234 5678", "Kazakhstan keeps its own plan");
    }

    #[test]
    fn phones_are_shown_by_their_countrys_plan_and_read_back_the_same() {
        assert_eq!(display_phone("+79123456789"), "+7 912 345-67-89");
        assert_eq!(display_phone("+442079460958"), "+44 20 7946 0958");
        assert_eq!(display_phone("not a phone"), "not a phone");
        for stored in ["+79123456789", "+442079460958", "+77012345678"] {
            assert_eq!(parse_phone("phone", &display_phone(stored), Country::RU).unwrap(), stored);
        }
    }
    use crate::error::Error;

    #[test]
    fn russian_mobiles_read_by_hand_are_what_the_numbering_plan_reads() {
        let forms = [
            "+7 (912) 345-67-89",
            "+79123456789",
            "+7 912 345 67 89",
            "+7-912-345-67-89",
            "+7.912.345.67.89",
            "8 (912) 345-67-89",
            "8 912 345 67 89",
            "89123456789",
            "8-912-345-67-89",
            "(8912) 345-67-89",
            "79123456789",
            "7 912 345 67 89",
            "9123456789",
            "912 345 67 89",
            "(912) 345-67-89",
            "+ 7 912 345 67 89",
            "8 (999) 000-00-00",
            "+7 (900) 000 00 00",
            "8(912)3456789",
            "7(912)345-67-89",
            // not mobiles, or not this form: the plan decides
            "+7 (495) 123-45-67",
            "8 495 123 45 67",
            "+7 701 234 5678",
            "8 800 555 35 35",
            "+7 912 345 67 8",
            "+7 912 345 67 890",
            "8 912 345 67 8",
            "+8 912 345 67 89",
            "810 912 345 67 89",
            "+79123456789 доб. 12",
            "+7 912 345 67 89#",
            "6 912 345 67 89",
            "89123456789 ",
            "+7 (912) 345-67-89 ext 1",
            "0 912 345 67 89",
        ];
        let mut fast = 0;
        for region in [Country::RU, Country::KZ, Country::BY, Country::US] {
            for input in forms {
                let plan = phonenumber::parse(Some(region), input)
                    .ok()
                    .filter(phonenumber::is_valid)
                    .map(|n| n.format().mode(Mode::E164).to_string());
                if let Some(hand) = russian_mobile(input, region) {
                    fast += 1;
                    assert_eq!(Some(hand), plan, "{input} in {region:?}");
                }
            }
        }
        assert!(fast >= 26, "the forms offices write are read by hand ({fast})");
    }

    #[test]
    fn russian_national_forms_become_e164() {
        for input in ["8 (912) 345-67-89", "+7 912 345 67 89", "89123456789", "9123456789"] {
            assert_eq!(parse_phone("phone", input, Country::RU).unwrap(), "+79123456789", "{input}");
        }
    }

    #[test]
    fn garbage_phones_are_refused() {
        for input in ["", "12", "abc", "+7 000", "8 (000) 000-00-00"] {
            assert_eq!(parse_phone("phone", input, Country::RU).unwrap_err().code, "phone_invalid", "{input}");
        }
    }

    #[test]
    fn emails_are_validated_and_lower_cased() {
        assert_eq!(parse_email("email", " Ivan.Petrov@Example.RU ").unwrap(), "ivan.petrov@example.ru");
        for bad in ["ivan", "ivan@", "@example.ru", "ivan@localhost", "Ivan <ivan@example.ru>"] {
            assert_eq!(parse_email("email", bad).unwrap_err().code, "email_invalid", "{bad}");
        }
    }

    #[test]
    fn an_empty_form_asks_for_a_contact_on_the_phone_field() {
        let mut checks = Checks::new();
        let (phone, email) = parse_contacts(&mut checks, "", "", Country::RU);
        assert_eq!((phone, email), (None, None));
        let Err(Error::Invalid(errors)) = checks.finish() else { panic!("expected an error") };
        assert_eq!((errors[0].field, errors[0].code), ("phone", "contact_required"));
    }
}
