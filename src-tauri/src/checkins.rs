//! Check-in sessions: a canvass, a journey or a meeting, with check-ins on a schedule and
//! escalation when one is missed. This module keeps the sessions and their timelines;
//! `scheduler` decides, from the stored due times and the clock, what to send.

pub mod runner;
pub mod scheduler;
pub mod views;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::contacts::normalise_uk_phone;
use crate::error::ErrorCode;
use crate::storage::StorageError;
use crate::time::{from_millis, to_millis};

pub const INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
pub const EXTEND_MINUTES: &[u32] = &[15, 30, 60];
pub const SNOOZE_MINUTES: i64 = 5;
const TEXT_MAX: usize = 500;
/// A canvass goes out in pairs or small groups; a list longer than this is a mistake.
const PEOPLE_MAX: usize = 20;
const PERSON_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Canvass,
    Journey,
    Meeting,
}

/// `Me`: I am out, remind me. `Watching`: the office tracks a team that is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Me,
    Watching,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EscalationContact {
    pub name: String,
    pub phone: String,
    pub relationship: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSession {
    pub kind: Kind,
    pub mode: Mode,
    pub title: String,
    pub participants: Vec<String>,
    pub place: String,
    pub notes: String,
    pub escalation: Vec<EscalationContact>,
    /// Planned end, or expected arrival for a journey.
    pub ends_at: Option<DateTime<Utc>>,
    /// `None`: no periodic check-ins, only the end or arrival time.
    pub interval_minutes: Option<u32>,
    pub reminder_lead_minutes: u32,
    pub grace_minutes: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    #[error(
        "Check in: choose every 5 minutes at least, and at most every 1,440 minutes (24 hours)."
    )]
    Interval,
    #[error("Ends (or expected arrival): that time has already passed; choose a later one.")]
    EtaInPast,
    #[error("Ends (or expected arrival): choose when this finishes (for a journey, when you expect to arrive).")]
    NoEnd,
    #[error("Ends (or expected arrival): choose a time later than now.")]
    EndBeforeStart,
    #[error("People: a canvass needs at least one name, and better two: canvass in pairs.")]
    NoParticipants,
    #[error("People: {0}, which is still active. End that one first.")]
    Duplicate(String),
    /// `message` names the field as the form labels it; `field` is its key in the form.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("Extend by 15, 30 or 60 minutes.")]
    Extend,
    #[error("This session has already ended. Start a new one.")]
    Ended,
    #[error("There is no check-in session {0}.")]
    UnknownSession(i64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for CheckinError {
    fn from(error: rusqlite::Error) -> Self {
        CheckinError::Storage(error.into())
    }
}

impl ErrorCode for CheckinError {
    fn code(&self) -> &'static str {
        match self {
            CheckinError::Ended => "conflict",
            CheckinError::UnknownSession(_) => "not_found",
            CheckinError::Storage(error) => error.code(),
            _ => "validation",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            CheckinError::Interval => Some("intervalMinutes"),
            CheckinError::EtaInPast | CheckinError::EndBeforeStart | CheckinError::NoEnd => {
                Some("endsAt")
            }
            CheckinError::NoParticipants | CheckinError::Duplicate(_) => Some("participants"),
            CheckinError::Invalid { field, .. } => Some(field),
            CheckinError::Extend => Some("minutes"),
            CheckinError::Ended | CheckinError::UnknownSession(_) => Some("sessionId"),
            CheckinError::Storage(_) => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, CheckinError::Storage(_))
    }
}

fn invalid(field: &str, message: impl Into<String>) -> CheckinError {
    CheckinError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn text(field: &str, label: &str, value: &str, required: bool) -> Result<String, CheckinError> {
    let value = value.trim();
    if crate::error::has_hidden_characters(value) {
        return Err(invalid(
            field,
            crate::error::hidden_characters_message(label),
        ));
    }
    if required && value.is_empty() {
        return Err(invalid(field, format!("{label}: this cannot be empty.")));
    }
    let length = value.chars().count();
    if length > TEXT_MAX {
        return Err(invalid(
            field,
            format!("{label}: use at most {TEXT_MAX} characters (this has {length})."),
        ));
    }
    Ok(value.to_owned())
}

/// Names compared without case or order, to spot the same people twice.
fn people_key(names: &[String]) -> String {
    let mut names: Vec<String> = names.iter().map(|n| n.trim().to_lowercase()).collect();
    names.sort();
    names.join("\u{1f}")
}

fn event(
    conn: &Connection,
    session: i64,
    at: DateTime<Utc>,
    kind: &str,
    by: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO checkin_event (session_id, at, kind, by_whom, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![session, to_millis(at), kind, by, detail],
    )?;
    // A shared session's change goes to its team in the same transaction.
    crate::relay::outbox::after_event(conn, session, kind, at, by)
}

/// Validates everything, then starts the session. Nothing is stored if any field is wrong.
pub fn start(
    conn: &mut Connection,
    new: &NewSession,
    now: DateTime<Utc>,
    by: &str,
) -> Result<i64, CheckinError> {
    let tx = conn.transaction()?;
    let id = start_in(&tx, new, now, by)?;
    tx.commit()?;
    Ok(id)
}

/// [`start`] inside the caller's transaction, so several sessions start together or not at all.
pub fn start_in(
    conn: &Connection,
    new: &NewSession,
    now: DateTime<Utc>,
    by: &str,
) -> Result<i64, CheckinError> {
    if new.title.trim().is_empty() {
        return Err(invalid(
            "title",
            "Name: give this session a name, such as “Ward 3, Elm Road”.",
        ));
    }
    let title = text("title", "Name", &new.title, true)?;
    let place = text("place", "Where", &new.place, false)?;
    let notes = text("notes", "Notes for responders", &new.notes, false)?;
    let participants: Vec<String> = new
        .participants
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if participants.is_empty() && new.kind == Kind::Canvass {
        return Err(CheckinError::NoParticipants);
    }
    if participants.len() > PEOPLE_MAX {
        return Err(invalid(
            "participants",
            format!("People: at most {PEOPLE_MAX} people in one session. Split a bigger group into pairs or small groups, one session each."),
        ));
    }
    for (index, person) in participants.iter().enumerate() {
        text(&format!("participants[{index}]"), "People", person, true)?;
        if person.chars().count() > PERSON_MAX {
            return Err(invalid(
                &format!("participants[{index}]"),
                format!("People: a name of at most {PERSON_MAX} characters each."),
            ));
        }
    }
    let mut escalation = Vec::new();
    for (index, contact) in new.escalation.iter().enumerate() {
        let field = |name: &str| format!("escalation[{index}].{name}");
        // The form asks under "Who to call if a check-in is missed": Name, Phone, Relationship.
        escalation.push(EscalationContact {
            name: text(&field("name"), "Who to call – Name", &contact.name, true)?,
            phone: normalise_uk_phone(&contact.phone)
                .map_err(|error| invalid(&field("phone"), format!("Who to call – {error}")))?,
            relationship: text(
                &field("relationship"),
                "Who to call – Relationship",
                &contact.relationship,
                false,
            )?,
        });
    }
    if let Some(minutes) = new.interval_minutes {
        if !INTERVAL_MINUTES.contains(&minutes) {
            return Err(CheckinError::Interval);
        }
    }
    if new.reminder_lead_minutes > 60 {
        return Err(invalid(
            "reminderLeadMinutes",
            "Remind me: choose at most 60 minutes before it is due.",
        ));
    }
    if new.grace_minutes > 120 {
        return Err(invalid(
            "graceMinutes",
            "Raise the alarm: choose at most 120 minutes after a missed check-in.",
        ));
    }
    let ends_at = new.ends_at.ok_or(CheckinError::NoEnd)?;
    if ends_at <= now {
        return Err(if new.kind == Kind::Journey {
            CheckinError::EtaInPast
        } else {
            CheckinError::EndBeforeStart
        });
    }
    crate::plausible::planned("Ends (or expected arrival)", ends_at, now)
        .map_err(|message| invalid("endsAt", message))?;
    let next_due = match new.interval_minutes {
        Some(minutes) => (now + Duration::minutes(minutes.into())).min(ends_at),
        None => ends_at,
    };

    let tx = conn;
    let key = people_key(&participants);
    if !participants.is_empty() {
        let clash: Option<(String, String)> = tx
            .query_row(
                "SELECT title, participants FROM checkin_session WHERE ended_at IS NULL AND people_key = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((title, people)) = clash {
            let people: Vec<String> = serde_json::from_str(&people).unwrap_or_default();
            let verb = if people.len() == 1 { "is" } else { "are" };
            return Err(CheckinError::Duplicate(format!(
                "{} {verb} already in “{title}”",
                people.join(" and ")
            )));
        }
    }
    tx.execute(
        "INSERT INTO checkin_session (kind, mode, title, participants, people_key, place, notes, escalation,
             started_at, ends_at, interval_min, reminder_lead_min, grace_min, next_due_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            enum_text(&new.kind), enum_text(&new.mode), title, to_json(&participants), key, place, notes, to_json(&escalation),
            to_millis(now), to_millis(ends_at), new.interval_minutes, new.reminder_lead_minutes, new.grace_minutes,
            to_millis(next_due),
        ],
    )?;
    let id = tx.last_insert_rowid();
    event(tx, id, now, "started", by, "")?;
    Ok(id)
}

/// Lists of names and contacts are stored as JSON; serialising them cannot fail.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The stored fields the check-in rules need.
struct Timing {
    interval_min: Option<i64>,
    ends_at: DateTime<Utc>,
    next_due_at: DateTime<Utc>,
}

fn active_timing(conn: &Connection, id: i64) -> Result<Timing, CheckinError> {
    let row: Option<(Option<i64>, i64, i64, Option<i64>)> = conn
        .query_row(
            "SELECT interval_min, ends_at, next_due_at, ended_at FROM checkin_session WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let (interval_min, ends_at, next_due_at, ended_at) =
        row.ok_or(CheckinError::UnknownSession(id))?;
    if ended_at.is_some() {
        return Err(CheckinError::Ended);
    }
    let at = |millis| from_millis(millis).unwrap_or_default();
    Ok(Timing {
        interval_min,
        ends_at: at(ends_at),
        next_due_at: at(next_due_at),
    })
}

/// Sets the next due time and clears every alert raised for the old one.
fn reschedule(
    conn: &Connection,
    id: i64,
    next_due: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE checkin_session SET next_due_at = ?2, ends_at = ?3, reminded_for = NULL, snoozed_until = NULL,
             missed_for = NULL, last_alert_at = NULL, acknowledged_at = NULL, help_at = NULL WHERE id = ?1",
        params![id, to_millis(next_due), to_millis(ends_at)],
    )?;
    Ok(())
}

/// "I'm OK": the next check-in is due one interval from now (or, with no interval, at the
/// arrival time, but at least 15 minutes away).
pub fn check_in(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    let tx = conn.transaction()?;
    check_in_in(&tx, id, now, by)?;
    tx.commit()?;
    Ok(())
}

/// [`check_in`] inside a transaction the caller holds.
pub fn check_in_in(
    tx: &Connection,
    id: i64,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    let timing = active_timing(tx, id)?;
    let next_due = match timing.interval_min {
        Some(minutes) => now + Duration::minutes(minutes),
        None => timing.ends_at.max(now + Duration::minutes(15)),
    };
    reschedule(tx, id, next_due, timing.ends_at)?;
    tx.execute(
        "UPDATE checkin_session SET last_check_in_at = ?2 WHERE id = ?1",
        params![id, to_millis(now)],
    )?;
    event(tx, id, now, "checked_in", by, "")?;
    Ok(())
}

/// Pushes the next due time and the planned end back by 15, 30 or 60 minutes.
pub fn extend(
    conn: &mut Connection,
    id: i64,
    minutes: u32,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    if !EXTEND_MINUTES.contains(&minutes) {
        return Err(CheckinError::Extend);
    }
    let tx = conn.transaction()?;
    let timing = active_timing(&tx, id)?;
    let by_minutes = Duration::minutes(minutes.into());
    reschedule(
        &tx,
        id,
        timing.next_due_at.max(now) + by_minutes,
        timing.ends_at.max(now) + by_minutes,
    )?;
    event(&tx, id, now, "extended", by, &format!("{minutes} minutes"))?;
    tx.commit()?;
    Ok(())
}

/// A moment set on an active session, with the event that records it.
#[derive(Debug, Clone, Copy)]
enum Mark {
    Snoozed,
    Acknowledged,
    EndedSafe,
}

impl Mark {
    /// The UPDATE, the event kind and its detail. The column is fixed here, never input.
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Mark::Snoozed => (
                "UPDATE checkin_session SET snoozed_until = ?2 WHERE id = ?1",
                "snoozed",
                "5 minutes",
            ),
            Mark::Acknowledged => (
                "UPDATE checkin_session SET acknowledged_at = ?2 WHERE id = ?1",
                "acknowledged",
                "",
            ),
            Mark::EndedSafe => (
                "UPDATE checkin_session SET ended_at = ?2 WHERE id = ?1",
                "ended_safe",
                "",
            ),
        }
    }
}

/// Sets `at` on an active session and logs it, in one transaction.
fn mark(
    conn: &mut Connection,
    id: i64,
    mark: Mark,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    let (sql, kind, detail) = mark.parts();
    let tx = conn.transaction()?;
    active_timing(&tx, id)?;
    tx.execute(sql, params![id, to_millis(at)])?;
    event(&tx, id, now, kind, by, detail)?;
    tx.commit()?;
    Ok(())
}

/// "Remind me again in 5 minutes" (from a reminder's button). The missed alert still comes
/// at the usual time.
pub fn snooze(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    let until = now + Duration::minutes(SNOOZE_MINUTES);
    mark(conn, id, Mark::Snoozed, until, now, by)
}

/// "Someone is dealing with it": stops the repeating missed alert.
pub fn acknowledge(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    mark(conn, id, Mark::Acknowledged, now, now, by)
}

/// "Home safe": the session ends and nothing more is sent for it.
pub fn end_safely(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    by: &str,
) -> Result<(), CheckinError> {
    mark(conn, id, Mark::EndedSafe, now, now, by)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub by_whom: String,
    pub detail: String,
}

/// Everything that happened to a session, oldest first.
pub fn timeline(conn: &Connection, id: i64) -> Result<Vec<Event>, CheckinError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, kind, by_whom, detail FROM checkin_event WHERE session_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Event {
            at: from_millis(r.get(0)?).unwrap_or_default(),
            kind: r.get(1)?,
            by_whom: r.get(2)?,
            detail: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests;
