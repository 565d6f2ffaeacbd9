//! Network interfaces ("links"): index, name, MAC, MTU, flags and
//! operational state, decoded from `RTM_NEWLINK` messages.

use std::fmt;
use std::num::NonZeroU32;

use netlink_packet_route::link::{
    InfoData, InfoMacVlan, LinkAttribute, LinkInfo, LinkMessage, State,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::macvlan_mode::MacvlanMode;
use vrrp_core::MacAddr;

/// A kernel interface index (never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IfIndex(NonZeroU32);

impl IfIndex {
    /// Wraps a raw index; `None` for 0, which names no interface.
    pub fn new(index: u32) -> Option<IfIndex> {
        NonZeroU32::new(index).map(IfIndex)
    }

    /// The raw index.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for IfIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The longest interface name, in bytes (`IFNAMSIZ - 1`).
pub const MAX_IFNAME_LEN: usize = 15;

/// Checks a name the way the kernel's `dev_valid_name` does: 1 to 15 bytes,
/// not `.` or `..`, and no `/`, `:` or whitespace.
pub fn validate_ifname(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > MAX_IFNAME_LEN {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not interface names")
    } else if name
        .chars()
        .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace())
    {
        Some("contains `/`, `:`, NUL or whitespace")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidInterfaceName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// RFC 2863 operational state (`IFLA_OPERSTATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OperState {
    /// The driver does not report a state (loopback, some virtual links).
    Unknown,
    /// A component is missing.
    NotPresent,
    /// Down.
    Down,
    /// Down because a lower layer is (a veth whose peer is down, a macvlan
    /// whose parent is).
    LowerLayerDown,
    /// In a test mode.
    Testing,
    /// Waiting for an external event (802.1X, for instance).
    Dormant,
    /// Up and able to pass packets.
    Up,
    /// A state this crate does not know.
    Other(u8),
}

impl From<State> for OperState {
    fn from(s: State) -> OperState {
        match s {
            State::Unknown => OperState::Unknown,
            State::NotPresent => OperState::NotPresent,
            State::Down => OperState::Down,
            State::LowerLayerDown => OperState::LowerLayerDown,
            State::Testing => OperState::Testing,
            State::Dormant => OperState::Dormant,
            State::Up => OperState::Up,
            State::Other(v) => OperState::Other(v),
            // `State` is non-exhaustive; anything newer is "other".
            _ => OperState::Other(u8::MAX),
        }
    }
}

impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperState::Unknown => f.write_str("UNKNOWN"),
            OperState::NotPresent => f.write_str("NOTPRESENT"),
            OperState::Down => f.write_str("DOWN"),
            OperState::LowerLayerDown => f.write_str("LOWERLAYERDOWN"),
            OperState::Testing => f.write_str("TESTING"),
            OperState::Dormant => f.write_str("DORMANT"),
            OperState::Up => f.write_str("UP"),
            OperState::Other(v) => write!(f, "{v}"),
        }
    }
}

/// Interface flags (`IFF_*` from `<linux/if.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LinkFlags(u32);

const LINK_FLAG_NAMES: [(u32, &str); 19] = [
    (LinkFlags::UP.0, "UP"),
    (LinkFlags::BROADCAST.0, "BROADCAST"),
    (1 << 2, "DEBUG"),
    (LinkFlags::LOOPBACK.0, "LOOPBACK"),
    (LinkFlags::POINTOPOINT.0, "POINTOPOINT"),
    (1 << 5, "NOTRAILERS"),
    (LinkFlags::RUNNING.0, "RUNNING"),
    (LinkFlags::NOARP.0, "NOARP"),
    (LinkFlags::PROMISC.0, "PROMISC"),
    (1 << 9, "ALLMULTI"),
    (LinkFlags::MASTER.0, "MASTER"),
    (LinkFlags::SLAVE.0, "SLAVE"),
    (LinkFlags::MULTICAST.0, "MULTICAST"),
    (1 << 13, "PORTSEL"),
    (1 << 14, "AUTOMEDIA"),
    (1 << 15, "DYNAMIC"),
    (LinkFlags::LOWER_UP.0, "LOWER_UP"),
    (LinkFlags::DORMANT.0, "DORMANT"),
    (1 << 18, "ECHO"),
];

impl LinkFlags {
    /// Administratively up (`IFF_UP`, `ip link set X up`).
    pub const UP: LinkFlags = LinkFlags(1 << 0);
    /// Broadcast capable.
    pub const BROADCAST: LinkFlags = LinkFlags(1 << 1);
    /// The loopback interface.
    pub const LOOPBACK: LinkFlags = LinkFlags(1 << 3);
    /// A point-to-point link.
    pub const POINTOPOINT: LinkFlags = LinkFlags(1 << 4);
    /// Operationally up (`IFF_RUNNING`: RFC 2863 state up or unknown).
    pub const RUNNING: LinkFlags = LinkFlags(1 << 6);
    /// No ARP.
    pub const NOARP: LinkFlags = LinkFlags(1 << 7);
    /// Promiscuous.
    pub const PROMISC: LinkFlags = LinkFlags(1 << 8);
    /// A bond or bridge master.
    pub const MASTER: LinkFlags = LinkFlags(1 << 10);
    /// Enslaved to a master.
    pub const SLAVE: LinkFlags = LinkFlags(1 << 11);
    /// Multicast capable.
    pub const MULTICAST: LinkFlags = LinkFlags(1 << 12);
    /// The driver signals carrier (`IFF_LOWER_UP`).
    pub const LOWER_UP: LinkFlags = LinkFlags(1 << 16);
    /// Dormant.
    pub const DORMANT: LinkFlags = LinkFlags(1 << 17);

    /// Flags from raw bits; unknown bits are kept.
    pub fn from_bits(bits: u32) -> LinkFlags {
        LinkFlags(bits)
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether all flags of `other` are set.
    pub fn contains(self, other: LinkFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The names of the set flags, in bit order, as `ip link` prints them.
    pub fn names(self) -> Vec<&'static str> {
        LINK_FLAG_NAMES
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

impl fmt::Display for LinkFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

impl std::ops::BitOr for LinkFlags {
    type Output = LinkFlags;
    fn bitor(self, rhs: LinkFlags) -> LinkFlags {
        LinkFlags(self.0 | rhs.0)
    }
}

impl Serialize for LinkFlags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// An interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Link {
    /// Interface index.
    pub index: IfIndex,
    /// Interface name.
    pub name: String,
    /// Hardware address, for Ethernet-like links.
    pub mac: Option<MacAddr>,
    /// MTU in bytes.
    pub mtu: Option<u32>,
    /// RFC 2863 operational state.
    pub oper_state: OperState,
    /// `IFF_*` flags.
    pub flags: LinkFlags,
    /// The link kind (`veth`, `macvlan`, `bridge`, ...), if it has one.
    pub kind: Option<String>,
    /// The lower interface (`IFLA_LINK`): a macvlan's parent, a veth's peer.
    pub parent: Option<IfIndex>,
    /// The macvlan mode, for macvlan links.
    pub macvlan_mode: Option<MacvlanMode>,
}

impl Link {
    /// Whether the link can carry traffic: administratively up (`IFF_UP`) and
    /// operationally up (`IFF_RUNNING`), the test keepalived uses. A veth
    /// whose peer is down, or a NIC without carrier, is not up.
    pub fn is_up(&self) -> bool {
        self.flags.contains(LinkFlags::UP) && self.flags.contains(LinkFlags::RUNNING)
    }

    /// Decodes an `RTM_NEWLINK`/`RTM_DELLINK` message.
    pub(crate) fn from_message(msg: &LinkMessage) -> Result<Link> {
        let index = IfIndex::new(msg.header.index)
            .ok_or_else(|| Error::malformed("link message", "interface index 0"))?;
        let mut name = None;
        let mut mac = None;
        let mut mtu = None;
        let mut oper_state = OperState::Unknown;
        let mut kind = None;
        let mut parent = None;
        let mut macvlan_mode = None;
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => name = Some(n.clone()),
                LinkAttribute::Address(bytes) => {
                    mac = <[u8; 6]>::try_from(bytes.as_slice()).ok().map(MacAddr)
                }
                LinkAttribute::Mtu(m) => mtu = Some(*m),
                LinkAttribute::OperState(s) => oper_state = (*s).into(),
                LinkAttribute::Link(p) => parent = IfIndex::new(*p),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        match info {
                            LinkInfo::Kind(k) => kind = Some(k.to_string()),
                            LinkInfo::Data(InfoData::MacVlan(data)) => {
                                for d in data {
                                    if let InfoMacVlan::Mode(m) = d {
                                        macvlan_mode = MacvlanMode::from_route(*m);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let name = name.ok_or_else(|| {
            Error::malformed(
                "link message",
                format!("interface {index} has no IFLA_IFNAME"),
            )
        })?;
        Ok(Link {
            index,
            name,
            mac,
            mtu,
            oper_state,
            flags: LinkFlags::from_bits(msg.header.flags.bits()),
            kind,
            parent,
            macvlan_mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_follow_dev_valid_name() {
        for ok in ["eth0", "veth0", "vrrp.1", "a", "abcdefghijklmno"] {
            validate_ifname(ok).unwrap();
        }
        for bad in [
            "",
            ".",
            "..",
            "abcdefghijklmnop",
            "eth0:1",
            "a/b",
            "a b",
            "a\0",
        ] {
            assert!(validate_ifname(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flags_print_like_ip_link() {
        let f = LinkFlags::from_bits(0x11043);
        assert_eq!(f.to_string(), "UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP");
        assert!(f.contains(LinkFlags::UP | LinkFlags::RUNNING));
        assert!(!f.contains(LinkFlags::LOOPBACK));
    }

    #[test]
    fn ifindex_zero_is_none() {
        assert!(IfIndex::new(0).is_none());
        assert_eq!(IfIndex::new(7).unwrap().get(), 7);
    }
}
