//! The briefing's advice as checklists: sections from `content/advice/`, ticks in SQLite.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::checklist;
pub use crate::checklist::Ticks;
use crate::content::{self, Checker, ContentError, Source, OFFICIAL_ADVICE_DOMAINS};
use crate::error::ErrorCode;
use crate::storage::StorageError;
use crate::time;

const TITLE_MAX: usize = 80;
const INTRO_MAX: usize = 600;
const ITEM_TEXT_MAX: usize = 200;
const ITEM_DETAIL_MAX: usize = 600;

/// One section of advice, as written in `content/advice/<id>.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviceSection {
    pub id: String,
    /// Position in the list; sections are shown in ascending order.
    pub order: u32,
    pub title: String,
    pub intro: String,
    pub items: Vec<AdviceItem>,
    pub sources: Vec<Source>,
    pub reviewed: NaiveDate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviceItem {
    pub id: String,
    /// The thing to do, as a short imperative line.
    pub text: String,
    /// Why or how, in a sentence or two.
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdviceError {
    #[error("There is no advice section “{0}”.")]
    UnknownSection(String),
    #[error("The advice section “{section}” has no item “{item}”.")]
    UnknownItem { section: String, item: String },
    #[error("The advice could not be loaded: {0}")]
    Content(#[from] ContentError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for AdviceError {
    fn from(error: rusqlite::Error) -> Self {
        AdviceError::Storage(error.into())
    }
}

impl ErrorCode for AdviceError {
    fn code(&self) -> &'static str {
        match self {
            AdviceError::UnknownSection(_) | AdviceError::UnknownItem { .. } => "not_found",
            AdviceError::Content(error) => error.code(),
            AdviceError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            AdviceError::UnknownSection(_) => Some("sectionId"),
            AdviceError::UnknownItem { .. } => Some("itemId"),
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, AdviceError::Content(_) | AdviceError::Storage(_))
    }
}

/// All sections, validated, in display order.
#[derive(Debug, Clone)]
pub struct AdviceLibrary {
    sections: Vec<AdviceSection>,
}

impl AdviceLibrary {
    /// The advice built into this binary.
    pub fn load_embedded() -> Result<Self, ContentError> {
        let files = content::embedded_json_files("advice");
        Self::from_files(
            files
                .iter()
                .map(|(path, text)| (path.as_str(), text.as_str())),
        )
    }

    /// Parses and validates every file; the first problem found is returned.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ContentError> {
        let mut sections: Vec<AdviceSection> = Vec::new();
        let mut orders = HashMap::new();
        for (file, text) in files {
            let section: AdviceSection = content::parse(file, text)?;
            validate_section(&Checker::new(file), file, &section)?;
            if sections.iter().any(|other| other.id == section.id) {
                return Err(Checker::new(file)
                    .error("id", format!("“{}” is used by another section", section.id)));
            }
            if let Some(other) = orders.insert(section.order, section.id.clone()) {
                return Err(Checker::new(file).error(
                    "order",
                    format!("{} is also the order of “{other}”", section.order),
                ));
            }
            sections.push(section);
        }
        if sections.is_empty() {
            return Err(ContentError {
                file: "content/advice/".into(),
                field: "(folder)".into(),
                message: "holds no advice sections".into(),
            });
        }
        sections.sort_by_key(|section| section.order);
        Ok(Self { sections })
    }

    pub fn sections(&self) -> &[AdviceSection] {
        &self.sections
    }

    pub fn section(&self, id: &str) -> Result<&AdviceSection, AdviceError> {
        self.sections
            .iter()
            .find(|section| section.id == id)
            .ok_or_else(|| AdviceError::UnknownSection(id.to_owned()))
    }
}

fn validate_section(
    check: &Checker,
    file: &str,
    section: &AdviceSection,
) -> Result<(), ContentError> {
    check.id("id", &section.id)?;
    let expected_name = format!("{}.json", section.id);
    if !file.ends_with(&format!("/{expected_name}")) {
        return Err(check.error(
            "id",
            format!(
                "“{}” must match the file name ({expected_name})",
                section.id
            ),
        ));
    }
    check.text("title", &section.title, TITLE_MAX)?;
    check.text("intro", &section.intro, INTRO_MAX)?;
    if section.items.is_empty() {
        return Err(check.error(
            "items",
            "is empty; a section needs at least one checklist item",
        ));
    }
    let mut seen = HashSet::new();
    for (index, item) in section.items.iter().enumerate() {
        check.id(&format!("items[{index}].id"), &item.id)?;
        if !seen.insert(item.id.as_str()) {
            return Err(check.error(
                format!("items[{index}].id"),
                format!("“{}” appears twice", item.id),
            ));
        }
        check.text(&format!("items[{index}].text"), &item.text, ITEM_TEXT_MAX)?;
        if let Some(detail) = &item.detail {
            check.text(&format!("items[{index}].detail"), detail, ITEM_DETAIL_MAX)?;
        }
    }
    check.sources("sources", &section.sources, OFFICIAL_ADVICE_DOMAINS)?;
    check.reviewed("reviewed", section.reviewed)
}

/// A section in the list, with its progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionSummary {
    pub id: String,
    pub title: String,
    pub intro: String,
    pub done: usize,
    pub total: usize,
}

/// A section in full, with when each item was ticked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionView {
    pub id: String,
    pub title: String,
    pub intro: String,
    pub items: Vec<ItemView>,
    pub done: usize,
    pub total: usize,
    pub sources: Vec<Source>,
    /// ISO date, e.g. 2026-11-25.
    pub reviewed: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemView {
    pub id: String,
    pub text: String,
    pub detail: Option<String>,
    /// When it was ticked, in UTC (RFC 3339), or null.
    pub ticked_at: Option<DateTime<Utc>>,
    /// The same instant shown in UK time, e.g. "25 Nov 2026, 14:03".
    pub ticked_at_local: Option<String>,
}

pub fn summaries(library: &AdviceLibrary, ticks: &Ticks) -> Vec<SectionSummary> {
    library
        .sections()
        .iter()
        .map(|section| {
            let view = view(section, ticks);
            SectionSummary {
                id: view.id,
                title: view.title,
                intro: view.intro,
                done: view.done,
                total: view.total,
            }
        })
        .collect()
}

pub fn view(section: &AdviceSection, ticks: &Ticks) -> SectionView {
    let items: Vec<ItemView> = section
        .items
        .iter()
        .map(|item| {
            let ticked_at = ticks.at(&section.id, &item.id);
            ItemView {
                id: item.id.clone(),
                text: item.text.clone(),
                detail: item.detail.clone(),
                ticked_at,
                ticked_at_local: ticked_at.map(time::format_local),
            }
        })
        .collect();
    SectionView {
        id: section.id.clone(),
        title: section.title.clone(),
        intro: section.intro.clone(),
        done: items.iter().filter(|item| item.ticked_at.is_some()).count(),
        total: items.len(),
        items,
        sources: section.sources.clone(),
        reviewed: section.reviewed,
    }
}

/// Ticks (keeping the first time it was ticked) or unticks an item, and returns the section.
pub fn set_tick(
    library: &AdviceLibrary,
    conn: &Connection,
    section_id: &str,
    item_id: &str,
    done: bool,
    now: DateTime<Utc>,
) -> Result<SectionView, AdviceError> {
    let section = library.section(section_id)?;
    if !section.items.iter().any(|item| item.id == item_id) {
        return Err(AdviceError::UnknownItem {
            section: section_id.to_owned(),
            item: item_id.to_owned(),
        });
    }
    checklist::set(conn, section_id, item_id, done, now)?;
    Ok(view(section, &Ticks::load(conn)?))
}

#[cfg(test)]
mod tests;
