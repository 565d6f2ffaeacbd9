//! The advertisement intervals of VRRPv3 ([`MaxAdverInt`], centiseconds) and
//! VRRPv2 ([`AdverIntSeconds`], whole seconds). Each carries its unit, so a
//! v3 interval can never be read as seconds (holo-vrrp's 100× bug).

use core::fmt;
use core::num::NonZeroU8;
use core::time::Duration;

use crate::Centiseconds;

/// The VRRPv3 Max Adver Int: a 12-bit count of centiseconds, 1..=4095
/// (RFC 9568 §5.2.7). 0 is not a usable interval and is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxAdverInt(u16);

impl MaxAdverInt {
    /// The shortest interval, 1 cs.
    pub const MIN: MaxAdverInt = MaxAdverInt(1);
    /// The longest interval, 4095 cs (40.95 s).
    pub const MAX: MaxAdverInt = MaxAdverInt(0x0fff);
    /// The default Advertisement_Interval, 100 cs (RFC 9568 §6.1).
    pub const DEFAULT: MaxAdverInt = MaxAdverInt(100);

    /// `cs` centiseconds, or `None` outside 1..=4095.
    pub const fn new(cs: u16) -> Option<Self> {
        if cs >= Self::MIN.0 && cs <= Self::MAX.0 {
            Some(MaxAdverInt(cs))
        } else {
            None
        }
    }

    /// The interval of `cs`, or `None` outside 1..=4095 cs.
    pub const fn from_centiseconds(cs: Centiseconds) -> Option<Self> {
        if cs.get() > Self::MAX.0 as u32 {
            None
        } else {
            Self::new(cs.get() as u16)
        }
    }

    /// The number of centiseconds, 1..=4095.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The interval in [`Centiseconds`].
    pub const fn as_centiseconds(self) -> Centiseconds {
        Centiseconds::new(self.0 as u32)
    }

    /// The interval as a [`Duration`].
    pub const fn as_duration(self) -> Duration {
        self.as_centiseconds().as_duration()
    }
}

impl Default for MaxAdverInt {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for MaxAdverInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_centiseconds().fmt(f)
    }
}

/// The VRRPv2 Adver Int: whole seconds, 1..=255 (RFC 3768 §5.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdverIntSeconds(NonZeroU8);

impl AdverIntSeconds {
    /// The shortest interval, 1 s.
    pub const MIN: AdverIntSeconds = AdverIntSeconds(NonZeroU8::MIN);
    /// The longest interval, 255 s.
    pub const MAX: AdverIntSeconds = AdverIntSeconds(NonZeroU8::MAX);
    /// The default, 1 s (RFC 3768 §5.3.7).
    pub const DEFAULT: AdverIntSeconds = AdverIntSeconds::MIN;

    /// `secs` seconds, or `None` for 0.
    pub const fn new(secs: u8) -> Option<Self> {
        match NonZeroU8::new(secs) {
            Some(s) => Some(AdverIntSeconds(s)),
            None => None,
        }
    }

    /// The number of seconds, 1..=255.
    pub const fn get(self) -> u8 {
        self.0.get()
    }

    /// The interval in [`Centiseconds`] (exact).
    pub const fn as_centiseconds(self) -> Centiseconds {
        Centiseconds::new(self.0.get() as u32 * 100)
    }

    /// The interval as a [`Duration`].
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.0.get() as u64)
    }
}

impl Default for AdverIntSeconds {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for AdverIntSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_interval_is_twelve_bits_of_centiseconds() {
        assert_eq!(MaxAdverInt::new(0), None);
        assert_eq!(MaxAdverInt::new(4096), None);
        assert_eq!(MaxAdverInt::new(4095), Some(MaxAdverInt::MAX));
        let i = MaxAdverInt::new(50).unwrap();
        assert_eq!(i.as_centiseconds(), Centiseconds::new(50));
        assert_eq!(i.as_duration(), Duration::from_millis(500));
        assert_eq!(i.to_string(), "50cs");
        assert_eq!(
            MaxAdverInt::from_centiseconds(Centiseconds::new(4095)),
            Some(MaxAdverInt::MAX)
        );
        assert_eq!(
            MaxAdverInt::from_centiseconds(Centiseconds::new(65_536 + 50)),
            None
        );
        assert_eq!(MaxAdverInt::default().as_duration(), Duration::from_secs(1));
    }

    #[test]
    fn v2_interval_is_whole_seconds() {
        assert_eq!(AdverIntSeconds::new(0), None);
        let i = AdverIntSeconds::new(3).unwrap();
        assert_eq!(i.as_centiseconds(), Centiseconds::new(300));
        assert_eq!(i.as_duration(), Duration::from_secs(3));
        assert_eq!(
            AdverIntSeconds::MAX.as_centiseconds(),
            Centiseconds::new(25_500)
        );
        assert_eq!(i.to_string(), "3s");
    }
}
