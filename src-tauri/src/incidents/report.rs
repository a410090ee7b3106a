//! The pack's human-readable parts: a printable HTML report and a CSV for spreadsheets.
//! Every piece of recorded text is escaped; the report has no scripts and loads nothing.

use super::chain::VersionKind;
use super::model::{IncidentRecord, PersonInvolved, Report};
use super::pack::{body_of, Pack, PackIncident};
use super::IncidentError;
use crate::time::{format_uk, from_millis};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn when(record: &IncidentRecord) -> String {
    match record.occurred_to {
        Some(to) => format!("{} to {}", format_uk(record.occurred_from), format_uk(to)),
        None => format_uk(record.occurred_from),
    }
}

fn labels<T: Copy>(items: &[T], label: fn(T) -> &'static str) -> String {
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

fn row(out: &mut String, label: &str, value: &str) {
    if !value.is_empty() {
        out.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n",
            escape(label),
            escape(value)
        ));
    }
}

fn record_table(out: &mut String, record: &IncidentRecord) {
    out.push_str("<table>\n");
    row(out, "When", &when(record));
    row(out, "Type", record.category.label());
    row(
        out,
        "How it reached them",
        record.channel.map(|c| c.label()).unwrap_or(""),
    );
    row(out, "Where", &record.location_text());
    row(
        out,
        "Who was affected",
        &labels(&record.affected, |a| a.label()),
    );
    row(out, "Warning signs", &labels(&record.flags, |f| f.label()));
    row(
        out,
        "Actions taken",
        &labels(&record.actions, |a| a.label()),
    );
    for (i, person) in record.people.iter().enumerate() {
        row(out, &format!("Person {}", i + 1), &person_line(person));
    }
    for witness in &record.witnesses {
        row(
            out,
            "Witness",
            &[witness.name.as_str(), witness.contact.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    row(out, "Impact", &record.impact);
    for report in &record.reports {
        row(out, "Reported to", &report_line(report));
    }
    for a in &record.attachments {
        row(
            out,
            "Attachment",
            &format!(
                "{} ({} bytes), SHA-256 {}",
                a.original_name, a.size, a.sha256
            ),
        );
    }
    out.push_str("</table>\n");
    out.push_str(&format!(
        "<p class=\"words\">{}</p>\n",
        escape(&record.what_happened)
    ));
}

fn incident_section(out: &mut String, number: usize, incident: &PackIncident) {
    let latest = incident.latest_record();
    let title = latest
        .as_ref()
        .map(|r| format!("{}: {}", format_uk(r.occurred_from), r.category.label()))
        .unwrap_or_else(|| "Erased incident".into());
    out.push_str(&format!(
        "<section>\n<h2>{number}. {}</h2>\n",
        escape(&title)
    ));
    out.push_str(&format!(
        "<p class=\"meta\">Incident {} · status {} · {} version(s)</p>\n",
        escape(&incident.id),
        escape(&incident.status),
        incident.versions.len()
    ));
    if let Some(record) = &latest {
        record_table(out, record);
    }
    out.push_str("<h3>Version history</h3>\n<ol class=\"history\">\n");
    for version in &incident.versions {
        let recorded = from_millis(version.recorded_at_ms)
            .map(format_uk)
            .unwrap_or_default();
        let reason = body_of(version)
            .map(|b| b.reason)
            .filter(|r| !r.is_empty())
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let kind = match version.kind {
            VersionKind::Recorded => "Recorded",
            VersionKind::Amended => "Amended",
            VersionKind::Withdrawn => "Withdrawn",
            VersionKind::Erased => "Erased",
        };
        out.push_str(&format!(
            "<li><strong>{kind}</strong> {}{}<br><span class=\"hash\">SHA-256 {}</span>",
            escape(&recorded),
            escape(&reason),
            escape(&version.hash)
        ));
        if version.body.is_none() {
            out.push_str(" <em>(content erased)</em>");
        } else if version.version < incident.versions.len() as u32 {
            if let Some(record) = body_of(version).and_then(|b| b.record) {
                out.push_str("<details><summary>This version in full</summary>");
                record_table(out, &record);
                out.push_str("</details>");
            }
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</section>\n");
}

pub fn html(pack: &Pack) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Incident log: evidence pack</title>\n<style>\n\
         body{font:11pt/1.45 system-ui,sans-serif;max-width:48em;margin:1em auto;padding:0 1em;color:#111}\n\
         table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}\n\
         th{width:12em;background:#eee}.words{white-space:pre-wrap;border-left:4px solid #333;padding-left:.7em}\n\
         .hash{font-family:monospace;font-size:9pt;word-break:break-all}.meta{color:#333}\n\
         section{page-break-inside:avoid;border-top:2px solid #333;margin-top:1.5em}\n\
         @media print{details{display:block}summary{display:none}}\n</style></head><body>\n",
    );
    out.push_str("<h1>Incident log: evidence pack</h1>\n");
    out.push_str(&format!(
        "<p>Exported from Campaign Safe on {}. {} incident(s), oldest first. Times are UK time. \
         Each version carries a SHA-256 hash that includes the hash of the version before, so any later \
         change to a recorded version shows. The file {} holds the same versions for checking.</p>\n",
        escape(&format_uk(pack.exported_at)),
        pack.incidents.len(),
        super::pack::JSON_NAME
    ));
    if !pack.signers.is_empty() {
        out.push_str(
            "<p>Each version is also signed by the device that recorded it. Signing keys, by \
             fingerprint (ask the sender to confirm theirs another way, such as by phone):</p>\n<ul>\n",
        );
        for signer in &pack.signers {
            out.push_str(&format!(
                "<li><code>{}</code></li>\n",
                escape(&signer.fingerprint)
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Timeline</h2>\n<ol>\n");
    for incident in &pack.incidents {
        let line = incident
            .latest_record()
            .map(|r| {
                format!(
                    "{}: {}: {}",
                    when(&r),
                    r.category.label(),
                    super::find::summary_of(&r.what_happened)
                )
            })
            .unwrap_or_else(|| "Erased incident".into());
        out.push_str(&format!("<li>{}</li>\n", escape(&line)));
    }
    out.push_str("</ol>\n");
    for (index, incident) in pack.incidents.iter().enumerate() {
        incident_section(&mut out, index + 1, incident);
    }
    out.push_str("</body></html>\n");
    out
}

/// Spreadsheets run cells that start with these as formulas; a leading apostrophe stops it.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// Spreadsheets read a file as UTF-8 only when it starts with this mark; without it
/// "Siân Ó Briain" comes out garbled in their default settings.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

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
            .map(format_uk)
            .unwrap_or_default();
        let hash = incident
            .versions
            .last()
            .map(|v| v.hash.clone())
            .unwrap_or_default();
        let r = incident.latest_record();
        let fields = match &r {
            Some(r) => vec![
                format_uk(r.occurred_from),
                r.occurred_to.map(format_uk).unwrap_or_default(),
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
                    .map(|a| format!("{} sha256:{}", a.original_name, a.sha256))
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
