//! Guides and advice live as JSON data in `content/`, embedded at build time so the app works
//! anywhere, and validated when loaded: the Rust types are the schema (unknown fields are
//! rejected), and [`Checker`] adds the rules serde cannot express.

use chrono::NaiveDate;
use include_dir::{include_dir, Dir};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

static CONTENT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/content");

/// Official sites that advice may cite. A host matches itself and its subdomains, so
/// `gov.uk` covers ncsc.gov.uk, npsa.gov.uk and local.gov.uk, and `police.uk` covers
/// protectuk.police.uk and the forces' own sites.
pub const OFFICIAL_ADVICE_DOMAINS: &[&str] = &["gov.uk", "police.uk", "electoralcommission.org.uk"];

/// A problem in a content file, naming the file and the field so an editor can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Content file {file}, {field}: {message}")]
pub struct ContentError {
    pub file: String,
    pub field: String,
    pub message: String,
}

impl ErrorCode for ContentError {
    fn code(&self) -> &'static str {
        "content"
    }
    fn is_fault(&self) -> bool {
        true
    }
}

/// A page an item of content is based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
    /// Why a maker's page for another country is cited: none for the UK was at hand. The
    /// check refuses such a page without this, and the guide shows it beside the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_uk_page: Option<String>,
}

/// The `.json` files directly inside `content/<folder>/`, as (path, text), in path order.
pub fn embedded_json_files(folder: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = CONTENT
        .get_dir(folder)
        .into_iter()
        .flat_map(|dir| dir.files())
        .filter(|file| file.path().extension().is_some_and(|ext| ext == "json"))
        .map(|file| {
            let path = format!("content/{}", file.path().display());
            // Non-UTF-8 bytes become U+FFFD and then fail the text checks with a clear message.
            let text = String::from_utf8_lossy(file.contents()).into_owned();
            (path, text)
        })
        .collect();
    files.sort();
    files
}

/// One embedded file's text, by its path from the repository root (`content/...`).
pub fn embedded_file(path: &str) -> Option<String> {
    let inside = path.strip_prefix("content/")?;
    CONTENT
        .get_file(inside)
        .map(|file| String::from_utf8_lossy(file.contents()).into_owned())
}

/// Parses one file, naming the exact field path on failure (e.g. `items[2].text`).
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ContentError> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        ContentError {
            file: file.to_owned(),
            field: if path == "." {
                "(file)".to_owned()
            } else {
                path
            },
            message: format!("{inner} (line {}, column {})", inner.line(), inner.column()),
        }
    })
}

/// Checks the rules serde cannot: non-empty text within limits, ids, official links, dates.
pub struct Checker<'a> {
    file: &'a str,
}

/// Review dates are checked against fixed bounds, never the device clock: a laptop whose
/// clock is wrong (flat battery, bad sync) must still load its SOS guides.
const EARLIEST_REVIEW: (i32, u32, u32) = (2019, 1, 1);
const LATEST_REVIEW: (i32, u32, u32) = (2035, 12, 31);

fn bound((year, month, day): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

impl<'a> Checker<'a> {
    pub fn new(file: &'a str) -> Self {
        Self { file }
    }

    pub fn error(&self, field: impl Into<String>, message: impl Into<String>) -> ContentError {
        ContentError {
            file: self.file.to_owned(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// Text a person reads: not blank, no stray spaces or control characters, not too long.
    pub fn text(&self, field: &str, value: &str, max_chars: usize) -> Result<(), ContentError> {
        if value.trim().is_empty() {
            return Err(self.error(field, "is empty"));
        }
        if value.trim() != value {
            return Err(self.error(field, "starts or ends with spaces"));
        }
        if value.chars().any(|c| c.is_control() && c != '\n') {
            return Err(self.error(field, "contains a control character"));
        }
        if value.contains('\u{FFFD}') {
            return Err(self.error(field, "is not valid UTF-8"));
        }
        let length = value.chars().count();
        if length > max_chars {
            return Err(self.error(
                field,
                format!("is {length} characters; the limit is {max_chars}"),
            ));
        }
        Ok(())
    }

    /// Ids are stored with the user's ticks, so they are short, lowercase and stable.
    pub fn id(&self, field: &str, value: &str) -> Result<(), ContentError> {
        let well_formed = !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-');
        if well_formed {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!(
                    "“{value}” is not an id (lowercase letters, digits and hyphens, at most 64)"
                ),
            ))
        }
    }

    /// At least one source, each an https page on one of `allowed` (or a subdomain of one).
    pub fn sources(
        &self,
        field: &str,
        sources: &[Source],
        allowed: &[&str],
    ) -> Result<(), ContentError> {
        if sources.is_empty() {
            return Err(self.error(
                field,
                "lists no sources; every item must cite an official page",
            ));
        }
        for (index, source) in sources.iter().enumerate() {
            self.text(&format!("{field}[{index}].title"), &source.title, 160)?;
            let url_field = format!("{field}[{index}].url");
            self.official_url(&url_field, &source.url, allowed)?;
            let why_field = format!("{field}[{index}].no_uk_page");
            match (foreign_vendor_page(&source.url), &source.no_uk_page) {
                (Some(country), None) => {
                    return Err(self.error(
                        &url_field,
                        format!(
                            "“{}” is the maker's page for another country ({country}): cite its UK page, or say in no_uk_page why none is cited",
                            source.url
                        ),
                    ))
                }
                (Some(_), Some(why)) => self.text(&why_field, why, 200)?,
                (None, Some(_)) => {
                    return Err(self.error(
                        &why_field,
                        "is only for a maker's page for another country; this page is not one",
                    ))
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    pub fn official_url(
        &self,
        field: &str,
        value: &str,
        allowed: &[&str],
    ) -> Result<(), ContentError> {
        let url = url::Url::parse(value).map_err(|error| {
            self.error(field, format!("“{value}” is not a web address ({error})"))
        })?;
        if url.scheme() != "https" {
            return Err(self.error(field, format!("“{value}” must use https")));
        }
        // A search engine's or tracker's redirect ("…/url?q=https://…") cites the redirect,
        // not the page: the page's own address is wanted.
        let redirect = url.path() == "/url"
            || url.query_pairs().any(|(_, value)| {
                let value = value.trim_start().to_ascii_lowercase();
                value.starts_with("http://") || value.starts_with("https://")
            });
        if redirect {
            return Err(self.error(
                field,
                format!("“{value}” is a redirect: cite the page it leads to"),
            ));
        }
        let host = url.host_str().unwrap_or_default();
        let official = allowed
            .iter()
            .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")));
        if !official || url.username() != "" || url.password().is_some() || url.port().is_some() {
            return Err(self.error(
                field,
                format!(
                    "“{value}” is not on an official site ({})",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// A review date must be real and plausible (a typed 2062 or 1926 is a typo).
    pub fn reviewed(&self, field: &str, reviewed: NaiveDate) -> Result<(), ContentError> {
        let (earliest, latest) = (bound(EARLIEST_REVIEW), bound(LATEST_REVIEW));
        if reviewed < earliest || reviewed > latest {
            return Err(self.error(
                field,
                format!("{reviewed} is not a plausible review date ({earliest} to {latest})"),
            ));
        }
        Ok(())
    }
}

/// The country of a phone maker's page when it is not the UK's: Samsung and Huawei put
/// the country first in the path (their bare site is not the UK's), Apple a language and
/// region (`en-gb`), Google an `hl` parameter. Instructions differ between countries
/// (emergency numbers, features sold), so a UK user is shown the UK page where one exists.
pub fn foreign_vendor_page(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let on = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let first = url
        .path_segments()
        .and_then(|mut segments| segments.next())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let foreign = |code: &str| (!code.is_empty()).then(|| code.to_string());
    if on("samsung.com") || on("huawei.com") {
        return (first != "uk").then(|| foreign(&first).unwrap_or_else(|| "no country".into()));
    }
    if on("apple.com") {
        let locale = first.len() == 5 && first.as_bytes()[2] == b'-';
        return (locale && first != "en-gb" && first != "en-uk").then(|| first.clone());
    }
    if on("google.com") {
        let language = url
            .query_pairs()
            .find(|(key, _)| key == "hl")
            .map(|(_, value)| value.to_ascii_lowercase())?;
        return (language != "en" && language != "en-gb" && language != "en_gb")
            .then_some(language);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> Checker<'static> {
        Checker::new("content/x.json")
    }

    #[test]
    fn accepts_official_sites_and_their_subdomains() {
        for url in [
            "https://www.gov.uk/government/collections/candidate-security-guidance-collection",
            "https://www.ncsc.gov.uk/cyberaware/home",
            "https://www.npsa.gov.uk/defending-democracy",
            "https://www.protectuk.police.uk/advice-and-guidance",
            "https://www.local.gov.uk/publications/seven-principles",
            "https://www.electoralcommission.org.uk/candidates-and-agents",
        ] {
            checker()
                .official_url("url", url, OFFICIAL_ADVICE_DOMAINS)
                .unwrap();
        }
    }

    #[test]
    fn rejects_unofficial_lookalike_and_insecure_links() {
        for url in [
            "https://example.com/gov.uk",
            "https://notgov.uk/page",
            "https://gov.uk.evil.example/page",
            "http://www.gov.uk/page",
            "https://user@www.gov.uk/page",
            "javascript:alert(1)",
            "www.gov.uk/page",
        ] {
            let error = checker().official_url("sources[0].url", url, OFFICIAL_ADVICE_DOMAINS);
            assert!(error.is_err(), "{url} should be rejected");
        }
    }

    #[test]
    fn a_makers_page_for_another_country_needs_a_reason() {
        let source = |url: &str, why: Option<&str>| Source {
            title: "Emergency SOS".into(),
            url: url.into(),
            no_uk_page: why.map(str::to_string),
        };
        let allowed = &["samsung.com", "huawei.com", "apple.com", "google.com"];
        for (url, country) in [
            ("https://www.samsung.com/de/support/notfall/", "de"),
            ("https://www.samsung.com/us/support/answer/ANS1/", "us"),
            ("https://www.samsung.com/support/answer/", "support"),
            (
                "https://consumer.huawei.com/jp/support/content/ja-jp1",
                "jp",
            ),
            ("https://support.apple.com/en-us/104992", "en-us"),
            ("https://support.apple.com/de-de/104992", "de-de"),
            (
                "https://support.google.com/android/answer/9319337?hl=de",
                "de",
            ),
        ] {
            assert_eq!(foreign_vendor_page(url).as_deref(), Some(country), "{url}");
            let error = checker()
                .sources("sources", &[source(url, None)], allowed)
                .unwrap_err();
            assert_eq!(error.field, "sources[0].url");
            assert!(error.message.contains("no_uk_page"), "{error}");
            checker()
                .sources(
                    "sources",
                    &[source(url, Some("No UK page at hand."))],
                    allowed,
                )
                .unwrap();
            let error = checker()
                .sources("sources", &[source(url, Some(" "))], allowed)
                .unwrap_err();
            assert_eq!(error.field, "sources[0].no_uk_page");
        }
        let uk = "https://support.apple.com/en-gb/104992";
        let error = checker()
            .sources("sources", &[source(uk, Some("None."))], allowed)
            .unwrap_err();
        assert_eq!(error.field, "sources[0].no_uk_page");
        for url in [
            "https://www.samsung.com/uk/support/mobile-devices/emergency-sos/",
            "https://consumer.huawei.com/uk/support/",
            "https://support.apple.com/en-gb/104992",
            "https://support.apple.com/104992",
            "https://support.google.com/android/answer/9319337",
            "https://support.google.com/android/answer/9319337?hl=en-GB",
            "https://www.gov.uk/guidance",
        ] {
            assert_eq!(foreign_vendor_page(url), None, "{url}");
        }
    }

    #[test]
    fn rejects_empty_padded_and_oversize_text() {
        assert!(checker().text("title", "", 10).is_err());
        assert!(checker().text("title", "   ", 10).is_err());
        assert!(checker().text("title", " padded", 10).is_err());
        assert!(checker().text("title", "bell\u{7}", 10).is_err());
        let error = checker().text("title", "eleven char", 10).unwrap_err();
        assert_eq!(error.field, "title");
        assert!(error.message.contains("limit is 10"));
        checker().text("title", "fine", 10).unwrap();
    }

    #[test]
    fn rejects_implausible_review_dates_whatever_the_clock_says() {
        for (year, month, day) in [(2062, 11, 25), (1926, 11, 25), (2018, 12, 31), (2036, 1, 1)] {
            let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
            let error = checker().reviewed("reviewed", date).unwrap_err();
            assert!(error.message.contains("plausible"), "{error}");
        }
        for (year, month, day) in [(2026, 11, 25), (2027, 3, 1), (2019, 1, 1)] {
            let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
            checker().reviewed("reviewed", date).unwrap();
        }
    }

    #[test]
    fn parse_names_the_field_path_of_an_unknown_field() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Doc {
            items: Vec<Source>,
        }
        let error = parse::<Doc>(
            "content/x.json",
            r#"{"items": [{"title": "t", "url": "u", "colour": "red"}]}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "items[0].colour");
        assert!(
            error.message.contains("unknown field `colour`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn parse_reports_malformed_json_with_its_position() {
        let error = parse::<Source>("content/x.json", "{\"title\": ").unwrap_err();
        assert!(error.message.contains("line 1"), "{}", error.message);
    }
}
