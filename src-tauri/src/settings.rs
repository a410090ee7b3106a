//! Settings kept with the record: which time zone the screens show times in, and the team
//! account's recovery key if the user chose to keep it here.
//! UK time is the default and what evidence packs and team messages always use; a
//! candidate abroad (or a volunteer with a laptop set elsewhere) can choose the device's.

use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::ErrorCode;
use crate::storage::StorageError;
use crate::time::{self, UK_ZONE};

const TIME_ZONE: &str = "timeZone";
const RECOVERY_KEY: &str = "teamRecoveryKey";
/// The field (and setting) for how long phones' locations are kept after a session ends.
pub const LOCATION_DAYS: &str = "locationDays";
/// The most days a location may be kept: a season's review reads the incident log, not this.
pub const LOCATION_DAYS_MAX: u32 = 90;
/// Locations are kept a week after their session unless the user chose otherwise.
pub const LOCATION_DAYS_DEFAULT: u32 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TimeZoneChoice {
    Uk,
    Device,
}

impl TimeZoneChoice {
    fn as_str(self) -> &'static str {
        match self {
            TimeZoneChoice::Uk => "uk",
            TimeZoneChoice::Device => "device",
        }
    }

    pub fn parse(value: &str) -> Result<Self, SettingsError> {
        match value {
            "uk" => Ok(TimeZoneChoice::Uk),
            "device" => Ok(TimeZoneChoice::Device),
            _ => Err(SettingsError::TimeZone),
        }
    }

    /// The zone this choice means on this device (UK time when the device's is unknown).
    pub fn zone(self) -> Tz {
        match self {
            TimeZoneChoice::Uk => UK_ZONE,
            TimeZoneChoice::Device => time::device_zone().unwrap_or(UK_ZONE),
        }
    }
}

/// What the settings screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeZoneView {
    pub choice: TimeZoneChoice,
    /// The zone in use, e.g. "Europe/London".
    pub zone: String,
    /// The device's own zone, if the app can tell it.
    pub device_zone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("Times shown in: choose UK time or this device's time zone.")]
    TimeZone,
    #[error("Keep locations for: a whole number of days from 1 to {LOCATION_DAYS_MAX}.")]
    LocationDays,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for SettingsError {
    fn from(error: rusqlite::Error) -> Self {
        SettingsError::Storage(error.into())
    }
}

impl ErrorCode for SettingsError {
    fn code(&self) -> &'static str {
        match self {
            SettingsError::TimeZone | SettingsError::LocationDays => "validation",
            SettingsError::Storage(error) => error.code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            SettingsError::TimeZone => Some(TIME_ZONE),
            SettingsError::LocationDays => Some(LOCATION_DAYS),
            SettingsError::Storage(_) => None,
        }
    }

    fn is_fault(&self) -> bool {
        matches!(self, SettingsError::Storage(_))
    }
}

/// The saved choice; UK time when none was made (or the saved value is not one the app
/// knows, say from a newer version).
pub fn time_zone_choice(conn: &Connection) -> Result<TimeZoneChoice, SettingsError> {
    let saved: Option<String> = conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [TIME_ZONE],
            |row| row.get(0),
        )
        .optional()?;
    Ok(saved
        .and_then(|value| TimeZoneChoice::parse(&value).ok())
        .unwrap_or(TimeZoneChoice::Uk))
}

/// Saves the choice and makes every time shown from now on follow it.
pub fn choose_time_zone(conn: &Connection, choice: TimeZoneChoice) -> Result<(), SettingsError> {
    conn.execute(
        "INSERT INTO app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [TIME_ZONE, choice.as_str()],
    )?;
    time::show_times_in(choice.zone());
    Ok(())
}

/// How many days the locations of a session are kept after it ends: 7 unless the user chose
/// otherwise (a saved value out of range, say written by hand, reads as the default).
pub fn location_days(conn: &Connection) -> Result<u32, SettingsError> {
    let saved: Option<String> = conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [LOCATION_DAYS],
            |row| row.get(0),
        )
        .optional()?;
    Ok(saved
        .and_then(|value| value.parse::<u32>().ok())
        .filter(|days| (1..=LOCATION_DAYS_MAX).contains(days))
        .unwrap_or(LOCATION_DAYS_DEFAULT))
}

pub fn keep_locations_for(conn: &Connection, days: i64) -> Result<u32, SettingsError> {
    let days = u32::try_from(days)
        .ok()
        .filter(|days| (1..=LOCATION_DAYS_MAX).contains(days))
        .ok_or(SettingsError::LocationDays)?;
    conn.execute(
        "INSERT INTO app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [LOCATION_DAYS, &days.to_string()],
    )?;
    Ok(days)
}

/// The team account's recovery key, kept in the (encrypted) record at the user's choice so
/// that a laptop restored from a backup can confirm itself: who it is for, and the key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct KeptRecoveryKey {
    pub user_id: String,
    pub key: String,
}

pub fn keep_recovery_key(conn: &Connection, kept: &KeptRecoveryKey) -> Result<(), SettingsError> {
    // Two strings: serialising them cannot fail.
    let value = serde_json::to_string(kept).unwrap_or_default();
    conn.execute(
        "INSERT INTO app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [RECOVERY_KEY, value.as_str()],
    )?;
    Ok(())
}

/// The kept recovery key, if one is kept for `user_id` (a key for another account, or a
/// value this version cannot read, is not one).
pub fn kept_recovery_key(
    conn: &Connection,
    user_id: &str,
) -> Result<Option<KeptRecoveryKey>, SettingsError> {
    let saved: Option<String> = conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [RECOVERY_KEY],
            |row| row.get(0),
        )
        .optional()?;
    Ok(saved
        .and_then(|value| serde_json::from_str::<KeptRecoveryKey>(&value).ok())
        .filter(|kept| kept.user_id == user_id))
}

pub fn time_zone_view(choice: TimeZoneChoice) -> TimeZoneView {
    TimeZoneView {
        choice,
        zone: time::shown_zone().name().to_owned(),
        device_zone: time::device_zone().map(|zone| zone.name().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Database;

    /// A kept recovery key comes back from a restored backup: whatever the value holds, it is
    /// offered only when it is a key for the account signed in.
    #[test]
    fn a_kept_recovery_key_is_offered_only_for_its_own_account() {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let conn = database.conn();
        assert_eq!(kept_recovery_key(&conn, "@asha:x").unwrap(), None);
        let kept = KeptRecoveryKey {
            user_id: "@asha:x".into(),
            key: "EsTj 3yST".into(),
        };
        keep_recovery_key(&conn, &kept).unwrap();
        assert_eq!(kept_recovery_key(&conn, "@asha:x").unwrap(), Some(kept));
        assert_eq!(kept_recovery_key(&conn, "@ben:x").unwrap(), None);
        for hostile in [
            "not json".to_owned(),
            "{\"user_id\": 1, \"key\": null}".to_owned(),
            "[]".to_owned(),
            format!(
                "{{\"user_id\": \"@asha:x\", \"key\": \"{}\", \"more\": 1}}",
                "k".repeat(100_000)
            ),
        ] {
            conn.execute(
                "UPDATE app_setting SET value = ?1 WHERE name = 'teamRecoveryKey'",
                [&hostile],
            )
            .unwrap();
            let read = kept_recovery_key(&conn, "@asha:x").unwrap();
            assert!(
                read.is_none() || read.is_some_and(|k| k.user_id == "@asha:x"),
                "{}",
                &hostile[..20.min(hostile.len())]
            );
        }
    }

    #[test]
    fn locations_are_kept_seven_days_unless_a_number_of_days_in_range_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let conn = database.conn();
        assert_eq!(location_days(&conn).unwrap(), 7);
        assert_eq!(keep_locations_for(&conn, 30).unwrap(), 30);
        assert_eq!(location_days(&conn).unwrap(), 30);
        for refused in [0, -1, 91, i64::MAX, i64::MIN, u32::MAX as i64 + 1] {
            let error = keep_locations_for(&conn, refused).unwrap_err();
            assert_eq!(error.field(), Some("locationDays"), "{refused}");
            assert!(
                error.to_string().starts_with("Keep locations for:"),
                "{error}"
            );
            assert_eq!(location_days(&conn).unwrap(), 30, "unchanged by {refused}");
        }
        for written_by_hand in ["0", "-5", "9999", "seven", ""] {
            conn.execute(
                "UPDATE app_setting SET value = ?1 WHERE name = 'locationDays'",
                [written_by_hand],
            )
            .unwrap();
            assert_eq!(location_days(&conn).unwrap(), 7, "{written_by_hand}");
        }
    }

    #[test]
    fn uk_time_until_a_choice_is_saved_and_unknown_values_read_as_uk() {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let conn = database.conn();
        assert_eq!(time_zone_choice(&conn).unwrap(), TimeZoneChoice::Uk);
        // Saving UK leaves the process-wide zone as it is for the other tests.
        choose_time_zone(&conn, TimeZoneChoice::Uk).unwrap();
        assert_eq!(time_zone_choice(&conn).unwrap(), TimeZoneChoice::Uk);
        conn.execute(
            "UPDATE app_setting SET value = 'mars' WHERE name = 'timeZone'",
            [],
        )
        .unwrap();
        assert_eq!(time_zone_choice(&conn).unwrap(), TimeZoneChoice::Uk);
    }

    #[test]
    fn only_the_two_choices_are_accepted_and_the_error_names_the_field() {
        assert_eq!(
            TimeZoneChoice::parse("device").unwrap(),
            TimeZoneChoice::Device
        );
        for bad in ["", "UK", "America/New_York", "device "] {
            let error = TimeZoneChoice::parse(bad).unwrap_err();
            assert_eq!(error.field(), Some("timeZone"));
            assert!(error.to_string().starts_with("Times shown in:"), "{error}");
        }
    }
}
