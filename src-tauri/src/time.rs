//! Time: stored in UTC, shown in the UK's zone.
//!
//! Everything that needs "now" is given a [`Clock`], so tests control time.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The zone times are shown in. Campaign Safe is for UK elections.
pub const DISPLAY_ZONE: Tz = chrono_tz::Europe::London;

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

/// "25 Nov 2026, 14:03" in UK time (GMT or BST as it applies on that date).
pub fn format_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&DISPLAY_ZONE)
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
    fn millis_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        assert_eq!(from_millis(to_millis(at)), Some(at));
        assert_eq!(from_millis(i64::MAX), None);
    }
}
