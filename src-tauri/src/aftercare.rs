//! Aftercare: a short debrief when a canvass session ends, follow-ups that stay on Today
//! until someone marks them done, and where to turn for support.

pub mod review;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::content::{self, Checker, ContentError, Source};
use crate::error::{checked_text, ErrorCode};
use crate::incidents::model::IncidentInput;
use crate::storage::StorageError;
use crate::time::{from_millis, shown_zone, to_millis};

const SHORT_MAX: usize = 200;
const TEXT_MAX: usize = 2_000;
const SUPPORT_FILE: &str = "content/support.json";
/// Sites the support contacts may cite: the services' own pages, the police and GOV.UK.
const SUPPORT_DOMAINS: &[&str] = &[
    "samaritans.org",
    "victimsupport.org.uk",
    "police.uk",
    "gov.uk",
];

#[derive(Debug, thiserror::Error)]
pub enum AftercareError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("That session no longer exists.")]
    NoSession,
    #[error("End the session first; the debrief comes after.")]
    NotEnded,
    #[error("This session has already been debriefed.")]
    AlreadyDebriefed,
    #[error("That follow-up no longer exists, or is already done.")]
    NoFollowUp,
    #[error(transparent)]
    Incident(#[from] crate::incidents::IncidentError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for AftercareError {
    fn from(error: rusqlite::Error) -> Self {
        AftercareError::Storage(error.into())
    }
}

impl ErrorCode for AftercareError {
    fn code(&self) -> &'static str {
        match self {
            AftercareError::Invalid { .. } => "validation",
            AftercareError::NoSession | AftercareError::NoFollowUp => "not_found",
            AftercareError::NotEnded | AftercareError::AlreadyDebriefed => "conflict",
            AftercareError::Incident(error) => error.code(),
            AftercareError::Content(error) => error.code(),
            AftercareError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            AftercareError::Invalid { field, .. } => Some(field),
            AftercareError::Incident(error) => error.field(),
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(
            self,
            AftercareError::Storage(_) | AftercareError::Content(_)
        )
    }
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> AftercareError {
    AftercareError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

pub(crate) fn text(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, AftercareError> {
    checked_text(label, value, max).map_err(|message| invalid(field, message))
}

pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shown_zone()).date_naive()
}

/// The debrief's questions, answered. Each yes-or-no must be answered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct DebriefInput {
    pub anything_happened: Option<bool>,
    /// With "yes": recorded at once as a quick incident, to add detail to later.
    pub what_happened: String,
    pub anyone_upset: Option<bool>,
    pub who_is_upset: String,
    pub who_checks: String,
    /// Empty: tomorrow.
    pub check_on: Option<NaiveDate>,
    pub good_encounters: String,
    pub update_do_not_knock: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DebriefResult {
    pub incident_id: Option<String>,
    pub follow_ups: usize,
    pub update_do_not_knock: bool,
}

fn yes_no(field: &str, label: &str, value: Option<bool>) -> Result<bool, AftercareError> {
    value.ok_or_else(|| invalid(field, format!("{label} choose yes or no.")))
}

struct Session {
    title: String,
    place: String,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
}

fn session(conn: &Connection, id: i64) -> Result<Session, AftercareError> {
    conn.query_row(
        "SELECT title, place, started_at, ended_at FROM checkin_session WHERE id = ?1",
        [id],
        |r| {
            Ok(Session {
                title: r.get(0)?,
                place: r.get(1)?,
                started_at: from_millis(r.get(2)?).unwrap_or_default(),
                ended_at: r.get::<_, Option<i64>>(3)?.and_then(from_millis),
            })
        },
    )
    .optional()?
    .ok_or(AftercareError::NoSession)
}

/// Checks every answer first; then records the quick incident (if any), the debrief and its
/// follow-ups. Field names are the form's.
pub fn debrief(
    conn: &mut Connection,
    session_id: i64,
    input: &DebriefInput,
    now: DateTime<Utc>,
) -> Result<DebriefResult, AftercareError> {
    let session = session(conn, session_id)?;
    let ended_at = session.ended_at.ok_or(AftercareError::NotEnded)?;
    let done: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM debrief WHERE session_id = ?1)",
        [session_id],
        |r| r.get(0),
    )?;
    if done {
        return Err(AftercareError::AlreadyDebriefed);
    }
    let happened = yes_no(
        "anythingHappened",
        "Did anything happen?",
        input.anything_happened,
    )?;
    let what_happened = text(
        "whatHappened",
        "What happened",
        &input.what_happened,
        TEXT_MAX,
    )?;
    if happened && what_happened.is_empty() {
        return Err(invalid(
            "whatHappened",
            "What happened: a few words now; you can add detail to the incident later.",
        ));
    }
    let upset = yes_no(
        "anyoneUpset",
        "Is anyone upset or shaken?",
        input.anyone_upset,
    )?;
    let who_is_upset = text("whoIsUpset", "Who", &input.who_is_upset, SHORT_MAX)?;
    let who_checks = text(
        "whoChecks",
        "Who will check on them",
        &input.who_checks,
        SHORT_MAX,
    )?;
    let check_on = input.check_on.unwrap_or(today(now) + Duration::days(1));
    if upset {
        if who_is_upset.is_empty() {
            return Err(invalid(
                "whoIsUpset",
                "Who: say who is upset or shaken, so someone checks on them.",
            ));
        }
        if who_checks.is_empty() {
            return Err(invalid(
                "whoChecks",
                "Who will check on them: name someone, such as the organiser.",
            ));
        }
        if check_on < today(now) {
            return Err(invalid("checkOn", "When: choose today or a later day."));
        }
        crate::plausible::planned_on("When", check_on, now)
            .map_err(|message| invalid("checkOn", message))?;
    }
    let good = text(
        "goodEncounters",
        "Good encounters worth sharing",
        &input.good_encounters,
        TEXT_MAX,
    )?;
    let update_list = yes_no(
        "updateDoNotKnock",
        "Does the do-not-knock list need updating?",
        input.update_do_not_knock,
    )?;

    let incident_id = if happened {
        let quick: IncidentInput = IncidentInput {
            occurred_from: session.started_at,
            occurred_to: Some(ended_at),
            category: "other".into(),
            channel: Some("in-person".into()),
            location: session
                .place
                .chars()
                .take(crate::incidents::model::TEXT_MAX)
                .collect(),
            postcode: String::new(),
            what_happened: format!(
                "{what_happened}\n\n(Recorded in the debrief of “{}”.)",
                session.title
            ),
            affected: Vec::new(),
            people: Vec::new(),
            witnesses: Vec::new(),
            impact: String::new(),
            flags: Vec::new(),
            actions: Vec::new(),
            reports: Vec::new(),
            online: None,
        };
        Some(crate::incidents::record(conn, &quick, now)?)
    } else {
        None
    };

    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO debrief (session_id, anything_happened, incident_id, anyone_upset, good_encounters,
             update_do_not_knock, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![session_id, happened, incident_id, upset, good, update_list, to_millis(now)],
    )?;
    let debrief_id = tx.last_insert_rowid();
    let mut follow_ups = 0;
    let mut add = |about: String, who: &str, due: NaiveDate| -> rusqlite::Result<()> {
        tx.execute(
            "INSERT INTO follow_up (about, who_checks, due_on, debrief_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![about, who, due.to_string(), debrief_id, to_millis(now)],
        )?;
        follow_ups += 1;
        Ok(())
    };
    if upset {
        add(
            format!("Check on {who_is_upset} after “{}”", session.title),
            &who_checks,
            check_on,
        )?;
    }
    if update_list {
        let who = if who_checks.is_empty() {
            "The organiser"
        } else {
            who_checks.as_str()
        };
        add(
            format!("Update the do-not-knock list after “{}”", session.title),
            who,
            today(now),
        )?;
    }
    tx.commit()?;
    Ok(DebriefResult {
        incident_id,
        follow_ups,
        update_do_not_knock: update_list,
    })
}

/// Whether a session still waits for its debrief.
pub fn debriefed(conn: &Connection, session_id: i64) -> Result<bool, AftercareError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM debrief WHERE session_id = ?1)",
        [session_id],
        |r| r.get(0),
    )?)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    pub id: i64,
    pub about: String,
    pub who_checks: String,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

/// Follow-ups not yet done, soonest first.
pub fn open_follow_ups(
    conn: &Connection,
    now: DateTime<Utc>,
) -> Result<Vec<FollowUp>, AftercareError> {
    let today = today(now);
    let mut statement = conn.prepare(
        "SELECT id, about, who_checks, due_on FROM follow_up WHERE done_at IS NULL ORDER BY due_on, id",
    )?;
    let rows = statement.query_map([], |r| {
        let due: String = r.get(3)?;
        let due_on = NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap_or(today);
        Ok(FollowUp {
            id: r.get(0)?,
            about: r.get(1)?,
            who_checks: r.get(2)?,
            due_on,
            overdue: due_on < today,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn complete(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<(), AftercareError> {
    let changed = conn.execute(
        "UPDATE follow_up SET done_at = ?2 WHERE id = ?1 AND done_at IS NULL",
        params![id, to_millis(now)],
    )?;
    if changed == 0 {
        return Err(AftercareError::NoFollowUp);
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SupportContact {
    pub id: String,
    pub name: String,
    pub what: String,
    pub phone: String,
    /// Digits to dial.
    pub call: String,
    pub when: String,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SupportContent {
    pub intro: String,
    pub contacts: Vec<SupportContact>,
    pub reviewed: NaiveDate,
}

impl SupportContent {
    pub fn load_embedded() -> Result<Self, ContentError> {
        let text = content::embedded_file(SUPPORT_FILE).ok_or_else(|| ContentError {
            file: SUPPORT_FILE.into(),
            field: "(file)".into(),
            message: "is missing".into(),
        })?;
        Self::from_text(&text)
    }

    pub fn from_text(text: &str) -> Result<Self, ContentError> {
        let support: SupportContent = content::parse(SUPPORT_FILE, text)?;
        let check = Checker::new(SUPPORT_FILE);
        check.text("intro", &support.intro, 300)?;
        if support.contacts.is_empty() {
            return Err(check.error("contacts", "is empty"));
        }
        let mut ids = HashSet::new();
        for (index, contact) in support.contacts.iter().enumerate() {
            let field = format!("contacts[{index}]");
            check.id(&format!("{field}.id"), &contact.id)?;
            if !ids.insert(contact.id.as_str()) {
                return Err(check.error(
                    format!("{field}.id"),
                    format!("“{}” appears twice", contact.id),
                ));
            }
            check.text(&format!("{field}.name"), &contact.name, 80)?;
            check.text(&format!("{field}.what"), &contact.what, 300)?;
            check.text(&format!("{field}.phone"), &contact.phone, 20)?;
            check.text(&format!("{field}.when"), &contact.when, 200)?;
            let digits: String = contact
                .phone
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if contact.call.is_empty()
                || !contact.call.bytes().all(|b| b.is_ascii_digit())
                || digits != contact.call
            {
                return Err(
                    check.error(format!("{field}.call"), "must be the phone number's digits")
                );
            }
            check.sources(
                &format!("{field}.sources"),
                &contact.sources,
                SUPPORT_DOMAINS,
            )?;
        }
        check.reviewed("reviewed", support.reviewed)?;
        Ok(support)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Support {
    pub content: SupportContent,
    /// The party's safety or welfare contact, from Contacts, if one is saved.
    pub party_contact: Option<crate::contacts::ContactCard>,
}

pub fn support(conn: &Connection) -> Result<Support, AftercareError> {
    let party_contact = crate::contacts::list(conn)
        .map_err(|e| AftercareError::Storage(StorageError::Unavailable(e.to_string())))?
        .into_iter()
        .find(|card| card.role == "party-safety-contact" && !card.phone.is_empty());
    Ok(Support {
        content: SupportContent::load_embedded()?,
        party_contact,
    })
}
