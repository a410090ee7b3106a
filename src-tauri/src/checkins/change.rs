//! Every change to a check-in session goes through [`apply`], whoever makes it: a press in
//! the window or on a notification, the scheduler, or a member of the team room (the sender
//! as the server authenticated it). One set of rules decides; a refusal is a refusal,
//! whichever way the change came.
//!
//! Who may say what, for a session shared with a team:
//! - the user who started it (any of their devices) may check in, snooze, extend or end it;
//! - its chat members (and that user) may check in by chat or raise HELP;
//! - any member may acknowledge ("I'm dealing with it");
//! - a "missed" from anyone is news: each device decides by its own clock.
//!
//! Times from the room are checked: a change dated more than a few minutes ahead of this
//! device's clock, or before the session started, is refused. Due times are worked out here
//! from the rules, never taken from a post.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::rules::{permitted, plausible};
use super::{CheckinError, EXTEND_MINUTES, SNOOZE_MINUTES};
use crate::time::{from_millis, to_millis};

/// How far ahead of this device's clock a change from the room may be dated.
pub const CLOCK_SLACK: Duration = Duration::minutes(5);
/// Refusals kept per session and sender: a member who sends many is noted once.
const IGNORED_NOTES_PER_SENDER: i64 = 20;

/// How a person made the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    App,
    Notification,
    Chat,
}

impl Via {
    /// As the timeline keeps it.
    pub fn key(self) -> &'static str {
        match self {
            Via::App => "app",
            Via::Notification => "notification",
            Via::Chat => "chat",
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Someone at this device, in the window or on a desktop notification.
    Here(Via),
    /// This device's scheduler.
    Scheduler,
    /// A member of the team room: their Matrix id as the server authenticated it, the name
    /// the room shows for them, and whether they used the app or chat.
    Member {
        user_id: String,
        name: String,
        via: Via,
    },
}

impl Actor {
    pub fn here() -> Self {
        Actor::Here(Via::App)
    }

    /// What the timeline keeps: who (a Matrix id for a member), their name, and how.
    fn stored(&self) -> (String, Option<String>, Option<Via>) {
        match self {
            Actor::Here(via) => (
                match via {
                    Via::Notification => "notification".into(),
                    _ => "app".into(),
                },
                None,
                Some(*via),
            ),
            Actor::Scheduler => ("scheduler".into(), None, None),
            Actor::Member { user_id, name, via } => {
                (user_id.clone(), Some(name.clone()), Some(*via))
            }
        }
    }
}

/// What can happen to a session that is running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    /// "I'm OK", at the time it was said.
    CheckIn {
        at: DateTime<Utc>,
    },
    /// "Remind me again in 5 minutes".
    Snooze,
    Extend {
        minutes: u32,
    },
    /// "I'm dealing with it", for a missed check-in or a call for help.
    Acknowledge,
    /// A participant asked for help, at `asked_at` by the asker's post (`None`: unknown).
    Help {
        asked_at: Option<DateTime<Utc>>,
    },
    /// "Home safe": nothing more is due.
    End,
    /// Someone out on it signalled duress (the team's duress word in a chat check-in, or the
    /// duress PIN on their device): a silent alarm on every other device of the team.
    Duress {
        how: DuressHow,
    },
    /// "I'm dealing with it", for a duress alarm: said only to the team's app devices.
    AcknowledgeDuress,
    /// A welfare check: "check in now". The next check-in falls due a grace period from now
    /// (never later than it already was), and a reminder goes to the people out on it.
    AskCheckIn,
    /// The scheduler reminded for `due` (again, after a snooze).
    Remind {
        due: i64,
        after_snooze: bool,
    },
    /// The scheduler found the check-in due at `due` missed.
    Miss {
        due: i64,
    },
    /// The scheduler sounded the missed alarm again.
    RepeatMissed {
        due: i64,
    },
    /// Another device told the room the check-in due at `due` was missed: news only.
    MissReported {
        due: i64,
    },
}

/// How duress was signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuressHow {
    Word,
    Pin,
}

impl DuressHow {
    pub fn key(self) -> &'static str {
        match self {
            DuressHow::Word => "word",
            DuressHow::Pin => "pin",
        }
    }
}

/// What was recorded, as the sink and the timeline see it.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    pub session_id: i64,
    /// The timeline's kind: "checked_in", "missed", "ignored", …
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub actor: &'a Actor,
    /// The due time a reminder, a missed check-in or an acknowledgement was about.
    pub due_at: Option<i64>,
    pub minutes: Option<u32>,
}

/// Told of every change inside the transaction that makes it, so that a post to the team
/// and the change are saved together, or neither is. The team relay is one.
pub trait SessionSink: Send + Sync {
    fn recorded(&self, tx: &Connection, change: &Recorded) -> rusqlite::Result<()>;
}

/// A sink for a device with no team: nothing to tell.
pub struct NoSink;

impl SessionSink for NoSink {
    fn recorded(&self, _: &Connection, _: &Recorded) -> rusqlite::Result<()> {
        Ok(())
    }
}

/// What became of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Already so (seen twice, or older than what is known): nothing to do.
    Unchanged,
    /// Refused: the reason, as the session page says it.
    Ignored(String),
}

/// The stored facts the rules need.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub id: i64,
    pub interval_min: Option<i64>,
    pub grace_min: i64,
    pub reminder_lead_min: i64,
    pub started_at: i64,
    pub ends_at: i64,
    pub next_due_at: i64,
    pub last_check_in_at: Option<i64>,
    pub missed_for: Option<i64>,
    pub acknowledged: bool,
    pub help: bool,
    /// A duress alarm is up (not yet acknowledged).
    pub duress: bool,
    pub ended: bool,
    /// Started on another device and tracked here.
    pub tracked: bool,
    /// Who started it (Matrix id), for a shared session.
    pub owner: String,
    pub chat_members: Vec<String>,
}

pub(crate) fn facts(conn: &Connection, id: i64) -> rusqlite::Result<Option<Facts>> {
    conn.query_row(
        "SELECT id, title, interval_min, grace_min, started_at, ends_at, next_due_at,
                last_check_in_at, reminded_for, snoozed_until, missed_for, acknowledged_at,
                help_at, ended_at, origin, owner, chat_members, team_room, reminder_lead_min,
                duress_at IS NOT NULL AND duress_acknowledged_at IS NULL
         FROM checkin_session WHERE id = ?1",
        [id],
        |r| {
            Ok(Facts {
                id: r.get(0)?,
                interval_min: r.get(2)?,
                grace_min: r.get(3)?,
                reminder_lead_min: r.get(18)?,
                started_at: r.get(4)?,
                ends_at: r.get(5)?,
                next_due_at: r.get(6)?,
                last_check_in_at: r.get(7)?,
                missed_for: r.get(10)?,
                acknowledged: r.get::<_, Option<i64>>(11)?.is_some(),
                help: r.get::<_, Option<i64>>(12)?.is_some(),
                duress: r.get(19)?,
                ended: r.get::<_, Option<i64>>(13)?.is_some(),
                tracked: r.get::<_, String>(14)? == "team",
                owner: r.get(15)?,
                chat_members: serde_json::from_str(&r.get::<_, String>(16)?).unwrap_or_default(),
            })
        },
    )
    .optional()
}

/// "@sam:example.org" as people say it and pages name them: "sam".
pub fn short_name(user_id: &str) -> String {
    user_id
        .trim_start_matches('@')
        .split(':')
        .next()
        .unwrap_or(user_id)
        .to_owned()
}

fn minutes(count: i64) -> Option<i64> {
    count.checked_mul(60_000)
}

/// When a change happened, and this device's clock. A change made here happens now; one
/// from the room happened when the server received it, which every device sees the same, so
/// every device works out the same due times from it.
#[derive(Debug, Clone, Copy)]
pub struct When {
    pub at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

impl When {
    pub fn now(now: DateTime<Utc>) -> Self {
        Self { at: now, now }
    }
}

/// Applies `change` by `actor` to session `id`, in the caller's transaction. `me` is this
/// device's Matrix user, if signed in.
pub fn apply(
    tx: &Connection,
    id: i64,
    change: &SessionChange,
    actor: &Actor,
    when: When,
    me: &str,
    sink: &dyn SessionSink,
) -> Result<Outcome, CheckinError> {
    let (now, at_time) = (when.now, when.at.min(when.now + CLOCK_SLACK));
    let facts = facts(tx, id)?.ok_or(CheckinError::UnknownSession(id))?;
    let remote = matches!(actor, Actor::Member { .. });
    let refuse = |why: String| -> Result<Outcome, CheckinError> {
        if remote {
            note_ignored(tx, &facts, actor, &why, now)?;
            Ok(Outcome::Ignored(why))
        } else {
            Err(CheckinError::NotYours(why))
        }
    };
    if facts.ended {
        return if remote {
            Ok(Outcome::Unchanged)
        } else {
            Err(CheckinError::Ended)
        };
    }
    if let Err(why) = permitted(&facts, change, actor, me) {
        return refuse(why);
    }
    let record =
        |kind: &'static str, at: DateTime<Utc>, due_at: Option<i64>, minutes: Option<u32>| {
            event(
                tx,
                sink,
                &Recorded {
                    session_id: id,
                    kind,
                    at,
                    actor,
                    due_at,
                    minutes,
                },
            )
        };
    let now_ms = to_millis(at_time);
    match change {
        SessionChange::CheckIn { at } => {
            let at = if remote { *at } else { at_time };
            if remote {
                if let Err(why) = plausible(at, &facts, now) {
                    return refuse(why);
                }
                // An older check-in than the last known changes nothing.
                if facts
                    .last_check_in_at
                    .is_some_and(|last| to_millis(at) <= last)
                {
                    return Ok(Outcome::Unchanged);
                }
            }
            let next_due = next_due_after_check_in(&facts, at).ok_or(CheckinError::Arithmetic)?;
            reschedule(tx, &facts, next_due, facts.ends_at, to_millis(now))?;
            tx.execute(
                "UPDATE checkin_session SET last_check_in_at = ?2 WHERE id = ?1",
                params![id, to_millis(at)],
            )?;
            record("checked_in", at, None, None)?;
        }
        SessionChange::Extend { minutes: by } => {
            if !EXTEND_MINUTES.contains(by) {
                return if remote {
                    refuse("it asked for an extension the app does not offer".into())
                } else {
                    Err(CheckinError::Extend)
                };
            }
            let by_ms = minutes(i64::from(*by)).ok_or(CheckinError::Arithmetic)?;
            let next_due = facts.next_due_at.max(now_ms).checked_add(by_ms);
            let ends = facts.ends_at.max(now_ms).checked_add(by_ms);
            let (Some(next_due), Some(ends)) = (next_due, ends) else {
                return Err(CheckinError::Arithmetic);
            };
            reschedule(tx, &facts, next_due, ends, to_millis(now))?;
            record("extended", at_time, None, Some(*by))?;
        }
        SessionChange::Snooze => {
            let until = now_ms
                .checked_add(minutes(SNOOZE_MINUTES).ok_or(CheckinError::Arithmetic)?)
                .ok_or(CheckinError::Arithmetic)?;
            tx.execute(
                "UPDATE checkin_session SET snoozed_until = ?2 WHERE id = ?1",
                params![id, until],
            )?;
            record("snoozed", at_time, Some(facts.next_due_at), None)?;
        }
        SessionChange::Acknowledge => {
            let alarm_open = facts.help || facts.missed_for == Some(facts.next_due_at);
            if remote && (facts.acknowledged || !alarm_open) {
                return Ok(Outcome::Unchanged);
            }
            tx.execute(
                "UPDATE checkin_session SET acknowledged_at = ?2 WHERE id = ?1",
                params![id, now_ms],
            )?;
            record("acknowledged", at_time, facts.missed_for, None)?;
        }
        SessionChange::Help { asked_at } => {
            // One call for help comes twice: from the chat, and as the owner's device's post
            // of it, which (through a second server) can come after it was dealt with. Every
            // copy carries the call's own time, as the server stamped it (at most CLOCK_SLACK
            // ahead of this device's clock), so a copy is known by that time exactly. A call
            // asked before one already heard here is old news, not a new one: "before" by
            // when it was heard, never by a stamp ahead of this device's clock, so a call
            // stamped minutes ahead (a server's clock, or a lie) hides no real call made in
            // those minutes. Nor is a call dated before the session began: a post cannot put
            // one in 1900 on the timeline.
            let started = from_millis(facts.started_at).unwrap_or(at_time);
            let asked = asked_at
                .map_or(at_time, |asked| asked.min(now + CLOCK_SLACK))
                .max(started);
            let heard_by = asked.min(now);
            let (a_copy, latest_heard): (bool, Option<i64>) = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM checkin_event
                                WHERE session_id = ?1 AND kind = 'help' AND at = ?2),
                        (SELECT max(CASE WHEN detail GLOB '[0-9]*' THEN CAST(detail AS INTEGER)
                                         ELSE at END)
                         FROM checkin_event WHERE session_id = ?1 AND kind = 'help')",
                params![id, to_millis(asked)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            // An alarm still up is not raised twice; one already dealt with is raised again
            // by a new call (things may have got worse since "I'm dealing with it").
            let help_up = facts.help && !facts.acknowledged;
            let old_news = latest_heard.is_some_and(|heard| to_millis(asked) <= heard);
            if help_up || a_copy || old_news {
                return Ok(Outcome::Unchanged);
            }
            tx.execute(
                "UPDATE checkin_session SET help_at = ?2, acknowledged_at = NULL WHERE id = ?1",
                params![id, now_ms],
            )?;
            let call = Recorded {
                session_id: id,
                kind: "help",
                at: asked,
                actor,
                due_at: None,
                minutes: None,
            };
            insert_event(tx, &call, &to_millis(heard_by).to_string())?;
            sink.recorded(tx, &call)?;
        }
        SessionChange::Duress { how } => {
            let Actor::Member { user_id, name, .. } = actor else {
                return Ok(Outcome::Unchanged);
            };
            // The sender's own devices stay silent: never a sign of it near them.
            if user_id == me || facts.duress {
                return Ok(Outcome::Unchanged);
            }
            tx.execute(
                "UPDATE checkin_session SET duress_at = ?2, duress_by = ?3, duress_by_name = ?4,
                     duress_how = ?5, duress_acknowledged_at = NULL
                 WHERE id = ?1",
                params![id, now_ms, user_id, name, how.key()],
            )?;
            record("duress", at_time, None, None)?;
        }
        SessionChange::AcknowledgeDuress => {
            if !facts.duress {
                return if remote {
                    Ok(Outcome::Unchanged)
                } else {
                    Err(CheckinError::NotYours(
                        "no duress alarm is up for it".into(),
                    ))
                };
            }
            tx.execute(
                "UPDATE checkin_session SET duress_acknowledged_at = ?2 WHERE id = ?1",
                params![id, now_ms],
            )?;
            record("duress_acknowledged", at_time, None, None)?;
        }
        SessionChange::AskCheckIn => {
            if remote {
                if let Err(why) = plausible(at_time, &facts, now) {
                    return refuse(why);
                }
            }
            let by = now_ms
                .checked_add(minutes(facts.grace_min).ok_or(CheckinError::Arithmetic)?)
                .ok_or(CheckinError::Arithmetic)?;
            // Asked while a check-in is already overdue, the alarm stands as it is.
            let due = facts.next_due_at.min(by);
            if due < facts.next_due_at {
                reschedule(tx, &facts, due, facts.ends_at.max(due), to_millis(now))?;
                // The ask is the reminder: it shows at once, and no second one follows.
                tx.execute(
                    "UPDATE checkin_session SET reminded_for = ?2 WHERE id = ?1",
                    params![id, due],
                )?;
            }
            record("asked", at_time, Some(due), None)?;
        }
        SessionChange::End => {
            tx.execute(
                "UPDATE checkin_session SET ended_at = ?2 WHERE id = ?1",
                params![id, now_ms],
            )?;
            record("ended_safe", at_time, None, None)?;
        }
        SessionChange::Remind { due, after_snooze } => {
            if *after_snooze {
                tx.execute(
                    "UPDATE checkin_session SET snoozed_until = NULL WHERE id = ?1",
                    [id],
                )?;
            } else {
                tx.execute(
                    "UPDATE checkin_session SET reminded_for = ?2 WHERE id = ?1",
                    params![id, due],
                )?;
            }
            record("reminder_sent", at_time, Some(*due), None)?;
        }
        SessionChange::Miss { due } => {
            if facts.missed_for == Some(*due) {
                return Ok(Outcome::Unchanged);
            }
            // A new miss is not dealt with, even when a call for help before it was: that
            // one stays dealt with (its time goes; the timeline keeps it), this one alarms.
            tx.execute(
                "UPDATE checkin_session SET missed_for = ?2, last_alert_at = ?3, snoozed_until = NULL,
                     help_at = CASE WHEN acknowledged_at IS NULL THEN help_at END,
                     acknowledged_at = NULL
                 WHERE id = ?1",
                params![id, due, now_ms],
            )?;
            record("missed", at_time, Some(*due), None)?;
        }
        SessionChange::RepeatMissed { due } => {
            tx.execute(
                "UPDATE checkin_session SET last_alert_at = ?2 WHERE id = ?1",
                params![id, now_ms],
            )?;
            record("missed_alert_repeated", at_time, Some(*due), None)?;
        }
        SessionChange::MissReported { due } => {
            // News: noted once per due time; this device's own clock raises the alarm.
            let noted: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM checkin_event WHERE session_id = ?1
                     AND kind = 'missed_reported' AND detail = ?2)",
                params![id, due.to_string()],
                |r| r.get(0),
            )?;
            if noted || *due != facts.next_due_at {
                return Ok(Outcome::Unchanged);
            }
            record("missed_reported", at_time, Some(*due), None)?;
        }
    }
    Ok(Outcome::Applied)
}

/// The next due time after a check-in at `at`: one interval on, or with no interval the
/// arrival time but at least 15 minutes away. `None` if it cannot be worked out.
pub(crate) fn next_due_after_check_in(facts: &Facts, at: DateTime<Utc>) -> Option<i64> {
    let at_ms = to_millis(at);
    match facts.interval_min {
        Some(interval) => at_ms.checked_add(minutes(interval)?),
        None => Some(facts.ends_at.max(at_ms.checked_add(minutes(15)?)?)),
    }
}

/// Sets the next due time (and the end) and clears every alert raised for the old one. A
/// reminder whose moment has already passed (a late check-in from the room) is not sent.
fn reschedule(
    conn: &Connection,
    facts: &Facts,
    next_due: i64,
    ends_at: i64,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let reminder =
        super::scheduler::reminder_moment(next_due, facts.reminder_lead_min, facts.interval_min);
    let reminded_for = reminder.is_none_or(|at| at <= now_ms).then_some(next_due);
    conn.execute(
        "UPDATE checkin_session SET next_due_at = ?2, ends_at = ?3, reminded_for = ?4,
             snoozed_until = NULL, missed_for = NULL, last_alert_at = NULL,
             acknowledged_at = NULL, help_at = NULL
         WHERE id = ?1",
        params![facts.id, next_due, ends_at, reminded_for],
    )?;
    Ok(())
}

/// Appends to the session's timeline and tells the sink, in the same transaction.
pub(crate) fn event(
    tx: &Connection,
    sink: &dyn SessionSink,
    recorded: &Recorded,
) -> rusqlite::Result<()> {
    let detail = match (recorded.kind, recorded.due_at, recorded.minutes) {
        (_, _, Some(minutes)) => format!("{minutes}"),
        (
            "missed" | "missed_reported" | "reminder_sent" | "missed_alert_repeated" | "asked",
            Some(due),
            _,
        ) => due.to_string(),
        _ => String::new(),
    };
    insert_event(tx, recorded, &detail)?;
    sink.recorded(tx, recorded)
}

/// The timeline's row for a change; `detail`: what else it keeps (a due time, minutes, or
/// for a call for help when this device heard it).
fn insert_event(tx: &Connection, recorded: &Recorded, detail: &str) -> rusqlite::Result<()> {
    let (by, name, via) = recorded.actor.stored();
    tx.execute(
        "INSERT INTO checkin_event (session_id, at, kind, by_whom, detail, by_name, via)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            recorded.session_id,
            to_millis(recorded.at),
            recorded.kind,
            by,
            detail,
            name,
            via.map(Via::key)
        ],
    )?;
    Ok(())
}

/// A refused change from the room, on the session's page: kept once per sender and reason,
/// and at most a few per sender, so that a member who sends many cannot flood it.
fn note_ignored(
    tx: &Connection,
    facts: &Facts,
    actor: &Actor,
    why: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let (by, name, via) = actor.stored();
    let (same, from_them): (bool, i64) = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM checkin_event WHERE session_id = ?1 AND kind = 'ignored'
                 AND by_whom = ?2 AND detail = ?3),
                (SELECT count(*) FROM checkin_event WHERE session_id = ?1 AND kind = 'ignored'
                 AND by_whom = ?2)",
        params![facts.id, by, why],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if same || from_them >= IGNORED_NOTES_PER_SENDER {
        return Ok(());
    }
    tracing::warn!(
        session = facts.id,
        "a change from the team room was ignored: {why}"
    );
    tx.execute(
        "INSERT INTO checkin_event (session_id, at, kind, by_whom, detail, by_name, via)
         VALUES (?1, ?2, 'ignored', ?3, ?4, ?5, ?6)",
        params![facts.id, to_millis(now), by, why, name, via.map(Via::key)],
    )?;
    Ok(())
}
