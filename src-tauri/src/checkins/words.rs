//! A session's timeline in plain words: who did what, as the person reading it would say it.
//! A team member is named by the name their room shows (their Matrix id is kept for the
//! detail), never by a name carried inside a post.

use super::Event;
use crate::time::{format_local, from_millis};

/// "14:30" for a due time kept in an event's detail (an earlier version kept "due 14:30").
fn due(detail: &str) -> String {
    detail
        .parse::<i64>()
        .ok()
        .and_then(from_millis)
        .map(|at| {
            format_local(at)
                .rsplit(", ")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_else(|| detail.trim_start_matches("due ").to_owned())
}

/// The person who did it, for a member; `None` for this device.
fn member(event: &Event) -> Option<String> {
    event
        .by_name
        .clone()
        .filter(|_| event.by_whom.starts_with('@'))
}

/// What the event says, in a sentence.
pub fn sentence(event: &Event) -> String {
    let who = member(event);
    let chat = event.via.as_deref() == Some("chat");
    let from_chat = if chat { " from chat" } else { "" };
    // Set apart for direction: a name in Arabic or Hebrew keeps to itself in the sentence.
    let name = who
        .as_deref()
        .map(|name| crate::bidi::isolated(name).into_owned())
        .unwrap_or_default();
    match (event.kind.as_str(), who.is_some()) {
        ("started", false) => "Started".into(),
        ("started", true) => format!("Started by {name} and shared with the team"),
        ("shared", _) => "Shared with the team".into(),
        ("checked_in", false) if event.via.as_deref() == Some("notification") => {
            "Checked in from a notification".into()
        }
        ("checked_in", false) => "Checked in".into(),
        ("checked_in", true) => format!("{name} checked in{from_chat}"),
        ("snoozed", false) => "Reminder snoozed for 5 minutes".into(),
        ("snoozed", true) => format!("{name} snoozed the reminder for 5 minutes"),
        ("extended", false) => format!("Extended by {} minutes", event.detail),
        ("extended", true) => format!("{name} extended it by {} minutes", event.detail),
        ("reminder_sent", _) => {
            format!("Reminder sent for the check-in due {}", due(&event.detail))
        }
        ("missed", _) => format!(
            "Check-in due {} missed: the alarm went off",
            due(&event.detail)
        ),
        ("missed_alert_repeated", _) => "The alarm sounded again".into(),
        ("missed_reported", _) => format!(
            "{} told the team the check-in due {} was missed",
            if name.is_empty() {
                "A device".into()
            } else {
                format!("{name}'s device")
            },
            due(&event.detail)
        ),
        ("acknowledged", false) => "Someone here said they are dealing with it".into(),
        ("acknowledged", true) => format!("{name} is dealing with it{from_chat}"),
        ("help", true) => format!("{name} asked for help{from_chat}"),
        ("help", false) => "Asked for help".into(),
        ("duress", _) => format!(
            "Silent alarm: {} signalled duress",
            if name.is_empty() {
                "someone out on it".to_owned()
            } else {
                name.clone()
            }
        ),
        ("duress_acknowledged", false) => {
            "Someone here said they are dealing with the silent alarm".into()
        }
        ("duress_acknowledged", true) => {
            format!("{name} is dealing with the silent alarm")
        }
        ("asked", false) => format!("Asked for a check-in now, due {}", due(&event.detail)),
        ("asked", true) => format!(
            "{name} asked for a check-in now, due {}",
            due(&event.detail)
        ),
        ("ended_safe", false) => "Ended: safe".into(),
        ("ended_safe", true) => format!("{name} ended it: safe"),
        ("ignored", _) => format!(
            "A change from {} was ignored: {}.",
            if name.is_empty() {
                "a team member".into()
            } else {
                name
            },
            event.detail
        ),
        ("team_left", _) => "No longer followed here: this device left the team".into(),
        // An earlier version's rows: their kind and who, as they were kept.
        (kind, _) => {
            let what = kind.replace('_', " ");
            let mut words = what[..1].to_uppercase() + &what[1..];
            if !event.by_whom.is_empty() && !matches!(event.by_whom.as_str(), "app" | "scheduler") {
                words.push_str(&format!(" ({})", event.by_whom.trim_start_matches("team:")));
            }
            words
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event(kind: &str, by: &str, name: Option<&str>, via: Option<&str>, detail: &str) -> Event {
        Event {
            at: Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0).unwrap(),
            kind: kind.into(),
            by_whom: by.into(),
            by_name: name.map(Into::into),
            via: via.map(Into::into),
            detail: detail.into(),
        }
    }

    #[test]
    fn timelines_say_who_did_what_in_plain_words() {
        let due = Utc
            .with_ymd_and_hms(2026, 11, 25, 14, 30, 0)
            .unwrap()
            .timestamp_millis();
        for (event, said) in [
            (
                event(
                    "checked_in",
                    "@vic:x.org",
                    Some("Vic Moss"),
                    Some("chat"),
                    "",
                ),
                "Vic Moss checked in from chat",
            ),
            (
                event("checked_in", "notification", None, Some("notification"), ""),
                "Checked in from a notification",
            ),
            (
                event("reminder_sent", "scheduler", None, None, &due.to_string()),
                "Reminder sent for the check-in due 14:30",
            ),
            (
                event("missed", "scheduler", None, None, &due.to_string()),
                "Check-in due 14:30 missed: the alarm went off",
            ),
            (
                event("acknowledged", "@cat:x.org", Some("Cat"), Some("app"), ""),
                "Cat is dealing with it",
            ),
            (
                event(
                    "ignored",
                    "@vic:x.org",
                    Some("Vic"),
                    Some("app"),
                    "only Asha's devices can end this session",
                ),
                "A change from Vic was ignored: only Asha's devices can end this session.",
            ),
            (
                // A name in Arabic keeps to itself, so "from chat" stays after it.
                event(
                    "checked_in",
                    "@amina:x.org",
                    Some("أمينة"),
                    Some("chat"),
                    "",
                ),
                "\u{2068}أمينة\u{2069} checked in from chat",
            ),
            (
                event("extended", "app", None, Some("app"), "30"),
                "Extended by 30 minutes",
            ),
            (
                event("reminder_sent", "scheduler", None, None, "due 14:30"),
                "Reminder sent for the check-in due 14:30",
            ),
            (
                event("checked_in_legacy", "team:vic (chat)", None, None, ""),
                "Checked in legacy (vic (chat))",
            ),
        ] {
            assert_eq!(sentence(&event), said);
        }
    }
}
