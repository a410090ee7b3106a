use chrono::TimeZone;

use super::*;
use crate::storage::Database;

fn library() -> GuideLibrary {
    GuideLibrary::load_embedded().unwrap_or_else(|error| panic!("{error}"))
}

fn guide_for(model: &str) -> Resolution {
    library()
        .resolve(model)
        .unwrap_or_else(|error| panic!("{model}: {error}"))
}

#[test]
fn every_embedded_guide_and_the_model_table_are_valid() {
    let library = library();
    let ids: Vec<&str> = library.guides().iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "iphone-8-and-later",
            "iphone-7-and-earlier",
            "apple-watch",
            "google-android",
            "samsung-galaxy",
            "other-android",
            "huawei",
            "basic-phone",
            "other-watch"
        ]
    );
}

#[test]
fn resolves_the_examples_from_the_issue() {
    for (model, guide, listed) in [
        ("iPhone 13", "iphone-8-and-later", "iPhone 13"),
        ("Galaxy S21", "samsung-galaxy", "Galaxy S21"),
        ("Galaxy S23", "samsung-galaxy", "Galaxy S23"),
        ("Pixel 7", "google-android", "Pixel 7"),
        (
            "Apple Watch Series 6",
            "apple-watch",
            "Apple Watch Series 6",
        ),
        ("Redmi Note 12", "other-android", "Redmi Note 12"),
    ] {
        let found = guide_for(model);
        assert_eq!(found.guide_id, guide, "{model}");
        assert_eq!(found.model.as_deref(), Some(listed), "{model}");
        assert_eq!(found.match_kind, MatchKind::Model);
    }
}

#[test]
fn forgives_case_spacing_punctuation_and_maker_names() {
    for typed in [
        "iphone13",
        "IPHONE 13",
        "  iPhone-13!! ",
        "Apple iPhone 13",
        "i phone 13",
    ] {
        assert_eq!(
            guide_for(typed).model.as_deref(),
            Some("iPhone 13"),
            "{typed}"
        );
    }
    assert_eq!(
        guide_for("samsung galaxy s23").model.as_deref(),
        Some("Galaxy S23")
    );
    assert_eq!(
        guide_for("Galaxy S23+").model.as_deref(),
        Some("Galaxy S23+")
    );
    assert_eq!(
        guide_for("google pixel 7").model.as_deref(),
        Some("Pixel 7")
    );
}

#[test]
fn old_models_carry_their_os_caveat() {
    let found = guide_for("iPhone 6s");
    assert_eq!(found.guide_id, "iphone-7-and-earlier");
    assert!(found.note.unwrap().contains("iOS 15"));
    assert!(guide_for("Apple Watch Ultra 2")
        .note
        .unwrap()
        .contains("siren"));
}

#[test]
fn unlisted_models_of_known_lines_get_their_line_and_a_note() {
    let found = guide_for("iPhone 25 Pro");
    assert_eq!(
        (found.guide_id.as_str(), found.match_kind),
        ("iphone-8-and-later", MatchKind::Line)
    );
    assert!(found.note.is_some());
    assert_eq!(guide_for("Galaxy S99 Ultra").guide_id, "samsung-galaxy");
    // A watch never gets a phone guide.
    assert_eq!(guide_for("Galaxy Watch 6").guide_id, "other-watch");
    assert_eq!(guide_for("Moto G100").guide_id, "other-android");
    assert_eq!(guide_for("Pixel 42").guide_id, "google-android");
}

#[test]
fn unknown_models_get_the_closest_guide_and_a_check_your_menu_note() {
    for typed in [
        "Frobnicator 3000",
        "x",
        "12345",
        "<script>alert(1)</script>",
        "手机",
    ] {
        let found = guide_for(typed);
        assert_eq!(found.match_kind, MatchKind::Unknown, "{typed}");
        assert_eq!(found.guide_id, "other-android");
        assert!(found
            .note
            .unwrap()
            .contains("Check your own phone’s Settings"));
    }
}

#[test]
fn empty_and_overlong_input_are_refused_naming_the_field() {
    for typed in ["", "   ", "!!!", "-()"] {
        let error = library().resolve(typed).unwrap_err();
        assert_eq!(
            (error.code(), error.field()),
            ("validation", Some("model")),
            "{typed:?}"
        );
    }
    let error = library().resolve(&"a".repeat(81)).unwrap_err();
    assert_eq!(error.field(), Some("model"));
    assert!(error.to_string().contains("80"));
}

// ---- Content that must be rejected ----

fn load_with(
    guide_edit: impl Fn(&str) -> String,
    models_edit: impl Fn(&str) -> String,
) -> Result<GuideLibrary, ContentError> {
    let files = content::embedded_json_files("sos");
    let models = files
        .iter()
        .find(|(p, _)| p == MODELS_FILE)
        .unwrap()
        .1
        .clone();
    let guides: Vec<(String, String)> = files
        .into_iter()
        .filter(|(p, _)| p != MODELS_FILE)
        .map(|(p, t)| {
            if p.ends_with("/huawei.json") {
                (p, guide_edit(&t))
            } else {
                (p, t)
            }
        })
        .collect();
    GuideLibrary::from_files(
        guides.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &models_edit(&models),
    )
}

fn same(text: &str) -> String {
    text.to_owned()
}

#[test]
fn rejects_a_guide_without_steps() {
    let error = load_with(
        |t| {
            let start = t.find("\"triggers\"").unwrap();
            let end = t.find("\"whatHappens\"").unwrap();
            format!("{}\"triggers\": [],\n  {}", &t[..start], &t[end..])
        },
        same,
    )
    .unwrap_err();
    assert_eq!(
        (error.file.as_str(), error.field.as_str()),
        ("content/sos/huawei.json", "triggers")
    );
    let error = load_with(|t| t.replace("\"Press the power button quickly five times.\",\n        \"The phone sends an SOS message with your location to your emergency contacts.\"", ""), same).unwrap_err();
    assert_eq!(error.field, "triggers[0].steps");
}

#[test]
fn rejects_empty_text_and_unknown_fields() {
    let error = load_with(|t| t.replace("\"Emergency contacts added\"", "\"\""), same).unwrap_err();
    assert_eq!(error.field, "checklist[1].text");
    let error = load_with(
        |t| t.replace("\"order\": 7,", "\"order\": 7, \"colour\": \"red\","),
        same,
    )
    .unwrap_err();
    assert_eq!(error.field, "colour");
}

#[test]
fn rejects_sources_off_the_official_allow_list_and_mirrors() {
    for bad in [
        "https://www.example.com/sos",
        "https://consumer.huawei.com.mirror.example/jp",
        "http://consumer.huawei.com/jp",
        // Redirects: the page they lead to must be cited, not them.
        "https://www.google.com/url?q=https://consumer.huawei.com/jp",
        "https://consumer.huawei.com/redirect?to=https%3A%2F%2Fexample.com%2Fsos",
    ] {
        let error = load_with(
            |t| {
                t.replace(
                    "https://consumer.huawei.com/jp/support/content/ja-jp15850035",
                    bad,
                )
            },
            same,
        )
        .unwrap_err();
        assert_eq!(error.field, "sources[0].url", "{bad}");
    }
}

#[test]
fn rejects_a_missing_or_implausible_review_date() {
    let error = load_with(
        |t| {
            t.replace(
                "\"reviewed\": \"2026-11-25\"",
                "\"reviewed\": \"2062-01-01\"",
            )
        },
        same,
    )
    .unwrap_err();
    assert_eq!(error.field, "reviewed");
    let error =
        load_with(|t| t.replace(",\n  \"reviewed\": \"2026-11-25\"", ""), same).unwrap_err();
    assert!(
        error.message.contains("missing field `reviewed`"),
        "{error}"
    );
}

#[test]
fn rejects_a_model_listed_under_two_guides() {
    let error = load_with(same, |t| {
        t.replacen(
            "\"models\": [",
            "\"models\": [\n    {\"name\": \"iphone 13\", \"guide\": \"iphone-7-and-earlier\"},",
            1,
        )
    })
    .unwrap_err();
    assert!(error.message.contains("listed twice"), "{error}");
}

#[test]
fn rejects_a_model_or_rule_pointing_at_no_guide() {
    let error = load_with(same, |t| {
        t.replacen("\"guide\": \"huawei\"", "\"guide\": \"blackberry\"", 1)
    })
    .unwrap_err();
    assert!(error.message.contains("not a guide"), "{error}");
}

// ---- Stored state ----

#[test]
fn set_up_ticks_are_stored_with_their_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let library = library();
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
    let view = set_tick(
        &library,
        &db.conn(),
        "samsung-galaxy",
        "number-checked",
        true,
        at,
    )
    .unwrap();
    assert_eq!((view.done, view.total), (1, 3));
    assert_eq!(view.ticks[0].ticked_at_local, "1 Jul 2026, 10:00");
    // Advice ticks with the same item id are separate.
    assert_eq!(
        Ticks::load(&db.conn())
            .unwrap()
            .at("samsung-galaxy", "number-checked"),
        None
    );

    let error = set_tick(&library, &db.conn(), "samsung-galaxy", "nope", true, at).unwrap_err();
    assert_eq!(error.field(), Some("itemId"));
    let error = set_tick(&library, &db.conn(), "nokia-brick", "x", true, at).unwrap_err();
    assert_eq!(error.field(), Some("guideId"));
}

#[test]
fn my_devices_are_saved_once_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let library = library();
    let now = Utc::now();
    add_device(&library, &db.conn(), "galaxy s23", now).unwrap();
    let devices = add_device(&library, &db.conn(), "Galaxy S23", now).unwrap();
    assert_eq!(devices.len(), 1, "the same model is saved once");
    assert_eq!(
        (devices[0].model.as_str(), devices[0].guide_id.as_str()),
        ("Galaxy S23", "samsung-galaxy")
    );
    let devices = add_device(&library, &db.conn(), "My odd phone", now).unwrap();
    assert_eq!(devices[1].model, "My odd phone");
    assert_eq!(devices[1].guide_id, "other-android");

    let error = add_device(&library, &db.conn(), "   ", now).unwrap_err();
    assert_eq!(error.field(), Some("model"));
    let devices = remove_device(&library, &db.conn(), devices[0].id).unwrap();
    assert_eq!(devices.len(), 1);
    let error = remove_device(&library, &db.conn(), 9999).unwrap_err();
    assert_eq!(error.field(), Some("deviceId"));
}

/// Model names as people type them, and the guide each must open ("?" when the app must
/// ask which model it is). A watch never gets a phone guide; a feature phone never gets a
/// smartphone's.
const TYPED: &[(&str, &str)] = &[
    ("iPhone SE", "?"),
    ("iphone se", "?"),
    ("SE", "?"),
    ("iPhone SE 2020", "iphone-8-and-later"),
    ("iPhone SE 2", "iphone-8-and-later"),
    ("iphone se 2nd gen", "iphone-8-and-later"),
    ("iPhone SE (2nd generation)", "iphone-8-and-later"),
    ("iPhone SE second generation", "iphone-8-and-later"),
    ("iPhone SE 3", "iphone-8-and-later"),
    ("iPhone SE 2022", "iphone-8-and-later"),
    ("iphone se 3rd gen", "iphone-8-and-later"),
    ("iPhone SE 5G", "iphone-8-and-later"),
    ("iPhone SE 2016", "iphone-7-and-earlier"),
    ("iPhone SE 1st generation", "iphone-7-and-earlier"),
    ("Apple iPhone 15 Pro Max", "iphone-8-and-later"),
    ("iphone13", "iphone-8-and-later"),
    ("iPhone 12 mini", "iphone-8-and-later"),
    ("iPhone 7 Plus", "iphone-7-and-earlier"),
    ("iPhone 6s", "iphone-7-and-earlier"),
    ("iPhone 18", "iphone-8-and-later"),
    ("iPhone Air", "iphone-8-and-later"),
    ("Samsung S24 Ultra", "samsung-galaxy"),
    ("Samsung A15", "samsung-galaxy"),
    ("samsung galaxy s23", "samsung-galaxy"),
    ("Galaxy S23+", "samsung-galaxy"),
    ("Samsung Z Flip 6", "samsung-galaxy"),
    ("Galaxy A55", "samsung-galaxy"),
    ("Samsung Galaxy A05s", "samsung-galaxy"),
    ("Google Pixel 8", "google-android"),
    ("google pixel 7a", "google-android"),
    ("Pixel 9 Pro XL", "google-android"),
    ("Pixel 11", "google-android"),
    ("Galaxy Watch 6", "other-watch"),
    ("Samsung Galaxy Watch Ultra", "other-watch"),
    ("Galaxy Watch4 Classic", "other-watch"),
    ("Samsung Watch 5", "other-watch"),
    ("Pixel Watch 2", "other-watch"),
    ("Google Pixel Watch", "other-watch"),
    ("Huawei Watch GT 4", "other-watch"),
    ("Huawei Watch Fit 3", "other-watch"),
    ("Watch GT 3", "other-watch"),
    ("Garmin Venu 3", "other-watch"),
    ("Fitbit Sense 2", "other-watch"),
    ("Apple Watch Series 9", "apple-watch"),
    ("Apple Watch SE 2", "apple-watch"),
    ("apple watch ultra 2", "apple-watch"),
    ("Watch Series 7", "apple-watch"),
    ("Nokia 105 4G", "basic-phone"),
    ("Nokia 105", "basic-phone"),
    ("Nokia 110 4G", "basic-phone"),
    ("Nokia 2660 Flip", "basic-phone"),
    ("Nokia 8210 4G", "basic-phone"),
    ("nokia 3310", "basic-phone"),
    ("Nokia 6300 4G", "basic-phone"),
    ("Doro 6820", "basic-phone"),
    ("Doro 1370", "basic-phone"),
    ("Alcatel 2053", "basic-phone"),
    ("Nokia G22", "other-android"),
    ("Nokia X30", "other-android"),
    ("Nokia 3.4", "other-android"),
    ("Redmi Note 13", "other-android"),
    ("Xiaomi 14", "other-android"),
    ("OnePlus 12", "other-android"),
    ("Moto G84", "other-android"),
    ("Fairphone 5", "other-android"),
    ("Huawei P30 Pro", "huawei"),
    ("Mate 40 Pro", "huawei"),
    ("Sony Xperia 10 V", "other-android"),
    ("Something unheard of", "other-android"),
    // Storage sizes and words such as "Pro Max" must not hide the model.
    ("iPhone XR 128GB", "iphone-8-and-later"),
    ("iPhone X 64GB", "iphone-8-and-later"),
    ("iPhone SE 2020 64GB", "iphone-8-and-later"),
    ("iPhone 13 128 GB", "iphone-8-and-later"),
    ("iPhone 15 Pro Max 1TB", "iphone-8-and-later"),
    ("iPhone 4s", "iphone-7-and-earlier"),
    // An iPhone without its generation, or a maker alone: ask, never guess the old guide.
    ("iphone", "ask"),
    ("Apple iPhone", "ask"),
    ("iPhone Pro Max", "ask"),
    ("iPhone Pro", "ask"),
    ("iPhone 64GB", "ask"),
    ("apple", "ask"),
    ("Apple Watch", "apple-watch"),
    ("Apple Watch Series 12", "apple-watch"),
    ("samsung", "samsung-galaxy"),
    ("Google", "google-android"),
    // Model numbers as Settings › About phone shows them.
    ("SM-S921B", "samsung-galaxy"),
    ("SM-A156B/DSN", "samsung-galaxy"),
    ("sm-g991b", "samsung-galaxy"),
    ("SM-R960", "other-watch"),
];

#[test]
fn model_names_as_people_type_them_open_the_right_guide() {
    assert!(TYPED.len() >= 60, "at least 60 names");
    let library = library();
    for (typed, expected) in TYPED {
        let found = library
            .resolve(typed)
            .unwrap_or_else(|e| panic!("{typed}: {e}"));
        if *expected == "ask" {
            assert_eq!(
                found.match_kind,
                MatchKind::Ambiguous,
                "{typed} must ask which: {found:?}"
            );
            assert!(found.guide_id.is_empty(), "{typed}");
        } else if *expected == "?" {
            assert_eq!(
                found.match_kind,
                MatchKind::Ambiguous,
                "{typed} must ask which"
            );
            assert_eq!(found.choices.len(), 3, "{typed}");
            assert!(found
                .note
                .as_deref()
                .unwrap_or_default()
                .contains("Which is yours?"));
        } else {
            assert_eq!(found.guide_id, *expected, "{typed}: {found:?}");
        }
    }
}

#[test]
fn an_ambiguous_name_cannot_be_saved_until_the_model_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let library = library();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .unwrap();
    let error = add_device(&library, &db.conn(), "iphone se", now).unwrap_err();
    assert_eq!((error.code(), error.field()), ("validation", Some("model")));
    assert!(error
        .to_string()
        .starts_with("Your phone or watch model: There have been three iPhone SE models"));
    let devices = add_device(&library, &db.conn(), "iPhone SE 2020", now).unwrap();
    assert_eq!(devices[0].model, "iPhone SE (2nd generation)");
    assert_eq!(devices[0].guide_id, "iphone-8-and-later");
}

/// Choosing "iPhone" after "Apple" asks which iPhone; choosing "Apple Watch" opens its guide.
#[test]
fn every_choice_offered_leads_on() {
    let library = library();
    let apple = library.resolve("apple").unwrap();
    assert_eq!(apple.choices, ["iPhone", "Apple Watch"]);
    let iphone = library.resolve(&apple.choices[0]).unwrap();
    assert_eq!(iphone.match_kind, MatchKind::Ambiguous);
    assert!(iphone.note.unwrap().contains("Settings › General › About"));
    assert_eq!(
        library.resolve(&apple.choices[1]).unwrap().guide_id,
        "apple-watch"
    );
}

proptest::proptest! {
    /// The guide for old iPhones tells owners of newer ones the opposite of what works: it is
    /// only ever given for a listed old model, or an iPhone whose number is below 8.
    #[test]
    fn no_name_gets_the_old_iphone_guide_by_default(
        words in proptest::collection::vec(
            proptest::sample::select(vec![
                "apple", "iphone", "Pro", "Max", "mini", "Plus", "64GB", "128", "GB", "XR", "Air",
                "SE", "2020", "watch", "samsung", "1TB", "S", "e", "7", "8", "15", "(", "+", "-",
            ]),
            1..6,
        )
    ) {
        let typed = words.join(" ");
        if let Ok(found) = library().resolve(&typed) {
            if found.guide_id == "iphone-7-and-earlier" {
                let key = normalise(&typed);
                let old_number = key
                    .strip_prefix("iphone")
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(|c| ('1'..='7').contains(&c));
                proptest::prop_assert!(
                    found.match_kind == MatchKind::Model || old_number,
                    "{typed:?} ({key}) got the old iPhone guide: {found:?}"
                );
            }
        }
    }
}

#[test]
fn a_rule_that_can_never_match_is_refused() {
    // (rule, where it goes among the rules, what the refusal says)
    for (rule, at, expected) in [
        (
            r#"{"prefix": "applewatch", "guide": "apple-watch", "note": "x"}"#,
            0,
            "a leading “apple”",
        ),
        (
            r#"{"prefix": "galaxyz", "guide": "samsung-galaxy", "note": "x"}"#,
            30,
            "“galaxy” comes first",
        ),
        (
            r#"{"prefix": "iphonepro", "question": "x"}"#,
            usize::MAX,
            "either names or a prefix",
        ),
    ] {
        let edit = |models: &str| {
            let mut table: serde_json::Value = serde_json::from_str(models).unwrap();
            let rule: serde_json::Value = serde_json::from_str(rule).unwrap();
            if at == usize::MAX {
                let mut ambiguous = rule.clone();
                ambiguous["names"] = serde_json::json!(["Pro"]);
                table["ambiguous"].as_array_mut().unwrap().push(ambiguous);
            } else {
                table["lines"]
                    .as_array_mut()
                    .unwrap()
                    .insert(at, rule.clone());
            }
            table.to_string()
        };
        let error = load_with(same, edit).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
    }
}
