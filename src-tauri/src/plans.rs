//! Canvass plans: the area, the time window, who goes with whom, transport and kit, who
//! coordinates and whom to call, and a risk check made before going. Starting a plan starts
//! one check-in session per pair, linked to the plan.

pub mod places;
pub mod risk;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use crate::error::{checked_text, ErrorCode};
use crate::storage::StorageError;
use crate::time::{format_uk, from_millis, shown_zone, to_millis};

const SHORT_MAX: usize = 200;
const TEXT_MAX: usize = 1_000;
const LIST_MAX: usize = 40;
const PAIRS_MAX: usize = 15;
pub const DEFAULT_CHECK_IN_MINUTES: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("That plan no longer exists.")]
    NotFound,
    #[error("This plan has already been started. Copy it for the next outing.")]
    Started,
    #[error("Campaign Safe could not read or save a plan: {0}.")]
    Unreadable(String),
    #[error(transparent)]
    Checkin(#[from] checkins::CheckinError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for PlanError {
    fn from(error: rusqlite::Error) -> Self {
        PlanError::Storage(error.into())
    }
}

impl ErrorCode for PlanError {
    fn code(&self) -> &'static str {
        match self {
            PlanError::Invalid { .. } => "validation",
            PlanError::NotFound => "not_found",
            PlanError::Started => "conflict",
            PlanError::Checkin(error) => error.code(),
            PlanError::Unreadable(_) => "storage",
            PlanError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            PlanError::Invalid { field, .. } => Some(field),
            PlanError::Checkin(error) => error.field(),
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, PlanError::Storage(_) | PlanError::Unreadable(_))
            || matches!(self, PlanError::Checkin(error) if error.is_fault())
    }
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// One risk the plan answers: whether it applies and what the team will do about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct RiskAnswer {
    pub kind: String,
    /// For the risks the app cannot see for itself; the others are worked out each time.
    pub present: bool,
    pub action: String,
}

/// A plan as the form sends it. Lists come as lines: one street, postcode, pair or contact
/// per line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PlanInput {
    pub title: String,
    pub ward: String,
    pub streets: Vec<String>,
    pub postcodes: Vec<String>,
    pub walk_list: String,
    pub town: String,
    pub date: Option<NaiveDate>,
    pub start_time: String,
    pub end_time: String,
    pub meeting_point: String,
    /// "Sam and Alex", "Priya, Jo, Lee": a pair or a group per line.
    pub pairs: Vec<String>,
    pub transport: String,
    pub vehicle_registration: String,
    pub kit: String,
    pub coordinator: String,
    /// "Name, phone" per line: who is called, in order, when a check-in is missed.
    pub escalation: Vec<String>,
    pub check_in_minutes: Option<u32>,
    pub risks: Vec<RiskAnswer>,
}

/// A checked plan: what is stored (as JSON) and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub title: String,
    pub ward: String,
    pub streets: Vec<String>,
    pub postcodes: Vec<String>,
    pub walk_list: String,
    pub town: String,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub meeting_point: String,
    pub pairs: Vec<Vec<String>>,
    pub transport: String,
    pub vehicle_registration: String,
    pub kit: String,
    pub coordinator: String,
    pub escalation: Vec<EscalationContact>,
    pub check_in_minutes: u32,
    pub risks: Vec<RiskAnswer>,
}

impl Plan {
    pub fn area(&self) -> crate::donotknock::Area {
        crate::donotknock::Area {
            streets: self.streets.clone(),
            postcodes: self.postcodes.clone(),
        }
    }

    /// The plan's start and end as UTC, from its UK (or chosen zone's) wall times.
    pub fn window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let zone = shown_zone();
        let at = |time: NaiveTime| {
            zone.from_local_datetime(&self.date.and_time(time))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        };
        Some((at(self.start_time)?, at(self.end_time)?))
    }

    /// Where the sessions go, as a session's "Where" reads: streets, then postcodes.
    pub fn place_text(&self) -> String {
        self.streets
            .iter()
            .chain(&self.postcodes)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn text(field: &str, label: &str, value: &str, max: usize) -> Result<String, PlanError> {
    checked_text(label, value, max).map_err(|message| invalid(field, message))
}

fn lines(field: &str, label: &str, values: &[String]) -> Result<Vec<String>, PlanError> {
    let mut out = Vec::new();
    for value in values {
        let value = text(field, label, value, SHORT_MAX)?;
        if !value.is_empty() && !out.contains(&value) {
            out.push(value);
        }
    }
    if out.len() > LIST_MAX {
        return Err(invalid(
            field,
            format!("{label}: at most {LIST_MAX} lines."),
        ));
    }
    Ok(out)
}

fn time_of(field: &str, label: &str, value: &str) -> Result<NaiveTime, PlanError> {
    let value = value.trim().replace('.', ":");
    NaiveTime::parse_from_str(&value, "%H:%M").map_err(|_| {
        invalid(
            field,
            format!("{label}: type the time on the 24-hour clock, such as 17:30."),
        )
    })
}

/// "Sam and Alex", "Priya, Jo & Lee", "Sam + Alex" → the names.
pub fn names_in(line: &str) -> Vec<String> {
    line.replace(" and ", ",")
        .replace(" AND ", ",")
        .replace(['&', '+', '/', ';'], ",")
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

fn escalation_of(lines: &[String]) -> Result<Vec<EscalationContact>, PlanError> {
    let mut contacts = Vec::new();
    for (i, line) in lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let line = text("escalation", "Who to call", line, SHORT_MAX)?;
        let (name, phone) = line.rsplit_once(',').ok_or_else(|| {
            invalid(
                "escalation",
                format!("Who to call, line {}: write a name, a comma, then the number, such as “Jo Bloggs, 07700 900123”.", i + 1),
            )
        })?;
        let phone = crate::contacts::normalise_uk_phone(phone).map_err(|error| {
            invalid(
                "escalation",
                format!("Who to call, line {}: {error}", i + 1),
            )
        })?;
        contacts.push(EscalationContact {
            name: name.trim().to_owned(),
            phone,
            relationship: String::new(),
        });
    }
    Ok(contacts)
}

/// Checks every field; the field names are the form's.
pub fn check(input: &PlanInput, now: DateTime<Utc>) -> Result<Plan, PlanError> {
    let title = text("title", "Name of the outing", &input.title, SHORT_MAX)?;
    if title.is_empty() {
        return Err(invalid(
            "title",
            "Name of the outing: give it a name, such as “Ward 3, Saturday morning”.",
        ));
    }
    let streets = lines("streets", "Streets", &input.streets)?;
    let postcodes: Vec<String> = lines("postcodes", "Postcodes", &input.postcodes)?
        .into_iter()
        .map(|p| p.to_uppercase())
        .collect();
    if let Some(bad) = postcodes
        .iter()
        .find(|p| !crate::donotknock::looks_like_postcode_part(p))
    {
        return Err(invalid("postcodes", format!("Postcodes: “{bad}” does not look like a postcode or the start of one, such as AB1 2CD or AB1.")));
    }
    if streets.is_empty() && postcodes.is_empty() {
        return Err(invalid(
            "streets",
            "Streets: name at least one street or postcode, so the risk check can look there.",
        ));
    }
    let town = input.town.trim().to_owned();
    if !town.is_empty() && places::find(&town).is_none() {
        return Err(invalid(
            "town",
            "Nearest town, for sunset: choose one from the list.",
        ));
    }
    let date = input.date.ok_or_else(|| {
        invalid(
            "date",
            "Date: type the day of the outing, as day/month/year.",
        )
    })?;
    crate::plausible::planned_on("Date", date, now).map_err(|message| invalid("date", message))?;
    let start_time = time_of("startTime", "Starts", &input.start_time)?;
    let end_time = time_of("endTime", "Ends", &input.end_time)?;
    if end_time <= start_time {
        return Err(invalid(
            "endTime",
            "Ends: the end must be after the start on the same day.",
        ));
    }
    let mut pairs = Vec::new();
    for line in lines("pairs", "Pairs or groups", &input.pairs)? {
        let names = names_in(&line);
        if names.iter().any(|n| n.chars().count() > 100) {
            return Err(invalid(
                "pairs",
                "Pairs or groups: a name is too long (at most 100 characters).",
            ));
        }
        pairs.push(names);
    }
    if pairs.is_empty() {
        return Err(invalid(
            "pairs",
            "Pairs or groups: write who goes together, one pair per line, such as “Sam and Alex”.",
        ));
    }
    if pairs.len() > PAIRS_MAX {
        return Err(invalid(
            "pairs",
            format!("Pairs or groups: at most {PAIRS_MAX}."),
        ));
    }
    let check_in_minutes = input.check_in_minutes.unwrap_or(DEFAULT_CHECK_IN_MINUTES);
    if !checkins::INTERVAL_MINUTES.contains(&check_in_minutes) {
        return Err(invalid(
            "checkInMinutes",
            "Check in every: choose from the list.",
        ));
    }
    let mut risks = Vec::new();
    for answer in &input.risks {
        let kind = risk::RiskKind::parse(&answer.kind)
            .ok_or_else(|| invalid("risks", "Risk check: that risk is not one the app knows."))?;
        let action = text(
            &format!("risks.{}.action", kind.key()),
            &format!("What you will do about it ({})", kind.label()),
            &answer.action,
            TEXT_MAX,
        )?;
        risks.push(RiskAnswer {
            kind: kind.key().to_owned(),
            present: answer.present,
            action,
        });
    }
    Ok(Plan {
        title,
        ward: text("ward", "Ward", &input.ward, SHORT_MAX)?,
        streets,
        postcodes,
        walk_list: text(
            "walkList",
            "Walk-list reference",
            &input.walk_list,
            SHORT_MAX,
        )?,
        town,
        date,
        start_time,
        end_time,
        meeting_point: text(
            "meetingPoint",
            "Meeting point",
            &input.meeting_point,
            SHORT_MAX,
        )?,
        pairs,
        transport: text("transport", "Transport", &input.transport, SHORT_MAX)?,
        vehicle_registration: text(
            "vehicleRegistration",
            "Vehicle registration",
            &input.vehicle_registration,
            20,
        )?
        .to_uppercase(),
        kit: text("kit", "Kit", &input.kit, TEXT_MAX)?,
        coordinator: text(
            "coordinator",
            "Who coordinates",
            &input.coordinator,
            SHORT_MAX,
        )?,
        escalation: escalation_of(&input.escalation)?,
        check_in_minutes,
        risks,
    })
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    pub id: i64,
    pub title: String,
    pub date: NaiveDate,
    pub started: bool,
    /// Long past: it names people and places, so it is offered for deletion.
    pub review_due: bool,
}

/// How long after its date a plan is flagged for deletion.
pub const KEEP_PAST_PLANS_DAYS: i64 = 90;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDetail {
    pub id: i64,
    pub plan: Plan,
    pub town_name: String,
    pub started_at_local: Option<String>,
    pub sessions: Vec<i64>,
    pub risk_check: risk::RiskCheck,
    /// "Jo Bloggs, 07700 900123": each contact with the number written as people write it.
    pub escalation_shown: Vec<String>,
}

fn load(conn: &Connection, id: i64) -> Result<(Plan, Option<i64>), PlanError> {
    let (body, started_at): (String, Option<i64>) = conn
        .query_row(
            "SELECT body, started_at FROM canvass_plan WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(PlanError::NotFound)?;
    let plan = serde_json::from_str(&body)
        .map_err(|e| PlanError::Unreadable(format!("plan {id} cannot be read: {e}")))?;
    Ok((plan, started_at))
}

pub fn detail(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<PlanDetail, PlanError> {
    let (plan, started_at) = load(conn, id)?;
    let mut statement =
        conn.prepare("SELECT id FROM checkin_session WHERE plan_id = ?1 ORDER BY id")?;
    let sessions = statement
        .query_map([id], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(PlanDetail {
        id,
        town_name: places::find(&plan.town)
            .map(|p| p.name.to_owned())
            .unwrap_or_default(),
        started_at_local: started_at.and_then(from_millis).map(format_uk),
        sessions,
        risk_check: risk::check(conn, &plan, now)?,
        escalation_shown: plan.to_input().escalation,
        plan,
    })
}

fn body_of(plan: &Plan) -> Result<String, PlanError> {
    serde_json::to_string(plan).map_err(|e| PlanError::Unreadable(e.to_string()))
}

pub fn create(conn: &Connection, input: &PlanInput, now: DateTime<Utc>) -> Result<i64, PlanError> {
    let plan = check(input, now)?;
    conn.execute(
        "INSERT INTO canvass_plan (title, plan_date, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![plan.title, plan.date.to_string(), body_of(&plan)?, to_millis(now)],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn update(
    conn: &Connection,
    id: i64,
    input: &PlanInput,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let (_, started_at) = load(conn, id)?;
    if started_at.is_some() {
        return Err(PlanError::Started);
    }
    let plan = check(input, now)?;
    conn.execute(
        "UPDATE canvass_plan SET title = ?2, plan_date = ?3, body = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, plan.title, plan.date.to_string(), body_of(&plan)?, to_millis(now)],
    )?;
    Ok(())
}

impl Plan {
    /// The plan as the form holds it, for editing.
    pub fn to_input(&self) -> PlanInput {
        PlanInput {
            title: self.title.clone(),
            ward: self.ward.clone(),
            streets: self.streets.clone(),
            postcodes: self.postcodes.clone(),
            walk_list: self.walk_list.clone(),
            town: self.town.clone(),
            date: Some(self.date),
            start_time: self.start_time.format("%H:%M").to_string(),
            end_time: self.end_time.format("%H:%M").to_string(),
            meeting_point: self.meeting_point.clone(),
            pairs: self.pairs.iter().map(|p| p.join(" and ")).collect(),
            transport: self.transport.clone(),
            vehicle_registration: self.vehicle_registration.clone(),
            kit: self.kit.clone(),
            coordinator: self.coordinator.clone(),
            escalation: self
                .escalation
                .iter()
                .map(|c| format!("{}, {}", c.name, crate::contacts::shown_phone(&c.phone)))
                .collect(),
            check_in_minutes: Some(self.check_in_minutes),
            risks: self.risks.clone(),
        }
    }
}

/// The team's answers to the risk check, saved with the plan.
pub fn answer_risks(
    conn: &Connection,
    id: i64,
    risks: &[RiskAnswer],
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let (plan, _) = load(conn, id)?;
    let input = PlanInput {
        risks: risks.to_vec(),
        ..plan.to_input()
    };
    update(conn, id, &input, now)
}

/// The same plan for the next outing: a week on from its date, or from today if that has
/// passed; not started.
pub fn copy(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<i64, PlanError> {
    let (mut plan, _) = load(conn, id)?;
    let today = now.with_timezone(&shown_zone()).date_naive();
    plan.date = (plan.date + Duration::days(7)).max(today);
    plan.title = format!("{} (copy)", plan.title)
        .chars()
        .take(SHORT_MAX)
        .collect();
    conn.execute(
        "INSERT INTO canvass_plan (title, plan_date, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![plan.title, plan.date.to_string(), body_of(&plan)?, to_millis(now)],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Upcoming plans first (soonest first), then past ones (latest first).
pub fn list(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<PlanSummary>, PlanError> {
    let today_date = now.with_timezone(&shown_zone()).date_naive();
    let today = today_date.to_string();
    let mut statement = conn.prepare(
        "SELECT id, title, plan_date, started_at IS NOT NULL FROM canvass_plan
         ORDER BY plan_date < ?1, CASE WHEN plan_date < ?1 THEN '' ELSE plan_date END, plan_date DESC, id",
    )?;
    let rows = statement.query_map([today], |r| {
        let date: String = r.get(2)?;
        Ok(PlanSummary {
            id: r.get(0)?,
            title: r.get(1)?,
            date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap_or_default(),
            started: r.get(3)?,
            review_due: false,
        })
    })?;
    let mut plans: Vec<PlanSummary> = rows.collect::<Result<_, _>>()?;
    for plan in &mut plans {
        plan.review_due = plan.date + Duration::days(KEEP_PAST_PLANS_DAYS) < today_date;
    }
    Ok(plans)
}

/// Removed for good: the plan names people and places. Sessions it started stay, unlinked.
pub fn delete(conn: &mut Connection, id: i64) -> Result<(), PlanError> {
    let tx = conn.transaction()?;
    checkins::forget_plan(&tx, id)?;
    if tx.execute("DELETE FROM canvass_plan WHERE id = ?1", [id])? == 0 {
        return Err(PlanError::NotFound);
    }
    tx.commit()?;
    Ok(())
}

/// Starts one check-in session per pair, watched from here, all or none. Every risk found
/// must have an answer first, and the outing must not be over.
pub fn start(
    conn: &mut Connection,
    id: i64,
    now: DateTime<Utc>,
    sink: &dyn checkins::SessionSink,
) -> Result<Vec<i64>, PlanError> {
    let (plan, started_at) = load(conn, id)?;
    if started_at.is_some() {
        return Err(PlanError::Started);
    }
    let risk_check = risk::check(conn, &plan, now)?;
    if let Some(unanswered) = risk_check
        .risks
        .iter()
        .find(|r| r.present && r.action.trim().is_empty())
    {
        return Err(invalid(
            format!("risks.{}.action", unanswered.kind),
            format!(
                "What you will do about it ({}): the risk check found this; say what the team will do before starting.",
                unanswered.label
            ),
        ));
    }
    let today = now.with_timezone(&shown_zone()).date_naive();
    if today < plan.date {
        return Err(invalid(
            "date",
            format!(
                "Date: this outing is on {}. Start it on the day, when the team sets off.",
                plan.date.format("%-d %B %Y")
            ),
        ));
    }
    let (_, ends_at) = plan.window().ok_or_else(|| {
        invalid(
            "endTime",
            "Ends: that time does not exist on that day (the clocks change). Choose another.",
        )
    })?;
    if ends_at <= now {
        return Err(invalid("endTime", "Ends: that time has passed. Change the date or times, or copy the plan for a new outing."));
    }
    let mut notes = Vec::new();
    if !plan.meeting_point.is_empty() {
        notes.push(format!("Meet at {}", plan.meeting_point));
    }
    let vehicle = [plan.transport.as_str(), plan.vehicle_registration.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !vehicle.is_empty() {
        notes.push(format!("Transport: {vehicle}"));
    }
    if !plan.coordinator.is_empty() {
        notes.push(format!("Coordinator: {}", plan.coordinator));
    }
    let tx = conn.transaction()?;
    let mut sessions = Vec::new();
    for pair in &plan.pairs {
        let session = NewSession {
            kind: Kind::Canvass,
            mode: Mode::Watching,
            title: format!("{}: {}", plan.title, pair.join(" and "))
                .chars()
                .take(400)
                .collect(),
            participants: pair.clone(),
            place: plan.place_text().chars().take(500).collect(),
            notes: notes.join(". ").chars().take(500).collect(),
            escalation: plan.escalation.clone(),
            ends_at: Some(ends_at),
            interval_minutes: Some(plan.check_in_minutes),
            reminder_lead_minutes: 5,
            grace_minutes: 10,
        };
        let session_id =
            checkins::start_in(&tx, &session, now, &checkins::Actor::here(), sink, Some(id))?;
        sessions.push(session_id);
    }
    tx.execute(
        "UPDATE canvass_plan SET started_at = ?2 WHERE id = ?1",
        params![id, to_millis(now)],
    )?;
    tx.commit()?;
    Ok(sessions)
}
