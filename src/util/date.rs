//! Calendar dates from the system clock, in UTC, without a time-zone database: the day count since
//! 1970-01-01 becomes a proleptic Gregorian date by Howard Hinnant's `civil_from_days`.

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// (year, month 1-12, day 1-31) of the day `days` after 1970-01-01 (negative: before).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of the day `days` after 1970-01-01.
pub fn civil_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    civil_date((unix_now() / 86_400) as i64)
}

/// `YYYYMMDD-HHMMSS` in UTC for a time in seconds since the Unix epoch (for directory names).
pub fn utc_stamp(unix_s: u64) -> String {
    let (y, mo, d) = civil_from_days((unix_s / 86_400) as i64);
    let secs = unix_s % 86_400;
    format!(
        "{y:04}{mo:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The current UTC stamp (see [`utc_stamp`]).
pub fn now_stamp() -> String {
    utc_stamp(unix_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_by_hand() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(-1), "1969-12-31");
        // 2000-02-29: 30 years of 365 days plus 7 leap days (72..96) = 10957, plus 31 + 28.
        assert_eq!(civil_date(10_957 + 59), "2000-02-29");
        assert_eq!(civil_date(10_957 + 60), "2000-03-01");
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_827_696), "20000229-123456");
        assert_eq!(utc_stamp(1_735_689_599), "20241231-235959");
    }
}
