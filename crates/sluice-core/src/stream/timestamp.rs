//! UTC timestamps as AWS writes them in stream events and failure records, from epoch
//! milliseconds: `2020-12-09T07:04:00Z` (tumbling windows, DynamoDB arrival times) and
//! `2019-11-14T00:38:06.021Z` (failure records). The `time` crate is not a dependency of
//! sluice-core; the calendar arithmetic is Howard Hinnant's `civil_from_days`.

/// `YYYY-MM-DDTHH:MM:SSZ`, milliseconds truncated.
pub fn rfc3339_seconds(epoch_ms: u64) -> String {
    let (date, secs_of_day, _) = split(epoch_ms);
    format!("{}T{}Z", date, hms(secs_of_day))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_millis(epoch_ms: u64) -> String {
    let (date, secs_of_day, ms) = split(epoch_ms);
    format!("{}T{}.{ms:03}Z", date, hms(secs_of_day))
}

/// `(year, month, day, hour, minute, second)` of `epoch_ms`, UTC.
pub fn civil(epoch_ms: u64) -> (u64, u32, u32, u32, u32, u32) {
    let days = epoch_ms / 86_400_000;
    let secs_of_day = (epoch_ms / 1000) % 86_400;
    let (y, m, d) = civil_from_days(days);
    // secs_of_day < 86_400, so the casts below are lossless.
    let s = secs_of_day as u32;
    (y, m, d, s / 3600, (s / 60) % 60, s % 60)
}

fn split(epoch_ms: u64) -> (String, u64, u64) {
    let (y, m, d) = civil_from_days(epoch_ms / 86_400_000);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        (epoch_ms / 1000) % 86_400,
        epoch_ms % 1000,
    )
}

fn hms(secs_of_day: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs_of_day / 3600,
        (secs_of_day / 60) % 60,
        secs_of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date. Unsigned throughout: `days` is at
/// most `u64::MAX / 86_400_000`, far from any overflow.
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of each year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}
