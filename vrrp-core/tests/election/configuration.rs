//! Configuration checks and modes: intervals per version, the initial
//! state hint, accept mode and unicast peers.

use std::net::IpAddr;
use std::time::Instant;

use crate::password;
use crate::support::*;
use vrrp_core::router::{Config, ConfigError, Discard, InitialState, Output, State, VirtualRouter};
use vrrp_core::wire::Auth;
use vrrp_core::{Centiseconds, Version};

#[test]
fn config_intervals_are_checked_against_the_version() {
    let mut c = v2_config(100, Auth::None);
    c.advert_interval = Centiseconds::new(150);
    assert!(matches!(
        VirtualRouter::new(c),
        Err(ConfigError::IntervalOutOfRange { .. })
    ));
    let mut c = v3_config(100);
    c.advert_interval = Centiseconds::new(4096);
    assert!(matches!(
        VirtualRouter::new(c),
        Err(ConfigError::IntervalOutOfRange { .. })
    ));
    let mut c = v3_config(100);
    c.advert_interval = Centiseconds::ZERO;
    assert!(VirtualRouter::new(c).is_err());
    assert!(matches!(
        VirtualRouter::new(v3_config(0)),
        Err(ConfigError::ShutdownPriority)
    ));
    let mut c = v6_config(100);
    c.version = Version::V2;
    assert_eq!(VirtualRouter::new(c).err(), Some(ConfigError::V2OverIpv6));
    let mut c = v3_config(100);
    c.addresses.push(VIP_V6.into());
    assert!(matches!(
        VirtualRouter::new(c),
        Err(ConfigError::FamilyMismatch(_))
    ));
    let mut c = v3_config(100);
    c.auth = password("x");
    assert_eq!(VirtualRouter::new(c).err(), Some(ConfigError::AuthWithV3));
    let c = Config::new(vrid(), LOCAL_V4.into(), vec![]);
    assert_eq!(VirtualRouter::new(c).err(), Some(ConfigError::NoAddresses));
}

/// RFC 3768 sets no minimum address count, and keepalived runs a VRRPv2
/// router without addresses (a notify script moves a floating IP): it
/// advertises a count of 0, and a peer like it accepts those adverts.
#[test]
fn v2_router_without_addresses_advertises_count_zero_and_is_heard() {
    let t0 = Instant::now();
    let mut c = v2_config(200, Auth::None);
    c.addresses.clear();
    let mut active = VirtualRouter::new(c.clone()).unwrap();
    active.startup(t0);
    drain(&mut active);
    let out = run_until(&mut active, t0 + ms(4000));
    let outputs: Vec<Output> = out.into_iter().map(|(_, o)| o).collect();
    let sent = transmits(&outputs);
    let first = sent.first().expect("an advertisement");
    assert_eq!(first.payload[3], 0, "Count IP Addrs");
    assert_state(&active, State::Active);
    let mut backup_config = c;
    backup_config.priority = vrrp_core::Priority::new(100);
    backup_config.primary_address = LOWER_V4.into();
    let mut backup = started(backup_config, t0);
    let rx = received(first.src, first.dst, 255, &first.payload);
    assert_eq!(backup.handle_advertisement(t0 + ms(3000), &rx), Ok(()));
    assert_state(&backup, State::Backup);
}

#[test]
fn initial_state_hint_active_does_not_skip_the_election() {
    let t0 = Instant::now();
    let mut c = v3_config(100);
    c.initial_state = InitialState::Active;
    let mut r = VirtualRouter::new(c).unwrap();
    r.startup(t0);
    drain(&mut r);
    assert_state(&r, State::Backup);
    assert_eq!(r.poll_timeout(), Some(t0 + r.master_down_interval()));
}

#[test]
fn accept_mode_is_carried_for_the_driver() {
    let mut c = v3_config(100);
    c.accept_mode = true;
    assert!(VirtualRouter::new(c).unwrap().config().accept_mode);
}

#[test]
fn unicast_mode_sends_to_each_peer_and_ignores_others() {
    let t0 = Instant::now();
    let p1: IpAddr = "198.18.0.21".parse().unwrap();
    let p2: IpAddr = "198.18.0.22".parse().unwrap();
    let mut c = v3_config(255);
    c.unicast_peers = vec![p1, p2];
    let mut r = VirtualRouter::new(c).unwrap();
    r.startup(t0);
    let outs = drain(&mut r);
    let dsts: Vec<_> = transmits(&outs).iter().map(|t| t.dst).collect();
    assert_eq!(dsts, vec![p1, p2]);
    for t in transmits(&outs) {
        assert!(received(t.src, t.dst, 255, &t.payload).validate().is_ok());
    }
    let stranger = Peer::v3(HIGHER_V4, 254);
    assert_eq!(
        stranger.send(&mut r, t0),
        Err(Discard::NotAPeer(HIGHER_V4.into()))
    );
}

#[test]
fn config_multicast_group_is_where_adverts_go() {
    // keepalived's mcast_dst_ip / vrrp_mcast_group4: the group must be
    // multicast and of the router's family.
    let t0 = Instant::now();
    let group: IpAddr = "224.0.0.50".parse().unwrap();
    let c = v3_config(255).with_multicast_group(group);
    let mut r = VirtualRouter::new(c).unwrap();
    r.startup(t0);
    let outputs = drain(&mut r);
    let sent = transmits(&outputs);
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|t| t.dst == group), "{sent:?}");
    for bad in ["198.18.0.9", "ff02::12"] {
        let c = v3_config(100).with_multicast_group(bad.parse().unwrap());
        assert!(matches!(
            VirtualRouter::new(c),
            Err(ConfigError::BadMulticastGroup(_))
        ));
    }
}
