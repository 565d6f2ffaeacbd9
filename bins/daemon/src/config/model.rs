//! The validated configuration model both front-ends produce.
//!
//! Every value here has been checked by the loader that built it
//! ([`load_native`](super::load_native) or
//! [`load_keepalived`](super::load_keepalived)): the invariants written on
//! each field hold for any `Config` those functions return. Types carry
//! their units: intervals are [`Duration`]s, VRIDs and priorities are
//! range-checked newtypes.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

pub use super::exec::{Exec, Hook, RunAs};
pub use super::tracking::{
    FileInit, FileTracker, HostPort, HttpTracker, ParamMatch, Probe, ProcessTracker, ScriptTracker,
    TcpTracker, TrackInterface, TrackRef, TrackerKind, Tracking, Weight,
};

/// A whole configuration: global settings, VRRP instances, sync groups and
/// the named trackers instances refer to.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// Daemon-wide settings.
    pub global: Global,
    /// VRRP instances (virtual routers), in file order; names are unique.
    pub instances: Vec<Instance>,
    /// Sync groups: instances that change state together.
    pub sync_groups: Vec<SyncGroup>,
    /// Script trackers by name (keepalived `vrrp_script`).
    pub track_script: BTreeMap<String, ScriptTracker>,
    /// Built-in TCP connect trackers by name.
    pub track_tcp: BTreeMap<String, TcpTracker>,
    /// Built-in HTTP GET trackers by name.
    pub track_http: BTreeMap<String, HttpTracker>,
    /// File trackers by name (keepalived `track_file`).
    pub track_file: BTreeMap<String, FileTracker>,
    /// Process trackers by name (keepalived `vrrp_track_process`).
    pub track_process: BTreeMap<String, ProcessTracker>,
    /// keepalived's LVS half: IPVS services and their health-checked real
    /// servers (`virtual_server`), in file order.
    pub virtual_servers: Vec<super::lvs::VirtualServer>,
    /// Addresses, routes and rules the host holds while vrrpd runs,
    /// whatever the state of its instances.
    pub statics: Statics,
}

/// keepalived's `static_ipaddress`, `static_routes` and `static_rules`:
/// installed at start, removed at a stop.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Statics {
    /// Addresses (`static_ipaddress`); each has its device.
    pub addresses: Vec<VirtualAddress>,
    /// Routes (`static_routes`).
    pub routes: Vec<super::routing::Route>,
    /// Policy rules (`static_rules`).
    pub rules: Vec<super::routing::Rule>,
    /// keepalived's `track_group NAME { group { INSTANCE ... } }`: the
    /// instances that are in Fault while the interface of a static route
    /// or rule naming the group is down.
    pub track_groups: BTreeMap<String, Vec<String>>,
    /// The `track_group` of each static address that names one, by
    /// address: the group's instances track the address's interface.
    pub address_track_groups: BTreeMap<IpAddr, String>,
}

impl Statics {
    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
            && self.routes.is_empty()
            && self.rules.is_empty()
            && self.track_groups.is_empty()
            && self.address_track_groups.is_empty()
    }

    /// The `track_group` names that static routes and rules use and
    /// `track_groups` does not define.
    pub fn unknown_track_groups(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let used = self
            .routes
            .iter()
            .map(|r| r.track_group.as_ref())
            .chain(self.rules.iter().map(|r| r.track_group.as_ref()))
            .chain(self.address_track_groups.values().map(Some))
            .flatten();
        for g in used {
            if !self.track_groups.contains_key(g) && !out.contains(g) {
                out.push(g.clone());
            }
        }
        out
    }

    /// The interfaces instance `name` tracks (weight 0) through the
    /// static addresses (their device), routes (`dev`) and rules (`iif`)
    /// whose `track_group` has it.
    pub fn links_tracked_by(&self, name: &str) -> Vec<String> {
        let member = |group: &Option<String>| {
            group
                .as_ref()
                .and_then(|g| self.track_groups.get(g))
                .is_some_and(|members| members.iter().any(|m| m == name))
        };
        let routes = self
            .routes
            .iter()
            .filter(|r| r.track && member(&r.track_group))
            .filter_map(|r| r.device.clone());
        let rules = self
            .rules
            .iter()
            .filter(|r| r.track && member(&r.track_group))
            .filter_map(|r| r.spec.iif.clone());
        let addresses = self
            .addresses
            .iter()
            .filter(|a| member(&self.address_track_groups.get(&a.address).cloned()))
            .filter_map(|a| a.device.clone());
        let mut out: Vec<String> = Vec::new();
        for link in addresses.chain(routes).chain(rules) {
            if !out.contains(&link) {
                out.push(link);
            }
        }
        out
    }
}

impl Config {
    /// Whether any instance or the static entries have routes or rules
    /// (so their deletion by someone else is watched).
    pub fn has_routing(&self) -> bool {
        !self.statics.routes.is_empty()
            || !self.statics.rules.is_empty()
            || self
                .instances
                .iter()
                .any(|i| !i.virtual_routes.is_empty() || !i.virtual_rules.is_empty())
    }

    /// The instance called `name`.
    pub fn instance(&self, name: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.name == name)
    }

    /// Whether some script or hook runs as a user of its own (a global
    /// `script_user` or a per-script one, VRRP's or LVS's), which needs
    /// CAP_SETUID and CAP_SETGID.
    pub fn switches_user(&self) -> bool {
        self.global.script_user.is_some()
            || self.track_script.values().any(|s| s.run_as.is_some())
            || self.instances.iter().any(|i| i.notify.run_as_someone())
            || self.sync_groups.iter().any(|g| g.notify.run_as_someone())
            || self.virtual_servers.iter().any(|v| v.runs_as_someone())
    }

    /// The sync group `instance` belongs to, if any (at most one).
    pub fn group_of(&self, instance: &str) -> Option<&SyncGroup> {
        self.sync_groups
            .iter()
            .find(|g| g.instances.iter().any(|m| m == instance))
    }
}

pub use super::global::{Firewall, Global, LinkDelays, LogLevel, NotifyFifo};

// The protocol's own types: one set for the whole suite (vrrp-core's).
pub use vrrp_core::router::InitialState;
pub use vrrp_core::router::UnicastChecksum;
pub use vrrp_core::wire::{AddressFamily, ChecksumMode};
pub use vrrp_core::{Priority, Version, Vrid};

/// The spelling of a [`UnicastChecksum`] in the configuration file
/// (`unicast_checksum`).
pub fn unicast_checksum_name(form: UnicastChecksum) -> &'static str {
    match form {
        UnicastChecksum::Standard => "standard",
        UnicastChecksum::DetectLegacy => "detect-legacy",
        UnicastChecksum::Legacy => "legacy",
    }
}

/// The spelling of a [`ChecksumMode`] in the configuration file.
pub fn checksum_mode_name(mode: ChecksumMode) -> &'static str {
    match mode {
        ChecksumMode::PseudoHeader => "pseudo-header",
        ChecksumMode::MessageOnly => "message-only",
    }
}

/// The scope of an installed address (`ip address add ... scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressScope {
    /// `scope global`.
    Global,
    /// `scope site` (IPv6 only).
    Site,
    /// `scope link`.
    Link,
    /// `scope host`.
    Host,
    /// `scope nowhere`.
    Nowhere,
}

impl AddressScope {
    /// The iproute2 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressScope::Global => "global",
            AddressScope::Site => "site",
            AddressScope::Link => "link",
            AddressScope::Host => "host",
            AddressScope::Nowhere => "nowhere",
        }
    }

    /// Parses the iproute2 spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            AddressScope::Global,
            AddressScope::Site,
            AddressScope::Link,
            AddressScope::Host,
            AddressScope::Nowhere,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A virtual address, installed while the instance is Active.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VirtualAddress {
    /// The address.
    pub address: IpAddr,
    /// Prefix length: 0..=32 for IPv4, 0..=128 for IPv6. A bare address
    /// means a host prefix (/32 or /128), as in keepalived.
    pub prefix_len: u8,
    /// Install on this interface instead of the instance's (`dev`).
    pub device: Option<String>,
    /// IPv4 address label, at most 15 bytes; by convention
    /// `<interface>:<anything>`.
    pub label: Option<String>,
    /// IPv4 broadcast address (`brd`).
    pub broadcast: Option<Ipv4Addr>,
    /// Address scope; the kernel default (global) when `None`.
    pub scope: Option<AddressScope>,
}

impl VirtualAddress {
    /// A bare address with a host prefix and no options.
    pub fn host(address: IpAddr) -> Self {
        VirtualAddress {
            address,
            prefix_len: if address.is_ipv4() { 32 } else { 128 },
            device: None,
            label: None,
            broadcast: None,
            scope: None,
        }
    }

    /// The address family.
    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(self.address)
    }

    /// Whether the address has no option beyond address and prefix.
    pub fn is_plain(&self) -> bool {
        self.device.is_none()
            && self.label.is_none()
            && self.broadcast.is_none()
            && self.scope.is_none()
    }
}

impl fmt::Display for VirtualAddress {
    /// `address/prefix`, the options left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// Use a virtual MAC (a macvlan with 00-00-5E-00-01-{VRID} or
/// 00-00-5E-00-02-{VRID}) for the instance (keepalived `use_vmac`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Vmac {
    /// The macvlan's name; the daemon picks one (`vrrp.<vrid>`) when `None`.
    pub name: Option<String>,
    /// Send adverts from the base interface's MAC, not from the virtual
    /// MAC that RFC 9568 §7.2 asks for (keepalived `vmac_xmit_base`;
    /// unicast adverts always leave from the base interface). Adverts are
    /// received on the base interface either way.
    pub xmit_base: bool,
}

/// Gratuitous ARP / unsolicited NA policy after becoming Active
/// (keepalived `garp_master_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Announce {
    /// Messages per address in each burst, 1..=255. Default 5.
    pub repeat: u32,
    /// Delay before the second burst; `None` sends a single burst.
    /// Default 5 s.
    pub delay: Option<Duration>,
    /// Repeat a burst this often while Active; `None` (the default) never.
    pub refresh: Option<Duration>,
    /// Messages per address in each refresh burst, 1..=255. Default 1.
    pub refresh_repeat: u32,
    /// Pause between two messages on one interface. Default 0.
    pub interval: Duration,
    /// Messages per address when the Active router hears a lower
    /// priority (a router that believes it is Active, after a partition),
    /// 0..=255; 0 sends none (keepalived `garp_lower_prio_repeat`, whose
    /// default is the global `vrrp_garp_master_repeat`). Default 5.
    pub lower_prio_repeat: u32,
    /// Delay of a second such burst; `None` sends one (keepalived
    /// `garp_lower_prio_delay`). Default 5 s.
    pub lower_prio_delay: Option<Duration>,
    /// While Active, this often one message on each interface other than
    /// the instance's that holds one of its addresses (`dev`), for the
    /// first address there, so that switches keep that interface's MAC
    /// (keepalived `garp_extra_if all N`). `None` (the default): never.
    pub extra_interfaces: Option<Duration>,
}

impl Default for Announce {
    /// keepalived's defaults.
    fn default() -> Self {
        Announce {
            repeat: 5,
            delay: Some(Duration::from_secs(5)),
            refresh: None,
            refresh_repeat: 1,
            interval: Duration::ZERO,
            lower_prio_repeat: 5,
            lower_prio_delay: Some(Duration::from_secs(5)),
            extra_interfaces: None,
        }
    }
}

/// Hooks run on state changes, each as an argv (no shell unless asked).
///
/// The daemon passes `VRRP_INSTANCE` (or `VRRP_GROUP`), `VRRP_STATE`,
/// `VRRP_PREVIOUS_STATE` and `VRRP_PRIORITY` in the environment; `any`
/// also gets keepalived's four trailing arguments:
/// `INSTANCE|GROUP <name> <MASTER|BACKUP|FAULT|STOP> <priority>`.
///
/// Each hook is boxed: most instances have none, and five unboxed empty
/// slots took 400 bytes of every instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Notify {
    /// On becoming Active (keepalived `notify_master`).
    pub active: Option<Box<Hook>>,
    /// On becoming Backup (keepalived `notify_backup`).
    pub backup: Option<Box<Hook>>,
    /// On entering Fault (keepalived `notify_fault`).
    pub fault: Option<Box<Hook>>,
    /// When the instance stops (keepalived `notify_stop`).
    pub stop: Option<Box<Hook>>,
    /// On every transition, after the specific hook (keepalived `notify`).
    pub any: Option<Box<Hook>>,
    /// When the Active router hears a lower priority (keepalived
    /// `notify_master_rx_lower_pri`): at most once per tenth of the
    /// advert interval; `any` does not run for it.
    pub master_rx_lower_pri: Option<Box<Hook>>,
    /// When a reload removes the instance (keepalived `notify_deleted
    /// SCRIPT`); `any` runs after it with `DELETED`.
    pub deleted: Option<Box<Hook>>,
    /// A reload that removes the instance reports `DELETED` (keepalived
    /// `notify_deleted`); without it, `FAULT` (keepalived's default), and
    /// nothing if it was in Fault. Always on when `deleted` is set.
    pub report_deleted: bool,
}

impl Notify {
    /// Whether no hook is set.
    pub fn is_empty(&self) -> bool {
        self.deleted.is_none()
            && self.active.is_none()
            && self.backup.is_none()
            && self.fault.is_none()
            && self.stop.is_none()
            && self.any.is_none()
            && self.master_rx_lower_pri.is_none()
    }

    /// Whether a hook runs as a user of its own.
    pub fn run_as_someone(&self) -> bool {
        [
            &self.active,
            &self.backup,
            &self.fault,
            &self.stop,
            &self.any,
            &self.master_rx_lower_pri,
            &self.deleted,
        ]
        .into_iter()
        .flatten()
        .any(|h| h.run_as.is_some())
    }
}

/// One VRRP instance: a virtual router on one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Unique name (keepalived `vrrp_instance NAME`).
    pub name: String,
    /// The interface adverts are sent and received on.
    pub interface: String,
    /// Virtual router id; (interface, vrid, family) is unique unless the
    /// instances use disjoint unicast peers.
    pub vrid: Vrid,
    /// Protocol version; IPv6 instances are always [`Version::V3`].
    pub version: Version,
    /// Configured priority.
    pub priority: Priority,
    /// Advertisement interval: whole seconds 1..=255 s for v2; a multiple of
    /// 10 ms in 10 ms..=40.95 s for v3.
    pub advert_interval: Duration,
    /// Whether a higher-priority Backup preempts a lower-priority Active.
    /// Default `true`.
    pub preempt: bool,
    /// Wait this long before preempting, 0..=1000 s. Default 0.
    pub preempt_delay: Duration,
    /// Accept packets addressed to the VIPs when not the owner.
    /// Default `true`, like keepalived.
    pub accept: bool,
    /// Start-up state hint.
    pub initial_state: InitialState,
    /// Addresses advertised and installed, all of the same family, which is
    /// the instance's family: at least one, except for VRRPv2 (keepalived
    /// runs such an instance, advertising none).
    pub vips: Vec<VirtualAddress>,
    /// Addresses installed with the VIPs but not advertised (any family).
    pub excluded_vips: Vec<VirtualAddress>,
    /// Routes installed with the VIPs and removed with them
    /// (keepalived's `virtual_routes`).
    pub virtual_routes: Vec<super::routing::Route>,
    /// Policy rules installed with the VIPs and removed with them
    /// (keepalived's `virtual_rules`).
    pub virtual_rules: Vec<super::routing::Rule>,
    /// Source address for adverts (keepalived `unicast_src_ip` /
    /// `mcast_src_ip`); the interface's primary address when `None`.
    pub source_address: Option<IpAddr>,
    /// Put the instance in Fault while `source_address` is not on its
    /// interface (keepalived `track_src_ip`). Needs `source_address`.
    pub track_source_address: bool,
    /// Unicast peers, same family as the VIPs; empty means multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// Drop unicast adverts whose source is not a configured peer.
    pub check_unicast_source: bool,
    /// TTL (IPv6: hop limit) of unicast adverts, 0..=255 (keepalived's
    /// `unicast_ttl`); 255 when `None`. Unicast adverts are accepted
    /// whatever their TTL, as keepalived accepts them.
    pub unicast_ttl: Option<u8>,
    /// Where multicast adverts go instead of 224.0.0.18 or ff02::12
    /// (keepalived's `mcast_dst_ip`, `vrrp_mcast_group4`,
    /// `vrrp_mcast_group6`); the interface joins it.
    pub multicast_group: Option<IpAddr>,
    /// A Backup skips the address-list check of adverts from the Active
    /// router it already accepted (keepalived's `skip_check_adv_addr`).
    pub skip_check_adv_addr: bool,
    /// An Active router does not answer a lower-priority advert with one
    /// of its own (keepalived's `lower_prio_no_advert`; off by default:
    /// it answers at once, as keepalived does).
    pub lower_prio_no_advert: bool,
    /// An Active router sends an advert before yielding to a higher
    /// priority (keepalived's `higher_prio_send_advert`).
    pub higher_prio_send_advert: bool,
    /// Write each change of the effective priority to the notify FIFOs
    /// (keepalived's `notify_priority_changes`, also from the sync group
    /// or `vrrp_notify_priority_changes`).
    pub notify_priority_changes: bool,
    /// Advert intervals in Master_Down_Interval, 1..=100 (keepalived's
    /// `down_timer_adverts`); 3, the RFC's, when `None`.
    pub down_timer_adverts: Option<u8>,
    /// VRRPv2 simple-text password (RFC 2338 auth type 1), 1..=8 bytes.
    /// Always `None` for v3.
    pub auth_password: Option<String>,
    /// Virtual MAC, when enabled.
    pub vmac: Option<Vmac>,
    /// Gratuitous ARP / NA policy.
    pub announce: Announce,
    /// Trackers adjusting priority or forcing Fault.
    pub tracking: Tracking,
    /// Ignore the instance interface's own link state
    /// (keepalived `dont_track_primary`).
    pub dont_track_primary: bool,
    /// Set `promote_secondaries` on the interface while vrrpd runs, so
    /// that removing the first address of a subnet keeps the others
    /// (keepalived `promote_secondaries`).
    pub promote_secondaries: bool,
    /// Stay in Fault when no unicast peer is configured, instead of
    /// advertising by multicast (keepalived `unicast_fault_no_peer`).
    pub unicast_fault_no_peer: bool,
    /// The pseudo-header destination of unicast VRRPv3/IPv4 checksums
    /// (keepalived `old_unicast_checksum`): by default the peer, switching
    /// to keepalived ≤ 1.3.6's multicast group when a peer uses it.
    pub unicast_checksum: UnicastChecksum,
    /// State-change hooks.
    pub notify: Notify,
}

impl Instance {
    /// The name of its macvlan (keepalived `use_vmac`), if it has one:
    /// the configured name, or keepalived's `vrrp.{VRID}` (`vrrp6.{VRID}`
    /// for IPv6, so that a dual-stack VRID can have both on one parent).
    pub fn vmac_name(&self) -> Option<String> {
        let v = self.vmac.as_ref()?;
        Some(v.name.clone().unwrap_or_else(|| match self.family() {
            AddressFamily::Ipv4 => format!("vrrp.{}", self.vrid),
            AddressFamily::Ipv6 => format!("vrrp6.{}", self.vrid),
        }))
    }

    /// The address family, taken from the VIPs.
    pub fn family(&self) -> AddressFamily {
        self.vips
            .first()
            .map_or(AddressFamily::Ipv4, VirtualAddress::family)
    }

    /// Whether adverts go to unicast peers rather than multicast.
    pub fn is_unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }

    /// The addresses its adverts carry: the first
    /// [`MAX_ADVERTISED_VIPS`] of `vips`. The rest are installed without
    /// being advertised, as keepalived moves them to the excluded list.
    pub fn advertised_vips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.vips
            .iter()
            .take(MAX_ADVERTISED_VIPS)
            .map(|v| v.address)
    }

    /// The interfaces its tracked `virtual_routes` (`dev`) and
    /// `virtual_rules` (`iif`, `oif`) use, that its tracking does not
    /// name already: keepalived tracks each with weight 0, so the instance
    /// is in Fault while one is down.
    pub fn routing_links(&self) -> Vec<String> {
        let routes = self
            .virtual_routes
            .iter()
            .filter(|r| r.track)
            .filter_map(|r| r.device.as_ref());
        let rules = self
            .virtual_rules
            .iter()
            .filter(|r| r.track)
            .flat_map(|r| [r.spec.iif.as_ref(), r.spec.oif.as_ref()])
            .flatten();
        let mut out: Vec<String> = Vec::new();
        for name in routes.chain(rules) {
            let named = self
                .tracking
                .interfaces
                .iter()
                .any(|t| &t.interface == name);
            if !named && !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }
}

/// The most addresses one advertisement carries (its Count IPvX Addr is
/// one byte, RFC 9568 §5.2.5).
pub const MAX_ADVERTISED_VIPS: usize = 255;

/// Instances that change state together (keepalived `vrrp_sync_group`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroup {
    /// Unique name.
    pub name: String,
    /// Member instance names: each exists and is in no other group.
    pub instances: Vec<String>,
    /// Trackers that act on every member.
    pub tracking: Tracking,
    /// Allow weighted trackers on members and on the group
    /// (keepalived `sync_group_tracking_weight`). Default `false`.
    pub tracking_weight: bool,
    /// Group hooks; `any` gets `GROUP <name> <state> <priority>`.
    pub notify: Notify,
}

/// Whether `ip` can be a VRRP multicast group, as keepalived takes one: any
/// IPv4 multicast address, or an IPv6 link-local multicast one (ff02::/16).
pub(crate) fn is_vrrp_group(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
    }
}
