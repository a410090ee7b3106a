//! The periodic review of emergency arrangements: every few weeks (4 unless chosen
//! otherwise) Today asks the team to look again at contacts, escalation lists, each saved
//! device's SOS set-up and the plan template. Every review is kept with its date.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{invalid, text, today, AftercareError};
use crate::time::{format_uk, from_millis, to_millis};

pub const DEFAULT_WEEKS: u32 = 4;
pub const WEEKS: std::ops::RangeInclusive<u32> = 1..=12;
const SETTING: &str = "reviewWeeks";

/// The parts of a review, in the order they are shown.
pub const PARTS: &[(&str, &str, &str)] = &[
    ("contacts", "Emergency contacts", "Are the force election contact, the co-ordinator and the party contact still right? Call each number once."),
    ("escalation", "Escalation lists", "Who is called when a check-in is missed: still the right people, in the right order, with numbers that work?"),
    ("devices", "SOS set-up on each device", "Has everyone practised raising an emergency call on their own phone or watch?"),
    ("plan-template", "Plan template", "Does the usual canvass plan still fit: meeting points, pairs, kit, finishing before dark?"),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ReviewInput {
    /// Keys from [`PARTS`].
    pub checked: Vec<String>,
    /// Saved devices' models that were practised.
    pub practised: Vec<String>,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checked {
    parts: Vec<String>,
    practised: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PastReview {
    pub at_local: String,
    pub parts: Vec<String>,
    pub practised: Vec<String>,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStatus {
    pub weeks: u32,
    pub due: bool,
    /// None when there has never been one: it is due now.
    pub next_due_on: Option<NaiveDate>,
    pub parts: Vec<Part>,
    pub devices: Vec<String>,
    pub history: Vec<PastReview>,
}

pub fn weeks(conn: &Connection) -> Result<u32, AftercareError> {
    let saved: Option<String> = conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [SETTING],
            |r| r.get(0),
        )
        .optional()?;
    Ok(saved
        .and_then(|v| v.parse().ok())
        .filter(|w| WEEKS.contains(w))
        .unwrap_or(DEFAULT_WEEKS))
}

pub fn set_weeks(conn: &Connection, weeks: u32) -> Result<(), AftercareError> {
    if !WEEKS.contains(&weeks) {
        return Err(invalid(
            "weeks",
            "Review every: choose between 1 and 12 weeks.",
        ));
    }
    conn.execute(
        "INSERT INTO app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![SETTING, weeks.to_string()],
    )?;
    Ok(())
}

fn saved_devices(conn: &Connection) -> Result<Vec<String>, AftercareError> {
    let mut statement = conn.prepare("SELECT model FROM my_device ORDER BY added_at, id")?;
    let rows = statement.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn status(conn: &Connection, now: DateTime<Utc>) -> Result<ReviewStatus, AftercareError> {
    let weeks = weeks(conn)?;
    let mut statement = conn.prepare(
        "SELECT at, checked, notes FROM safety_review ORDER BY at DESC, id DESC LIMIT 20",
    )?;
    let history = statement
        .query_map([], |r| {
            let at: i64 = r.get(0)?;
            let checked: String = r.get(1)?;
            Ok((at, checked, r.get::<_, String>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let last = history.first().and_then(|(at, _, _)| from_millis(*at));
    let next_due_on = last.map(|at| today(at) + Duration::weeks(weeks.into()));
    Ok(ReviewStatus {
        weeks,
        due: next_due_on.is_none_or(|due| due <= today(now)),
        next_due_on,
        parts: PARTS
            .iter()
            .map(|(key, label, hint)| Part { key, label, hint })
            .collect(),
        devices: saved_devices(conn)?,
        history: history
            .into_iter()
            .map(|(at, checked, notes)| {
                let checked: Checked = serde_json::from_str(&checked).unwrap_or(Checked {
                    parts: Vec::new(),
                    practised: Vec::new(),
                });
                PastReview {
                    at_local: from_millis(at).map(format_uk).unwrap_or_default(),
                    parts: checked
                        .parts
                        .iter()
                        .filter_map(|key| {
                            PARTS
                                .iter()
                                .find(|(k, _, _)| k == key)
                                .map(|(_, label, _)| label.to_string())
                        })
                        .collect(),
                    practised: checked.practised,
                    notes,
                }
            })
            .collect(),
    })
}

/// Keeps a review with its date. At least one part must have been looked at.
pub fn record(
    conn: &Connection,
    input: &ReviewInput,
    now: DateTime<Utc>,
) -> Result<ReviewStatus, AftercareError> {
    let mut parts = Vec::new();
    for key in &input.checked {
        let known = PARTS.iter().find(|(k, _, _)| k == key).ok_or_else(|| {
            invalid(
                "checked",
                "What you reviewed: that part is not one the app knows.",
            )
        })?;
        if !parts.contains(&known.0.to_owned()) {
            parts.push(known.0.to_owned());
        }
    }
    if parts.is_empty() {
        return Err(invalid(
            "checked",
            "What you reviewed: tick at least one part you looked at.",
        ));
    }
    let devices = saved_devices(conn)?;
    let mut practised = Vec::new();
    for model in &input.practised {
        if !devices.contains(model) {
            return Err(invalid(
                "practised",
                format!("Practised: “{model}” is not a saved device."),
            ));
        }
        practised.push(model.clone());
    }
    let notes = text("notes", "Notes", &input.notes, 2_000)?;
    let checked = serde_json::to_string(&Checked { parts, practised })
        .map_err(|e| invalid("checked", e.to_string()))?;
    conn.execute(
        "INSERT INTO safety_review (at, checked, notes) VALUES (?1, ?2, ?3)",
        params![to_millis(now), checked, notes],
    )?;
    status(conn, now)
}
