//! XEP-0203 delay stamps: UTC times written as XEP-0082 `CCYY-MM-DDThh:mm:ss.sssZ`.
//!
//! The core reads no clock: the time comes from the caller (see `Config::clock`). This module only formats
//! and reads it (archived messages carry the time the archive got them, XEP-0313).

/// `unix_ms` (milliseconds since 1970-01-01T00:00:00Z) as an XEP-0082 DateTime in UTC.
pub fn stamp(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, unix_ms % 1000)
}

/// An XEP-0082 DateTime (`CCYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`) as milliseconds since the Unix epoch;
/// `None` when it is not one (or lies before 1970). Fractions beyond milliseconds are cut, not rounded.
pub fn parse(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u64, |n, d| d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0')))
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (y, mo, d, h, mi, sec) = (num(0, 4)?, num(5, 2)?, num(8, 2)?, num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut at = 19;
    let mut ms = 0;
    if sep(at, b'.') {
        let digits = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let kept = digits.min(3);
        ms = num(at + 1, kept)? * 10u64.pow(3 - kept as u32);
        at += 1 + digits;
    }
    let offset_min: i64 = match b.get(at..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let m = (oh * 60 + om) as i64;
            if *sign == b'+' { m } else { -m }
        }
        _ => return None,
    };
    let local = (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) as i64 * 1000 + ms as i64;
    u64::try_from(local - offset_min * 60_000).ok()
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year ≥ 1970, month, day) → days since 1970-01-01 (H. Hinnant's algorithm, the inverse of the one below).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    use super::{parse, stamp};

    #[test]
    fn known_instants() {
        assert_eq!(stamp(0), "1970-01-01T00:00:00.000Z");
        // XEP-0203 example 1's stamp, 2002-09-10T23:08:25Z.
        assert_eq!(stamp(1_031_699_305_000), "2002-09-10T23:08:25.000Z");
        assert_eq!(stamp(951_782_400_123), "2000-02-29T00:00:00.123Z"); // a leap day
        assert_eq!(stamp(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn reads_what_archives_write() {
        assert_eq!(parse("2002-09-10T23:08:25Z"), Some(1_031_699_305_000));
        assert_eq!(parse("2010-07-10T23:08:25Z"), Some(1_278_803_305_000)); // XEP-0313 example 7
        // ejabberd writes microseconds; Prosody whole seconds; others an offset.
        assert_eq!(parse("2026-12-05T00:40:30.660704Z"), Some(parse("2026-12-05T00:40:30Z").unwrap() + 660));
        assert_eq!(parse("2002-09-10T23:08:25.5Z"), Some(1_031_699_305_500));
        assert_eq!(parse("2002-09-11T01:08:25+02:00"), Some(1_031_699_305_000));
        assert_eq!(parse("2002-09-10T20:08:25-03:00"), Some(1_031_699_305_000));
        assert_eq!(parse("2000-02-29T00:00:00.123Z"), Some(951_782_400_123));
        for n in [0, 1_031_699_305_000, 951_782_400_123, 4_102_444_799_999, 1_700_000_000_001] {
            assert_eq!(parse(&stamp(n)), Some(n));
        }
    }

    #[test]
    fn refuses_what_is_not_a_datetime() {
        for bad in [
            "",
            "2002-09-10",
            "2002-09-10T23:08:25",
            "2002-09-10 23:08:25Z",
            "2002-13-10T23:08:25Z",
            "2001-02-29T00:00:00Z",
            "2002-09-10T24:00:00Z",
            "2002-09-10T23:08:25.Z",
            "2002-09-10T23:08:25+2:00",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
            "２００２-09-10T23:08:25Z",
            "20020910T23:08:25Z",
            "2002-09-10T23:08:25Zjunk",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
