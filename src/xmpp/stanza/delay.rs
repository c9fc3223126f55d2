//! XEP-0203 delay stamps: UTC times written as XEP-0082 `CCYY-MM-DDThh:mm:ss.sssZ`.
//!
//! The core reads no clock: the time comes from the caller (see `Config::clock`). This module only formats it.

/// `unix_ms` (milliseconds since 1970-01-01T00:00:00Z) as an XEP-0082 DateTime in UTC.
pub fn stamp(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, unix_ms % 1000)
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::stamp;

    #[test]
    fn known_instants() {
        assert_eq!(stamp(0), "1970-01-01T00:00:00.000Z");
        // XEP-0203 example 1's stamp, 2002-09-10T23:08:25Z.
        assert_eq!(stamp(1_031_699_305_000), "2002-09-10T23:08:25.000Z");
        assert_eq!(stamp(951_782_400_123), "2000-02-29T00:00:00.123Z"); // a leap day
        assert_eq!(stamp(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
