//! axe-core, the accessibility checker, run in the app's own window over WebDriver. `make
//! test` installs it from npm into the user's cache folder.

use std::path::PathBuf;

use super::App;

const AXE_VERSION: &str = "4.10.3";

/// axe-core's script, as `scripts/setup.sh test` installs it.
fn source() -> String {
    let path = match std::env::var_os("CAMPAIGN_SAFE_AXE") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache")
            })
            .join("campaign-safe")
            .join(format!("axe-core-{AXE_VERSION}"))
            .join("node_modules/axe-core/axe.min.js"),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is not at {} ({e}): run `make test`, which installs it",
            path.display()
        )
    })
}

impl App {
    /// axe's violations on the page as it is now, one line each: impact, rule, and the first
    /// elements it found.
    pub async fn axe_violations(&self) -> Vec<String> {
        if self.js("return typeof window.axe").await != "object" {
            self.client
                .execute(&source(), vec![])
                .await
                .unwrap_or_else(|e| panic!("loading axe-core into the page: {e}"));
        }
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then((r) => done(r.violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${
                     v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ')}`)))
                   .catch((e) => done([`axe could not run: ${e}`]));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("running axe-core: {e}"));
        let mut found: Vec<String> =
            serde_json::from_value(found).unwrap_or_else(|e| panic!("axe's answer: {e}"));
        // axe no longer checks this, and a label or an error tied to the wrong field is as bad.
        let duplicates = self
            .js("const seen = new Map();
                 for (const e of document.querySelectorAll('[id]')) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
                 return [...seen].filter(([, n]) => n > 1).map(([id]) => id)")
            .await;
        for id in duplicates.as_array().into_iter().flatten() {
            found.push(format!(
                "serious duplicate-id: id=\"{}\" is used more than once",
                id.as_str().unwrap_or_default()
            ));
        }
        // Fields whose text is smaller than the rest (WebKit's own 13 px for text areas).
        let small = self
            .js(
                "return [...document.querySelectorAll('input, select, textarea')]
                   .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16)
                   .map((e) => e.id || e.name || e.tagName)",
            )
            .await;
        for field in small.as_array().into_iter().flatten() {
            found.push(format!(
                "moderate small-text: the field {field} has text under 16 px"
            ));
        }
        found
    }
}
