//! macvlan interfaces carrying a VRRP virtual MAC, as keepalived's
//! `use_vmac` creates them: `vrrp.{VRID}` over the parent interface with
//! MAC `00-00-5E-00-01-{VRID}` (IPv4) or `00-00-5E-00-02-{VRID}` (IPv6).

use std::num::NonZeroU8;

use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkInfo, LinkMessage,
};

use crate::error::Result;
use crate::link::{IfIndex, Link, validate_ifname};
use crate::macvlan_mode::MacvlanMode;
use crate::prefix::Family;
use vrrp_core::MacAddr;

/// The macvlan to create with [`crate::Handle::create_macvlan`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MacvlanSpec {
    /// Interface name (at most 15 bytes).
    pub name: String,
    /// The parent interface.
    pub parent: IfIndex,
    /// The MAC address of the new interface.
    pub mac: MacAddr,
    /// Forwarding mode.
    pub mode: MacvlanMode,
    /// Set IPv6 address generation to "none" (`IN6_ADDR_GEN_MODE_NONE`)
    /// before the link comes up, so the kernel does not derive a link-local
    /// address from the MAC. With a VRRP virtual MAC that address would be
    /// the same on every router of the VRID and fail DAD; keepalived does
    /// the same and adds a link-local of its own choosing.
    pub suppress_ipv6_link_local: bool,
    /// Bring the link up once created.
    pub up: bool,
}

impl MacvlanSpec {
    /// A macvlan `name` over `parent` with `mac`, private mode, brought up.
    pub fn new(name: &str, parent: IfIndex, mac: MacAddr) -> Result<MacvlanSpec> {
        validate_ifname(name)?;
        Ok(MacvlanSpec {
            name: name.to_string(),
            parent,
            mac,
            mode: MacvlanMode::Private,
            suppress_ipv6_link_local: false,
            up: true,
        })
    }

    /// keepalived's `use_vmac` interface for `vrid`: named `vrrp.{VRID}`,
    /// with the VRRP virtual MAC of `family`; for IPv6 the kernel's
    /// link-local address is suppressed.
    ///
    /// The mode is [`MacvlanMode::Bridge`], not keepalived's private mode.
    /// In private (and passthru) mode the kernel hands a multicast frame
    /// whose *source* MAC is the macvlan's own MAC to that macvlan only,
    /// and never to the parent: a peer advertising from the same virtual
    /// MAC (RFC 9568 §7.2) is then unheard by a socket on the parent. In
    /// bridge mode the frame also reaches the parent.
    pub fn vrrp(vrid: NonZeroU8, family: Family, parent: IfIndex) -> MacvlanSpec {
        MacvlanSpec {
            name: format!("vrrp.{vrid}"),
            parent,
            mac: match family {
                Family::Ipv4 => MacAddr::vrrp_v4(vrid.get()),
                Family::Ipv6 => MacAddr::vrrp_v6(vrid.get()),
            },
            mode: MacvlanMode::Bridge,
            suppress_ipv6_link_local: family == Family::Ipv6,
            up: true,
        }
    }

    /// Changes the interface name.
    pub fn with_name(mut self, name: &str) -> Result<MacvlanSpec> {
        validate_ifname(name)?;
        self.name = name.to_string();
        Ok(self)
    }

    /// Changes the mode.
    pub fn with_mode(mut self, mode: MacvlanMode) -> MacvlanSpec {
        self.mode = mode;
        self
    }

    /// Whether to suppress the kernel's IPv6 link-local address.
    pub fn with_suppressed_ipv6_link_local(mut self, suppress: bool) -> MacvlanSpec {
        self.suppress_ipv6_link_local = suppress;
        self
    }

    /// Whether to bring the link up.
    pub fn with_up(mut self, up: bool) -> MacvlanSpec {
        self.up = up;
        self
    }

    /// How `link` differs from this spec but for its mode, `None` if it is
    /// what we would create or differs in its mode only.
    pub(crate) fn mismatch_but_mode(&self, link: &Link) -> Option<String> {
        if link.kind.as_deref() != Some("macvlan") {
            return Some(format!(
                "it is a {} link, not macvlan",
                link.kind.as_deref().unwrap_or("plain")
            ));
        }
        if link.parent != Some(self.parent) {
            return Some(format!(
                "its parent is {:?}, not interface {}",
                link.parent.map(IfIndex::get),
                self.parent
            ));
        }
        if link.mac != Some(self.mac) {
            return Some(format!(
                "its MAC is {:?}, not {}",
                link.mac.map(|m| m.to_string()),
                self.mac
            ));
        }
        if link.macvlan_mode.is_none() {
            return Some("its macvlan mode is unknown".to_string());
        }
        None
    }
}

/// The `RTM_NEWLINK` body that creates the macvlan (down).
pub(crate) fn create_message(spec: &MacvlanSpec) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::IfName(spec.name.clone()));
    msg.attributes.push(LinkAttribute::Link(spec.parent.get()));
    msg.attributes
        .push(LinkAttribute::Address(spec.mac.octets().to_vec()));
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
            spec.mode.to_route(),
        )])),
    ]));
    msg
}

/// The `RTM_NEWLINK` body (no `NLM_F_CREATE`) that switches the existing
/// macvlan `index` to `mode`, as `ip link set DEV type macvlan mode MODE`.
pub(crate) fn mode_message(index: IfIndex, mode: MacvlanMode) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index.get();
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(mode.to_route())])),
    ]));
    msg
}

/// The `RTM_SETLINK` body that sets IPv6 address generation mode "none".
pub(crate) fn addr_gen_none_message(index: IfIndex) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index.get();
    msg.attributes
        .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
            vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
        )]));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrrp_spec_follows_keepalived() {
        let parent = IfIndex::new(2).unwrap();
        let s = MacvlanSpec::vrrp(NonZeroU8::new(7).unwrap(), Family::Ipv4, parent);
        assert_eq!(s.name, "vrrp.7");
        assert_eq!(s.mac.to_string(), "00:00:5e:00:01:07");
        assert_eq!(s.mode, MacvlanMode::Bridge);
        assert!(!s.suppress_ipv6_link_local);
        let s6 = MacvlanSpec::vrrp(NonZeroU8::new(255).unwrap(), Family::Ipv6, parent);
        assert_eq!(s6.name, "vrrp.255");
        assert_eq!(s6.mac.to_string(), "00:00:5e:00:02:ff");
        assert!(s6.suppress_ipv6_link_local);
    }

    #[test]
    fn names_are_checked() {
        let parent = IfIndex::new(2).unwrap();
        assert!(MacvlanSpec::new("vrrp.0123456789a", parent, MacAddr([0; 6])).is_err());
        let s = MacvlanSpec::vrrp(NonZeroU8::new(1).unwrap(), Family::Ipv4, parent);
        assert!(s.with_name("bad/name").is_err());
    }

    #[test]
    fn modes_parse_and_print() {
        for m in ["private", "vepa", "bridge", "passthru"] {
            assert_eq!(m.parse::<MacvlanMode>().unwrap().to_string(), m);
        }
        assert!("source".parse::<MacvlanMode>().is_err());
        for m in [
            MacvlanMode::Private,
            MacvlanMode::Vepa,
            MacvlanMode::Bridge,
            MacvlanMode::Passthru,
        ] {
            assert_eq!(MacvlanMode::from_route(m.to_route()), Some(m));
        }
    }
}
