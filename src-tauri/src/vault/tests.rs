use super::*;

/// What start-up tells the vault: whether the folder holds an encrypted record.
fn exists(dir: &Path) -> bool {
    crate::storage::holds_encrypted_record(dir)
}

fn ready(outcome: Result<AtStart, VaultError>) -> DataKey {
    match outcome {
        Ok(AtStart::Ready(key)) => key,
        other => panic!("expected a key, got {other:?}"),
    }
}

#[test]
fn a_new_record_gets_a_key_in_the_keyring_and_finds_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = MemoryKeyring::default();
    let first = ready(at_start(dir.path(), &keyring, exists(dir.path())));
    let again = ready(at_start(dir.path(), &keyring, exists(dir.path())));
    assert_eq!(first.as_bytes(), again.as_bytes());
    let file = std::fs::read_to_string(dir.path().join(KEY_FILE_NAME)).unwrap();
    assert!(file.contains("\"keptIn\": \"keyring\""), "{file}");
    assert!(!file.contains(&hex::encode(first.as_bytes())));
    // Another data folder is another record with its own key.
    let other = tempfile::tempdir().unwrap();
    let second = ready(at_start(other.path(), &keyring, exists(other.path())));
    assert_ne!(first.as_bytes(), second.as_bytes());
}

/// A keyring that is there but locked (or whose prompt was dismissed).
struct LockedKeyring;

impl Keyring for LockedKeyring {
    fn load(&self, _: &str) -> Result<Option<DataKey>, KeyringError> {
        Err(KeyringError::locked(
            "org.freedesktop.Secret.Error.IsLocked",
        ))
    }
    fn save(&self, _: &str, _: &DataKey) -> Result<(), KeyringError> {
        Err(KeyringError::locked(
            "org.freedesktop.Secret.Error.IsLocked",
        ))
    }
    fn forget(&self, _: &str) -> Result<(), KeyringError> {
        Ok(())
    }
}

fn why_asked(keyring: &dyn Keyring) -> String {
    let dir = tempfile::tempdir().unwrap();
    let why = match at_start(dir.path(), keyring, exists(dir.path())).unwrap() {
        AtStart::ChoosePassphrase { why } => why,
        other => panic!("{other:?}"),
    };
    assert!(!dir.path().join(KEY_FILE_NAME).exists());
    assert!(why.contains("Choose a passphrase"), "{why}");
    why
}

#[test]
fn with_no_keyring_a_new_record_asks_for_a_passphrase_and_says_why_in_words() {
    let raw = "zbus error: Failed to connect to address unix:path=/run/user/0/bus";
    let why = why_asked(&NoKeyring(raw.into()));
    assert!(why.contains("has no keyring"), "{why}");
    assert!(
        !why.contains("zbus"),
        "a library's words reached the user: {why}"
    );
    let why = why_asked(&LockedKeyring);
    assert!(why.contains("keyring on this computer is locked"), "{why}");
    assert!(!why.contains("no keyring"), "{why}");
    assert!(!why.contains("IsLocked"), "{why}");
}

#[test]
fn a_record_whose_keyring_is_gone_or_locked_is_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = MemoryKeyring::default();
    let key = ready(at_start(dir.path(), &keyring, exists(dir.path())));
    crate::storage::Database::open_in(dir.path(), &key).unwrap();

    let away = NoKeyring("zbus error: the Secret Service did not answer".into());
    let error = at_start(dir.path(), &away, exists(dir.path())).unwrap_err();
    assert_eq!(error.code(), "keyring_unavailable");
    assert!(
        error.to_string().contains("cannot reach the keyring"),
        "{error}"
    );
    assert!(!error.to_string().contains("zbus"), "{error}");
    let error = at_start(dir.path(), &LockedKeyring, exists(dir.path())).unwrap_err();
    assert!(error.to_string().contains("is locked"), "{error}");

    let emptied = MemoryKeyring::default();
    let error = at_start(dir.path(), &emptied, exists(dir.path())).unwrap_err();
    assert_eq!(error.code(), "key_missing");
    assert!(error.to_string().contains("left exactly as it was"));
}

#[test]
fn a_key_lost_before_anything_was_encrypted_is_simply_replaced() {
    let dir = tempfile::tempdir().unwrap();
    ready(at_start(
        dir.path(),
        &MemoryKeyring::default(),
        exists(dir.path()),
    ));
    // No database was ever written with it: a fresh keyring just makes a new key.
    ready(at_start(
        dir.path(),
        &MemoryKeyring::default(),
        exists(dir.path()),
    ));
}

#[test]
fn a_chosen_passphrase_unlocks_the_same_key_and_a_wrong_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let key =
        choose_passphrase(dir.path(), "correct horse battery", "correct horse battery").unwrap();
    assert!(matches!(
        at_start(dir.path(), &MemoryKeyring::default(), exists(dir.path())),
        Ok(AtStart::EnterPassphrase)
    ));
    let file = std::fs::read_to_string(dir.path().join(KEY_FILE_NAME)).unwrap();
    assert!(file.contains("argon2id"), "{file}");
    assert!(!file.contains(&hex::encode(key.as_bytes())));
    assert!(!file.contains("correct horse"));

    let unlocked = unlock(dir.path(), "correct horse battery").unwrap();
    assert_eq!(unlocked.as_bytes(), key.as_bytes());
    let wrong = unlock(dir.path(), "correct horse battery!").unwrap_err();
    assert_eq!(wrong.code(), "wrong_passphrase");
    assert_eq!(wrong.field(), Some("passphrase"));
    assert!(wrong.to_string().starts_with("Passphrase: "));
    // Choosing again over an existing key is refused: it would lock the record out.
    assert_eq!(
        choose_passphrase(dir.path(), "another long one", "another long one")
            .unwrap_err()
            .code(),
        "already_open"
    );
    assert_eq!(
        unlock(dir.path(), "correct horse battery")
            .unwrap()
            .as_bytes(),
        key.as_bytes()
    );
}

#[test]
fn a_new_passphrase_is_checked_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "short",
            "short",
            "invalid_passphrase",
            "passphrase",
            "at least 10",
        ),
        (
            "long enough here",
            "long enough hare",
            "passphrase_mismatch",
            "passphraseAgain",
            "Passphrase again: ",
        ),
        (
            "nul\u{0}inside it",
            "nul\u{0}inside it",
            "invalid_passphrase",
            "passphrase",
            "hidden control",
        ),
    ];
    for (passphrase, again, code, field, says) in cases {
        let error = choose_passphrase(dir.path(), passphrase, again).unwrap_err();
        assert_eq!(error.code(), code, "{passphrase:?}");
        assert_eq!(error.field(), Some(field), "{passphrase:?}");
        assert!(error.to_string().contains(says), "{error}");
    }
    assert!(
        !dir.path().join(KEY_FILE_NAME).exists(),
        "nothing is kept after a refusal"
    );
}

#[test]
fn a_damaged_key_file_is_reported_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(KEY_FILE_NAME), b"{ not json").unwrap();
    let error = at_start(dir.path(), &MemoryKeyring::default(), exists(dir.path())).unwrap_err();
    assert_eq!(error.code(), "key_file");
    assert!(
        error.to_string().contains("left exactly as it was"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(dir.path().join(KEY_FILE_NAME)).unwrap(),
        b"{ not json"
    );
}

#[test]
fn the_key_never_shows_in_debug_output() {
    let key = DataKey::generate().unwrap();
    assert_eq!(format!("{key:?}"), "DataKey(…)");
}

#[test]
fn a_keyring_record_can_be_kept_under_a_passphrase_instead() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = MemoryKeyring::default();
    let key = ready(at_start(dir.path(), &keyring, exists(dir.path())));
    assert_eq!(kept_in(dir.path()).unwrap(), Some("keyring"));
    let short = keep_under_passphrase(dir.path(), &keyring, &key, "short", "short").unwrap_err();
    assert_eq!(short.field(), Some("passphrase"));
    let mismatch = keep_under_passphrase(
        dir.path(),
        &keyring,
        &key,
        "a long passphrase",
        "a long passphrasE",
    )
    .unwrap_err();
    assert_eq!(mismatch.field(), Some("passphraseAgain"));
    assert_eq!(
        kept_in(dir.path()).unwrap(),
        Some("keyring"),
        "nothing changed after a refusal"
    );

    keep_under_passphrase(
        dir.path(),
        &keyring,
        &key,
        "a long passphrase",
        "a long passphrase",
    )
    .unwrap();
    assert_eq!(kept_in(dir.path()).unwrap(), Some("passphrase"));
    assert!(
        keyring.load(&record_name(dir.path())).unwrap().is_none(),
        "the keyring's copy is gone"
    );
    assert!(matches!(
        at_start(dir.path(), &keyring, exists(dir.path())),
        Ok(AtStart::EnterPassphrase)
    ));
    assert_eq!(
        unlock(dir.path(), "a long passphrase").unwrap().as_bytes(),
        key.as_bytes()
    );
    let again = keep_under_passphrase(
        dir.path(),
        &keyring,
        &key,
        "another passphrase",
        "another passphrase",
    )
    .unwrap_err();
    assert_eq!(again.code(), "already_passphrase");
}
