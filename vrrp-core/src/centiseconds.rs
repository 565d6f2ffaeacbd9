//! [`Centiseconds`], the unit of every VRRP timer.

use core::fmt;
use core::num::NonZeroU32;
use core::time::Duration;

/// A span of time in hundredths of a second, the unit VRRPv3 puts on the wire
/// (RFC 9568 §5.2.7) and the unit of all timer arithmetic here: intervals,
/// Skew_Time and Master_Down_Interval are computed in `Centiseconds` and only
/// turned into a [`Duration`] at the edge.
///
/// The arithmetic is explicit about overflow (`checked_*`, `saturating_*`),
/// and [`Centiseconds::mul_div`] computes `self × num / den` in 64 bits, which
/// is what Skew_Time (`(256 − Priority) × Master_Adver_Interval / 256`) needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Centiseconds(u32);

/// Why a [`Duration`] has no exact [`Centiseconds`] value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CentisecondsError {
    /// The duration is not a whole number of centiseconds (10 ms).
    #[error("{0:?} is not a whole number of centiseconds")]
    NotWhole(Duration),
    /// The duration exceeds `u32::MAX` centiseconds (about 497 days).
    #[error("{0:?} is too long to count in 32-bit centiseconds")]
    TooLong(Duration),
}

impl Centiseconds {
    /// No time at all.
    pub const ZERO: Centiseconds = Centiseconds(0);
    /// The longest span, `u32::MAX` centiseconds.
    pub const MAX: Centiseconds = Centiseconds(u32::MAX);

    /// `cs` centiseconds.
    pub const fn new(cs: u32) -> Self {
        Centiseconds(cs)
    }

    /// `secs` whole seconds, or `None` if that overflows.
    pub const fn from_secs(secs: u32) -> Option<Self> {
        match secs.checked_mul(100) {
            Some(cs) => Some(Centiseconds(cs)),
            None => None,
        }
    }

    /// The number of centiseconds.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The span in milliseconds (exact).
    pub const fn as_millis(self) -> u64 {
        self.0 as u64 * 10
    }

    /// The span as a [`Duration`] (exact).
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.as_millis())
    }

    /// The largest whole number of centiseconds not longer than `d`, or `None`
    /// if that does not fit in 32 bits.
    pub fn from_duration_floor(d: Duration) -> Option<Self> {
        u32::try_from(d.as_millis() / 10).ok().map(Centiseconds)
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Centiseconds) -> Option<Self> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Centiseconds(v)),
            None => None,
        }
    }

    /// `self − rhs`, or `None` if `rhs` is longer.
    pub const fn checked_sub(self, rhs: Centiseconds) -> Option<Self> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Centiseconds(v)),
            None => None,
        }
    }

    /// `self × n`, or `None` on overflow.
    pub const fn checked_mul(self, n: u32) -> Option<Self> {
        match self.0.checked_mul(n) {
            Some(v) => Some(Centiseconds(v)),
            None => None,
        }
    }

    /// `self + rhs`, clamped to [`Centiseconds::MAX`].
    pub const fn saturating_add(self, rhs: Centiseconds) -> Self {
        Centiseconds(self.0.saturating_add(rhs.0))
    }

    /// `self − rhs`, clamped to [`Centiseconds::ZERO`].
    pub const fn saturating_sub(self, rhs: Centiseconds) -> Self {
        Centiseconds(self.0.saturating_sub(rhs.0))
    }

    /// `self × n`, clamped to [`Centiseconds::MAX`].
    pub const fn saturating_mul(self, n: u32) -> Self {
        Centiseconds(self.0.saturating_mul(n))
    }

    /// `self × num / den`, rounded down, computed in 64 bits so the product
    /// cannot overflow; `None` if the quotient does not fit in 32 bits.
    ///
    /// VRRPv3 Skew_Time is `interval.mul_div(256 − priority, 256)`
    /// (RFC 9568 §6.1).
    pub const fn mul_div(self, num: u32, den: NonZeroU32) -> Option<Self> {
        let q = self.0 as u64 * num as u64 / den.get() as u64;
        if q > u32::MAX as u64 {
            None
        } else {
            Some(Centiseconds(q as u32))
        }
    }
}

impl TryFrom<Duration> for Centiseconds {
    type Error = CentisecondsError;

    /// Exact conversion: `d` must be a whole number of centiseconds.
    fn try_from(d: Duration) -> Result<Self, Self::Error> {
        if d.subsec_nanos() % 10_000_000 != 0 {
            return Err(CentisecondsError::NotWhole(d));
        }
        Centiseconds::from_duration_floor(d).ok_or(CentisecondsError::TooLong(d))
    }
}

impl From<Centiseconds> for Duration {
    fn from(cs: Centiseconds) -> Duration {
        cs.as_duration()
    }
}

impl fmt::Display for Centiseconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}cs", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_conversions_are_exact() {
        assert_eq!(
            Centiseconds::new(50).as_duration(),
            Duration::from_millis(500)
        );
        assert_eq!(Centiseconds::MAX.as_millis(), u64::from(u32::MAX) * 10);
        assert_eq!(
            Centiseconds::try_from(Duration::from_millis(1230)),
            Ok(Centiseconds::new(123))
        );
        let odd = Duration::from_millis(1235);
        assert_eq!(
            Centiseconds::try_from(odd),
            Err(CentisecondsError::NotWhole(odd))
        );
        assert_eq!(
            Centiseconds::from_duration_floor(odd),
            Some(Centiseconds::new(123))
        );
        let long = Duration::from_secs(50_000_000);
        assert_eq!(
            Centiseconds::try_from(long),
            Err(CentisecondsError::TooLong(long))
        );
        assert_eq!(Centiseconds::from_secs(3), Some(Centiseconds::new(300)));
        assert_eq!(Centiseconds::from_secs(u32::MAX), None);
    }

    #[test]
    fn arithmetic_reports_overflow() {
        let a = Centiseconds::new(u32::MAX - 1);
        assert_eq!(a.checked_add(Centiseconds::new(2)), None);
        assert_eq!(a.saturating_add(Centiseconds::new(2)), Centiseconds::MAX);
        assert_eq!(Centiseconds::ZERO.checked_sub(Centiseconds::new(1)), None);
        assert_eq!(
            Centiseconds::new(5).saturating_sub(Centiseconds::new(9)),
            Centiseconds::ZERO
        );
        assert_eq!(a.checked_mul(2), None);
        assert_eq!(a.saturating_mul(2), Centiseconds::MAX);
        assert_eq!(
            Centiseconds::new(7).checked_mul(3),
            Some(Centiseconds::new(21))
        );
    }

    #[test]
    fn mul_div_computes_skew_time_without_truncating_to_zero() {
        let d256 = NonZeroU32::new(256).unwrap();
        // RFC 9568 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
        let interval = Centiseconds::new(100);
        assert_eq!(
            interval.mul_div(256 - 100, d256),
            Some(Centiseconds::new(60))
        );
        assert_eq!(
            interval.mul_div(256 - 254, d256),
            Some(Centiseconds::new(0))
        );
        assert_eq!(
            Centiseconds::new(4095).mul_div(256 - 1, d256),
            Some(Centiseconds::new(4079))
        );
        // The product exceeds u32 but the quotient fits.
        assert_eq!(
            Centiseconds::MAX.mul_div(2, NonZeroU32::new(4).unwrap()),
            Some(Centiseconds::new(u32::MAX / 2))
        );
        assert_eq!(Centiseconds::MAX.mul_div(2, NonZeroU32::MIN), None);
    }
}
