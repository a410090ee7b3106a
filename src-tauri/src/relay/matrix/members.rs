//! Mends a race in the Matrix SDK (matrix-rust-sdk#1205). A room's full member list, fetched
//! from the server, is written over the room's state even when a sync brought a newer change
//! while that request was out. A teammate who joined then stayed "(invited)" for good, and
//! one who left could stay a member, still sent the team's keys.
//!
//! So each member event a sync brings is remembered. When the store holds an older event for
//! that person (checked as the event comes, and again whenever a full list lands), the list is
//! marked missing and fetched again. At most once for each event remembered, so a server that
//! lies about times cannot make the device fetch without end.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

use matrix_sdk::ruma::events::room::member::SyncRoomMemberEvent;
use matrix_sdk::ruma::{
    MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId, OwnedUserId, UserId,
};
use matrix_sdk::{Client, Room};
use matrix_sdk_base::RoomMembersUpdate;
use tokio::sync::broadcast;

use super::TeamService;
use crate::changes::Changed;

/// The newest member event a sync brought for each person in each room, and the rooms
/// whose full-list reloads are followed.
#[derive(Default)]
pub(super) struct SeenMembers {
    seen: Mutex<HashMap<(OwnedRoomId, OwnedUserId), Seen>>,
    followed: Mutex<HashSet<OwnedRoomId>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Seen {
    event_id: OwnedEventId,
    at: MilliSecondsSinceUnixEpoch,
    /// The list was fetched again once because of this event: never twice.
    refetched: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether the store's event for a person is older than the one a sync brought: another
/// event, stamped before it. (An event the store has and the sync has not seen is newer.)
pub(super) fn overwritten(
    stored: Option<(&OwnedEventId, MilliSecondsSinceUnixEpoch)>,
    seen: &Seen,
) -> bool {
    match stored {
        Some((event_id, at)) => *event_id != seen.event_id && at < seen.at,
        // The race writes over members; it never removes one.
        None => false,
    }
}

/// Hears every member event a sync brings. Registered once per client; holds the service
/// weakly, so a client that is let go does not keep the service alive.
pub(super) fn listen(service: &Arc<TeamService>, client: &Client) {
    let service: Weak<TeamService> = Arc::downgrade(service);
    client.add_event_handler(move |event: SyncRoomMemberEvent, room: Room| {
        let service = service.clone();
        async move {
            let Some(service) = service.upgrade() else {
                return;
            };
            service.members_seen.remember(&event, &room);
            follow_reloads(&service, &room);
            // Off the sync loop: a fetch must not hold up the reading of the room.
            let runtime = service.runtime().clone();
            let person = event.state_key().to_owned();
            runtime.spawn(async move { mend(&service, &room, Some(&person)).await });
        }
    });
}

impl SeenMembers {
    fn remember(&self, event: &SyncRoomMemberEvent, room: &Room) {
        let key = (room.room_id().to_owned(), event.state_key().to_owned());
        let seen = Seen {
            event_id: event.event_id().to_owned(),
            at: event.origin_server_ts(),
            refetched: false,
        };
        let mut all = lock(&self.seen);
        // The same event heard again (a gap filled) keeps its one fetch.
        if all
            .get(&key)
            .is_none_or(|old| old.event_id != seen.event_id)
        {
            all.insert(key, seen);
        }
    }

    /// The people of `room` (or only `person`) whose newest event the store may have lost,
    /// not yet mended.
    fn to_check(&self, room: &Room, person: Option<&UserId>) -> Vec<(OwnedUserId, Seen)> {
        lock(&self.seen)
            .iter()
            .filter(|((room_id, user), seen)| {
                room_id == room.room_id()
                    && person.is_none_or(|person| person == user)
                    && !seen.refetched
            })
            .map(|((_, user), seen)| (user.clone(), seen.clone()))
            .collect()
    }

    /// Marks the fetch for this event as done; false if another check already did.
    fn claim_refetch(&self, room: &Room, user: OwnedUserId, event_id: &OwnedEventId) -> bool {
        match lock(&self.seen).get_mut(&(room.room_id().to_owned(), user)) {
            Some(seen) if seen.event_id == *event_id && !seen.refetched => {
                seen.refetched = true;
                true
            }
            _ => false,
        }
    }
}

/// Fetches the member list again if the store lost an event a sync brought (for `person`,
/// or for anyone: after a full list landed).
async fn mend(service: &TeamService, room: &Room, person: Option<&UserId>) {
    let mut lost = false;
    for (user, seen) in service.members_seen.to_check(room, person) {
        let Ok(Some(member)) = room.get_member_no_sync(&user).await else {
            continue;
        };
        let stored = member
            .event()
            .as_sync()
            .map(|event| (event.event_id().to_owned(), event.origin_server_ts()));
        if overwritten(stored.as_ref().map(|(id, at)| (id, *at)), &seen)
            && service
                .members_seen
                .claim_refetch(room, user, &seen.event_id)
        {
            lost = true;
        }
    }
    if !lost {
        return;
    }
    tracing::info!(room = %room.room_id(), "a member list older than the room's news was stored; fetching it again");
    room.mark_members_missing();
    if let Err(error) = room.sync_members().await {
        tracing::warn!(room = %room.room_id(), "the member list could not be fetched again: {error}");
    }
    service.announce(Changed::Team);
}

/// Checks the room again each time a full member list lands. The task holds only the
/// receiver, so it ends when the room (or its client) is let go.
fn follow_reloads(service: &Arc<TeamService>, room: &Room) {
    let room_id = room.room_id().to_owned();
    if !lock(&service.members_seen.followed).insert(room_id.clone()) {
        return;
    }
    let mut updates = room.room_member_updates_sender.subscribe();
    let service = Arc::downgrade(service);
    let runtime = match service.upgrade() {
        Some(service) => service.runtime().clone(),
        None => return,
    };
    runtime.spawn(async move {
        loop {
            match updates.recv().await {
                Ok(RoomMembersUpdate::FullReload) | Err(broadcast::error::RecvError::Lagged(_)) => {
                }
                Ok(RoomMembersUpdate::Partial(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
            let Some(service) = service.upgrade() else {
                break;
            };
            let Ok(client) = service.client().await else {
                break;
            };
            let Some(room) = client.get_room(&room_id) else {
                break;
            };
            mend(&service, &room, None).await;
        }
        if let Some(service) = service.upgrade() {
            lock(&service.members_seen.followed).remove(&room_id);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: &str, at: u64) -> Seen {
        Seen {
            event_id: OwnedEventId::try_from(id).unwrap(),
            at: MilliSecondsSinceUnixEpoch(at.try_into().unwrap()),
            refetched: false,
        }
    }

    #[test]
    fn only_another_event_stamped_before_the_one_synced_counts_as_written_over() {
        let joined = seen("$join", 2_000);
        let invite = seen("$invite", 1_000);
        let later = seen("$leave", 3_000);
        fn stored(s: &Seen) -> Option<(&OwnedEventId, MilliSecondsSinceUnixEpoch)> {
            Some((&s.event_id, s.at))
        }
        assert!(overwritten(stored(&invite), &joined));
        assert!(!overwritten(stored(&joined), &joined), "the same event");
        assert!(
            !overwritten(stored(&later), &joined),
            "a newer event the sync has not brought yet"
        );
        assert!(
            !overwritten(None, &joined),
            "the race never removes a member"
        );
        // A lying server's far-future stamp on the event synced: the store's is "older", but
        // the fetch happens once for it (refetched), not without end.
        let far = seen("$far", u64::from(u32::MAX) * 1_000);
        assert!(overwritten(stored(&joined), &far));
    }
}
