//! HTTP dates for serving objects: `Last-Modified` written as IMF-fixdate, and the dates of
//! `If-Modified-Since`, `If-Unmodified-Since` and `If-Range` read in the three forms RFC 9110
//! makes recipients accept (IMF-fixdate, RFC 850, asctime); also GCS's RFC 3339 `updated`
//! timestamps, which become `Last-Modified`. Times are whole seconds since 1970 (what HTTP
//! dates can say). Checked against the `httpdate` crate by property tests.

use crate::prelude::*;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/// 10000-01-01T00:00:00Z: HTTP dates have four-digit years.
const END_OF_YEAR_9999: u64 = 253_402_300_800;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01: `(year, month 1-12, day 1-31)`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
fn weekday(days: i64) -> usize {
    (days + 3).rem_euclid(7) as usize
}

fn push_two(out: &mut String, value: u64) {
    out.push(char::from(b'0' + (value / 10 % 10) as u8));
    out.push(char::from(b'0' + (value % 10) as u8));
}

/// `secs` as IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`); times past year 9999 are written
/// as its last second.
pub fn format(secs: u64) -> String {
    let secs = secs.min(END_OF_YEAR_9999 - 1);
    let days = (secs / 86_400) as i64;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(29);
    out.push_str(WEEKDAYS[weekday(days)]);
    out.push_str(", ");
    push_two(&mut out, u64::from(day));
    out.push(' ');
    out.push_str(MONTHS[month as usize - 1]);
    out.push(' ');
    push_two(&mut out, year as u64 / 100);
    push_two(&mut out, year as u64);
    out.push(' ');
    push_two(&mut out, of_day / 3600);
    out.push(':');
    push_two(&mut out, of_day / 60 % 60);
    out.push(':');
    push_two(&mut out, of_day % 60);
    out.push_str(" GMT");
    out
}

/// The fields of a date as written, before they are checked.
struct Fields {
    weekday: Option<usize>,
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Fields {
    /// Seconds since 1970, when the fields name a real moment of 1970-9999 (with the weekday
    /// that date has, when one is given).
    fn to_secs(&self) -> Option<u64> {
        let valid = (1970..=9999).contains(&self.year)
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        if civil_from_days(days) != (self.year, self.month, self.day) {
            return None; // 30 February and the like
        }
        if self.weekday.is_some_and(|given| given != weekday(days)) {
            return None;
        }
        Some(days as u64 * 86_400 + self.hour * 3600 + self.minute * 60 + self.second)
    }
}

/// A run of exactly `count` ASCII digits.
fn digits(bytes: &[u8], count: usize) -> Option<u64> {
    if bytes.len() != count || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |value, digit| value * 10 + u64::from(digit - b'0')))
}

fn month_named(name: &[u8]) -> Option<u32> {
    MONTHS.iter().position(|month| month.as_bytes() == name).map(|index| index as u32 + 1)
}

/// `HH:MM:SS`.
fn time(bytes: &[u8]) -> Option<(u64, u64, u64)> {
    if bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    Some((digits(&bytes[0..2], 2)?, digits(&bytes[3..5], 2)?, digits(&bytes[6..8], 2)?))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_fixdate(bytes: &[u8]) -> Option<Fields> {
    if bytes.len() != 29 || &bytes[3..5] != b", " || bytes[7] != b' ' || bytes[11] != b' ' || bytes[16] != b' ' {
        return None;
    }
    if &bytes[25..] != b" GMT" {
        return None;
    }
    let weekday = WEEKDAYS.iter().position(|name| name.as_bytes() == &bytes[..3])?;
    let (hour, minute, second) = time(&bytes[17..25])?;
    Some(Fields {
        weekday: Some(weekday),
        year: digits(&bytes[12..16], 4)? as i64,
        month: month_named(&bytes[8..11])?,
        day: digits(&bytes[5..7], 2)? as u32,
        hour,
        minute,
        second,
    })
}

/// `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit years below 70 are 20xx, as `httpdate` reads them)
fn rfc850(bytes: &[u8]) -> Option<Fields> {
    let comma = bytes.iter().position(|&byte| byte == b',')?;
    let weekday = LONG_WEEKDAYS.iter().position(|name| name.as_bytes() == &bytes[..comma])?;
    let rest = &bytes[comma..];
    if rest.len() != 24 || rest[1] != b' ' || rest[4] != b'-' || rest[8] != b'-' || rest[11] != b' ' {
        return None;
    }
    if &rest[20..] != b" GMT" {
        return None;
    }
    let short_year = digits(&rest[9..11], 2)? as i64;
    let (hour, minute, second) = time(&rest[12..20])?;
    Some(Fields {
        weekday: Some(weekday),
        year: if short_year < 70 { 2000 + short_year } else { 1900 + short_year },
        month: month_named(&rest[5..8])?,
        day: digits(&rest[2..4], 2)? as u32,
        hour,
        minute,
        second,
    })
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime(bytes: &[u8]) -> Option<Fields> {
    if bytes.len() != 24 || bytes[3] != b' ' || bytes[7] != b' ' || bytes[10] != b' ' || bytes[19] != b' ' {
        return None;
    }
    let weekday = WEEKDAYS.iter().position(|name| name.as_bytes() == &bytes[..3])?;
    let day = match bytes[8] {
        b' ' => digits(&bytes[9..10], 1)?,
        _ => digits(&bytes[8..10], 2)?,
    };
    let (hour, minute, second) = time(&bytes[11..19])?;
    Some(Fields {
        weekday: Some(weekday),
        year: digits(&bytes[20..24], 4)? as i64,
        month: month_named(&bytes[4..7])?,
        day: day as u32,
        hour,
        minute,
        second,
    })
}

/// Seconds since 1970 of an HTTP date in any of its three forms, or `None` when it is not
/// one (a recipient then ignores the header that held it).
pub fn parse(value: &str) -> Option<u64> {
    let bytes = value.trim_ascii().as_bytes();
    imf_fixdate(bytes).or_else(|| rfc850(bytes)).or_else(|| asctime(bytes))?.to_secs()
}

/// Seconds since 1970 of an RFC 3339 timestamp as GCS writes them
/// (`2024-05-01T12:34:56.789Z`, or with a `±HH:MM` offset); fractions are dropped.
pub fn parse_rfc3339(value: &str) -> Option<u64> {
    let bytes = value.trim_ascii().as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let (hour, minute, second) = time(&bytes[11..19])?;
    let mut rest = &bytes[19..];
    if rest.first() == Some(&b'.') {
        let fraction = rest[1..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        if fraction == 0 {
            return None;
        }
        rest = &rest[1 + fraction..];
    }
    let offset: i64 = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2], 2)? * 60 + digits(&[*m1, *m2], 2)?;
            if *sign == b'+' {
                minutes as i64 * 60
            } else {
                -(minutes as i64 * 60)
            }
        }
        _ => return None,
    };
    let fields = Fields {
        weekday: None,
        year: digits(&bytes[0..4], 4)? as i64,
        month: digits(&bytes[5..7], 2)? as u32,
        day: digits(&bytes[8..10], 2)? as u32,
        hour,
        minute,
        second: second.min(59), // a leap second counts as the second before it
    };
    let local = fields.to_secs()? as i64;
    u64::try_from(local - offset).ok()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn theirs(value: &str) -> Option<u64> {
        httpdate::parse_http_date(value).ok().map(|time| time.duration_since(UNIX_EPOCH).unwrap().as_secs())
    }

    #[test]
    fn formats_the_rfc_examples_and_the_boundaries() {
        assert_eq!(format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(format(END_OF_YEAR_9999 - 1), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(format(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn parses_the_three_forms_of_rfc_9110() {
        for form in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(parse(form), Some(784_111_777), "{form}");
        }
        assert_eq!(parse("  Sun, 06 Nov 1994 08:49:37 GMT "), Some(784_111_777));
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "Mon, 06 Nov 1994 08:49:37 GMT", // a Sunday
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "Thu, 30 Feb 2023 00:00:00 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "sun, 06 nov 1994 08:49:37 gmt",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
            assert_eq!(theirs(bad), None, "httpdate agrees on {bad}");
        }
    }

    /// Each separator checked on its own: a date wrong in one place only is refused (stricter
    /// than `httpdate`, which lets RFC 850's space before the time be any byte).
    #[test]
    fn one_wrong_separator_is_enough_to_refuse_a_date() {
        let separators = |sample: &'static str| {
            sample.bytes().enumerate().filter(|(_, byte)| matches!(byte, b' ' | b',' | b'-' | b':' | b'T')).map(
                move |(index, _)| {
                    let mut broken = sample.as_bytes().to_vec();
                    broken[index] = b'x';
                    String::from_utf8(broken).unwrap()
                },
            )
        };
        for sample in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            for broken in separators(sample) {
                assert_eq!(parse(&broken), None, "{broken}");
            }
        }
        for broken in separators("1994-11-06T08:49:37Z") {
            assert_eq!(parse_rfc3339(&broken), None, "{broken}");
        }
    }

    #[test]
    fn reads_gcs_timestamps() {
        assert_eq!(parse_rfc3339("1994-11-06T08:49:37Z"), Some(784_111_777));
        assert_eq!(parse_rfc3339("1994-11-06T08:49:37.999Z"), Some(784_111_777));
        assert_eq!(parse_rfc3339("1994-11-06T09:49:37.5+01:00"), Some(784_111_777));
        assert_eq!(parse_rfc3339("1994-11-06T07:49:37-01:00"), Some(784_111_777));
        assert_eq!(parse_rfc3339("1994-11-06T09:19:37+00:30"), Some(784_111_777), "an offset's minutes count");
        assert_eq!(parse_rfc3339("1994-11-06T10:04:37+01:15"), Some(784_111_777));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        for bad in [
            "",
            "1994-11-06",
            "1994-11-06T08:49:37",
            "1994-13-06T08:49:37Z",
            "1994-11-06T08:49:37.Z",
            "1970-01-01T00:00:00+01:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    /// A date written from fields that may be out of range, in one of the three forms.
    fn written(form: u8, weekday: usize, day: u32, month: usize, year: u32, hms: (u32, u32, u32)) -> String {
        let (hour, minute, second) = hms;
        let month = MONTHS[month % 12];
        match form {
            0 => format!("{}, {day:02} {month} {year:04} {hour:02}:{minute:02}:{second:02} GMT", WEEKDAYS[weekday % 7]),
            1 => format!(
                "{}, {day:02}-{month}-{:02} {hour:02}:{minute:02}:{second:02} GMT",
                LONG_WEEKDAYS[weekday % 7],
                year % 100
            ),
            _ => format!("{} {month} {day:>2} {hour:02}:{minute:02}:{second:02} {year:04}", WEEKDAYS[weekday % 7]),
        }
    }

    proptest! {
        #[test]
        fn formats_as_httpdate_does(secs in 0u64..END_OF_YEAR_9999) {
            let expected = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            prop_assert_eq!(format(secs), expected);
            prop_assert_eq!(parse(&format(secs)), Some(secs));
        }

        #[test]
        fn parses_as_httpdate_does(
            form in 0u8..3,
            weekday in 0usize..7,
            day in 0u32..33,
            month in 0usize..12,
            year in 1960u32..2100,
            hms in (0u32..25, 0u32..61, 0u32..61),
        ) {
            let date = written(form, weekday, day, month, year, hms);
            prop_assert_eq!(parse(&date), theirs(&date), "{}", date);
        }

        #[test]
        fn any_text_parses_as_httpdate_parses(text in "[A-Za-z0-9 ,:-]{0,32}") {
            prop_assert_eq!(parse(&text), theirs(&text));
        }

        #[test]
        fn rfc3339_agrees_with_the_formatter(secs in 0u64..END_OF_YEAR_9999, millis in 0u32..1000) {
            let days = (secs / 86_400) as i64;
            let (year, month, day) = civil_from_days(days);
            let of_day = secs % 86_400;
            let stamp = format!(
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
                of_day / 3600,
                of_day / 60 % 60,
                of_day % 60
            );
            prop_assert_eq!(parse_rfc3339(&stamp), Some(secs));
        }
    }
}
