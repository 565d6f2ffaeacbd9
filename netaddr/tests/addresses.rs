//! Adding, listing, replacing and deleting addresses in throwaway network
//! namespaces, checked against `ip -j addr show`.

mod common;

use common::{ip_addr, ip_addrs, ip_json, pair};
use vrrp_netaddr::{
    AddOutcome, AddressFlags, AddressSpec, DeleteOutcome, Error, Family, Handle, IfIndex, IpPrefix,
    Label, LabelError, Scope,
};

fn prefix(s: &str) -> IpPrefix {
    s.parse().unwrap()
}

#[test]
fn link_lookup_matches_ip_link() {
    if !vrrp_testns::netns_available("link_lookup_matches_ip_link") {
        return;
    }
    let p = pair("lnk");
    let ip = ip_json(&p.ns, &["link", "show", "dev", "veth0"]);
    let link = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let by_name = h.link_by_name("veth0").unwrap();
        assert_eq!(h.link_by_index(by_name.index).unwrap(), by_name);
        assert!(h.links().unwrap().iter().any(|l| l.name == "lo"));
        assert!(
            matches!(h.link_by_name("nosuch0"), Err(Error::NoSuchInterface(n)) if n == "nosuch0")
        );
        assert!(matches!(
            h.link_by_index(IfIndex::new(9999).unwrap()),
            Err(Error::NoSuchInterface(_))
        ));
        assert!(matches!(
            h.link_by_name("a-name-too-long-for-linux"),
            Err(Error::InvalidInterfaceName { .. })
        ));
        by_name
    });
    assert_eq!(
        u64::from(link.index.get()),
        ip[0]["ifindex"].as_u64().unwrap()
    );
    assert_eq!(
        link.mac.unwrap().to_string(),
        ip[0]["address"].as_str().unwrap()
    );
    assert_eq!(u64::from(link.mtu.unwrap()), ip[0]["mtu"].as_u64().unwrap());
    assert_eq!(
        link.oper_state.to_string(),
        ip[0]["operstate"].as_str().unwrap()
    );
    assert_eq!(link.kind.as_deref(), Some("veth"));
    assert!(link.is_up());
}

#[test]
fn add_list_delete_ipv4_with_label() {
    if !vrrp_testns::netns_available("add_list_delete_ipv4_with_label") {
        return;
    }
    let p = pair("v4");
    let (listed, outcomes) = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = AddressSpec::new(veth0, prefix("198.18.0.5/24"))
            .with_label(Label::new("veth0:1").unwrap())
            .with_broadcast(prefix("198.18.0.5/24").broadcast().unwrap());
        let first = h.add_address(&spec).unwrap();
        let second = h.add_address(&spec).unwrap();
        let listed = h.address(veth0, spec.prefix).unwrap().unwrap();
        (listed, [first, second])
    });
    assert_eq!(outcomes, [AddOutcome::Added, AddOutcome::AlreadyPresent]);
    let ip = ip_addr(&p.ns, "veth0", "198.18.0.5", 24).expect("ip lists the address");
    assert_eq!(ip["label"], "veth0:1");
    assert_eq!(ip["broadcast"], "198.18.0.255");
    assert_eq!(ip["scope"], "global");
    assert_eq!(listed.label.as_ref().map(Label::as_str), Some("veth0:1"));
    assert_eq!(listed.broadcast, Some("198.18.0.255".parse().unwrap()));
    assert_eq!(listed.scope, Scope::Global);
    assert_eq!(listed.family, Family::Ipv4);
    assert!(listed.created.is_some());
    // ifconfig-style alias: `ip addr show label veth0:1` finds it.
    let by_label = ip_json(&p.ns, &["addr", "show", "label", "veth0:1"]);
    assert_eq!(by_label[0]["addr_info"][0]["local"], "198.18.0.5");

    let deletes = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        [
            h.delete_address(veth0, prefix("198.18.0.5/24")).unwrap(),
            h.delete_address(veth0, prefix("198.18.0.5/24")).unwrap(),
        ]
    });
    assert_eq!(deletes, [DeleteOutcome::Removed, DeleteOutcome::NotPresent]);
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_none());
}

#[test]
fn add_list_delete_ipv6_nodad_noprefixroute() {
    if !vrrp_testns::netns_available("add_list_delete_ipv6_nodad_noprefixroute") {
        return;
    }
    let p = pair("v6");
    let listed = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = AddressSpec::new(veth0, prefix("fd00:198:18::5/64"))
            .with_flags(AddressFlags::NODAD | AddressFlags::NOPREFIXROUTE);
        assert_eq!(h.add_address(&spec).unwrap(), AddOutcome::Added);
        assert_eq!(h.add_address(&spec).unwrap(), AddOutcome::AlreadyPresent);
        h.address(veth0, spec.prefix).unwrap().unwrap()
    });
    let ip = ip_addr(&p.ns, "veth0", "fd00:198:18::5", 64).expect("ip lists the address");
    assert_eq!(ip["nodad"], true);
    assert_eq!(ip["noprefixroute"], true);
    assert!(
        listed
            .flags
            .contains(AddressFlags::NODAD | AddressFlags::NOPREFIXROUTE)
    );
    assert!(
        !listed.flags.contains(AddressFlags::TENTATIVE),
        "nodad: usable at once"
    );
    assert_eq!(listed.family, Family::Ipv6);
    // noprefixroute: no route for the /64 was installed.
    let routes = p.ns.ip(&["-6", "route", "show", "fd00:198:18::/64"]);
    assert!(routes.trim().is_empty(), "{routes}");

    let deletes = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        // Same address, other prefix length: not the same address.
        let wrong_len = h
            .delete_address(veth0, prefix("fd00:198:18::5/128"))
            .unwrap();
        let right = h
            .delete_address(veth0, prefix("fd00:198:18::5/64"))
            .unwrap();
        let again = h
            .delete_address(veth0, prefix("fd00:198:18::5/64"))
            .unwrap();
        [wrong_len, right, again]
    });
    assert_eq!(
        deletes,
        [
            DeleteOutcome::NotPresent,
            DeleteOutcome::Removed,
            DeleteOutcome::NotPresent
        ]
    );
    assert!(ip_addr(&p.ns, "veth0", "fd00:198:18::5", 64).is_none());
}

#[test]
fn existing_address_is_reported_and_left_unchanged() {
    if !vrrp_testns::netns_available("existing_address_is_reported_and_left_unchanged") {
        return;
    }
    let p = pair("eex");
    p.ns.ip(&[
        "addr",
        "add",
        "198.18.0.7/24",
        "dev",
        "veth0",
        "label",
        "veth0:7",
    ]);
    let outcome = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = AddressSpec::new(veth0, prefix("198.18.0.7/24"))
            .with_label(Label::new("veth0:1").unwrap());
        h.add_address(&spec).unwrap()
    });
    assert_eq!(outcome, AddOutcome::AlreadyPresent);
    assert_eq!(
        ip_addr(&p.ns, "veth0", "198.18.0.7", 24).unwrap()["label"],
        "veth0:7"
    );
}

#[test]
fn absent_and_mismatched_deletes_change_nothing() {
    if !vrrp_testns::netns_available("absent_and_mismatched_deletes_change_nothing") {
        return;
    }
    let p = pair("enoent");
    p.ns.ip(&["addr", "add", "198.18.0.5/24", "dev", "veth0"]);
    let before = ip_addrs(&p.ns, "veth0");
    let outcomes = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        [
            h.delete_address(veth0, prefix("198.18.0.9/24")).unwrap(),
            h.delete_address(veth0, prefix("198.18.0.5/25")).unwrap(),
            h.delete_address(veth0, prefix("fd00:198:18::9/64"))
                .unwrap(),
        ]
    });
    assert_eq!(outcomes, [DeleteOutcome::NotPresent; 3]);
    assert_eq!(ip_addrs(&p.ns, "veth0"), before);
}

#[test]
fn replace_creates_and_updates_ipv6_flags() {
    if !vrrp_testns::netns_available("replace_creates_and_updates_ipv6_flags") {
        return;
    }
    let p = pair("repl");
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec =
            AddressSpec::new(veth0, prefix("fd00:198:18::5/64")).with_flags(AddressFlags::NODAD);
        // Absent: replace creates it.
        h.replace_address(&spec).unwrap();
        h.replace_address(&spec.with_flags(AddressFlags::NOPREFIXROUTE))
            .unwrap();
    });
    let ip = ip_addr(&p.ns, "veth0", "fd00:198:18::5", 64).unwrap();
    assert_eq!(ip["noprefixroute"], true);
}

#[test]
fn replace_keeps_an_ipv4_label() {
    if !vrrp_testns::netns_available("replace_keeps_an_ipv4_label") {
        return;
    }
    // The kernel's IPv4 replace updates lifetimes and metric only; a new
    // label needs delete and add. This pins that behaviour down.
    let p = pair("replv4");
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = AddressSpec::new(veth0, prefix("198.18.0.5/24"));
        h.replace_address(&spec.clone().with_label(Label::new("veth0:1").unwrap()))
            .unwrap();
        h.replace_address(&spec.with_label(Label::new("veth0:2").unwrap()))
            .unwrap();
    });
    let v4: Vec<_> = ip_addrs(&p.ns, "veth0")
        .into_iter()
        .filter(|a| a["family"] == "inet")
        .collect();
    assert_eq!(v4.len(), 1, "{v4:?}");
    assert_eq!(v4[0]["label"], "veth0:1");
}

#[test]
fn second_address_of_a_subnet_is_secondary() {
    if !vrrp_testns::netns_available("second_address_of_a_subnet_is_secondary") {
        return;
    }
    let p = pair("sec");
    let listed = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        for a in ["198.18.0.1/24", "198.18.0.5/24"] {
            h.add_address(&AddressSpec::new(veth0, prefix(a))).unwrap();
        }
        h.addresses(Some(veth0)).unwrap()
    });
    for a in listed.iter().filter(|a| a.family == Family::Ipv4) {
        let local = a.prefix.addr().to_string();
        let ip = ip_addr(&p.ns, "veth0", &local, 24).unwrap();
        let ip_secondary = ip["secondary"].as_bool().unwrap_or(false);
        assert_eq!(
            a.flags.contains(AddressFlags::SECONDARY),
            ip_secondary,
            "{local}"
        );
    }
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).unwrap()["secondary"] == true);
}

#[test]
fn listing_is_filtered_by_interface_like_ip() {
    if !vrrp_testns::netns_available("listing_is_filtered_by_interface_like_ip") {
        return;
    }
    let p = pair("dump");
    p.ns.ip(&["addr", "add", "198.18.0.5/24", "dev", "veth0"]);
    p.ns.ip(&["addr", "add", "198.18.1.1/32", "dev", "lo"]);
    let (veth0_only, all, veth0) = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        (
            h.addresses(Some(veth0)).unwrap(),
            h.addresses(None).unwrap(),
            veth0,
        )
    });
    assert!(veth0_only.iter().all(|a| a.ifindex == veth0));
    let ours: Vec<String> = veth0_only.iter().map(|a| a.prefix.to_string()).collect();
    let mut theirs: Vec<String> = ip_addrs(&p.ns, "veth0")
        .iter()
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect();
    let mut ours_sorted = ours.clone();
    ours_sorted.sort();
    theirs.sort();
    assert_eq!(ours_sorted, theirs);
    let everything: usize = ip_json(&p.ns, &["addr", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["addr_info"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(all.len(), everything);
    assert!(all.iter().any(|a| a.prefix.to_string() == "198.18.1.1/32"));
}

#[test]
fn long_labels_and_bad_requests_are_refused_clearly() {
    if !vrrp_testns::netns_available("long_labels_and_bad_requests_are_refused_clearly") {
        return;
    }
    let err = Label::new("veth0:0123456789").unwrap_err();
    assert_eq!(
        err,
        LabelError::TooLong {
            label: "veth0:0123456789".into(),
            len: 16
        }
    );
    assert!(err.to_string().contains("at most 15"), "{err}");
    let p = pair("bad");
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let v6 = AddressSpec::new(veth0, prefix("fd00:198:18::5/64"))
            .with_label(Label::new("veth0:1").unwrap());
        assert!(matches!(
            h.add_address(&v6),
            Err(Error::InvalidAddressSpec { .. })
        ));
        let nowhere = AddressSpec::new(IfIndex::new(9999).unwrap(), prefix("198.18.0.5/24"));
        let err = h.add_address(&nowhere).unwrap_err();
        assert!(matches!(err, Error::NoSuchInterface(_)), "{err}");
        assert_eq!(
            h.delete_address(IfIndex::new(9999).unwrap(), prefix("198.18.0.5/24"))
                .unwrap_err()
                .to_string(),
            "no such interface: index 9999"
        );
    });
    assert!(
        ip_addrs(&p.ns, "veth0")
            .iter()
            .all(|a| a["family"] != "inet")
    );
}

#[test]
fn kernel_refusals_keep_errno_and_extended_ack() {
    if !vrrp_testns::netns_available("kernel_refusals_keep_errno_and_extended_ack") {
        return;
    }
    let p = pair("kerr");
    p.ns.exec(&["sysctl", "-q", "-w", "net.ipv6.conf.veth0.disable_ipv6=1"]);
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = AddressSpec::new(veth0, prefix("fd00:198:18::5/64"));
        match h.add_address(&spec) {
            Err(Error::Kernel { operation, source }) => {
                assert_eq!(
                    operation,
                    format!("add fd00:198:18::5/64 on interface {veth0}")
                );
                assert_eq!(source.errno, libc::EACCES);
                assert_eq!(
                    source.message.as_deref(),
                    Some("ipv6: IPv6 is disabled on this device")
                );
                let err = Error::Kernel { operation, source };
                let cause =
                    std::error::Error::source(&err).expect("the kernel error is the source");
                let text = cause.to_string();
                assert!(
                    text.starts_with("Permission denied") && text.contains("IPv6 is disabled"),
                    "{text}"
                );
            }
            other => panic!("expected a kernel error, got {other:?}"),
        }
    });
}

/// 150 adds and deletes (more than one datagram of the pipeline), with a
/// refusal in the middle of a datagram, an address already there and one
/// already gone: each outcome in its place, and the kernel agrees.
#[test]
fn pipelined_adds_and_deletes_answer_each_change_in_order() {
    if !vrrp_testns::netns_available("pipelined_adds_and_deletes_answer_each_change_in_order") {
        return;
    }
    let p = pair("pipe");
    let (adds, dels) = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let gone = IfIndex::new(9999).unwrap();
        h.add_address(&AddressSpec::new(veth0, prefix("198.18.1.7/32")))
            .unwrap();
        let mut specs: Vec<AddressSpec> = (0..150u32)
            .map(|i| {
                let a = format!("198.18.{}.{}/32", 1 + i / 250, i % 250);
                AddressSpec::new(veth0, prefix(&a))
            })
            .collect();
        // Refused by the kernel (no such device), inside the first datagram.
        specs[30] = AddressSpec::new(gone, prefix("198.18.2.30/32"));
        let refs: Vec<&AddressSpec> = specs.iter().collect();
        let adds = h.add_addresses(&refs);
        let mut keys: Vec<(IfIndex, IpPrefix)> =
            specs.iter().map(|s| (s.ifindex, s.prefix)).collect();
        keys.push((veth0, prefix("198.18.3.3/32")));
        let dels = h.delete_addresses(&keys);
        (adds, dels)
    });
    assert_eq!(adds.len(), 150);
    for (i, a) in adds.iter().enumerate() {
        match i {
            7 => assert!(matches!(a, Ok(AddOutcome::AlreadyPresent)), "{i}: {a:?}"),
            30 => assert!(matches!(a, Err(Error::NoSuchInterface(_))), "{i}: {a:?}"),
            _ => assert!(matches!(a, Ok(AddOutcome::Added)), "{i}: {a:?}"),
        }
    }
    assert_eq!(dels.len(), 151);
    for (i, d) in dels.iter().enumerate() {
        match i {
            30 => assert!(d.is_err(), "{i}: {d:?}"),
            150 => assert!(matches!(d, Ok(DeleteOutcome::NotPresent)), "{i}: {d:?}"),
            _ => assert!(matches!(d, Ok(DeleteOutcome::Removed)), "{i}: {d:?}"),
        }
    }
    let left = ip_addrs(&p.ns, "veth0");
    assert!(
        !left.iter().any(|a| a["local"]
            .as_str()
            .is_some_and(|l| l.starts_with("198.18.1."))),
        "{left:?}"
    );
}
