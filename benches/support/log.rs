//! A large incident log built through the app's own `incidents::record`, the same on every
//! run, for the benchmarks that need one.

use campaign_safe_lib::incidents::model::{
    Flag, FollowUp, IncidentInput, PersonInvolved, Report, ReportedTo,
};
use campaign_safe_lib::incidents::{self as log, NEW_PERSON};
use campaign_safe_lib::storage::Database;
use chrono::{Duration, TimeZone, Utc};

pub const CATEGORIES: &[&str] = &[
    "doorstep-abuse",
    "online-abuse",
    "phone-call",
    "letter-or-email",
    "criminal-damage",
    "threat-in-person",
    "followed-or-watched",
    "other",
];
pub const WORDS: &[&str] = &[
    "leaflet",
    "shouted",
    "poster",
    "van",
    "dog",
    "volunteer",
    "doorstep",
    "bins",
    "council",
    "post",
    "message",
    "car",
    "garden",
    "gate",
    "window",
    "street",
    "meeting",
    "survey",
    "board",
    "rally",
];
const STREETS: &[&str] = &[
    "Elm Street",
    "Market Square",
    "Station Road",
    "High Street",
    "Church Lane",
    "Mill Road",
    "Park Avenue",
];

/// A small, fixed pseudo-random sequence so every run builds the same log.
struct Sequence(u64);
impl Sequence {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

/// Records `count` incidents; returns the id of the person linked to one in a hundred.
pub fn build(db: &Database, count: usize) -> String {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 18, 0, 0).unwrap();
    let mut seq = Sequence(0x2545_f491_4f6c_dd1d);
    let mut person = None;
    for n in 0..count {
        let words: Vec<&str> = (0..12).map(|_| WORDS[seq.next(WORDS.len())]).collect();
        let mut input = IncidentInput {
            occurred_from: now - Duration::minutes(seq.next(2 * 365 * 24 * 60) as i64),
            occurred_to: None,
            category: CATEGORIES[seq.next(CATEGORIES.len())].into(),
            channel: None,
            location: STREETS[seq.next(STREETS.len())].into(),
            postcode: String::new(),
            what_happened: format!("Incident {n}: {}", words.join(" ")),
            affected: vec![],
            people: vec![],
            witnesses: vec![],
            impact: String::new(),
            flags: if seq.next(10) == 0 {
                vec![Flag::Repeat]
            } else {
                vec![]
            },
            actions: vec![],
            reports: vec![],
            online: None,
        };
        // One person in a hundred incidents is the same fixated man; one in a thousand names a rare surname.
        if n % 100 == 0 {
            input.people = vec![PersonInvolved {
                person_id: Some(person.clone().unwrap_or_else(|| NEW_PERSON.to_owned())),
                name: "Man in red van".into(),
                ..Default::default()
            }];
        }
        if n % 1000 == 0 {
            input.what_happened.push_str(" Mr Featherstonehaugh again");
        }
        if seq.next(4) == 0 {
            input.reports = vec![Report {
                to: ReportedTo::Police101,
                on: None,
                reference: format!("CAD {n}"),
                officer: String::new(),
                follow_up: FollowUp::Waiting,
                notes: String::new(),
            }];
        }
        let id = log::record(&mut db.conn(), &input, now).expect("record");
        if person.is_none() && n % 100 == 0 {
            person = log::detail(&db.conn(), &id)
                .expect("detail")
                .linked_people
                .first()
                .map(|p| p.id.clone());
        }
    }
    person.unwrap_or_default()
}
