//! Posts this device cannot decrypt yet. The key that opens a post can come after the post
//! (a newcomer's first posts, a slow delivery between devices): such a post is kept here and
//! tried again after every sync, for a day, and applied as soon as it can be read. Without
//! this, one late key would lose a post for good.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind};
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId};
use matrix_sdk::Client;

use super::{room_events, TeamService};

/// The most posts kept waiting; past it the oldest are given up (and logged).
const MOST_KEPT: usize = 1_000;
/// How long a post is tried again.
const KEPT_FOR_HOURS: i64 = 24;

struct Waiting {
    room_id: OwnedRoomId,
    event_id: OwnedEventId,
    event: Raw<AnySyncTimelineEvent>,
    since: DateTime<Utc>,
}

#[derive(Default)]
pub(super) struct Unreadable(Mutex<Vec<Waiting>>);

impl Unreadable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `event` if it could not be decrypted; says whether it was kept.
    pub(super) fn keep_if_unreadable(
        &self,
        room_id: &OwnedRoomId,
        event: &TimelineEvent,
        now: DateTime<Utc>,
    ) -> bool {
        let TimelineEventKind::UnableToDecrypt {
            event: raw,
            utd_info,
        } = &event.kind
        else {
            return false;
        };
        let Some(event_id) = event.event_id() else {
            return true;
        };
        tracing::warn!(%event_id, reason = ?utd_info.reason, "a team post cannot be read yet; it will be tried again");
        let mut waiting = self.lock();
        if waiting.iter().any(|w| w.event_id == event_id) {
            return true;
        }
        if waiting.len() >= MOST_KEPT {
            let given_up = waiting.remove(0);
            tracing::error!(event_id = %given_up.event_id, "a team post could never be read");
        }
        waiting.push(Waiting {
            room_id: room_id.clone(),
            event_id,
            event: raw.clone(),
            since: now,
        });
        true
    }

    pub(super) fn count(&self) -> usize {
        self.lock().len()
    }
}

/// Tries every waiting post again and applies, room by room, those that can now be read.
pub(super) async fn retry(service: &Arc<TeamService>, client: &Client) {
    let waiting = std::mem::take(&mut *service.unreadable.lock());
    if waiting.is_empty() {
        return;
    }
    let now = service.clock.now();
    let mut still = Vec::new();
    let mut readable: HashMap<OwnedRoomId, Vec<TimelineEvent>> = HashMap::new();
    for post in waiting {
        let Some(room) = client.get_room(&post.room_id) else {
            continue;
        };
        match room
            .decrypt_event(post.event.cast_ref_unchecked(), None)
            .await
        {
            Ok(event) if !matches!(event.kind, TimelineEventKind::UnableToDecrypt { .. }) => {
                tracing::info!(event_id = %post.event_id, "a team post that could not be read now can");
                readable
                    .entry(post.room_id.clone())
                    .or_default()
                    .push(event);
            }
            _ if now - post.since > Duration::hours(KEPT_FOR_HOURS) => {
                tracing::error!(event_id = %post.event_id, "a team post could not be read for a day: given up");
            }
            _ => still.push(post),
        }
    }
    // Posts that arrived meanwhile stay too.
    service.unreadable.lock().splice(0..0, still);
    for (room_id, events) in readable {
        if let Some(room) = client.get_room(&room_id) {
            room_events::apply_room(service, &room, false, None, events).await;
        }
    }
}
