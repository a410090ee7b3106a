//! Check-in sessions: a canvass, a journey or a meeting, with check-ins on a schedule and
//! escalation when one is missed. This module keeps the sessions and their timelines;
//! `scheduler` decides, from the stored due times and the clock, what to send.

pub mod change;
pub mod handle;
mod rules;
pub mod runner;
pub mod scheduler;
pub mod shared;
pub mod views;
mod words;

pub use change::{
    short_name, Actor, DuressHow, NoSink, Outcome, SessionChange, SessionSink, Via, When,
};

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
    /// This device may not make that change: the reason, as the session page says it.
    #[error("This session cannot be changed here: {0}.")]
    NotYours(String),
    /// A stored time that cannot be worked with (written outside the app).
    #[error("This session's times cannot be worked out, so it was left as it is.")]
    Arithmetic,
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
            CheckinError::Ended | CheckinError::NotYours(_) => "conflict",
            CheckinError::UnknownSession(_) => "not_found",
            CheckinError::Arithmetic => "storage",
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
            CheckinError::Ended | CheckinError::UnknownSession(_) | CheckinError::NotYours(_) => {
                Some("sessionId")
            }
            CheckinError::Storage(_) | CheckinError::Arithmetic => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, CheckinError::Storage(_) | CheckinError::Arithmetic)
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

/// Validates everything, then starts the session. Nothing is stored if any field is wrong.
pub fn start(
    conn: &mut Connection,
    new: &NewSession,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<i64, CheckinError> {
    let tx = conn.transaction()?;
    let id = start_in(&tx, new, now, actor, sink, None)?;
    tx.commit()?;
    Ok(id)
}

/// [`start`] inside the caller's transaction, so several sessions start together or not at
/// all; `plan` is the canvass plan that starts it, if one does.
pub fn start_in(
    conn: &Connection,
    new: &NewSession,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
    plan: Option<i64>,
) -> Result<i64, CheckinError> {
    let checked = check(new, now)?;
    if let Some(clash) = clash(conn, &checked.people_key)? {
        return Err(CheckinError::Duplicate(clash));
    }
    let next_due = match checked.interval_minutes {
        Some(minutes) => (now + Duration::minutes(minutes.into())).min(checked.ends_at),
        None => checked.ends_at,
    };
    conn.execute(
        "INSERT INTO checkin_session (kind, mode, title, participants, people_key, place, notes, escalation,
             started_at, ends_at, interval_min, reminder_lead_min, grace_min, next_due_at, plan_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            enum_text(&checked.kind), enum_text(&checked.mode), checked.title, to_json(&checked.participants),
            checked.people_key, checked.place, checked.notes, to_json(&checked.escalation),
            to_millis(now), to_millis(checked.ends_at), checked.interval_minutes,
            checked.reminder_lead_minutes, checked.grace_minutes, to_millis(next_due), plan,
        ],
    )?;
    let id = conn.last_insert_rowid();
    change::event(
        conn,
        sink,
        &change::Recorded {
            session_id: id,
            kind: "started",
            at: now,
            actor,
            due_at: None,
            minutes: None,
        },
    )?;
    Ok(id)
}

/// A session as the form's rules allow it, whoever sent it.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub kind: Kind,
    pub mode: Mode,
    pub title: String,
    pub place: String,
    pub notes: String,
    pub participants: Vec<String>,
    pub people_key: String,
    pub escalation: Vec<EscalationContact>,
    pub interval_minutes: Option<u32>,
    pub reminder_lead_minutes: u32,
    pub grace_minutes: u32,
    pub ends_at: DateTime<Utc>,
}

/// Every field against the form's limits, as it would be at `now`.
pub(crate) fn check(new: &NewSession, now: DateTime<Utc>) -> Result<Checked, CheckinError> {
    if new.title.trim().is_empty() {
        return Err(invalid(
            "title",
            "Name: give this session a name, such as “Ward 3, Elm Road”.",
        ));
    }
    let title = text("title", "Name", &new.title, true)?;
    let place = text("place", "Where", &new.place, false)?;
    let notes = text("notes", "Notes for responders", &new.notes, false)?;
    if new.participants.len() > PEOPLE_MAX {
        return Err(too_many_people());
    }
    let participants: Vec<String> = new
        .participants
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if participants.is_empty() && new.kind == Kind::Canvass {
        return Err(CheckinError::NoParticipants);
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
    if new.escalation.len() > PEOPLE_MAX {
        return Err(invalid(
            "escalation",
            format!("Who to call: at most {PEOPLE_MAX} people."),
        ));
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
    Ok(Checked {
        kind: new.kind,
        mode: new.mode,
        title,
        place,
        notes,
        people_key: people_key(&participants),
        participants,
        escalation,
        interval_minutes: new.interval_minutes,
        reminder_lead_minutes: new.reminder_lead_minutes,
        grace_minutes: new.grace_minutes,
        ends_at,
    })
}

fn too_many_people() -> CheckinError {
    invalid(
        "participants",
        format!("People: at most {PEOPLE_MAX} people in one session. Split a bigger group into pairs or small groups, one session each."),
    )
}

/// The running session of this device the same people are already out on, said for the form.
fn clash(conn: &Connection, key: &str) -> Result<Option<String>, CheckinError> {
    if key.is_empty() {
        return Ok(None);
    }
    let clash: Option<(String, String)> = conn
        .query_row(
            "SELECT title, participants FROM checkin_session
             WHERE ended_at IS NULL AND origin = 'local' AND people_key = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(clash.map(|(title, people)| {
        let people: Vec<String> = serde_json::from_str(&people).unwrap_or_default();
        let verb = if people.len() == 1 { "is" } else { "are" };
        format!("{} {verb} already in “{title}”", people.join(" and "))
    }))
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

/// A canvass plan is deleted: the sessions it started stay, no longer linked to it.
pub fn forget_plan(tx: &Connection, plan: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE checkin_session SET plan_id = NULL WHERE plan_id = ?1",
        [plan],
    )?;
    Ok(())
}

/// One change made on this device (a button, a notification), in a transaction of its own.
fn here(
    conn: &mut Connection,
    id: i64,
    change: SessionChange,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    let tx = conn.transaction()?;
    change::apply(&tx, id, &change, actor, When::now(now), "", sink)?;
    tx.commit()?;
    Ok(())
}

/// "I'm OK": the next check-in is due one interval from now (or, with no interval, at the
/// arrival time, but at least 15 minutes away).
pub fn check_in(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(
        conn,
        id,
        SessionChange::CheckIn { at: now },
        now,
        actor,
        sink,
    )
}

/// Pushes the next due time and the planned end back by 15, 30 or 60 minutes.
pub fn extend(
    conn: &mut Connection,
    id: i64,
    minutes: u32,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(
        conn,
        id,
        SessionChange::Extend { minutes },
        now,
        actor,
        sink,
    )
}

/// "Remind me again in 5 minutes" (from a reminder's button). The missed alert still comes
/// at the usual time.
pub fn snooze(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(conn, id, SessionChange::Snooze, now, actor, sink)
}

/// "Someone is dealing with it": stops the repeating missed alert.
pub fn acknowledge(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(conn, id, SessionChange::Acknowledge, now, actor, sink)
}

/// "I'm dealing with it", for a silent (duress) alarm.
pub fn acknowledge_duress(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(conn, id, SessionChange::AcknowledgeDuress, now, actor, sink)
}

/// A welfare check: asks the people out on it to check in now (see
/// [`SessionChange::AskCheckIn`]).
pub fn ask_check_in(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(conn, id, SessionChange::AskCheckIn, now, actor, sink)
}

/// "Home safe": the session ends and nothing more is sent for it.
pub fn end_safely(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
    sink: &dyn SessionSink,
) -> Result<(), CheckinError> {
    here(conn, id, SessionChange::End, now, actor, sink)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: String,
    /// "app", "notification", "scheduler", or a team member's Matrix id (as the server
    /// authenticated them).
    pub by_whom: String,
    /// A team member's name as their room showed it.
    pub by_name: Option<String>,
    /// "app", "notification" or "chat".
    pub via: Option<String>,
    pub detail: String,
}

/// Everything that happened to a session, oldest first.
pub fn timeline(conn: &Connection, id: i64) -> Result<Vec<Event>, CheckinError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, kind, by_whom, detail, by_name, via FROM checkin_event
         WHERE session_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Event {
            at: from_millis(r.get(0)?).unwrap_or_default(),
            kind: r.get(1)?,
            by_whom: r.get(2)?,
            detail: r.get(3)?,
            by_name: r.get(4)?,
            via: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests;
