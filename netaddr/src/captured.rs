//! Byte-level tests against kernel replies captured once from a real kernel
//! (Linux 6.18, in a throwaway network namespace), stored as hex in
//! `testdata/captured/*.hex`.
//!
//! How they were captured: `capture_kernel_replies` below (ignored by
//! default) builds a namespace with a veth pair, sends each request with
//! this crate's own socket and prints every datagram the kernel sent back,
//! in hex, one file's worth per scenario:
//!
//! ```text
//! cargo test -p vrrp-netaddr --lib capture_kernel_replies -- --ignored --nocapture
//! ```
//!
//! The request bytes the error replies refer to (for extended-ack offsets)
//! are captured alongside as `*.request.hex`.

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.bytes())
        .filter(u8::is_ascii_hexdigit)
        .collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

use std::collections::VecDeque;

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, Parseable};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;

use crate::ack::{parse_done, parse_error};
use crate::address::{AddressInfo, AddressSpec};
use crate::events::{Event, EventDecoder};
use crate::handle::links_from;
use crate::socket::{NLMSG_DONE, NLMSG_ERROR, Reply, encode, frames};
use crate::{AddressFlags, Family, IfIndex, Label, Link, MacAddr, MacvlanMode, OperState, Scope};

/// The datagrams of a capture file, split at its `# datagram` lines.
fn datagrams(text: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("# datagram") {
            out.push(String::new());
        } else if let Some(cur) = out.last_mut() {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    out.iter().map(|d| unhex(d)).collect()
}

macro_rules! capture {
    ($name:literal) => {
        include_str!(concat!("../testdata/captured/", $name, ".hex"))
    };
}

/// The kernel's error (or `None` for an ACK) in a one-datagram capture.
fn error_reply(reply: &str, request: &str) -> Option<crate::KernelError> {
    let d = &datagrams(reply)[0];
    let f = frames(d).next().unwrap().unwrap();
    assert_eq!(f.msg_type, NLMSG_ERROR);
    parse_error(f.flags, f.payload, &unhex(request)).unwrap()
}

/// The non-control messages of a request's reply datagrams.
fn replies(text: &str) -> Vec<Reply> {
    let mut out = Vec::new();
    for d in datagrams(text) {
        for f in frames(&d) {
            let f = f.unwrap();
            if f.msg_type == NLMSG_DONE {
                assert_eq!(parse_done(f.flags, f.payload, &[]).unwrap(), None);
            } else if f.msg_type != NLMSG_ERROR {
                out.push(Reply {
                    msg_type: f.msg_type,
                    payload: f.payload.to_vec(),
                });
            }
        }
    }
    out
}

fn veth0() -> Link {
    links_from(&replies(capture!("get_link_veth0")))
        .unwrap()
        .remove(0)
}

fn idx(i: u32) -> IfIndex {
    IfIndex::new(i).unwrap()
}

#[test]
fn add_request_bytes_are_stable() {
    let spec = AddressSpec::new(idx(3), "198.18.0.5/24".parse().unwrap())
        .with_label(Label::new("veth0:1").unwrap())
        .with_broadcast("198.18.0.255".parse().unwrap());
    let bytes = encode(
        RouteNetlinkMessage::NewAddress(spec.to_message()),
        NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | netlink_packet_core::NLM_F_REQUEST,
        1,
    );
    assert_eq!(bytes, unhex(capture!("add_v4_ack.request")));
}

/// The attributes iproute2 sends for `ip addr add 198.18.0.5/24 dev veth0
/// label veth0:1` (captured with `strace -xx -e trace=sendmsg`; ifindex 3):
/// IFA_LOCAL, IFA_LABEL, IFA_ADDRESS. Ours carry the same set.
#[test]
fn add_request_matches_iproute2() {
    let iproute2 = unhex(
        "02 18 00 00 03 00 00 00 08 00 02 00 c6 12 00 05
         0c 00 03 00 76 65 74 68 30 3a 31 00 08 00 01 00 c6 12 00 05",
    );
    let theirs = AddressMessage::parse(&iproute2).unwrap();
    let spec = AddressSpec::new(idx(3), "198.18.0.5/24".parse().unwrap())
        .with_label(Label::new("veth0:1").unwrap());
    let ours = spec.to_message();
    assert_eq!(ours.header, theirs.header);
    let sorted = |m: &AddressMessage| {
        let mut v: Vec<String> = m.attributes.iter().map(|a| format!("{a:?}")).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&ours), sorted(&theirs));
}

#[test]
fn ack_is_success() {
    assert_eq!(
        error_reply(capture!("add_v4_ack"), capture!("add_v4_ack.request")),
        None
    );
    assert_eq!(
        error_reply(capture!("add_v6_ack"), capture!("add_v6_ack.request")),
        None
    );
    assert_eq!(
        error_reply(
            capture!("create_macvlan_ack"),
            capture!("create_macvlan_ack.request")
        ),
        None
    );
}

#[test]
fn eexist_keeps_errno_and_kernel_message() {
    let e = error_reply(capture!("add_v4_eexist"), capture!("add_v4_eexist.request")).unwrap();
    assert_eq!(e.errno, libc::EEXIST);
    assert_eq!(e.message.as_deref(), Some("ipv4: Address already assigned"));
}

#[test]
fn long_label_error_names_the_label_and_its_limit() {
    let e = error_reply(
        capture!("add_v4_long_label"),
        capture!("add_v4_long_label.request"),
    )
    .unwrap();
    assert_eq!(e.errno, libc::ERANGE);
    assert_eq!(
        e.message.as_deref(),
        Some("Attribute failed policy validation")
    );
    assert_eq!(e.attribute.as_deref(), Some("IFA_LABEL (label)"));
    assert_eq!(e.policy.as_deref(), Some("max length 15"));
    let text = e.to_string();
    assert!(text.starts_with("Numerical result out of range"), "{text}");
    assert!(
        text.contains("IFA_LABEL (label)") && text.contains("max length 15"),
        "{text}"
    );
}

#[test]
fn absent_delete_is_eaddrnotavail() {
    let e = error_reply(capture!("del_v4_absent"), capture!("del_v4_absent.request")).unwrap();
    assert_eq!(e.errno, libc::EADDRNOTAVAIL);
    assert_eq!(e.message.as_deref(), Some("ipv4: Address not found"));
}

#[test]
fn missing_parent_is_enodev() {
    let e = error_reply(
        capture!("create_macvlan_bad_parent"),
        capture!("create_macvlan_bad_parent.request"),
    )
    .unwrap();
    assert_eq!(e, crate::KernelError::from_errno(libc::ENODEV));
}

#[test]
fn address_dump_decodes() {
    let infos: Vec<AddressInfo> = replies(capture!("dump_addresses_veth0"))
        .iter()
        .map(|r| {
            AddressInfo::from_message(&AddressMessage::parse(&r.payload).unwrap())
                .unwrap()
                .unwrap()
        })
        .collect();
    assert_eq!(infos.len(), 3);
    let v4 = &infos[0];
    assert_eq!((v4.ifindex, v4.family), (idx(3), Family::Ipv4));
    assert_eq!(v4.prefix.to_string(), "198.18.0.5/24");
    assert_eq!(v4.label.as_ref().map(Label::as_str), Some("veth0:1"));
    assert_eq!(v4.broadcast, Some("198.18.0.255".parse().unwrap()));
    assert_eq!(v4.scope, Scope::Global);
    assert_eq!(v4.flags, AddressFlags::PERMANENT);
    assert_eq!(v4.peer, None);
    assert_eq!(
        v4.created,
        Some(std::time::Duration::from_millis(1_295_200))
    );
    let v6 = &infos[1];
    assert_eq!(v6.prefix.to_string(), "fd00:198:18::5/64");
    assert_eq!(v6.flags, AddressFlags::NODAD | AddressFlags::PERMANENT);
    assert_eq!(v6.label, None);
    let ll = &infos[2];
    assert_eq!(ll.prefix.to_string(), "fe80::d0c8:e5ff:fefc:e717/64");
    assert_eq!(ll.scope, Scope::Link);
    assert!(ll.flags.contains(AddressFlags::TENTATIVE));
}

#[test]
fn link_reply_decodes() {
    let l = veth0();
    assert_eq!((l.index, l.name.as_str()), (idx(3), "veth0"));
    assert_eq!(l.kind.as_deref(), Some("veth"));
    assert_eq!(l.mtu, Some(1500));
    assert_eq!(l.oper_state, OperState::Up);
    assert!(l.is_up());
    assert_eq!(l.parent, Some(idx(2)));
    assert_eq!(l.macvlan_mode, None);
    assert!(l.mac.is_some());
}

#[test]
fn macvlan_reply_decodes() {
    let l = links_from(&replies(capture!("get_link_macvlan")))
        .unwrap()
        .remove(0);
    assert_eq!(l.name, "vrrp.7");
    assert_eq!(l.kind.as_deref(), Some("macvlan"));
    assert_eq!(l.macvlan_mode, Some(MacvlanMode::Private));
    assert_eq!(l.mac, Some("00:00:5e:00:01:07".parse::<MacAddr>().unwrap()));
    assert_eq!(l.parent, Some(idx(3)));
    assert!(!l.is_up(), "created down");
}

fn decode_all(decoder: &mut EventDecoder, text: &str) -> Vec<Event> {
    let mut out = VecDeque::new();
    for d in datagrams(text) {
        assert!(!decoder.decode(&d, &mut out).unwrap());
    }
    out.into()
}

#[test]
fn address_notifications_decode_with_names() {
    let mut decoder = EventDecoder::default();
    decoder.reset(vec![veth0()]);
    let added = decode_all(&mut decoder, capture!("event_add_v4"));
    let [Event::AddressAdded { ifname, address }] = added.as_slice() else {
        panic!("{added:?}")
    };
    assert_eq!(ifname.as_deref(), Some("veth0"));
    assert_eq!(address.prefix.to_string(), "198.18.0.5/24");
    let removed = decode_all(&mut decoder, capture!("event_del_v4"));
    let [Event::AddressRemoved { address, .. }] = removed.as_slice() else {
        panic!("{removed:?}")
    };
    assert_eq!(address.prefix.to_string(), "198.18.0.5/24");
    let v6 = decode_all(&mut decoder, capture!("event_add_v6"));
    assert!(
        matches!(&v6[..], [Event::AddressAdded { address, .. }] if address.family == Family::Ipv6)
    );
}

#[test]
fn peer_down_and_up_are_transitions() {
    let mut decoder = EventDecoder::default();
    decoder.reset(vec![veth0()]);
    let down = decode_all(&mut decoder, capture!("event_peer_down"));
    let summary: Vec<String> = down.iter().map(summarize).collect();
    assert_eq!(
        summary,
        [
            "link_down veth1 DOWN",
            "address_removed veth1 fe80::3c78:71ff:fe3d:f1df/64",
            "link_down veth0 LOWERLAYERDOWN"
        ]
    );
    let up = decode_all(&mut decoder, capture!("event_peer_up"));
    let summary: Vec<String> = up.iter().map(summarize).collect();
    // veth1 comes up administratively first while still without carrier
    // (not a transition: still unusable), then both become usable.
    assert_eq!(
        summary,
        [
            "link_changed veth1 LOWERLAYERDOWN",
            "link_up veth1 UP",
            "link_up veth0 UP"
        ]
    );
}

#[test]
fn bridge_port_messages_are_not_link_removals() {
    let text = capture!("event_bridge_port");
    let families: Vec<u8> = datagrams(text)
        .iter()
        .flat_map(|d| frames(d).map(|f| f.unwrap().payload[0]).collect::<Vec<_>>())
        .collect();
    assert_eq!(families, [libc::AF_UNSPEC as u8, libc::AF_BRIDGE as u8]);
    let mut decoder = EventDecoder::default();
    let events = decode_all(&mut decoder, text);
    let summary: Vec<String> = events.iter().map(summarize).collect();
    // Only the AF_UNSPEC message (the new bridge) becomes an event; the
    // AF_BRIDGE one announces veth1 as a port, not a new or removed link.
    assert_eq!(summary, ["link_down br0 DOWN"]);
}

#[test]
fn macvlan_creation_is_seen() {
    let mut decoder = EventDecoder::default();
    decoder.reset(vec![veth0()]);
    let events = decode_all(&mut decoder, capture!("event_macvlan_created"));
    let summary: Vec<String> = events.iter().map(summarize).collect();
    // The parent changes (it gained an upper device); the macvlan appears down.
    assert_eq!(summary, ["link_changed veth0 UP", "link_down vrrp.7 DOWN"]);
    let Event::LinkDown(vmac) = &events[1] else {
        unreachable!()
    };
    assert_eq!(vmac.kind.as_deref(), Some("macvlan"));
    assert_eq!(vmac.parent, Some(idx(3)));
}

fn summarize(e: &Event) -> String {
    match e {
        Event::LinkUp(l) => format!("link_up {} {}", l.name, l.oper_state),
        Event::LinkDown(l) => format!("link_down {} {}", l.name, l.oper_state),
        Event::LinkChanged(l) => format!("link_changed {} {}", l.name, l.oper_state),
        Event::LinkRemoved(l) => format!("link_removed {}", l.name),
        Event::AddressAdded { ifname, address } => format!(
            "address_added {} {}",
            ifname.as_deref().unwrap_or("?"),
            address.prefix
        ),
        Event::AddressRemoved { ifname, address } => format!(
            "address_removed {} {}",
            ifname.as_deref().unwrap_or("?"),
            address.prefix
        ),
        Event::RouteRemoved(r) => format!("route_removed {r}"),
        Event::RuleRemoved(r) => format!("rule_removed {r}"),
        Event::Resync => "resync".to_string(),
    }
}

/// Every truncation and every single-byte corruption of every captured
/// datagram decodes to events or a typed error, never a panic.
#[test]
fn damaged_captures_never_panic() {
    let all = [
        capture!("dump_addresses_veth0"),
        capture!("get_link_veth0"),
        capture!("get_link_macvlan"),
        capture!("event_add_v4"),
        capture!("event_add_v6"),
        capture!("event_del_v4"),
        capture!("event_peer_down"),
        capture!("event_bridge_port"),
        capture!("add_v4_long_label"),
        capture!("add_v4_eexist"),
    ];
    let request = unhex(capture!("add_v4_long_label.request"));
    let mut inputs = Vec::new();
    for text in all {
        for d in datagrams(text) {
            for cut in 0..d.len() {
                inputs.push(d[..cut].to_vec());
            }
            for i in 0..d.len() {
                for v in [0x00, 0xff, d[i] ^ 0x80] {
                    let mut bad = d.clone();
                    bad[i] = v;
                    inputs.push(bad);
                }
            }
        }
    }
    for input in &inputs {
        let mut decoder = EventDecoder::default();
        let _ = decoder.decode(input, &mut VecDeque::new());
        for f in frames(input).map_while(|f| f.ok()) {
            let _ = parse_error(f.flags, f.payload, &request);
            let _ = parse_done(f.flags, f.payload, &request);
            if let Ok(m) = AddressMessage::parse(f.payload) {
                let _ = AddressInfo::from_message(&m);
            }
            if let Ok(m) = LinkMessage::parse(f.payload) {
                let _ = Link::from_message(&m);
            }
        }
    }
}

mod capture {
    use std::process::Command;

    use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
    use netlink_packet_route::RouteNetlinkMessage;
    use netlink_packet_route::address::AddressAttribute;
    use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};

    use crate::address::{AddressSpec, dump_message};
    use crate::label::Label;
    use crate::link::IfIndex;
    use crate::macvlan::{MacvlanSpec, create_message};
    use crate::prefix::Family;
    use crate::socket::{Datagram, RtSocket};

    fn hex(bytes: &[u8]) -> String {
        bytes
            .chunks(16)
            .map(|c| {
                c.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn show(name: &str, request: &[u8], datagrams: &[Vec<u8>]) {
        println!("=== {name}.request.hex\n{}", hex(request));
        println!("=== {name}.hex");
        for d in datagrams {
            println!("# datagram, {} bytes\n{}", d.len(), hex(d));
        }
    }

    fn drain(events: &mut RtSocket, name: &str) {
        std::thread::sleep(std::time::Duration::from_millis(200));
        println!("=== {name}.hex");
        while let Ok(Datagram::Data(len)) = events.recv(true) {
            let d = events.datagram(len).to_vec();
            println!("# datagram, {} bytes\n{}", d.len(), hex(&d));
        }
    }

    #[test]
    #[ignore = "captures fixtures from the running kernel; run by hand"]
    fn capture_kernel_replies() {
        if !vrrp_testns::netns_available("capture_kernel_replies") {
            return;
        }
        let ns = vrrp_testns::Netns::new("cap");
        ns.ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ]);
        ns.ip(&["link", "set", "veth0", "up"]);
        ns.ip(&["link", "set", "veth1", "up"]);
        let name = ns.name().to_string();
        ns.run_in(move || {
            let ip = |args: &[&str]| {
                let ok = Command::new("ip")
                    .arg("-n")
                    .arg(&name)
                    .args(args)
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "ip {args:?}");
            };
            let mut sock = RtSocket::open_request().unwrap();
            let mut events = RtSocket::open_multicast(&[1, 5, 9]).unwrap();
            let veth0 = crate::Handle::new()
                .unwrap()
                .link_by_name("veth0")
                .unwrap()
                .index;
            let v4 = AddressSpec::new(veth0, "198.18.0.5/24".parse().unwrap())
                .with_label(Label::new("veth0:1").unwrap())
                .with_broadcast("198.18.0.255".parse().unwrap());
            let excl = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

            let (req, reply) =
                sock.transact_raw(RouteNetlinkMessage::NewAddress(v4.to_message()), excl);
            show("add_v4_ack", &req, &reply);
            drain(&mut events, "event_add_v4");
            let (req, reply) =
                sock.transact_raw(RouteNetlinkMessage::NewAddress(v4.to_message()), excl);
            show("add_v4_eexist", &req, &reply);

            let mut long = AddressSpec::new(veth0, "198.18.0.6/24".parse().unwrap()).to_message();
            long.attributes
                .push(AddressAttribute::Label("veth0:0123456789".into()));
            let (req, reply) = sock.transact_raw(RouteNetlinkMessage::NewAddress(long), excl);
            show("add_v4_long_label", &req, &reply);

            let absent = crate::address::delete_message(veth0, "198.18.0.9/24".parse().unwrap());
            let (req, reply) =
                sock.transact_raw(RouteNetlinkMessage::DelAddress(absent), NLM_F_ACK);
            show("del_v4_absent", &req, &reply);

            let v6 = AddressSpec::new(veth0, "fd00:198:18::5/64".parse().unwrap())
                .with_flags(crate::AddressFlags::NODAD);
            let (req, reply) =
                sock.transact_raw(RouteNetlinkMessage::NewAddress(v6.to_message()), excl);
            show("add_v6_ack", &req, &reply);
            drain(&mut events, "event_add_v6");

            let (req, reply) = sock.transact_raw(
                RouteNetlinkMessage::GetAddress(dump_message(Some(veth0))),
                NLM_F_DUMP,
            );
            show("dump_addresses_veth0", &req, &reply);

            let mut get = LinkMessage::default();
            get.attributes.push(LinkAttribute::IfName("veth0".into()));
            get.attributes
                .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
            let (req, reply) = sock.transact_raw(RouteNetlinkMessage::GetLink(get), NLM_F_ACK);
            show("get_link_veth0", &req, &reply);

            let vrid = std::num::NonZeroU8::new(7).unwrap();
            let spec = MacvlanSpec::vrrp(vrid, Family::Ipv4, veth0);
            let (req, reply) =
                sock.transact_raw(RouteNetlinkMessage::NewLink(create_message(&spec)), excl);
            show("create_macvlan_ack", &req, &reply);
            let mut get = LinkMessage::default();
            get.attributes.push(LinkAttribute::IfName("vrrp.7".into()));
            get.attributes
                .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
            let (req, reply) = sock.transact_raw(RouteNetlinkMessage::GetLink(get), NLM_F_ACK);
            show("get_link_macvlan", &req, &reply);
            let bad_parent = MacvlanSpec::vrrp(vrid, Family::Ipv4, IfIndex::new(999).unwrap())
                .with_name("vrrp.8")
                .unwrap();
            let (req, reply) = sock.transact_raw(
                RouteNetlinkMessage::NewLink(create_message(&bad_parent)),
                excl,
            );
            show("create_macvlan_bad_parent", &req, &reply);
            drain(&mut events, "event_macvlan_created");

            ip(&["link", "set", "veth1", "down"]);
            drain(&mut events, "event_peer_down");
            ip(&["link", "set", "veth1", "up"]);
            drain(&mut events, "event_peer_up");
            ip(&["addr", "del", "198.18.0.5/24", "dev", "veth0"]);
            drain(&mut events, "event_del_v4");
            ip(&["link", "add", "br0", "type", "bridge"]);
            ip(&["link", "set", "veth1", "master", "br0"]);
            drain(&mut events, "event_bridge_port");
        });
    }
}
