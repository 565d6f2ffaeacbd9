//! Durations as written in configuration files.
//!
//! The native format writes a number and a unit: `"1s"`, `"100ms"`,
//! `"1.5s"`, `"250us"`, `"2m"`, `"1h"`. keepalived writes decimal seconds:
//! `1`, `0.5`, `2.71828`. Both resolve to a [`Duration`] with microsecond
//! resolution (keepalived's timer resolution), parsed exactly in integers,
//! never through floating point.

use std::time::Duration;

/// The longest duration either format accepts: one day is far beyond any
/// VRRP or tracking timer, and keeps every arithmetic in range.
pub(crate) const MAX: Duration = Duration::from_secs(86_400);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    /// Not `<number><unit>`.
    #[error("`{0}` is not a duration")]
    Syntax(String),
    /// A number without a unit.
    #[error("`{0}` has no unit")]
    NoUnit(String),
    /// A unit we do not know.
    #[error("unknown unit `{0}`")]
    Unit(String),
    /// Finer than one microsecond.
    #[error("`{0}` is finer than the 1 µs resolution")]
    Resolution(String),
    /// More than a day.
    #[error("`{0}` is longer than one day")]
    TooLong(String),
}

/// Splits `text` into whole and fractional digit strings; rejects signs,
/// exponents and empty parts.
fn split_decimal(text: &str) -> Option<(&str, &str)> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (text.ends_with('.')) {
        return None;
    }
    Some((whole, frac))
}

/// `whole.frac × unit_us` microseconds, exactly, or an error when the result
/// has a sub-microsecond remainder or exceeds [`MAX`].
fn scale(
    original: &str,
    whole: &str,
    frac: &str,
    unit_us: u128,
) -> Result<Duration, DurationError> {
    // At most 30 fractional digits: anything longer is noise, and it keeps
    // 10^len inside u128.
    if whole.len() > 20 || frac.len() > 30 {
        return Err(DurationError::TooLong(original.to_string()));
    }
    let whole_v: u128 = whole
        .parse()
        .map_err(|_| DurationError::Syntax(original.into()))?;
    let frac_v: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse()
            .map_err(|_| DurationError::Syntax(original.into()))?
    };
    let denom = 10u128.pow(frac.len() as u32);
    let frac_us = frac_v * unit_us;
    if frac_us % denom != 0 {
        return Err(DurationError::Resolution(original.to_string()));
    }
    let total = whole_v
        .checked_mul(unit_us)
        .and_then(|w| w.checked_add(frac_us / denom))
        .ok_or_else(|| DurationError::TooLong(original.to_string()))?;
    let max_us = MAX.as_micros();
    if total > max_us {
        return Err(DurationError::TooLong(original.to_string()));
    }
    // total <= 86_400_000_000 fits in u64.
    Ok(Duration::from_micros(total as u64))
}

/// Parses a native duration: `"1s"`, `"100ms"`, `"1.5s"`, `"250us"`,
/// `"2m"`, `"1h"`.
pub(crate) fn parse_native(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(DurationError::Syntax(text.to_string()));
    }
    let unit_us: u128 = match unit.trim() {
        "" => return Err(DurationError::NoUnit(text.to_string())),
        "us" | "µs" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        other => return Err(DurationError::Unit(other.to_string())),
    };
    let (whole, frac) =
        split_decimal(number).ok_or_else(|| DurationError::Syntax(text.to_string()))?;
    scale(text, whole, frac, unit_us)
}

/// Parses keepalived decimal seconds (`1`, `0.5`, `2.71828`), rounding to
/// the nearest microsecond like keepalived's timer code.
pub(crate) fn parse_decimal_seconds(text: &str) -> Result<Duration, DurationError> {
    let (whole, frac) =
        split_decimal(text).ok_or_else(|| DurationError::Syntax(text.to_string()))?;
    // Keep 6 fractional digits, rounding on the 7th.
    let mut kept: String = frac.chars().take(6).collect();
    let round_up = frac.as_bytes().get(6).is_some_and(|d| *d >= b'5');
    while kept.len() < 6 {
        kept.push('0');
    }
    let d = scale(text, whole, &kept, 1_000_000)?;
    let d = if round_up {
        d + Duration::from_micros(1)
    } else {
        d
    };
    if d > MAX {
        return Err(DurationError::TooLong(text.to_string()));
    }
    Ok(d)
}

/// Formats a duration in the largest native unit that represents it
/// exactly (`"1s"`, `"100ms"`, `"250us"`); [`parse_native`] reads it back
/// to the same value for every duration with microsecond resolution.
pub(crate) fn format_native(d: Duration) -> String {
    let us = d.as_micros();
    if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else if us % 1_000 == 0 {
        format!("{}ms", us / 1_000)
    } else {
        format!("{us}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_units() {
        assert_eq!(parse_native("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_native("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_native("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_native("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_native("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_native("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_native("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_native("40.95s"), Ok(Duration::from_millis(40_950)));
    }

    #[test]
    fn native_rejects() {
        assert!(matches!(parse_native("1"), Err(DurationError::NoUnit(_))));
        assert!(matches!(parse_native("1d"), Err(DurationError::Unit(_))));
        assert!(matches!(parse_native("s"), Err(DurationError::Syntax(_))));
        assert!(matches!(parse_native("-1s"), Err(DurationError::Syntax(_))));
        assert!(matches!(parse_native("1.s"), Err(DurationError::Syntax(_))));
        assert!(matches!(
            parse_native("1..2s"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            parse_native("0.5us"),
            Err(DurationError::Resolution(_))
        ));
        assert!(matches!(
            parse_native("25h"),
            Err(DurationError::TooLong(_))
        ));
        assert!(matches!(
            parse_native("99999999999999999999999999h"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn keepalived_decimal_seconds() {
        assert_eq!(parse_decimal_seconds("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_decimal_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_decimal_seconds("0.000001"),
            Ok(Duration::from_micros(1))
        );
        assert_eq!(
            parse_decimal_seconds("2.7182818"),
            Ok(Duration::from_micros(2_718_282))
        );
        assert!(parse_decimal_seconds("1s").is_err());
        assert!(parse_decimal_seconds("-1").is_err());
        assert!(parse_decimal_seconds("").is_err());
        assert!(parse_decimal_seconds("100000").is_err());
    }

    #[test]
    fn format_round_trips() {
        for d in [
            Duration::ZERO,
            Duration::from_secs(3),
            Duration::from_millis(1500),
            Duration::from_millis(10),
            Duration::from_micros(1),
            Duration::from_micros(2_718_282),
        ] {
            assert_eq!(parse_native(&format_native(d)), Ok(d), "{d:?}");
        }
        assert_eq!(format_native(Duration::from_millis(1500)), "1500ms");
    }
}
