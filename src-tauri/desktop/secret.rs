//! The office database password in the OS keyring (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows), never in the config file. Where no keyring answers (a bare
//! X session, Xvfb in tests), the window asks for the password at each start instead, or takes it
//! from `CRM_DATABASE_URL`.

use std::time::Duration;

const SERVICE: &str = "ru.crm.desktop";

/// Keyring calls block (D-Bus); they run on a blocking thread with a time limit so a keyring that
/// never answers cannot hang the window.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    let task = tokio::task::spawn_blocking(f);
    match tokio::time::timeout(Duration::from_secs(5), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the keyring did not answer".into()),
    }
}

/// The password stored for `account` (`user@host:port/db`), if the keyring has one.
pub async fn load(account: &str) -> Option<String> {
    let account = account.to_owned();
    blocking(move || {
        let entry = keyring::Entry::new(SERVICE, &account).map_err(|e| e.to_string())?;
        entry.get_password().map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| tracing::info!("no password from the keyring: {e}"))
    .ok()
}

/// Stores the password; false when no keyring is available.
pub async fn store(account: &str, password: &str) -> bool {
    let (account, password) = (account.to_owned(), password.to_owned());
    blocking(move || {
        let entry = keyring::Entry::new(SERVICE, &account).map_err(|e| e.to_string())?;
        entry.set_password(&password).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| tracing::warn!("cannot keep the password in the keyring: {e}"))
    .is_ok()
}
