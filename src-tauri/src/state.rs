//! What the app holds while it runs. Start-up problems are kept, not fatal: the window still
//! opens, shows what went wrong, and the parts that need no database (advice text, the
//! Emergency screen) keep working.

use std::path::PathBuf;
use std::sync::Arc;

use crate::advice::AdviceLibrary;
use crate::alarms::hub::AlarmHub;
use crate::checkins::runner::SchedulerHandle;
use crate::content::ContentError;
use crate::emergency::EmergencyInfo;
use crate::guides::GuideLibrary;
use crate::relay::matrix::TeamService;
use crate::relay::RelayError;
use crate::settings;
use crate::storage::{Database, StorageError};
use crate::time::{self, Clock};

pub struct AppState {
    pub data_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// Wakes the check-in scheduler when sessions change.
    pub scheduler: SchedulerHandle,
    /// The open alarms; absent only when the database could not be opened.
    alarms: Option<Arc<AlarmHub>>,
    /// The team relay; absent only when the database could not be opened.
    team: Option<Arc<TeamService>>,
    database: Result<Arc<Database>, StorageError>,
    advice: Result<AdviceLibrary, ContentError>,
    guides: Result<GuideLibrary, ContentError>,
    emergency: Result<EmergencyInfo, ContentError>,
}

impl AppState {
    pub fn start(data_dir: PathBuf, clock: Arc<dyn Clock>) -> Self {
        let database = Database::open_in(&data_dir).map(Arc::new);
        match &database {
            Ok(database) => match settings::time_zone_choice(&database.conn()) {
                Ok(choice) => time::show_times_in(choice.zone()),
                Err(error) => tracing::warn!("time zone setting not read, UK time used: {error}"),
            },
            Err(error) => tracing::error!("{error}"),
        }
        let advice = AdviceLibrary::load_embedded();
        let guides = GuideLibrary::load_embedded();
        let emergency = EmergencyInfo::load_embedded();
        let state = Self {
            data_dir,
            clock,
            scheduler: SchedulerHandle::default(),
            alarms: None,
            team: None,
            database,
            advice,
            guides,
            emergency,
        };
        if let Some(problems) = state.content_problems() {
            tracing::error!("{problems}");
        }
        state
    }

    pub fn database(&self) -> Result<&Arc<Database>, StorageError> {
        self.database
            .as_ref()
            .map_err(|error| StorageError::Unavailable(error.to_string()))
    }

    pub fn set_alarms(&mut self, hub: Arc<AlarmHub>) {
        self.alarms = Some(hub);
    }

    pub fn set_team(&mut self, team: Arc<TeamService>) {
        self.team = Some(team);
    }

    pub fn team(&self) -> Result<&Arc<TeamService>, RelayError> {
        match &self.team {
            Some(team) => Ok(team),
            None => Err(RelayError::Storage(StorageError::Unavailable(
                "the team relay has not started".into(),
            ))),
        }
    }

    pub fn alarms(&self) -> Result<&Arc<AlarmHub>, StorageError> {
        match &self.alarms {
            Some(hub) => Ok(hub),
            None => self
                .database()
                .map(|_| ())
                .and(Err(StorageError::Unavailable(
                    "check-in alarms have not started".into(),
                ))),
        }
    }

    /// After any change to a session: the scheduler looks again and every view of the
    /// alarms (window, notifications) is brought up to date.
    pub fn sessions_changed(&self) {
        self.scheduler.poke();
        if let Some(hub) = &self.alarms {
            hub.refresh(&[]);
        }
    }

    pub fn database_problem(&self) -> Option<String> {
        self.database.as_ref().err().map(ToString::to_string)
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
