//! What to send, and when to look again, decided from the due times stored in SQLite and
//! the clock it is given: never from timers in memory, which stop during suspend.
//!
//! Each alert is recorded against the due time it was for, in the same transaction that
//! decides it, so a restart, a suspend or the clock going backwards never sends one twice;
//! after a long gap each session gets one consolidated "missed since" alert, not a burst.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::change::{self, Actor, Outcome, SessionChange, SessionSink, When};
use super::{CheckinError, Mode};
use crate::storage::StorageError;
use crate::time::{from_millis, to_millis};

/// A missed alert repeats this often until someone acknowledges it.
pub const MISSED_REPEAT_MINUTES: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertKind {
    /// A check-in is coming up (or a snoozed reminder is back).
    Reminder { due_at: DateTime<Utc> },
    /// A check-in was missed; `repeat` is false the first time.
    Missed {
        since: DateTime<Utc>,
        last_check_in: Option<DateTime<Utc>>,
        repeat: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub session_id: i64,
    pub title: String,
    pub participants: Vec<String>,
    pub mode: Mode,
    pub kind: AlertKind,
}

struct Row {
    id: i64,
    title: String,
    participants: Vec<String>,
    mode: Mode,
    due: i64,
    reminder_at: i64,
    missed_at: i64,
    reminded_for: Option<i64>,
    snoozed_until: Option<i64>,
    missed_for: Option<i64>,
    last_alert_at: Option<i64>,
    acknowledged: bool,
    last_check_in: Option<i64>,
    /// Another device's session, tracked for its team: this device raises its missed
    /// alarm, but its reminders are for the people out, from the device that started it.
    mirrored: bool,
}

const MINUTE_MS: i64 = 60_000;

/// Sessions this device follows: its own, and those tracked for a team it is in. A session
/// tracked for a team that is not set up here (restored from a backup, which does not carry
/// team membership) waits until the team is joined again, which brings it up to date.
pub const FOLLOWED: &str = "(origin = 'local' OR team_room IN (SELECT room_id FROM team))";

/// The moments a session's times lead to, if they can be worked out: a row written outside
/// the app with impossible numbers is skipped (and said in the log), never a panic.
fn moments(
    due: i64,
    lead_min: i64,
    interval_min: Option<i64>,
    grace_min: i64,
) -> Option<(i64, i64)> {
    let reminder_at = reminder_moment(due, lead_min, interval_min)?;
    let missed_at = due.checked_add(grace_min.checked_mul(MINUTE_MS)?)?;
    from_millis(reminder_at)?;
    from_millis(missed_at)?;
    Some((reminder_at, missed_at))
}

/// When the reminder for a check-in due at `due` comes: `lead_min` before it, but never more
/// than half the interval, so checking in every 5 minutes with "5 minutes before" does not
/// bring a reminder at the moment of checking in.
pub(crate) fn reminder_moment(due: i64, lead_min: i64, interval_min: Option<i64>) -> Option<i64> {
    let mut lead = lead_min.checked_mul(MINUTE_MS)?;
    if let Some(interval) = interval_min.filter(|minutes| *minutes > 0) {
        lead = lead.min(interval.checked_mul(MINUTE_MS)? / 2);
    }
    due.checked_sub(lead)
}

fn active_rows(conn: &Connection) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, title, participants, mode, next_due_at, reminder_lead_min, grace_min, reminded_for,
                snoozed_until, missed_for, last_alert_at, acknowledged_at, last_check_in_at, origin,
                interval_min
         FROM checkin_session WHERE ended_at IS NULL AND {FOLLOWED}"
    ))?;
    let rows = stmt.query_map([], |r| {
        let (id, due): (i64, i64) = (r.get(0)?, r.get(4)?);
        let Some((reminder_at, missed_at)) = moments(due, r.get(5)?, r.get(14)?, r.get(6)?) else {
            tracing::warn!(
                session = id,
                "a session's times cannot be worked out; it was skipped"
            );
            return Ok(None);
        };
        let mode: String = r.get(3)?;
        Ok(Some(Row {
            id,
            title: r.get(1)?,
            participants: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
            mode: if mode == "watching" {
                Mode::Watching
            } else {
                Mode::Me
            },
            due,
            reminder_at,
            missed_at,
            reminded_for: r.get(7)?,
            snoozed_until: r.get(8)?,
            missed_for: r.get(9)?,
            last_alert_at: r.get(10)?,
            acknowledged: r.get::<_, Option<i64>>(11)?.is_some(),
            last_check_in: r.get(12)?,
            mirrored: r.get::<_, String>(13)? == "team",
        }))
    })?;
    rows.filter_map(Result::transpose).collect()
}

impl Row {
    /// The next moment this session needs looking at, if any.
    fn next_wake(&self, now: i64) -> Option<i64> {
        if self.missed_for == Some(self.due) {
            return (!self.acknowledged).then(|| {
                self.last_alert_at
                    .unwrap_or(now)
                    .saturating_add(MISSED_REPEAT_MINUTES * MINUTE_MS)
            });
        }
        let reminder = if self.mirrored {
            None
        } else if self.reminded_for != Some(self.due) {
            Some(self.reminder_at)
        } else {
            self.snoozed_until
        };
        Some(reminder.map_or(self.missed_at, |at| at.min(self.missed_at)))
    }

    /// What is due for this session at `now`, as the scheduler's change.
    fn due_now(&self, now: i64) -> Option<(SessionChange, AlertKind)> {
        let at = |ms: i64| from_millis(ms).unwrap_or_default();
        if now >= self.missed_at {
            let missed = |repeat| AlertKind::Missed {
                since: at(self.due),
                last_check_in: self.last_check_in.map(at),
                repeat,
            };
            if self.missed_for != Some(self.due) {
                return Some((SessionChange::Miss { due: self.due }, missed(false)));
            }
            let repeat_due = self
                .last_alert_at
                .is_none_or(|last| now.saturating_sub(last) >= MISSED_REPEAT_MINUTES * MINUTE_MS);
            if !self.acknowledged && repeat_due {
                return Some((SessionChange::RepeatMissed { due: self.due }, missed(true)));
            }
            return None;
        }
        let reminder = AlertKind::Reminder {
            due_at: at(self.due),
        };
        if !self.mirrored && self.reminded_for != Some(self.due) && now >= self.reminder_at {
            return Some((
                SessionChange::Remind {
                    due: self.due,
                    after_snooze: false,
                },
                reminder,
            ));
        }
        if self.snoozed_until.is_some_and(|until| now >= until) {
            return Some((
                SessionChange::Remind {
                    due: self.due,
                    after_snooze: true,
                },
                reminder,
            ));
        }
        None
    }
}

/// Decides and records what is due at `now`, each through the one way sessions change. The
/// caller sends the alerts.
pub fn evaluate(
    conn: &mut Connection,
    now: DateTime<Utc>,
    sink: &dyn SessionSink,
) -> rusqlite::Result<Vec<Alert>> {
    evaluate_holding(conn, now, sink, false)
}

/// As [`evaluate`]; with `hold_tracked`, sessions tracked for a team are left alone for now
/// (the relay is reading the room after a start).
pub fn evaluate_holding(
    conn: &mut Connection,
    now: DateTime<Utc>,
    sink: &dyn SessionSink,
    hold_tracked: bool,
) -> rusqlite::Result<Vec<Alert>> {
    let now_ms = to_millis(now);
    let tx = conn.transaction()?;
    let mut alerts = Vec::new();
    for row in active_rows(&tx)? {
        if hold_tracked && row.mirrored {
            continue;
        }
        let Some((change, kind)) = row.due_now(now_ms) else {
            continue;
        };
        match change::apply(
            &tx,
            row.id,
            &change,
            &Actor::Scheduler,
            When::now(now),
            "",
            sink,
        ) {
            Ok(Outcome::Applied) => alerts.push(Alert {
                session_id: row.id,
                title: row.title.clone(),
                participants: row.participants.clone(),
                mode: row.mode,
                kind,
            }),
            Ok(_) => {}
            Err(CheckinError::Storage(StorageError::Sqlite(error))) => return Err(error),
            Err(error) => tracing::warn!(
                session = row.id,
                "the scheduler's change was not made: {error}"
            ),
        }
    }
    tx.commit()?;
    Ok(alerts)
}

/// When the scheduler next needs to look, or `None` when nothing is scheduled (then it
/// sleeps until a session changes, with no periodic wake-ups).
pub fn next_wake(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    next_wake_holding(conn, now, false)
}

/// As [`next_wake`], leaving out sessions tracked for a team while they are held (the
/// caller wakes when the hold ends).
pub fn next_wake_holding(
    conn: &Connection,
    now: DateTime<Utc>,
    hold_tracked: bool,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let now_ms = to_millis(now);
    Ok(active_rows(conn)?
        .iter()
        .filter(|row| !(hold_tracked && row.mirrored))
        .filter_map(|row| row.next_wake(now_ms))
        .min()
        .and_then(from_millis))
}

/// Action keys on alarms and their notices; the alarm hub maps them back to check-ins.
pub const ACTION_CHECK_IN: &str = "check-in";
pub const ACTION_SNOOZE: &str = "snooze-5";
pub const ACTION_ACKNOWLEDGE: &str = "acknowledge";
