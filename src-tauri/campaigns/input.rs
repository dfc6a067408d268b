//! The campaign form: raw text parsed into a valid campaign, with every problem reported at once.

use chrono::NaiveDate;
use serde::Deserialize;

use super::Campaign;
use crate::db::Tx;
use crate::domain::id::{ChannelId, ServiceId};
use crate::domain::text::Name;
use crate::domain::{date, Money};
use crate::error::{Checks, Error, FieldError, Result};
use crate::store::{check_required_reference, name_taken};

/// What the campaign form sends: raw text, parsed and checked by the core.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CampaignInput {
    pub name: String,
    pub service_id: Option<ServiceId>,
    pub channel_id: Option<ChannelId>,
    pub budget: String,
    /// `YYYY-MM-DD` or `DD.MM.YYYY`.
    pub starts_on: String,
    /// Empty for an open-ended campaign.
    pub ends_on: String,
}

pub(super) struct ValidCampaign {
    pub(super) name: Name,
    pub(super) service_id: ServiceId,
    pub(super) channel_id: ChannelId,
    pub(super) budget: Money,
    pub(super) starts_on: NaiveDate,
    pub(super) ends_on: Option<NaiveDate>,
}

impl CampaignInput {
    /// Checks every field, the references included, and reports all problems at once.
    pub(super) async fn validate(&self, tx: &mut Tx, current: Option<&Campaign>) -> Result<ValidCampaign> {
        let mut checks = Checks::new();
        let name = checks.take(Name::parse("name", &self.name, 200));
        let budget = checks.take(Money::parse("budget", &self.budget));
        let starts_on = checks.take(date::required("starts_on", &self.starts_on));
        let ends_on = checks.take(date::optional("ends_on", &self.ends_on));
        if let (Some(start), Some(Some(end))) = (starts_on, ends_on) {
            if end < start {
                checks.push(FieldError::new("ends_on", "end_before_start"));
            }
        }
        let (had_service, had_channel) = (current.map(|c| c.service_id), current.map(|c| c.channel_id));
        let service_id =
            check_required_reference(tx, &mut checks, "service_id", "services", self.service_id, had_service).await?;
        let channel_id =
            check_required_reference(tx, &mut checks, "channel_id", "channels", self.channel_id, had_channel).await?;
        if let Some(name) = &name {
            if name_taken(tx, "campaigns", name, current.map(|c| c.id)).await? {
                checks.push(FieldError::new("name", "name_taken"));
            }
        }
        checks.finish()?;
        Ok(ValidCampaign {
            name: name.unwrap_or_default(),
            // both required: `finish` refused a missing one
            service_id: service_id.ok_or_else(|| Error::Internal("a checked service is missing".into()))?,
            channel_id: channel_id.ok_or_else(|| Error::Internal("a checked channel is missing".into()))?,
            budget: budget.unwrap_or_default(),
            starts_on: starts_on.unwrap_or_default(),
            ends_on: ends_on.flatten(),
        })
    }
}
