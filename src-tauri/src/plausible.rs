//! One rule of plausible dates for every form and command, so a slip of the year ("2062",
//! "1926") is caught where it is typed, in the form's own words:
//! - what happened (an incident, a report made): not before 1990, not more than a day ahead;
//! - what is planned (a canvass, a session's end, a follow-up): not more than a day past, not
//!   more than two years ahead;
//! - a review date: after today, at most five years ahead.
//!
//! Each returns the sentence to show, starting with the field's label.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::time::shown_zone;

const EARLIEST_YEAR: i32 = 1990;
const PLANNED_YEARS_AHEAD: i64 = 2;
const REVIEW_YEARS_AHEAD: i64 = 5;

fn years(count: i64) -> Duration {
    // A year and its leap day, so "two years on" is never refused by a day.
    Duration::days(366 * count)
}

/// Today where the user is (UK time unless they chose the device's zone).
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shown_zone()).date_naive()
}

fn start_of(date: NaiveDate) -> DateTime<Utc> {
    shown_zone()
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or_else(
            || date.and_time(chrono::NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// Something that happened, at a moment.
pub fn happened(label: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if at.year_ce().1 < EARLIEST_YEAR as u32 || !at.year_ce().0 {
        return Err(format!(
            "{label}: that is before {EARLIEST_YEAR}. Check the year."
        ));
    }
    if at > now + Duration::days(1) {
        return Err(format!(
            "{label}: that is more than a day in the future. Check the date and time."
        ));
    }
    Ok(())
}

/// Something that happened, on a day.
pub fn happened_on(label: &str, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
    happened(label, start_of(date), now)
}

/// Something planned, at a moment (a session's end or arrival).
pub fn planned(label: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if at < now - Duration::days(1) {
        return Err(format!(
            "{label}: that is more than a day ago. Check the date."
        ));
    }
    if at > now + years(PLANNED_YEARS_AHEAD) {
        return Err(format!(
            "{label}: that is more than two years ahead. Check the year."
        ));
    }
    Ok(())
}

/// Something planned, on a day (an outing, a follow-up).
pub fn planned_on(label: &str, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
    if date < today(now) - Duration::days(1) {
        return Err(format!(
            "{label}: that is more than a day ago. Check the date."
        ));
    }
    if date > today(now) + years(PLANNED_YEARS_AHEAD) {
        return Err(format!(
            "{label}: that is more than two years ahead. Check the year."
        ));
    }
    Ok(())
}

/// A date to look at something again: after today, within five years.
pub fn review_on(label: &str, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
    if date <= today(now) {
        return Err(format!("{label}: choose a date after today."));
    }
    if date > today(now) + years(REVIEW_YEARS_AHEAD) {
        return Err(format!("{label}: choose a date within five years."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn each_kind_of_date_has_one_rule_said_with_the_label() {
        let now = noon();
        assert!(happened("When", now - Duration::days(365 * 30), now).is_ok());
        assert_eq!(
            happened(
                "When",
                Utc.with_ymd_and_hms(1989, 12, 31, 23, 0, 0).unwrap(),
                now
            ),
            Err("When: that is before 1990. Check the year.".into())
        );
        assert!(happened("When", now + Duration::hours(23), now).is_ok());
        assert!(happened("When", now + Duration::hours(25), now)
            .unwrap_err()
            .contains("more than a day in the future"));
        assert!(happened("When", DateTime::<Utc>::MIN_UTC, now).is_err());
        assert!(happened("When", DateTime::<Utc>::MAX_UTC, now).is_err());
        assert!(happened_on("Date reported", day(2062, 1, 1), now).is_err());

        assert!(planned_on("Date", day(2026, 12, 3), now).is_ok());
        assert!(planned_on("Date", day(2026, 12, 2), now)
            .unwrap_err()
            .starts_with("Date: that is more than a day ago"));
        assert!(planned_on("Date", day(2028, 12, 4), now).is_ok());
        assert!(planned_on("Date", day(2029, 1, 1), now)
            .unwrap_err()
            .contains("more than two years ahead"));
        assert!(planned("Ends", now + Duration::days(800), now).is_err());
        assert!(planned("Ends", DateTime::<Utc>::MAX_UTC, now).is_err());

        assert!(review_on("Review on", day(2026, 12, 4), now).is_err());
        assert!(review_on("Review on", day(2031, 12, 4), now).is_ok());
        assert_eq!(
            review_on("Review on", day(2032, 1, 1), now),
            Err("Review on: choose a date within five years.".into())
        );
        assert!(review_on("Review on", NaiveDate::MAX, now).is_err());
    }
}
