//! Per-device SOS guides: how to raise an emergency call on your own phone or watch.
//! Guides and the model table live in `content/sos/`; the user's devices and set-up ticks
//! are stored in SQLite.

mod models;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

pub use self::models::{normalise, MatchKind, ModelTable, Resolution};
use crate::checklist::{self, Ticks};
use crate::content::{self, Checker, ContentError, Source};
use crate::error::ErrorCode;
use crate::storage::StorageError;
use crate::time;

/// Official vendor and UK authority sites that guides may cite.
pub const OFFICIAL_SOS_DOMAINS: &[&str] = &[
    "apple.com",
    "google.com",
    "samsung.com",
    "huawei.com",
    "police.uk",
    "gov.uk",
    "ofcom.org.uk",
    "bt.com",
    "btplc.com",
];

pub const MODEL_MAX_CHARS: usize = 80;
const TEXT_MAX: usize = 400;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Guide {
    pub id: String,
    pub order: u32,
    pub name: String,
    /// Which models and OS versions this guide is for.
    pub applies_to: String,
    #[serde(default)]
    pub diagram: Option<Diagram>,
    /// Ways to raise the alarm, each a short list of steps.
    pub triggers: Vec<Trigger>,
    pub what_happens: Vec<String>,
    pub set_up: Vec<String>,
    pub cancel: Vec<String>,
    /// A safe way to rehearse; empty when the device has none.
    pub practise: Vec<String>,
    pub caveats: Vec<String>,
    pub checklist: Vec<ChecklistItem>,
    pub sources: Vec<Source>,
    pub reviewed: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Trigger {
    pub name: String,
    pub steps: Vec<String>,
}

/// Which buttons to press, drawn by the UI as a simple outline of the device.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Diagram {
    pub device: DeviceShape,
    pub buttons: Vec<DiagramButton>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceShape {
    Phone,
    Watch,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Edge {
    Left,
    Right,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiagramButton {
    pub edge: Edge,
    /// Position along the edge, from 0.1 (top) to 0.9 (bottom).
    pub at: f32,
    pub label: String,
    /// What to do with it, e.g. "Hold", "Press 5×".
    pub action: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChecklistItem {
    pub id: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GuideError {
    #[error("Type your phone or watch model, for example “iPhone 13” or “Galaxy S23”.")]
    EmptyModel,
    #[error("That model name is too long: at most {MODEL_MAX_CHARS} characters.")]
    ModelTooLong,
    #[error(
        "{}",
        crate::error::hidden_characters_message("Your phone or watch model")
    )]
    HiddenCharacters,
    /// The name fits several models: the message says how to tell which.
    #[error("Your phone or watch model: {0}")]
    Ambiguous(String),
    #[error("There is no SOS guide “{0}”.")]
    UnknownGuide(String),
    #[error("The guide “{guide}” has no checklist item “{item}”.")]
    UnknownItem { guide: String, item: String },
    #[error("There is no saved device {0}.")]
    UnknownDevice(i64),
    #[error("The SOS guides could not be loaded: {0}")]
    Content(#[from] ContentError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for GuideError {
    fn from(error: rusqlite::Error) -> Self {
        GuideError::Storage(error.into())
    }
}

impl ErrorCode for GuideError {
    fn code(&self) -> &'static str {
        match self {
            GuideError::EmptyModel
            | GuideError::ModelTooLong
            | GuideError::HiddenCharacters
            | GuideError::Ambiguous(_) => "validation",
            GuideError::UnknownGuide(_)
            | GuideError::UnknownItem { .. }
            | GuideError::UnknownDevice(_) => "not_found",
            GuideError::Content(error) => error.code(),
            GuideError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            GuideError::EmptyModel
            | GuideError::ModelTooLong
            | GuideError::HiddenCharacters
            | GuideError::Ambiguous(_) => Some("model"),
            GuideError::UnknownGuide(_) => Some("guideId"),
            GuideError::UnknownItem { .. } => Some("itemId"),
            GuideError::UnknownDevice(_) => Some("deviceId"),
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, GuideError::Content(_) | GuideError::Storage(_))
    }
}

/// All guides and the model table, validated.
#[derive(Debug, Clone)]
pub struct GuideLibrary {
    guides: Vec<Guide>,
    models: ModelTable,
}

const MODELS_FILE: &str = "content/sos/models.json";

impl GuideLibrary {
    pub fn load_embedded() -> Result<Self, ContentError> {
        let files = content::embedded_json_files("sos");
        let models_text = files
            .iter()
            .find(|(path, _)| path == MODELS_FILE)
            .map(|(_, text)| text.as_str())
            .ok_or_else(|| ContentError {
                file: MODELS_FILE.into(),
                field: "(file)".into(),
                message: "is missing".into(),
            })?;
        let guides = files
            .iter()
            .filter(|(path, _)| path != MODELS_FILE)
            .map(|(path, text)| (path.as_str(), text.as_str()));
        Self::from_files(guides, models_text)
    }

    pub fn from_files<'a>(
        guide_files: impl IntoIterator<Item = (&'a str, &'a str)>,
        models_text: &str,
    ) -> Result<Self, ContentError> {
        let mut guides: Vec<Guide> = Vec::new();
        for (file, text) in guide_files {
            let guide: Guide = content::parse(file, text)?;
            let check = Checker::new(file);
            validate_guide(&check, file, &guide)?;
            if guides
                .iter()
                .any(|other| other.id == guide.id || other.order == guide.order)
            {
                return Err(check.error(
                    "id",
                    format!(
                        "“{}” or its order {} is used by another guide",
                        guide.id, guide.order
                    ),
                ));
            }
            guides.push(guide);
        }
        guides.sort_by_key(|guide| guide.order);
        let models: ModelTable = content::parse(MODELS_FILE, models_text)?;
        validate_models(&Checker::new(MODELS_FILE), &models, &guides)?;
        Ok(Self { guides, models })
    }

    pub fn guides(&self) -> &[Guide] {
        &self.guides
    }

    pub fn guide(&self, id: &str) -> Result<&Guide, GuideError> {
        self.guides
            .iter()
            .find(|guide| guide.id == id)
            .ok_or_else(|| GuideError::UnknownGuide(id.to_owned()))
    }

    /// The guide for a typed model. Odd input is fine; only empty or very long input is refused.
    pub fn resolve(&self, model: &str) -> Result<Resolution, GuideError> {
        if model.chars().count() > MODEL_MAX_CHARS {
            return Err(GuideError::ModelTooLong);
        }
        if crate::error::has_hidden_characters(model) {
            return Err(GuideError::HiddenCharacters);
        }
        let key = normalise(model);
        if key.is_empty() {
            return Err(GuideError::EmptyModel);
        }
        Ok(self.models.resolve_key(&key))
    }
}

fn validate_guide(check: &Checker, file: &str, guide: &Guide) -> Result<(), ContentError> {
    check.id("id", &guide.id)?;
    if !file.ends_with(&format!("/{}.json", guide.id)) {
        return Err(check.error("id", format!("“{}” must match the file name", guide.id)));
    }
    check.text("name", &guide.name, 60)?;
    check.text("appliesTo", &guide.applies_to, TEXT_MAX)?;
    if guide.triggers.is_empty() {
        return Err(check.error(
            "triggers",
            "is empty; a guide must say how to raise the alarm",
        ));
    }
    for (index, trigger) in guide.triggers.iter().enumerate() {
        check.text(&format!("triggers[{index}].name"), &trigger.name, 80)?;
        steps(
            check,
            &format!("triggers[{index}].steps"),
            &trigger.steps,
            true,
        )?;
    }
    steps(check, "whatHappens", &guide.what_happens, true)?;
    steps(check, "setUp", &guide.set_up, true)?;
    steps(check, "cancel", &guide.cancel, true)?;
    steps(check, "practise", &guide.practise, false)?;
    steps(check, "caveats", &guide.caveats, false)?;
    if let Some(diagram) = &guide.diagram {
        for (index, button) in diagram.buttons.iter().enumerate() {
            if !(0.1..=0.9).contains(&button.at) {
                return Err(check.error(
                    format!("diagram.buttons[{index}].at"),
                    "must be between 0.1 and 0.9",
                ));
            }
            check.text(
                &format!("diagram.buttons[{index}].label"),
                &button.label,
                24,
            )?;
            check.text(
                &format!("diagram.buttons[{index}].action"),
                &button.action,
                24,
            )?;
        }
    }
    if guide.checklist.is_empty() {
        return Err(check.error(
            "checklist",
            "is empty; every guide has set-up steps to tick",
        ));
    }
    let mut seen = HashSet::new();
    for (index, item) in guide.checklist.iter().enumerate() {
        check.id(&format!("checklist[{index}].id"), &item.id)?;
        if !seen.insert(&item.id) {
            return Err(check.error(
                format!("checklist[{index}].id"),
                format!("“{}” appears twice", item.id),
            ));
        }
        check.text(&format!("checklist[{index}].text"), &item.text, 160)?;
    }
    check.sources("sources", &guide.sources, OFFICIAL_SOS_DOMAINS)?;
    check.reviewed("reviewed", guide.reviewed)
}

fn steps(
    check: &Checker,
    field: &str,
    steps: &[String],
    required: bool,
) -> Result<(), ContentError> {
    if required && steps.is_empty() {
        return Err(check.error(field, "has no steps"));
    }
    for (index, step) in steps.iter().enumerate() {
        check.text(&format!("{field}[{index}]"), step, TEXT_MAX)?;
    }
    Ok(())
}

fn validate_models(
    check: &Checker,
    table: &ModelTable,
    guides: &[Guide],
) -> Result<(), ContentError> {
    check.reviewed("reviewed", table.reviewed)?;
    let known = |id: &str| guides.iter().any(|guide| guide.id == id);
    let mut seen: std::collections::HashMap<String, &str> = Default::default();
    for (index, entry) in table.models.iter().enumerate() {
        let field = format!("models[{index}]");
        check.text(&format!("{field}.name"), &entry.name, MODEL_MAX_CHARS)?;
        if !known(&entry.guide) {
            return Err(check.error(
                format!("{field}.guide"),
                format!("“{}” is not a guide", entry.guide),
            ));
        }
        if let Some(caveat) = &entry.caveat {
            check.text(&format!("{field}.caveat"), caveat, TEXT_MAX)?;
        }
        for name in std::iter::once(&entry.name).chain(&entry.aliases) {
            if let Some(other) = seen.insert(normalise(name), &entry.name) {
                return Err(check.error(
                    format!("{field}.name"),
                    format!("“{name}” is listed twice (also for “{other}”)"),
                ));
            }
        }
    }
    for (index, ambiguous) in table.ambiguous.iter().enumerate() {
        let field = format!("ambiguous[{index}]");
        check.text(&format!("{field}.question"), &ambiguous.question, TEXT_MAX)?;
        for name in &ambiguous.names {
            if let Some(model) = seen.get(&normalise(name)) {
                return Err(check.error(
                    format!("{field}.names"),
                    format!("“{name}” is already the model “{model}”"),
                ));
            }
        }
        if ambiguous.names.is_empty() == ambiguous.prefix.is_none() {
            return Err(check.error(
                format!("{field}.names"),
                "must have either names or a prefix",
            ));
        }
        if let Some(prefix) = &ambiguous.prefix {
            check_prefix(check, &format!("{field}.prefix"), prefix)?;
        }
        // A choice is looked up again when picked: it must lead somewhere known.
        let leads_on = |choice: &String| {
            let key = normalise(choice);
            !key.is_empty() && table.resolve_key(&key).match_kind != MatchKind::Unknown
        };
        if ambiguous.choices.len() == 1 || !ambiguous.choices.iter().all(leads_on) {
            return Err(check.error(
                format!("{field}.choices"),
                "must be none, or two or more names the table knows",
            ));
        }
    }
    for (index, rule) in table.lines.iter().enumerate() {
        let field = format!("lines[{index}]");
        check_prefix(check, &format!("{field}.prefix"), &rule.prefix)?;
        // An earlier rule for any number with a shorter prefix would always win.
        if let Some(earlier) = table.lines[..index].iter().find(|earlier| {
            earlier.min_number.is_none() && rule.prefix.starts_with(earlier.prefix.as_str())
        }) {
            return Err(check.error(
                format!("{field}.prefix"),
                format!(
                    "can never match: the rule for “{}” comes first",
                    earlier.prefix
                ),
            ));
        }
        if !known(&rule.guide) {
            return Err(check.error(
                format!("{field}.guide"),
                format!("“{}” is not a guide", rule.guide),
            ));
        }
        check.text(&format!("{field}.note"), &rule.note, TEXT_MAX)?;
    }
    if !known(&table.fallback) {
        return Err(check.error("fallback", format!("“{}” is not a guide", table.fallback)));
    }
    Ok(())
}

/// A prefix must be something typing can produce: "applewatch" never can, because a leading
/// "Apple" is dropped before the model ("Apple Watch 9" is looked up as "watch9").
fn check_prefix(check: &Checker, field: &str, prefix: &str) -> Result<(), ContentError> {
    if prefix.is_empty() || normalise(prefix) != prefix {
        return Err(check.error(field, "must be lowercase letters and digits"));
    }
    for (maker, _) in models::MAKERS {
        if let Some(rest) = prefix.strip_prefix(maker).filter(|rest| !rest.is_empty()) {
            if normalise(&format!("{maker} {rest}")) != prefix {
                return Err(check.error(
                    field,
                    format!("can never match: a leading “{maker}” is read differently"),
                ));
            }
        }
    }
    Ok(())
}

/// The id under which a guide's set-up ticks are stored.
fn checklist_id(guide_id: &str) -> String {
    format!("sos:{guide_id}")
}

/// A guide with when each set-up item was ticked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuideView {
    #[serde(flatten)]
    pub guide: Guide,
    pub ticks: Vec<TickView>,
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TickView {
    pub item_id: String,
    pub ticked_at: DateTime<Utc>,
    pub ticked_at_local: String,
}

pub fn view(guide: &Guide, ticks: &Ticks) -> GuideView {
    let list = checklist_id(&guide.id);
    let ticks: Vec<TickView> = guide
        .checklist
        .iter()
        .filter_map(|item| {
            ticks.at(&list, &item.id).map(|at| TickView {
                item_id: item.id.clone(),
                ticked_at: at,
                ticked_at_local: time::format_local(at),
            })
        })
        .collect();
    GuideView {
        done: ticks.len(),
        total: guide.checklist.len(),
        ticks,
        guide: guide.clone(),
    }
}

pub fn set_tick(
    library: &GuideLibrary,
    conn: &Connection,
    guide_id: &str,
    item_id: &str,
    done: bool,
    now: DateTime<Utc>,
) -> Result<GuideView, GuideError> {
    let guide = library.guide(guide_id)?;
    if !guide.checklist.iter().any(|item| item.id == item_id) {
        return Err(GuideError::UnknownItem {
            guide: guide_id.to_owned(),
            item: item_id.to_owned(),
        });
    }
    checklist::set(conn, &checklist_id(guide_id), item_id, done, now)?;
    Ok(view(guide, &Ticks::load(conn)?))
}

/// A device the user saved, with the guide it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: i64,
    pub model: String,
    pub guide_id: String,
    pub guide_name: String,
}

pub fn devices(library: &GuideLibrary, conn: &Connection) -> Result<Vec<Device>, GuideError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, model, guide_id FROM my_device ORDER BY added_at, id")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut devices = Vec::new();
    for row in rows {
        let (id, model, guide_id) = row?;
        // A guide retired from the content falls back to whatever the model resolves to now.
        let guide_id = match library.guide(&guide_id) {
            Ok(_) => guide_id,
            Err(_) => library
                .resolve(&model)
                .map(|r| r.guide_id)
                .unwrap_or(guide_id),
        };
        let guide_name = library
            .guide(&guide_id)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        devices.push(Device {
            id,
            model,
            guide_id,
            guide_name,
        });
    }
    Ok(devices)
}

/// Saves a model (resolving its guide); saving the same model again changes nothing.
pub fn add_device(
    library: &GuideLibrary,
    conn: &Connection,
    model: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Device>, GuideError> {
    let resolution = library.resolve(model)?;
    if resolution.match_kind == MatchKind::Ambiguous {
        return Err(GuideError::Ambiguous(resolution.note.unwrap_or_default()));
    }
    let name = resolution
        .model
        .clone()
        .unwrap_or_else(|| model.trim().to_owned());
    let existing: Option<i64> = conn
        .query_row(
            "SELECT id FROM my_device WHERE model = ?1",
            [&name],
            |row| row.get(0),
        )
        .optional()?;
    if existing.is_none() {
        conn.execute(
            "INSERT INTO my_device (model, guide_id, added_at) VALUES (?1, ?2, ?3)",
            params![name, resolution.guide_id, time::to_millis(now)],
        )?;
    }
    devices(library, conn)
}

pub fn remove_device(
    library: &GuideLibrary,
    conn: &Connection,
    id: i64,
) -> Result<Vec<Device>, GuideError> {
    if conn.execute("DELETE FROM my_device WHERE id = ?1", [id])? == 0 {
        return Err(GuideError::UnknownDevice(id));
    }
    devices(library, conn)
}

#[cfg(test)]
mod tests;
