//! The record's heads as the team rooms hold them on the server (issue 24, section 4). The
//! heads this device kept are in its own record, where someone rewriting the history could
//! also delete them; the room's copies are not: the server and every member's device keep
//! them. "Check the record" reads them back here and compares.

use std::time::Duration;

use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::filter::RoomEventFilter;
use matrix_sdk::ruma::{RoomId, UInt};
use serde_json::Value;

use super::{teams, TeamService};
use crate::incidents::head::WitnessedHead;
use crate::relay::witness;
use crate::relay::RelayError;
use crate::time::from_millis;

/// Pages of this account's own posts read back per team room (the newest first): heads older
/// than this many posts are compared from this device's copies only.
const PAGES: usize = 20;
const PAGE_SIZE: u32 = 250;
/// Reading the rooms never holds "Check the record" up for longer than this.
const TOO_LONG: Duration = Duration::from_secs(30);

/// What the team rooms gave, for the report.
pub struct FromRooms {
    pub heads: Vec<WitnessedHead>,
    /// How many rooms were read in full (or back to `PAGES`) of how many teams.
    pub rooms_read: usize,
    pub rooms: usize,
}

impl TeamService {
    /// The heads signed by `signer` (this record's device key) that this account posted in
    /// its team rooms, read back from the server. Each is checked as any posted head is.
    pub async fn heads_in_team_rooms(&self, signer: &str) -> Result<FromRooms, RelayError> {
        let teams = teams::team_rooms(&self.database)?;
        let mut found = FromRooms {
            heads: Vec::new(),
            rooms_read: 0,
            rooms: teams.len(),
        };
        // No team, nothing to read (and nothing to say about it).
        if teams.is_empty() {
            return Ok(found);
        }
        let client = self.client().await?;
        let own = client.user_id().ok_or(RelayError::SignedOut)?.to_owned();
        for team in teams {
            let Some(room) = <&RoomId>::try_from(team.room_id.as_str())
                .ok()
                .and_then(|id| client.get_room(id))
            else {
                continue;
            };
            let by = format!("your team “{}” (its room, read from the server)", team.name);
            let read = tokio::time::timeout(TOO_LONG, async {
                let mut from: Option<String> = None;
                for _ in 0..PAGES {
                    let mut options = MessagesOptions::backward();
                    options.from = from.clone();
                    options.limit = UInt::from(PAGE_SIZE);
                    // The server picks this account's posts; it cannot see which are heads.
                    let mut filter = RoomEventFilter::default();
                    filter.senders = Some(vec![own.clone()]);
                    options.filter = filter;
                    let page = room.messages(options).await.map_err(|error| {
                        RelayError::Unreachable(format!("the team room could not be read: {error}"))
                    })?;
                    for event in &page.chunk {
                        if let Some(head) = own_head(event.raw().json().get(), own.as_str(), signer)
                        {
                            found.heads.push(WitnessedHead {
                                versions: head.0,
                                hash: head.1,
                                at: head.2,
                                by: by.clone(),
                            });
                        }
                    }
                    match page.end {
                        Some(end) if from.as_deref() != Some(end.as_str()) => from = Some(end),
                        _ => break,
                    }
                }
                Ok::<(), RelayError>(())
            })
            .await;
            match read {
                Ok(Ok(())) => found.rooms_read += 1,
                Ok(Err(error)) => tracing::warn!(room = %team.room_id, "{error}"),
                Err(_) => {
                    tracing::warn!(room = %team.room_id, "reading the room's heads took too long")
                }
            }
        }
        Ok(found)
    }
}

/// A head in one decrypted event, if the event is a head this account posted and `signer`
/// signed: (versions, hash, when). Anything else, however formed, is not one.
fn own_head(
    event: &str,
    own: &str,
    signer: &str,
) -> Option<(i64, String, chrono::DateTime<chrono::Utc>)> {
    let event: Value = serde_json::from_str(event).ok()?;
    if event.get("type")?.as_str()? != witness::HEAD_TYPE || event.get("sender")?.as_str()? != own {
        return None;
    }
    let head = witness::read(event.get("content")?)?;
    if head.signer != signer {
        return None;
    }
    Some((head.versions, head.hash, from_millis(head.at_ms)?))
}

#[cfg(test)]
mod tests {
    use super::own_head;
    use crate::incidents::head::signed_head;
    use crate::incidents::tests::{input, now};
    use crate::relay::witness::HEAD_TYPE;

    #[test]
    fn a_head_this_account_posted_is_read_back() {
        let own = "@asha:example.org";
        let asha = crate::relay::tests::device(own, "AAA");
        crate::incidents::record(&mut asha.db.conn(), &input("Leaflets torn up"), now()).unwrap();
        let head = signed_head(&asha.db.conn(), now()).unwrap().unwrap();
        let event = serde_json::json!({
            "type": HEAD_TYPE, "sender": own, "content": { "v": 1, "head": head }
        })
        .to_string();
        assert_eq!(
            own_head(&event, own, &head.signer).map(|h| (h.0, h.1)),
            Some((head.versions, head.hash.clone()))
        );
        // Posted by another account, or signed by another record's key: not this record's.
        assert_eq!(own_head(&event, "@mallory:example.org", &head.signer), None);
        assert_eq!(own_head(&event, own, &"f".repeat(64)), None);
    }

    #[test]
    fn only_a_signed_head_this_account_posted_counts() {
        let own = "@asha:example.org";
        for hostile in [
            String::new(),
            "not json".into(),
            "[]".into(),
            r#"{"type":"uk.campaignsafe.record_head","sender":"@asha:example.org"}"#.into(),
            r#"{"type":"uk.campaignsafe.record_head","sender":"@mallory:example.org","content":{"v":1}}"#.into(),
            r#"{"type":"m.room.message","sender":"@asha:example.org","content":{"v":1}}"#.into(),
            format!(
                r#"{{"type":"uk.campaignsafe.record_head","sender":"{own}","content":{{"v":1,"head":{{"versions":{},"hash":"{}","atMs":{},"signer":"{}","signature":"{}"}}}}}}"#,
                i64::MAX,
                "0".repeat(64),
                i64::MIN,
                "a".repeat(64),
                "b".repeat(128)
            ),
        ] {
            assert_eq!(own_head(&hostile, own, &"a".repeat(64)), None, "{hostile}");
        }
    }
}
