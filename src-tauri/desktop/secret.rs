//! The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
//! No database password is kept on staff computers any more: each person signs in to the office
//! server as themselves. What is left is removing the shared office password that earlier
//! versions kept there.

use std::time::Duration;

const SERVICE: &str = "ru.crm.desktop";

/// Removes the password kept for `account` (`login@host:port/db`), if any. Keyring calls block
/// (D-Bus): they run on a blocking thread with a time limit, so a keyring that never answers
/// cannot hang the window.
pub async fn forget(account: &str) {
    let account = account.to_owned();
    let task = tokio::task::spawn_blocking(move || {
        keyring::Entry::new(SERVICE, &account).and_then(|entry| entry.delete_credential())
    });
    match tokio::time::timeout(Duration::from_secs(5), task).await {
        Ok(Ok(Ok(()))) => tracing::info!("the shared office password left the keyring"),
        Ok(Ok(Err(keyring::Error::NoEntry))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("cannot remove the old office password from the keyring: {e}"),
        Ok(Err(e)) => tracing::warn!("keyring: {e}"),
        Err(_) => tracing::warn!("the keyring did not answer"),
    }
}
