use super::*;
use crate::storage::Database;
use chrono::Duration;

fn database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, db)
}

fn now() -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 25, 18, 30, 0).unwrap()
}

#[test]
fn no_lock_without_a_pin_then_locked_until_the_right_pin() {
    let (_dir, db) = database();
    let lock = AppLock::default();
    assert_eq!(lock.lock(&db.conn()).unwrap_err().code(), "no_pin");
    assert!(!lock.is_locked());
    set_pin(&db.conn(), "2468", "2468").unwrap();
    lock.lock(&db.conn()).unwrap();
    assert!(lock.is_locked());
    let wrong = lock.unlock(&db, "1357", now()).unwrap_err();
    assert_eq!((wrong.code(), wrong.field()), ("wrong_pin", Some("pin")));
    assert!(lock.is_locked());
    lock.unlock(&db, "2468", now()).unwrap();
    assert!(!lock.is_locked());
    // The hash, not the PIN, is kept.
    let kept: String = db
        .conn()
        .query_row(
            "SELECT value FROM app_setting WHERE name = 'lockPinHash'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        kept.starts_with("$argon2id$") && !kept.contains("2468"),
        "{kept}"
    );
}

#[test]
fn wrong_pins_are_slowed_down_the_wait_runs_out_and_a_restart_gives_no_free_tries() {
    let (dir, db) = database();
    set_pin(&db.conn(), "2468", "2468").unwrap();
    let lock = AppLock::default();
    lock.lock(&db.conn()).unwrap();
    for _ in 0..crate::tries::FREE_TRIES {
        assert_eq!(
            lock.unlock(&db, "0000", now()).unwrap_err().code(),
            "wrong_pin"
        );
    }
    let slowed = lock.unlock(&db, "2468", now()).unwrap_err();
    assert_eq!(slowed.code(), "slow_down");
    assert!(slowed.to_string().contains("Wait 5 seconds"), "{slowed}");
    let last_second = lock
        .unlock(&db, "2468", now() + Duration::milliseconds(4_500))
        .unwrap_err();
    assert!(
        last_second.to_string().contains("Wait 1 second,"),
        "{last_second}"
    );

    // The app restarts (a new lock, the record opened again): still slowed down, and the
    // next wrong PIN waits longer.
    drop(db);
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let lock = AppLock::default();
    lock.lock_if_pin_set(&db.conn());
    assert_eq!(
        lock.unlock(&db, "2468", now() + Duration::seconds(1))
            .unwrap_err()
            .code(),
        "slow_down"
    );
    lock.unlock(&db, "1111", now() + Duration::seconds(6))
        .unwrap_err();
    let longer = lock
        .unlock(&db, "2468", now() + Duration::seconds(7))
        .unwrap_err();
    assert!(longer.to_string().contains("Wait 9 seconds"), "{longer}");
    lock.unlock(&db, "2468", now() + Duration::seconds(20))
        .unwrap();
    assert!(!lock.is_locked());
    // The right PIN clears the count.
    lock.lock(&db.conn()).unwrap();
    for _ in 0..crate::tries::FREE_TRIES - 1 {
        lock.unlock(&db, "0000", now() + Duration::seconds(30))
            .unwrap_err();
    }
    assert_eq!(
        lock.unlock(&db, "0000", now() + Duration::seconds(30))
            .unwrap_err()
            .code(),
        "wrong_pin"
    );
}

#[test]
fn pins_and_idle_times_are_checked_field_by_field() {
    let (_dir, db) = database();
    for (pin, again, field) in [
        ("12", "12", "pin"),
        ("12ab", "12ab", "pin"),
        ("1234567890123", "1234567890123", "pin"),
        ("1234", "1243", "pinAgain"),
    ] {
        let error = set_pin(&db.conn(), pin, again).unwrap_err();
        assert_eq!(error.field(), Some(field), "{pin}");
    }
    assert!(!pin_set(&db.conn()).unwrap());
    assert_eq!(idle_minutes(&db.conn()).unwrap(), DEFAULT_IDLE_MINUTES);
    assert_eq!(
        set_idle_minutes(&db.conn(), 7).unwrap_err().field(),
        Some("idleMinutes")
    );
    set_idle_minutes(&db.conn(), 15).unwrap();
    assert_eq!(idle_minutes(&db.conn()).unwrap(), 15);
}

#[test]
fn with_a_pin_set_the_app_starts_locked() {
    let (_dir, db) = database();
    let fresh = AppLock::default();
    fresh.lock_if_pin_set(&db.conn());
    assert!(!fresh.is_locked());
    set_pin(&db.conn(), "2468", "2468").unwrap();
    let restarted = AppLock::default();
    restarted.lock_if_pin_set(&db.conn());
    assert!(restarted.is_locked());
}

#[test]
fn the_duress_pin_unlocks_as_the_pin_does_and_says_so_only_to_the_caller() {
    let (_dir, db) = database();
    let lock = AppLock::default();
    let refused = set_duress_pin(&db.conn(), "8642", "8642").unwrap_err();
    assert_eq!(refused.code(), "no_pin", "only beside a PIN");
    set_pin(&db.conn(), "2468", "2468").unwrap();
    for (pin, again, field) in [
        ("12", "12", "duressPin"),
        ("12a4", "12a4", "duressPin"),
        (
            &"9".repeat(13) as &str,
            &"9".repeat(13) as &str,
            "duressPin",
        ),
        ("8642", "8643", "duressPinAgain"),
        ("2468", "2468", "duressPin"),
    ] {
        let error = set_duress_pin(&db.conn(), pin, again).unwrap_err();
        assert_eq!(
            (error.code(), error.field()),
            ("validation", Some(field)),
            "{pin}"
        );
        assert!(error.to_string().starts_with("Duress PIN"), "{error}");
    }
    assert!(!lock.status(&db.conn()).unwrap().duress_pin_set);
    set_duress_pin(&db.conn(), "8642", "8642").unwrap();
    assert!(lock.status(&db.conn()).unwrap().duress_pin_set);
    lock.lock(&db.conn()).unwrap();
    assert_eq!(
        lock.unlock(&db, "8642", now()).unwrap(),
        Unlocked::UnderDuress
    );
    assert!(!lock.is_locked(), "the screen unlocks just the same");
    lock.lock(&db.conn()).unwrap();
    assert_eq!(lock.unlock(&db, "2468", now()).unwrap(), Unlocked::WithPin);
    // A wrong PIN is still wrong; a new PIN equal to the duress PIN drops the duress PIN.
    lock.lock(&db.conn()).unwrap();
    assert_eq!(
        lock.unlock(&db, "1111", now()).unwrap_err().code(),
        "wrong_pin"
    );
    set_pin(&db.conn(), "8642", "8642").unwrap();
    assert!(!lock.status(&db.conn()).unwrap().duress_pin_set);
    // Empty both: no duress PIN.
    set_duress_pin(&db.conn(), "1357", "1357").unwrap();
    set_duress_pin(&db.conn(), "", "").unwrap();
    assert!(!lock.status(&db.conn()).unwrap().duress_pin_set);
}

#[test]
fn a_pin_checked_at_i_m_ok_leaves_the_app_locked_and_wrong_tries_count_as_at_unlock() {
    let (_dir, db) = database();
    let lock = AppLock::default();
    set_pin(&db.conn(), "2468", "2468").unwrap();
    set_duress_pin(&db.conn(), "8642", "8642").unwrap();
    assert!(duress_pin_set(&db.conn()).unwrap());
    lock.lock(&db.conn()).unwrap();
    assert_eq!(
        lock.check_pin(&db, "2468", now()).unwrap(),
        Unlocked::WithPin
    );
    assert_eq!(
        lock.check_pin(&db, "8642", now()).unwrap(),
        Unlocked::UnderDuress
    );
    assert!(lock.is_locked(), "checking a PIN opens nothing");
    // Wrong PINs at "I'm OK" are slowed down like wrong PINs at the lock: they share one count.
    let mut slowed = None;
    for _ in 0..20 {
        match lock.check_pin(&db, "", now()) {
            Err(LockError::SlowDown(seconds)) => {
                slowed = Some(seconds);
                break;
            }
            Err(error) => assert_eq!(error.code(), "wrong_pin"),
            Ok(unlocked) => panic!("an empty PIN passed: {unlocked:?}"),
        }
    }
    assert!(slowed.is_some(), "wrong tries are never slowed down");
    let error = lock.unlock(&db, "2468", now()).unwrap_err();
    assert_eq!(error.field(), Some("pin"), "{error}");
    assert!(lock.is_locked());
    let error = LockError::PinToCheckIn;
    assert_eq!((error.code(), error.field()), ("pin_needed", Some("pin")));
    assert!(error.to_string().starts_with("PIN: "));
}
