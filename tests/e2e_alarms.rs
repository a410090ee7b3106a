//! End-to-end: alarms in the real window, with a recording notification server on the app's
//! D-Bus session bus. Screenshots go to target/e2e/alarms-*.png.

#![allow(clippy::await_holding_lock)]

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use campaign_safe_lib::checkins::Mode;
use support::dunst::Dunst;
use support::notification_server::NotificationServer;
use support::{seed_session, serial, App, Desktop, Driver};

/// The session ids of the alarms on screen, top to bottom.
async fn alarm_sessions(app: &App) -> Vec<i64> {
    let ids = app
        .js("return [...document.querySelectorAll('#alarms .alarm')].map(a => Number(a.dataset.sessionId))")
        .await;
    serde_json::from_value(ids).unwrap_or_default()
}

async fn wait_for_alarms(app: &App, expected: &[i64]) {
    // Generous: on a cold, loaded machine the first window of a run can take a while.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let shown = alarm_sessions(app).await;
        if shown == expected {
            return;
        }
        if Instant::now() >= deadline {
            let page = app
                .js("return document.getElementById('main').dataset.hash + ' | ' + document.body.innerText.slice(0, 400)")
                .await;
            panic!(
                "the alarms shown were {shown:?}, expected {expected:?}; the window showed: {page}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where a point of the page lands: the element a click there would reach.
async fn element_at(app: &App, css: &str) -> Value {
    app.js(&format!(
        "const r = document.querySelector({css:?}).getBoundingClientRect();
         const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
         return hit && (hit.closest({css:?}) ? 'itself' : hit.className || hit.tagName);"
    ))
    .await
}

#[tokio::test]
async fn two_missed_check_ins_give_two_alarms_and_a_notification_answer_clears_one() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let ward3 = seed_session(
        &desktop,
        data.path(),
        "Ward 3",
        &["Asha", "Ben"],
        Mode::Me,
        45,
    );
    let ward5 = seed_session(
        &desktop,
        data.path(),
        "Ward 5",
        &["Cat", "Dev"],
        Mode::Watching,
        44,
    );
    let server = NotificationServer::start(&desktop.bus, true);

    {
        let driver = &Driver::start(&desktop, data.path());
        let app = App::launch(driver).await;
        wait_for_alarms(&app, &[ward3, ward5]).await;
        let heading = app.text("#alarms .alarms-count").await;
        assert_eq!(heading, "2 missed check-ins");
        assert!(app
            .text("#alarms")
            .await
            .contains("Cat and Dev missed a check-in"));

        // Two critical notices, one per alarm.
        let ward3_notice = server.wait_for("Missed check-in: Ward 3");
        let ward5_notice = server.wait_for("Cat and Dev missed a check-in");
        assert_eq!(
            (ward3_notice.urgency, ward5_notice.urgency),
            (Some(2), Some(2))
        );

        // The alarms never cover the navigation or the Emergency button.
        app.resize(1280, 800).await;
        app.go("#/today").await;
        app.wait_for_text(".session-list", "Missed check-in").await;
        for link in [
            "#emergency-button",
            ".mainnav a[data-screen='today']",
            ".mainnav a[data-screen='checkins']",
            ".mainnav a[data-screen='incidents']",
        ] {
            assert_eq!(element_at(&app, link).await, "itself", "{link} at 1280 px");
        }
        app.screenshot("alarms-two-missed").await;
        app.resize(360, 740).await;
        for link in [
            "#emergency-button",
            ".mainnav a[data-screen='today']",
            ".mainnav a[data-screen='advice']",
        ] {
            assert_eq!(element_at(&app, link).await, "itself", "{link} at 360 px");
        }
        let share = app
            .js("return document.getElementById('alarms').getBoundingClientRect().height / innerHeight")
            .await
            .as_f64()
            .unwrap();
        assert!(
            share <= 0.34,
            "at 360 px the alarms take {share:.2} of the screen"
        );
        app.screenshot("alarms-two-missed").await;
        // Collapsed to one line, and open again.
        app.click("#alarms .alarms-toggle").await;
        let collapsed = app
            .js("return document.getElementById('alarms').getBoundingClientRect().height")
            .await
            .as_f64()
            .unwrap();
        assert!(collapsed < 70.0, "collapsed alarms are {collapsed} px tall");
        assert_eq!(app.text("#alarms .alarms-toggle").await, "Show");
        app.screenshot("alarms-collapsed").await;
        app.click("#alarms .alarms-toggle").await;
        app.wait_for("#alarms .alarm-list:not([hidden])").await;
        app.resize(1280, 800).await;

        // High contrast: every control on the alarm stands out from the alarm itself.
        app.click("#display-choice option[value='contrast']").await;
        let clashes = app
            .js("return [...document.querySelectorAll('#alarms .alarm button, #alarms .alarm a')].filter(b => {
                   const alarm = getComputedStyle(b.closest('.alarm')).backgroundColor;
                   const own = getComputedStyle(b);
                   const edge = own.backgroundColor === 'rgba(0, 0, 0, 0)' ? own.borderColor : own.backgroundColor;
                   return edge === alarm || own.color === alarm && own.backgroundColor === 'rgba(0, 0, 0, 0)';
                 }).map(b => b.textContent)")
            .await;
        assert_eq!(clashes, Value::Array(vec![]), "controls lost on the alarm");
        app.screenshot("alarms-two-missed-high-contrast").await;
        app.click("#display-choice option[value='auto']").await;

        // "I'm OK" pressed on Ward 3's notification: that alarm goes from the stack and its
        // card without a reload, its notice is closed, and Ward 5's alarm stays.
        let marker = app.js("return (window.__loaded = Math.random())").await;
        server.press(ward3_notice.id, "check-in", || {
            server.closed().contains(&ward3_notice.id)
        });
        wait_for_alarms(&app, &[ward5]).await;
        app.wait_for_text(
            &format!(".session-list [data-session-id='{ward3}'] .session-status"),
            "On schedule",
        )
        .await;
        app.wait_for_text(
            &format!(".session-list [data-session-id='{ward5}'] .session-status"),
            "Missed check-in",
        )
        .await;
        assert_eq!(app.js("return window.__loaded").await, marker, "no reload");
        assert!(
            !server.closed().contains(&ward5_notice.id),
            "Ward 5's notice stays"
        );
        let session = app
            .js(&format!("return document.querySelector(\"[data-session-id='{ward3}'] .countdown\").textContent"))
            .await;
        assert!(
            session.as_str().unwrap_or_default().starts_with("in "),
            "{session}"
        );
        app.js("window.scrollTo(0, 0)").await;
        app.screenshots("alarms-one-cleared").await;
        app.quit(driver).await;
    }

    // Three missed sessions at the next start (Ward 3 missed again 45 minutes on): three
    // alarms, one each, and one notice each.
    let ward7 = seed_session(
        &desktop,
        data.path(),
        "Ward 7",
        &["Eve"],
        Mode::Watching,
        50,
    );
    let before = server.sent().len();
    let driver = &Driver::start_with(
        &desktop,
        data.path(),
        &[("CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES", "45")],
    );
    let app = App::launch(driver).await;
    // Most overdue first: Ward 7 was due 20 minutes after it started, 50 minutes ago.
    wait_for_alarms(&app, &[ward7, ward5, ward3]).await;
    app.wait_for_text("#alarms .alarms-count", "3 missed check-ins")
        .await;
    // Give any duplicate time to arrive, then count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(alarm_sessions(&app).await, [ward7, ward5, ward3]);
    let closed = server.closed();
    let up: Vec<String> = server.sent()[before..]
        .iter()
        .filter(|s| !closed.contains(&s.id))
        .map(|s| s.summary.clone())
        .collect();
    assert_eq!(up.len(), 3, "one notice up per alarm: {up:?}");
    app.screenshots("alarms-three-after-restart").await;
    app.quit(driver).await;
}

/// The page's address, once it is the page of one of `sessions`.
async fn wait_for_session_page(app: &App, sessions: &[i64]) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let hash = app.js("return location.hash").await;
        let opened = hash
            .as_str()
            .and_then(|h| h.strip_prefix("#/checkins/"))
            .and_then(|id| id.parse::<i64>().ok());
        if let Some(id) = opened.filter(|id| sessions.contains(id)) {
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "the window did not open a session's page; it shows {hash}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Everything the app logged in `data`.
fn app_log(data: &Path) -> String {
    std::fs::read_dir(data.join("logs"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// With a real daemon (dunst, default settings): its own "default" action (a middle click,
/// or `dunstctl action`) opens the session; quitting takes every notice down; and after the
/// app is killed, the next start takes down what it left and shows exactly the open alarms.
#[tokio::test]
async fn notices_on_dunst_never_outlive_their_alarm() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let ward3 = seed_session(
        &desktop,
        data.path(),
        "Ward 3",
        &["Asha", "Ben"],
        Mode::Me,
        45,
    );
    let ward5 = seed_session(
        &desktop,
        data.path(),
        "Ward 5",
        &["Cat", "Dev"],
        Mode::Watching,
        44,
    );
    let dunst = Dunst::start(&desktop);

    {
        let driver = &Driver::start(&desktop, data.path());
        let app = App::launch(driver).await;
        wait_for_alarms(&app, &[ward3, ward5]).await;
        dunst.wait_up(2, "one notice per missed check-in");
        dunst.screenshot("notices-after-restart-0-first-start");
        app.go("#/today").await;
        // dunst's default action (what a middle click does) brings the session forward.
        dunst.ctl(&["action", "0"]);
        let opened = wait_for_session_page(&app, &[ward3, ward5]).await;
        app.wait_for_text("main h1", if opened == ward3 { "Ward 3" } else { "Ward 5" })
            .await;
        dunst.wait_up(1, "the notice that was answered is taken down");
        assert_eq!(
            alarm_sessions(&app).await,
            [ward3, ward5],
            "the alarms stay in the app"
        );
        // Quit as logging out does (WebDriver's own close kills the app outright).
        signal_app(data.path(), "TERM");
        dunst.wait_up(0, "quitting takes every notice down");
        drop(app);
    }
    let log = app_log(data.path());
    assert!(
        log.contains("answering=MiddleClick"),
        "the app read that dunst answers with a middle click"
    );

    // Killed outright: nothing of the app runs to take its notices down.
    {
        let driver = &Driver::start(&desktop, data.path());
        let app = App::launch(driver).await;
        wait_for_alarms(&app, &[ward3, ward5]).await;
        dunst.wait_up(2, "one notice per alarm after a restart");
        signal_app(data.path(), "KILL");
        dunst.wait_up(2, "a killed app's notices stay up");
        drop(app);
    }

    // The next start takes the earlier run's notices down: exactly the open alarms show.
    let driver = &Driver::start(&desktop, data.path());
    let app = App::launch(driver).await;
    wait_for_alarms(&app, &[ward3, ward5]).await;
    dunst.wait_up(2, "after a restart, one notice per open alarm");
    // Give a duplicate time to arrive, then count again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(dunst.up(), 2, "exactly the open alarms");
    assert!(app_log(data.path()).contains("took down the notices an earlier run left"));
    dunst.screenshot("notices-after-restart-1-after-the-app-was-killed");
    signal_app(data.path(), "TERM");
    dunst.wait_up(0, "quitting takes every notice down");
    let log = app_log(data.path());
    assert!(
        log.contains("taking the notices down: the app is quitting"),
        "{log}"
    );
}

/// Sends the app `signal` ("TERM", as logging out does; "KILL") and waits until it is gone.
fn signal_app(data: &Path, signal: &str) {
    for pid in support::app_pids(data) {
        let _ = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status();
    }
    support::wait_for_app_exit(data);
}

/// No notification service at all, at phone size: the note says so under the alarm, the
/// alarm's buttons stay in sight, the collapsed bar says who and where, and after "I'm OK"
/// the keyboard is on the session's next check-in, not lost on the page.
#[tokio::test]
async fn at_360_px_with_notifications_off_the_alarm_keeps_its_buttons_in_sight() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let ward3 = seed_session(
        &desktop,
        data.path(),
        "Ward 3",
        &["Asha", "Ben"],
        Mode::Me,
        45,
    );
    let driver = &Driver::start(&desktop, data.path());
    let app = App::launch(driver).await;
    app.resize(360, 740).await;
    wait_for_alarms(&app, &[ward3]).await;
    app.wait_for_text(
        "#alarms .alarms-note",
        "Desktop notifications are not working here",
    )
    .await;
    let hidden = app
        .js("const box = document.getElementById('alarms').getBoundingClientRect();
             return [...document.querySelectorAll('#alarms .alarm button, #alarms .alarm a.button')]
               .filter((b) => { const r = b.getBoundingClientRect();
                                return r.bottom > box.bottom + 0.5 || r.right > box.right + 0.5 || r.height === 0; })
               .map((b) => b.textContent)")
        .await;
    assert_eq!(
        hidden,
        Value::Array(vec![]),
        "buttons out of sight in the alarm"
    );
    app.screenshot("alarm-360-notifications-off").await;

    app.click("#alarms .alarms-toggle").await;
    app.wait_for("#alarms.alarms-collapsed").await;
    // Cut short on screen with an ellipsis; read whole, it says who and where.
    assert_eq!(
        app.js("return document.querySelector('#alarms .alarms-count').textContent")
            .await,
        "1 missed check-in: Ward 3 (Asha, Ben)"
    );
    app.screenshot("alarm-360-collapsed").await;
    app.click("#alarms .alarms-toggle").await;

    // "I'm OK" with the keyboard: focus goes on to the card's next check-in.
    app.go("#/today").await;
    app.wait_for(&format!(".session-list [data-session-id='{ward3}']"))
        .await;
    app.js("document.querySelector('#alarms .alarm button[data-act=\"check-in\"]').focus()")
        .await;
    app.press(fantoccini::key::Key::Enter).await;
    wait_for_alarms(&app, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let focused = app
            .js("const a = document.activeElement;
                 return a.closest('[data-session-id]')?.dataset.sessionId + ' ' + (a.dataset.act ?? a.tagName)")
            .await;
        if focused == Value::String(format!("{ward3} check-in")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after I'm OK, focus is on {focused}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.quit(driver).await;
}

/// Where each of `words` is on screen, left to right, inside the element `css`: the median of
/// its letters' left edges, read from the laid-out text, so it shows the order a reader sees,
/// not the order of the string. (A range over a whole word is not used: WebKit puts its left
/// edge at a letter where the direction changes, far from the word itself.)
async fn places_of(app: &App, css: &str, words: &[&str]) -> Vec<Option<f64>> {
    let found = app
        .js(&format!(
            "const box = document.querySelector({css:?});
             const place = (word) => {{
               const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
               for (let node = walker.nextNode(); node; node = walker.nextNode()) {{
                 const at = node.data.indexOf(word);
                 if (at < 0) continue;
                 const lefts = [];
                 for (let i = at; i < at + word.length; i++) {{
                   const range = document.createRange();
                   range.setStart(node, i);
                   range.setEnd(node, i + 1);
                   lefts.push(range.getBoundingClientRect().left);
                 }}
                 lefts.sort((a, b) => a - b);
                 return lefts[Math.floor(lefts.length / 2)];
               }}
               return null;
             }};
             return {words:?}.map(place);"
        ))
        .await;
    serde_json::from_value(found.clone()).unwrap_or_else(|_| panic!("positions: {found}"))
}

/// A session whose name and people are written in Arabic: the alarm, its collapsed bar and
/// the message prepared for the people to call keep each name to itself, so the session's
/// name and its people stay where the sentence puts them, in the order they were typed
/// (without isolation each run of Arabic turns round as one, brackets and all). Both position
/// checks fail without the change.
#[tokio::test]
async fn names_in_arabic_keep_their_places_in_the_alarm() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let (title, first, second) = ("حي الزيتون", "أمينة", "سارة");
    let session = seed_session(
        &desktop,
        data.path(),
        title,
        &[first, second],
        Mode::Watching,
        45,
    );
    let driver = &Driver::start(&desktop, data.path());
    let app = App::launch(driver).await;
    wait_for_alarms(&app, &[session]).await;
    assert_eq!(
        app.js("return document.querySelector('#alarms .alarm-summary').textContent")
            .await,
        format!("\u{2068}{first}\u{2069} and \u{2068}{second}\u{2069} missed a check-in")
    );
    app.screenshots("alarm-arabic-names").await;

    app.click("#alarms .alarms-toggle").await;
    app.wait_for("#alarms.alarms-collapsed").await;
    let count = "#alarms .alarms-count";
    let places = places_of(&app, count, &["missed", title, first, second]).await;
    assert!(
        places
            .windows(2)
            .all(|pair| matches!(pair, [Some(a), Some(b)] if a < b)),
        "on screen, the collapsed bar's words are at {places:?} (expected left to right: \
         \"missed\", the session, then its two people as typed)"
    );
    assert_eq!(
        app.js(&format!("return document.querySelector({count:?}).textContent"))
            .await,
        format!("1 missed check-in: \u{2068}{title}\u{2069} (\u{2068}{first}\u{2069}, \u{2068}{second}\u{2069})")
    );
    app.screenshot("alarm-arabic-names-collapsed").await;
    app.click("#alarms .alarms-toggle").await;

    // The message prepared for the people to call names the people, then the session.
    app.go(&format!("#/checkins/{session}")).await;
    app.wait_for(".prepared-message").await;
    let places = places_of(&app, ".prepared-message", &[first, second, title, "missed"]).await;
    assert!(
        places
            .windows(2)
            .all(|pair| matches!(pair, [Some(a), Some(b)] if a < b)),
        "on screen, the prepared message's words are at {places:?} (expected left to right: \
         the two people as typed, the session, then \"missed\")"
    );
    app.screenshots_of("session-arabic-names", Some(".prepared-message"))
        .await;
    app.quit(driver).await;
}

/// Once the first screen is drawn, the app hands back the code and heap pages only start-up
/// needed (footprint.rs). Everything after runs on code mapped again as it runs: every
/// screen still draws, and "I'm OK" on the alarm still reaches the record and the scheduler.
#[tokio::test]
async fn after_start_up_hands_back_its_memory_every_screen_draws_and_the_alarm_answers() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let ward3 = seed_session(&desktop, data.path(), "Ward 3", &["Asha"], Mode::Me, 45);
    let driver = &Driver::start(&desktop, data.path());
    let app = App::launch(driver).await;
    wait_for_alarms(&app, &[ward3]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !app_log(data.path()).contains("Start-up is over") {
        assert!(
            Instant::now() < deadline,
            "start-up's memory was not handed back after the first screen; the log says:\n{}",
            app_log(data.path())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (hash, heading) in [
        ("#/checkins", "Check-ins"),
        ("#/incidents", "Incidents"),
        ("#/sos", "SOS guides"),
        ("#/advice", "Advice"),
        ("#/emergency", "Emergency"),
        ("#/today", "Today"),
    ] {
        app.go(hash).await;
        app.wait_for_text("main h1", heading).await;
    }
    app.click("#alarms .alarm button[data-act='check-in']")
        .await;
    wait_for_alarms(&app, &[]).await;
    app.quit(driver).await;
}

/// With twenty sessions out, Today's main actions still come first: "Record an incident" is
/// at most three Tab stops below the heading, at phone and laptop width.
#[tokio::test]
async fn with_20_sessions_out_the_main_actions_are_the_first_tab_stops_on_today() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    // Twenty pairs out, each in its own ward.
    for ward in 1..=20 {
        let (first, second) = (format!("Canvasser {ward}A"), format!("Canvasser {ward}B"));
        seed_session(
            &desktop,
            data.path(),
            &format!("Ward {ward}"),
            &[first.as_str(), second.as_str()],
            Mode::Me,
            5,
        );
    }
    let driver = &Driver::start(&desktop, data.path());
    let app = App::launch(driver).await;
    for (width, height) in [(360, 740), (1280, 800)] {
        app.resize(width, height).await;
        app.go("#/checkins").await;
        app.wait_for_text("main h1", "Check-ins").await;
        app.go("#/today").await;
        app.wait_for_text("main h1", "Today").await;
        let deadline = Instant::now() + Duration::from_secs(15);
        while app
            .js("return document.querySelectorAll('main .session-list [data-session-id]').length")
            .await
            != 20
        {
            assert!(
                Instant::now() < deadline,
                "Today never listed the 20 sessions"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app.js("document.querySelector('main h1').focus()").await;
        let stops = app.tab_to("Record an incident").await;
        assert!(
            stops.len() <= 3,
            "Tab stops to Record an incident at {width} px: {stops:?}"
        );
        app.js("window.scrollTo(0, 0)").await;
        app.screenshot("today-20-sessions").await;
    }
    app.quit(driver).await;
}
