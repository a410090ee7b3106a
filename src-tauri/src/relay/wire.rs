//! What a post to the team room holds: a sentence for people (in Element, FluffyChat, any
//! Matrix client) and, in the namespaced field, the same facts for the app.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::FIELD;
use crate::checkins::{EscalationContact, Kind};
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
    /// Who did it, as a person reads it.
    #[serde(default)]
    pub by: String,
    /// How: "app", "notification", "chat" or "automatic".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
    /// The due time a reminder, a missed check-in or an acknowledgement is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
    /// The session's next due time and end after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    /// With "started": the session itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<SharedSession>,
}

impl Wire {
    /// The key every device computes the same way for a "missed" post: one per session and
    /// due time, whoever posts it.
    pub fn dedupe_key(&self) -> Option<String> {
        match self.event {
            WireKind::Missed => Some(format!("missed:{}:{}", self.session, self.due_at?)),
            _ => None,
        }
    }
}

fn clock(ms: Option<i64>) -> String {
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

/// "Asha and Ben", or the session's name when nobody is named.
pub fn who(title: &str, participants: &[String]) -> String {
    if participants.is_empty() {
        title.to_owned()
    } else {
        participants.join(" and ")
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

/// The m.room.message content for `wire`, about the session `title` with `participants`.
/// Alarms are plain text that mention the room, so Element rings; routine updates are
/// notices, which do not ping anyone.
pub fn message(
    wire: &Wire,
    title: &str,
    participants: &[String],
    chat_members: &[String],
) -> Value {
    let people = who(title, participants);
    let next = clock(wire.next_due_at);
    let (alarm, body) = match wire.event {
        WireKind::Started => {
            let info = wire.info.as_ref();
            let place = info
                .map(|i| i.place.as_str())
                .filter(|p| !p.is_empty())
                .map(|p| format!(" at {p}"))
                .unwrap_or_default();
            let every = info
                .and_then(|i| i.interval_minutes)
                .map(|m| format!("check-ins every {m} min, next due {next}"))
                .unwrap_or_else(|| format!("expected by {next}"));
            let call = info
                .and_then(|i| i.escalation.first())
                .map(|c| format!(" If a check-in is missed, call {} on {}.", c.name, c.phone))
                .unwrap_or_default();
            let notes = info
                .map(|i| i.notes.as_str())
                .filter(|n| !n.is_empty())
                .map(|n| format!(" Notes for responders: {n}"))
                .unwrap_or_default();
            (
                false,
                format!(
                    "🚶 {people} are out: {title}{place}, until {}; {every}.{call}{notes} To check in, reply OK to a reminder or react 👍.",
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
        WireKind::CheckedIn => (
            false,
            format!(
                "✅ {title}: {} checked in{}. Next check-in due {next}.",
                wire.by,
                how_said(wire.how.as_deref())
            ),
        ),
        WireKind::Snoozed => (false, format!("{title}: the reminder was snoozed for 5 minutes.")),
        WireKind::Extended => (
            false,
            format!(
                "{title}: extended; next check-in due {next}, ends {}.",
                clock(wire.ends_at)
            ),
        ),
        WireKind::Missed => (
            true,
            format!(
                "@room 🚨 MISSED CHECK-IN: {title}. {people} were due to check in at {} and have not. Try to reach them. If you cannot and you are worried, call 999. Say “I’m dealing with it” in the app when you are.",
                clock(wire.due_at)
            ),
        ),
        WireKind::Acknowledged => (
            false,
            format!("{} is dealing with the missed check-in for {title}.", wire.by),
        ),
        WireKind::Ended => (false, format!("🏠 {title} has ended: {people} are safe.")),
        WireKind::Help => (
            true,
            format!(
                "@room 🚨 {} ASKED FOR HELP ({title}). Call them now; if you cannot reach them, call 999.",
                wire.by
            ),
        ),
    };
    let mut content = json!({
        "msgtype": if alarm || wire.event == WireKind::Reminder { "m.text" } else { "m.notice" },
        "body": body,
        FIELD: wire,
    });
    content["m.mentions"] = if alarm {
        json!({ "room": true })
    } else if wire.event == WireKind::Reminder {
        json!({ "user_ids": chat_members })
    } else {
        json!({})
    };
    content
}

/// The app's field of a message content, if it has one this version can read.
pub fn read(content: &Value) -> Option<Wire> {
    let wire: Wire = serde_json::from_value(content.get(FIELD)?.clone()).ok()?;
    (wire.v <= VERSION).then_some(wire)
}
