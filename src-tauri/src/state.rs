//! What the app holds while it runs. Start-up problems are kept, not fatal: the window still
//! opens, shows what went wrong, and the parts that need no database (advice text, the
//! Emergency screen) keep working.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;

use crate::advice::AdviceLibrary;
use crate::alarms::hub::AlarmHub;
use crate::changes::{Changed, Changes};
use crate::checkins::runner::SchedulerHandle;
use crate::checkins::SessionSink;
use crate::content::ContentError;
use crate::donotknock::DoorSink;
use crate::emergency::EmergencyInfo;
use crate::guides::GuideLibrary;
use crate::notify::Notifier;
use crate::relay::matrix::TeamService;
use crate::relay::RelayError;
use crate::settings;
use crate::storage::{Database, StorageError};
use crate::time::{self, Clock};
use crate::vault::{self, DataKey, VaultError};

/// What the window asks for while the record waits for its passphrase.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum Ask {
    /// The record's key is kept under a passphrase: type it.
    Enter,
    /// A new record with no keyring to keep its key: choose a passphrase, and why.
    Choose { why: String },
}

/// The record waiting for its passphrase, with what opening it will need.
struct Waiting {
    ask: Ask,
    notifier: Arc<dyn Notifier>,
}

pub struct AppState {
    pub data_dir: PathBuf,
    /// The window's lock: while it is locked, only the Emergency screen, the guidance and
    /// "I'm OK" answer (commands/mod.rs).
    pub app_lock: crate::applock::AppLock,
    /// Where the record's key is kept, when it is the desktop's keyring.
    pub keyring: OnceLock<Arc<dyn vault::Keyring>>,
    pub clock: Arc<dyn Clock>,
    /// Wakes the check-in scheduler when sessions change.
    pub scheduler: SchedulerHandle,
    /// The one channel of changes: the scheduler, the alarms, the relay and the window listen.
    pub changes: Changes,
    /// Where check-in changes are told, inside their transactions: the team relay's posts.
    pub sessions_sink: Arc<dyn SessionSink>,
    /// Where do-not-knock changes are told: the team relay's posts.
    pub doors_sink: Arc<dyn DoorSink>,
    /// The open alarms; absent until the database is open, and if it could not be.
    alarms: OnceLock<Arc<AlarmHub>>,
    /// The team relay; absent until the database is open, and if it could not be.
    team: OnceLock<Arc<TeamService>>,
    /// Set once the database has been opened (and upgraded, which may happen after the
    /// window is up), or has failed to open.
    database: OnceLock<Result<Arc<Database>, StorageError>>,
    /// Opening the record upgrades what an earlier version left (the window says so).
    upgrade_announced: AtomicBool,
    /// The record is open (or refused) and the services that use it have started: the
    /// moment the window is told `record-ready`.
    started: AtomicBool,
    /// Set while the record waits for its passphrase.
    waiting: Mutex<Option<Waiting>>,
    advice: Result<AdviceLibrary, ContentError>,
    guides: Result<GuideLibrary, ContentError>,
    emergency: Result<EmergencyInfo, ContentError>,
}

impl AppState {
    /// The state with the built-in content loaded; the database is opened by
    /// [`AppState::open_database`].
    pub fn new(data_dir: PathBuf, clock: Arc<dyn Clock>) -> Self {
        let state = Self {
            data_dir,
            app_lock: Default::default(),
            keyring: OnceLock::new(),
            clock,
            scheduler: SchedulerHandle::default(),
            changes: Changes::default(),
            sessions_sink: Arc::new(crate::relay::outbox::TeamPosts),
            doors_sink: Arc::new(crate::relay::register::TeamDoors),
            alarms: OnceLock::new(),
            team: OnceLock::new(),
            database: OnceLock::new(),
            upgrade_announced: AtomicBool::new(false),
            started: AtomicBool::new(false),
            waiting: Mutex::new(None),
            advice: AdviceLibrary::load_embedded(),
            guides: GuideLibrary::load_embedded(),
            emergency: EmergencyInfo::load_embedded(),
        };
        state.changes.listen(Arc::new(state.scheduler.clone()));
        if let Some(problems) = state.content_problems() {
            tracing::error!("{problems}");
        }
        state
    }

    /// Opens (creating or upgrading) the database, once; later calls return the first
    /// outcome. With a PIN set the app is locked before the record is handed to anyone: the
    /// window may already be up and asking for it.
    pub fn open_database(&self, key: &DataKey) -> Result<&Arc<Database>, StorageError> {
        self.database.get_or_init(|| {
            let database = Database::open_in(&self.data_dir, key).map(Arc::new);
            match &database {
                Ok(database) => {
                    self.app_lock.lock_if_pin_set(&database.conn());
                    match settings::time_zone_choice(&database.conn()) {
                        Ok(choice) => time::show_times_in(choice.zone()),
                        Err(error) => {
                            tracing::warn!("time zone setting not read, UK time used: {error}")
                        }
                    }
                }
                Err(error) => tracing::error!("{error}"),
            }
            database
        });
        self.database()
    }

    /// The record may not be opened by this copy of the app (another copy has it, or the
    /// folder is read-only): every use of it answers with `error`.
    pub fn refuse_database(&self, error: StorageError) {
        let _ = self.database.set(Err(error));
        self.mark_started();
    }

    /// The record's services (scheduler, alarms, team relay) are running, or never will.
    pub fn mark_started(&self) {
        self.started.store(true, Ordering::Release);
    }

    pub fn database(&self) -> Result<&Arc<Database>, StorageError> {
        match self.database.get() {
            None if self.passphrase_asked().is_some() => Err(StorageError::Locked),
            None if self.upgrade_announced.load(Ordering::Acquire) => Err(StorageError::Upgrading),
            None => Err(StorageError::Opening),
            Some(opened) => opened.as_ref().map_err(|error| match error {
                // Already a sentence about the record as a whole: said as it is.
                StorageError::InUse { path } => StorageError::InUse { path: path.clone() },
                StorageError::ReadOnly { path } => StorageError::ReadOnly { path: path.clone() },
                other => StorageError::Unavailable(other.to_string()),
            }),
        }
    }

    /// The record about to be opened behind the window will be upgraded: the window says so
    /// meanwhile.
    pub fn announce_upgrade(&self) {
        self.upgrade_announced.store(true, Ordering::Release);
    }

    /// True while an upgrade of the record runs after the window opened.
    pub fn upgrading(&self) -> bool {
        self.undecided() && self.upgrade_announced.load(Ordering::Acquire)
    }

    /// True while the record opens behind the window on a normal start (tens of
    /// milliseconds): the first screen waits for `record-ready`.
    pub fn opening(&self) -> bool {
        self.undecided() && !self.upgrade_announced.load(Ordering::Acquire)
    }

    /// Neither started (opened or refused) nor waiting for its passphrase.
    fn undecided(&self) -> bool {
        !self.started.load(Ordering::Acquire) && self.passphrase_asked().is_none()
    }

    /// Why a service started with the record is not there: the record's own state, or, when
    /// it is open, the short moment before its services start (still "opening").
    fn not_started(&self, service: &str) -> StorageError {
        match self.database() {
            Err(error) => error,
            Ok(_) if self.undecided() => StorageError::Opening,
            Ok(_) => StorageError::Unavailable(format!("{service} did not start")),
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Option<Waiting>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The record stays closed until its passphrase is typed (or chosen); `notifier` is kept
    /// for the alarms that start then.
    pub fn await_passphrase(&self, ask: Ask, notifier: Arc<dyn Notifier>) {
        *self.waiting() = Some(Waiting { ask, notifier });
    }

    /// What the window should ask for, while the record is locked.
    pub fn passphrase_asked(&self) -> Option<Ask> {
        self.waiting().as_ref().map(|waiting| waiting.ask.clone())
    }

    /// Tries a passphrase with `attempt` (slow by design, run without holding anything the
    /// window needs). After a few wrong tries each next one must wait longer, across restarts
    /// (the count is kept beside the key file). On success the record is no longer waiting:
    /// the key and the kept notifier are handed back to open it.
    pub fn try_passphrase(
        &self,
        attempt: impl FnOnce(&Ask) -> Result<DataKey, VaultError>,
    ) -> Result<(DataKey, Arc<dyn Notifier>), VaultError> {
        let now = self.clock.now();
        let ask = {
            let waiting = self.waiting();
            waiting.as_ref().ok_or(VaultError::AlreadyOpen)?.ask.clone()
        };
        let mut tries = vault::passphrase_tries(&self.data_dir, now);
        tries
            .check(now)
            .map_err(|seconds| VaultError::SlowDown { seconds })?;
        let outcome = attempt(&ask);
        let mut waiting = self.waiting();
        let Some(current) = waiting.as_mut() else {
            return Err(VaultError::AlreadyOpen);
        };
        match outcome {
            Ok(key) => {
                let notifier = current.notifier.clone();
                *waiting = None;
                vault::keep_passphrase_tries(&self.data_dir, None);
                Ok((key, notifier))
            }
            Err(VaultError::WrongPassphrase) => {
                tries.failed(now);
                vault::keep_passphrase_tries(&self.data_dir, Some(&tries));
                Err(VaultError::WrongPassphrase)
            }
            Err(other) => Err(other),
        }
    }

    pub fn set_alarms(&self, hub: Arc<AlarmHub>) {
        let _ = self.alarms.set(hub);
    }

    pub fn set_team(&self, team: Arc<TeamService>) {
        let _ = self.team.set(team);
    }

    pub fn team(&self) -> Result<&Arc<TeamService>, RelayError> {
        match self.team.get() {
            Some(team) => Ok(team),
            None => Err(RelayError::Storage(self.not_started("the team relay"))),
        }
    }

    pub fn alarms(&self) -> Result<&Arc<AlarmHub>, StorageError> {
        match self.alarms.get() {
            Some(hub) => Ok(hub),
            None => Err(self.not_started("check-in alarms")),
        }
    }

    /// Tells everything that listens (the scheduler, the alarms and the window, the team
    /// relay) what changed.
    pub fn announce(&self, what: Changed) {
        self.changes.announce(what);
    }

    pub fn database_problem(&self) -> Option<String> {
        self.database.get()?.as_ref().err().map(ToString::to_string)
    }

    pub fn advice(&self) -> Result<&AdviceLibrary, ContentError> {
        self.advice.as_ref().map_err(Clone::clone)
    }

    pub fn guides(&self) -> Result<&GuideLibrary, ContentError> {
        self.guides.as_ref().map_err(Clone::clone)
    }

    pub fn emergency(&self) -> Result<&EmergencyInfo, ContentError> {
        self.emergency.as_ref().map_err(Clone::clone)
    }

    /// Every built-in content problem, for the start-up banner.
    pub fn content_problems(&self) -> Option<String> {
        let problems: Vec<String> = [
            self.advice.as_ref().err(),
            self.guides.as_ref().err(),
            self.emergency.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
        (!problems.is_empty()).then(|| problems.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SystemClock;

    #[test]
    fn the_record_is_opening_until_its_services_have_started() {
        let dir = tempfile::tempdir().expect("a folder");
        let state = AppState::new(dir.path().to_owned(), Arc::new(SystemClock));
        assert!(state.opening());
        assert!(matches!(state.alarms(), Err(StorageError::Opening)));

        // Open, the services not yet started: the window has not been told `record-ready`.
        state
            .open_database(&crate::vault::test_key())
            .expect("the record opens");
        assert!(state.opening());
        assert!(matches!(state.alarms(), Err(StorageError::Opening)));
        assert!(matches!(
            state.team(),
            Err(RelayError::Storage(StorageError::Opening))
        ));

        // Started, yet a service is missing: a fault, said as one.
        state.mark_started();
        assert!(!state.opening());
        assert!(matches!(state.alarms(), Err(StorageError::Unavailable(_))));
    }

    #[test]
    fn a_refused_record_is_not_opening() {
        let dir = tempfile::tempdir().expect("a folder");
        let state = AppState::new(dir.path().to_owned(), Arc::new(SystemClock));
        state.refuse_database(StorageError::Unavailable("read-only".into()));
        assert!(!state.opening() && !state.upgrading());
        assert!(matches!(state.team(), Err(RelayError::Storage(_))));
    }
}
