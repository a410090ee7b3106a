//! Time: stored in UTC, shown in the UK's zone (or the device's, if the user chooses it).
//!
//! Everything that needs "now" is given a [`Clock`], so tests control time.

use std::sync::{PoisonError, RwLock};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// UK time, GMT or BST. Campaign Safe is for UK elections; evidence packs always use it.
pub const UK_ZONE: Tz = chrono_tz::Europe::London;

/// The zone screens and notifications show times in. Process-wide because it is a display
/// preference that every formatted time follows; stored times are UTC whatever it is.
static SHOWN_ZONE: RwLock<Tz> = RwLock::new(UK_ZONE);

pub fn shown_zone() -> Tz {
    *SHOWN_ZONE.read().unwrap_or_else(PoisonError::into_inner)
}

pub fn show_times_in(zone: Tz) {
    *SHOWN_ZONE.write().unwrap_or_else(PoisonError::into_inner) = zone;
}

/// The device's time zone as the C library sees it: `TZ` when it names a zone, else the
/// system's setting. `None` when it is not a zone name the app knows.
pub fn device_zone() -> Option<Tz> {
    let from_env = std::env::var("TZ")
        .ok()
        .and_then(|tz| tz.trim_start_matches(':').parse::<Tz>().ok());
    from_env.or_else(|| iana_time_zone::get_timezone().ok()?.parse().ok())
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The wall clock moved by a fixed amount. Debug builds use it when end-to-end tests need
/// the app to start "later" (for example after a missed check-in).
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock(pub chrono::Duration);

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

/// A UTC instant as it is stored: milliseconds since the Unix epoch.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// Back from stored milliseconds. Out-of-range values (only possible if the file was edited
/// by hand) become `None` rather than a panic.
pub fn from_millis(millis: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(millis).single()
}

/// "25 Nov 2026, 14:03" in the zone times are shown in (GMT or BST as it applies on that
/// date, in UK time).
pub fn format_local(at: DateTime<Utc>) -> String {
    format_in(at, shown_zone())
}

/// As [`format_local`], always in UK time: for reports handed to the police.
pub fn format_uk(at: DateTime<Utc>) -> String {
    format_in(at, UK_ZONE)
}

/// "2026-11-25 14:03" in UK time: for spreadsheets, which sort this form as dates.
pub fn format_uk_sortable(at: DateTime<Utc>) -> String {
    at.with_timezone(&UK_ZONE)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn format_in(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%-d %b %Y, %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_gmt_in_winter_and_bst_in_summer() {
        let winter = Utc.with_ymd_and_hms(2026, 11, 25, 14, 3, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 14, 3, 0).unwrap();
        assert_eq!(format_local(winter), "25 Nov 2026, 14:03");
        assert_eq!(format_local(summer), "1 Jul 2026, 15:03");
    }

    #[test]
    fn formats_in_another_zone_for_the_device_setting() {
        let winter = Utc.with_ymd_and_hms(2026, 11, 27, 23, 30, 0).unwrap();
        assert_eq!(
            format_in(winter, chrono_tz::America::New_York),
            "27 Nov 2026, 18:30"
        );
        assert_eq!(format_uk(winter), "27 Nov 2026, 23:30");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 14, 3, 0).unwrap();
        assert_eq!(format_uk_sortable(summer), "2026-07-01 15:03");
    }

    #[test]
    fn millis_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        assert_eq!(from_millis(to_millis(at)), Some(at));
        assert_eq!(from_millis(i64::MAX), None);
    }
}
