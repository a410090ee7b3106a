//! The account on the homeserver: signing in or registering, the login kept and restored,
//! and every refusal turned into a sentence a person can act on.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::encryption::{BackupDownloadStrategy, EncryptionSettings};
use matrix_sdk::ruma::api::client::account::register;
use matrix_sdk::ruma::api::client::uiaa::{AuthData, RegistrationToken};
use matrix_sdk::Client;
use matrix_sdk_base::crypto::CollectStrategy;
use rusqlite::{params, OptionalExtension};
use url::Url;

use crate::relay::{invalid, RelayError};
use crate::storage::Database;
use crate::time::to_millis;

pub struct StoredAccount {
    pub homeserver: String,
    pub user_id: String,
    session: String,
    passphrase: String,
    /// This device was confirmed by its owner when last looked at.
    pub device_confirmed: bool,
}

pub fn stored_account(database: &Database) -> Result<Option<StoredAccount>, RelayError> {
    Ok(database
        .reader()
        .query_row(
            "SELECT homeserver, user_id, session, store_passphrase, device_confirmed FROM team_account",
            [],
            |r| {
                Ok(StoredAccount {
                    homeserver: r.get(0)?,
                    user_id: r.get(1)?,
                    session: r.get(2)?,
                    passphrase: r.get(3)?,
                    device_confirmed: r.get(4)?,
                })
            },
        )
        .optional()?)
}

pub fn homeserver_url(typed: &str) -> Result<Url, RelayError> {
    let typed = typed.trim().trim_end_matches('/');
    if typed.is_empty() {
        return Err(invalid(
            "homeserver",
            "Team server",
            "enter the address of your team's Matrix server, such as https://matrix.example.org.",
        ));
    }
    let with_scheme = if typed.contains("://") {
        typed.to_owned()
    } else {
        format!("https://{typed}")
    };
    match Url::parse(&with_scheme) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => Ok(url),
        _ => Err(invalid(
            "homeserver",
            "Team server",
            "that is not a server address; it looks like https://matrix.example.org.",
        )),
    }
}

pub fn team_name(typed: &str) -> Result<String, RelayError> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(invalid(
            "name",
            "Team name",
            "give the team a name you will recognise (only this device sees it).",
        ));
    }
    if name.chars().count() > 100 {
        return Err(invalid("name", "Team name", "use at most 100 characters."));
    }
    Ok(name.to_owned())
}

/// A refusal from the server, in words.
pub(super) fn refused(error: matrix_sdk::Error, action: &str) -> RelayError {
    use matrix_sdk::ruma::api::error::ErrorKind;
    match error.client_api_error_kind() {
        Some(ErrorKind::Forbidden) => RelayError::Refused(format!(
            "{action}: the user name or password is wrong, or this account may not do that."
        )),
        Some(ErrorKind::LimitExceeded(_)) => RelayError::Refused(format!(
            "{action}: too many attempts; wait a minute and try again."
        )),
        Some(ErrorKind::UserInUse) => {
            RelayError::Refused(format!("{action}: that user name is taken."))
        }
        Some(ErrorKind::InvalidUsername) => RelayError::Refused(format!(
            "{action}: that user name is not allowed; use letters, numbers and . _ - only."
        )),
        Some(ErrorKind::NotFound) => RelayError::Refused(format!(
            "{action}: the server does not know that room or user."
        )),
        Some(_) => RelayError::Refused(format!("{action}: {error}.")),
        None => match &error {
            matrix_sdk::Error::Http(http) if http.as_uiaa_response().is_some() => {
                RelayError::Refused(format!(
                    "{action}: the registration token was not accepted."
                ))
            }
            matrix_sdk::Error::Http(_) => RelayError::Unreachable(error.to_string()),
            _ => RelayError::Refused(format!("{action}: {error}")),
        },
    }
}

fn store_dir(root: &Path) -> PathBuf {
    root.join("store")
}

/// Notes whether this device is confirmed; says whether that changed what it was.
pub fn note_confirmed(database: &Database, confirmed: bool) -> Result<bool, RelayError> {
    Ok(database.conn().execute(
        "UPDATE team_account SET device_confirmed = ?1 WHERE device_confirmed <> ?1",
        [confirmed],
    )? > 0)
}

/// Who gets this device's room keys. Once it is confirmed: only devices their owners
/// confirmed, as Element X does (MSC4153), so a device someone slipped onto a member's
/// account gets none. Before: under that rule a device that is not confirmed itself cannot
/// send at all, and a missed check-in must still reach the team's other app devices.
fn recipients(device_confirmed: bool) -> CollectStrategy {
    if device_confirmed {
        CollectStrategy::IdentityBasedStrategy
    } else {
        CollectStrategy::AllDevices
    }
}

async fn build(
    store_root: &Path,
    homeserver: &Url,
    passphrase: &str,
    device_confirmed: bool,
) -> Result<Client, RelayError> {
    std::fs::create_dir_all(store_root)
        .map_err(|e| RelayError::Refused(format!("the team store folder cannot be made: {e}")))?;
    Client::builder()
        .homeserver_url(homeserver.as_str())
        // The SDK would otherwise retry a failed request for ever: a wrong address would
        // never be reported, and a post would never give way to the outbox's own retries.
        .request_config(
            RequestConfig::new()
                .retry_limit(2)
                .max_retry_time(Duration::from_secs(10)),
        )
        // The SDK's low-memory settings: its default opens up to 4 connections per CPU for
        // each of its stores, each caching 2 MB, which a 200-member room fills; this is a
        // laptop app (and a phone app) that waits for a few posts an hour.
        .sqlite_store_with_config_and_cache_path(
            matrix_sdk::SqliteStoreConfig::with_low_memory_config(store_dir(store_root))
                .passphrase(Some(passphrase)),
            None::<&Path>,
        )
        .with_room_key_recipient_strategy(recipients(device_confirmed))
        .with_encryption_settings(EncryptionSettings {
            auto_enable_cross_signing: true,
            // A post whose key this device never got is looked for in the key backup, once
            // the device is confirmed (the backup's key comes with the recovery key).
            backup_download_strategy: BackupDownloadStrategy::AfterDecryptionFailure,
            ..Default::default()
        })
        .build()
        .await
        .map_err(|error| RelayError::Unreachable(error.to_string()))
}

pub async fn restore(store_root: &Path, stored: &StoredAccount) -> Result<Client, RelayError> {
    let url = homeserver_url(&stored.homeserver)?;
    let client = build(
        store_root,
        &url,
        &stored.passphrase,
        stored.device_confirmed,
    )
    .await?;
    let session: MatrixSession = serde_json::from_str(&stored.session).map_err(|_| {
        RelayError::Refused("the stored team login is unreadable; sign in again.".into())
    })?;
    client
        .matrix_auth()
        .restore_session(session, Default::default())
        .await
        .map_err(|e| refused(e, "Signing back in"))?;
    Ok(client)
}

/// The name the server and every member see for this device: the user's choice, or the
/// computer's own name. Never "Campaign Safe": that would tell everyone who runs the safety
/// app (issue 24).
pub fn device_name(chosen: Option<&str>) -> Result<String, RelayError> {
    const LONGEST: usize = 64;
    let chosen = chosen.map(str::trim).unwrap_or_default();
    if chosen.chars().any(char::is_control) {
        return Err(invalid(
            "deviceName",
            "This device’s name",
            "it cannot hold line breaks, tabs or other control characters.",
        ));
    }
    if chosen.chars().count() > LONGEST {
        return Err(invalid(
            "deviceName",
            "This device’s name",
            format!("keep it to {LONGEST} characters or fewer."),
        ));
    }
    if !chosen.is_empty() {
        return Ok(chosen.to_owned());
    }
    Ok(computer_name().unwrap_or_else(|| "Laptop".to_owned()))
}

/// The computer's host name, if it has a usable one.
fn computer_name() -> Option<String> {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())?;
    let name = shown_name(&raw);
    (!name.is_empty() && name != "localhost").then_some(name)
}

/// A name as the app shows it, a device's or a person's: any member's client sets its own, so
/// it is stripped of control characters and of the marks that turn text around (U+202E and
/// its kind, which could make the user id shown after it read backwards), and cut to 64
/// characters, before it reaches a screen.
pub fn shown_name(raw: &str) -> String {
    let name: String = raw
        .chars()
        .filter(|c| !c.is_control() && !is_direction_mark(*c))
        .skip_while(|c| c.is_whitespace())
        .take(64)
        .collect();
    name.trim_end().to_owned()
}

/// Unicode's explicit direction marks, embeddings, overrides and isolates.
fn is_direction_mark(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn random_passphrase() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub async fn sign_in(
    database: &Database,
    store_root: &Path,
    homeserver: &Url,
    user: &str,
    password: &str,
    registration_token: Option<&str>,
    device_name: &str,
    now: DateTime<Utc>,
) -> Result<Client, RelayError> {
    // A fresh store for a fresh login: a store is tied to one device.
    let _ = std::fs::remove_dir_all(store_dir(store_root));
    let passphrase = random_passphrase();
    let client = build(store_root, homeserver, &passphrase, false).await?;
    if let Some(token) = registration_token.filter(|t| !t.trim().is_empty()) {
        register(&client, user, password, token.trim()).await?;
    }
    client
        .matrix_auth()
        .login_username(user, password)
        .initial_device_display_name(device_name)
        .await
        .map_err(|e| refused(e, "Signing in"))?;
    let session = client
        .matrix_auth()
        .session()
        .ok_or_else(|| RelayError::Refused("Signing in: the server sent no session.".into()))?;
    database.conn().execute(
        "INSERT INTO team_account (id, homeserver, user_id, device_id, session, store_passphrase, signed_in_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            homeserver.as_str(),
            session.meta.user_id.as_str(),
            session.meta.device_id.as_str(),
            serde_json::to_string(&session).unwrap_or_default(),
            passphrase,
            to_millis(now)
        ],
    )?;
    tracing::info!(user = %session.meta.user_id, "signed in to the team server");
    Ok(client)
}

/// Registers with a registration token, going through the server's sign-up stages (the
/// token, then usually a "dummy" stage that only confirms).
pub async fn register(
    client: &Client,
    user: &str,
    password: &str,
    token: &str,
) -> Result<(), RelayError> {
    use matrix_sdk::ruma::api::client::uiaa::{AuthType, Dummy};
    let mut request = register::v3::Request::new();
    request.username = Some(
        user.trim_start_matches('@')
            .split(':')
            .next()
            .unwrap_or(user)
            .to_owned(),
    );
    request.password = Some(password.to_owned());
    request.inhibit_login = true;
    let auth = client.matrix_auth();
    for _ in 0..4 {
        let error = match auth.register(request.clone()).await {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let Some(info) = error.as_uiaa_response() else {
            return Err(refused(error, "Registering"));
        };
        let next = info
            .flows
            .iter()
            .find_map(|flow| {
                flow.stages
                    .iter()
                    .find(|stage| !info.completed.contains(stage))
            })
            .cloned();
        request.auth = match next {
            Some(AuthType::RegistrationToken) => {
                let mut step = RegistrationToken::new(token.to_owned());
                step.session = info.session.clone();
                Some(AuthData::RegistrationToken(step))
            }
            Some(AuthType::Dummy) => {
                let mut step = Dummy::new();
                step.session = info.session.clone();
                Some(AuthData::Dummy(step))
            }
            _ => return Err(RelayError::Refused("Registering: this server asks for a sign-up step the app cannot do (such as email); register in Element, then sign in here.".into())),
        };
    }
    Err(RelayError::Refused(
        "Registering: the server did not finish the sign-up.".into(),
    ))
}

pub fn forget_account(
    database: &Database,
    store_root: &Path,
    now: DateTime<Utc>,
) -> Result<(), RelayError> {
    let mut conn = database.conn();
    let tx = conn.transaction()?;
    // The team's sessions stop being tracked here; this device's own stop being shared.
    crate::checkins::shared::team_left(&tx, None, now)?;
    tx.execute("DELETE FROM team_outbox WHERE sent_at IS NULL", [])?;
    tx.execute("DELETE FROM team", [])?;
    tx.execute("DELETE FROM team_account", [])?;
    tx.commit()?;
    let _ = std::fs::remove_dir_all(store_root);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::device_name;

    #[test]
    fn a_device_is_named_as_chosen_or_after_the_computer_never_after_the_app() {
        assert_eq!(
            device_name(Some("  Office laptop ")).unwrap(),
            "Office laptop"
        );
        for unchosen in [None, Some(""), Some("   ")] {
            let name = device_name(unchosen).unwrap();
            assert!(
                !name.is_empty() && !name.contains("Campaign Safe"),
                "{name}"
            );
        }
        assert_eq!(
            device_name(Some(&"é".repeat(64))).unwrap().chars().count(),
            64
        );
        for hostile in ["é".repeat(65), "a\u{0}b".into(), "tab\there".into()] {
            assert!(device_name(Some(&hostile)).is_err(), "{hostile:?}");
        }
        // What another member's client named its device is cut and cleaned for the screen.
        assert_eq!(super::shown_name(&"x".repeat(100_000)).len(), 64);
        assert_eq!(super::shown_name(" Vic\u{1b}[31m\nphone "), "Vic[31mphone");
        assert_eq!(
            super::shown_name("\u{202E}ahsA\u{2066} Patel\u{200F}\u{2069} "),
            "ahsA Patel"
        );
        assert_eq!(super::shown_name(" \u{202E} \u{0} "), "");
        assert_eq!(super::shown_name("Émilie 👩‍👧"), "Émilie 👩‍👧");
    }
}
