//! What the window remembers between commands: the opened database (none before the first-run
//! choice), who is signed in (with their own connection), and the language. Every command
//! re-reads the signed-in actor, so a deactivation or a revoked permission bites at once.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::RwLock;

use super::error::{Reply, UiError};
use crate::app::Crm;
use crate::contracts::DocumentUpload;
use crate::error::Result as CoreResult;
use crate::i18n::{message, Lang};
use crate::permission::Actor;

pub struct Desktop {
    /// `--database-url` / `CRM_DATABASE_URL`: wins over the config file and skips the first-run
    /// screen.
    pub explicit_url: Option<String>,
    pub inner: RwLock<Inner>,
    /// Files the user picked in the native dialog, read and waiting for the form that saves
    /// them: the window holds only a token, never a path or the bytes.
    pub uploads: Mutex<Uploads>,
    /// The office server's certificate authority picked on the office form (never a path sent
    /// by the page).
    pub picked_ca: Mutex<Option<std::path::PathBuf>>,
    /// The import wizard's file and last report.
    pub imports: super::imports::ImportState,
    /// Where a backup, restore or move under way stands (see `backups::progress`).
    pub progress: Mutex<Option<crate::backup::Progress>>,
}

#[derive(Default)]
pub struct Uploads {
    next: u64,
    files: HashMap<u64, DocumentUpload>,
}

impl Uploads {
    /// Keeps a picked file and returns its token (only the last few are kept).
    pub fn keep(&mut self, upload: DocumentUpload) -> u64 {
        self.next += 1;
        if self.files.len() >= 8 {
            let oldest = *self.files.keys().min().unwrap_or(&0);
            self.files.remove(&oldest);
        }
        self.files.insert(self.next, upload);
        self.next
    }

    /// The file for `token`, taken out (a token is good for one save).
    pub fn take(&mut self, token: u64) -> Option<DocumentUpload> {
        self.files.remove(&token)
    }

    /// Forgets every picked file (at sign-out); tokens keep counting, so an old one never names
    /// a file picked later.
    pub fn forget_all(&mut self) {
        self.files.clear();
    }
}

#[derive(Default)]
pub struct Inner {
    pub crm: Option<Crm>,
    pub database: Option<DatabaseInfo>,
    /// The signed-in user, as sign-in returned them.
    pub actor: Option<Actor>,
    pub lang: Lang,
}

/// Which database is open, for the settings page (never with a password).
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseInfo {
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    /// A file path, or `host:port/db`.
    pub location: String,
    /// `command_line` (URL given at start, settings cannot change it) or `config`.
    pub source: &'static str,
}

/// A signed-in call: the database, the actor loaded just now, and the language for errors.
pub struct Session {
    pub crm: Crm,
    pub actor: Actor,
    pub lang: Lang,
}

impl Session {
    /// Maps a core result to a reply in the user's language.
    pub fn reply<T>(&self, result: CoreResult<T>) -> Reply<T> {
        result.map_err(|e| UiError::from_core(self.lang, &e))
    }
}

impl Desktop {
    pub fn new(explicit_url: Option<String>, lang: Lang) -> Self {
        Self {
            explicit_url,
            inner: RwLock::new(Inner { lang, ..Inner::default() }),
            uploads: Mutex::new(Uploads::default()),
            picked_ca: Mutex::new(None),
            progress: Mutex::new(None),
            imports: Default::default(),
        }
    }

    pub async fn lang(&self) -> Lang {
        self.inner.read().await.lang
    }

    /// The open database, or `no_database` before the first-run choice.
    pub async fn crm(&self) -> Reply<(Crm, Lang)> {
        let inner = self.inner.read().await;
        match &inner.crm {
            Some(crm) => Ok((crm.clone(), inner.lang)),
            None => Err(UiError::other("no_database", message(inner.lang, "no_database", &[]))),
        }
    }

    /// The signed-in user's session; `unauthenticated` when nobody is signed in or the account
    /// was deactivated meanwhile.
    pub async fn session(&self) -> Reply<Session> {
        let (crm, lang) = self.crm().await?;
        let signed_in = self.inner.read().await.actor.clone();
        let Some(signed_in) = signed_in else {
            return Err(UiError::from_core(lang, &crate::Error::Unauthenticated));
        };
        let actor = crm.refresh(&signed_in).await.map_err(|e| UiError::from_core(lang, &e))?;
        Ok(Session { crm, actor, lang })
    }

    /// The picked file for `token` (none when the form has no file). A token that names no file
    /// (picked before a sign-out, or one of many picks ago) is a field error: the form must not
    /// save without the document the user believes is attached.
    pub fn upload(&self, token: Option<u64>, lang: Lang) -> Reply<Option<DocumentUpload>> {
        let Some(token) = token else { return Ok(None) };
        let file = self.uploads.lock().map_err(|e| UiError::other("internal", e.to_string()))?.take(token);
        match file {
            Some(file) => Ok(Some(file)),
            None => Err(UiError::from_core(lang, &crate::Error::field("document", "file_pick_again"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> DocumentUpload {
        DocumentUpload { file_name: name.into(), bytes: b"%PDF-1.4".to_vec() }
    }

    #[test]
    fn a_token_names_one_file_once_and_never_a_later_one() {
        let mut uploads = Uploads::default();
        let first = uploads.keep(file("a.pdf"));
        uploads.forget_all();
        assert!(uploads.take(first).is_none(), "forgotten at sign-out");
        let second = uploads.keep(file("b.pdf"));
        assert_ne!(first, second);
        assert_eq!(uploads.take(second).map(|f| f.file_name), Some("b.pdf".to_owned()));
        assert!(uploads.take(second).is_none(), "a token is good for one save");
    }

    #[test]
    fn a_form_whose_file_was_forgotten_is_told_to_pick_it_again() {
        let desktop = Desktop::new(None, Lang::En);
        assert!(desktop.upload(None, Lang::En).unwrap().is_none());
        let error = desktop.upload(Some(42), Lang::En).unwrap_err();
        assert_eq!((error.fields[0].field, error.fields[0].message.as_str()), ("document", "Choose the file again"));
    }
}
