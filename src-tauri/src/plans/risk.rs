//! The risk check before going: what the app can see for itself (earlier incidents and
//! do-not-knock addresses in the area, finishing after dark, anyone alone) and what only
//! the team knows (isolated streets, dogs, events nearby). Each risk that applies needs a
//! sentence on what the team will do about it before the plan can start.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Serialize;

use super::{places, Plan, PlanError};
use crate::donotknock::{self, Entry};
use crate::time::{format_uk, from_millis, shown_zone};

macro_rules! risks {
    ($($variant:ident = $key:literal : $label:literal, auto = $auto:literal, hint = $hint:literal;)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum RiskKind { $($variant,)+ }

        impl RiskKind {
            pub const ALL: &'static [RiskKind] = &[$(RiskKind::$variant,)+];
            pub fn key(self) -> &'static str { match self { $(RiskKind::$variant => $key,)+ } }
            pub fn label(self) -> &'static str { match self { $(RiskKind::$variant => $label,)+ } }
            /// Worked out by the app each time the plan is shown, not ticked by the team.
            pub fn auto(self) -> bool { match self { $(RiskKind::$variant => $auto,)+ } }
            pub fn hint(self) -> &'static str { match self { $(RiskKind::$variant => $hint,)+ } }
            pub fn parse(key: &str) -> Option<Self> { Self::ALL.iter().copied().find(|k| k.key() == key) }
        }
    };
}

risks! {
    EarlierIncidents = "earlier-incidents": "Earlier incidents in the area", auto = true,
        hint = "Read them first. Skip those doors, go in a bigger group, or tell the police where you will be.";
    DoNotKnock = "do-not-knock": "Do-not-knock addresses in the area", auto = true,
        hint = "Take them off the walk list, and tell every pair which doors to pass by.";
    Daylight = "daylight": "Finishing near or after dark", auto = true,
        hint = "Finish earlier, take torches and wear something bright, or keep to lit main streets after sunset.";
    LoneWorking = "lone-working": "Anyone canvassing alone", auto = true,
        hint = "Nobody canvasses alone: pair them up, or keep them within sight of another pair.";
    IsolatedStreets = "isolated-streets": "Isolated streets or poor phone signal", auto = false,
        hint = "Cover them in daylight and in pairs; agree where to regroup if phones cannot get through.";
    Dogs = "dogs": "Dogs", auto = false,
        hint = "Do not put hands through letterboxes; use a leaflet holder, and pass by gates with a dog loose.";
    KnownEvents = "known-events": "Events nearby (a match, a protest, pubs closing)", auto = false,
        hint = "Choose another time or route, or keep away from the crowd and its way home.";
}

/// How long before sunset a finish already counts as "near dark".
const DUSK_MARGIN_MINUTES: i64 = 30;
const INCIDENTS_SHOWN: usize = 20;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskView {
    pub kind: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub auto: bool,
    /// Whether the app could look for it: the daylight risk cannot without a town.
    pub checked: bool,
    pub present: bool,
    /// What the app found: incident summaries, addresses, the sunset time, names.
    pub found: Vec<String>,
    pub action: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentHit {
    pub id: String,
    pub line: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskCheck {
    pub risks: Vec<RiskView>,
    pub incidents: Vec<IncidentHit>,
    pub do_not_knock: Vec<Entry>,
    pub sunset_local: Option<String>,
}

fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Active incidents whose place names one of the plan's streets or postcodes, newest first.
///
/// One pass over the table for all the plan's places: a query per street, each walking the
/// date index and looking up every row, took 250 ms at 10,000 incidents (see
/// `benches/risk_check.rs`). `+sort_key` keeps SQLite from that index walk: the matches
/// are few, so sorting them is cheaper. LIKE already ignores ASCII case, as `lower` did.
pub fn incidents_in_area(conn: &Connection, plan: &Plan) -> Result<Vec<IncidentHit>, PlanError> {
    let mut patterns: Vec<String> = Vec::new();
    let mut tests: Vec<&str> = Vec::new();
    for street in plan
        .streets
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        patterns.push(like_pattern(street));
        tests.push("location LIKE ? ESCAPE '\\'");
    }
    for postcode in &plan.postcodes {
        let postcode = postcode.replace(' ', "").to_uppercase();
        if !postcode.is_empty() {
            patterns.push(like_pattern(&postcode));
            tests.push("replace(upper(location), ' ', '') LIKE ? ESCAPE '\\'");
        }
    }
    if tests.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, occurred_from, summary FROM incident WHERE status = 'active' AND ({}) \
         ORDER BY +sort_key DESC LIMIT {INCIDENTS_SHOWN}",
        tests.join(" OR ")
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(&patterns), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut hits = Vec::new();
    for row in rows {
        let (id, occurred, summary) = row?;
        let when = from_millis(occurred).map(format_uk).unwrap_or_default();
        hits.push(IncidentHit {
            id,
            line: format!("{when}: {summary}"),
        });
    }
    Ok(hits)
}

pub fn check(conn: &Connection, plan: &Plan, now: DateTime<Utc>) -> Result<RiskCheck, PlanError> {
    let incidents = incidents_in_area(conn, plan)?;
    let do_not_knock =
        donotknock::in_area(conn, &plan.area(), now).map_err(|error| match error {
            donotknock::DoNotKnockError::Storage(error) => PlanError::Storage(error),
            other => PlanError::Unreadable(other.to_string()),
        })?;
    let sunset = places::find(&plan.town).and_then(|place| places::sunset(place, plan.date));
    let sunset_local = sunset.map(|at| at.with_timezone(&shown_zone()).format("%H:%M").to_string());
    let ends = plan.window().map(|(_, ends)| ends);
    let alone: Vec<String> = plan
        .pairs
        .iter()
        .filter(|p| p.len() < 2)
        .map(|p| p.join(""))
        .collect();

    let risks = RiskKind::ALL
        .iter()
        .map(|&kind| {
            let answer = plan.risks.iter().find(|r| r.kind == kind.key());
            let (present, found) = match kind {
                RiskKind::EarlierIncidents => (
                    !incidents.is_empty(),
                    incidents.iter().map(|i| i.line.clone()).collect(),
                ),
                RiskKind::DoNotKnock => (
                    !do_not_knock.is_empty(),
                    do_not_knock
                        .iter()
                        .map(|e| format!("{} ({})", e.address(), e.reason_label))
                        .collect(),
                ),
                RiskKind::Daylight => match (sunset, &sunset_local, ends) {
                    (Some(sunset), Some(local), Some(ends)) => (
                        ends > sunset - Duration::minutes(DUSK_MARGIN_MINUTES),
                        vec![format!(
                            "Sunset {local} in {}.",
                            places::find(&plan.town).map(|p| p.name).unwrap_or_default()
                        )],
                    ),
                    _ => (
                        false,
                        vec!["Choose the nearest town to see the sunset time.".to_owned()],
                    ),
                },
                RiskKind::LoneWorking => (
                    !alone.is_empty() || answer.is_some_and(|a| a.present),
                    alone
                        .iter()
                        .map(|name| format!("{} is on their own.", crate::bidi::isolated(name)))
                        .collect(),
                ),
                _ => (answer.is_some_and(|a| a.present), Vec::new()),
            };
            let checked = kind != RiskKind::Daylight || sunset.is_some();
            RiskView {
                kind: kind.key(),
                label: kind.label(),
                hint: kind.hint(),
                auto: kind.auto(),
                checked,
                present,
                found,
                action: answer.map(|a| a.action.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(RiskCheck {
        risks,
        incidents,
        do_not_knock,
        sunset_local,
    })
}
