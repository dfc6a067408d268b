//! Converting a lead into an active client, in one write transaction: the lead is marked
//! converted, the client is created from it and a contract (new, or prepared earlier and still
//! unassigned) becomes the client's. A lead converts once, also when two people try at once.

use serde::Deserialize;

use super::{fetch_client, Client};
use crate::app::{audit, now, Crm};
use crate::contracts::{ContractInput, DocumentUpload};
use crate::db::{transact, Query, Tx};
use crate::domain::id::{ClientId, ContractId, ImportId, LeadId, Version};
use crate::domain::text;
use crate::error::{Error, Result};
use crate::permission::{Actor, Permission};
use crate::store::{refresh_client_totals, unique_violation};

/// The contract the new client starts with.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conversion {
    /// A contract written now, optionally with its document (needs `contracts.edit`).
    NewContract {
        contract: ContractInput,
        #[serde(default)]
        document: Option<DocumentUpload>,
    },
    /// A contract prepared earlier that has no client yet.
    ExistingContract { contract_id: ContractId },
}

impl Crm {
    /// Makes the lead (as seen at `lead_version`) an active client with its first contract.
    /// Errors: `already_converted`, `lead_archived`, `Conflict` for a stale version, field errors
    /// of the new contract, or `contract_taken` / `archived` / `unknown` on `contract_id`; on any
    /// of them nothing is written.
    #[tracing::instrument(skip_all, fields(user = actor.user_id.get()), err(level = "info"))]
    pub async fn convert_lead(
        &self,
        actor: &Actor,
        lead_id: LeadId,
        lead_version: Version,
        conversion: Conversion,
    ) -> Result<Client> {
        actor.require(Permission::LeadsConvert)?;
        if matches!(conversion, Conversion::NewContract { .. }) {
            actor.require(Permission::ContractsEdit)?;
        }
        transact!(actor.db, |tx| {
            mark_converted(tx, lead_id, lead_version).await?;
            let (client_id, name) = insert_client(tx, actor, lead_id, None).await?;
            match &conversion {
                Conversion::NewContract { contract, document } => {
                    // cloned: a retried transaction attaches it again
                    let document = document.clone();
                    self.insert_checked(tx, actor, contract, document, Some((client_id, &name)), None).await?;
                }
                Conversion::ExistingContract { contract_id } => {
                    attach_contract(tx, actor, *contract_id, client_id, &name).await?;
                }
            }
            audit(tx, actor, "convert", "lead", lead_id, &format!("client {client_id}")).await?;
            let client = fetch_client(tx, client_id).await?;
            Ok(client)
        })
    }
}

impl Crm {
    /// Converts lead `lead_id` (read at `version`) with a new contract in the caller's
    /// transaction: an import's row. The client and the contract are marked with `import_id`.
    pub(crate) async fn convert_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        lead_id: LeadId,
        version: Version,
        contract: &ContractInput,
        import_id: Option<ImportId>,
    ) -> Result<()> {
        mark_converted(tx, lead_id, version).await?;
        let (client_id, name) = insert_client(tx, actor, lead_id, import_id).await?;
        self.insert_checked(tx, actor, contract, None, Some((client_id, &name)), import_id).await?;
        audit(tx, actor, "convert", "lead", lead_id, &format!("client {client_id}")).await
    }
}

/// Sets the lead's status, guarded so that only a live, unconverted lead at `version` changes.
/// A concurrent conversion that won holds the row (PostgreSQL) or the write lock (SQLite) until
/// it commits; this update then finds the newer version and changes nothing.
async fn mark_converted(tx: &mut Tx, lead_id: LeadId, version: Version) -> Result<()> {
    let changed = tx
        .execute(
            Query::new(
                "update leads set status = 'converted', version = version + 1, updated_at = $1
                 where id = $2 and version = $3 and status <> 'converted' and is_archived = false",
            )
            .bind(now())
            .bind(lead_id)
            .bind(version),
        )
        .await?;
    if changed > 0 {
        return Ok(());
    }
    let lead: Option<(String, bool)> =
        tx.fetch_optional(Query::new("select status, is_archived from leads where id = $1").bind(lead_id)).await?;
    Err(match lead {
        None => Error::NotFound { entity: "lead", id: lead_id.get() },
        Some((status, _)) if status == "converted" => Error::state("already_converted"),
        Some((_, true)) => Error::state("lead_archived"),
        Some(_) => Error::Conflict { entity: "lead", id: lead_id.get() },
    })
}

/// Creates the client from the lead's details; returns its id and name. The unique `lead_id`
/// is the last guard against a second client for one lead.
async fn insert_client(
    tx: &mut Tx,
    actor: &Actor,
    lead_id: LeadId,
    import_id: Option<ImportId>,
) -> Result<(ClientId, String)> {
    let at = now();
    let created: (ClientId, String) = tx
        .fetch_one(
            Query::new(
                "insert into clients (lead_id, full_name, phone, email, note, search, converted_by, created_at, updated_at,
                 owner_id, import_id)
                 select id, full_name, phone, email, note, search, $1, $2, $2, $1, $4 from leads where id = $3
                 returning id, full_name",
            )
            .bind(actor.user_id)
            .bind(at)
            .bind(lead_id)
            .bind(import_id),
        )
        .await
        .map_err(|e| if unique_violation(&e).is_some() { Error::state("already_converted") } else { e })?;
    audit(tx, actor, "create", "client", created.0, &created.1).await?;
    Ok(created)
}

/// Gives the client a live contract that has no client yet.
async fn attach_contract(
    tx: &mut Tx,
    actor: &Actor,
    contract_id: ContractId,
    client_id: ClientId,
    name: &str,
) -> Result<()> {
    let changed = tx
        .execute(
            // name_key is the contract's name lower-cased, so this equals contracts::search_text
            Query::new(
                "update contracts set client_id = $1, search = name_key || ' ' || $2, version = version + 1,
                 updated_at = $3 where id = $4 and client_id is null and is_archived = false",
            )
            .bind(client_id)
            .bind(text::key(name))
            .bind(now())
            .bind(contract_id),
        )
        .await?;
    if changed > 0 {
        refresh_client_totals(tx, client_id).await?;
    }
    if changed == 0 {
        let contract: Option<(Option<ClientId>, bool)> = tx
            .fetch_optional(Query::new("select client_id, is_archived from contracts where id = $1").bind(contract_id))
            .await?;
        let code = match contract {
            None => "unknown",
            Some((Some(_), _)) => "contract_taken",
            Some((None, _)) => "archived",
        };
        return Err(Error::field("contract_id", code));
    }
    audit(tx, actor, "attach", "contract", contract_id, &format!("client {client_id}")).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::id::ServiceId;

    #[test]
    fn a_conversion_reads_from_json_tagged_by_kind() {
        let json = r#"{"kind": "new_contract", "contract": {"name": "Д-1", "service_id": 3, "amount": "750"}}"#;
        let Conversion::NewContract { contract, document } = serde_json::from_str(json).unwrap() else { panic!() };
        assert_eq!(
            (contract.name.as_str(), contract.service_id, document.is_none()),
            ("Д-1", Some(ServiceId::new(3)), true)
        );
        let json = r#"{"kind": "existing_contract", "contract_id": 7}"#;
        assert!(
            matches!(serde_json::from_str(json).unwrap(), Conversion::ExistingContract { contract_id } if contract_id == ContractId::new(7))
        );
    }
}
