//! The do-not-knock register: addresses canvassers must not visit, why, where the entry came
//! from and when to look at it again. Entries due for review are flagged, never dropped on
//! their own; removing one is always someone's decision.

pub mod csv_io;
pub mod shared;
#[cfg(test)]
mod tests;

pub use shared::{DoorChange, DoorSink, NoDoorSink, SharedEntry};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::error::{checked_text, ErrorCode};
use crate::incidents::vocabulary::fixed_list;
use crate::storage::StorageError;
use crate::time::{format_uk, from_millis, shown_zone, to_millis};

const SHORT_MAX: usize = 100;
const NOTE_MAX: usize = 1_000;

fixed_list!(Reason {
    ThreatOrViolence = "threat-or-violence": "Threat or violence",
    Abusive = "abusive": "Abusive",
    AggressiveDog = "aggressive-dog": "Aggressive dog",
    AskedNotToVisit = "asked-not-to-visit": "Asked not to be visited",
    Safeguarding = "safeguarding": "Safeguarding concern",
    Other = "other": "Other",
});

fixed_list!(Source {
    Incident = "incident": "An incident",
    PartyList = "party-list": "The party’s list",
    Canvasser = "canvasser": "A canvasser",
});

impl Reason {
    /// The stored key or the words shown, in any case: party lists use either.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.iter().copied().find(|reason| {
            reason.key().eq_ignore_ascii_case(text) || reason.label().eq_ignore_ascii_case(text)
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DoNotKnockError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error(
        "That do-not-knock entry no longer exists. It may have been removed on another screen."
    )]
    NotFound,
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for DoNotKnockError {
    fn from(error: rusqlite::Error) -> Self {
        DoNotKnockError::Storage(error.into())
    }
}

impl ErrorCode for DoNotKnockError {
    fn code(&self) -> &'static str {
        match self {
            DoNotKnockError::Invalid { .. } => "validation",
            DoNotKnockError::NotFound => "not_found",
            DoNotKnockError::File(_) => "file",
            DoNotKnockError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            DoNotKnockError::Invalid { field, .. } => Some(field),
            DoNotKnockError::File(_) => Some("path"),
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, DoNotKnockError::Storage(_))
    }
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> DoNotKnockError {
    DoNotKnockError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// An entry as typed in the form or read from a CSV row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct EntryInput {
    pub house: String,
    pub street: String,
    pub postcode: String,
    pub reason: String,
    pub note: String,
    pub added_by: String,
    /// Empty: the default, the day after the next May elections.
    pub review_on: Option<NaiveDate>,
    /// Set when the entry is made from an incident at a door.
    pub incident_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: i64,
    pub house: String,
    pub street: String,
    pub postcode: String,
    pub reason: Reason,
    pub reason_label: &'static str,
    pub note: String,
    pub source: Source,
    pub source_label: &'static str,
    pub incident_id: Option<String>,
    pub added_by: String,
    pub added_at_local: String,
    pub review_on: NaiveDate,
    pub due_for_review: bool,
}

impl Entry {
    pub fn address(&self) -> String {
        let mut line = format!("{} {}", self.house, self.street);
        if !self.postcode.is_empty() {
            line.push_str(&format!(", {}", self.postcode));
        }
        line
    }
}

/// Checked, tidy values ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEntry {
    pub house: String,
    pub street: String,
    pub postcode: String,
    pub reason: Reason,
    pub note: String,
    pub added_by: String,
    pub review_on: NaiveDate,
}

fn text(field: &str, label: &str, value: &str, max: usize) -> Result<String, DoNotKnockError> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    checked_text(label, &value, max).map_err(|message| invalid(field, message))
}

fn note_text(value: &str) -> Result<String, DoNotKnockError> {
    checked_text("Note", value, NOTE_MAX).map_err(|message| invalid("note", message))
}

/// Today's date where the user is (UK time unless they chose the device's zone).
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shown_zone()).date_naive()
}

/// UK local elections fall on the first Thursday in May; entries are looked at again the
/// day after the next one, when the campaign's door-knocking is over.
pub fn default_review_on(today: NaiveDate) -> NaiveDate {
    let after_election = |year: i32| {
        NaiveDate::from_weekday_of_month_opt(year, 5, Weekday::Thu, 1)
            .map(|election| election + Duration::days(1))
    };
    match after_election(today.year()) {
        Some(date) if date > today => date,
        _ => after_election(today.year() + 1).unwrap_or(today + Duration::days(180)),
    }
}

/// Checks an entry; the field names are the form's. Rows of a CSV use the same checks.
pub fn check(input: &EntryInput, now: DateTime<Utc>) -> Result<CheckedEntry, DoNotKnockError> {
    let house = text("house", "House number or name", &input.house, SHORT_MAX)?;
    if house.is_empty() {
        return Err(invalid(
            "house",
            "House number or name: say which door, such as 14 or Rose Cottage.",
        ));
    }
    let street = text("street", "Street", &input.street, SHORT_MAX)?;
    if street.is_empty() {
        return Err(invalid(
            "street",
            "Street: say which street the house is on.",
        ));
    }
    let postcode = crate::incidents::model::normalise_postcode(&input.postcode).map_err(|_| {
        invalid(
            "postcode",
            format!(
                "Postcode: “{}” does not look like a UK postcode, such as SW1A 1AA. Leave it empty if not known.",
                input.postcode.trim()
            ),
        )
    })?;
    let reason = if input.reason.trim().is_empty() {
        return Err(invalid(
            "reason",
            "Reason: choose why this door is not to be knocked.",
        ));
    } else {
        Reason::parse(&input.reason).ok_or_else(|| {
            invalid(
                "reason",
                format!(
                    "Reason: “{}” is not one of: {}.",
                    input.reason.trim(),
                    Reason::ALL
                        .iter()
                        .map(|r| r.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?
    };
    let added_by = text("addedBy", "Added by", &input.added_by, SHORT_MAX)?;
    if added_by.is_empty() {
        return Err(invalid(
            "addedBy",
            "Added by: write your name, so others know who to ask.",
        ));
    }
    let today = today(now);
    let review_on = match input.review_on {
        Some(date) => {
            crate::plausible::review_on("Review on", date, now)
                .map_err(|message| invalid("reviewOn", message))?;
            date
        }
        None => default_review_on(today),
    };
    Ok(CheckedEntry {
        house,
        street,
        postcode,
        reason,
        note: note_text(&input.note)?,
        added_by,
        review_on,
    })
}

fn street_key(street: &str) -> String {
    street.trim().to_lowercase()
}

fn postcode_key(postcode: &str) -> String {
    postcode
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

pub(crate) fn address_taken(conn: &Connection, entry: &CheckedEntry) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM do_not_knock
             WHERE lower(house) = lower(?1) AND street_key = ?2 AND postcode_key = ?3)",
        params![
            entry.house,
            street_key(&entry.street),
            postcode_key(&entry.postcode)
        ],
        |r| r.get(0),
    )
}

pub(crate) fn insert_row(
    conn: &Connection,
    entry: &CheckedEntry,
    source: Source,
    incident_id: Option<&str>,
    uid: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO do_not_knock (house, street, postcode, reason, note, source, incident_id,
             added_by, added_at, review_on, street_key, postcode_key, uid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            entry.house,
            entry.street,
            entry.postcode,
            entry.reason.key(),
            entry.note,
            source.key(),
            incident_id,
            entry.added_by,
            to_millis(now),
            entry.review_on.to_string(),
            street_key(&entry.street),
            postcode_key(&entry.postcode),
            uid,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Stores a checked entry without telling the team; returns its id and shared form. An
/// address already on the list is refused, naming it.
pub(crate) fn insert(
    conn: &Connection,
    entry: &CheckedEntry,
    source: Source,
    incident_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(i64, SharedEntry), DoNotKnockError> {
    if address_taken(conn, entry)? {
        return Err(invalid(
            "house",
            format!(
                "House number or name: {} {} is already on the do-not-knock list.",
                entry.house, entry.street
            ),
        ));
    }
    let uid = uuid::Uuid::new_v4().simple().to_string();
    let id = insert_row(conn, entry, source, incident_id, &uid, now)?;
    Ok((id, shared::shared_of(entry, &uid)))
}

/// Adds one entry from the form: from an incident when it names one, else a canvasser's.
pub fn add(
    conn: &Connection,
    input: &EntryInput,
    now: DateTime<Utc>,
    sink: &dyn DoorSink,
) -> Result<Entry, DoNotKnockError> {
    let checked = check(input, now)?;
    let incident_id = input
        .incident_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(id) = incident_id {
        let known: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM incident WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if !known {
            return Err(invalid("incidentId", "That incident no longer exists."));
        }
    }
    let source = if incident_id.is_some() {
        Source::Incident
    } else {
        Source::Canvasser
    };
    // The entry and its post to the team go together, or neither does.
    let tx = conn.unchecked_transaction()?;
    let (id, shared) = insert(&tx, &checked, source, incident_id, now)?;
    sink.doors_changed(&tx, DoorChange::Added, &[shared], now)?;
    tx.commit()?;
    get(conn, id, now)
}

const COLUMNS: &str = "id, house, street, postcode, reason, note, source, incident_id, added_by,
    added_at, review_on";

fn entry_from(row: &Row<'_>, today: NaiveDate) -> rusqlite::Result<Entry> {
    let reason: String = row.get(4)?;
    let source: String = row.get(6)?;
    let review_on: String = row.get(10)?;
    let review_on = NaiveDate::parse_from_str(&review_on, "%Y-%m-%d").unwrap_or(today);
    let reason = Reason::parse(&reason).unwrap_or(Reason::Other);
    let source = Source::from_key(&source).unwrap_or(Source::Canvasser);
    Ok(Entry {
        id: row.get(0)?,
        house: row.get(1)?,
        street: row.get(2)?,
        postcode: row.get(3)?,
        reason,
        reason_label: reason.label(),
        note: row.get(5)?,
        source,
        source_label: source.label(),
        incident_id: row.get(7)?,
        added_by: row.get(8)?,
        added_at_local: from_millis(row.get(9)?).map(format_uk).unwrap_or_default(),
        review_on,
        due_for_review: review_on <= today,
    })
}

pub fn get(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<Entry, DoNotKnockError> {
    let today = today(now);
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM do_not_knock WHERE id = ?1"),
        [id],
        |row| entry_from(row, today),
    )
    .optional()?
    .ok_or(DoNotKnockError::NotFound)
}

/// Every entry: those due for review first, then by street, postcode and house.
pub fn list(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<Entry>, DoNotKnockError> {
    let today = today(now);
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM do_not_knock
         ORDER BY review_on > ?1, street_key, postcode_key, length(house), lower(house)"
    ))?;
    let rows = statement.query_map([today.to_string()], |row| entry_from(row, today))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn due_for_review(conn: &Connection, now: DateTime<Utc>) -> Result<usize, DoNotKnockError> {
    let count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM do_not_knock WHERE review_on <= ?1",
        [today(now).to_string()],
        |r| r.get(0),
    )?;
    Ok(count as usize)
}

/// Reviewed and still needed: kept until a later review date.
pub fn keep_until(
    conn: &Connection,
    id: i64,
    review_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Entry, DoNotKnockError> {
    crate::plausible::review_on("Review on", review_on, now)
        .map_err(|message| invalid("reviewOn", message))?;
    let changed = conn.execute(
        "UPDATE do_not_knock SET review_on = ?2 WHERE id = ?1",
        params![id, review_on.to_string()],
    )?;
    if changed == 0 {
        return Err(DoNotKnockError::NotFound);
    }
    get(conn, id, now)
}

/// Removed for good, by someone's decision: the address is personal data.
/// Taken off every team device's list too.
pub fn remove(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
    sink: &dyn DoorSink,
) -> Result<(), DoNotKnockError> {
    let entry = get(conn, id, now)?;
    let uid: String = conn.query_row("SELECT uid FROM do_not_knock WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    let tx = conn.unchecked_transaction()?;
    tx.execute("DELETE FROM do_not_knock WHERE id = ?1", [id])?;
    let checked = CheckedEntry {
        house: entry.house,
        street: entry.street,
        postcode: entry.postcode,
        reason: entry.reason,
        note: String::new(),
        added_by: entry.added_by,
        review_on: entry.review_on,
    };
    sink.doors_changed(
        &tx,
        DoorChange::Removed,
        &[shared::shared_of(&checked, &uid)],
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Where a canvass goes: streets by name, and postcodes whole or in part ("SW1A 1", "SW1A").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Area {
    pub streets: Vec<String>,
    pub postcodes: Vec<String>,
}

impl Area {
    /// An area read from free text such as a session's "Where": each comma- or
    /// line-separated part is taken as a postcode if it looks like one, else a street.
    pub fn from_text(text: &str) -> Area {
        let mut area = Area::default();
        for part in text
            .split([',', '\n', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if looks_like_postcode_part(part) {
                area.postcodes.push(part.to_owned());
            } else {
                area.streets.push(part.to_owned());
            }
        }
        area
    }

    pub fn is_empty(&self) -> bool {
        self.streets.iter().all(|s| s.trim().is_empty())
            && self.postcodes.iter().all(|p| p.trim().is_empty())
    }
}

/// "SW1A 1AA", "SW1A 1", "SW1A", "M1": an outward code, and perhaps the start of an inward one.
pub fn looks_like_postcode_part(text: &str) -> bool {
    let outward = |t: &str| {
        (2..=4).contains(&t.len())
            && t.chars().all(|c| c.is_ascii_alphanumeric())
            && t.starts_with(|c: char| c.is_ascii_alphabetic())
            && t.chars().any(|c| c.is_ascii_digit())
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [one] => outward(one) || crate::incidents::model::normalise_postcode(one).is_ok(),
        [out, inward] => {
            outward(out)
                && (1..=3).contains(&inward.len())
                && inward.starts_with(|c: char| c.is_ascii_digit())
                && inward.chars().all(|c| c.is_ascii_alphanumeric())
        }
        _ => false,
    }
}

/// The entries inside an area: on one of its streets, or within one of its postcodes.
pub fn in_area(
    conn: &Connection,
    area: &Area,
    now: DateTime<Utc>,
) -> Result<Vec<Entry>, DoNotKnockError> {
    if area.is_empty() {
        return Ok(Vec::new());
    }
    let streets: Vec<String> = area
        .streets
        .iter()
        .map(|s| street_key(s))
        .filter(|s| !s.is_empty())
        .collect();
    let prefixes: Vec<String> = area
        .postcodes
        .iter()
        .map(|p| postcode_key(p))
        .filter(|p| !p.is_empty())
        .collect();
    Ok(list(conn, now)?
        .into_iter()
        .filter(|entry| {
            let key = postcode_key(&entry.postcode);
            streets.contains(&street_key(&entry.street))
                || (!key.is_empty() && prefixes.iter().any(|p| key.starts_with(p.as_str())))
        })
        .collect())
}

/// What the screen needs besides the entries: the fixed lists and the defaults.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Register {
    pub entries: Vec<Entry>,
    pub due_for_review: usize,
    pub reasons: Vec<Choice>,
    pub default_review_on: NaiveDate,
    /// Who added the latest entry, to fill "Added by" in.
    pub last_added_by: String,
}

#[derive(Debug, Serialize)]
pub struct Choice {
    pub key: &'static str,
    pub label: &'static str,
}

pub fn register(conn: &Connection, now: DateTime<Utc>) -> Result<Register, DoNotKnockError> {
    let entries = list(conn, now)?;
    let last_added_by = conn
        .query_row(
            "SELECT added_by FROM do_not_knock WHERE source != 'party-list' ORDER BY added_at DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    Ok(Register {
        due_for_review: entries.iter().filter(|e| e.due_for_review).count(),
        entries,
        reasons: Reason::ALL
            .iter()
            .map(|r| Choice {
                key: r.key(),
                label: r.label(),
            })
            .collect(),
        default_review_on: default_review_on(today(now)),
        last_added_by,
    })
}
