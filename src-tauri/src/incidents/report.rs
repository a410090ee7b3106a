//! The pack's human-readable parts: a printable HTML report and a CSV for spreadsheets.
//! The report is an askama template (`printable.rs`); it has no scripts and loads nothing.

use super::model::{IncidentRecord, PersonInvolved, Report};
use super::pack_format::Pack;
use super::IncidentError;
use crate::time::{format_uk, format_uk_sortable, from_millis};

pub(super) fn when(record: &IncidentRecord) -> String {
    match record.occurred_to {
        Some(to) => format!("{} to {}", format_uk(record.occurred_from), format_uk(to)),
        None => format_uk(record.occurred_from),
    }
}

pub(super) fn labels<T: Copy>(items: &[T], label: fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|i| label(*i))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn person_line(p: &PersonInvolved) -> String {
    let vehicle = [&p.vehicle_colour, &p.vehicle_make, &p.vehicle_registration]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let parts = [
        (!p.name.is_empty()).then(|| p.name.clone()),
        (!p.description.is_empty()).then(|| p.description.clone()),
        (!p.clothing.is_empty()).then(|| format!("wearing {}", p.clothing)),
        (!vehicle.is_empty()).then(|| format!("vehicle {vehicle}")),
    ];
    parts.into_iter().flatten().collect::<Vec<_>>().join(", ")
}

pub fn report_line(r: &Report) -> String {
    let mut line = r.to.label().to_owned();
    if let Some(on) = r.on {
        line.push_str(&format!(" on {}", on.format("%-d %b %Y")));
    }
    if !r.reference.is_empty() {
        line.push_str(&format!(", reference {}", r.reference));
    }
    if !r.officer.is_empty() {
        line.push_str(&format!(", officer or contact {}", r.officer));
    }
    line.push_str(&format!(" ({})", r.follow_up.label()));
    if !r.notes.is_empty() {
        line.push_str(&format!(": {}", r.notes));
    }
    line
}

/// The printable report, made from a template that escapes every value.
pub fn html(pack: &Pack) -> Result<String, IncidentError> {
    super::printable::render(pack)
}

/// Spreadsheets run cells that start with these as formulas; a leading apostrophe stops it.
pub(crate) fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// Spreadsheets read a file as UTF-8 only when it starts with this mark; without it
/// "Siân Ó Briain" comes out garbled in their default settings.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn csv(pack: &Pack) -> Result<Vec<u8>, IncidentError> {
    let mut writer = csv::Writer::from_writer(UTF8_BOM.to_vec());
    let header = [
        "incident",
        "status",
        "versions",
        "latest_hash",
        "first_recorded",
        "occurred_from",
        "occurred_to",
        "category",
        "channel",
        "location",
        "what_happened",
        "affected",
        "people",
        "witnesses",
        "impact",
        "warning_signs",
        "actions",
        "reports",
        "attachments",
    ];
    let io = |e: csv::Error| IncidentError::Io(e.to_string());
    writer.write_record(header).map_err(io)?;
    for incident in &pack.incidents {
        let first = incident
            .versions
            .first()
            .and_then(|v| from_millis(v.recorded_at_ms))
            .map(format_uk_sortable)
            .unwrap_or_default();
        let hash = incident
            .versions
            .last()
            .map(|v| v.hash.clone())
            .unwrap_or_default();
        let r = incident.latest_record();
        let fields = match &r {
            Some(r) => vec![
                format_uk_sortable(r.occurred_from),
                r.occurred_to.map(format_uk_sortable).unwrap_or_default(),
                r.category.label().to_owned(),
                r.channel.map(|c| c.label().to_owned()).unwrap_or_default(),
                r.location_text(),
                r.what_happened.clone(),
                labels(&r.affected, |a| a.label()),
                // Names only here: each person's details are in people.csv, a column each.
                r.people
                    .iter()
                    .map(|p| {
                        if p.name.is_empty() {
                            "(unnamed)".to_owned()
                        } else {
                            p.name.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
                r.witnesses
                    .iter()
                    .map(|w| w.name.clone())
                    .collect::<Vec<_>>()
                    .join(" | "),
                r.impact.clone(),
                labels(&r.flags, |f| f.label()),
                labels(&r.actions, |a| a.label()),
                r.reports
                    .iter()
                    .map(report_line)
                    .collect::<Vec<_>>()
                    .join(" | "),
                r.attachments
                    .iter()
                    .map(|a| {
                        let name = crate::error::shown_plainly(&a.original_name);
                        format!("{name} sha256:{}", a.sha256)
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            ],
            None => vec![String::new(); 14],
        };
        let mut line = vec![
            incident.id.clone(),
            incident.status.clone(),
            incident.versions.len().to_string(),
            hash,
            first,
        ];
        line.extend(fields);
        writer
            .write_record(line.iter().map(|f| cell(f)))
            .map_err(io)?;
    }
    writer
        .into_inner()
        .map_err(|e| IncidentError::Io(e.to_string()))
}

/// One row per person involved and per witness, each detail in a column of its own.
pub fn people_csv(pack: &Pack) -> Result<Vec<u8>, IncidentError> {
    let io = |e: csv::Error| IncidentError::Io(e.to_string());
    let mut writer = csv::Writer::from_writer(UTF8_BOM.to_vec());
    writer
        .write_record([
            "incident",
            "role",
            "name",
            "description",
            "clothing",
            "vehicle_make",
            "vehicle_colour",
            "vehicle_registration",
            "contact",
            "known_person",
        ])
        .map_err(io)?;
    for incident in &pack.incidents {
        let Some(record) = incident.latest_record() else {
            continue;
        };
        for p in &record.people {
            let row = [
                incident.id.as_str(),
                "person involved",
                &p.name,
                &p.description,
                &p.clothing,
                &p.vehicle_make,
                &p.vehicle_colour,
                &p.vehicle_registration,
                "",
                p.person_id.as_deref().unwrap_or_default(),
            ];
            writer
                .write_record(row.iter().map(|f| cell(f)))
                .map_err(io)?;
        }
        for w in &record.witnesses {
            let row = [
                incident.id.as_str(),
                "witness",
                &w.name,
                "",
                "",
                "",
                "",
                "",
                &w.contact,
                "",
            ];
            writer
                .write_record(row.iter().map(|f| cell(f)))
                .map_err(io)?;
        }
    }
    writer
        .into_inner()
        .map_err(|e| IncidentError::Io(e.to_string()))
}
