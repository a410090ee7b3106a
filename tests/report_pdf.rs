//! The printable report as an officer would get it: printed to PDF on A4 by a real browser
//! engine (Debian's Chromium, headless) and turned into page images by pdftoppm. The
//! images are saved as target/e2e/report-page-N.png to look at; the test checks that a
//! long post address and a person linked across incidents are printed in full, with
//! nothing running past the right edge of the paper.

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use campaign_safe_lib::incidents::attachments::AttachmentStore;
use campaign_safe_lib::incidents::model::{IncidentInput, OnlineDetails, PersonInvolved};
use campaign_safe_lib::incidents::pack::{self, Selection};
use campaign_safe_lib::incidents::{detail, record, NEW_PERSON};
use campaign_safe_lib::storage::Database;
use campaign_safe_lib::vault::DataKey;
use chrono::{Duration, Utc};

const LONG_POST: &str = "https://social.example/@a-very-long-account-name-indeed/status/\
    18446744073709551615?s=20&t=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789&utm_source=share_sheet\
    &utm_medium=mobile_app&utm_campaign=the-end-of-this-address-must-be-printed";

fn incident(what: &str, days_ago: i64) -> IncidentInput {
    serde_json::from_value(serde_json::json!({
        "occurredFrom": (Utc::now() - Duration::days(days_ago)).to_rfc3339(),
        "category": "other",
        "whatHappened": what,
    }))
    .expect("a minimal incident")
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} could not start ({e}); run `make test` to install it")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}

/// A pack whose report has a long post address, an unbroken long word and one person in
/// three incidents.
fn make_report(dir: &Path) -> PathBuf {
    let key = DataKey::generate().expect("key");
    let db = Database::open_in(&dir.join("record"), &key).expect("record");
    let files = AttachmentStore::new(&dir.join("record"), &key);
    let now = Utc::now();

    let mut first = incident("Followed me from the station to the campaign office.", 40);
    first.people = vec![PersonInvolved {
        person_id: Some(NEW_PERSON.into()),
        name: "Man in the green van".into(),
        vehicle_registration: "AB12 CDE".into(),
        ..Default::default()
    }];
    let first_id = record(&mut db.conn(), &first, now).expect("first");
    let person = detail(&db.conn(), &first_id).expect("detail").linked_people[0]
        .id
        .clone();

    let mut online = incident(
        "Posted my home address with a threat. Unbroken: \
         aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-end",
        30,
    );
    online.category = "online-abuse".into();
    online.online = Some(OnlineDetails {
        platform: "Social Example".into(),
        account_handle: "@a-very-long-account-name-indeed".into(),
        post_address: LONG_POST.into(),
        platform_report_number: "SE-55501".into(),
        ..Default::default()
    });
    record(&mut db.conn(), &online, now).expect("online");

    for (days, what) in [
        (20, "The green van parked outside my house all evening."),
        (5, "Same man came to the surgery and shouted."),
    ] {
        let mut again = incident(what, days);
        again.people = vec![PersonInvolved {
            person_id: Some(person.clone()),
            ..Default::default()
        }];
        record(&mut db.conn(), &again, now).expect("linked");
    }
    let out = dir.join("packs");
    std::fs::create_dir_all(&out).unwrap();
    let summary = pack::export(&db.conn(), &files, &Selection::default(), &out, now).expect("pack");
    summary.folder.join("report.html")
}

/// Reads a binary greyscale PGM (P5) as (width, height, pixels).
fn read_pgm(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5", "{}", path.display());
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = bytes[at + 1..].to_vec();
    assert_eq!(pixels.len(), width * height);
    (width, height, pixels)
}

#[test]
fn the_report_prints_on_a4_with_long_addresses_wrapped_and_linked_people() {
    let dir = tempfile::tempdir().unwrap();
    let report = make_report(dir.path());
    let pdf = dir.path().join("report.pdf");
    let profile = dir.path().join("chromium-profile");
    run(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.display()),
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", report.display()),
        ],
    );
    assert!(pdf.exists(), "Chromium made no PDF");

    let text_path = dir.path().join("report.txt");
    run(
        "pdftotext",
        &[pdf.to_str().unwrap(), text_path.to_str().unwrap()],
    );
    // Line breaks inside the wrapped address are taken out before looking for its end, and
    // hyphens too: pdftotext drops one that falls at the end of a line.
    let text = std::fs::read_to_string(&text_path).unwrap();
    let joined: String = text.split_whitespace().collect::<String>().replace('-', "");
    for expected in [
        "the-end-of-this-address-must-be-printed",
        "aaaa-end",
        "Sameperson(Maninthegreenvan)asincidents3and4",
        "Peoplelinkedacrossincidents",
        "Thesender’swholeincidentrecord,whenthispackwasmade,hadthishead",
    ] {
        assert!(
            joined.contains(&expected.replace('-', "")),
            "the PDF's text lacks {expected}:\n{text}"
        );
    }

    // Page images: PNGs to look at, greyscale PGMs to check.
    let shots = support::screenshot_dir();
    for old in std::fs::read_dir(&shots).unwrap().flatten() {
        if old
            .file_name()
            .to_string_lossy()
            .starts_with("report-page-")
        {
            let _ = std::fs::remove_file(old.path());
        }
    }
    let png_prefix = shots.join("report-page");
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            pdf.to_str().unwrap(),
            png_prefix.to_str().unwrap(),
        ],
    );
    let grey_prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-gray",
            "-r",
            "72",
            pdf.to_str().unwrap(),
            grey_prefix.to_str().unwrap(),
        ],
    );

    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pgm"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "pdftoppm made no pages");
    for page in &pages {
        let (width, height, pixels) = read_pgm(page);
        // A4 is 210 × 297 mm; at 72 dpi 595 × 842 points.
        let ratio = height as f64 / width as f64;
        assert!(
            (ratio - 297.0 / 210.0).abs() < 0.02,
            "{}: not A4 ({width}×{height})",
            page.display()
        );
        // The right margin is 14 mm; nothing may be drawn in its outer 9 mm.
        let strip = (width as f64 * 9.0 / 210.0) as usize;
        for y in 0..height {
            for x in width - strip..width {
                let shade = pixels[y * width + x];
                assert!(
                    shade > 200,
                    "{}: something is printed at ({x}, {y}) in the right margin: text ran past the edge",
                    page.display()
                );
            }
        }
    }
}
