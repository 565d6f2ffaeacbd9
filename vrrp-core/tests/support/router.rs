//! Helpers for driving one `VirtualRouter` by hand in tests.

#![allow(dead_code, missing_docs)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use vrrp_core::router::{Config, Output, State, Transmit, VirtualRouter};
use vrrp_core::wire::{
    AddressList, Advertisement, Auth, ChecksumMode, MULTICAST_V4, MULTICAST_V6, Received,
    VersionFields,
};
use vrrp_core::{AdverIntSeconds, Centiseconds, MaxAdverInt, Priority, Version, Vrid};

pub(crate) const VRID: u8 = 51;
pub(crate) const LOCAL_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);
pub(crate) const LOWER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 5);
pub(crate) const HIGHER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 20);
pub(crate) const VIP_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
pub(crate) const LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x10);
pub(crate) const PEER_V6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x20);
pub(crate) const VIP_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x100);

pub(crate) fn vrid() -> Vrid {
    Vrid::new(VRID).unwrap()
}

/// A VRRPv3/IPv4 config at `priority`, 100 cs (1 s) interval.
pub(crate) fn v3_config(priority: u8) -> Config {
    let mut c = Config::new(vrid(), LOCAL_V4.into(), vec![VIP_V4.into()]);
    c.priority = Priority::new(priority);
    c
}

/// A VRRPv2 config at `priority`, 1 s interval, with `auth`.
pub(crate) fn v2_config(priority: u8, auth: Auth) -> Config {
    let mut c = v3_config(priority);
    c.version = Version::V2;
    c.auth = auth;
    c
}

/// A VRRPv3/IPv6 config at `priority`.
pub(crate) fn v6_config(priority: u8) -> Config {
    let mut c = Config::new(vrid(), LOCAL_V6.into(), vec![VIP_V6.into()]);
    c.priority = Priority::new(priority);
    c
}

/// A started router with its start-up outputs drained.
pub(crate) fn started(config: Config, now: Instant) -> VirtualRouter {
    let mut r = VirtualRouter::new(config).unwrap();
    r.startup(now);
    drain(&mut r);
    r
}

pub(crate) fn drain(r: &mut VirtualRouter) -> Vec<Output> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

pub(crate) fn transmits(outputs: &[Output]) -> Vec<&Transmit> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::SendAdvertisement(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// An advertisement from a peer, as plain data.
pub(crate) struct Peer {
    pub(crate) src: IpAddr,
    pub(crate) priority: u8,
    pub(crate) version: Version,
    pub(crate) interval: Centiseconds,
    pub(crate) auth: Auth,
    pub(crate) addresses: Vec<IpAddr>,
    pub(crate) vrid: u8,
    pub(crate) ttl: u8,
}

impl Peer {
    pub(crate) fn v3(src: impl Into<IpAddr>, priority: u8) -> Peer {
        let src = src.into();
        let vip: IpAddr = match src {
            IpAddr::V4(_) => VIP_V4.into(),
            IpAddr::V6(_) => VIP_V6.into(),
        };
        Peer {
            src,
            priority,
            version: Version::V3,
            interval: Centiseconds::new(100),
            auth: Auth::None,
            addresses: vec![vip],
            vrid: VRID,
            ttl: 255,
        }
    }

    pub(crate) fn v2(src: Ipv4Addr, priority: u8, auth: Auth) -> Peer {
        Peer {
            version: Version::V2,
            auth,
            ..Peer::v3(src, priority)
        }
    }

    pub(crate) fn interval(mut self, cs: u32) -> Peer {
        self.interval = Centiseconds::new(cs);
        self
    }

    pub(crate) fn addresses(mut self, addresses: Vec<IpAddr>) -> Peer {
        self.addresses = addresses;
        self
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let version_fields = match self.version {
            Version::V2 => VersionFields::V2 {
                adver_int: AdverIntSeconds::new((self.interval.get() / 100) as u8).unwrap(),
                auth: self.auth,
            },
            Version::V3 => VersionFields::V3 {
                max_adver_int: MaxAdverInt::from_centiseconds(self.interval).unwrap(),
            },
        };
        let addresses = match self.src {
            IpAddr::V4(_) => AddressList::V4(
                self.addresses
                    .iter()
                    .map(|a| match a {
                        IpAddr::V4(a) => *a,
                        IpAddr::V6(_) => panic!("mixed families"),
                    })
                    .collect(),
            ),
            IpAddr::V6(_) => AddressList::V6(
                self.addresses
                    .iter()
                    .map(|a| match a {
                        IpAddr::V6(a) => *a,
                        IpAddr::V4(_) => panic!("mixed families"),
                    })
                    .collect(),
            ),
        };
        Advertisement {
            vrid: Vrid::new(self.vrid).unwrap(),
            priority: Priority::new(self.priority),
            version_fields,
            addresses,
        }
        .to_bytes(self.src, self.dst(), ChecksumMode::default())
        .unwrap()
    }

    pub(crate) fn dst(&self) -> IpAddr {
        match self.src {
            IpAddr::V4(_) => MULTICAST_V4.into(),
            IpAddr::V6(_) => MULTICAST_V6.into(),
        }
    }

    /// Feeds this advertisement to `r` at `now`.
    pub(crate) fn send(
        &self,
        r: &mut VirtualRouter,
        now: Instant,
    ) -> Result<(), vrrp_core::router::Discard> {
        let bytes = self.bytes();
        let rx = received(self.src, self.dst(), self.ttl, &bytes);
        r.handle_advertisement(now, &rx)
    }
}

pub(crate) fn received(src: IpAddr, dst: IpAddr, ttl: u8, payload: &[u8]) -> Received<'_> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Received::from_ipv4_payload(s, d, ttl, payload),
        (IpAddr::V6(s), IpAddr::V6(d)) => Received::from_ipv6_payload(s, d, ttl, payload),
        _ => panic!("mixed families"),
    }
}

/// Runs `r`'s timers until `until`, returning every output with its time.
pub(crate) fn run_until(r: &mut VirtualRouter, until: Instant) -> Vec<(Instant, Output)> {
    let mut out = Vec::new();
    while let Some(t) = r.poll_timeout() {
        if t > until {
            break;
        }
        r.handle_timeout(t);
        out.extend(drain(r).into_iter().map(|o| (t, o)));
    }
    out
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) fn assert_state(r: &VirtualRouter, s: State) {
    assert_eq!(r.state(), s, "router state");
}
