//! Sessions as the UI shows them: times in UTC for countdowns, and in UK time for reading.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use super::scheduler::FOLLOWED;
use super::{timeline, CheckinError, EscalationContact, Event, Kind, Mode};
use crate::locations::{LastLocation, SharingNow};
use crate::time::{format_local, from_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Ok,
    /// The reminder has been sent.
    Due,
    Missed,
    /// Missed, and someone is dealing with it.
    Acknowledged,
    /// Someone out asked for help from the team room.
    Help,
    Ended,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: i64,
    pub kind: Kind,
    pub mode: Mode,
    pub title: String,
    pub participants: Vec<String>,
    pub place: String,
    pub notes: String,
    pub escalation: Vec<ContactView>,
    pub interval_minutes: Option<u32>,
    pub status: Status,
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ends_at_local: String,
    pub next_due_at: DateTime<Utc>,
    pub next_due_local: String,
    pub last_check_in_local: Option<String>,
    /// When the alarm goes off if nobody checks in (the due time plus the grace period).
    pub alarm_at: DateTime<Utc>,
    /// The team it is shared with, if any, and whether another device started it.
    pub team: Option<SessionTeam>,
    /// Where someone on it last was, from their phone (team sessions only).
    pub last_location: Option<LastLocation>,
    /// A silent alarm nobody has said they are dealing with yet.
    pub duress: Option<DuressView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuressView {
    pub by_name: String,
    pub at_local: String,
    /// "word" or "pin".
    pub how: String,
}

/// Someone to call, with their number as UK numbers are written for reading (`phone` stays
/// as stored, for dialling).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    #[serde(flatten)]
    pub contact: EscalationContact,
    pub phone_shown: String,
}

impl std::ops::Deref for ContactView {
    type Target = EscalationContact;
    fn deref(&self) -> &EscalationContact {
        &self.contact
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTeam {
    pub room_id: String,
    pub name: String,
    /// Started on another device: this one tracks it for the team.
    pub tracked: bool,
    /// Who started it (Matrix id).
    pub owner: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    #[serde(flatten)]
    pub event: Event,
    pub at_local: String,
    /// What happened, in a sentence.
    pub text: String,
    /// A team member's Matrix id, for the detail (the sentence names them).
    pub who_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionView,
    pub timeline: Vec<EventView>,
    /// Who on it shares live location from their phone now, and since when.
    pub sharing: Vec<SharingNow>,
    /// The latest welfare check ("check in now"), and whether it was answered.
    pub welfare_check: Option<WelfareCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WelfareCheck {
    /// Who asked: "you" (this device) or a member's name.
    pub asked_by: String,
    pub asked_at_local: String,
    /// The check-in that answered it, in a sentence ("vic checked in from chat"), and when.
    pub answer: Option<String>,
    pub answered_at_local: Option<String>,
}

/// The latest welfare check in `timeline`, answered by the first check-in after it.
fn welfare_check(timeline: &[EventView]) -> Option<WelfareCheck> {
    let (index, asked) = timeline
        .iter()
        .enumerate()
        .rfind(|(_, view)| view.event.kind == "asked")?;
    let answer = timeline[index + 1..]
        .iter()
        .find(|view| view.event.kind == "checked_in");
    Some(WelfareCheck {
        asked_by: asked
            .event
            .by_name
            .clone()
            .filter(|_| asked.who_id.is_some())
            .unwrap_or_else(|| "you".into()),
        asked_at_local: asked.at_local.clone(),
        answer: answer.map(|view| view.text.clone()),
        answered_at_local: answer.map(|view| view.at_local.clone()),
    })
}

const COLUMNS: &str =
    "id, kind, mode, title, participants, place, notes, escalation, interval_min, started_at,
    ends_at, next_due_at, last_check_in_at, reminded_for, missed_for, acknowledged_at, ended_at,
    grace_min, team_room, origin, owner,
    (SELECT name FROM team WHERE team.room_id = checkin_session.team_room), help_at,
    CASE WHEN duress_acknowledged_at IS NULL THEN duress_at END, duress_by_name, duress_how";

/// A session as shown, or `None` when its stored times cannot be worked with (written outside
/// the app): such a row is left out of lists, said in the log, and counted for the window.
fn view(row: &Row) -> rusqlite::Result<Option<SessionView>> {
    let due: i64 = row.get(11)?;
    let grace: i64 = row.get(17)?;
    let alarm_at = grace
        .checked_mul(60_000)
        .and_then(|grace| due.checked_add(grace))
        .and_then(from_millis);
    let times = [row.get::<_, i64>(9)?, row.get::<_, i64>(10)?, due];
    let (Some(alarm_at), true) = (alarm_at, times.iter().all(|ms| from_millis(*ms).is_some()))
    else {
        tracing::warn!(
            session = row.get::<_, i64>(0)?,
            "a session's times cannot be shown; left out"
        );
        return Ok(None);
    };
    let at = |ms: i64| from_millis(ms).unwrap_or_default();
    let (reminded_for, missed_for): (Option<i64>, Option<i64>) = (row.get(13)?, row.get(14)?);
    let status = if row.get::<_, Option<i64>>(16)?.is_some() {
        Status::Ended
    } else if row.get::<_, Option<i64>>(22)?.is_some() && row.get::<_, Option<i64>>(15)?.is_none() {
        Status::Help
    } else if missed_for == Some(due) {
        if row.get::<_, Option<i64>>(15)?.is_some() {
            Status::Acknowledged
        } else {
            Status::Missed
        }
    } else if reminded_for == Some(due) {
        Status::Due
    } else {
        Status::Ok
    };
    let json_list = |index| {
        row.get::<_, String>(index)
            .map(|text| serde_json::from_str(&text).unwrap_or_default())
    };
    Ok(Some(SessionView {
        id: row.get(0)?,
        kind: serde_json::from_value(serde_json::Value::String(row.get(1)?))
            .unwrap_or(Kind::Canvass),
        mode: if row.get::<_, String>(2)? == "watching" {
            Mode::Watching
        } else {
            Mode::Me
        },
        title: row.get(3)?,
        participants: json_list(4)?,
        place: row.get(5)?,
        notes: row.get(6)?,
        escalation: row
            .get::<_, String>(7)
            .map(|text| serde_json::from_str::<Vec<EscalationContact>>(&text).unwrap_or_default())?
            .into_iter()
            .map(|contact| ContactView {
                phone_shown: crate::contacts::shown_phone(&contact.phone),
                contact,
            })
            .collect(),
        interval_minutes: row.get(8)?,
        status,
        started_at: at(row.get(9)?),
        ends_at: at(row.get(10)?),
        ends_at_local: format_local(at(row.get(10)?)),
        next_due_at: at(due),
        next_due_local: format_local(at(due)),
        last_check_in_local: row
            .get::<_, Option<i64>>(12)?
            .map(|ms| format_local(at(ms))),
        alarm_at,
        team: match row.get::<_, Option<String>>(18)? {
            Some(room_id) => Some(SessionTeam {
                name: row
                    .get::<_, Option<String>>(21)?
                    .unwrap_or_else(|| "Team".into()),
                tracked: row.get::<_, String>(19)? == "team",
                owner: row.get(20)?,
                room_id,
            }),
            None => None,
        },
        last_location: None,
        duress: match row.get::<_, Option<i64>>(23)?.and_then(from_millis) {
            Some(at) => Some(DuressView {
                by_name: row.get::<_, Option<String>>(24)?.unwrap_or_default(),
                at_local: format_local(at),
                how: row.get::<_, Option<String>>(25)?.unwrap_or_default(),
            }),
            None => None,
        },
    }))
}

/// The view with where someone on it last was.
fn located(conn: &Connection, mut view: SessionView) -> rusqlite::Result<SessionView> {
    if view.team.is_some() {
        view.last_location = crate::locations::last_known(conn, view.id)?;
    }
    Ok(view)
}

/// Sessions still running, the most urgent (earliest due) first.
pub fn active(conn: &Connection) -> Result<Vec<SessionView>, CheckinError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM checkin_session WHERE ended_at IS NULL AND {FOLLOWED}
         ORDER BY next_due_at"
    ))?;
    let sessions: Vec<Option<SessionView>> = stmt.query_map([], view)?.collect::<Result<_, _>>()?;
    Ok(sessions
        .into_iter()
        .flatten()
        .map(|session| located(conn, session))
        .collect::<Result<_, _>>()?)
}

/// Running sessions that cannot be shown (their stored times are impossible): the window
/// says how many, so nobody thinks the list is whole when it is not.
pub fn unreadable(conn: &Connection) -> Result<usize, CheckinError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM checkin_session WHERE ended_at IS NULL AND {FOLLOWED}"
    ))?;
    let rows: Vec<Option<SessionView>> = stmt.query_map([], view)?.collect::<Result<_, _>>()?;
    Ok(rows.iter().filter(|row| row.is_none()).count())
}

/// A session's page at `now` (for who is sharing their location now).
pub fn detail(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SessionDetail, CheckinError> {
    let session = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM checkin_session WHERE id = ?1"),
            [id],
            view,
        )
        .optional()?
        .ok_or(CheckinError::UnknownSession(id))?
        .ok_or(CheckinError::Arithmetic)?;
    let session = located(conn, session)?;
    let sharing = match &session.team {
        Some(team) => {
            let (owner, members): (String, String) = conn.query_row(
                "SELECT owner, chat_members FROM checkin_session WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut people: Vec<String> = serde_json::from_str(&members).unwrap_or_default();
            people.push(owner);
            crate::locations::sharing_now(conn, &team.room_id, &people, now)?
        }
        None => Vec::new(),
    };
    let timeline: Vec<EventView> = timeline(conn, id)?
        .into_iter()
        .map(|event| EventView {
            at_local: format_local(event.at),
            text: super::words::sentence(&event),
            who_id: event
                .by_whom
                .starts_with('@')
                .then(|| event.by_whom.clone()),
            event,
        })
        .collect();
    Ok(SessionDetail {
        session,
        welfare_check: welfare_check(&timeline),
        timeline,
        sharing,
    })
}
