//! What an incident record holds, the fixed lists it chooses from, and the rules each field
//! must meet. Field order here is the canonical order that versions are hashed in.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use super::vocabulary::*;
use super::IncidentError;
use crate::error::{has_hidden_characters, hidden_characters_message};

pub const WHAT_HAPPENED_MAX: usize = 20_000;
pub const TEXT_MAX: usize = 2_000;
pub const SHORT_MAX: usize = 200;
pub const LIST_MAX: usize = 30;
/// A little slack for a phone whose clock is slightly ahead; anything later is a mistake.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PersonInvolved {
    /// A known person this is the same as, to show a course of conduct.
    pub person_id: Option<String>,
    pub name: String,
    pub description: String,
    pub clothing: String,
    pub vehicle_make: String,
    pub vehicle_colour: String,
    pub vehicle_registration: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Witness {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Report {
    pub to: ReportedTo,
    #[serde(default)]
    pub on: Option<NaiveDate>,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub officer: String,
    pub follow_up: FollowUp,
    #[serde(default)]
    pub notes: String,
}

/// Where online abuse was posted and what the platform was told. Addresses are kept as
/// typed (they are evidence); only their shape is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct OnlineDetails {
    pub platform: String,
    pub account_handle: String,
    pub account_address: String,
    pub post_address: String,
    pub reported_to_platform_on: Option<NaiveDate>,
    pub platform_report_number: String,
}

impl OnlineDetails {
    fn is_empty(&self) -> bool {
        self == &OnlineDetails::default()
    }
}

/// A file kept with the incident, named by the SHA-256 of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttachmentRef {
    pub sha256: String,
    pub size: u64,
    pub original_name: String,
    pub added_at: DateTime<Utc>,
}

/// What the user says about an incident. Attachments are added through their own command
/// and carried from version to version by the backend, so an edit can never drop one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncidentInput {
    pub occurred_from: DateTime<Utc>,
    #[serde(default)]
    pub occurred_to: Option<DateTime<Utc>>,
    pub category: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub postcode: String,
    pub what_happened: String,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub people: Vec<PersonInvolved>,
    #[serde(default)]
    pub witnesses: Vec<Witness>,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub flags: Vec<Flag>,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub reports: Vec<Report>,
    #[serde(default)]
    pub online: Option<OnlineDetails>,
}

/// One version's record: the validated input plus its attachments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncidentRecord {
    pub occurred_from: DateTime<Utc>,
    pub occurred_to: Option<DateTime<Utc>>,
    pub category: Category,
    pub channel: Option<Channel>,
    pub location: String,
    pub postcode: String,
    pub what_happened: String,
    pub affected: Vec<Affected>,
    pub people: Vec<PersonInvolved>,
    pub witnesses: Vec<Witness>,
    pub impact: String,
    pub flags: Vec<Flag>,
    pub actions: Vec<Action>,
    pub reports: Vec<Report>,
    pub attachments: Vec<AttachmentRef>,
    /// Absent from versions recorded before it existed, and left out when empty, so those
    /// versions' bodies (and hashes) are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<OnlineDetails>,
}

impl IncidentRecord {
    pub fn is_reported(&self) -> bool {
        !self.reports.is_empty()
    }

    /// Text for full-text search: people, and every reference number and officer.
    pub fn people_text(&self) -> String {
        let mut parts = Vec::new();
        for person in &self.people {
            parts.extend([&person.name, &person.description, &person.clothing]);
            parts.extend([
                &person.vehicle_make,
                &person.vehicle_colour,
                &person.vehicle_registration,
            ]);
        }
        for witness in &self.witnesses {
            parts.push(&witness.name);
        }
        join_nonempty(parts)
    }

    pub fn refs_text(&self) -> String {
        let online = self
            .online
            .iter()
            .flat_map(|o| [&o.platform, &o.account_handle, &o.platform_report_number]);
        join_nonempty(
            self.reports
                .iter()
                .flat_map(|r| [&r.reference, &r.officer, &r.notes])
                .chain(online),
        )
    }

    pub fn location_text(&self) -> String {
        join_nonempty([&self.location, &self.postcode])
    }
}

fn join_nonempty<'a>(parts: impl IntoIterator<Item = &'a String>) -> String {
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> IncidentError {
    IncidentError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn text(field: &str, label: &str, value: &str, max: usize) -> Result<String, IncidentError> {
    let value = value.trim();
    if has_hidden_characters(value) {
        return Err(invalid(field, hidden_characters_message(label)));
    }
    let count = value.chars().count();
    if count > max {
        return Err(invalid(
            field,
            format!(
                "{label}: at most {max} characters (this has {count}). Split it or shorten it."
            ),
        ));
    }
    Ok(value.to_owned())
}

fn list_len<T>(field: &str, label: &str, items: &[T]) -> Result<(), IncidentError> {
    if items.len() > LIST_MAX {
        return Err(invalid(
            field,
            format!("{label}: at most {LIST_MAX} entries."),
        ));
    }
    Ok(())
}

fn plausible_time(
    field: &str,
    label: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    crate::plausible::happened(label, at, now).map_err(|message| invalid(field, message))
}

/// UK postcodes, loosely: outward code, a space, inward code ("SW1A 1AA"). Returned tidy.
pub fn normalise_postcode(raw: &str) -> Result<String, IncidentError> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if compact.is_empty() {
        return Ok(String::new());
    }
    let valid_shape = (5..=7).contains(&compact.len())
        && compact.chars().all(|c| c.is_ascii_alphanumeric())
        && compact
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && {
            let inward: Vec<char> = compact.chars().rev().take(3).collect();
            inward[0].is_ascii_alphabetic()
                && inward[1].is_ascii_alphabetic()
                && inward[2].is_ascii_digit()
        };
    if !valid_shape {
        return Err(invalid("postcode", "Postcode: that does not look like a UK postcode, e.g. SW1A 1AA. Leave it empty if unsure."));
    }
    let split = compact.len() - 3;
    Ok(format!("{} {}", &compact[..split], &compact[split..]))
}

/// A web address as pasted from a phone's share sheet: "x.com/…" is accepted as https.
fn web_address(field: &str, label: &str, value: &str) -> Result<String, IncidentError> {
    let value = text(field, label, value, TEXT_MAX)?;
    if value.is_empty() {
        return Ok(value);
    }
    let with_scheme = if value.contains("://") {
        value.clone()
    } else {
        format!("https://{value}")
    };
    match url::Url::parse(&with_scheme) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(value),
        _ => Err(invalid(
            field,
            format!("{label}: that is not a web address. Copy it from the address bar or the post's Share button, e.g. https://x.com/name/status/123."),
        )),
    }
}

fn validate_online(
    online: &OnlineDetails,
    now: DateTime<Utc>,
) -> Result<Option<OnlineDetails>, IncidentError> {
    if let Some(on) = online.reported_to_platform_on {
        crate::plausible::happened_on("Reported to the platform on", on, now)
            .map_err(|message| invalid("online.reportedToPlatformOn", message))?;
    }
    let checked = OnlineDetails {
        platform: text("online.platform", "Platform", &online.platform, SHORT_MAX)?,
        account_handle: text(
            "online.accountHandle",
            "Account name or handle",
            &online.account_handle,
            SHORT_MAX,
        )?,
        account_address: web_address(
            "online.accountAddress",
            "Account’s address",
            &online.account_address,
        )?,
        post_address: web_address("online.postAddress", "Post’s address", &online.post_address)?,
        reported_to_platform_on: online.reported_to_platform_on,
        platform_report_number: text(
            "online.platformReportNumber",
            "Platform’s report number",
            &online.platform_report_number,
            SHORT_MAX,
        )?,
    };
    Ok((!checked.is_empty()).then_some(checked))
}

/// Checks every field and returns the record to store. Attachments come from the caller.
pub fn validate(
    input: &IncidentInput,
    attachments: Vec<AttachmentRef>,
    now: DateTime<Utc>,
) -> Result<IncidentRecord, IncidentError> {
    let what_happened = text(
        "whatHappened",
        "What happened",
        &input.what_happened,
        WHAT_HAPPENED_MAX,
    )?;
    if what_happened.is_empty() {
        return Err(invalid(
            "whatHappened",
            "What happened: write at least a few words. You can add detail later.",
        ));
    }
    plausible_time("occurredFrom", "When it happened", input.occurred_from, now)?;
    if let Some(to) = input.occurred_to {
        plausible_time("occurredTo", "Until", to, now)?;
        if to < input.occurred_from {
            return Err(invalid(
                "occurredTo",
                "Until: the end is before the start. Check both times.",
            ));
        }
    }
    let category = Category::from_key(&input.category)
        .ok_or_else(|| invalid("category", "Type of incident: choose one from the list."))?;
    let channel =
        match input
            .channel
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(key) => Some(Channel::from_key(key).ok_or_else(|| {
                invalid("channel", "How it reached you: choose one from the list.")
            })?),
        };

    list_len("people", "People involved", &input.people)?;
    let mut people = Vec::new();
    for (i, p) in input.people.iter().enumerate() {
        let f = |name: &str| format!("people[{i}].{name}");
        let person = PersonInvolved {
            person_id: p.person_id.clone().filter(|id| !id.trim().is_empty()),
            name: text(&f("name"), "Name", &p.name, SHORT_MAX)?,
            description: text(&f("description"), "Description", &p.description, TEXT_MAX)?,
            clothing: text(&f("clothing"), "Clothing", &p.clothing, TEXT_MAX)?,
            vehicle_make: text(
                &f("vehicleMake"),
                "Vehicle make",
                &p.vehicle_make,
                SHORT_MAX,
            )?,
            vehicle_colour: text(
                &f("vehicleColour"),
                "Vehicle colour",
                &p.vehicle_colour,
                SHORT_MAX,
            )?,
            vehicle_registration: text(
                &f("vehicleRegistration"),
                "Registration",
                &p.vehicle_registration,
                SHORT_MAX,
            )?
            .to_uppercase(),
        };
        let said_nothing = person.person_id.is_none()
            && [
                &person.name,
                &person.description,
                &person.clothing,
                &person.vehicle_make,
                &person.vehicle_colour,
                &person.vehicle_registration,
            ]
            .iter()
            .all(|s| s.is_empty());
        if !said_nothing {
            people.push(person);
        }
    }

    list_len("witnesses", "Witnesses", &input.witnesses)?;
    let mut witnesses = Vec::new();
    for (i, w) in input.witnesses.iter().enumerate() {
        let witness = Witness {
            name: text(
                &format!("witnesses[{i}].name"),
                "Witness name",
                &w.name,
                SHORT_MAX,
            )?,
            contact: text(
                &format!("witnesses[{i}].contact"),
                "Witness contact details",
                &w.contact,
                TEXT_MAX,
            )?,
        };
        if witness.name.is_empty() && !witness.contact.is_empty() {
            return Err(invalid(
                format!("witnesses[{i}].name"),
                "Witness name: add a name (or a description) for these contact details.",
            ));
        }
        if !witness.name.is_empty() {
            witnesses.push(witness);
        }
    }

    list_len("reports", "Reports made", &input.reports)?;
    let mut reports = Vec::new();
    for (i, r) in input.reports.iter().enumerate() {
        if let Some(on) = r.on {
            crate::plausible::happened_on("Date reported", on, now)
                .map_err(|message| invalid(format!("reports[{i}].on"), message))?;
        }
        reports.push(Report {
            to: r.to,
            on: r.on,
            reference: text(
                &format!("reports[{i}].reference"),
                "Reference number",
                &r.reference,
                SHORT_MAX,
            )?,
            officer: text(
                &format!("reports[{i}].officer"),
                "Officer or contact",
                &r.officer,
                SHORT_MAX,
            )?,
            follow_up: r.follow_up,
            notes: text(
                &format!("reports[{i}].notes"),
                "Report notes",
                &r.notes,
                TEXT_MAX,
            )?,
        });
    }

    Ok(IncidentRecord {
        occurred_from: input.occurred_from,
        occurred_to: input.occurred_to,
        category,
        channel,
        location: text("location", "Where", &input.location, TEXT_MAX)?,
        postcode: normalise_postcode(&input.postcode)?,
        what_happened,
        affected: Affected::in_list_order(&input.affected),
        people,
        witnesses,
        impact: text(
            "impact",
            "Impact on you or the team",
            &input.impact,
            TEXT_MAX,
        )?,
        flags: Flag::in_list_order(&input.flags),
        actions: Action::in_list_order(&input.actions),
        reports,
        attachments,
        online: match &input.online {
            Some(online) => validate_online(online, now)?,
            None => None,
        },
    })
}
