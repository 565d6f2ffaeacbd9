//! `VrrpSocket` (IPv4) in network namespaces: hosts on a bridge (198.18.0.0/24)
//! exchange advertisements through real raw sockets.

mod net_support;

use std::net::{IpAddr, Ipv4Addr};

use net_support::{ARRIVAL, Capture, advert, assert_nothing_queued, ifindex, recv_within};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp_core::wire::{AddressFamily, AddressList, MULTICAST_V4, WireError};
use vrrp_testns::{Lan, netns_available};
use vrrpd::net::{RecvMeta, VrrpSocket};

const A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const C: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);
const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);

fn vips() -> AddressList {
    AddressList::V4(vec![VIP])
}

fn recv(s: &VrrpSocket, buf: &mut [u8]) -> std::io::Result<RecvMeta> {
    s.recv(buf)
}

/// A bridge with hosts A, B and C, each with one address on eth0.
fn lan(tag: &str) -> Lan {
    let mut lan = Lan::new(tag);
    lan.add_host("a", &["198.18.0.1/24"]);
    lan.add_host("b", &["198.18.0.2/24"]);
    lan.add_host("c", &["198.18.0.3/24"]);
    lan
}

fn open(lan: &Lan, host: usize, join: bool) -> VrrpSocket {
    lan.hosts[host].run_in(move || {
        let s = VrrpSocket::open(AddressFamily::Ipv4, "eth0").unwrap();
        if join {
            s.join_group().unwrap();
        }
        s
    })
}

#[test]
fn multicast_advert_arrives_with_ttl_255_source_group_and_ifindex() {
    if !netns_available("multicast_advert_arrives_with_ttl_255_source_group_and_ifindex") {
        return;
    }
    let lan = lan("n4m");
    let a = open(&lan, 0, true);
    let b = open(&lan, 1, true);
    let bytes = advert(vips(), A.into(), MULTICAST_V4.into());
    let capture = Capture::start(&lan.switch, &lan.port(1), "ip proto 112", 1);

    let sent_at = std::time::SystemTime::now();
    a.send_to(&bytes, MULTICAST_V4.into(), A.into()).unwrap();

    let (meta, buf) = recv_within(&b, ARRIVAL, recv).expect("B receives A's advertisement");
    // The kernel's receive stamp (SO_TIMESTAMPNS) lies between the send
    // and the read.
    let stamp = meta
        .arrival
        .expect("received datagrams carry SCM_TIMESTAMPNS");
    let read_at = std::time::SystemTime::now();
    assert!(
        sent_at <= stamp && stamp <= read_at,
        "stamp {stamp:?} outside {sent_at:?}..={read_at:?}"
    );
    assert_eq!(meta.src, IpAddr::from(A));
    assert_eq!(meta.dst, IpAddr::from(MULTICAST_V4));
    assert_eq!(meta.ttl, 255);
    assert_eq!(meta.ifindex, ifindex(&lan.hosts[1], "eth0"));
    assert_eq!(meta.ifindex, b.ifindex());
    // The buffer holds the whole IPv4 packet; the codec takes it from there.
    let rx = meta.received(&buf).unwrap();
    assert_eq!(rx.payload(), &bytes[..]);
    assert_eq!(rx.ttl_or_hop_limit(), 255);
    let ok = rx.validate().unwrap();
    assert_eq!(ok.packet.vrid().get(), 51);

    let wire = capture.finish();
    assert!(wire.contains("ttl 255"), "tcpdump shows TTL 255: {wire}");
    assert!(wire.contains("tos 0xc0"), "tcpdump shows CS6: {wire}");
    assert!(
        wire.contains("198.18.0.1 > 224.0.0.18"),
        "tcpdump shows source and group: {wire}"
    );

    // Multicast loopback is off: A does not hear itself.
    assert!(!a.socket().multicast_loop_v4().unwrap());
    assert_nothing_queued(&a, "A's own advertisement", recv);
}

#[test]
fn unicast_reaches_a_peer_that_did_not_join() {
    if !netns_available("unicast_reaches_a_peer_that_did_not_join") {
        return;
    }
    let lan = lan("n4u");
    let a = open(&lan, 0, false);
    let b = open(&lan, 1, false);
    let bytes = advert(vips(), A.into(), B.into());
    let capture = Capture::start(&lan.switch, &lan.port(1), "ip proto 112", 1);

    a.send_to(&bytes, B.into(), A.into()).unwrap();

    let (meta, buf) = recv_within(&b, ARRIVAL, recv).expect("B receives the unicast advertisement");
    assert_eq!((meta.src, meta.dst, meta.ttl), (A.into(), B.into(), 255));
    meta.received(&buf).unwrap().validate().unwrap();
    let wire = capture.finish();
    assert!(wire.contains("ttl 255"), "unicast TTL is 255 too: {wire}");
}

#[test]
fn explicit_source_wins_over_a_secondary_address() {
    if !netns_available("explicit_source_wins_over_a_secondary_address") {
        return;
    }
    let lan = lan("n4s");
    // The VIP is installed on A's interface, as on an Active router.
    lan.hosts[0].ip(&["addr", "add", "198.18.0.100/24", "dev", "eth0"]);
    let a = open(&lan, 0, true);
    let b = open(&lan, 1, true);
    for src in [A, VIP] {
        let bytes = advert(vips(), src.into(), MULTICAST_V4.into());
        a.send_to(&bytes, MULTICAST_V4.into(), src.into()).unwrap();
        let (meta, buf) = recv_within(&b, ARRIVAL, recv).expect("B receives");
        assert_eq!(meta.src, IpAddr::from(src));
        meta.received(&buf).unwrap().validate().unwrap();
    }
    // An address that is not ours is refused by the kernel.
    let err = a
        .send_to(&[0; 8], MULTICAST_V4.into(), C.into())
        .unwrap_err();
    assert!(
        err.to_string().contains("eth0"),
        "error names the interface: {err}"
    );
}

#[test]
fn forwarded_packet_reports_its_ttl_so_the_engine_can_discard_it() {
    if !netns_available("forwarded_packet_reports_its_ttl_so_the_engine_can_discard_it") {
        return;
    }
    let lan = lan("n4t");
    let b = open(&lan, 1, true);
    let bytes = advert(vips(), C.into(), MULTICAST_V4.into());
    // Host C uses a plain raw socket with TTL 254, as if a router had
    // forwarded the advertisement.
    let sent = bytes.clone();
    lan.hosts[2].run_in(move || {
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
        s.bind_device(Some(b"eth0")).unwrap();
        s.set_multicast_if_v4(&C).unwrap();
        s.set_multicast_ttl_v4(254).unwrap();
        s.send_to(
            &sent,
            &SockAddr::from(std::net::SocketAddrV4::new(MULTICAST_V4, 0)),
        )
        .unwrap();
    });
    let (meta, buf) = recv_within(&b, ARRIVAL, recv).expect("B receives C's packet");
    assert_eq!((meta.src, meta.ttl), (IpAddr::from(C), 254));
    let rx = meta.received(&buf).unwrap();
    assert_eq!(rx.validate().unwrap_err(), WireError::BadTtl(254));
}

#[test]
fn socket_sees_only_groups_it_joined_and_only_its_interface() {
    if !netns_available("socket_sees_only_groups_it_joined_and_only_its_interface") {
        return;
    }
    let lan = lan("n4i");
    // B gets a second link, eth1, to a host D outside the bridge.
    let d = vrrp_testns::Netns::new("n4d");
    lan.hosts[1].veth_to("eth1", &d, "eth0");
    lan.hosts[1].ip(&["addr", "add", "198.19.0.2/24", "dev", "eth1"]);
    d.ip(&["addr", "add", "198.19.0.4/24", "dev", "eth0"]);

    let a = open(&lan, 0, true);
    let b_joined = open(&lan, 1, true);
    let b_not_joined = open(&lan, 1, false);
    let b_eth1 = lan.hosts[1].run_in(|| {
        let s = VrrpSocket::open(AddressFamily::Ipv4, "eth1").unwrap();
        s.join_group().unwrap();
        s
    });
    let d_sock = d.run_in(|| {
        let s = VrrpSocket::open(AddressFamily::Ipv4, "eth0").unwrap();
        s.join_group().unwrap();
        s
    });

    // From the bridge: the joined eth0 socket hears it, the others do not.
    a.send_to(
        &advert(vips(), A.into(), MULTICAST_V4.into()),
        MULTICAST_V4.into(),
        A.into(),
    )
    .unwrap();
    let (meta, _) = recv_within(&b_joined, ARRIVAL, recv).expect("joined socket receives");
    assert_eq!(meta.src, IpAddr::from(A));
    assert_nothing_queued(&b_not_joined, "a socket that did not join", recv);
    assert_nothing_queued(&b_eth1, "the eth1 socket, for traffic on eth0", recv);

    // From D's link: only the eth1 socket hears it.
    let d_addr = Ipv4Addr::new(198, 19, 0, 4);
    d_sock
        .send_to(
            &advert(vips(), d_addr.into(), MULTICAST_V4.into()),
            MULTICAST_V4.into(),
            d_addr.into(),
        )
        .unwrap();
    let (meta, _) = recv_within(&b_eth1, ARRIVAL, recv).expect("eth1 socket receives");
    assert_eq!(meta.src, IpAddr::from(d_addr));
    assert_eq!(meta.ifindex, ifindex(&lan.hosts[1], "eth1"));
    assert_nothing_queued(&b_joined, "the eth0 socket, for traffic on eth1", recv);
}

#[test]
fn family_neutral_socket_round_trip_and_errors() {
    if !netns_available("family_neutral_socket_round_trip_and_errors") {
        return;
    }
    let lan = lan("n4e");
    let a = open(&lan, 0, true);
    let b = open(&lan, 1, true);
    assert_eq!(b.interface(), "eth0");
    assert_eq!(b.family(), AddressFamily::Ipv4);
    let bytes = advert(vips(), A.into(), MULTICAST_V4.into());
    a.send_to(&bytes, MULTICAST_V4.into(), A.into()).unwrap();
    let (meta, buf) = recv_within(&b, ARRIVAL, recv).expect("B receives");
    assert_eq!(meta.src, IpAddr::V4(A));
    assert_eq!(meta.received(&buf).unwrap().payload(), &bytes[..]);

    let v6: IpAddr = "fd00:198:18::1".parse().unwrap();
    let err = a.send_to(&bytes, v6, v6).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);

    let err = lan.hosts[0]
        .run_in(|| VrrpSocket::open(AddressFamily::Ipv4, "nosuch0").map(drop))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains("nosuch0"), "{err}");
}
