use super::*;
use crate::storage::{latest_schema_version, migrations, Database};
use crate::vault::test_key;

const NAME: &[u8] = b"Siobhan Featherstonehaugh";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// What an earlier version left: a plain file at today's schema, in WAL mode, with a contact
/// still in the log (copied while the writer was open, as after a crash).
fn earlier_record(dir: &Path) -> PathBuf {
    let made = tempfile::tempdir().unwrap();
    let source = made.path().join(DB_FILE_NAME);
    let mut conn = Connection::open(&source).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    migrations().to_latest(&mut conn).unwrap();
    crate::contacts::save(
        &conn,
        "election-coordinator",
        "Siobhan Featherstonehaugh",
        "01632 960 123",
        "",
        chrono::Utc::now(),
    )
    .unwrap();
    let path = dir.join(DB_FILE_NAME);
    std::fs::copy(&source, &path).unwrap();
    let log = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    std::fs::copy(log(&source), log(&path)).unwrap();
    assert!(std::fs::metadata(log(&path)).unwrap().len() > 0);
    drop(conn);
    path
}

#[test]
fn an_earlier_plain_record_is_encrypted_on_open_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = earlier_record(dir.path());
    assert!(is_plain(&path));
    let database = Database::open(&path, &test_key()).unwrap();
    let name: String = database
        .conn()
        .query_row("SELECT name FROM contact_card", [], |row| row.get(0))
        .unwrap();
    assert_eq!(name, "Siobhan Featherstonehaugh");
    drop(database);
    assert!(!is_plain(&path));
    assert!(holds_encrypted_record(dir.path()));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(
            !contains(&bytes, NAME),
            "{} holds the name",
            entry.path().display()
        );
    }
    assert!(!encrypting_path(&path).exists());
}

#[test]
fn an_interrupted_copy_is_thrown_away_and_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = earlier_record(dir.path());
    std::fs::write(encrypting_path(&path), b"half a copy").unwrap();
    let database = Database::open(&path, &test_key()).unwrap();
    let count: i64 = database
        .conn()
        .query_row("SELECT count(*) FROM contact_card", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 1);
    assert!(!encrypting_path(&path).exists());
}

#[test]
fn the_wrong_key_is_refused_and_the_record_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    drop(Database::open(&path, &test_key()).unwrap());
    let before = std::fs::read(&path).unwrap();
    let other = crate::vault::DataKey::generate().unwrap();
    let error = Database::open(&path, &other).err().expect("must refuse");
    assert!(matches!(error, StorageError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("left exactly as it was"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // The right key still opens it.
    let database = Database::open(&path, &test_key()).unwrap();
    let version: i64 = database
        .conn()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version as usize, latest_schema_version());
}

#[test]
fn a_plain_record_from_a_newer_version_is_not_encrypted_or_touched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let error = Database::open(&path, &test_key())
        .err()
        .expect("must refuse");
    assert!(
        matches!(error, StorageError::NewerSchema { .. }),
        "{error:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!encrypting_path(&path).exists());
}
