//! Interface addresses: what to add ([`AddressSpec`]), what the kernel
//! reports ([`AddressInfo`]), and the `RTM_*ADDR` messages between the two.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{
    AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::label::Label;
use crate::link::IfIndex;
use crate::prefix::{Family, IpPrefix};

/// Address scope (`ifa_scope`): how far the address is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Scope {
    /// Valid everywhere (`RT_SCOPE_UNIVERSE`, which `ip` calls `global`).
    #[default]
    Global,
    /// Site-local (IPv6, deprecated).
    Site,
    /// Valid on this link only.
    Link,
    /// Valid inside this host only.
    Host,
    /// Nowhere.
    Nowhere,
    /// A numeric scope without a name.
    Other(u8),
}

impl Scope {
    pub(crate) fn to_raw(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(v) => v,
        }
    }

    pub(crate) fn from_raw(v: u8) -> Scope {
        match v {
            0 => Scope::Global,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            v => Scope::Other(v),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::Site => f.write_str("site"),
            Scope::Link => f.write_str("link"),
            Scope::Host => f.write_str("host"),
            Scope::Nowhere => f.write_str("nowhere"),
            Scope::Other(v) => write!(f, "{v}"),
        }
    }
}

/// A scope name or number that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a scope (global, site, link, host, nowhere or 0-255)")]
pub struct ScopeParseError(pub String);

impl FromStr for Scope {
    type Err = ScopeParseError;
    fn from_str(s: &str) -> Result<Scope, ScopeParseError> {
        Ok(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            n => Scope::from_raw(n.parse().map_err(|_| ScopeParseError(s.to_string()))?),
        })
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Address flags (`IFA_F_*` from `<linux/if_addr.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AddressFlags(u32);

const ADDRESS_FLAG_NAMES: [(u32, &str); 12] = [
    (AddressFlags::SECONDARY.0, "secondary"),
    (AddressFlags::NODAD.0, "nodad"),
    (AddressFlags::OPTIMISTIC.0, "optimistic"),
    (AddressFlags::DADFAILED.0, "dadfailed"),
    (AddressFlags::HOMEADDRESS.0, "home"),
    (AddressFlags::DEPRECATED.0, "deprecated"),
    (AddressFlags::TENTATIVE.0, "tentative"),
    (AddressFlags::PERMANENT.0, "permanent"),
    (AddressFlags::MANAGETEMPADDR.0, "mngtmpaddr"),
    (AddressFlags::NOPREFIXROUTE.0, "noprefixroute"),
    (AddressFlags::MCAUTOJOIN.0, "autojoin"),
    (AddressFlags::STABLE_PRIVACY.0, "stable-privacy"),
];

impl AddressFlags {
    /// No flags.
    pub const EMPTY: AddressFlags = AddressFlags(0);
    /// Set by the kernel on an IPv4 address that is not the first of its
    /// subnet on the interface.
    pub const SECONDARY: AddressFlags = AddressFlags(0x01);
    /// IPv6: skip Duplicate Address Detection (usable at once, no
    /// `tentative` phase).
    pub const NODAD: AddressFlags = AddressFlags(0x02);
    /// IPv6: optimistic DAD (RFC 4429).
    pub const OPTIMISTIC: AddressFlags = AddressFlags(0x04);
    /// IPv6: DAD found a duplicate; the address is unusable.
    pub const DADFAILED: AddressFlags = AddressFlags(0x08);
    /// IPv6: Mobile IPv6 home address.
    pub const HOMEADDRESS: AddressFlags = AddressFlags(0x10);
    /// IPv6: preferred lifetime expired.
    pub const DEPRECATED: AddressFlags = AddressFlags(0x20);
    /// IPv6: DAD still running; the address cannot be used yet.
    pub const TENTATIVE: AddressFlags = AddressFlags(0x40);
    /// No lifetime: the address stays until removed.
    pub const PERMANENT: AddressFlags = AddressFlags(0x80);
    /// IPv6: manage temporary addresses from this prefix.
    pub const MANAGETEMPADDR: AddressFlags = AddressFlags(0x100);
    /// Do not add the prefix route for the subnet.
    pub const NOPREFIXROUTE: AddressFlags = AddressFlags(0x200);
    /// Join the multicast group of a multicast address.
    pub const MCAUTOJOIN: AddressFlags = AddressFlags(0x400);
    /// IPv6: stable-privacy generated (RFC 7217).
    pub const STABLE_PRIVACY: AddressFlags = AddressFlags(0x800);

    /// Flags a request may set on IPv4 addresses.
    const SETTABLE_V4: AddressFlags = AddressFlags(0x200 | 0x400);
    /// Flags a request may set on IPv6 addresses.
    const SETTABLE_V6: AddressFlags = AddressFlags(0x02 | 0x04 | 0x10 | 0x100 | 0x200 | 0x400);

    /// Flags from raw bits; unknown bits are kept.
    pub fn from_bits(bits: u32) -> AddressFlags {
        AddressFlags(bits)
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether all flags of `other` are set.
    pub fn contains(self, other: AddressFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the set flags, as `ip addr` prints them.
    pub fn names(self) -> Vec<&'static str> {
        ADDRESS_FLAG_NAMES
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

impl std::ops::BitOr for AddressFlags {
    type Output = AddressFlags;
    fn bitor(self, rhs: AddressFlags) -> AddressFlags {
        AddressFlags(self.0 | rhs.0)
    }
}

impl fmt::Display for AddressFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

impl Serialize for AddressFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// An address to add to (or replace on) an interface.
///
/// Built with [`AddressSpec::new`] and the `with_*` methods, checked with
/// [`AddressSpec::validate`] (which every `Handle` call does first).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddressSpec {
    /// The interface.
    pub ifindex: IfIndex,
    /// The address and prefix length.
    pub prefix: IpPrefix,
    /// IPv4 alias label (`eth0:1`).
    pub label: Option<Label>,
    /// Scope; global unless set.
    pub scope: Scope,
    /// Request flags: `NODAD`, `NOPREFIXROUTE`, ...
    pub flags: AddressFlags,
    /// IPv4 broadcast address.
    pub broadcast: Option<Ipv4Addr>,
}

impl AddressSpec {
    /// A global-scope address without label, flags or broadcast.
    pub fn new(ifindex: IfIndex, prefix: IpPrefix) -> AddressSpec {
        AddressSpec {
            ifindex,
            prefix,
            label: None,
            scope: Scope::Global,
            flags: AddressFlags::EMPTY,
            broadcast: None,
        }
    }

    /// Sets the IPv4 alias label.
    pub fn with_label(mut self, label: Label) -> AddressSpec {
        self.label = Some(label);
        self
    }

    /// Sets the scope.
    pub fn with_scope(mut self, scope: Scope) -> AddressSpec {
        self.scope = scope;
        self
    }

    /// Adds request flags.
    pub fn with_flags(mut self, flags: AddressFlags) -> AddressSpec {
        self.flags = self.flags | flags;
        self
    }

    /// Sets the IPv4 broadcast address (see [`IpPrefix::broadcast`]).
    pub fn with_broadcast(mut self, broadcast: Ipv4Addr) -> AddressSpec {
        self.broadcast = Some(broadcast);
        self
    }

    /// Rejects combinations the kernel would ignore or refuse: a label or a
    /// broadcast address on IPv6, an IPv6-only flag on IPv4, a flag only the
    /// kernel sets (`secondary`, `tentative`, ...).
    pub fn validate(&self) -> Result<()> {
        let bad = |reason| {
            Err(Error::InvalidAddressSpec {
                prefix: self.prefix.to_string(),
                reason,
            })
        };
        let family = self.prefix.family();
        if family == Family::Ipv6 && self.label.is_some() {
            return bad("labels exist for IPv4 addresses only");
        }
        if family == Family::Ipv6 && self.broadcast.is_some() {
            return bad("IPv6 has no broadcast address");
        }
        let settable = match family {
            Family::Ipv4 => AddressFlags::SETTABLE_V4,
            Family::Ipv6 => AddressFlags::SETTABLE_V6,
        };
        if self.flags.bits() & !AddressFlags::SETTABLE_V6.bits() != 0 {
            return bad(
                "flags secondary, dadfailed, deprecated, tentative, permanent and stable-privacy are set by the kernel",
            );
        }
        if self.flags.bits() & !settable.bits() != 0 {
            return bad("flags nodad, optimistic, home and mngtmpaddr apply to IPv6 only");
        }
        Ok(())
    }

    /// The `RTM_NEWADDR` body. IPv4 carries the address in both `IFA_LOCAL`
    /// and `IFA_ADDRESS` (without `IFA_LOCAL` the kernel takes `IFA_ADDRESS`
    /// as a peer); IPv6 takes the same pair.
    pub(crate) fn to_message(&self) -> AddressMessage {
        let mut msg = address_header(self.ifindex, self.prefix);
        msg.header.scope = AddressScope::from(self.scope.to_raw());
        // The header holds the low 8 flag bits, IFA_FLAGS all 32.
        msg.header.flags = AddressHeaderFlags::from_bits_retain(self.flags.bits() as u8);
        if let Some(label) = &self.label {
            msg.attributes
                .push(AddressAttribute::Label(label.as_str().to_string()));
        }
        if let Some(brd) = self.broadcast {
            msg.attributes.push(AddressAttribute::Broadcast(brd));
        }
        if !self.flags.is_empty() {
            msg.attributes.push(AddressAttribute::Flags(
                netlink_packet_route::address::AddressFlags::from_bits_retain(self.flags.bits()),
            ));
        }
        msg
    }
}

/// The `RTM_DELADDR` body that removes `prefix` from `ifindex`. Both
/// `IFA_LOCAL` and `IFA_ADDRESS` are sent so the kernel matches the prefix
/// length too, not only the address.
pub(crate) fn delete_message(ifindex: IfIndex, prefix: IpPrefix) -> AddressMessage {
    address_header(ifindex, prefix)
}

fn address_header(ifindex: IfIndex, prefix: IpPrefix) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = match prefix.family() {
        Family::Ipv4 => AddressFamily::Inet,
        Family::Ipv6 => AddressFamily::Inet6,
    };
    msg.header.prefix_len = prefix.prefix_len();
    msg.header.index = ifindex.get();
    msg.attributes.push(AddressAttribute::Local(prefix.addr()));
    msg.attributes
        .push(AddressAttribute::Address(prefix.addr()));
    msg
}

/// The `RTM_GETADDR` dump request. The header's index is a kernel-side
/// filter only when strict checking is on; callers filter again.
pub(crate) fn dump_message(ifindex: Option<IfIndex>) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.index = ifindex.map_or(0, IfIndex::get);
    msg
}

/// An address as the kernel reports it (`RTM_NEWADDR`/`RTM_DELADDR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AddressInfo {
    /// The interface.
    pub ifindex: IfIndex,
    /// IPv4 or IPv6.
    pub family: Family,
    /// The local address with its prefix length.
    #[serde(rename = "address")]
    pub prefix: IpPrefix,
    /// The peer of a point-to-point address, when it differs.
    pub peer: Option<IpAddr>,
    /// The IPv4 label; the interface name itself when no alias label was set.
    pub label: Option<Label>,
    /// Scope.
    pub scope: Scope,
    /// Flags (from `IFA_FLAGS` when present, else the header's 8 bits).
    pub flags: AddressFlags,
    /// IPv4 broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// When the kernel created the address, as time since boot (from
    /// `IFA_CACHEINFO`'s `cstamp`, 10 ms resolution). Lets the ledger tell
    /// its own address from one deleted and re-added by someone else.
    #[serde(skip)]
    pub created: Option<Duration>,
}

impl AddressInfo {
    /// Decodes an address message; `Ok(None)` for families other than IPv4
    /// and IPv6.
    pub(crate) fn from_message(msg: &AddressMessage) -> Result<Option<AddressInfo>> {
        let family = match msg.header.family {
            AddressFamily::Inet => Family::Ipv4,
            AddressFamily::Inet6 => Family::Ipv6,
            _ => return Ok(None),
        };
        let ifindex = IfIndex::new(msg.header.index)
            .ok_or_else(|| Error::malformed("address message", "interface index 0"))?;
        let mut address = None;
        let mut local = None;
        let mut label = None;
        let mut broadcast = None;
        let mut flags = AddressFlags::from_bits(u32::from(msg.header.flags.bits()));
        let mut created = None;
        for attr in &msg.attributes {
            match attr {
                AddressAttribute::Address(a) => address = Some(*a),
                AddressAttribute::Local(a) => local = Some(*a),
                AddressAttribute::Label(l) => {
                    label = Some(Label::new(l.as_str()).map_err(|e| {
                        Error::malformed("address message", format!("IFA_LABEL: {e}"))
                    })?)
                }
                AddressAttribute::Broadcast(b) => broadcast = Some(*b),
                AddressAttribute::Flags(f) => flags = AddressFlags::from_bits(f.bits()),
                AddressAttribute::CacheInfo(ci) => {
                    created = Some(Duration::from_millis(u64::from(ci.cstamp) * 10))
                }
                _ => {}
            }
        }
        let addr = local.or(address).ok_or_else(|| {
            Error::malformed("address message", "neither IFA_LOCAL nor IFA_ADDRESS")
        })?;
        if Family::of(addr) != family {
            return Err(Error::malformed(
                "address message",
                format!("{addr} in a {family} message"),
            ));
        }
        let peer = match (local, address) {
            (Some(l), Some(a)) if l != a => Some(a),
            _ => None,
        };
        let prefix = IpPrefix::new(addr, msg.header.prefix_len)
            .map_err(|e| Error::malformed("address message", e))?;
        Ok(Some(AddressInfo {
            ifindex,
            family,
            prefix,
            peer,
            label,
            scope: Scope::from_raw(u8::from(msg.header.scope)),
            flags,
            broadcast,
            created,
        }))
    }

    /// Whether this is the address `prefix` (same address and length) on
    /// `ifindex`.
    pub fn matches(&self, ifindex: IfIndex, prefix: IpPrefix) -> bool {
        self.ifindex == ifindex && self.prefix == prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(i: u32) -> IfIndex {
        IfIndex::new(i).unwrap()
    }

    #[test]
    fn validate_rejects_nonsense() {
        let v4: IpPrefix = "198.18.0.5/24".parse().unwrap();
        let v6: IpPrefix = "fd00:198:18::5/64".parse().unwrap();
        let label = Label::new("veth0:1").unwrap();
        AddressSpec::new(idx(3), v4)
            .with_label(label.clone())
            .with_broadcast(Ipv4Addr::new(198, 18, 0, 255))
            .with_flags(AddressFlags::NOPREFIXROUTE)
            .validate()
            .unwrap();
        AddressSpec::new(idx(3), v6)
            .with_flags(AddressFlags::NODAD | AddressFlags::NOPREFIXROUTE)
            .validate()
            .unwrap();
        let err = |s: AddressSpec| s.validate().unwrap_err().to_string();
        assert!(
            err(AddressSpec::new(idx(3), v6).with_label(label)).contains("IPv4 addresses only")
        );
        assert!(
            err(AddressSpec::new(idx(3), v6).with_broadcast(Ipv4Addr::BROADCAST))
                .contains("no broadcast")
        );
        assert!(
            err(AddressSpec::new(idx(3), v4).with_flags(AddressFlags::NODAD)).contains("IPv6 only")
        );
        assert!(
            err(AddressSpec::new(idx(3), v4).with_flags(AddressFlags::SECONDARY))
                .contains("set by the kernel")
        );
        assert!(
            err(AddressSpec::new(idx(3), v6).with_flags(AddressFlags::TENTATIVE))
                .contains("set by the kernel")
        );
    }

    #[test]
    fn flag_names_follow_ip() {
        let f = AddressFlags::SECONDARY | AddressFlags::NOPREFIXROUTE;
        assert_eq!(f.to_string(), "secondary noprefixroute");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"["secondary","noprefixroute"]"#
        );
    }

    #[test]
    fn scope_round_trip() {
        for s in ["global", "site", "link", "host", "nowhere", "17"] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        assert_eq!("universe".parse::<Scope>().unwrap(), Scope::Global);
        assert!("galaxy".parse::<Scope>().is_err());
        assert_eq!(Scope::from_raw(Scope::Link.to_raw()), Scope::Link);
    }
}
