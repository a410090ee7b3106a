//! The app lock: after a chosen idle time, or on demand, the window shows nothing of the
//! record until the user's PIN is typed. Like a phone's lock screen, the Emergency screen and
//! "I'm OK" for sessions that are out stay usable, and reminders and alarms keep firing: the
//! scheduler never looks at the lock.
//!
//! The PIN is kept as an Argon2id hash in the (encrypted) record. The lock itself lives in
//! memory: with a PIN set, the app starts locked.

use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::ErrorCode;
use crate::storage::Database;
use crate::tries::Tries;

const PIN_SETTING: &str = "lockPinHash";
/// The duress PIN: unlocks as the PIN does, and tells the team silently (issue 26).
const DURESS_PIN_SETTING: &str = "lockDuressPinHash";
const IDLE_SETTING: &str = "lockIdleMinutes";
pub const DEFAULT_IDLE_MINUTES: u32 = 5;
pub const IDLE_CHOICES: &[u32] = &[1, 2, 5, 10, 15, 30, 60];
const PIN_MIN: usize = 4;
const PIN_MAX: usize = 12;
/// Wrong PINs so far and when the next may be tried, kept in the record so that a restart
/// does not give free tries again.
const TRIES_SETTING: &str = "lockPinTries";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("PIN: use {PIN_MIN} to {PIN_MAX} digits, and nothing else.")]
    PinFormat,
    #[error("PIN again: this is not the same as the PIN above. Type both again.")]
    PinMismatch,
    #[error("PIN: that is not the PIN for this app. Try again.")]
    WrongPin,
    #[error("PIN: type your PIN to check in while the app is locked (under “Out now”).")]
    PinToCheckIn,
    #[error("PIN: too many wrong tries. Wait {}, then try again.", crate::tries::seconds(*.0))]
    SlowDown(u64),
    #[error("Duress PIN: use {PIN_MIN} to {PIN_MAX} digits, and nothing else.")]
    DuressFormat,
    #[error("Duress PIN again: this is not the same as the duress PIN above. Type both again.")]
    DuressMismatch,
    #[error("Duress PIN: it must differ from the PIN that unlocks the app.")]
    DuressSameAsPin,
    #[error("Lock after: choose one of the times offered.")]
    IdleChoice,
    #[error("Choose a PIN first: without one, the app could not be unlocked again.")]
    NoPin,
    #[error("Campaign Safe is locked. Type your PIN to see this.")]
    Locked,
    #[error("Campaign Safe could not keep the PIN: {0}.")]
    Hash(String),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

impl From<rusqlite::Error> for LockError {
    fn from(error: rusqlite::Error) -> Self {
        LockError::Storage(error.into())
    }
}

impl ErrorCode for LockError {
    fn code(&self) -> &'static str {
        match self {
            LockError::PinFormat
            | LockError::PinMismatch
            | LockError::IdleChoice
            | LockError::DuressFormat
            | LockError::DuressMismatch
            | LockError::DuressSameAsPin => "validation",
            LockError::WrongPin => "wrong_pin",
            LockError::PinToCheckIn => "pin_needed",
            LockError::SlowDown(_) => "slow_down",
            LockError::NoPin => "no_pin",
            LockError::Locked => "app_locked",
            LockError::Hash(_) => "internal",
            LockError::Storage(error) => error.code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            LockError::PinFormat
            | LockError::WrongPin
            | LockError::PinToCheckIn
            | LockError::SlowDown(_) => Some("pin"),
            LockError::PinMismatch => Some("pinAgain"),
            LockError::DuressFormat | LockError::DuressSameAsPin => Some("duressPin"),
            LockError::DuressMismatch => Some("duressPinAgain"),
            LockError::IdleChoice => Some("idleMinutes"),
            _ => None,
        }
    }

    fn is_fault(&self) -> bool {
        matches!(self, LockError::Hash(_) | LockError::Storage(_))
    }
}

/// What the window needs to know about the lock.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LockStatus {
    pub locked: bool,
    pub pin_set: bool,
    pub duress_pin_set: bool,
    pub idle_minutes: u32,
    /// What the window waits, in seconds: the minutes chosen (debug builds: a test may say).
    pub idle_seconds: u32,
    pub idle_choices: &'static [u32],
}

fn setting(conn: &Connection, name: &str) -> Result<Option<String>, LockError> {
    Ok(conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()?)
}

fn save_setting(conn: &Connection, name: &str, value: &str) -> Result<(), LockError> {
    conn.execute(
        "INSERT INTO app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

pub fn idle_minutes(conn: &Connection) -> Result<u32, LockError> {
    Ok(setting(conn, IDLE_SETTING)?
        .and_then(|value| value.parse().ok())
        .filter(|minutes| IDLE_CHOICES.contains(minutes))
        .unwrap_or(DEFAULT_IDLE_MINUTES))
}

/// Whether a duress PIN is set: then "I'm OK" on the lock screen asks for a PIN too, so
/// someone made to check in can type the duress PIN there.
pub fn duress_pin_set(conn: &Connection) -> Result<bool, LockError> {
    Ok(setting(conn, DURESS_PIN_SETTING)?.is_some())
}

pub fn pin_set(conn: &Connection) -> Result<bool, LockError> {
    Ok(setting(conn, PIN_SETTING)?.is_some())
}

fn well_formed(pin: &str) -> bool {
    (PIN_MIN..=PIN_MAX).contains(&pin.chars().count()) && pin.chars().all(|c| c.is_ascii_digit())
}

fn hashed(pin: &str) -> Result<String, LockError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| LockError::Hash(error.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| LockError::Hash(error.to_string()))?;
    Ok(Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|error| LockError::Hash(error.to_string()))?
        .to_string())
}

/// Whether `pin` is the one hashed as `stored` (slow by design).
fn matches(stored: Option<&str>, pin: &str) -> Result<bool, LockError> {
    let Some(stored) = stored else {
        return Ok(false);
    };
    let hash = PasswordHash::new(stored).map_err(|error| LockError::Hash(error.to_string()))?;
    Ok(Argon2::default()
        .verify_password(pin.as_bytes(), &hash)
        .is_ok())
}

/// Chooses (or changes) the PIN; the lock is then in use. A duress PIN the same as the new
/// PIN is dropped, since it could never be told apart.
pub fn set_pin(conn: &Connection, pin: &str, again: &str) -> Result<(), LockError> {
    if !well_formed(pin) {
        return Err(LockError::PinFormat);
    }
    if pin != again {
        return Err(LockError::PinMismatch);
    }
    if matches(setting(conn, DURESS_PIN_SETTING)?.as_deref(), pin)? {
        conn.execute(
            "DELETE FROM app_setting WHERE name = ?1",
            [DURESS_PIN_SETTING],
        )?;
    }
    save_setting(conn, PIN_SETTING, &hashed(pin)?)
}

/// Chooses (or, empty, removes) the duress PIN: it unlocks as the PIN does, and raises a
/// silent alarm on the team's other devices. Only beside a PIN, and never the same.
pub fn set_duress_pin(conn: &Connection, pin: &str, again: &str) -> Result<(), LockError> {
    if pin.is_empty() && again.is_empty() {
        conn.execute(
            "DELETE FROM app_setting WHERE name = ?1",
            [DURESS_PIN_SETTING],
        )?;
        return Ok(());
    }
    if !pin_set(conn)? {
        return Err(LockError::NoPin);
    }
    if !well_formed(pin) {
        return Err(LockError::DuressFormat);
    }
    if pin != again {
        return Err(LockError::DuressMismatch);
    }
    if matches(setting(conn, PIN_SETTING)?.as_deref(), pin)? {
        return Err(LockError::DuressSameAsPin);
    }
    save_setting(conn, DURESS_PIN_SETTING, &hashed(pin)?)
}

/// How the app was unlocked: the screen is the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlocked {
    WithPin,
    /// With the duress PIN: the caller tells the team, silently.
    UnderDuress,
}

pub fn set_idle_minutes(conn: &Connection, minutes: u32) -> Result<(), LockError> {
    if !IDLE_CHOICES.contains(&minutes) {
        return Err(LockError::IdleChoice);
    }
    save_setting(conn, IDLE_SETTING, &minutes.to_string())
}

/// Debug builds only: `CAMPAIGN_SAFE_TEST_IDLE_SECONDS` shortens the idle time, so an
/// end-to-end test can see the window lock by itself without waiting a minute.
#[cfg(debug_assertions)]
fn idle_seconds(minutes: u32) -> u32 {
    std::env::var("CAMPAIGN_SAFE_TEST_IDLE_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(minutes * 60)
}

#[cfg(not(debug_assertions))]
fn idle_seconds(minutes: u32) -> u32 {
    minutes * 60
}

#[derive(Default)]
struct Inner {
    locked: bool,
}

/// Whether the window is locked now.
#[derive(Default)]
pub struct AppLock(Mutex<Inner>);

impl AppLock {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn is_locked(&self) -> bool {
        self.inner().locked
    }

    /// Locks now; refused while no PIN could unlock it again.
    pub fn lock(&self, conn: &Connection) -> Result<(), LockError> {
        if !pin_set(conn)? {
            return Err(LockError::NoPin);
        }
        self.inner().locked = true;
        Ok(())
    }

    /// At start: locked whenever a PIN is set, so an unattended restart shows nothing.
    pub fn lock_if_pin_set(&self, conn: &Connection) {
        if pin_set(conn).unwrap_or(false) {
            self.inner().locked = true;
        }
    }

    /// Unlocks with the PIN (slow by design); wrong tries are slowed down, across restarts.
    /// The PIN is checked on the shared reader (Argon2 is slow); the writer is taken only to
    /// keep the count.
    pub fn unlock(
        &self,
        database: &Database,
        pin: &str,
        now: DateTime<Utc>,
    ) -> Result<Unlocked, LockError> {
        let unlocked = self.check_pin(database, pin, now)?;
        self.inner().locked = false;
        Ok(unlocked)
    }

    /// Checks a PIN typed while the app stays locked ("I'm OK" on the lock screen, once a
    /// duress PIN is set): the same hashes, the same count of wrong tries, as at unlock.
    pub fn check_pin(
        &self,
        database: &Database,
        pin: &str,
        now: DateTime<Utc>,
    ) -> Result<Unlocked, LockError> {
        let (mut tries, stored, duress) = {
            let reader = database.reader();
            let kept = setting(&reader, TRIES_SETTING)?;
            (
                Tries::read(kept.as_deref(), now),
                setting(&reader, PIN_SETTING)?,
                setting(&reader, DURESS_PIN_SETTING)?,
            )
        };
        tries.check(now).map_err(LockError::SlowDown)?;
        if stored.is_none() {
            return Ok(Unlocked::WithPin);
        }
        // Both are always checked, so the time taken does not tell which one was typed.
        let right = matches(stored.as_deref(), pin)?;
        let under_duress = matches(duress.as_deref(), pin)?;
        let conn = database.conn();
        if right || under_duress {
            conn.execute("DELETE FROM app_setting WHERE name = ?1", [TRIES_SETTING])?;
            return Ok(if right {
                Unlocked::WithPin
            } else {
                Unlocked::UnderDuress
            });
        }
        tries.failed(now);
        save_setting(&conn, TRIES_SETTING, &tries.to_json())?;
        Err(LockError::WrongPin)
    }

    pub fn status(&self, conn: &Connection) -> Result<LockStatus, LockError> {
        let minutes = idle_minutes(conn)?;
        Ok(LockStatus {
            locked: self.is_locked(),
            pin_set: pin_set(conn)?,
            duress_pin_set: duress_pin_set(conn)?,
            idle_minutes: minutes,
            idle_seconds: idle_seconds(minutes),
            idle_choices: IDLE_CHOICES,
        })
    }
}

#[cfg(test)]
mod tests;
