//! This device confirmed by its owner (issue 24). Element sends nothing to a device its owner
//! has not cross-signed, so a laptop signed in to an account made elsewhere must confirm
//! itself: here, by typing the account's recovery key. An account the app creates gets
//! recovery set up at once, its key shown to the user a single time.

use matrix_sdk::encryption::recovery::RecoveryError;
use matrix_sdk::encryption::secret_storage::SecretStorageError;
use matrix_sdk::Client;

use crate::relay::{invalid, RelayError};

/// Longer than any recovery key or passphrase a person types; more is not one.
const LONGEST_KEY: usize = 500;

/// Whether this device is cross-signed by its owner; None until the keys are known.
pub(super) async fn is_confirmed(client: &Client) -> Option<bool> {
    match client.encryption().get_own_device().await {
        Ok(Some(device)) => Some(device.is_cross_signed_by_owner()),
        _ => None,
    }
}

/// Checks what was typed in "Recovery key" before it goes to the server.
pub fn typed_key(typed: &str) -> Result<&str, RelayError> {
    let key = typed.trim();
    if key.is_empty() {
        return Err(invalid(
            "recoveryKey",
            "Recovery key",
            "type the recovery key you wrote down when you set up recovery (in Element or in this app).",
        ));
    }
    if key.chars().count() > LONGEST_KEY || key.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(
            "recoveryKey",
            "Recovery key",
            "that is not a recovery key: it is 48 letters and numbers, in groups of four.",
        ));
    }
    Ok(key)
}

/// Confirms this device with the account's recovery key: the secrets in the account's
/// secret storage (cross-signing and key backup keys) are opened with it, this device is
/// signed by its owner, and room keys can come from the key backup.
pub(super) async fn confirm(client: &Client, typed: &str) -> Result<(), RelayError> {
    let key = typed_key(typed)?;
    if let Err(error) = client.encryption().recovery().recover(key).await {
        tracing::warn!("the recovery key was not accepted: {error}");
        return Err(refused(error));
    }
    if is_confirmed(client).await != Some(true) {
        // The store opened but held no key to sign devices with (recovery set up before
        // cross-signing): nothing else can confirm from here.
        return Err(RelayError::Refused(
            "the recovery key opened your account's secret storage, but it holds no signing key, so this device is still not confirmed. Confirm it from a session you have already confirmed, or reset your recovery in Element.".into(),
        ));
    }
    tracing::info!("this device is confirmed with the recovery key");
    Ok(())
}

/// Fetches from the key backup the keys of every team room, for the posts this device
/// could not read before it was confirmed. A failure only leaves them waiting.
pub(super) async fn download_backed_up_keys(client: &Client) {
    for room in client.joined_rooms() {
        if let Err(error) = client
            .encryption()
            .backups()
            .download_room_keys_for_room(room.room_id())
            .await
        {
            tracing::warn!(room = %room.room_id(), "keys not fetched from the key backup: {error}");
        }
    }
}

fn refused(error: RecoveryError) -> RelayError {
    match error {
        RecoveryError::SecretStorage(SecretStorageError::SecretStorageKey(_)) => invalid(
            "recoveryKey",
            "Recovery key",
            "that is not this account's recovery key. Check each group of four and try again; letters and numbers that look alike (0 and O, 1 and l) are easy to mix up.",
        ),
        RecoveryError::SecretStorage(SecretStorageError::MissingKeyInfo { .. }) => invalid(
            "recoveryKey",
            "Recovery key",
            "this account has no recovery set up, so there is no key to type. Set up recovery in Element (its encryption settings), then type the key it shows here.",
        ),
        RecoveryError::Sdk(matrix_sdk::Error::Http(http))
        | RecoveryError::SecretStorage(SecretStorageError::Sdk(matrix_sdk::Error::Http(http))) => {
            RelayError::Unreachable(http.to_string())
        }
        other => RelayError::Refused(format!("confirming this device: {other}")),
    }
}

/// Sets up recovery (secret storage and key backup) for an account the app has just made,
/// and returns the recovery key: the only time it exists outside the server, encrypted.
pub(super) async fn set_up(client: &Client) -> Result<String, RelayError> {
    // Cross-signing is made by the SDK's first tasks after sign-in; recovery stores its keys.
    client
        .encryption()
        .wait_for_e2ee_initialization_tasks()
        .await;
    let key = client
        .encryption()
        .recovery()
        .enable()
        .await
        .map_err(|error| {
            tracing::error!("recovery could not be set up: {error}");
            RelayError::Refused(format!("recovery could not be set up: {error}"))
        })?;
    // The device's own signature, as the server now holds it: without this, the screen
    // would call the device unconfirmed until the next key update.
    if let Some(user) = client.user_id() {
        if let Err(error) = client.encryption().request_user_identity(user).await {
            tracing::warn!("this account's keys were not fetched again: {error}");
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::typed_key;

    #[test]
    fn a_typed_recovery_key_is_checked_before_it_goes_anywhere() {
        assert_eq!(typed_key("  EsTj 3yST y93F  ").unwrap(), "EsTj 3yST y93F");
        for hostile in [
            String::new(),
            "   ".into(),
            "a".repeat(501),
            "Es\u{0}Tj".into(),
            "\u{1b}[2J".into(),
        ] {
            let error = typed_key(&hostile).unwrap_err().to_string();
            assert!(error.starts_with("Recovery key: "), "{hostile:?}: {error}");
        }
    }
}
