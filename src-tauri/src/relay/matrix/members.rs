//! Mends a race in the Matrix SDK (matrix-rust-sdk#1205). A room's full member list, fetched
//! from the server, is written over the room's state even when a sync brought a newer change
//! while that request was out. A teammate who joined then stayed "(invited)" for good, and
//! one who left could stay a member, still sent the team's keys.
//!
//! So the newest member event syncs brought for each person is remembered. When the store
//! holds an older event for that person (checked as the event comes, whenever a full list
//! lands, and before the Team screen lists the members), the list is marked missing and
//! fetched again. At most FETCHES_PER_EVENT times for each event remembered, so a server that
//! lies about times cannot make the device fetch without end.
//!
//! Member events come in storms (a team of 200 joining), and a list fetched while they come is
//! stale again by the time it lands, so the sync's checks wait for QUIET first: one fetch then
//! brings them all. Measured with 4 devices while 180 members joined: 94 full lists fetched
//! without the wait.
//!
//! What syncs brought is remembered for one run of the client only. A list written over just
//! before the app closed would be kept for good (the SDK counts it as complete, and the sync
//! that brought the newer event is not read again), so each team room's list is also fetched
//! afresh once a run, after the first sync.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use matrix_sdk::ruma::events::room::member::SyncRoomMemberEvent;
use matrix_sdk::ruma::{
    EventId, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId,
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
    /// Rooms whose list was fetched afresh in this run of the client.
    refreshed: Mutex<HashSet<OwnedRoomId>>,
    /// When a sync last brought a member event for each room.
    last_heard: Mutex<HashMap<OwnedRoomId, Instant>>,
    /// Rooms with a check waiting for them to be quiet.
    waiting: Mutex<HashSet<OwnedRoomId>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Seen {
    event_id: OwnedEventId,
    at: MilliSecondsSinceUnixEpoch,
    /// How many times the list was fetched again because of this event.
    fetches: u8,
}

/// A fetch asked for while the stale one is still finishing joins it and brings the same
/// old list: a second, and a third for good measure, then no more.
const FETCHES_PER_EVENT: u8 = 3;

/// How long a room must go without member events before the sync's checks run.
const QUIET: Duration = Duration::from_secs(2);
/// The longest a check waits for quiet: a member who keeps sending member events (changing
/// their name again and again) cannot put it off for good.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

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
            mend_when_quiet(&service, &room);
        }
    });
}

impl SeenMembers {
    /// The client is let go: the next one starts as a new run would, remembering nothing.
    pub(super) fn forget_run(&self) {
        lock(&self.seen).clear();
        lock(&self.refreshed).clear();
        lock(&self.last_heard).clear();
    }

    fn remember(&self, event: &SyncRoomMemberEvent, room: &Room) {
        tracing::debug!(me = %room.own_user_id(), room = %room.room_id(), user = %event.state_key(), event = %event.event_id(), membership = ?event.membership(), "member event synced");
        self.remember_seen(
            room.room_id(),
            event.state_key(),
            event.event_id(),
            event.origin_server_ts(),
        );
    }

    fn remember_seen(
        &self,
        room_id: &RoomId,
        user: &UserId,
        event_id: &EventId,
        at: MilliSecondsSinceUnixEpoch,
    ) {
        let key = (room_id.to_owned(), user.to_owned());
        let seen = Seen {
            event_id: event_id.to_owned(),
            at,
            fetches: 0,
        };
        lock(&self.last_heard).insert(room_id.to_owned(), Instant::now());
        let mut all = lock(&self.seen);
        // An older event heard again (a gap filled, a room read again) replaces nothing, and
        // the same event keeps its count of fetches.
        if all.get(&key).is_none_or(|old| seen.at > old.at) {
            all.insert(key, seen);
        }
    }

    /// How long before `room` will have been quiet for QUIET (zero once it has).
    fn quiet_in(&self, room: &RoomId) -> Duration {
        lock(&self.last_heard)
            .get(room)
            .map_or(Duration::ZERO, |heard| {
                QUIET.saturating_sub(heard.elapsed())
            })
    }

    /// The people of `room` whose newest event the store may have lost, not yet mended.
    fn to_check(&self, room: &RoomId) -> Vec<(OwnedUserId, Seen)> {
        lock(&self.seen)
            .iter()
            .filter(|((room_id, _), seen)| room_id == room && seen.fetches < FETCHES_PER_EVENT)
            .map(|((_, user), seen)| (user.clone(), seen.clone()))
            .collect()
    }

    /// Counts a fetch for this event; false once it had all it may have.
    fn claim_fetch(&self, room: &RoomId, user: OwnedUserId, event_id: &EventId) -> bool {
        match lock(&self.seen).get_mut(&(room.to_owned(), user)) {
            Some(seen) if seen.event_id == *event_id && seen.fetches < FETCHES_PER_EVENT => {
                seen.fetches += 1;
                true
            }
            _ => false,
        }
    }
}

/// How much longer a check asked for `waited` ago waits, with the room quiet in `until_quiet`.
fn still_to_wait(until_quiet: Duration, waited: Duration) -> Duration {
    until_quiet.min(LONGEST_WAIT.saturating_sub(waited))
}

/// Checks `room` (as [`mend`]) in the background once no member event has come for QUIET, or
/// after LONGEST_WAIT; one waiting check per room, which sees everything that came before it
/// runs. It holds the room's id, not the room: should the client stop while it waits, the
/// check runs on the client running then, or not at all, and the old one is let go at once.
fn mend_when_quiet(service: &Arc<TeamService>, room: &Room) {
    let room_id = room.room_id().to_owned();
    if !lock(&service.members_seen.waiting).insert(room_id.clone()) {
        return;
    }
    let service = service.clone();
    let runtime = service.runtime().clone();
    // Off the sync loop: a fetch must not hold up the reading of the room.
    runtime.spawn(async move {
        let asked = Instant::now();
        loop {
            let wait = still_to_wait(service.members_seen.quiet_in(&room_id), asked.elapsed());
            if wait.is_zero() {
                break;
            }
            tokio::time::sleep(wait).await;
        }
        // An event from now on asks for a check of its own.
        lock(&service.members_seen.waiting).remove(&room_id);
        let Ok(client) = service.client().await else {
            return;
        };
        if let Some(room) = client.get_room(&room_id) {
            mend(&service, &room).await;
        }
    });
}

/// Fetches the member list again while the store holds an older event than a sync brought
/// for anyone (after a full list landed, or before the list is shown).
pub(super) async fn mend(service: &TeamService, room: &Room) {
    while lost_news(service, room).await {
        tracing::info!(room = %room.room_id(), "a member list older than the room's news was stored; fetching it again");
        room.mark_members_missing();
        if let Err(error) = room.sync_members().await {
            tracing::warn!(room = %room.room_id(), "the member list could not be fetched again: {error}");
        }
        service.announce(Changed::Team);
    }
}

/// Whether the store lost a member event a sync brought, with a fetch still allowed for it
/// (which this counts).
async fn lost_news(service: &TeamService, room: &Room) -> bool {
    let mut lost = false;
    for (user, seen) in service.members_seen.to_check(room.room_id()) {
        let Ok(Some(member)) = room.get_member_no_sync(&user).await else {
            continue;
        };
        let stored = member
            .event()
            .as_sync()
            .map(|event| (event.event_id().to_owned(), event.origin_server_ts()));
        if overwritten(stored.as_ref().map(|(id, at)| (id, *at)), &seen) {
            tracing::debug!(me = %room.own_user_id(), room = %room.room_id(), user = %user, ?stored, ?seen, "the store holds an older member event");
            if service
                .members_seen
                .claim_fetch(room.room_id(), user, &seen.event_id)
            {
                lost = true;
            }
        }
    }
    lost
}

/// Fetches `room`'s full member list afresh, once a run (see the module's comment), in the
/// background. Should the fetch fail, the list stays marked missing, so the SDK fetches it
/// when it next needs it (to list the team, or to share a key).
pub(super) fn refresh_once_a_run(service: &Arc<TeamService>, room: &Room) {
    if !lock(&service.members_seen.refreshed).insert(room.room_id().to_owned()) {
        return;
    }
    let service = service.clone();
    let room = room.clone();
    let runtime = service.runtime().clone();
    runtime.spawn(async move {
        room.mark_members_missing();
        if let Err(error) = room.sync_members().await {
            tracing::warn!(room = %room.room_id(), "the member list could not be fetched afresh: {error}");
            return;
        }
        mend(&service, &room).await;
        service.announce(Changed::Team);
    });
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
            mend_when_quiet(&service, &room);
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
            fetches: 0,
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
        // the list is fetched FETCHES_PER_EVENT times for it, not without end.
        let far = seen("$far", u64::from(u32::MAX) * 1_000);
        assert!(overwritten(stored(&joined), &far));
    }

    #[test]
    fn the_newest_event_is_kept_and_each_may_bring_only_a_few_fetches() {
        let members = SeenMembers::default();
        let room = <&RoomId>::try_from("!team:example.org").unwrap();
        let cat = <&UserId>::try_from("@cat:example.org").unwrap();
        let event = |id: &str| OwnedEventId::try_from(id).unwrap();
        let at = |ms: u64| MilliSecondsSinceUnixEpoch(ms.try_into().unwrap());
        members.remember_seen(room, cat, &event("$invite"), at(1_000));
        members.remember_seen(room, cat, &event("$join"), at(2_000));
        // The invitation read again later (a gap filled) does not hide the join.
        members.remember_seen(room, cat, &event("$invite"), at(1_000));
        let checked = members.to_check(room);
        assert_eq!(checked.len(), 1);
        assert_eq!(checked[0].1.event_id, event("$join"));
        let other_room = <&RoomId>::try_from("!other:example.org").unwrap();
        assert!(members.to_check(other_room).is_empty());

        for _ in 0..FETCHES_PER_EVENT {
            assert!(members.claim_fetch(room, cat.to_owned(), &event("$join")));
        }
        assert!(
            !members.claim_fetch(room, cat.to_owned(), &event("$join")),
            "no more fetches"
        );
        assert!(members.to_check(room).is_empty());
        // The same event heard again keeps its count; a newer one may fetch again.
        members.remember_seen(room, cat, &event("$join"), at(2_000));
        assert!(members.to_check(room).is_empty());
        members.remember_seen(room, cat, &event("$leave"), at(3_000));
        assert!(
            !members.claim_fetch(room, cat.to_owned(), &event("$join")),
            "an older event"
        );
        assert!(members.claim_fetch(room, cat.to_owned(), &event("$leave")));
    }

    #[test]
    fn a_room_is_quiet_once_no_member_event_came_for_a_while() {
        let members = SeenMembers::default();
        let room = <&RoomId>::try_from("!team:example.org").unwrap();
        let other_room = <&RoomId>::try_from("!other:example.org").unwrap();
        assert_eq!(members.quiet_in(room), Duration::ZERO, "never heard");
        members.remember_seen(
            room,
            <&UserId>::try_from("@cat:example.org").unwrap(),
            &OwnedEventId::try_from("$join").unwrap(),
            MilliSecondsSinceUnixEpoch(2_000u32.into()),
        );
        let wait = members.quiet_in(room);
        assert!(wait > Duration::ZERO && wait <= QUIET, "{wait:?}");
        assert_eq!(members.quiet_in(other_room), Duration::ZERO);
        members.forget_run();
        assert_eq!(members.quiet_in(room), Duration::ZERO, "a new run");
    }

    #[test]
    fn a_check_waits_for_quiet_but_never_longer_than_its_bound() {
        let s = Duration::from_secs;
        assert_eq!(still_to_wait(QUIET, s(0)), QUIET);
        assert_eq!(still_to_wait(Duration::ZERO, s(0)), Duration::ZERO);
        // Member events that keep coming keep the room from being quiet: the bound holds.
        assert_eq!(still_to_wait(QUIET, LONGEST_WAIT - s(1)), s(1));
        assert_eq!(still_to_wait(QUIET, LONGEST_WAIT), Duration::ZERO);
        assert_eq!(still_to_wait(QUIET, s(u64::MAX)), Duration::ZERO);
    }
}
