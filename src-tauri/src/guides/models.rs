//! Which guide fits a device: `content/sos/models.json` lists known models and, for models
//! not listed, product-line rules. Typing is forgiving: case, spaces, punctuation and a
//! leading maker name do not matter ("iphone13" finds iPhone 13).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelTable {
    pub reviewed: NaiveDate,
    pub models: Vec<ModelEntry>,
    /// Names that could be several models: the person is asked which.
    #[serde(default)]
    pub ambiguous: Vec<Ambiguous>,
    /// Tried in order when no model matches.
    pub lines: Vec<LineRule>,
    /// The guide for input nothing matches.
    pub fallback: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelEntry {
    pub name: String,
    pub guide: String,
    /// An OS or model caveat shown with the guide, e.g. an old iPhone stuck on iOS 15.
    #[serde(default)]
    pub caveat: Option<String>,
    /// Other ways people write it ("iPhone SE 2020" for the 2nd generation).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A name that fits several models that need different guides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ambiguous {
    /// Whole names that could be several models.
    #[serde(default)]
    pub names: Vec<String>,
    /// Any name starting with this that no model or product-line rule knew: "iPhone Pro Max"
    /// could be any of six generations, and guessing the old one would tell the opposite.
    #[serde(default)]
    pub prefix: Option<String>,
    /// How to tell which one it is.
    pub question: String,
    /// The listed models (or names to look up again) it could be; none when there are too
    /// many, and the question says where to find the name.
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LineRule {
    /// Matched against the start of the normalised input, e.g. "iphone", "galaxy".
    pub prefix: String,
    /// If set, the number right after the prefix must be at least this.
    #[serde(default)]
    pub min_number: Option<u32>,
    pub guide: String,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MatchKind {
    /// A model in the table.
    Model,
    /// Not listed, but its product line is known.
    Line,
    /// Nothing known: the closest general guide.
    Unknown,
    /// Could be several models: the person chooses (no guide yet).
    Ambiguous,
}

/// What a typed model resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    pub guide_id: String,
    /// The listed model's proper name, when one matched.
    pub model: Option<String>,
    pub match_kind: MatchKind,
    /// A caveat or a "check your own Settings" note; for an ambiguous name, the question.
    pub note: Option<String>,
    /// For an ambiguous name: the models it could be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A maker's name before a model stands for the product line it names, or for nothing:
/// "Samsung S24 Ultra" is a Galaxy, "Google Pixel 8" a Pixel, "Apple Watch 9" a Watch.
pub(super) const MAKERS: &[(&str, &str)] =
    &[("apple", ""), ("samsung", "galaxy"), ("google", "pixel")];

/// How people write a generation: "2nd gen", "second generation", "(2)".
const ORDINALS: &[(&str, &str)] = &[
    ("first", "1"),
    ("1st", "1"),
    ("second", "2"),
    ("2nd", "2"),
    ("third", "3"),
    ("3rd", "3"),
    ("fourth", "4"),
    ("4th", "4"),
];

/// Lowercase letters and digits only (with "+" read as "plus"), a leading maker's name read
/// as its product line, and generations as plain numbers.
pub fn normalise(input: &str) -> String {
    // "Galaxy S23+" is a different phone from "Galaxy S23".
    let lower = input.to_lowercase().replace('+', " plus ");
    let mut words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !matches!(*w, "gen" | "generation"))
        .map(|w| {
            ORDINALS
                .iter()
                .find(|(word, _)| *word == w)
                .map_or(w, |(_, number)| number)
        })
        .collect();
    drop_storage_sizes(&mut words);
    if let Some((_, line)) = MAKERS
        .iter()
        .find(|(maker, _)| Some(maker) == words.first())
    {
        match words.get(1) {
            // "Samsung" alone is a Galaxy; "Apple" alone stays, to be asked about.
            None if !line.is_empty() => words[0] = line,
            None => {}
            Some(next) if line.is_empty() || next == line => {
                words.remove(0);
            }
            Some(_) => words[0] = line,
        }
    }
    words.concat()
}

/// Storage sizes say nothing of the model and would hide it: "iPhone X 64GB", "64 GB".
fn drop_storage_sizes(words: &mut Vec<&str>) {
    let is_size = |w: &str| {
        ["gb", "tb"].iter().any(|unit| {
            w.strip_suffix(unit)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let mut kept = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let unit_after_number = matches!(*word, "gb" | "tb")
            && i > 0
            && words[i - 1].bytes().all(|b| b.is_ascii_digit());
        let number_before_unit = word.bytes().all(|b| b.is_ascii_digit())
            && words
                .get(i + 1)
                .is_some_and(|next| matches!(*next, "gb" | "tb"));
        if !(is_size(word) || unit_after_number || number_before_unit) {
            kept.push(*word);
        }
    }
    *words = kept;
}

/// The number at the start of `rest`, if any ("15promax" gives 15).
fn leading_number(rest: &str) -> Option<u32> {
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub const UNKNOWN_NOTE: &str = "We don’t know this model, so this is the closest general guide. \
    Check your own phone’s Settings for “Emergency SOS” or “Safety and emergency” before you rely on it.";

impl ModelTable {
    /// `key` must already be normalised and non-empty.
    pub fn resolve_key(&self, key: &str) -> Resolution {
        if let Some(entry) = self.models.iter().find(|entry| {
            normalise(&entry.name) == key || entry.aliases.iter().any(|a| normalise(a) == key)
        }) {
            return Resolution {
                guide_id: entry.guide.clone(),
                model: Some(entry.name.clone()),
                match_kind: MatchKind::Model,
                note: entry.caveat.clone(),
                choices: Vec::new(),
            };
        }
        if let Some(ambiguous) = self
            .ambiguous
            .iter()
            .find(|a| a.names.iter().any(|name| normalise(name) == key))
        {
            return ambiguous.resolution();
        }
        for rule in &self.lines {
            let Some(rest) = key.strip_prefix(rule.prefix.as_str()) else {
                continue;
            };
            if let Some(min) = rule.min_number {
                match leading_number(rest) {
                    Some(number) if number >= min => {}
                    _ => continue,
                }
            }
            return Resolution {
                guide_id: rule.guide.clone(),
                model: None,
                match_kind: MatchKind::Line,
                note: Some(rule.note.clone()),
                choices: Vec::new(),
            };
        }
        if let Some(ambiguous) = self.ambiguous.iter().find(|a| {
            a.prefix
                .as_deref()
                .is_some_and(|prefix| key.starts_with(prefix))
        }) {
            return ambiguous.resolution();
        }
        Resolution {
            guide_id: self.fallback.clone(),
            model: None,
            match_kind: MatchKind::Unknown,
            note: Some(UNKNOWN_NOTE.to_owned()),
            choices: Vec::new(),
        }
    }
}

impl Ambiguous {
    fn resolution(&self) -> Resolution {
        Resolution {
            guide_id: String::new(),
            model: None,
            match_kind: MatchKind::Ambiguous,
            note: Some(self.question.clone()),
            choices: self.choices.clone(),
        }
    }
}
