//! Finding incidents: newest first, full-text search (FTS5) and filters, and the known
//! people that link incidents into a course of conduct.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::model::{Category, Flag, PersonInvolved};
use super::{invalid, IncidentError};
use crate::time::{from_millis, to_millis};

pub const PAGE_SIZE: u32 = 50;
const QUERY_MAX: usize = 200;
const SUMMARY_CHARS: usize = 160;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ListQuery {
    pub text: String,
    pub category: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub person_id: Option<String>,
    /// Incidents carrying every one of these warning signs.
    pub flags: Vec<Flag>,
    pub reported: Option<bool>,
    /// "active", "withdrawn" or, when empty, both.
    pub status: Option<String>,
    pub offset: u32,
    /// Only for exports and benchmarks; the UI pages by `PAGE_SIZE`.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListItem {
    pub id: String,
    pub status: String,
    pub occurred_from: Option<DateTime<Utc>>,
    pub occurred_to: Option<DateTime<Utc>>,
    pub category: String,
    pub category_label: String,
    pub summary: String,
    pub location: String,
    pub flags: Vec<Flag>,
    pub reported: bool,
    pub versions: u32,
    pub first_recorded: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage {
    pub items: Vec<ListItem>,
    /// Whether another page follows.
    pub more: bool,
}

pub fn summary_of(what_happened: &str) -> String {
    let flat = what_happened
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() <= SUMMARY_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(SUMMARY_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// Newest-first order in one integer (see the `incident.sort_key` column): the occurred
/// time in milliseconds, shifted, with the row number's low 20 bits to keep it unique.
pub fn sort_key(occurred_ms: i64, num: i64) -> i64 {
    (occurred_ms << 20) | (num & 0xF_FFFF)
}

/// Turns what the user typed into a safe FTS5 query: every word must appear (the porter
/// tokenizer matches "shouting" to "shouted"), and, with `last_as_prefix`, the last word
/// may be the start of one ("Feather" finds "Featherstonehaugh"). Quotes and operators are
/// plain text.
pub fn fts_query(text: &str, last_as_prefix: bool) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| format!("\"{}\"", w.to_lowercase()))
        .collect();
    let mut query = words.join(" ");
    if last_as_prefix && !query.is_empty() {
        query.push('*');
    }
    (!query.is_empty()).then_some(query)
}

/// Which FTS query a search runs. Whole words are cheap to find newest-first; a prefix makes
/// SQLite gather every match first, which is slow for a common word. So the last word is
/// only read as a prefix when the whole-word search does not fill a page (someone is still
/// typing it, or it is rare), which also keeps every page of one search consistent.
pub fn choose_fts(conn: &Connection, text: &str) -> Result<Option<String>, IncidentError> {
    let Some(whole_words) = fts_query(text, false) else {
        return Ok(None);
    };
    let found: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM (SELECT rowid FROM incident_fts WHERE incident_fts MATCH ?1 LIMIT ?2)")?
        .query_row(params![whole_words, PAGE_SIZE + 1], |row| row.get(0))?;
    Ok(if found > PAGE_SIZE {
        Some(whole_words)
    } else {
        fts_query(text, true)
    })
}

/// Builds the SQL and its parameters for a query. Public so the benchmark can run the very
/// same statement on a raw connection.
pub fn list_sql(
    query: &ListQuery,
    fts: Option<String>,
) -> Result<(String, Vec<Value>), IncidentError> {
    if query.text.chars().count() > QUERY_MAX {
        return Err(invalid(
            "text",
            format!("Search: at most {QUERY_MAX} characters."),
        ));
    }
    let mut sql = String::from(
        "SELECT i.id, i.status, i.occurred_from, i.occurred_to, i.category, i.summary, i.location, i.flags,
                i.reported, i.versions, i.first_recorded FROM incident i",
    );
    let mut conditions = vec!["i.status != 'erased'".to_owned()];
    let mut values: Vec<Value> = Vec::new();
    let searching = fts.is_some();
    if let Some(fts) = fts {
        // The search walks matches newest first (FTS rowid = sort key) and stops at a page.
        sql = sql.replace(
            " FROM incident i",
            " FROM incident_fts f JOIN incident i ON i.sort_key = f.rowid",
        );
        values.push(Value::Text(fts));
        conditions.push(format!("incident_fts MATCH ?{}", values.len()));
    }
    if let Some(person) = query.person_id.as_deref().filter(|p| !p.is_empty()) {
        sql.push_str(" JOIN incident_person p ON p.incident_num = i.num");
        values.push(Value::Text(person.to_owned()));
        conditions.push(format!("p.person_id = ?{}", values.len()));
    }
    if let Some(key) = query.category.as_deref().filter(|c| !c.is_empty()) {
        let category = Category::from_key(key)
            .ok_or_else(|| invalid("category", "Type of incident: choose one from the list."))?;
        values.push(Value::Text(category.key().to_owned()));
        conditions.push(format!("i.category = ?{}", values.len()));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if to < from {
            return Err(invalid(
                "to",
                "To: the end of the range is before its start.",
            ));
        }
    }
    if let Some(from) = query.from {
        values.push(Value::Integer(to_millis(from)));
        conditions.push(format!("i.occurred_from >= ?{}", values.len()));
    }
    if let Some(to) = query.to {
        values.push(Value::Integer(to_millis(to)));
        conditions.push(format!("i.occurred_from <= ?{}", values.len()));
    }
    let mask = Flag::mask(&query.flags);
    if mask != 0 {
        values.push(Value::Integer(mask));
        conditions.push(format!("(i.flags & ?{n}) = ?{n}", n = values.len()));
    }
    if let Some(reported) = query.reported {
        values.push(Value::Integer(reported.into()));
        conditions.push(format!("i.reported = ?{}", values.len()));
    }
    match query.status.as_deref().unwrap_or("") {
        "" | "all" => {}
        status @ ("active" | "withdrawn") => {
            values.push(Value::Text(status.to_owned()));
            conditions.push(format!("i.status = ?{}", values.len()));
        }
        _ => return Err(invalid("status", "Show: choose current, withdrawn or all.")),
    }
    let limit = query.limit.unwrap_or(PAGE_SIZE);
    sql.push_str(" WHERE ");
    sql.push_str(&conditions.join(" AND "));
    // One more than a page tells whether there is a next page without counting them all.
    sql.push_str(&format!(
        " ORDER BY {} DESC LIMIT {} OFFSET {}",
        if searching { "f.rowid" } else { "i.sort_key" },
        u64::from(limit) + 1,
        query.offset
    ));
    Ok((sql, values))
}

pub fn list(conn: &Connection, query: &ListQuery) -> Result<ListPage, IncidentError> {
    if query.text.chars().count() > QUERY_MAX {
        return Err(invalid(
            "text",
            format!("Search: at most {QUERY_MAX} characters."),
        ));
    }
    let fts = choose_fts(conn, &query.text)?;
    let (sql, values) = list_sql(query, fts)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        let category: String = row.get(4)?;
        let flags: i64 = row.get(7)?;
        Ok(ListItem {
            id: row.get(0)?,
            status: row.get(1)?,
            occurred_from: from_millis(row.get(2)?),
            occurred_to: row.get::<_, Option<i64>>(3)?.and_then(from_millis),
            category_label: Category::from_key(&category)
                .map(|c| c.label().to_owned())
                .unwrap_or_default(),
            category,
            summary: row.get(5)?,
            location: row.get(6)?,
            flags: Flag::ALL
                .iter()
                .copied()
                .filter(|f| flags & f.bit() != 0)
                .collect(),
            reported: row.get(8)?,
            versions: row.get(9)?,
            first_recorded: from_millis(row.get(10)?),
        })
    })?;
    let mut items = rows.collect::<Result<Vec<_>, _>>()?;
    let limit = query.limit.unwrap_or(PAGE_SIZE) as usize;
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(ListPage { items, more })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownPerson {
    pub id: String,
    pub label: String,
    pub incidents: u32,
}

impl KnownPerson {
    /// From a row of (id, label, number of incidents).
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(KnownPerson {
            id: row.get(0)?,
            label: row.get(1)?,
            incidents: row.get(2)?,
        })
    }
}

/// The label a new known person gets: their name, or else how they were described.
pub fn person_label(person: &PersonInvolved) -> String {
    let parts = [
        &person.name,
        &person.description,
        &person.vehicle_registration,
        &person.clothing,
    ];
    tidy_label(
        parts
            .iter()
            .find(|p| !p.is_empty())
            .map_or("", |p| p.as_str()),
    )
}

/// A known person's label: one line, at most 80 characters, never empty.
pub fn tidy_label(text: &str) -> String {
    let label: String = summary_of(text).chars().take(80).collect();
    if label.is_empty() {
        "Unnamed person".into()
    } else {
        label
    }
}

pub fn people(conn: &Connection) -> Result<Vec<KnownPerson>, IncidentError> {
    let mut stmt = conn.prepare_cached(
        "SELECT k.id, k.label, COUNT(p.incident_num) FROM known_person k
         LEFT JOIN incident_person p ON p.person_id = k.id GROUP BY k.id ORDER BY k.label COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], KnownPerson::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn people_of(conn: &Connection, num: i64) -> Result<Vec<KnownPerson>, IncidentError> {
    let mut stmt = conn.prepare_cached(
        "SELECT k.id, k.label, (SELECT COUNT(*) FROM incident_person q WHERE q.person_id = k.id)
         FROM incident_person p JOIN known_person k ON k.id = p.person_id WHERE p.incident_num = ?1 ORDER BY k.label",
    )?;
    let rows = stmt.query_map(params![num], KnownPerson::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn person(conn: &Connection, id: &str) -> Result<KnownPerson, IncidentError> {
    conn.prepare_cached(
        "SELECT k.id, k.label, (SELECT COUNT(*) FROM incident_person p WHERE p.person_id = k.id)
         FROM known_person k WHERE k.id = ?1",
    )?
    .query_row(params![id], KnownPerson::from_row)
    .optional()?
    .ok_or_else(|| invalid("personId", "That person is not in your list."))
}
