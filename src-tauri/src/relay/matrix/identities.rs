//! A teammate whose identity changed: they reset their encryption keys, or someone else now
//! holds their account. The app warns on the Team screen and on every session shared in
//! that team until the user acknowledges it, as Element X does with pinned identities, and
//! never hides the warning on its own (issue 24).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use matrix_sdk::room::Room;
use matrix_sdk::ruma::{RoomId, UserId};
use matrix_sdk::Client;
use matrix_sdk_base::crypto::IdentityState;
use serde::Serialize;

use super::TeamService;
use crate::changes::Changed;
use crate::relay::{invalid, RelayError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityChange {
    pub room_id: String,
    pub user_id: String,
    /// The name the room shows for them, cleaned for the screen.
    pub name: String,
    /// This user had verified them: the change breaks a check they made.
    pub was_verified: bool,
}

/// The teammates in pin or verification violation, by team room and user, as the SDK's
/// identity streams last said. Kept up to date by one watcher per team room, so the Team
/// screen reads it without waiting.
#[derive(Default)]
pub(super) struct Watched(Mutex<Seen>);

#[derive(Default)]
struct Seen {
    changes: BTreeMap<(String, String), IdentityChange>,
    /// The master key the user last accepted for each teammate this run. A batch the SDK
    /// worked out before an acceptance can land after it; its warning is for the key
    /// just accepted, and must not come back.
    accepted: HashMap<String, String>,
}

impl Watched {
    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The changes in `rooms` (the device's teams), by room then user.
    pub(super) fn changed(&self, rooms: &[String]) -> Vec<IdentityChange> {
        self.lock()
            .changes
            .values()
            .filter(|change| rooms.contains(&change.room_id))
            .cloned()
            .collect()
    }

    /// Warns of `change` unless the teammate's key now (`current_key`, read after the SDK
    /// reported the change) is the one the user has accepted. Checked and written under one
    /// lock, which `accept` takes too, so the two cannot interleave.
    fn warn(&self, change: IdentityChange, current_key: Option<&str>) -> bool {
        let mut seen = self.lock();
        let accepted = seen.accepted.get(&change.user_id).map(String::as_str);
        if accepted.is_some() && accepted == current_key {
            return false;
        }
        let key = (change.room_id.clone(), change.user_id.clone());
        seen.changes.insert(key, change);
        true
    }

    fn clear(&self, room_id: &str, user_id: &str) {
        self.lock()
            .changes
            .remove(&(room_id.to_owned(), user_id.to_owned()));
    }

    /// The client stopped: what the next one's watchers report is all that counts.
    pub(super) fn forget_run(&self) {
        *self.lock() = Seen::default();
    }

    /// The user accepted `user_id`'s identity with master key `key`: every warning for them goes.
    fn accept(&self, user_id: &str, key: Option<String>) {
        let mut seen = self.lock();
        seen.changes.retain(|(_, user), _| user != user_id);
        match key {
            Some(key) => seen.accepted.insert(user_id.to_owned(), key),
            None => seen.accepted.remove(user_id),
        };
    }
}

/// The first master key of `user`'s identity as the crypto store holds it now.
async fn master_key_now(client: &Client, user: &UserId) -> Option<String> {
    let identity = client.encryption().get_user_identity(user).await.ok()??;
    identity
        .master_key()
        .get_first_key()
        .map(|key| key.to_base64())
}

/// Watchers that stop with the loop that started them (when the team connection stops).
#[derive(Default)]
struct Watchers(HashMap<String, tokio::task::JoinHandle<()>>);

impl Drop for Watchers {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

/// Follows changes to anyone's keys: the Team screen reads the team's state again, and each
/// team room gets a watcher of its members' identities. Waits on the SDK; never ticks.
pub(super) async fn follow(service: Arc<TeamService>, client: Client) {
    let mut watchers = Watchers::default();
    watch_new_rooms(&service, &client, &mut watchers);
    let updates = match client.encryption().user_identities_stream().await {
        Ok(updates) => updates,
        Err(error) => {
            tracing::warn!("changes to teammates' keys will not be followed: {error}");
            return;
        }
    };
    let mut updates = std::pin::pin!(updates);
    while updates.next().await.is_some() {
        // A team joined since brings new members, whose keys are fetched: watch it too.
        watch_new_rooms(&service, &client, &mut watchers);
        service.announce(Changed::Team);
    }
}

fn watch_new_rooms(service: &Arc<TeamService>, client: &Client, watchers: &mut Watchers) {
    let Ok(teams) = super::teams::team_rooms(&service.database) else {
        return;
    };
    for team in teams {
        if watchers.0.contains_key(&team.room_id) {
            continue;
        }
        let Some(room) = <&RoomId>::try_from(team.room_id.as_str())
            .ok()
            .and_then(|id| client.get_room(id))
        else {
            continue;
        };
        let task = service
            .runtime()
            .spawn(watch_room(service.clone(), client.clone(), room));
        watchers.0.insert(team.room_id, task);
    }
}

async fn watch_room(service: Arc<TeamService>, client: Client, room: Room) {
    let room_id = room.room_id().to_string();
    let stream = match room.subscribe_to_identity_status_changes().await {
        Ok(stream) => stream,
        Err(error) => {
            tracing::warn!(room = %room_id, "identity changes in this team not followed: {error}");
            return;
        }
    };
    let mut stream = std::pin::pin!(stream);
    while let Some(batch) = stream.next().await {
        for change in batch {
            let was_verified = match change.changed_to {
                IdentityState::PinViolation => false,
                IdentityState::VerificationViolation => true,
                IdentityState::Pinned | IdentityState::Verified => {
                    service.identities.clear(&room_id, change.user_id.as_str());
                    continue;
                }
            };
            let name = super::roster::name_in(&room, &change.user_id).await;
            let current_key = master_key_now(&client, &change.user_id).await;
            let change = IdentityChange {
                room_id: room_id.clone(),
                user_id: change.user_id.to_string(),
                name,
                was_verified,
            };
            let user = change.user_id.clone();
            if service.identities.warn(change, current_key.as_deref()) {
                tracing::warn!(user = %user, room = %room_id, "a teammate's identity changed");
            } else {
                tracing::info!(user = %user, "a warning for an identity already accepted was dropped");
            }
        }
        service.announce(Changed::Team);
    }
}

/// The user has seen that `user_id`'s identity changed (and, we hope, checked with them):
/// the new identity is remembered and the warning goes.
pub(super) async fn acknowledge(
    service: &TeamService,
    client: &Client,
    user_id: &str,
) -> Result<(), RelayError> {
    let not_a_member = || {
        invalid(
            "userId",
            "Teammate",
            "there is no changed identity to accept for that person.",
        )
    };
    let user = UserId::parse(user_id.trim()).map_err(|_| not_a_member())?;
    let identity = client
        .encryption()
        .get_user_identity(&user)
        .await
        .map_err(|error| RelayError::Refused(format!("their keys cannot be read: {error}")))?
        .ok_or_else(not_a_member)?;
    let stored = |error: matrix_sdk::encryption::CryptoStoreError| {
        RelayError::Refused(format!("the change could not be noted: {error}"))
    };
    if identity.has_verification_violation() {
        identity.withdraw_verification().await.map_err(stored)?;
    }
    identity.pin().await.map_err(stored)?;
    // The watcher hears it too, a moment later; the screen answers now.
    let key = identity
        .master_key()
        .get_first_key()
        .map(|key| key.to_base64());
    service.identities.accept(user.as_str(), key);
    tracing::info!(user = %user, "a teammate's changed identity was acknowledged");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(room: &str) -> IdentityChange {
        IdentityChange {
            room_id: room.into(),
            user_id: "@vic:localhost".into(),
            name: "vic".into(),
            was_verified: false,
        }
    }

    fn shown(watched: &Watched) -> usize {
        watched.changed(&["!a".into(), "!b".into()]).len()
    }

    #[test]
    fn a_warning_worked_out_before_the_acceptance_does_not_come_back() {
        let watched = Watched::default();
        assert!(watched.warn(change("!a"), Some("new")));
        assert!(watched.warn(change("!b"), Some("new")));
        assert_eq!(shown(&watched), 2);

        watched.accept("@vic:localhost", Some("new".into()));
        assert_eq!(shown(&watched), 0);
        // The SDK's batch from before the acceptance lands now.
        assert!(!watched.warn(change("!a"), Some("new")));
        assert_eq!(shown(&watched), 0);
    }

    #[test]
    fn a_key_changed_again_after_the_acceptance_is_warned_about() {
        let watched = Watched::default();
        watched.accept("@vic:localhost", Some("new".into()));
        assert!(watched.warn(change("!a"), Some("newer")));
        // A key that cannot be read is never taken for the accepted one.
        assert!(watched.warn(change("!b"), None));
        assert_eq!(shown(&watched), 2);
        watched.clear("!a", "@vic:localhost");
        assert_eq!(shown(&watched), 1);
    }

    #[test]
    fn an_acceptance_without_a_key_accepts_nothing_later() {
        let watched = Watched::default();
        watched.accept("@vic:localhost", Some("new".into()));
        watched.accept("@vic:localhost", None);
        assert!(watched.warn(change("!a"), Some("new")));
        watched.forget_run();
        assert_eq!(shown(&watched), 0);
    }
}
