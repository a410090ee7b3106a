//! What to send, and when to look again, decided from the due times stored in SQLite and
//! the clock it is given: never from timers in memory, which stop during suspend.
//!
//! Each alert is recorded against the due time it was for, in the same transaction that
//! decides it, so a restart, a suspend or the clock going backwards never sends one twice;
//! after a long gap each session gets one consolidated "missed since" alert, not a burst.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::Mode;
use crate::time::{format_local, from_millis, to_millis};

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

fn active_rows(conn: &Connection) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, title, participants, mode, next_due_at, reminder_lead_min, grace_min, reminded_for,
                snoozed_until, missed_for, last_alert_at, acknowledged_at, last_check_in_at, origin
         FROM checkin_session WHERE ended_at IS NULL AND {FOLLOWED}"
    ))?;
    let rows = stmt.query_map([], |r| {
        let due: i64 = r.get(4)?;
        let mode: String = r.get(3)?;
        Ok(Row {
            id: r.get(0)?,
            title: r.get(1)?,
            participants: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
            mode: if mode == "watching" {
                Mode::Watching
            } else {
                Mode::Me
            },
            due,
            reminder_at: due - r.get::<_, i64>(5)? * MINUTE_MS,
            missed_at: due + r.get::<_, i64>(6)? * MINUTE_MS,
            reminded_for: r.get(7)?,
            snoozed_until: r.get(8)?,
            missed_for: r.get(9)?,
            last_alert_at: r.get(10)?,
            acknowledged: r.get::<_, Option<i64>>(11)?.is_some(),
            last_check_in: r.get(12)?,
            mirrored: r.get::<_, String>(13)? == "team",
        })
    })?;
    rows.collect()
}

impl Row {
    /// The next moment this session needs looking at, if any.
    fn next_wake(&self, now: i64) -> Option<i64> {
        if self.missed_for == Some(self.due) {
            return (!self.acknowledged)
                .then(|| self.last_alert_at.unwrap_or(now) + MISSED_REPEAT_MINUTES * MINUTE_MS);
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
}

/// Decides and records what is due at `now`. The caller sends the alerts.
pub fn evaluate(conn: &mut Connection, now: DateTime<Utc>) -> rusqlite::Result<Vec<Alert>> {
    let now_ms = to_millis(now);
    let tx = conn.transaction()?;
    let mut alerts = Vec::new();
    for row in active_rows(&tx)? {
        let alert = |kind| Alert {
            session_id: row.id,
            title: row.title.clone(),
            participants: row.participants.clone(),
            mode: row.mode,
            kind,
        };
        let at = |ms: i64| from_millis(ms).unwrap_or_default();
        if now_ms >= row.missed_at {
            if row.missed_for != Some(row.due) {
                tx.execute(
                    "UPDATE checkin_session SET missed_for = ?2, last_alert_at = ?3, snoozed_until = NULL WHERE id = ?1",
                    params![row.id, row.due, now_ms],
                )?;
                record(
                    &tx,
                    row.id,
                    now_ms,
                    "missed",
                    &format!("due {}", format_local(at(row.due))),
                )?;
                alerts.push(alert(AlertKind::Missed {
                    since: at(row.due),
                    last_check_in: row.last_check_in.map(at),
                    repeat: false,
                }));
            } else if !row.acknowledged
                && row
                    .last_alert_at
                    .is_none_or(|last| now_ms - last >= MISSED_REPEAT_MINUTES * MINUTE_MS)
            {
                tx.execute(
                    "UPDATE checkin_session SET last_alert_at = ?2 WHERE id = ?1",
                    params![row.id, now_ms],
                )?;
                record(&tx, row.id, now_ms, "missed_alert_repeated", "")?;
                alerts.push(alert(AlertKind::Missed {
                    since: at(row.due),
                    last_check_in: row.last_check_in.map(at),
                    repeat: true,
                }));
            }
        } else if !row.mirrored && row.reminded_for != Some(row.due) && now_ms >= row.reminder_at {
            tx.execute(
                "UPDATE checkin_session SET reminded_for = ?2 WHERE id = ?1",
                params![row.id, row.due],
            )?;
            record(&tx, row.id, now_ms, "reminder_sent", "")?;
            alerts.push(alert(AlertKind::Reminder {
                due_at: at(row.due),
            }));
        } else if row.snoozed_until.is_some_and(|until| now_ms >= until) {
            tx.execute(
                "UPDATE checkin_session SET snoozed_until = NULL WHERE id = ?1",
                params![row.id],
            )?;
            record(&tx, row.id, now_ms, "reminder_sent", "after snooze")?;
            alerts.push(alert(AlertKind::Reminder {
                due_at: at(row.due),
            }));
        }
    }
    tx.commit()?;
    Ok(alerts)
}

fn record(
    conn: &Connection,
    session: i64,
    at: i64,
    kind: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO checkin_event (session_id, at, kind, by_whom, detail) VALUES (?1, ?2, ?3, 'scheduler', ?4)",
        params![session, at, kind, detail],
    )?;
    let at = from_millis(at).unwrap_or_default();
    crate::relay::outbox::after_event(conn, session, kind, at, "scheduler")
}

/// When the scheduler next needs to look, or `None` when nothing is scheduled (then it
/// sleeps until a session changes, with no periodic wake-ups).
pub fn next_wake(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let now_ms = to_millis(now);
    Ok(active_rows(conn)?
        .iter()
        .filter_map(|row| row.next_wake(now_ms))
        .min()
        .and_then(from_millis))
}

/// Action keys on alarms and their notices; the alarm hub maps them back to check-ins.
pub const ACTION_CHECK_IN: &str = "check-in";
pub const ACTION_SNOOZE: &str = "snooze-5";
pub const ACTION_ACKNOWLEDGE: &str = "acknowledge";
