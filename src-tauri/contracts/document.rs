//! The signed document of a contract: recognised by its content (never by its name), bounded in
//! size, fingerprinted with SHA-256 and stored in the database so every office computer sees it.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::now;
use crate::db::{Query, Tx};
use crate::domain::id::ContractId;
use crate::domain::text::is_bidi_control;
use crate::error::{FieldError, Result};
use crate::permission::Actor;

use super::structure::{self, Kind};

/// A file as the adapter read it: the name the user's file had and its bytes.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct DocumentUpload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Bytes are left out: a debug print of a 20 MB upload helps nobody.
impl std::fmt::Debug for DocumentUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentUpload").field("file_name", &self.file_name).field("len", &self.bytes.len()).finish()
    }
}

/// What a contract shows of its document without loading the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentInfo {
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    /// Lower-case hex.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A stored document, for download.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct Document {
    pub file_name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("file_name", &self.file_name)
            .field("media_type", &self.media_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// An upload that passed the checks, ready to store.
#[derive(Clone)]
pub(crate) struct CheckedDocument {
    file_name: String,
    media_type: &'static str,
    sha256: String,
    bytes: Vec<u8>,
}

pub(super) const FIELD: &str = "document";
/// The longest stored file name, in bytes: what Linux, macOS and Windows file systems accept.
const MAX_NAME_BYTES: usize = 255;

/// What an office accepts as a contract's document.
#[derive(Debug, Clone, Copy)]
pub struct DocumentRules {
    pub max_bytes: usize,
    /// Documents that can run code (PDF scripts, macros): refused unless the office allows them.
    pub allow_active: bool,
}

impl CheckedDocument {
    pub(crate) fn file_name(&self) -> &str {
        &self.file_name
    }
}

impl DocumentUpload {
    /// Reads a file the user picked: one over `max_bytes` is refused before it is loaded, and the
    /// rest is checked as a save would check it (type by content, size), so a wrong file is
    /// refused when it is picked, not when the form is saved.
    pub fn read_picked(path: &Path, rules: DocumentRules) -> Result<Self, FieldError> {
        let max_bytes = rules.max_bytes;
        let unreadable = |e: std::io::Error| {
            tracing::warn!("cannot read {}: {e}", path.display());
            FieldError::new(FIELD, "file_unreadable")
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        if file.metadata().map_err(unreadable)?.len() > max_bytes as u64 {
            return Err(too_large(max_bytes));
        }
        // Read at most one byte past the limit: a file that grew meanwhile is still refused.
        let mut bytes = Vec::new();
        file.take(max_bytes as u64 + 1).read_to_end(&mut bytes).map_err(unreadable)?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let upload = Self { file_name, bytes };
        upload.recognise(rules)?;
        Ok(upload)
    }

    /// The media type and usual extension, if the bytes are a whole, accepted document within the
    /// limit.
    fn recognise(&self, rules: DocumentRules) -> Result<(&'static str, &'static str), FieldError> {
        if self.bytes.is_empty() {
            return Err(FieldError::new(FIELD, "file_empty"));
        }
        if self.bytes.len() > rules.max_bytes {
            return Err(too_large(rules.max_bytes));
        }
        let (kind, media_type, extension) = sniff(&self.bytes).ok_or_else(|| FieldError::new(FIELD, "file_type"))?;
        structure::verify(kind, &self.bytes, rules.allow_active)?;
        Ok((media_type, extension))
    }

    /// Recognises the file by content, bounds its size and cleans its name. Takes the upload by
    /// value so the bytes are moved, not copied, on their way to the database.
    pub(crate) fn check(self, rules: DocumentRules) -> Result<CheckedDocument, FieldError> {
        let (media_type, extension) = self.recognise(rules)?;
        let sha256 = Sha256::digest(&self.bytes).iter().map(|b| format!("{b:02x}")).collect();
        Ok(CheckedDocument {
            file_name: clean_file_name(&self.file_name, extension),
            media_type,
            sha256,
            bytes: self.bytes,
        })
    }
}

/// The kind, media type and usual extension of an accepted document, judged by its bytes alone: a
/// text file renamed to `.pdf` is refused, a PDF saved without an extension is accepted. (Its
/// whole structure is checked next: `structure::verify`.)
fn sniff(bytes: &[u8]) -> Option<(Kind, &'static str, &'static str)> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    const ZIP: &[u8] = b"PK\x03\x04";
    if infer::archive::is_pdf(bytes) {
        Some((Kind::Pdf, "application/pdf", "pdf"))
    } else if infer::image::is_jpeg(bytes) {
        Some((Kind::Jpeg, "image/jpeg", "jpg"))
    } else if infer::image::is_png(bytes) {
        Some((Kind::Png, "image/png", "png"))
    } else if infer::odf::is_odt(bytes) {
        Some((Kind::Odt, "application/vnd.oasis.opendocument.text", "odt"))
    // infer only knows the entry order Word writes; other writers of DOCX are recognised by
    // the entry every DOCX has (ZIP stores entry names uncompressed).
    } else if infer::doc::is_docx(bytes) || (bytes.starts_with(ZIP) && contains(bytes, b"word/document.xml")) {
        Some((Kind::Docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"))
    // A Word 97-2003 file is an OLE compound file; infer needs Word's class id on the root,
    // which some writers leave out, so the `WordDocument` stream name (UTF-16) also counts.
    } else if infer::doc::is_doc(bytes) || (bytes.starts_with(OLE) && contains(bytes, &utf16le("WordDocument"))) {
        Some((Kind::Doc, "application/msword", "doc"))
    } else {
        None
    }
}

fn too_large(max_bytes: usize) -> FieldError {
    FieldError::new(FIELD, "file_too_large").with("max", megabytes(max_bytes))
}

/// The usual extension of an accepted media type: a copy opened in the system's viewer gets the
/// extension its content has, whatever the original name said (a PDF named `x.bat` opens as
/// `x.pdf`).
pub fn extension_of(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/msword" => "doc",
        _ => "bin",
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The name a document is stored under, safe to save on any system and to show to people: the
/// last component of whatever path it came with; no control characters, nor the bidi controls
/// that make `invoice\u{202E}fdp.exe` read as `invoiceexe.pdf`; no characters Windows forbids,
/// nor a Windows device name (`CON`, `NUL`, `COM1`, ...), nor trailing dots or spaces; at most
/// 255 bytes (not characters: a long Cyrillic name must still open on Linux), the extension kept.
/// `document.<ext>` when nothing is left.
fn clean_file_name(name: &str, extension: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_end_matches(['.', ' ']);
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        return format!("document.{extension}");
    }
    let (stem, suffix) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, format!(".{ext}")),
        _ => (cleaned, String::new()),
    };
    let device = stem.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let reserved = matches!(device.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (device.len() == 4
            && (device.starts_with("COM") || device.starts_with("LPT"))
            && device.as_bytes()[3].is_ascii_digit());
    let stem = if reserved { format!("_{stem}") } else { stem.to_owned() };
    let mut cut = stem.len().min(MAX_NAME_BYTES - suffix.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches(['.', ' ']);
    format!("{stem}{suffix}")
}

/// A byte count in megabytes for messages: `20`, `0.5`, `0.01`.
fn megabytes(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    let hundredths = (bytes % MB * 100).div_ceil(MB).min(99);
    match hundredths {
        0 => (bytes / MB).to_string(),
        h => format!("{}.{h:02}", bytes / MB).trim_end_matches('0').to_owned(),
    }
}

/// Stores `document` as the contract's only document, replacing any earlier one.
pub(crate) async fn store_document(
    tx: &mut Tx,
    actor: &Actor,
    contract_id: ContractId,
    document: CheckedDocument,
) -> Result<()> {
    let size = i64::try_from(document.bytes.len()).unwrap_or(i64::MAX);
    tx.execute(
        Query::new(
            "insert into contract_documents
                 (contract_id, file_name, media_type, size_bytes, sha256, content, uploaded_by, uploaded_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (contract_id) do update set
                 file_name = excluded.file_name, media_type = excluded.media_type,
                 size_bytes = excluded.size_bytes, sha256 = excluded.sha256, content = excluded.content,
                 uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at",
        )
        .bind(contract_id)
        .bind(document.file_name)
        .bind(document.media_type)
        .bind(size)
        .bind(document.sha256)
        .bind(document.bytes)
        .bind(actor.user_id)
        .bind(now()),
    )
    .await?;
    Ok(())
}

/// The document's bytes, or `None` when the contract has none.
pub(crate) async fn load_document(tx: &mut Tx, contract_id: ContractId) -> Result<Option<Document>> {
    tx.fetch_optional(
        Query::new("select file_name, media_type, content as bytes from contract_documents where contract_id = $1")
            .bind(contract_id),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_directories_and_stay_short() {
        assert_eq!(clean_file_name("C:\\Users\\ivan\\Договор.pdf", "pdf"), "Договор.pdf");
        assert_eq!(clean_file_name("../../etc/passwd", "pdf"), "passwd");
        assert_eq!(clean_file_name("dir/..", "png"), "document.png");
        assert_eq!(clean_file_name("", "pdf"), "document.pdf");
        let long = clean_file_name(&format!("{}.docx", "я".repeat(300)), "docx");
        assert!(long.len() <= 255 && long.len() > 250, "{} bytes", long.len());
        assert!(long.ends_with(".docx"));
    }

    #[test]
    fn file_names_cannot_disguise_themselves_or_name_a_device() {
        assert_eq!(clean_file_name("invoice\u{202e}fdp.exe", "pdf"), "invoicefdp.exe");
        assert_eq!(clean_file_name("счёт\u{2067}.pdf\u{2069}", "pdf"), "счёт.pdf");
        assert_eq!(clean_file_name("CON.pdf", "pdf"), "_CON.pdf");
        assert_eq!(clean_file_name("com1", "pdf"), "_com1");
        assert_eq!(clean_file_name("nul.tar.pdf", "pdf"), "_nul.tar.pdf");
        assert_eq!(clean_file_name("Console.pdf", "pdf"), "Console.pdf");
        assert_eq!(clean_file_name("Договор. . .", "pdf"), "Договор");
        assert_eq!(clean_file_name("a<b>:c?.pdf", "pdf"), "a_b__c_.pdf");
    }

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(megabytes(20 * 1024 * 1024), "20");
        assert_eq!(megabytes(512 * 1024), "0.5");
        assert_eq!(megabytes(100), "0.01");
    }

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.4\n%%EOF").map(|t| t.2), Some("pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n").map(|t| t.2), Some("png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0").map(|t| t.2), Some("jpg"));
        assert_eq!(sniff(b"just some text"), None);
        assert_eq!(sniff(b"PK\x03\x04 a zip of something else"), None);
        // a DOCX whose entries are not in Word's order, and a Word 97 file without a class id
        assert_eq!(sniff(b"PK\x03\x04...word/document.xml...").map(|t| t.2), Some("docx"));
        let mut doc = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        doc.extend(utf16le("WordDocument"));
        assert_eq!(sniff(&doc).map(|t| t.2), Some("doc"));
        assert_eq!(sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 a spreadsheet"), None);
    }
}
