//! What a post to the team room holds: a sentence for people (in Element, FluffyChat, any
//! Matrix client) and, in the namespaced field, the same facts for the app. Every field a
//! device reads back from the room is a claim, checked by `checkins` before it counts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::FIELD;
use crate::bidi::isolated;
use crate::checkins::shared::SharedFacts;
use crate::checkins::{EscalationContact, Kind};
use crate::locations::LastLocation;
use crate::time::{format_uk, from_millis};

/// The format's version; a device ignores posts of a newer one it cannot read.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireKind {
    Started,
    Reminder,
    CheckedIn,
    Snoozed,
    Extended,
    Missed,
    Acknowledged,
    Ended,
    /// A participant asked for help ("HELP" or "SOS" in the room).
    Help,
    /// A welfare check: someone asks the people out on it to check in now.
    Asked,
}

/// Everything a device needs to track a session it did not start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedSession {
    pub kind: Kind,
    pub title: String,
    pub participants: Vec<String>,
    pub place: String,
    pub notes: String,
    pub escalation: Vec<EscalationContact>,
    pub interval_minutes: Option<u32>,
    pub grace_minutes: u32,
    pub started_at: i64,
    /// Matrix users who may check in from the room by chat.
    pub chat_members: Vec<String>,
    /// Its last check-in before it was shared, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check_in_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wire {
    pub v: u32,
    pub event: WireKind,
    /// The session's id on every device.
    pub session: String,
    /// When it happened (UTC milliseconds).
    pub at: i64,
    /// Who did it, as a person reads it: for the sentence only; devices use the sender.
    #[serde(default)]
    pub by: String,
    /// How: "app", "notification", "chat" or "automatic".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
    /// The due time a reminder, a missed check-in or an acknowledgement is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
    /// The session's next due time and end after the change, for people reading the post;
    /// each device works them out for itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    /// With "extended": by how many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    /// With "started": the session itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<SharedSession>,
}

impl Wire {
    /// The key every device computes the same way for a "missed" post: one per session and
    /// due time, whoever posts it.
    pub fn dedupe_key(&self) -> Option<String> {
        match self.event {
            WireKind::Missed => Some(missed_key(&self.session, self.due_at?)),
            _ => None,
        }
    }
}

pub fn missed_key(session: &str, due_at: i64) -> String {
    format!("missed:{session}:{due_at}")
}

/// "14:30" in the app's time zone, or "?" for a time that is not one.
pub fn clock(ms: Option<i64>) -> String {
    ms.and_then(from_millis)
        .map(|at| {
            format_uk(at)
                .rsplit(", ")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_else(|| "?".into())
}

/// "Asha Patel", "Asha and Ben", "Asha, Ben and Cat", or the session's name when nobody
/// is named; and whether the verb that follows is plural.
/// Each name is set apart for direction (`bidi::isolated`), as in every sentence below.
fn who(title: &str, participants: &[String]) -> (String, bool) {
    let names: Vec<_> = participants.iter().map(|name| isolated(name)).collect();
    match names.as_slice() {
        [] => (isolated(title).into_owned(), false),
        [one] => (one.to_string(), false),
        [rest @ .., last] => (format!("{} and {last}", rest.join(", ")), true),
    }
}

fn how_said(how: Option<&str>) -> &'static str {
    match how {
        Some("notification") => " (from a notification)",
        Some("chat") => " (from chat)",
        Some("automatic") => "",
        _ => " (in the app)",
    }
}

/// "Call Office on 01632 960123, then Priya on 07700 900123." or a plainer line.
fn whom_to_call(escalation: &[EscalationContact]) -> String {
    let calls: Vec<String> = escalation
        .iter()
        .take(3)
        .map(|c| {
            format!(
                "{} on {}",
                isolated(&c.name),
                crate::contacts::shown_phone(&c.phone)
            )
        })
        .collect();
    match calls.as_slice() {
        [] => "Try to reach them.".into(),
        [one] => format!("Call {one}."),
        [first, rest @ ..] => format!("Call {first}, then {}.", rest.join(", then ")),
    }
}

/// The m.room.message content for `wire` about the shared session `facts`. Alarms are plain
/// text that mention the room, so Element rings; routine updates are notices.
pub fn message(wire: &Wire, facts: &SharedFacts) -> Value {
    let (people, plural) = who(&facts.title, &facts.participants);
    let title = isolated(&facts.title);
    let by = isolated(&wire.by);
    let (is, was) = if plural {
        ("are", "were")
    } else {
        ("is", "was")
    };
    let next = clock(wire.next_due_at);
    let place = if facts.place.is_empty() {
        String::new()
    } else {
        format!(" at {}", isolated(&facts.place))
    };
    let (alarm, body) = match wire.event {
        WireKind::Started => {
            let every = facts
                .interval_minutes
                .map(|m| format!("check-ins every {m} min, next due {next}"))
                .unwrap_or_else(|| format!("expected by {next}"));
            let call = facts
                .escalation
                .first()
                .map(|c| {
                    format!(
                        " If a check-in is missed, call {} on {}.",
                        isolated(&c.name),
                        crate::contacts::shown_phone(&c.phone)
                    )
                })
                .unwrap_or_default();
            let notes = if facts.notes.is_empty() {
                String::new()
            } else {
                format!(" Notes for responders: {}", isolated(&facts.notes))
            };
            (
                false,
                format!(
                    "🚶 {people} {is} out: {title}{place}, until {}; {every}.{call}{notes} To check in, reply OK to a reminder or react 👍. If you are out on it, please share your live location in this room for the outing (in Element: the attachment button, then Location, then Share live location), so the team knows where to look if a check-in is missed.",
                    clock(wire.ends_at)
                ),
            )
        }
        WireKind::Reminder => (
            false,
            format!(
                "⏰ {title}: {people}, your check-in is due at {}. Reply OK (or react 👍) if you are safe.",
                clock(wire.due_at)
            ),
        ),
        WireKind::Asked => (
            false,
            format!(
                "⏰ {title}: {} asks {people} to check in now. Reply OK (or react 👍) by {} if you are safe.",
                by,
                clock(wire.due_at)
            ),
        ),
        WireKind::CheckedIn => (
            false,
            format!(
                "✅ {title}: {} checked in{}. Next check-in due {next}.",
                by,
                how_said(wire.how.as_deref())
            ),
        ),
        WireKind::Snoozed => (false, format!("{title}: the reminder was snoozed for 5 minutes.")),
        WireKind::Extended => (
            false,
            format!(
                "{title}: extended{}; next check-in due {next}, ends {}.",
                wire.minutes
                    .map(|m| format!(" by {m} minutes"))
                    .unwrap_or_default(),
                clock(wire.ends_at)
            ),
        ),
        WireKind::Missed => {
            let last = match facts.last_check_in_at {
                Some(at) => format!("Last check-in: {}.", clock(Some(at))),
                None => format!("No check-in since the start at {}.", clock(Some(facts.started_at))),
            };
            (
                true,
                format!(
                    "@room 🚨 MISSED CHECK-IN: {title}{place}. {people} {was} due to check in at {} and {} not. {last} {} If you cannot reach them and you are worried, call 999. Reply “on it” to this message when you are dealing with it.",
                    clock(wire.due_at),
                    if plural { "have" } else { "has" },
                    whom_to_call(&facts.escalation),
                ),
            )
        }
        WireKind::Acknowledged => (
            false,
            format!("{by} is dealing with the missed check-in for {title}."),
        ),
        WireKind::Ended => (false, format!("🏠 {title} has ended: {people} {is} safe.")),
        WireKind::Help => (
            true,
            format!(
                "@room 🚨 {} ASKED FOR HELP ({title}{place}). Call them now; if you cannot reach them, call 999. Reply “on it” when you are dealing with it.",
                wire.by
            ),
        ),
    };
    // Reminders and welfare checks ring the people out on it.
    let asks = matches!(wire.event, WireKind::Reminder | WireKind::Asked);
    let mut content = json!({
        "msgtype": if alarm || asks { "m.text" } else { "m.notice" },
        "body": body,
        FIELD: wire,
    });
    content["m.mentions"] = if alarm {
        json!({ "room": true })
    } else if asks {
        json!({ "user_ids": facts.chat_members })
    } else {
        json!({})
    };
    content
}

/// Adds where someone on the session last was to an alarm's post, with its age at `now`, or
/// says that nobody's phone has shared one.
pub fn add_location(content: &mut Value, location: Option<&LastLocation>, now: DateTime<Utc>) {
    let said = match location {
        Some(location) => format!(
            " Last known location: {}, {} before this post: {}",
            location.sentence(),
            location.age_at(now),
            location.map_url
        ),
        None => " No location has been shared from their phones.".to_owned(),
    };
    if let Some(Value::String(body)) = content.get_mut("body") {
        body.push_str(&said);
    }
}

/// The app's field of a message content, if it has one this version can read.
pub fn read(content: &Value) -> Option<Wire> {
    let wire: Wire = serde_json::from_value(content.get(FIELD)?.clone()).ok()?;
    (wire.v <= VERSION).then_some(wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_right_to_left_scripts_keep_to_themselves_in_a_post() {
        let facts = SharedFacts {
            room: "!r:x.org".into(),
            uuid: "s1".into(),
            ours: true,
            owner: "@amina:x.org".into(),
            kind: Kind::Canvass,
            title: "حي الزيتون".into(),
            participants: vec!["أمينة".into(), "שרה".into()],
            place: String::new(),
            notes: String::new(),
            escalation: vec![EscalationContact {
                name: "مكتب".into(),
                phone: "01632 960123".into(),
                relationship: String::new(),
            }],
            chat_members: Vec::new(),
            interval_minutes: Some(30),
            grace_minutes: 10,
            started_at: 0,
            ends_at: 0,
            next_due_at: 0,
            last_check_in_at: None,
        };
        let wire = Wire {
            v: VERSION,
            event: WireKind::Missed,
            session: "s1".into(),
            at: 0,
            by: String::new(),
            how: None,
            due_at: Some(0),
            next_due_at: None,
            ends_at: None,
            minutes: None,
            info: None,
        };
        let content = message(&wire, &facts);
        let body = content["body"].as_str().unwrap();
        for isolated in [
            "MISSED CHECK-IN: \u{2068}حي الزيتون\u{2069}. ",
            "\u{2068}أمينة\u{2069} and \u{2068}שרה\u{2069} were due",
            "Call \u{2068}مكتب\u{2069} on 01632 960123.",
        ] {
            assert!(body.contains(isolated), "{isolated:?} in {body:?}");
        }
        // What other devices read is the app's own field, kept exactly as it came.
        assert_eq!(read(&content), Some(wire));
    }
}
