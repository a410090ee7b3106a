//! Sessions shared with a team: this device's own, shared to a team room, and those another
//! member shares, tracked here. Everything a member's post says about a session is a claim,
//! checked against the form's own limits before anything is stored.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::change::{self, Actor, Outcome, Recorded, SessionSink, When, CLOCK_SLACK};
use super::{check, enum_text, to_json, CheckinError, Mode, NewSession, PEOPLE_MAX};
use crate::time::to_millis;

/// A session another member shares, as their post describes it.
#[derive(Debug, Clone)]
pub struct Offered {
    /// The session's id on every device.
    pub uuid: String,
    pub room: String,
    pub session: NewSession,
    pub started_at: DateTime<Utc>,
    /// Its last check-in before it was shared, if any.
    pub last_check_in_at: Option<DateTime<Utc>>,
    /// Matrix users who may check in from chat.
    pub chat_members: Vec<String>,
}

/// This device's session with the shared id `uuid`, if there is one.
pub fn find(conn: &Connection, uuid: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM checkin_session WHERE team_session = ?1",
        [uuid],
        |r| r.get(0),
    )
    .optional()
}

/// A running session shared with `room` that `member` started or may check in for from
/// chat: a post from them this device cannot read may be about it (issue 24).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionOut {
    pub id: i64,
    pub title: String,
}

/// The sessions shared with `room` that are out now and that `member` takes part in.
pub fn out_with(conn: &Connection, room: &str, member: &str) -> rusqlite::Result<Vec<SessionOut>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, title FROM checkin_session
         WHERE ended_at IS NULL AND team_room = ?1
           AND (owner = ?2 OR EXISTS (SELECT 1 FROM json_each(chat_members) WHERE value = ?2))
         ORDER BY id",
    )?;
    let sessions = stmt.query_map(params![room, member], |r| {
        Ok(SessionOut {
            id: r.get(0)?,
            title: r.get(1)?,
        })
    })?;
    sessions.collect()
}

/// What a post about a shared session needs to say.
#[derive(Debug, Clone)]
pub struct SharedFacts {
    pub room: String,
    pub uuid: String,
    /// Started here (not tracked for another member).
    pub ours: bool,
    pub owner: String,
    pub kind: super::Kind,
    pub title: String,
    pub participants: Vec<String>,
    pub place: String,
    pub notes: String,
    pub escalation: Vec<super::EscalationContact>,
    pub chat_members: Vec<String>,
    pub interval_minutes: Option<u32>,
    pub grace_minutes: u32,
    pub started_at: i64,
    pub ends_at: i64,
    pub next_due_at: i64,
    pub last_check_in_at: Option<i64>,
}

/// The shared facts of session `id`, if it is shared with a team.
pub fn facts(conn: &Connection, id: i64) -> rusqlite::Result<Option<SharedFacts>> {
    conn.query_row(
        "SELECT team_room, team_session, origin, owner, kind, title, participants, place, notes,
                escalation, chat_members, interval_min, grace_min, started_at, ends_at,
                next_due_at, last_check_in_at
         FROM checkin_session WHERE id = ?1 AND team_room IS NOT NULL",
        [id],
        |r| {
            fn list<T: serde::de::DeserializeOwned + Default>(
                r: &rusqlite::Row<'_>,
                i: usize,
            ) -> rusqlite::Result<T> {
                r.get::<_, String>(i)
                    .map(|t| serde_json::from_str(&t).unwrap_or_default())
            }
            Ok(SharedFacts {
                room: r.get(0)?,
                uuid: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ours: r.get::<_, String>(2)? == "local",
                owner: r.get(3)?,
                kind: serde_json::from_value(serde_json::Value::String(r.get(4)?))
                    .unwrap_or(super::Kind::Canvass),
                title: r.get(5)?,
                participants: list(r, 6)?,
                place: r.get(7)?,
                notes: r.get(8)?,
                escalation: list(r, 9)?,
                chat_members: list(r, 10)?,
                interval_minutes: r.get(11)?,
                grace_minutes: r.get(12)?,
                started_at: r.get(13)?,
                ends_at: r.get(14)?,
                next_due_at: r.get(15)?,
                last_check_in_at: r.get(16)?,
            })
        },
    )
    .optional()
}

/// A Matrix user id as a post may name one: "@name:server", short and plain.
fn is_user_id(text: &str) -> bool {
    text.len() <= 255
        && text.starts_with('@')
        && text.contains(':')
        && !crate::error::has_hidden_characters(text)
        && !text.contains(char::is_whitespace)
}

/// Shares this device's running session `id` with the team in `room`, as `owner` (this
/// device's Matrix user); the sink posts it. Returns the shared id.
pub fn share(
    conn: &mut Connection,
    id: i64,
    room: &str,
    owner: &str,
    chat_members: &[String],
    now: DateTime<Utc>,
    sink: &dyn SessionSink,
) -> Result<String, CheckinError> {
    if chat_members.len() > PEOPLE_MAX || !chat_members.iter().all(|m| is_user_id(m)) {
        return Err(super::invalid(
            "chatMembers",
            format!("Who may check in from chat: at most {PEOPLE_MAX} members of the team."),
        ));
    }
    let tx = conn.transaction()?;
    let row: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT origin, team_session FROM checkin_session WHERE id = ?1 AND ended_at IS NULL",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let uuid = match row {
        None => return Err(CheckinError::UnknownSession(id)),
        Some((origin, _)) if origin != "local" => {
            return Err(CheckinError::NotYours(
                "only a session of your own can be shared".into(),
            ))
        }
        Some((_, Some(uuid))) => return Ok(uuid),
        Some((_, None)) => uuid::Uuid::new_v4().to_string(),
    };
    tx.execute(
        "UPDATE checkin_session SET team_room = ?2, team_session = ?3, owner = ?4, chat_members = ?5
         WHERE id = ?1",
        params![id, room, uuid, owner, to_json(&chat_members)],
    )?;
    change::event(
        &tx,
        sink,
        &Recorded {
            session_id: id,
            kind: "shared",
            at: now,
            actor: &Actor::here(),
            due_at: None,
            minutes: None,
        },
    )?;
    tx.commit()?;
    Ok(uuid)
}

/// Starts tracking a session `owner` shares, if every claim in it holds. The next due time
/// is worked out here from its rules, never taken from the post.
pub fn track(
    tx: &Connection,
    offered: &Offered,
    owner: &Actor,
    when: When,
    sink: &dyn SessionSink,
) -> Result<Outcome, CheckinError> {
    let Actor::Member { user_id, .. } = owner else {
        return Ok(Outcome::Ignored(
            "only a member's post can share a session".into(),
        ));
    };
    if uuid::Uuid::parse_str(&offered.uuid).is_err() {
        return Ok(Outcome::Ignored("its session id is not one".into()));
    }
    if find(tx, &offered.uuid)?.is_some() {
        return Ok(Outcome::Unchanged);
    }
    let started = offered.started_at;
    if started > when.now + CLOCK_SLACK || started > when.at + CLOCK_SLACK {
        return Ok(Outcome::Ignored("it was dated in the future".into()));
    }
    if offered.chat_members.len() > PEOPLE_MAX
        || !offered.chat_members.iter().all(|m| is_user_id(m))
    {
        return Ok(Outcome::Ignored(format!(
            "it named more than {PEOPLE_MAX} chat members, or names that are not members"
        )));
    }
    let checked = match check(&offered.session, started) {
        Ok(checked) => checked,
        Err(error) => return Ok(Outcome::Ignored(error.to_string())),
    };
    let last = match offered.last_check_in_at {
        Some(at) if at < started || at > when.at + CLOCK_SLACK => {
            return Ok(Outcome::Ignored(
                "its last check-in time is not possible".into(),
            ))
        }
        other => other,
    };
    let base = last.unwrap_or(started);
    let next_due = match checked.interval_minutes {
        Some(minutes) => (base + Duration::minutes(minutes.into())).min(checked.ends_at),
        None => checked.ends_at,
    };
    tx.execute(
        "INSERT INTO checkin_session (kind, mode, title, participants, people_key, place, notes, escalation,
             started_at, ends_at, interval_min, reminder_lead_min, grace_min, next_due_at,
             last_check_in_at, team_room, team_session, origin, owner, chat_members)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, ?14, ?15, ?16, 'team', ?17, ?18)",
        params![
            enum_text(&checked.kind), enum_text(&Mode::Watching), checked.title,
            to_json(&checked.participants),
            format!("team\u{1f}{}\u{1f}{}", offered.uuid, checked.people_key),
            checked.place, checked.notes, to_json(&checked.escalation), to_millis(started),
            to_millis(checked.ends_at), checked.interval_minutes, checked.grace_minutes,
            to_millis(next_due), last.map(to_millis), offered.room, offered.uuid, user_id,
            to_json(&offered.chat_members),
        ],
    )?;
    change::event(
        tx,
        sink,
        &Recorded {
            session_id: tx.last_insert_rowid(),
            kind: "started",
            at: started,
            actor: owner,
            due_at: None,
            minutes: None,
        },
    )?;
    Ok(Outcome::Applied)
}

/// This device left the team in `room` (or every team, with `None`): the sessions it tracked
/// for it end here, and its own stop being shared.
pub fn team_left(
    conn: &Connection,
    room: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let ended: Vec<i64> = conn
        .prepare(
            "SELECT id FROM checkin_session
             WHERE origin = 'team' AND ended_at IS NULL AND (?1 IS NULL OR team_room = ?1)",
        )?
        .query_map([room], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ended {
        conn.execute(
            "UPDATE checkin_session SET ended_at = ?2 WHERE id = ?1",
            params![id, to_millis(now)],
        )?;
        conn.execute(
            "INSERT INTO checkin_event (session_id, at, kind, by_whom, detail)
             VALUES (?1, ?2, 'team_left', 'app', '')",
            params![id, to_millis(now)],
        )?;
    }
    conn.execute(
        "UPDATE checkin_session SET team_room = NULL
         WHERE origin = 'local' AND (?1 IS NULL OR team_room = ?1)",
        [room],
    )?;
    Ok(())
}
