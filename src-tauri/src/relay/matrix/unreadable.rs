//! Posts this device cannot decrypt yet. The key that opens a post can come after the post
//! (a newcomer's first posts, a slow delivery between devices, a device not yet confirmed):
//! such a post is kept here and tried again after every sync, for a day, and applied as
//! soon as it can be read. Without this, one late key would lose a post for good.
//!
//! Nothing is dropped quietly (issue 24): each waiting post is listed on the Team screen
//! with who sent it and when, and one from someone out on a shared session raises a notice,
//! since it could be a call for help.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind};
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId};
use matrix_sdk::Client;
use serde::Serialize;

use super::{room_events, TeamService};
use crate::changes::Changed;
use crate::checkins::shared::{self, SessionOut};
use crate::time::from_millis;

/// The most posts kept waiting; past it the oldest are given up (and logged).
const MOST_KEPT: usize = 1_000;
/// How long a post is tried again.
const KEPT_FOR_HOURS: i64 = 24;

struct Waiting {
    room_id: OwnedRoomId,
    event_id: OwnedEventId,
    event: Raw<AnySyncTimelineEvent>,
    /// Who sent it, as the server says (the only part of it this device can read).
    sender: String,
    /// When the server says it was sent; when it came, if that is no time at all.
    sent_at: DateTime<Utc>,
    since: DateTime<Utc>,
}

/// What `keep_if_unreadable` did with an event.
pub(super) enum Kept {
    /// It could be read: apply it.
    Readable,
    /// It was already waiting.
    Again,
    /// Newly kept: who sent it and when.
    New {
        sender: String,
        sent_at: DateTime<Utc>,
    },
}

/// A post this device cannot read yet, as the Team screen lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadablePost {
    pub room_id: String,
    /// The sender's Matrix id, and the name the room shows for them.
    pub sender: String,
    pub sender_name: String,
    pub sent_at: DateTime<Utc>,
    /// Running sessions shared with that room that the sender takes part in.
    pub sessions: Vec<SessionOut>,
}

#[derive(Default)]
pub(super) struct Unreadable(Mutex<Vec<Waiting>>);

impl Unreadable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `event` if it could not be decrypted.
    pub(super) fn keep_if_unreadable(
        &self,
        room_id: &OwnedRoomId,
        event: &TimelineEvent,
        now: DateTime<Utc>,
    ) -> Kept {
        let TimelineEventKind::UnableToDecrypt {
            event: raw,
            utd_info,
        } = &event.kind
        else {
            return Kept::Readable;
        };
        let Some(event_id) = event.event_id() else {
            return Kept::Again;
        };
        tracing::warn!(%event_id, reason = ?utd_info.reason, "a team post cannot be read yet; it will be tried again");
        let mut waiting = self.lock();
        if waiting.iter().any(|w| w.event_id == event_id) {
            return Kept::Again;
        }
        if waiting.len() >= MOST_KEPT {
            let given_up = waiting.remove(0);
            tracing::error!(event_id = %given_up.event_id, "a team post could never be read");
        }
        // Both come from the server, not the sender's client; still, an odd value is not
        // taken: no sender is "someone", and a time out of range is the time it came.
        let sender = raw
            .get_field::<String>("sender")
            .ok()
            .flatten()
            .map(|s| super::client::shown_name(&s))
            .filter(|s| s.starts_with('@'))
            .unwrap_or_else(|| "someone".to_owned());
        let sent_at = raw
            .get_field::<i64>("origin_server_ts")
            .ok()
            .flatten()
            .and_then(from_millis)
            .filter(|at| (*at - now).num_days().abs() < 366)
            .unwrap_or(now);
        waiting.push(Waiting {
            room_id: room_id.clone(),
            event_id,
            event: raw.clone(),
            sender: sender.clone(),
            sent_at,
            since: now,
        });
        Kept::New { sender, sent_at }
    }

    pub(super) fn count(&self) -> usize {
        self.lock().len()
    }

    /// The waiting posts, oldest first, with the sessions each may be about.
    pub(super) async fn posts(
        &self,
        service: &TeamService,
        client: &Client,
    ) -> Vec<UnreadablePost> {
        let listed: Vec<(OwnedRoomId, String, DateTime<Utc>)> = self
            .lock()
            .iter()
            .map(|w| (w.room_id.clone(), w.sender.clone(), w.sent_at))
            .collect();
        let mut posts = Vec::with_capacity(listed.len());
        for (room_id, sender, sent_at) in listed {
            posts.push(UnreadablePost {
                sender_name: member_name(client, &room_id, &sender).await,
                sessions: sessions_of(service, &room_id, &sender),
                room_id: room_id.to_string(),
                sender,
                sent_at,
            });
        }
        posts.sort_by_key(|post| post.sent_at);
        posts
    }
}

/// The name the room shows for `sender`, cleaned for the screen; the id's first part if none.
async fn member_name(client: &Client, room_id: &OwnedRoomId, sender: &str) -> String {
    let fallback = super::client::shown_name(&crate::checkins::short_name(sender));
    let (Some(room), Ok(user)) = (
        client.get_room(room_id),
        matrix_sdk::ruma::UserId::parse(sender),
    ) else {
        return fallback;
    };
    super::roster::name_in(&room, &user).await
}

fn sessions_of(service: &TeamService, room_id: &OwnedRoomId, sender: &str) -> Vec<SessionOut> {
    shared::out_with(&service.database.reader(), room_id.as_str(), sender).unwrap_or_else(|error| {
        tracing::error!("the sessions of an unreadable post were not read: {error}");
        Vec::new()
    })
}

/// Posts newly kept from `room_id`: each from someone out on a shared session raises a
/// notice for that session (it could be HELP).
pub(super) fn tell(
    service: &TeamService,
    room_id: &OwnedRoomId,
    new: Vec<(String, DateTime<Utc>)>,
) {
    for (sender, sent_at) in new {
        for session in sessions_of(service, room_id, &sender) {
            service.announce(Changed::Unreadable {
                session_id: session.id,
                title: session.title,
                sender: crate::checkins::short_name(&sender),
                sent_at,
            });
        }
    }
    service.announce(Changed::Team);
}

/// Tries every waiting post again and applies, room by room, those that can now be read.
pub(super) async fn retry(service: &Arc<TeamService>, client: &Client) {
    // A copy: the list stays whole while the posts are tried (the Team screen reads it).
    let waiting: Vec<(
        OwnedRoomId,
        OwnedEventId,
        Raw<AnySyncTimelineEvent>,
        DateTime<Utc>,
    )> = service
        .unreadable
        .lock()
        .iter()
        .map(|w| {
            (
                w.room_id.clone(),
                w.event_id.clone(),
                w.event.clone(),
                w.since,
            )
        })
        .collect();
    if waiting.is_empty() {
        return;
    }
    let now = service.clock.now();
    let mut done: Vec<OwnedEventId> = Vec::new();
    let mut readable: HashMap<OwnedRoomId, Vec<TimelineEvent>> = HashMap::new();
    for (room_id, event_id, raw, since) in waiting {
        let Some(room) = client.get_room(&room_id) else {
            continue;
        };
        match room.decrypt_event(raw.cast_ref_unchecked(), None).await {
            Ok(event) if !matches!(event.kind, TimelineEventKind::UnableToDecrypt { .. }) => {
                tracing::info!(%event_id, "a team post that could not be read now can");
                readable.entry(room_id).or_default().push(event);
                done.push(event_id);
            }
            _ if now - since > Duration::hours(KEPT_FOR_HOURS) => {
                tracing::error!(%event_id, "a team post could not be read for a day: given up");
                done.push(event_id);
            }
            _ => {}
        }
    }
    if done.is_empty() {
        return;
    }
    service
        .unreadable
        .lock()
        .retain(|w| !done.contains(&w.event_id));
    for (room_id, events) in readable {
        if let Some(room) = client.get_room(&room_id) {
            room_events::apply_room(service, &room, false, None, events).await;
        }
    }
    // The Team screen and the sessions stop listing them.
    service.announce(Changed::Team);
}

#[cfg(test)]
mod tests {
    use super::{Kept, Unreadable};
    use chrono::{TimeZone, Utc};
    use matrix_sdk::deserialized_responses::{
        TimelineEvent, UnableToDecryptInfo, UnableToDecryptReason,
    };
    use matrix_sdk::ruma::serde::Raw;
    use matrix_sdk::ruma::OwnedRoomId;
    use serde_json::{json, Value};

    fn unreadable(id: &str, sender: Value, sent: Value) -> TimelineEvent {
        let raw = json!({
            "type": "m.room.encrypted", "event_id": id, "sender": sender,
            "origin_server_ts": sent, "content": {"algorithm": "m.megolm.v1.aes-sha2"}
        });
        TimelineEvent::from_utd(
            Raw::from_json_string(raw.to_string()).unwrap(),
            UnableToDecryptInfo {
                session_id: None,
                reason: UnableToDecryptReason::Unknown,
            },
        )
    }

    /// What a server (or a member's client through it) says of a post that cannot be read is
    /// taken only when it makes sense; nothing in it panics or is lost.
    #[test]
    fn a_hostile_unreadable_post_is_kept_with_what_can_be_trusted_of_it() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 14, 5, 0).unwrap();
        let room: OwnedRoomId = "!team:localhost".try_into().unwrap();
        let kept = Unreadable::default();
        let cases = [
            (
                json!("@vic:localhost"),
                json!(now.timestamp_millis()),
                "@vic:localhost",
                now,
            ),
            (json!("x".repeat(100_000)), json!(i64::MAX), "someone", now),
            (json!(42), json!(-1), "someone", now),
            (
                json!("@vic\u{1b}[31m:localhost\n"),
                json!("soon"),
                "@vic[31m:localhost",
                now,
            ),
            (json!(null), json!(4_102_444_800_000_i64), "someone", now),
        ];
        for (index, (sender, sent, want_sender, want_at)) in cases.into_iter().enumerate() {
            let event = unreadable(&format!("$e{index}"), sender, sent);
            match kept.keep_if_unreadable(&room, &event, now) {
                Kept::New { sender, sent_at } => {
                    assert_eq!(
                        (sender.as_str(), sent_at),
                        (want_sender, want_at),
                        "case {index}"
                    );
                    assert!(sender.chars().count() <= 64);
                }
                _ => panic!("case {index} was not kept as new"),
            }
            // The same post again is not a new one (no second notice).
            assert!(matches!(
                kept.keep_if_unreadable(&room, &event, now),
                Kept::Again
            ));
        }
        assert_eq!(kept.count(), 5);
    }
}
