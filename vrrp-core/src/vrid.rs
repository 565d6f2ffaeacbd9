//! The Virtual Router Identifier.

use core::fmt;
use core::num::NonZeroU8;

/// A Virtual Router Identifier, 1..=255 (RFC 3768 §5.3.3, RFC 9568 §5.2.3).
///
/// VRID 0 is invalid on the wire, so the type cannot hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vrid(NonZeroU8);

impl Vrid {
    /// The smallest VRID, 1.
    pub const MIN: Vrid = Vrid(NonZeroU8::MIN);
    /// The largest VRID, 255.
    pub const MAX: Vrid = Vrid(NonZeroU8::MAX);

    /// The VRID `value`, or `None` for 0.
    pub const fn new(value: u8) -> Option<Self> {
        match NonZeroU8::new(value) {
            Some(v) => Some(Vrid(v)),
            None => None,
        }
    }

    /// The VRID as a number, 1..=255.
    pub const fn get(self) -> u8 {
        self.0.get()
    }
}

/// The error of `Vrid::try_from(0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("VRID 0 is invalid: VRIDs are 1..=255")]
pub struct ZeroVridError;

impl TryFrom<u8> for Vrid {
    type Error = ZeroVridError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Vrid::new(value).ok_or(ZeroVridError)
    }
}

impl From<Vrid> for u8 {
    fn from(vrid: Vrid) -> u8 {
        vrid.get()
    }
}

impl fmt::Display for Vrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_not_a_vrid_and_every_other_byte_is() {
        assert_eq!(Vrid::new(0), None);
        assert_eq!(Vrid::try_from(0), Err(ZeroVridError));
        for n in 1..=255u8 {
            assert_eq!(Vrid::new(n).map(Vrid::get), Some(n));
        }
        assert_eq!(Vrid::MIN.get(), 1);
        assert_eq!(Vrid::MAX.get(), 255);
        assert_eq!(Vrid::new(51).unwrap().to_string(), "51");
    }
}
