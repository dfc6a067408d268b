//! Duplicate leads: probable duplicates of a lead (the same phone or e-mail among live and
//! archived leads, or the same name with a close phone or e-mail), and merging two into one. The
//! lead that goes is archived and points at the one that stays, whose card then shows its
//! history, notes and tasks too: nothing is copied or rewritten.

use serde::{Deserialize, Serialize};

use crate::app::{audit_entry, now, Crm};
use crate::db::{reading, transact, Query, Tx};
use crate::domain::id::{LeadId, Version};
use crate::error::{Error, Result};
use crate::history::Changes;
use crate::leads::{self, search_text, Lead, LeadStatus};
use crate::permission::{Actor, Permission};
use crate::store::{set_archived, update_versioned};

/// A probable duplicate and why: `phone`, `email`, `name_phone` (the same name, a phone with the
/// same last seven digits) or `name_email` (the same name, an e-mail with the same name part).
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub lead: Lead,
    pub reasons: Vec<&'static str>,
}

/// Merging `drop` into `keep`, each as read at its version; `take` names the fields whose value
/// comes from `drop` (`full_name`, `phone`, `email`, `campaign_id`, `note`).
#[derive(Debug, Clone, Deserialize)]
pub struct MergeInput {
    pub keep: LeadId,
    pub keep_version: Version,
    pub drop: LeadId,
    pub drop_version: Version,
    #[serde(default)]
    pub take: Vec<String>,
}

/// Fields that may come from the lead that goes.
pub const FIELDS: [&str; 5] = ["full_name", "phone", "email", "campaign_id", "note"];

/// Most duplicates a card lists.
const MAX_DUPLICATES: i64 = 20;

impl Crm {
    /// Probable duplicates of lead `id`, live and archived (leads already merged aside).
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn lead_duplicates(&self, actor: &Actor, id: LeadId) -> Result<Vec<Duplicate>> {
        actor.require(Permission::LeadsView)?;
        reading!(actor.db, |tx| {
            let lead = leads::fetch(tx, id).await?;
            let found = duplicates_of(tx, &lead).await?;
            Ok(found)
        })
    }

    /// Merges lead `drop` into lead `keep`. A converted lead always stays (`drop` converted is
    /// `merge_converted_survives`, both `merge_both_converted`); a converted lead's fields stay as
    /// they are.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn merge_leads(&self, actor: &Actor, input: &MergeInput) -> Result<Lead> {
        actor.require(Permission::LeadsEdit)?;
        actor.require(Permission::LeadsMerge)?;
        if input.keep == input.drop {
            return Err(Error::field("drop", "merge_self"));
        }
        if let Some(unknown) = input.take.iter().find(|f| !FIELDS.contains(&f.as_str())) {
            tracing::debug!("merge: unknown field {unknown}");
            return Err(Error::field("take", "not_allowed"));
        }
        transact!(actor.db, |tx| {
            let keep = leads::fetch(tx, input.keep).await?;
            let drop = leads::fetch(tx, input.drop).await?;
            let converted = (keep.status == LeadStatus::Converted, drop.status == LeadStatus::Converted);
            match converted {
                (true, true) => return Err(Error::state("merge_both_converted")),
                (false, true) => return Err(Error::state("merge_converted_survives")),
                _ => {}
            }
            if keep.merged_into.is_some() || drop.merged_into.is_some() {
                return Err(Error::state("merge_already_merged"));
            }
            // the lead that goes first, so that its phone and e-mail are free for the one that stays
            if !drop.is_archived {
                set_archived(tx, actor, "leads", "lead", drop.id, input.drop_version, true).await?;
            }
            let version = if drop.is_archived { input.drop_version } else { input.drop_version.next() };
            let point =
                Query::new("update leads set merged_into = $1, version = version + 1 where id = $2 and version = $3")
                    .bind(keep.id)
                    .bind(drop.id)
                    .bind(version);
            update_versioned(tx, "leads", "lead", drop.id, point).await?;
            let take = |field: &str| !converted.0 && input.take.iter().any(|f| f == field);
            let full_name = if take("full_name") { &drop.full_name } else { &keep.full_name };
            let phone = if take("phone") { &drop.phone } else { &keep.phone };
            let email = if take("email") { &drop.email } else { &keep.email };
            let campaign_id = if take("campaign_id") { drop.campaign_id } else { keep.campaign_id };
            let note = if take("note") { &drop.note } else { &keep.note };
            if !keep.is_archived {
                let taken = leads::duplicates(tx, phone.as_deref(), email.as_deref(), Some(keep.id)).await?;
                if !taken.is_empty() {
                    return Err(Error::Invalid(taken));
                }
            }
            let update = Query::new(
                "update leads set full_name = $1, phone = $2, email = $3, campaign_id = $4, note = $5, search = $6,
                 version = version + 1, updated_at = $7 where id = $8 and version = $9",
            )
            .bind(full_name.as_str())
            .bind(phone.as_deref())
            .bind(email.as_deref())
            .bind(campaign_id)
            .bind(note.as_str())
            .bind(search_text(full_name, phone.as_deref(), email.as_deref()))
            .bind(now())
            .bind(keep.id)
            .bind(input.keep_version);
            update_versioned(tx, "leads", "lead", keep.id, update).await?;
            let merged = leads::fetch(tx, keep.id).await?;
            let mut changes = Changes::default();
            changes
                .field("full_name", Some(&keep.full_name), Some(&merged.full_name))
                .field("phone", keep.phone.as_deref(), merged.phone.as_deref())
                .field("email", keep.email.as_deref(), merged.email.as_deref())
                .field("campaign", keep.campaign_name.as_deref(), merged.campaign_name.as_deref())
                .field("note", Some(&keep.note), Some(&merged.note));
            let details = format!("{} (№{})", drop.full_name, drop.id);
            audit_entry(tx, actor, "merge", "lead", keep.id, &details, &changes).await?;
            let into = format!("{} (№{})", merged.full_name, merged.id);
            audit_entry(tx, actor, "merged", "lead", drop.id, &into, &Changes::default()).await?;
            Ok(merged)
        })
    }
}

/// The leads that look like `lead`, each with why, in one query of index look-ups.
async fn duplicates_of(tx: &mut Tx, lead: &Lead) -> Result<Vec<Duplicate>> {
    let last_seven =
        lead.phone.as_deref().map(|p| p.chars().rev().take(7).collect::<String>().chars().rev().collect::<String>());
    let mut q = Query::new(format!("select {} from leads l{} where l.id <> ", leads::COLUMNS, leads::JOINS));
    q.push_bind(lead.id).push(" and l.merged_into is null and (l.full_name = ").push_bind(lead.full_name.as_str());
    if let Some(phone) = lead.phone.as_deref() {
        q.push(" or l.phone = ").push_bind(phone);
    }
    if let Some(email) = lead.email.as_deref() {
        q.push(" or l.email = ").push_bind(email);
    }
    q.push(") order by l.id limit ").push_bind(MAX_DUPLICATES * 5);
    let candidates: Vec<Lead> = tx.fetch_all(q).await?;
    let mut found = Vec::new();
    for other in candidates {
        let mut reasons = Vec::new();
        if other.phone.is_some() && other.phone == lead.phone {
            reasons.push("phone");
        }
        if other.email.is_some() && other.email == lead.email {
            reasons.push("email");
        }
        if other.full_name == lead.full_name {
            let phone_close =
                matches!((&last_seven, other.phone.as_deref()), (Some(seven), Some(p)) if p.ends_with(seven.as_str()));
            let email_close = matches!(
                (lead.email.as_deref(), other.email.as_deref()),
                (Some(a), Some(b)) if a.split('@').next() == b.split('@').next()
            );
            if phone_close && !reasons.contains(&"phone") {
                reasons.push("name_phone");
            }
            if email_close && !reasons.contains(&"email") {
                reasons.push("name_email");
            }
        }
        if !reasons.is_empty() {
            found.push(Duplicate { lead: other, reasons });
        }
        if found.len() as i64 >= MAX_DUPLICATES {
            break;
        }
    }
    Ok(found)
}
