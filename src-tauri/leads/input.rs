//! The lead form: raw text parsed into a valid lead, with every problem reported at once, and the
//! duplicate checks that make phone and e-mail unique among live leads.

use phonenumber::country::Id as Country;
use serde::Deserialize;

use super::{Lead, LeadStatus};
use crate::db::{Query, Tx};
use crate::domain::contact::{self, Email, Phone};
use crate::domain::id::{CampaignId, LeadId, LostReasonId, UserId};
use crate::domain::text::{self, PersonName};
use crate::error::{Checks, Error, FieldError, Result};
use crate::store::{check_reference, unique_violation};

/// What the lead form sends: raw text, parsed and checked by the core.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeadInput {
    pub full_name: String,
    /// Any common form (`8 (912) 345-67-89`, `+7 912 ...`); stored as E.164.
    pub phone: String,
    pub email: String,
    pub campaign_id: Option<CampaignId>,
    pub note: String,
    /// `None` keeps the current status (`new` for a new lead). `converted` is refused: only the
    /// conversion use case sets it.
    pub status: Option<LeadStatus>,
    /// Why the lead is lost: required when the status becomes `lost`, cleared otherwise.
    pub lost_reason_id: Option<LostReasonId>,
    /// The responsible person of a new lead (the creator when empty; someone else needs
    /// `owners.assign`). Ignored by edits: reassigning is its own use case.
    pub owner_id: Option<UserId>,
}

/// A lead that passed the form's checks.
pub(crate) struct ValidLead {
    pub(super) full_name: PersonName,
    pub(crate) phone: Option<Phone>,
    pub(crate) email: Option<Email>,
    pub(super) campaign_id: Option<CampaignId>,
    pub(super) note: String,
    pub(super) status: Option<LeadStatus>,
    pub(super) lost_reason_id: Option<LostReasonId>,
    pub(super) owner_id: Option<UserId>,
}

/// The name, phone, e-mail and note as checked (`None` where refused).
type Fields = (Option<PersonName>, Option<Phone>, Option<Email>, Option<String>);

/// A new lead refused by [`LeadInput::check_new`]: why, and its contacts that parsed.
pub(crate) struct Refused {
    pub(crate) errors: Vec<FieldError>,
    pub(crate) phone: Option<Phone>,
    pub(crate) email: Option<Email>,
}

impl ValidLead {
    pub(super) fn search(&self) -> String {
        search_text(&self.full_name, self.phone.as_deref(), self.email.as_deref())
    }
}

/// Longest note on a lead.
const MAX_NOTE: usize = 5000;

impl LeadInput {
    /// Checks every field against `current` (the lead being edited, if any), the campaign and the
    /// live leads, and reports all problems at once.
    pub(super) async fn validate(&self, tx: &mut Tx, region: Country, current: Option<&Lead>) -> Result<ValidLead> {
        let mut checks = Checks::new();
        let (full_name, phone, email, note) = self.check_fields(&mut checks, region);
        if let Some(id) = self.campaign_id {
            let had = current.and_then(|lead| lead.campaign_id);
            check_reference(tx, &mut checks, "campaign_id", "campaigns", id, had).await?;
        }
        let status = self.status.or(current.map(|lead| lead.status)).unwrap_or_default();
        let lost_reason_id = lost_reason(tx, &mut checks, status, self.lost_reason_id, current).await?;
        let owner_id = match (current, self.owner_id) {
            (None, Some(owner)) => active_user(tx, &mut checks, "owner_id", owner).await?,
            _ => None,
        };
        // an archived lead does not hold its phone or e-mail; it is checked when restored
        if current.is_none_or(|lead| !lead.is_archived) {
            let except = current.map(|lead| lead.id);
            for error in duplicates(tx, phone.as_deref(), email.as_deref(), except).await? {
                checks.push(error);
            }
        }
        checks.finish()?;
        Ok(self.valid((full_name, phone, email, note), lost_reason_id, owner_id))
    }

    /// The lead that passed, from the checked fields and the references found.
    fn valid(&self, fields: Fields, lost_reason_id: Option<LostReasonId>, owner_id: Option<UserId>) -> ValidLead {
        let (full_name, phone, email, note) = fields;
        ValidLead {
            full_name: full_name.unwrap_or_default(),
            phone,
            email,
            campaign_id: self.campaign_id,
            note: note.unwrap_or_default(),
            status: self.status,
            lost_reason_id,
            owner_id,
        }
    }

    /// The checks of the form that need no database: the name, the contacts, the note, the status.
    fn check_fields(&self, checks: &mut Checks, region: Country) -> Fields {
        let full_name = checks.take(PersonName::parse("full_name", &self.full_name));
        let (phone, email) = contact::parse_contacts(checks, &self.phone, &self.email, region);
        let note = checks.take(text::free_text("note", &self.note, MAX_NOTE));
        if self.status == Some(LeadStatus::Converted) {
            checks.push(FieldError::new("status", "not_allowed"));
        }
        (full_name, phone, email, note)
    }

    /// A new lead of an import, whose campaign, lost reason and owner were found among the live
    /// ones by name already: every check of [`Self::validate`] but those look-ups and the
    /// duplicates, which an import makes for a batch of rows at once ([`holders`]). A refused
    /// row keeps the contacts that parsed, so that it can still be told whose they are.
    pub(crate) fn check_new(&self, region: Country) -> std::result::Result<ValidLead, Refused> {
        let mut checks = Checks::new();
        let (full_name, phone, email, note) = self.check_fields(&mut checks, region);
        if self.status == Some(LeadStatus::Lost) && self.lost_reason_id.is_none() {
            checks.push(FieldError::new("lost_reason_id", "lost_reason_required"));
        }
        if !checks.is_empty() {
            return Err(Refused { errors: checks.into_errors(), phone, email });
        }
        let lost_reason_id = if self.status == Some(LeadStatus::Lost) { self.lost_reason_id } else { None };
        Ok(self.valid((full_name, phone, email, note), lost_reason_id, self.owner_id))
    }

    /// The contacts as they would be stored, for naming the winner of a lost race.
    pub(super) fn normalised_contacts(&self, region: Country) -> (Option<Phone>, Option<Email>) {
        (Phone::parse("phone", &self.phone, region).ok(), Email::parse("email", &self.email).ok())
    }
}

/// The reason stored with a lead of `status`: required (and live, unless the lead already had it)
/// when a lead becomes lost, none for any other status. `current` is the lead before the change
/// (a lead lost before reasons existed keeps having none).
pub(crate) async fn lost_reason(
    tx: &mut Tx,
    checks: &mut Checks,
    status: LeadStatus,
    reason: Option<LostReasonId>,
    current: Option<&Lead>,
) -> Result<Option<LostReasonId>> {
    if status != LeadStatus::Lost {
        return Ok(None);
    }
    let had = current.and_then(|lead| lead.lost_reason_id);
    let was_lost = current.is_some_and(|lead| lead.status == LeadStatus::Lost);
    match reason.or(had) {
        None if was_lost => Ok(None),
        None => {
            checks.push(FieldError::new("lost_reason_id", "lost_reason_required"));
            Ok(None)
        }
        Some(id) => check_reference(tx, checks, "lost_reason_id", "lost_reasons", id, had).await,
    }
}

/// `id` when it is an active user, else `unknown` or `user_inactive` on `field`.
pub(crate) async fn active_user(
    tx: &mut Tx,
    checks: &mut Checks,
    field: &'static str,
    id: UserId,
) -> Result<Option<UserId>> {
    let active: Option<(bool,)> =
        tx.fetch_optional(Query::new("select is_active from users where id = $1").bind(id)).await?;
    match not_active(field, active.map(|(is_active,)| is_active)) {
        Some(error) => checks.push(error),
        None => return Ok(Some(id)),
    }
    Ok(None)
}

/// Why a user who is `is_active` (`None`: no such user) may not be chosen on `field`: `unknown`
/// or `user_inactive`; nothing for an active user.
pub(crate) fn not_active(field: &'static str, is_active: Option<bool>) -> Option<FieldError> {
    match is_active {
        None => Some(FieldError::new(field, "unknown")),
        Some(false) => Some(FieldError::new(field, "user_inactive")),
        Some(true) => None,
    }
}

/// The lower-cased text a lead list searches: full name, phone digits and e-mail, space-separated.
pub fn search_text(full_name: &str, phone: Option<&str>, email: Option<&str>) -> String {
    let digits: String = phone.unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
    format!("{} {} {}", text::key(full_name), digits, email.unwrap_or_default())
}

/// `phone_taken` / `email_taken` for each contact a live lead other than `except` already has,
/// naming that lead so the operator can find it.
pub(crate) async fn duplicates(
    tx: &mut Tx,
    phone: Option<&str>,
    email: Option<&str>,
    except: Option<LeadId>,
) -> Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    for (field, code, value) in [("phone", "phone_taken", phone), ("email", "email_taken", email)] {
        let Some(value) = value else { continue };
        // `field` is one of two literals; the partial unique indexes make this a point look-up
        let holder: Option<(LeadId, String)> = tx
            .fetch_optional(
                Query::new(format!(
                    "select id, full_name from leads where {field} = $1 and is_archived = false and id <> $2 limit 1"
                ))
                .bind(value)
                .bind(except.map_or(0, i64::from)),
            )
            .await?;
        if let Some((id, name)) = holder {
            errors.push(FieldError::new(field, code).with("lead", name).with("id", id));
        }
    }
    Ok(errors)
}

/// The live leads holding any of `phones` and `emails`, by contact: (id, full name). One
/// look-up for a batch of an import's rows, where [`duplicates`] makes two for each row.
pub(crate) async fn holders(
    tx: &mut Tx,
    phones: &[&str],
    emails: &[&str],
) -> Result<std::collections::HashMap<String, (LeadId, String)>> {
    let mut found = std::collections::HashMap::new();
    // `column` is one of two literals; each `in` list is a set of point look-ups in the partial
    // unique indexes (two queries, not one with an `or`, which PostgreSQL would scan)
    for (column, values) in [("phone", phones), ("email", emails)] {
        for chunk in values.chunks(1000) {
            let mut q = Query::new(format!(
                "select id, full_name, {column} from leads where is_archived = false and {column} in "
            ));
            q.push_list(chunk.iter().copied());
            let rows: Vec<(LeadId, String, String)> = tx.fetch_all(q).await?;
            for (id, full_name, contact) in rows {
                found.insert(contact, (id, full_name));
            }
        }
    }
    Ok(found)
}

/// The field a unique violation from the database is about, if `error` is one: the partial
/// unique indexes on live leads' phone and e-mail catch what two concurrent saves both missed.
pub(super) fn violated_contact(error: &Error) -> Option<&'static str> {
    let db = unique_violation(error)?;
    // PostgreSQL names the index (`leads_email_live`), SQLite the column (`leads.email`)
    let what = db.constraint().unwrap_or_else(|| db.message());
    Some(if what.contains("email") { "email" } else { "phone" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_holds_the_name_the_phone_digits_and_the_email() {
        let text = search_text("Иванов Пётр", Some("+79123456789"), Some("petr@example.ru"));
        assert_eq!(text, "иванов пётр 79123456789 petr@example.ru");
    }
}
