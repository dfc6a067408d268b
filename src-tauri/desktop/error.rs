//! Errors as the window sees them: `{code, message, fields: [{field, message}]}` in the user's
//! language. The UI switches on `code` and shows `message`; internal details go to the log only.

use serde::Serialize;

use crate::domain::id::LeadId;
use crate::error::Error;
use crate::i18n::{error_message, field_message, message, Lang};

#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
    pub fields: Vec<UiField>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UiField {
    pub field: &'static str,
    pub message: String,
    /// The lead the message names (a phone or e-mail already taken), so the form can open its card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<LeadId>,
}

/// What every command returns.
pub type Reply<T> = Result<T, UiError>;

impl UiError {
    pub fn from_core(lang: Lang, error: &Error) -> Self {
        let (text, fields) = match error {
            // an unexpected failure: logged under an incident id, which the message gives with
            // the log file's path (the detail stays in the log)
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => {
                let incident = crate::logging::incident(error);
                let pointer = crate::logging::pointer(lang, &incident);
                (format!("{}. {}", error_message(lang, error), capitalized(&pointer)), Vec::new())
            }
            Error::Invalid(fields) => (
                message(lang, "invalid", &[]),
                fields
                    .iter()
                    .map(|f| UiField {
                        field: f.field,
                        message: field_message(lang, f),
                        lead_id: f.params.iter().find(|(k, _)| *k == "id").and_then(|(_, v)| v.parse().ok()),
                    })
                    .collect(),
            ),
            other => {
                tracing::debug!("{other}");
                (error_message(lang, other), Vec::new())
            }
        };
        Self { code: error.code().to_owned(), message: text, fields }
    }

    /// An error of the window itself (no core error behind it).
    pub fn other(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), fields: Vec::new() }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
