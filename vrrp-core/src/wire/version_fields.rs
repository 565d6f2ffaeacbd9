//! [`VersionFields`]: the part of the header that VRRPv2 and VRRPv3 lay
//! out differently.

use super::auth::Auth;
use crate::{AdverIntSeconds, Centiseconds, MaxAdverInt, Version};

/// The fields whose meaning depends on the protocol version: the interval,
/// with its unit, and VRRPv2's authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionFields {
    /// VRRPv2 (RFC 3768 §5.3).
    V2 {
        /// Adver Int, whole seconds.
        adver_int: AdverIntSeconds,
        /// Auth Type and Authentication Data.
        auth: Auth,
    },
    /// VRRPv3 (RFC 9568 §5.2).
    V3 {
        /// Max Adver Int, centiseconds.
        max_adver_int: MaxAdverInt,
    },
}

impl VersionFields {
    /// The protocol version.
    pub const fn version(&self) -> Version {
        match self {
            VersionFields::V2 { .. } => Version::V2,
            VersionFields::V3 { .. } => Version::V3,
        }
    }

    /// The interval in centiseconds, whatever the version.
    pub const fn interval(&self) -> Centiseconds {
        match self {
            VersionFields::V2 { adver_int, .. } => adver_int.as_centiseconds(),
            VersionFields::V3 { max_adver_int } => max_adver_int.as_centiseconds(),
        }
    }

    /// The VRRPv2 authentication, or `None` for VRRPv3.
    pub const fn auth(&self) -> Option<Auth> {
        match self {
            VersionFields::V2 { auth, .. } => Some(*auth),
            VersionFields::V3 { .. } => None,
        }
    }
}
