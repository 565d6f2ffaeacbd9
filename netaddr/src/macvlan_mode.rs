//! [`MacvlanMode`]: how a macvlan forwards between itself and its
//! siblings, as `ip link ... type macvlan mode MODE` names it.

use std::fmt;
use std::str::FromStr;

use netlink_packet_route::link::MacVlanMode;
use serde::{Deserialize, Serialize};

/// How a macvlan forwards between itself and its siblings on one parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MacvlanMode {
    /// No traffic between macvlans of the same parent (keepalived's default).
    Private,
    /// Sibling traffic goes out to the switch and back (802.1Qbg VEPA).
    Vepa,
    /// Siblings talk directly inside the host.
    Bridge,
    /// The macvlan takes the whole parent.
    Passthru,
}

impl MacvlanMode {
    pub(crate) fn to_route(self) -> MacVlanMode {
        match self {
            MacvlanMode::Private => MacVlanMode::Private,
            MacvlanMode::Vepa => MacVlanMode::Vepa,
            MacvlanMode::Bridge => MacVlanMode::Bridge,
            MacvlanMode::Passthru => MacVlanMode::Passthrough,
        }
    }

    pub(crate) fn from_route(m: MacVlanMode) -> Option<MacvlanMode> {
        match m {
            MacVlanMode::Private => Some(MacvlanMode::Private),
            MacVlanMode::Vepa => Some(MacvlanMode::Vepa),
            MacVlanMode::Bridge => Some(MacvlanMode::Bridge),
            MacVlanMode::Passthrough => Some(MacvlanMode::Passthru),
            _ => None,
        }
    }
}

impl fmt::Display for MacvlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Passthru => "passthru",
        })
    }
}

/// A macvlan mode name that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a macvlan mode (private, vepa, bridge, passthru)")]
pub struct MacvlanModeParseError(pub String);

impl FromStr for MacvlanMode {
    type Err = MacvlanModeParseError;
    fn from_str(s: &str) -> Result<MacvlanMode, MacvlanModeParseError> {
        match s {
            "private" => Ok(MacvlanMode::Private),
            "vepa" => Ok(MacvlanMode::Vepa),
            "bridge" => Ok(MacvlanMode::Bridge),
            "passthru" => Ok(MacvlanMode::Passthru),
            _ => Err(MacvlanModeParseError(s.to_string())),
        }
    }
}
