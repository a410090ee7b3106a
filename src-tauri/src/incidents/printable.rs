//! The printable report: an askama template, so every value is HTML-escaped by construction
//! and a field the template names but the view lacks fails to compile. This module only
//! turns a pack into plain strings for the template to lay out.

use std::collections::BTreeMap;

use askama::Template;

use super::chain::VersionKind;
use super::model::IncidentRecord;
use super::pack_format::{body_of, Pack, PackIncident};
use super::report::{labels, person_line, report_line, when};
use super::IncidentError;
use crate::time::{format_uk, from_millis};

pub struct Row {
    pub label: String,
    pub value: String,
}

pub struct RecordView {
    pub rows: Vec<Row>,
    pub what_happened: String,
}

pub struct VersionView {
    pub kind: &'static str,
    pub recorded: String,
    pub reason: String,
    pub hash: String,
    pub erased: bool,
    /// Earlier versions in full; the latest is the record shown above the history.
    pub earlier: Option<RecordView>,
}

pub struct IncidentView {
    pub number: usize,
    pub title: String,
    pub id: String,
    pub status: String,
    pub same_person: Vec<String>,
    pub record: Option<RecordView>,
    pub versions: Vec<VersionView>,
}

pub struct PersonIncident {
    pub number: usize,
    pub line: String,
}

pub struct PersonView {
    pub label: String,
    pub incidents: Vec<PersonIncident>,
}

#[derive(Template)]
#[template(path = "evidence_report.html")]
pub struct EvidenceReport {
    pub exported_at: String,
    pub json_name: &'static str,
    pub signers: Vec<String>,
    /// "12 versions, 5 December 2026 14:05: <hash>", when the pack carries the head.
    pub record_head: Option<String>,
    pub timeline: Vec<String>,
    pub people: Vec<PersonView>,
    pub incidents: Vec<IncidentView>,
}

fn row(rows: &mut Vec<Row>, label: impl Into<String>, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() {
        rows.push(Row {
            label: label.into(),
            value,
        });
    }
}

fn record_view(record: &IncidentRecord) -> RecordView {
    let mut rows = Vec::new();
    row(&mut rows, "When", when(record));
    row(&mut rows, "Type", record.category.label());
    row(
        &mut rows,
        "How it reached them",
        record.channel.map(|c| c.label()).unwrap_or(""),
    );
    row(&mut rows, "Where", record.location_text());
    if let Some(online) = &record.online {
        row(&mut rows, "Platform", online.platform.clone());
        let account = [&online.account_handle, &online.account_address]
            .into_iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        row(&mut rows, "Account", account);
        row(&mut rows, "Post’s address", online.post_address.clone());
        let mut told = String::new();
        if let Some(on) = online.reported_to_platform_on {
            told = format!("on {}", on.format("%-d %b %Y"));
        }
        if !online.platform_report_number.is_empty() {
            if !told.is_empty() {
                told.push_str(", ");
            }
            told.push_str(&format!("report number {}", online.platform_report_number));
        }
        row(&mut rows, "Reported to the platform", told);
    }
    row(
        &mut rows,
        "Who was affected",
        labels(&record.affected, |a| a.label()),
    );
    row(
        &mut rows,
        "Warning signs",
        labels(&record.flags, |f| f.label()),
    );
    row(
        &mut rows,
        "Actions taken",
        labels(&record.actions, |a| a.label()),
    );
    for (i, person) in record.people.iter().enumerate() {
        row(&mut rows, format!("Person {}", i + 1), person_line(person));
    }
    for witness in &record.witnesses {
        let line = [witness.name.as_str(), witness.contact.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        row(&mut rows, "Witness", line);
    }
    row(&mut rows, "Impact", record.impact.clone());
    for report in &record.reports {
        row(&mut rows, "Reported to", report_line(report));
    }
    for a in &record.attachments {
        row(
            &mut rows,
            "Attachment",
            format!(
                "{} ({} bytes), SHA-256 {}",
                crate::error::shown_plainly(&a.original_name),
                a.size,
                a.sha256
            ),
        );
    }
    RecordView {
        rows,
        what_happened: record.what_happened.clone(),
    }
}

fn versions_view(incident: &PackIncident) -> Vec<VersionView> {
    let count = incident.versions.len() as u32;
    incident
        .versions
        .iter()
        .map(|version| {
            let body = body_of(version);
            VersionView {
                kind: match version.kind {
                    VersionKind::Recorded => "Recorded",
                    VersionKind::Amended => "Amended",
                    VersionKind::Withdrawn => "Withdrawn",
                    VersionKind::Erased => "Erased",
                },
                recorded: from_millis(version.recorded_at_ms)
                    .map(format_uk)
                    .unwrap_or_default(),
                reason: body.as_ref().map(|b| b.reason.clone()).unwrap_or_default(),
                hash: version.hash.clone(),
                erased: version.body.is_none(),
                earlier: (version.version < count)
                    .then(|| body.and_then(|b| b.record))
                    .flatten()
                    .map(|r| record_view(&r)),
            }
        })
        .collect()
}

/// "incidents 3 and 7", "incident 4", "incidents 2, 5 and 9".
fn numbers_in_words(numbers: &[usize]) -> String {
    let words: Vec<String> = numbers.iter().map(usize::to_string).collect();
    match words.as_slice() {
        [one] => format!("incident {one}"),
        [rest @ .., last] => format!("incidents {} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

pub fn render(pack: &Pack) -> Result<String, IncidentError> {
    let records: Vec<Option<IncidentRecord>> = pack
        .incidents
        .iter()
        .map(PackIncident::latest_record)
        .collect();
    // Which incidents (numbered from 1, in pack order) each known person appears in.
    let mut appearances: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, record) in records.iter().enumerate() {
        let Some(record) = record else { continue };
        for id in record.people.iter().filter_map(|p| p.person_id.as_deref()) {
            let numbers = appearances.entry(id).or_default();
            if numbers.last() != Some(&(index + 1)) {
                numbers.push(index + 1);
            }
        }
    }
    let label_of = |id: &str| {
        pack.people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.label.clone())
            .unwrap_or_else(|| "a person linked across incidents".into())
    };
    let summary = |r: &IncidentRecord| {
        format!(
            "{}: {}: {}",
            when(r),
            r.category.label(),
            super::find::summary_of(&r.what_happened)
        )
    };

    let incidents = pack
        .incidents
        .iter()
        .zip(&records)
        .enumerate()
        .map(|(index, (incident, record))| {
            let number = index + 1;
            let mut same_person = Vec::new();
            if let Some(record) = record {
                let mut seen = Vec::new();
                for id in record.people.iter().filter_map(|p| p.person_id.as_deref()) {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    let others: Vec<usize> = appearances
                        .get(id)
                        .map(|n| n.iter().copied().filter(|n| *n != number).collect())
                        .unwrap_or_default();
                    if !others.is_empty() {
                        same_person.push(format!(
                            "Same person ({}) as {}",
                            label_of(id),
                            numbers_in_words(&others)
                        ));
                    }
                }
            }
            IncidentView {
                number,
                title: record
                    .as_ref()
                    .map(|r| format!("{}: {}", format_uk(r.occurred_from), r.category.label()))
                    .unwrap_or_else(|| "Erased incident".into()),
                id: incident.id.clone(),
                status: incident.status.clone(),
                same_person,
                record: record.as_ref().map(record_view),
                versions: versions_view(incident),
            }
        })
        .collect();

    let people = appearances
        .iter()
        .map(|(id, numbers)| PersonView {
            label: label_of(id),
            incidents: numbers
                .iter()
                .map(|n| PersonIncident {
                    number: *n,
                    line: records[n - 1].as_ref().map(summary).unwrap_or_default(),
                })
                .collect(),
        })
        .collect();

    let page = EvidenceReport {
        exported_at: format_uk(pack.exported_at),
        json_name: super::pack_format::JSON_NAME,
        signers: pack.signers.iter().map(|s| s.fingerprint.clone()).collect(),
        record_head: pack.record_head.as_ref().map(|head| {
            format!(
                "{} versions at {}: {}",
                head.versions,
                format_uk(head.at),
                head.hash
            )
        }),
        timeline: records
            .iter()
            .map(|r| {
                r.as_ref()
                    .map(summary)
                    .unwrap_or_else(|| "Erased incident".into())
            })
            .collect(),
        people,
        incidents,
    };
    page.render()
        .map_err(|e| IncidentError::Io(format!("the printable report could not be made: {e}")))
}
