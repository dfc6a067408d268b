//! Reading contracts: one select for a contract and for a page of them, never the document bytes.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{Query, Tx};
use crate::domain::id::{ClientId, ContractId, ServiceId, Version};
use crate::domain::Money;
use crate::error::{Error, Result};

use super::{Contract, DocumentInfo};

/// The document comes from a left join of its details only: `content` is never read here.
pub(super) const FROM: &str = " from contracts c
    join services s on s.id = c.service_id
    left join clients cl on cl.id = c.client_id
    left join contract_documents d on d.contract_id = c.id";

pub(super) const COLUMNS: &str = "select c.id, c.name, c.service_id, s.name as service_name, c.client_id,
    cl.full_name as client_name, c.signed_on, c.valid_from, c.valid_to, c.amount,
    d.file_name as doc_file_name, d.media_type as doc_media_type, d.size_bytes as doc_size_bytes,
    d.sha256 as doc_sha256, d.uploaded_at as doc_uploaded_at,
    c.is_archived, c.version, c.created_at, c.updated_at";

pub(super) async fn ensure_exists(tx: &mut Tx, id: ContractId) -> Result<()> {
    let found: Option<(i64,)> =
        tx.fetch_optional(Query::new("select id from contracts where id = $1").bind(id)).await?;
    found.map(|_| ()).ok_or(Error::NotFound { entity: "contract", id: id.get() })
}

pub(crate) async fn fetch_contract(tx: &mut Tx, id: ContractId) -> Result<Contract> {
    let row: Option<ContractRow> =
        tx.fetch_optional(Query::new(format!("{COLUMNS}{FROM} where c.id = $1")).bind(id)).await?;
    row.map(Contract::from).ok_or(Error::NotFound { entity: "contract", id: id.get() })
}

/// A contract as selected, the document's details flattened by the left join.
#[derive(sqlx::FromRow)]
pub(super) struct ContractRow {
    id: ContractId,
    name: String,
    service_id: ServiceId,
    service_name: String,
    client_id: Option<ClientId>,
    client_name: Option<String>,
    signed_on: NaiveDate,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    #[sqlx(try_from = "i64")]
    amount: Money,
    doc_file_name: Option<String>,
    doc_media_type: Option<String>,
    doc_size_bytes: Option<i64>,
    doc_sha256: Option<String>,
    doc_uploaded_at: Option<DateTime<Utc>>,
    is_archived: bool,
    version: Version,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ContractRow> for Contract {
    fn from(r: ContractRow) -> Self {
        let document = match (r.doc_file_name, r.doc_media_type, r.doc_size_bytes, r.doc_sha256, r.doc_uploaded_at) {
            (Some(file_name), Some(media_type), Some(size_bytes), Some(sha256), Some(uploaded_at)) => {
                Some(DocumentInfo { file_name, media_type, size_bytes, sha256, uploaded_at })
            }
            _ => None,
        };
        Self {
            id: r.id,
            name: r.name,
            service_id: r.service_id,
            service_name: r.service_name,
            client_id: r.client_id,
            client_name: r.client_name,
            signed_on: r.signed_on,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            amount: r.amount,
            document,
            is_archived: r.is_archived,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
