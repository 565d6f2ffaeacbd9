//! The configuration of one virtual router ([`Config`]) and why one can be
//! refused ([`ConfigError`]).

use core::time::Duration;
use std::net::IpAddr;

use crate::wire::{AddressFamily, Auth, ChecksumMode};
use crate::{Centiseconds, Priority, Version, Vrid};

/// The state a router is asked to start in: keepalived's `state MASTER` or
/// `state BACKUP`.
///
/// RFC 9568 §6.4.1 decides the start-up state by priority alone, and so do
/// we: only the address owner (priority 255) becomes Active at once; every
/// other router starts as Backup and waits Master_Down_Interval, whatever the
/// hint says. The hint is kept so that a driver can log the difference and a
/// keepalived configuration loads unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum InitialState {
    /// keepalived's `state BACKUP`, the default.
    #[default]
    Backup,
    /// keepalived's `state MASTER`.
    Active,
}

/// The configuration of one virtual router: one VRID on one interface for
/// one address family.
///
/// Build it with [`Config::new`] and the `with_*` methods (or set the
/// public fields); [`VirtualRouter::new`](super::VirtualRouter::new)
/// checks it. New fields may come with defaults, so it cannot be built as
/// a literal outside this crate.
///
/// ```
/// use std::time::Duration;
/// use vrrp_core::router::Config;
/// use vrrp_core::{Centiseconds, Priority, Vrid};
///
/// let config = Config::new(
///     Vrid::new(51).unwrap(),
///     "198.18.0.1".parse().unwrap(),
///     vec!["198.18.0.100".parse().unwrap()],
/// )
/// .with_priority(Priority::new(200))
/// .with_advert_interval(Centiseconds::new(10))
/// .with_preempt_delay(Duration::from_secs(30));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The Virtual Router Identifier (RFC 9568 §5.2.3).
    pub vrid: Vrid,
    /// VRRPv2 (RFC 3768) or VRRPv3 (RFC 9568).
    pub version: Version,
    /// The configured priority (RFC 9568 §6.1): 255 for the address owner,
    /// 1..=254 otherwise. Trackers change the effective priority with
    /// [`VirtualRouter::set_priority`](super::VirtualRouter::set_priority).
    pub priority: Priority,
    /// Advertisement_Interval (RFC 9568 §6.1): 1..=4095 cs for VRRPv3, whole
    /// seconds 1..=255 for VRRPv2 (RFC 3768 §5.3.7).
    pub advert_interval: Centiseconds,
    /// Preempt_Mode (RFC 9568 §6.1): whether a higher-priority Backup takes
    /// over from a lower-priority Active. Default true.
    pub preempt: bool,
    /// keepalived's `preempt_delay`: after entering Backup, a router does not
    /// preempt a lower-priority Active until this much time has passed.
    /// Default zero.
    pub preempt_delay: Duration,
    /// Accept_Mode (RFC 9568 §6.1): whether a non-owner Active accepts
    /// packets addressed to the virtual addresses. The state machine only
    /// carries it; the driver acts on it. Default false.
    pub accept_mode: bool,
    /// The start-up hint; see [`InitialState`].
    pub initial_state: InitialState,
    /// This router's primary address on the interface: the source of its
    /// advertisements and the tie-breaker between equal priorities (RFC 9568
    /// §6.4.3). For IPv6 it is the interface's link-local address.
    pub primary_address: IpAddr,
    /// IPv4: the prefix length of `primary_address` on the interface, when
    /// known. Adverts from that subnet's broadcast address are then
    /// discarded ([`Discard::BogusSource`](super::Discard::BogusSource)).
    /// Default `None`.
    pub primary_prefix_len: Option<u8>,
    /// The virtual addresses carried in advertisements, all of the family of
    /// `primary_address`; at least one, at most 255.
    pub addresses: Vec<IpAddr>,
    /// VRRPv2 authentication (RFC 3768 §5.3.6, RFC 2338 simple text). Must be
    /// [`Auth::None`] for VRRPv3.
    pub auth: Auth,
    /// Unicast mode (keepalived's `unicast_peer`): when not empty,
    /// advertisements go to each peer instead of the multicast group, and
    /// advertisements from any other source are discarded.
    pub unicast_peers: Vec<IpAddr>,
    /// How a VRRPv3-over-IPv4 checksum is sent (RFC 9568 §5.2.8). Both
    /// forms are always accepted.
    pub checksum_mode: ChecksumMode,
    /// The pseudo-header destination of unicast VRRPv3-over-IPv4
    /// checksums (keepalived's `old_unicast_checksum`). Default
    /// [`UnicastChecksum::Standard`].
    pub unicast_checksum: UnicastChecksum,
    /// Where multicast advertisements go (keepalived's `mcast_dst_ip`,
    /// `vrrp_mcast_group4`, `vrrp_mcast_group6`): a multicast address of
    /// the router's family. Default `None`: the RFC's group, 224.0.0.18 or
    /// ff02::12 (RFC 9568 §5.1.1.2, §5.1.2.2).
    pub multicast_group: Option<IpAddr>,
    /// keepalived's `skip_check_adv_addr`: a Backup checks the address
    /// list of an advertisement only when it comes from another source
    /// than the Active router it last accepted. Default false: every one
    /// is checked.
    pub skip_address_check: bool,
    /// An Active router that hears a lower-priority advertisement answers
    /// with one of its own at once (keepalived's default; its
    /// `lower_prio_no_advert` turns it off), so that a router that took
    /// over during a partition steps down within a round trip instead of
    /// an advertisement interval. Answers are coalesced as those to
    /// priority 0 are. Default false: RFC 9568 §6.4.3 discards it.
    pub answer_lower_priority: bool,
    /// An Active router that yields to a higher-priority advertisement
    /// sends one of its own first (keepalived's `higher_prio_send_advert`).
    /// Default false.
    pub advertise_before_yielding: bool,
    /// How many advertisement intervals a Backup waits before Skew_Time
    /// in Master_Down_Interval (keepalived's `down_timer_adverts`), 1..=100.
    /// Default 3, the RFC's (RFC 9568 §6.1).
    pub down_timer_adverts: u8,
}

/// Which destination address a unicast VRRPv3-over-IPv4 checksum sums in
/// its pseudo-header (keepalived's `old_unicast_checksum`). keepalived up to
/// 1.3.6 summed the multicast group
/// ([`multicast_group`](Config::multicast_group), by default 224.0.0.18)
/// instead of the peer. Multicast adverts, VRRPv2 and IPv6 are not
/// concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UnicastChecksum {
    /// The peer, as RFC 9568 §5.2.8 says; adverts summed with the group
    /// are discarded as a bad checksum (`old_unicast_checksum never`).
    #[default]
    Standard,
    /// The peer, until an advert arrives that matches only with the
    /// group: from then on the group, for sending too, reported once as
    /// [`Output::LegacyChecksumAdopted`](super::Output::LegacyChecksumAdopted)
    /// (keepalived's default).
    DetectLegacy,
    /// The group, from the start (`old_unicast_checksum`). Adverts of
    /// either form are accepted.
    Legacy,
}

impl Config {
    /// A VRRPv3 router with the RFC 9568 §6.1 defaults: priority 100,
    /// interval 1 s, preempt on, no preempt delay, accept mode off.
    /// `version` is VRRPv3; change the field (and `advert_interval`) for
    /// VRRPv2.
    pub fn new(vrid: Vrid, primary_address: IpAddr, addresses: Vec<IpAddr>) -> Self {
        Config {
            vrid,
            version: Version::V3,
            priority: Priority::DEFAULT,
            advert_interval: Centiseconds::new(100),
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept_mode: false,
            initial_state: InitialState::Backup,
            primary_address,
            primary_prefix_len: None,
            addresses,
            auth: Auth::None,
            unicast_peers: Vec::new(),
            checksum_mode: ChecksumMode::default(),
            unicast_checksum: UnicastChecksum::Standard,
            multicast_group: None,
            skip_address_check: false,
            answer_lower_priority: false,
            advertise_before_yielding: false,
            down_timer_adverts: 3,
        }
    }

    /// With `version` (RFC 3768 or RFC 9568).
    #[must_use]
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// With the configured `priority`.
    #[must_use]
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// With Advertisement_Interval `interval`.
    #[must_use]
    pub fn with_advert_interval(mut self, interval: Centiseconds) -> Self {
        self.advert_interval = interval;
        self
    }

    /// With Preempt_Mode on or off.
    #[must_use]
    pub fn with_preempt(mut self, preempt: bool) -> Self {
        self.preempt = preempt;
        self
    }

    /// With keepalived's `preempt_delay`.
    #[must_use]
    pub fn with_preempt_delay(mut self, delay: Duration) -> Self {
        self.preempt_delay = delay;
        self
    }

    /// With Accept_Mode on or off.
    #[must_use]
    pub fn with_accept_mode(mut self, accept: bool) -> Self {
        self.accept_mode = accept;
        self
    }

    /// With the start-up hint `state`.
    #[must_use]
    pub fn with_initial_state(mut self, state: InitialState) -> Self {
        self.initial_state = state;
        self
    }

    /// With the prefix length of the primary address on the interface
    /// (IPv4), so that its subnet's broadcast address is never a peer.
    #[must_use]
    pub fn with_primary_prefix_len(mut self, len: u8) -> Self {
        self.primary_prefix_len = Some(len);
        self
    }

    /// With VRRPv2 authentication `auth`.
    #[must_use]
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// With unicast `peers` instead of the multicast group.
    #[must_use]
    pub fn with_unicast_peers(mut self, peers: Vec<IpAddr>) -> Self {
        self.unicast_peers = peers;
        self
    }

    /// With the VRRPv3-over-IPv4 checksum form `mode` for sending.
    #[must_use]
    pub fn with_checksum_mode(mut self, mode: ChecksumMode) -> Self {
        self.checksum_mode = mode;
        self
    }

    /// With the unicast VRRPv3-over-IPv4 checksum form `form`.
    #[must_use]
    pub fn with_unicast_checksum(mut self, form: UnicastChecksum) -> Self {
        self.unicast_checksum = form;
        self
    }

    /// With multicast advertisements sent to `group` instead of the RFC's
    /// (see [`multicast_group`](Self::multicast_group)).
    #[must_use]
    pub fn with_multicast_group(mut self, group: IpAddr) -> Self {
        self.multicast_group = Some(group);
        self
    }

    /// With lower-priority advertisements answered at once (see
    /// [`answer_lower_priority`](Self::answer_lower_priority)).
    #[must_use]
    pub fn with_answer_lower_priority(mut self, answer: bool) -> Self {
        self.answer_lower_priority = answer;
        self
    }

    /// With an advertisement sent before yielding to a higher priority
    /// (see [`advertise_before_yielding`](Self::advertise_before_yielding)).
    #[must_use]
    pub fn with_advertise_before_yielding(mut self, advertise: bool) -> Self {
        self.advertise_before_yielding = advertise;
        self
    }

    /// With Master_Down_Interval counting `adverts` intervals (see
    /// [`down_timer_adverts`](Self::down_timer_adverts)).
    #[must_use]
    pub fn with_down_timer_adverts(mut self, adverts: u8) -> Self {
        self.down_timer_adverts = adverts;
        self
    }

    /// With the address-list check skipped for the known Active router
    /// (see [`skip_address_check`](Self::skip_address_check)).
    #[must_use]
    pub fn with_skip_address_check(mut self, skip: bool) -> Self {
        self.skip_address_check = skip;
        self
    }

    /// The address family, that of `primary_address`.
    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(self.primary_address)
    }

    /// Checks every rule [`ConfigError`] names.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let family = self.family();
        if self.priority.is_shutdown() {
            return Err(ConfigError::ShutdownPriority);
        }
        if self.version == Version::V2 && family == AddressFamily::Ipv6 {
            return Err(ConfigError::V2OverIpv6);
        }
        let cs = self.advert_interval.get();
        match self.version {
            Version::V3 if !(1..=4095).contains(&cs) => {
                return Err(ConfigError::IntervalOutOfRange {
                    version: self.version,
                    interval: self.advert_interval,
                });
            }
            Version::V2 if cs % 100 != 0 || !(1..=255).contains(&(cs / 100)) => {
                return Err(ConfigError::IntervalOutOfRange {
                    version: self.version,
                    interval: self.advert_interval,
                });
            }
            _ => {}
        }
        // RFC 9568 §5.2.5 requires at least one address; RFC 3768 does not,
        // and keepalived runs a VRRPv2 router without any (count 0), whose
        // notify script moves a floating address instead.
        if self.addresses.is_empty() && self.version == Version::V3 {
            return Err(ConfigError::NoAddresses);
        }
        if !(1..=100).contains(&self.down_timer_adverts) {
            return Err(ConfigError::DownTimerAdverts(self.down_timer_adverts));
        }
        if let Some(group) = self.multicast_group {
            if !group.is_multicast() || AddressFamily::of(group) != family {
                return Err(ConfigError::BadMulticastGroup(group));
            }
        }
        if self.addresses.len() > 255 {
            return Err(ConfigError::TooManyAddresses(self.addresses.len()));
        }
        let other_family = |a: &IpAddr| AddressFamily::of(*a) != family;
        if let Some(a) = self.addresses.iter().find(|a| other_family(a)) {
            return Err(ConfigError::FamilyMismatch(*a));
        }
        if let Some(a) = self.unicast_peers.iter().find(|a| other_family(a)) {
            return Err(ConfigError::FamilyMismatch(*a));
        }
        if self.version == Version::V3 && self.auth != Auth::None {
            return Err(ConfigError::AuthWithV3);
        }
        Ok(())
    }
}

/// Why a [`Config`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `down_timer_adverts` is outside 1..=100.
    #[error("down_timer_adverts {0} is outside 1..=100")]
    DownTimerAdverts(u8),
    /// The multicast group is not a multicast address of the router's
    /// family.
    #[error("{0} is not a multicast group of the router's address family")]
    BadMulticastGroup(IpAddr),
    /// Priority 0 is reserved for the shutdown advertisement (RFC 9568 §5.2.4).
    #[error("priority 0 is reserved for shutdown; use 1..=255")]
    ShutdownPriority,
    /// VRRPv2 is defined for IPv4 only (RFC 3768).
    #[error("VRRPv2 is IPv4 only; use version 3 for IPv6")]
    V2OverIpv6,
    /// The interval is outside the version's range.
    #[error(
        "advertisement interval {interval} is out of range for {version} (VRRPv3: 10ms..=40.95s; VRRPv2: whole seconds 1..=255)"
    )]
    IntervalOutOfRange {
        /// The version configured.
        version: Version,
        /// The interval configured.
        interval: Centiseconds,
    },
    /// A VRRPv3 router needs at least one address (RFC 9568 §5.2.5).
    #[error("no virtual addresses: VRRPv3 needs at least one")]
    NoAddresses,
    /// More than 255 addresses do not fit the one-byte count.
    #[error("{0} virtual addresses: at most 255 fit in an advertisement")]
    TooManyAddresses(usize),
    /// An address or peer is not of the primary address's family.
    #[error("{0} is not of the primary address's family")]
    FamilyMismatch(IpAddr),
    /// VRRPv3 has no authentication (RFC 9568 §9).
    #[error("VRRPv3 has no authentication; remove it or use version 2")]
    AuthWithV3,
}
