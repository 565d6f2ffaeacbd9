//! What an instance holds on the host ([`Host`]: its interface, source
//! address, address specs and macvlan), and the look-ups that find them
//! (see [`super::resolve`]).

use std::net::IpAddr;

use vrrp_netaddr::{
    AddressFlags, AddressSpec, Family, Handle, IfIndex, IpPrefix, Label, Link, Scope,
};

use crate::config::{self, AddressFamily};
use crate::engine::{InstanceId, SetupError, SocketId};

/// Every instance's [`Host`], by handle: a sorted list (handles are given
/// in increasing order, so inserts go at the end) that takes less memory
/// than a map, which matters with 1,000 instances.
#[derive(Debug, Default)]
pub(crate) struct HostTable(Vec<(InstanceId, Host)>);

impl HostTable {
    /// Reserves room for `n` more hosts.
    pub(crate) fn reserve_exact(&mut self, n: usize) {
        self.0.reserve_exact(n);
    }

    /// The host of `id`.
    pub(crate) fn get(&self, id: &InstanceId) -> Option<&Host> {
        let k = self.0.binary_search_by_key(id, |(i, _)| *i).ok()?;
        Some(&self.0[k].1)
    }

    /// The host of `id`, to change.
    pub(crate) fn get_mut(&mut self, id: &InstanceId) -> Option<&mut Host> {
        let k = self.0.binary_search_by_key(id, |(i, _)| *i).ok()?;
        Some(&mut self.0[k].1)
    }

    /// Keeps `host` for `id`, replacing what was there.
    pub(crate) fn insert(&mut self, id: InstanceId, host: Host) {
        match self.0.binary_search_by_key(&id, |(i, _)| *i) {
            Ok(k) => self.0[k].1 = host,
            Err(k) => self.0.insert(k, (id, host)),
        }
    }

    /// Takes the host of `id` out.
    pub(crate) fn remove(&mut self, id: &InstanceId) -> Option<Host> {
        let k = self.0.binary_search_by_key(id, |(i, _)| *i).ok()?;
        Some(self.0.remove(k).1)
    }

    /// Every host with its handle, in handle order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (InstanceId, &Host)> {
        self.0.iter().map(|(i, h)| (*i, h))
    }

    /// Every host.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Host> {
        self.0.iter().map(|(_, h)| h)
    }

    /// Every host, to change.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Host> {
        self.0.iter_mut().map(|(_, h)| h)
    }
}

/// One instance's share of the host.
#[derive(Debug)]
pub(crate) struct Host {
    /// The instance's name, for log lines.
    pub(crate) name: String,
    /// The interface adverts go out on.
    pub(crate) link: Link,
    /// The socket its adverts come in on.
    pub(crate) socket: SocketId,
    /// The address adverts are sent from.
    pub(crate) primary: IpAddr,
    /// Every address installed while Active: VIPs then excluded VIPs.
    /// (Shared with the address worker's jobs, not copied for each.)
    pub(crate) addresses: std::sync::Arc<[AddressSpec]>,
    /// A non-owner in non-accept mode: its VIPs go in the nftables filter
    /// while it is Active (see [`super::firewall`]).
    pub(crate) filtered: bool,
    /// Its `virtual_routes` and `virtual_rules`, if any.
    pub(crate) routing: Option<std::sync::Arc<super::routing_set::RoutingSet>>,
    /// Its virtual-MAC interface, when `use_vmac` is on (boxed: most
    /// instances have none, and 1,000 of them would carry 150 bytes each).
    pub(crate) vmac: Option<Box<VmacLink>>,
    /// The TTL of its unicast adverts (keepalived's `unicast_ttl`).
    pub(crate) unicast_ttl: u8,
}

/// A macvlan with the VRRP virtual MAC (RFC 9568 §7.3) that holds the
/// instance's VIPs, so that they answer ARP from 00-00-5E-00-01-{VRID}.
#[derive(Debug)]
pub(crate) struct VmacLink {
    /// The macvlan.
    pub(crate) link: Link,
    /// Whether we created it (and so delete it at stop).
    pub(crate) created: bool,
    /// The instance's address family.
    family: Family,
    /// The parent's sysctls to put back at stop.
    restore: Option<vrrp_netaddr::sysctl::SysctlRestore>,
    /// The parent's `arp_announce` before we set it, and its path.
    arp_announce: Option<(std::path::PathBuf, String)>,
    /// Adverts leave from the parent's MAC (keepalived `vmac_xmit_base`),
    /// not from the virtual MAC.
    xmit_base: bool,
    /// The state directory whose record lists it, when we created it (see
    /// [`super::vmac_record`]).
    pub(crate) recorded_in: Option<std::path::PathBuf>,
}

impl VmacLink {
    /// The MAC multicast adverts leave from: the virtual MAC, as RFC 9568
    /// §7.2 requires, unless `xmit_base` asks for the parent's (then
    /// `None`: the kernel's socket on the parent sends them).
    pub(crate) fn advert_source_mac(&self) -> Option<[u8; 6]> {
        if self.xmit_base {
            None
        } else {
            self.link.mac.map(|m| m.octets())
        }
    }

    /// The macvlan's name if it is an IPv6 one, whose IPv6 is on only
    /// while the instance holds its VIPs (see [`set_vmac_ipv6`]).
    pub(crate) fn ipv6_name(&self) -> Option<&str> {
        (self.family == Family::Ipv6).then_some(self.link.name.as_str())
    }

    /// Deletes the macvlan if we created it and restores the parent's
    /// sysctls; errors are logged.
    pub(crate) fn teardown(self, handle: &mut Handle) {
        if let Some((path, old)) = &self.arp_announce {
            if let Err(e) = std::fs::write(path, old) {
                tracing::warn!(path = %path.display(), error = %e, "cannot restore arp_announce");
            }
        }
        if let Some(r) = self.restore {
            if let Err(e) = r.restore() {
                tracing::warn!(interface = %self.link.name, error = %e, "cannot restore sysctls");
            }
        }
        if self.created {
            if let Err(e) = handle.delete_link(self.link.index) {
                tracing::warn!(interface = %self.link.name, error = %e, "cannot delete the vmac interface");
            }
        }
        if let Some(dir) = &self.recorded_in {
            super::vmac_record::remove(dir, &self.link.name);
        }
    }
}

/// Creates (or reuses) the instance's macvlan and sets the sysctls it
/// needs (keepalived's `use_vmac`). Adverts are received on the parent
/// interface, which hears every peer in the macvlan's bridge mode (see
/// [`vrrp_netaddr::MacvlanSpec::vrrp`]), and sent from the virtual MAC
/// unless `vmac_xmit_base` is set.
///
/// IPv4 uses 00-00-5E-00-01-{VRID} and the ARP sysctls; IPv6 uses
/// 00-00-5E-00-02-{VRID} (RFC 9568 §7.3) with the kernel's link-local
/// address suppressed: derived from the shared virtual MAC it would be the
/// same on every router of the VRID and fail DAD. Neighbour Solicitations
/// are answered per device, so the IPv6 case needs no sysctl.
pub(super) fn create_vmac(
    handle: &mut Handle,
    state_dir: &std::path::Path,
    config: &config::Instance,
    vmac: &config::Vmac,
    parent: &Link,
) -> Result<VmacLink, SetupError> {
    let vrid = std::num::NonZeroU8::new(config.vrid.get())
        .ok_or_else(|| SetupError::invalid_because("VRID 0"))?;
    let family = match config.family() {
        AddressFamily::Ipv4 => Family::Ipv4,
        AddressFamily::Ipv6 => Family::Ipv6,
    };
    // `vmac` is the instance's own, so it has a name.
    let Some(name) = config.vmac_name() else {
        return Err(SetupError::invalid_because("the instance has no use_vmac"));
    };
    // Created down and brought up once silenced: a link-local address or
    // an MLD report from the shared MAC would move it to this host's
    // switch port, also on a Backup.
    let spec = vrrp_netaddr::MacvlanSpec::vrrp(vrid, family, parent.index)
        .with_name(&name)
        .map_err(|e| SetupError::invalid(format!("vmac {name}"), e))?
        .with_suppressed_ipv6_link_local(true)
        .with_up(false);
    let (outcome, link) = handle
        .create_macvlan(&spec)
        .map_err(|e| SetupError::waiting(format!("vmac {name}"), e))?;
    let (restore, arp_announce) = if family == Family::Ipv4 {
        let restore = match vrrp_netaddr::sysctl::configure_vmac(&name, &parent.name) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(interface = %name, error = %e, "cannot set the vmac sysctls");
                None
            }
        };
        (restore, set_arp_announce(&parent.name))
    } else {
        for knob in ["accept_ra", "autoconf"] {
            write_ipv6_conf(&name, knob, false);
        }
        (None, None)
    };
    // IPv4: no IPv6 at all. IPv6: none until the instance is Active.
    write_ipv6_conf(&name, "disable_ipv6", true);
    let created = matches!(outcome, vrrp_netaddr::AddOutcome::Added);
    let recorded_in = created.then(|| {
        // What the next start must undo if this run crashes.
        let mut parent_sysctls: Vec<(std::path::PathBuf, String)> = restore
            .iter()
            .flat_map(|r| r.changes())
            .filter(|c| c.ifname == parent.name)
            .filter_map(|c| {
                let path = vrrp_netaddr::sysctl::ipv4_conf_path(&c.ifname, c.knob).ok()?;
                Some((path, c.previous.to_string()))
            })
            .collect();
        parent_sysctls.extend(arp_announce.clone());
        super::vmac_record::add(
            state_dir,
            super::vmac_record::VmacRecord {
                name: name.clone(),
                ifindex: link.index.get(),
                parent_sysctls,
            },
        );
        state_dir.to_path_buf()
    });
    let vmac_link = VmacLink {
        link,
        created,
        family,
        restore,
        arp_announce,
        xmit_base: vmac.xmit_base,
        recorded_in,
    };
    if let Err(e) = handle.set_link_up(vmac_link.link.index, true) {
        let err = SetupError::waiting(format!("vmac {name}"), e);
        vmac_link.teardown(handle);
        return Err(err);
    }
    Ok(vmac_link)
}

/// Turns IPv6 on an IPv6 vmac on just before its VIPs are installed and
/// off before they are removed. Off, it sends nothing: removing a VIP would
/// otherwise leave its solicited-node group with an MLD report from the
/// virtual MAC, which moves that MAC to this (now Backup) host's switch
/// port and black-holes the VIP until the Active's next announcement.
pub(crate) fn set_vmac_ipv6(ifname: &str, active: bool) {
    write_ipv6_conf(ifname, "disable_ipv6", !active);
}

/// Writes `net.ipv6.conf.<ifname>.<knob>`; failures are logged.
fn write_ipv6_conf(ifname: &str, knob: &str, on: bool) {
    if vrrp_netaddr::validate_ifname(ifname).is_err() {
        return;
    }
    let path = format!("/proc/sys/net/ipv6/conf/{ifname}/{knob}");
    if let Err(e) = std::fs::write(&path, if on { "1" } else { "0" }) {
        tracing::warn!(interface = ifname, error = %e, "cannot set {knob}={}", u8::from(on));
    }
}

/// Sets `arp_announce=2` on the parent: when the host ARPs out of the
/// parent (to answer a client that pinged the VIP, say), the sender address
/// must be one of the parent's own, or the client learns the VIP at the
/// parent's MAC instead of the virtual one. `netaddr::sysctl::configure_vmac`
/// does not set it (yet). Returns the previous value to restore.
fn set_arp_announce(parent: &str) -> Option<(std::path::PathBuf, String)> {
    vrrp_netaddr::validate_ifname(parent).ok()?;
    let path = std::path::PathBuf::from(format!("/proc/sys/net/ipv4/conf/{parent}/arp_announce"));
    let old = std::fs::read_to_string(&path).ok()?;
    match std::fs::write(&path, "2") {
        Ok(()) => Some((path, old.trim().to_string())),
        Err(e) => {
            tracing::warn!(interface = parent, error = %e, "cannot set arp_announce=2");
            None
        }
    }
}

/// The address adverts are sent from: the interface's first non-secondary
/// IPv4 address that is not a VIP (with its prefix length), or its IPv6
/// link-local address (RFC 9568 §5.1.1.1, §5.1.2.1).
pub(super) fn primary_address(
    handle: &mut Handle,
    config: &config::Instance,
    link: &Link,
) -> Result<(IpAddr, Option<u8>), SetupError> {
    match config.family() {
        AddressFamily::Ipv4 => {
            let vips: Vec<IpAddr> = config.vips.iter().map(|v| v.address).collect();
            let addrs = handle
                .addresses(Some(link.index))
                .map_err(|e| SetupError::waiting(format!("addresses of {}", link.name), e))?;
            addrs
                .iter()
                .filter(|a| a.ifindex == link.index && a.family == Family::Ipv4)
                .filter(|a| !vips.contains(&a.prefix.addr()))
                .find(|a| !a.flags.contains(AddressFlags::SECONDARY))
                .or_else(|| {
                    addrs.iter().find(|a| {
                        a.ifindex == link.index
                            && a.family == Family::Ipv4
                            && !vips.contains(&a.prefix.addr())
                    })
                })
                .map(|a| (a.prefix.addr(), Some(a.prefix.prefix_len())))
                .ok_or_else(|| {
                    SetupError::waiting_for(format!(
                        "{} has no IPv4 address to send advertisements from; add one or set source_address",
                        link.name
                    ))
                })
        }
        AddressFamily::Ipv6 => {
            // At boot or after a link flap the link-local address is
            // tentative while DAD runs (about a second). The instance then
            // waits, without blocking the loop, and starts on the netlink
            // event that reports the address usable.
            vrrp_arp::link_local_address(link.index.get())
                .map(|a| (IpAddr::V6(a), None))
                .map_err(|e| {
                    SetupError::waiting(
                        format!("{}: no usable IPv6 link-local address", link.name),
                        e,
                    )
                })
        }
    }
}

/// The netaddr request for one configured virtual address. IPv6 addresses
/// skip duplicate address detection, as keepalived's do: the VIP must
/// answer at once, and it moves between hosts by design.
pub(super) fn address_spec(
    handle: &mut Handle,
    vip: &config::VirtualAddress,
    default: IfIndex,
) -> Result<AddressSpec, SetupError> {
    let ifindex = match &vip.device {
        Some(dev) => {
            handle
                .link_by_name(dev)
                .map_err(|e| SetupError::waiting(format!("device {dev} of {vip}"), e))?
                .index
        }
        None => default,
    };
    let prefix = IpPrefix::new(vip.address, vip.prefix_len)
        .map_err(|e| SetupError::invalid(format!("address {vip}"), e))?;
    let mut spec = AddressSpec::new(ifindex, prefix);
    if let Some(label) = &vip.label {
        spec = spec.with_label(
            Label::new(label.as_str())
                .map_err(|e| SetupError::invalid(format!("label of {vip}"), e))?,
        );
    }
    if let Some(scope) = vip.scope {
        let scope: Scope = scope
            .as_str()
            .parse()
            .map_err(|e| SetupError::invalid_because(format!("{vip}: scope: {e:?}")))?;
        spec = spec.with_scope(scope);
    }
    if let Some(brd) = vip.broadcast {
        spec = spec.with_broadcast(brd);
    }
    if vip.address.is_ipv6() {
        spec = spec.with_flags(AddressFlags::NODAD);
    }
    Ok(spec)
}
