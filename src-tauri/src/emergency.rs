//! What the Emergency screen says, from `content/emergency.json`. The "Call 999" panel
//! itself is built into the UI so it shows even if this cannot be loaded.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::content::{self, Checker, ContentError, Source};
use crate::guides::OFFICIAL_SOS_DOMAINS;

const FILE: &str = "content/emergency.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmergencyInfo {
    pub sections: Vec<EmergencySection>,
    pub sources: Vec<Source>,
    pub reviewed: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmergencySection {
    pub id: String,
    pub title: String,
    /// Numbered steps rather than a list of points.
    pub ordered: bool,
    #[serde(default)]
    pub intro: Option<String>,
    pub items: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// A number to offer as a call link.
    #[serde(default)]
    pub call: Option<String>,
}

impl EmergencyInfo {
    pub fn load_embedded() -> Result<Self, ContentError> {
        let text = content::embedded_file(FILE).ok_or_else(|| ContentError {
            file: FILE.into(),
            field: "(file)".into(),
            message: "is missing".into(),
        })?;
        Self::from_text(&text)
    }

    pub fn from_text(text: &str) -> Result<Self, ContentError> {
        let info: EmergencyInfo = content::parse(FILE, text)?;
        let check = Checker::new(FILE);
        if info.sections.is_empty() {
            return Err(check.error("sections", "is empty"));
        }
        let mut ids = HashSet::new();
        for (index, section) in info.sections.iter().enumerate() {
            let field = format!("sections[{index}]");
            check.id(&format!("{field}.id"), &section.id)?;
            if !ids.insert(&section.id) {
                return Err(check.error(
                    format!("{field}.id"),
                    format!("“{}” appears twice", section.id),
                ));
            }
            check.text(&format!("{field}.title"), &section.title, 80)?;
            if section.items.is_empty() {
                return Err(check.error(format!("{field}.items"), "has no steps"));
            }
            for (item_index, item) in section.items.iter().enumerate() {
                check.text(&format!("{field}.items[{item_index}]"), item, 300)?;
            }
            for (name, text) in [("intro", &section.intro), ("note", &section.note)] {
                if let Some(text) = text {
                    check.text(&format!("{field}.{name}"), text, 400)?;
                }
            }
            if let Some(number) = &section.call {
                if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(check.error(format!("{field}.call"), "must be digits only"));
                }
            }
        }
        check.sources("sources", &info.sources, OFFICIAL_SOS_DOMAINS)?;
        check.reviewed("reviewed", info.reviewed)?;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> String {
        content::embedded_file(FILE).unwrap()
    }

    #[test]
    fn the_embedded_emergency_content_is_valid_and_covers_the_uk_facts() {
        let info = EmergencyInfo::load_embedded().unwrap_or_else(|e| panic!("{e}"));
        let all: String = info
            .sections
            .iter()
            .flat_map(|s| s.items.iter().chain(s.note.iter()))
            .cloned()
            .collect();
        for fact in [
            "Press 55",
            "does not tell the police where you are",
            "101",
            "register",
            "SIM card",
            "don’t hang up",
        ] {
            assert!(all.contains(fact), "missing: {fact}");
        }
    }

    #[test]
    fn rejects_empty_steps_bad_numbers_and_unofficial_sources() {
        let error = EmergencyInfo::from_text(&embedded().replace("\"Don’t go home.\",", "\"\","))
            .unwrap_err();
        assert_eq!(error.field, "sections[1].items[0]");
        let error =
            EmergencyInfo::from_text(&embedded().replace("\"call\": \"101\"", "\"call\": \"1O1\""))
                .unwrap_err();
        assert_eq!(error.field, "sections[2].call");
        let error = EmergencyInfo::from_text(&embedded().replace(
            "https://www.iow.gov.uk/housing-and-adult-social-care/adult-social-care/adult-safeguarding/immediate-danger/",
            "https://www.the-sun.com/silent",
        ))
        .unwrap_err();
        assert_eq!(error.field, "sources[2].url");
        let error = EmergencyInfo::from_text(&embedded().replace(
            "\"reviewed\": \"2026-12-07\"",
            "\"reviewed\": \"2062-12-05\"",
        ))
        .unwrap_err();
        assert_eq!(error.field, "reviewed");
    }
}
