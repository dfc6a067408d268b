//! One row of an import: its cells as the fields of a form, looked up (campaign, owner, status,
//! service, channel by their names), checked and written as that form's use case does.

use std::collections::HashMap;

use phonenumber::country::Id as Country;

use super::{ImportOptions, OnDuplicate, Outcome};
use crate::campaigns::CampaignInput;
use crate::db::{Query, Row, Tx};
use crate::domain::id::{CampaignId, ChannelId, ImportId, LeadId, LostReasonId, ServiceId, UserId};
use crate::domain::text::key;
use crate::error::{Error, FieldError, Result};
use crate::i18n::{field_message, message, Lang};
use crate::leads::{LeadInput, LeadStatus};
use crate::permission::{Actor, Permission};
use crate::services::ServiceInput;

/// A row's values by field, with the header of the column each came from.
pub(super) struct Values<'a> {
    cells: Vec<(&'static str, &'a str, &'a str)>,
}

impl<'a> Values<'a> {
    pub(super) fn new(columns: &[(&'static str, usize)], cells: &'a [String], headers: &'a [String]) -> Self {
        let cells = columns
            .iter()
            .map(|(field, column)| {
                let value = cells.get(*column).map_or("", |c| c.trim());
                let header = headers.get(*column).map_or("", String::as_str);
                (*field, value, header)
            })
            .collect();
        Self { cells }
    }

    fn get(&self, field: &str) -> &'a str {
        self.cells.iter().find(|(f, _, _)| *f == field).map_or("", |(_, v, _)| v)
    }

    fn header(&self, field: &str) -> Option<&'a str> {
        self.cells.iter().find(|(f, _, _)| *f == field).map(|(_, _, h)| *h)
    }
}

/// What every row needs: look-ups by name loaded once, the options, the language of reasons.
pub(super) struct Context<'a> {
    pub(super) actor: &'a Actor,
    pub(super) region: Country,
    pub(super) options: &'a ImportOptions,
    lang: Lang,
    campaigns: HashMap<String, CampaignId>,
    services: HashMap<String, ServiceId>,
    channels: HashMap<String, ChannelId>,
    users: HashMap<String, UserId>,
    reasons: HashMap<String, LostReasonId>,
}

/// Rows `(id, name)` of `sql` by the name's key.
async fn names<I>(tx: &mut Tx, sql: &str) -> Result<HashMap<String, I>>
where
    (I, String): Row,
{
    let rows: Vec<(I, String)> = tx.fetch_all(Query::new(sql)).await?;
    Ok(rows.into_iter().map(|(id, name)| (key(&name), id)).collect())
}

impl<'a> Context<'a> {
    pub(super) async fn load(
        tx: &mut Tx,
        actor: &'a Actor,
        region: Country,
        options: &'a ImportOptions,
        lang: Lang,
    ) -> Result<Self> {
        let can = |p: Permission| actor.can(p);
        let campaigns = if can(Permission::LeadsEdit) || can(Permission::CampaignsEdit) {
            names(tx, "select id, name from campaigns where is_archived = false").await?
        } else {
            HashMap::new()
        };
        let (services, channels) = if can(Permission::CampaignsEdit) || can(Permission::ContractsEdit) {
            (
                names(tx, "select id, name from services where is_archived = false").await?,
                names(tx, "select id, name from channels where is_archived = false").await?,
            )
        } else {
            (HashMap::new(), HashMap::new())
        };
        let mut users = HashMap::new();
        let mut reasons = HashMap::new();
        if can(Permission::LeadsEdit) {
            // a person by their username or their full name
            let rows: Vec<(UserId, String, String)> = tx
                .fetch_all(Query::new("select id, username_key, full_name from users where is_active = true"))
                .await?;
            for (id, username, full_name) in rows {
                users.insert(username, id);
                users.entry(key(&full_name)).or_insert(id);
            }
            reasons = names(tx, "select id, name from lost_reasons where is_archived = false").await?;
        }
        if let Some(id) = options.campaign_id {
            // the campaign of rows that name none: checked once, for the whole file
            let mut checks = crate::error::Checks::new();
            crate::store::check_reference(tx, &mut checks, "campaign_id", "campaigns", id, None).await?;
            checks.finish()?;
        }
        Ok(Self { actor, region, options, lang, campaigns, services, channels, users, reasons })
    }

    /// Why a row's values were refused, in the user's language, each naming its column.
    pub(super) fn explain(&self, values: &Values, errors: &[FieldError]) -> String {
        errors
            .iter()
            .map(|e| {
                let field = match e.field {
                    "campaign_id" => "campaign",
                    "owner_id" => "owner",
                    "lost_reason_id" => "lost_reason",
                    "service_id" => "service",
                    "name" => values.header("contract").map_or("name", |_| "contract"),
                    "channel_id" => "channel",
                    other => other,
                };
                match values.header(field).filter(|h| !h.is_empty()) {
                    Some(header) => format!("{header}: {}", field_message(self.lang, e)),
                    None => field_message(self.lang, e),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The id of what the cell of `field` names, looked up in `names`: none for an empty cell,
    /// the row's refusal (naming the column) for a name that is not there.
    fn look_up<I: Copy>(
        &self,
        names: &HashMap<String, I>,
        values: &Values,
        field: &str,
    ) -> std::result::Result<Option<I>, Outcome> {
        let name = values.get(field);
        if name.is_empty() {
            return Ok(None);
        }
        names.get(&key(name)).map(|id| Some(*id)).ok_or_else(|| self.unknown(values, field, name))
    }

    fn unknown(&self, values: &Values, field: &str, value: &str) -> Outcome {
        let header = values.header(field).unwrap_or(field);
        Outcome::Rejected(message(
            self.lang,
            "import_unknown_name",
            &[("column", header.to_owned()), ("value", value.to_owned())],
        ))
    }

    /// A lead row as the lead form would send it, its campaign, status, lost reason and owner
    /// found by their names (among the live ones); or the row's refusal.
    pub(super) fn lead_input(&self, values: &Values<'_>) -> std::result::Result<LeadInput, Outcome> {
        let campaign_id = self.look_up(&self.campaigns, values, "campaign")?.or(self.options.campaign_id);
        let status = values.get("status");
        let status = if status.is_empty() {
            None
        } else {
            match parse_status(status) {
                Some(LeadStatus::Converted) => {
                    return Err(Outcome::Rejected(message(self.lang, "import_converted_status", &[])));
                }
                Some(status) => Some(status),
                None => return Err(self.unknown(values, "status", status)),
            }
        };
        let lost_reason_id = self.look_up(&self.reasons, values, "lost_reason")?;
        let owner_id = match self.look_up(&self.users, values, "owner")? {
            Some(id) if id != self.actor.user_id && !self.actor.can(Permission::OwnersAssign) => {
                return Err(Outcome::Rejected(message(self.lang, "import_owner_needs_permission", &[])));
            }
            id => id,
        };
        Ok(LeadInput {
            full_name: values.get("full_name").to_owned(),
            phone: values.get("phone").to_owned(),
            email: values.get("email").to_owned(),
            campaign_id,
            note: values.get("note").to_owned(),
            status,
            lost_reason_id,
            owner_id,
        })
    }

    /// A lead row: created, or (a live lead has its phone or e-mail) skipped or updated.
    pub(super) async fn lead(&mut self, tx: &mut Tx, values: &Values<'_>, import_id: ImportId) -> Result<Outcome> {
        let input = match self.lead_input(values) {
            Ok(input) => input,
            Err(refused) => return Ok(refused),
        };
        match crate::leads::add_lead(tx, self.actor, &input, self.region, Some(import_id)).await {
            Ok(_) => Ok(Outcome::Created),
            Err(Error::Invalid(errors)) if is_duplicate(&errors) => {
                let holder = errors
                    .iter()
                    .find_map(|e| e.params.iter().find(|(k, _)| *k == "id"))
                    .and_then(|(_, v)| v.parse().ok());
                match (self.options.on_duplicate, holder) {
                    (OnDuplicate::Skip, _) | (_, None) => Ok(Outcome::Skipped),
                    (OnDuplicate::Update, Some(id)) => self.update_lead(tx, id, input).await,
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Updates the live lead `id` with the row's non-empty values.
    async fn update_lead(&self, tx: &mut Tx, id: LeadId, row: LeadInput) -> Result<Outcome> {
        let current: crate::leads::Lead = crate::leads::fetch(tx, id).await?;
        if current.status == LeadStatus::Converted {
            return Ok(Outcome::Rejected(message(self.lang, "import_duplicate_converted", &[("id", id.to_string())])));
        }
        let pick = |new: &str, old: Option<&str>| {
            if new.is_empty() {
                old.unwrap_or_default().to_owned()
            } else {
                new.to_owned()
            }
        };
        let input = LeadInput {
            full_name: pick(&row.full_name, Some(&current.full_name)),
            phone: pick(&row.phone, current.phone.as_deref()),
            email: pick(&row.email, current.email.as_deref()),
            campaign_id: row.campaign_id.or(current.campaign_id),
            note: pick(&row.note, Some(&current.note)),
            status: row.status,
            lost_reason_id: row.lost_reason_id.or(current.lost_reason_id),
            owner_id: None,
        };
        crate::leads::change_lead(tx, self.actor, id, None, &input, self.region).await?;
        Ok(Outcome::Updated)
    }

    /// A service row: created, or (its name exists) skipped.
    pub(super) async fn service(&mut self, tx: &mut Tx, values: &Values<'_>, import_id: ImportId) -> Result<Outcome> {
        let input = ServiceInput {
            name: values.get("name").to_owned(),
            description: values.get("description").to_owned(),
            price: values.get("price").to_owned(),
        };
        match crate::services::add_service(tx, self.actor, &input, Some(import_id)).await {
            Ok(_) => Ok(Outcome::Created),
            Err(Error::Invalid(errors)) if errors.iter().all(|e| e.code == "name_taken") => self.duplicate_name(),
            Err(e) => Err(e),
        }
    }

    /// A campaign row: created, or (its name exists) skipped.
    pub(super) async fn campaign(&mut self, tx: &mut Tx, values: &Values<'_>, import_id: ImportId) -> Result<Outcome> {
        let service = values.get("service");
        let Some(service_id) = self.services.get(&key(service)).copied() else {
            return Ok(self.unknown(values, "service", service));
        };
        let channel = values.get("channel");
        let Some(channel_id) = self.channels.get(&key(channel)).copied() else {
            return Ok(self.unknown(values, "channel", channel));
        };
        let input = CampaignInput {
            name: values.get("name").to_owned(),
            service_id: Some(service_id),
            channel_id: Some(channel_id),
            budget: values.get("budget").to_owned(),
            starts_on: values.get("starts_on").to_owned(),
            ends_on: values.get("ends_on").to_owned(),
        };
        match crate::campaigns::add_campaign(tx, self.actor, &input, Some(import_id)).await {
            Ok(_) => Ok(Outcome::Created),
            Err(Error::Invalid(errors)) if errors.iter().all(|e| e.code == "name_taken") => self.duplicate_name(),
            Err(e) => Err(e),
        }
    }

    /// A client row: the live lead with the row's phone or e-mail (or a new one), converted with
    /// the row's contract. A lead that is a client already is a duplicate: skipped.
    pub(super) async fn client(
        &mut self,
        tx: &mut Tx,
        crm: &crate::app::Crm,
        values: &Values<'_>,
        import_id: ImportId,
    ) -> Result<Outcome> {
        let service = values.get("service");
        let Some(service_id) = self.services.get(&key(service)).copied() else {
            return Ok(self.unknown(values, "service", service));
        };
        let phone = crate::domain::contact::parse_phone("phone", values.get("phone"), self.region).ok();
        let email = crate::domain::contact::parse_email("email", values.get("email")).ok();
        let holders = crate::leads::duplicates(tx, phone.as_deref(), email.as_deref(), None).await?;
        let holder =
            holders.iter().find_map(|e| e.params.iter().find(|(k, _)| *k == "id")).and_then(|(_, v)| v.parse().ok());
        let lead_id = match holder {
            Some(id) => {
                let lead = crate::leads::fetch(tx, id).await?;
                if lead.status == LeadStatus::Converted {
                    return self.duplicate_name().map(|o| match o {
                        Outcome::Rejected(_) => Outcome::Rejected(message(self.lang, "import_client_exists", &[])),
                        other => other,
                    });
                }
                id
            }
            None => {
                if !self.actor.can(Permission::LeadsEdit) {
                    return Ok(Outcome::Rejected(message(self.lang, "import_client_needs_lead", &[])));
                }
                let campaign_id = match self.look_up(&self.campaigns, values, "campaign") {
                    Ok(id) => id.or(self.options.campaign_id),
                    Err(refused) => return Ok(refused),
                };
                let lead = LeadInput {
                    full_name: values.get("full_name").to_owned(),
                    phone: values.get("phone").to_owned(),
                    email: values.get("email").to_owned(),
                    campaign_id,
                    note: values.get("note").to_owned(),
                    ..Default::default()
                };
                crate::leads::add_lead(tx, self.actor, &lead, self.region, Some(import_id)).await?
            }
        };
        let version = crate::leads::fetch(tx, lead_id).await?.version;
        let signed_on = values.get("signed_on");
        let valid_from = values.get("valid_from");
        let contract = crate::contracts::ContractInput {
            name: values.get("contract").to_owned(),
            service_id: Some(service_id),
            signed_on: signed_on.to_owned(),
            // from the signing day unless the row says otherwise
            valid_from: if valid_from.is_empty() { signed_on.to_owned() } else { valid_from.to_owned() },
            valid_to: values.get("valid_to").to_owned(),
            amount: values.get("amount").to_owned(),
        };
        crm.convert_in(tx, self.actor, lead_id, version, &contract, Some(import_id)).await?;
        Ok(Outcome::Created)
    }

    /// A service or campaign whose name exists: skipped; updating one by an import is refused
    /// (its name is its only key, and the form edits it with its history).
    fn duplicate_name(&self) -> Result<Outcome> {
        match self.options.on_duplicate {
            OnDuplicate::Skip => Ok(Outcome::Skipped),
            OnDuplicate::Update => Ok(Outcome::Rejected(message(self.lang, "import_name_exists", &[]))),
        }
    }
}

/// Only "this phone / e-mail belongs to lead N": the row is a duplicate, nothing else is wrong.
fn is_duplicate(errors: &[FieldError]) -> bool {
    !errors.is_empty() && errors.iter().all(|e| matches!(e.code, "phone_taken" | "email_taken"))
}

/// A status as people write it, in Russian or English, or its code.
fn parse_status(text: &str) -> Option<LeadStatus> {
    let normal: String = text.to_lowercase().replace('ё', "е").chars().filter(|c| c.is_alphanumeric()).collect();
    match normal.as_str() {
        "new" | "новый" | "новая" | "новое" | "нов" => Some(LeadStatus::New),
        "inwork" | "inprogress" | "вработе" | "работа" | "вработу" => Some(LeadStatus::InWork),
        "lost" | "потерян" | "потеряна" | "отказ" | "потерянный" => {
            Some(LeadStatus::Lost)
        }
        "converted" | "client" | "клиент" | "конвертирован" => Some(LeadStatus::Converted),
        _ => None,
    }
}
