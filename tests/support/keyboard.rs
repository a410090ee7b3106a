//! The keyboard as a person uses it: real key presses through the X server, and a walk
//! through a screen that checks every stop can be seen.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::App;

/// What a keyboard user sees of the focused element: a name for it, whether it sits in
/// the page (not the bars), whether it is clear of the sticky top bar and the phone-width
/// bottom navigation, and whether it shows a focus ring.
pub const FOCUS_STATE: &str = r#"
const name = (e) => e.id || (e.name ? `${e.name}=${e.value}` : e.textContent.trim().slice(0, 40));
const e = document.activeElement;
if (!e || e === document.body) return { name: 'body', inMain: false, clear: true, ringed: true };
const r = e.getBoundingClientRect();
let top = 0;
for (const bar of document.querySelectorAll('.topbar, .alarms:not([hidden])')) top = Math.max(top, bar.getBoundingClientRect().bottom);
const nav = document.querySelector('.mainnav').getBoundingClientRect();
const bottom = nav.width >= innerWidth - 1 ? nav.top : innerHeight;
const style = getComputedStyle(e);
return {
  name: name(e),
  inMain: !!e.closest('main') && e !== document.querySelector('main h1'),
  clear: !!e.closest('.topbar, .mainnav') || (r.top >= top && r.bottom <= bottom && r.height > 0),
  ringed: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
  at: `${Math.round(r.top)}..${Math.round(r.bottom)} between ${Math.round(top)} and ${Math.round(bottom)}`,
};
"#;

/// Every control after the page's heading (where focus lands on arriving at a screen), in
/// document order: what a keyboard user should reach, one Tab at a time.
pub const CONTROLS_AFTER_HEADING: &str = r#"
const name = (e) => e.id || (e.name ? `${e.name}=${e.value}` : e.textContent.trim().slice(0, 40));
const main = document.querySelector('main');
const heading = main.querySelector('h1');
return [...main.querySelectorAll('a[href], button, input, select, textarea, summary')]
  .filter((e) => heading.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)
  .filter((e) => !e.disabled && e.type !== 'hidden' && e.getClientRects().length > 0)
  .filter((e) => !e.closest('details:not([open]) > :not(summary)'))
  // A group of radio buttons is one Tab stop (arrow keys move inside it): the chosen one,
  // or the first when none is chosen.
  .filter((e) => e.type !== 'radio' || (e.form?.querySelector(`input[type=radio][name="${e.name}"]:checked`) ?? e.form?.querySelector(`input[type=radio][name="${e.name}"]`)) === e)
  .map(name);
"#;

impl App {
    /// Presses keys as the real keyboard would, through the X server (xdotool), e.g. "Tab",
    /// "shift+Tab", "Return". WebKitGTK's date fields keep WebDriver's own Tab among their
    /// parts (day, month, …) for ever, while a real Tab moves on, so walking a form needs
    /// real keys.
    pub async fn real_keys(&self, keys: &str) {
        let window = self.x_window();
        self.xdotool(&["key", "--window", &window, keys]);
        // Let the window handle the key before anyone looks.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// Types text on the real keyboard, through the X server.
    pub async fn real_type(&self, text: &str) {
        let window = self.x_window();
        self.xdotool(&["type", "--window", &window, "--delay", "20", text]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    /// Answers the native file or folder dialog titled `title` as a person would: types
    /// `path` into its location box (Ctrl+L) and presses Return.
    pub async fn answer_native_dialog(&self, title: &str, path: &std::path::Path) {
        let found = self.xdotool(&["search", "--sync", "--onlyvisible", "--name", title]);
        let dialog = found
            .lines()
            .next()
            .expect("the dialog's X window")
            .to_string();
        self.xdotool(&["windowfocus", "--sync", &dialog]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Kept under target/e2e/ to look at: the whole screen, dialog over the app.
        let slug: String = title
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let shot = super::screenshot_dir().join(format!("native-dialog-{slug}.png"));
        let captured = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(format!("png:{}", shot.display()))
            .status()
            .expect("ImageMagick's import");
        assert!(captured.success(), "capturing the dialog");
        self.xdotool(&["key", "--window", &dialog, "ctrl+l"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let text = path.display().to_string();
        self.xdotool(&["type", "--window", &dialog, "--delay", "20", &text]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.xdotool(&["key", "--window", &dialog, "Return"]);
    }

    /// The app's X window, focused so that keys reach it.
    fn x_window(&self) -> String {
        let found = self.xdotool(&["search", "--onlyvisible", "--name", "Campaign Safe"]);
        let window = found
            .lines()
            .next()
            .expect("the app's X window")
            .to_string();
        self.xdotool(&["windowfocus", "--sync", &window]);
        window
    }

    fn xdotool(&self, args: &[&str]) -> String {
        // `search --sync` waits for ever; a dialog that never opens must fail the test.
        let output = Command::new("timeout")
            .args(["60", "xdotool"])
            .env("DISPLAY", &self.display)
            .args(args)
            .output()
            .expect("xdotool must be installed: run `make test`");
        assert!(output.status.success(), "xdotool {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Where focus is now, as `FOCUS_STATE` describes it.
    pub async fn focus_state(&self) -> Value {
        self.js(FOCUS_STATE).await
    }

    /// The names of the controls after the heading, as `CONTROLS_AFTER_HEADING` lists them.
    pub async fn controls_after_heading(&self) -> Vec<String> {
        serde_json::from_value(self.js(CONTROLS_AFTER_HEADING).await).expect("a list of names")
    }

    /// Presses real Tab until the focused element is `name`, checking each stop on the way.
    /// Returns the distinct stops inside the page.
    pub async fn tab_to(&self, name: &str) -> Vec<String> {
        self.tab_until("Tab", name, |here, _| here == name).await
    }

    /// As [`App::tab_to`], going back up the screen with Shift+Tab.
    pub async fn shift_tab_to(&self, name: &str) -> Vec<String> {
        self.tab_until("shift+Tab", name, |here, _| here == name)
            .await
    }

    /// Presses real Tab from where focus is until it leaves the page for the bars,
    /// checking each stop on the way. Returns the distinct stops inside the page.
    pub async fn tab_through_page(&self) -> Vec<String> {
        self.tab_until("Tab", "the end of the page", |_, state| {
            state["inMain"] != true
        })
        .await
    }

    async fn tab_until(
        &self,
        key: &str,
        goal: &str,
        done: impl Fn(&str, &Value) -> bool,
    ) -> Vec<String> {
        let mut stops: Vec<String> = Vec::new();
        for _ in 0..150 {
            self.real_keys(key).await;
            let state = self.focus_state().await;
            let here = state["name"].as_str().unwrap_or_default().to_string();
            assert_eq!(
                state["clear"], true,
                "{here} is focused but hidden under a bar: {}",
                state["at"]
            );
            assert_eq!(state["ringed"], true, "{here} is focused but shows no ring");
            if state["inMain"] == true && stops.last() != Some(&here) {
                stops.push(here.clone());
            }
            if !stops.is_empty() && done(&here, &state) {
                return stops;
            }
        }
        panic!("{key} never reached {goal}; stops: {stops:?}");
    }
}
