//! The online-abuse fields, the co-ordinator as a place reported to, and the printable
//! report's links between incidents involving the same person.

use chrono::{Duration, NaiveDate};

use super::model::{FollowUp, OnlineDetails, PersonInvolved, Report, ReportedTo};
use super::pack::{self, Selection};
use super::tests::{input, now};
use super::*;
use crate::storage::Database;

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, db)
}

const LONG_POST: &str = "https://social.example/@someone-with-a-very-long-handle/posts/\
    1234567890123456789012345678901234567890?ref=share&utm_source=copy_link&utm_medium=phone\
    &utm_campaign=a-campaign-name-that-goes-on-and-on-and-on-and-on-for-a-long-while";

fn online_abuse() -> IncidentInput {
    IncidentInput {
        category: "online-abuse".into(),
        online: Some(OnlineDetails {
            platform: "Social Example".into(),
            account_handle: "@someone".into(),
            account_address: "social.example/@someone".into(),
            post_address: LONG_POST.into(),
            reported_to_platform_on: Some(now().date_naive()),
            platform_report_number: "SE-55501".into(),
        }),
        ..input("Posted my home address with a threat")
    }
}

#[test]
fn online_details_are_kept_searchable_and_shown_in_the_report() {
    let (_dir, db) = db();
    let id = record(&mut db.conn(), &online_abuse(), now()).unwrap();
    let current = detail(&db.conn(), &id).unwrap().current.unwrap();
    let online = current.online.expect("online details kept");
    assert_eq!(online.post_address, LONG_POST);
    assert_eq!(
        online.account_address, "social.example/@someone",
        "kept as typed"
    );

    let found = find::list(
        &db.conn(),
        &find::ListQuery {
            text: "SE-55501".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        found.items.len(),
        1,
        "the platform's report number finds it"
    );

    let pack = pack::collect(&db.conn(), &Selection::default(), now()).unwrap();
    let html = report::html(&pack).unwrap();
    assert!(html.contains("Post’s address"), "{html}");
    assert!(html.contains("report number SE-55501"));
    assert!(
        html.contains("utm_campaign"),
        "the whole address is printed"
    );
    assert!(html.contains("@page"), "laid out for A4");
}

#[test]
fn empty_online_details_are_not_stored_and_old_versions_hash_as_before() {
    let (_dir, db) = db();
    let mut plain = input("Shouted at the door");
    plain.online = Some(OnlineDetails::default());
    let id = record(&mut db.conn(), &plain, now()).unwrap();
    let body: String = db
        .conn()
        .query_row(
            "SELECT body FROM incident_version v JOIN incident i ON i.num = v.incident_num WHERE i.id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !body.contains("online"),
        "no empty block in the hashed body: {body}"
    );
}

#[test]
fn a_bad_web_address_names_its_field_and_saves_nothing() {
    let (_dir, db) = db();
    for (bad, field, label) in [
        ("not a web address", "online.postAddress", "Post’s address"),
        (
            "ftp://files.example/x",
            "online.postAddress",
            "Post’s address",
        ),
        (
            "javascript:alert(1)",
            "online.accountAddress",
            "Account’s address",
        ),
    ] {
        let mut incident = online_abuse();
        let online = incident.online.as_mut().unwrap();
        if field == "online.postAddress" {
            online.post_address = bad.into();
        } else {
            online.account_address = bad.into();
        }
        let error = record(&mut db.conn(), &incident, now()).unwrap_err();
        match error {
            IncidentError::Invalid { field: f, message } => {
                assert_eq!(f, field, "{bad}");
                assert!(message.starts_with(label), "{message}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let mut future = online_abuse();
    future.online.as_mut().unwrap().reported_to_platform_on =
        Some(now().date_naive() + Duration::days(3));
    let error = record(&mut db.conn(), &future, now()).unwrap_err();
    assert!(
        matches!(&error, IncidentError::Invalid { field, .. } if field == "online.reportedToPlatformOn"),
        "{error:?}"
    );
    let count: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM incident", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "nothing saved");
}

#[test]
fn the_report_links_incidents_involving_the_same_person() {
    let (_dir, db) = db();
    let at = |days: i64| now() - Duration::days(days);
    let mut first = input("Followed me from the station");
    first.occurred_from = at(30);
    first.people = vec![PersonInvolved {
        person_id: Some(NEW_PERSON.into()),
        name: "Man in the green van".into(),
        ..Default::default()
    }];
    let first_id = record(&mut db.conn(), &first, now()).unwrap();
    let person = detail(&db.conn(), &first_id).unwrap().linked_people[0].clone();

    let mut unrelated = input("Unrelated leaflet complaint");
    unrelated.occurred_from = at(20);
    record(&mut db.conn(), &unrelated, now()).unwrap();

    for (days, what) in [
        (10, "Green van outside the office"),
        (2, "Same man at the surgery"),
    ] {
        let mut again = input(what);
        again.occurred_from = at(days);
        again.people = vec![PersonInvolved {
            person_id: Some(person.id.clone()),
            ..Default::default()
        }];
        again.reports = vec![Report {
            to: ReportedTo::ElectionCoordinator,
            on: Some(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()),
            reference: String::new(),
            officer: String::new(),
            follow_up: FollowUp::Waiting,
            notes: String::new(),
        }];
        record(&mut db.conn(), &again, now()).unwrap();
    }

    let pack = pack::collect(&db.conn(), &Selection::default(), now()).unwrap();
    let html = report::html(&pack).unwrap();
    assert!(
        html.contains("Same person (Man in the green van) as incidents 3 and 4"),
        "{html}"
    );
    assert!(html.contains("Same person (Man in the green van) as incidents 1 and 4"));
    assert!(html.contains("Same person (Man in the green van) as incidents 1 and 3"));
    assert!(html.contains("People linked across incidents"));
    let section = &html[html
        .find("<h3>Man in the green van</h3>")
        .expect("a section for the person")..];
    let (one, three, four) = (
        section.find("Incident 1:").unwrap(),
        section.find("Incident 3:").unwrap(),
        section.find("Incident 4:").unwrap(),
    );
    assert!(one < three && three < four, "in order");
    assert!(
        !section[..four + 200].contains("Incident 2:"),
        "the unrelated one is not listed"
    );
    assert!(html.contains("Local election co-ordinator on 24 Nov 2026"));
}
