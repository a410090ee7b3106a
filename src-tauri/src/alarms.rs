//! The open alarms: one set, kept in one place, that the banner, the session cards, the
//! session page and the desktop notifications all show.
//!
//! The set is read from the stored sessions, never kept on the side: a session whose
//! reminder has been sent for its current due time (and not snoozed) has a reminder alarm;
//! one whose missed alert has been raised and not acknowledged has a missed alarm. Every way
//! of resolving one (a check-in from anywhere, extend, end, acknowledge) moves the stored
//! due time or marks it, so the alarm is gone for everyone at once, and a restart shows
//! exactly what was open before it.

pub mod hub;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;

use crate::bidi::isolated;
use crate::checkins::scheduler::{ACTION_ACKNOWLEDGE, ACTION_CHECK_IN, ACTION_SNOOZE, FOLLOWED};
use crate::checkins::Mode;
use crate::locations::LastLocation;
use crate::notify::{Notice, NoticeAction, Urgency};
use crate::time::{format_local, from_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AlarmKind {
    /// Someone out signalled duress (the team's duress word, or the duress PIN): a silent
    /// alarm, never shown on the devices of the person who signalled it.
    Duress,
    /// Someone out asked for help (from the team room).
    Help,
    /// A check-in is due soon.
    Reminder,
    /// A check-in was missed and nobody has said they are dealing with it.
    Missed,
}

/// What makes an alarm the same alarm: the session, the kind and the due time it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlarmKey {
    pub session_id: i64,
    pub kind: AlarmKind,
    pub due_at_ms: i64,
}

impl AlarmKey {
    /// A stable text form for the window.
    pub fn text(&self) -> String {
        let kind = match self.kind {
            AlarmKind::Duress => "duress",
            AlarmKind::Help => "help",
            AlarmKind::Reminder => "reminder",
            AlarmKind::Missed => "missed",
        };
        format!("{}-{kind}-{}", self.session_id, self.due_at_ms)
    }
}

/// A button on an alarm, in the window and on the desktop notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmAction {
    pub key: &'static str,
    pub label: &'static str,
}

/// "Open the session" in the window; on a notification, clicking the notice does this.
pub const ACTION_OPEN: &str = "open";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alarm {
    #[serde(skip)]
    pub key: AlarmKey,
    /// The key as text, for the window to tell alarms apart.
    #[serde(rename = "key")]
    pub key_text: String,
    pub session_id: i64,
    pub kind: AlarmKind,
    pub mode: Mode,
    pub title: String,
    pub participants: Vec<String>,
    pub due_at: DateTime<Utc>,
    /// When the alarm went off.
    pub since: DateTime<Utc>,
    pub last_check_in_local: Option<String>,
    pub summary: String,
    pub body: String,
    pub actions: Vec<AlarmAction>,
    /// For a missed check-in or a call for help: where someone on it last was.
    pub last_location: Option<LastLocation>,
    /// For a duress alarm: who signalled it, and how.
    #[serde(skip)]
    signalled: Option<Signalled>,
}

/// Who signalled duress, and whether with the PIN (else the duress word).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signalled {
    by: String,
    pin: bool,
}

const MINUTE_MS: i64 = 60_000;

/// "14:30" in UK time.
fn clock_time(at: DateTime<Utc>) -> String {
    format_local(at)
        .rsplit(", ")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The open alarms, most urgent first: missed before reminders, then the longest overdue.
pub fn open(conn: &Connection) -> rusqlite::Result<Vec<Alarm>> {
    const OTHER_OPEN: &str = "((help_at IS NOT NULL AND acknowledged_at IS NULL)
             OR (missed_for = next_due_at AND acknowledged_at IS NULL)
             OR (reminded_for = next_due_at AND snoozed_until IS NULL
                 AND (missed_for IS NULL OR missed_for <> next_due_at)))";
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, mode, title, participants, next_due_at, reminder_lead_min, grace_min,
                reminded_for, snoozed_until, missed_for, acknowledged_at, last_check_in_at, help_at,
                CASE WHEN duress_acknowledged_at IS NULL THEN duress_at END, duress_by_name,
                duress_how, coalesce({OTHER_OPEN}, 0)
         FROM checkin_session
         WHERE ended_at IS NULL AND {FOLLOWED}
           AND ((duress_at IS NOT NULL AND duress_acknowledged_at IS NULL) OR {OTHER_OPEN})"
    ))?;
    let rows: Vec<Vec<Alarm>> = stmt
        .query_map([], |r| {
            let due_ms: i64 = r.get(4)?;
            // A call for help already dealt with no longer names the alarm: a reminder or a
            // miss after it is one.
            let acknowledged = r.get::<_, Option<i64>>(10)?.is_some();
            let help: Option<i64> = r.get::<_, Option<i64>>(12)?.filter(|_| !acknowledged);
            let missed = r.get::<_, Option<i64>>(9)? == Some(due_ms);
            // A session may have a silent alarm beside its missed check-in (or reminder).
            let mut kinds = Vec::with_capacity(2);
            if let Some(duress) = r.get::<_, Option<i64>>(13)? {
                kinds.push((AlarmKind::Duress, duress));
            }
            if r.get::<_, bool>(16)? {
                kinds.push(if let Some(help) = help {
                    (AlarmKind::Help, help)
                } else if missed {
                    (AlarmKind::Missed, due_ms + r.get::<_, i64>(6)? * MINUTE_MS)
                } else {
                    (
                        AlarmKind::Reminder,
                        due_ms - r.get::<_, i64>(5)? * MINUTE_MS,
                    )
                });
            }
            let at = |ms: i64| from_millis(ms).unwrap_or_default();
            let mode = if r.get::<_, String>(1)? == "watching" {
                Mode::Watching
            } else {
                Mode::Me
            };
            let (id, title, participants, last_check_in) = (
                r.get::<_, i64>(0)?,
                r.get::<_, String>(2)?,
                serde_json::from_str::<Vec<String>>(&r.get::<_, String>(3)?).unwrap_or_default(),
                r.get::<_, Option<i64>>(11)?.map(|ms| format_local(at(ms))),
            );
            let signalled = Signalled {
                by: r.get::<_, Option<String>>(14)?.unwrap_or_default(),
                pin: r.get::<_, Option<String>>(15)?.as_deref() == Some("pin"),
            };
            Ok(kinds
                .into_iter()
                .map(|(kind, since_ms)| {
                    let duress = kind == AlarmKind::Duress;
                    Alarm::new(
                        AlarmKey {
                            session_id: id,
                            kind,
                            due_at_ms: if duress { since_ms } else { due_ms },
                        },
                        mode,
                        title.clone(),
                        participants.clone(),
                        at(since_ms),
                        last_check_in.clone(),
                        duress.then(|| signalled.clone()),
                    )
                })
                .collect())
        })?
        .collect::<Result<_, _>>()?;
    let mut alarms: Vec<Alarm> = rows.into_iter().flatten().collect();
    for alarm in &mut alarms {
        if alarm.kind != AlarmKind::Reminder {
            alarm.last_location = crate::locations::last_known(conn, alarm.session_id)?;
        }
    }
    let urgency = |kind: AlarmKind| match kind {
        AlarmKind::Duress => 0,
        AlarmKind::Help => 0,
        AlarmKind::Missed => 1,
        AlarmKind::Reminder => 2,
    };
    alarms.sort_by_key(|alarm| (urgency(alarm.kind), alarm.due_at, alarm.session_id));
    Ok(alarms)
}

impl Alarm {
    fn new(
        key: AlarmKey,
        mode: Mode,
        title: String,
        participants: Vec<String>,
        since: DateTime<Utc>,
        last_check_in_local: Option<String>,
        signalled: Option<Signalled>,
    ) -> Self {
        let due_at = from_millis(key.due_at_ms).unwrap_or_default();
        let mut alarm = Alarm {
            key,
            key_text: key.text(),
            session_id: key.session_id,
            kind: key.kind,
            mode,
            title,
            participants,
            due_at,
            since,
            last_check_in_local,
            summary: String::new(),
            body: String::new(),
            actions: Vec::new(),
            last_location: None,
            signalled,
        };
        (alarm.summary, alarm.body) = alarm.wording();
        alarm.actions = alarm.buttons();
        alarm
    }

    /// Where someone on it last was, with its age when the alarm went off: for the desktop
    /// notice, which is not redrawn (the window shows the location beside the body).
    fn location_sentence(&self) -> Option<String> {
        let location = self.last_location.as_ref()?;
        let age = if location.at > self.since {
            "sent after the alarm went off".to_owned()
        } else {
            format!("{} before the alarm", location.age_at(self.since))
        };
        Some(format!(
            "Last known location: {}, {age}.",
            location.sentence()
        ))
    }

    /// Who is out, as a sentence's subject: "Asha and Ben", or the session's name. Each name
    /// is set apart for direction, so two names in Arabic are not swapped around the "and".
    fn who(&self) -> String {
        if self.participants.is_empty() {
            isolated(&self.title).into_owned()
        } else {
            let names: Vec<_> = self.participants.iter().map(|p| isolated(p)).collect();
            names.join(" and ")
        }
    }

    /// Worded for the person who is out ("me") or for whoever is watching a team.
    fn wording(&self) -> (String, String) {
        let due = clock_time(self.due_at);
        let title = isolated(&self.title);
        if let (AlarmKind::Duress, Some(signalled)) = (self.kind, &self.signalled) {
            let how = if signalled.pin {
                "entered their duress PIN"
            } else {
                "checked in from chat with the team's duress word"
            };
            return (
                format!("Silent alarm: {} ({title})", isolated(&signalled.by)),
                format!(
                    "At {} {} {how}: they may be with someone and unable to speak freely. What \
                     they sent looked normal to anyone watching. Do not reply in the team room or \
                     say anything that gives this away. If you think they are in danger, call 999.",
                    clock_time(self.since),
                    isolated(&signalled.by)
                ),
            );
        }
        if self.kind == AlarmKind::Help {
            return (
                format!("{} asked for help", self.who()),
                format!(
                    "{}: a call for help came from the team room at {}. Call them now; if you \
                     cannot reach them, call 999.",
                    title,
                    clock_time(self.since)
                ),
            );
        }
        match (self.kind, self.mode) {
            (AlarmKind::Reminder, Mode::Me) => (
                format!("Check in: {title}"),
                format!("Due at {due}. Let your team know you are OK."),
            ),
            (AlarmKind::Reminder, Mode::Watching) => (
                format!("{} due to check in", self.who()),
                format!("{title}: due at {due}."),
            ),
            (AlarmKind::Missed | AlarmKind::Help | AlarmKind::Duress, Mode::Me) => (
                format!("Missed check-in: {title}"),
                format!("Due at {due}. Check in now if you are OK."),
            ),
            (AlarmKind::Missed | AlarmKind::Help | AlarmKind::Duress, Mode::Watching) => (
                format!("{} missed a check-in", self.who()),
                format!(
                    "{}: overdue since {due}. Try to reach them. If you can’t and you are \
                     worried, call 999.",
                    title
                ),
            ),
        }
    }

    fn buttons(&self) -> Vec<AlarmAction> {
        let action = |key, label| AlarmAction { key, label };
        let open = action(
            ACTION_OPEN,
            if self.kind != AlarmKind::Reminder {
                "What to do"
            } else {
                "Open"
            },
        );
        if self.kind == AlarmKind::Duress {
            return vec![action(ACTION_ACKNOWLEDGE, "I’m dealing with it"), open];
        }
        match (self.kind, self.mode) {
            (AlarmKind::Reminder, Mode::Me) => vec![
                action(ACTION_CHECK_IN, "Check in – I’m OK"),
                action(ACTION_SNOOZE, "Snooze 5 min"),
                open,
            ],
            (AlarmKind::Reminder, Mode::Watching) => {
                vec![action(ACTION_CHECK_IN, "They checked in"), open]
            }
            (AlarmKind::Missed, Mode::Me) => {
                vec![action(ACTION_CHECK_IN, "Check in – I’m OK"), open]
            }
            (AlarmKind::Missed | AlarmKind::Help | AlarmKind::Duress, _) => vec![
                action(ACTION_ACKNOWLEDGE, "I’m dealing with it"),
                action(ACTION_CHECK_IN, "They checked in"),
                open,
            ],
        }
    }

    /// The desktop notification for this alarm.
    pub fn notice(&self) -> Notice {
        let check_in = match self.mode {
            Mode::Me => "check in",
            Mode::Watching => "record their check-in",
        };
        let body = match self.location_sentence() {
            Some(location) => format!("{} {location}", self.body),
            None => self.body.clone(),
        };
        Notice {
            summary: self.summary.clone(),
            body,
            in_app_task: check_in.to_owned(),
            urgency: match self.kind {
                AlarmKind::Reminder => Urgency::Normal,
                AlarmKind::Missed | AlarmKind::Help | AlarmKind::Duress => Urgency::Critical,
            },
            actions: self
                .actions
                .iter()
                .filter(|action| action.key != ACTION_OPEN)
                .map(|action| NoticeAction {
                    key: action.key.into(),
                    label: action.label.into(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
