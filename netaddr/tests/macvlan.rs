//! macvlan virtual-MAC interfaces and their sysctls, in throwaway network
//! namespaces, checked against `ip -j -d link show` and `sysctl`.

mod common;

use std::num::NonZeroU8;

use common::{ip_json, pair, sysctl};
use vrrp_netaddr::sysctl::{Ipv4Conf, configure_vmac, read_ipv4_conf};
use vrrp_netaddr::{
    AddOutcome, DeleteOutcome, Error, Family, Handle, MacAddr, MacvlanMode, MacvlanSpec,
};

fn vrid(v: u8) -> NonZeroU8 {
    NonZeroU8::new(v).unwrap()
}

#[test]
fn macvlan_with_virtual_mac_is_created_and_deleted() {
    if !vrrp_testns::netns_available("macvlan_with_virtual_mac_is_created_and_deleted") {
        return;
    }
    let p = pair("mv");
    let (outcomes, link) = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = MacvlanSpec::vrrp(vrid(7), Family::Ipv4, veth0);
        let (first, link) = h.create_macvlan(&spec).unwrap();
        let (second, again) = h.create_macvlan(&spec).unwrap();
        assert_eq!(again.index, link.index);
        ([first, second], link)
    });
    assert_eq!(outcomes, [AddOutcome::Added, AddOutcome::AlreadyPresent]);
    let ip = &ip_json(&p.ns, &["-d", "link", "show", "dev", "vrrp.7"])[0];
    assert_eq!(ip["address"], "00:00:5e:00:01:07");
    assert_eq!(ip["link"], "veth0");
    assert_eq!(ip["linkinfo"]["info_kind"], "macvlan");
    // Bridge, not private: see `MacvlanSpec::vrrp`.
    assert_eq!(ip["linkinfo"]["info_data"]["mode"], "bridge");
    assert_eq!(u64::from(link.index.get()), ip["ifindex"].as_u64().unwrap());
    assert_eq!(
        link.mac,
        Some("00:00:5e:00:01:07".parse::<MacAddr>().unwrap())
    );
    assert_eq!(link.macvlan_mode, Some(MacvlanMode::Bridge));
    assert!(link.is_up(), "{link:?}");

    let deletes = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        [
            h.delete_link(link.index).unwrap(),
            h.delete_link(link.index).unwrap(),
        ]
    });
    assert_eq!(deletes, [DeleteOutcome::Removed, DeleteOutcome::NotPresent]);
    assert!(
        !p.ns
            .ip_try(&["link", "show", "dev", "vrrp.7"])
            .status
            .success()
    );
}

#[test]
fn ipv6_macvlan_in_bridge_mode_has_no_kernel_link_local() {
    if !vrrp_testns::netns_available("ipv6_macvlan_in_bridge_mode_has_no_kernel_link_local") {
        return;
    }
    let p = pair("mv6");
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let spec = MacvlanSpec::vrrp(vrid(255), Family::Ipv6, veth0).with_mode(MacvlanMode::Bridge);
        assert_eq!(h.create_macvlan(&spec).unwrap().0, AddOutcome::Added);
    });
    let link = &ip_json(&p.ns, &["-d", "link", "show", "dev", "vrrp.255"])[0];
    assert_eq!(link["address"], "00:00:5e:00:02:ff");
    assert_eq!(link["linkinfo"]["info_data"]["mode"], "bridge");
    assert_eq!(link["inet6_addr_gen_mode"], "none");
    assert_eq!(link["operstate"], "UP");
    let addrs = &ip_json(&p.ns, &["addr", "show", "dev", "vrrp.255"])[0];
    assert_eq!(addrs["addr_info"].as_array().unwrap().len(), 0, "{addrs}");
}

#[test]
fn conflicting_link_of_the_same_name_is_an_error() {
    if !vrrp_testns::netns_available("conflicting_link_of_the_same_name_is_an_error") {
        return;
    }
    let p = pair("mvc");
    p.ns.ip(&[
        "link",
        "add",
        "vrrp.9",
        "link",
        "veth0",
        "address",
        "02:00:00:00:00:09",
        "type",
        "macvlan",
    ]);
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let err = h
            .create_macvlan(&MacvlanSpec::vrrp(vrid(9), Family::Ipv4, veth0))
            .unwrap_err();
        assert!(
            matches!(&err, Error::LinkExists { name, .. } if name == "vrrp.9"),
            "{err}"
        );
        assert!(err.to_string().contains("MAC"), "{err}");
        let err = h
            .create_macvlan(&MacvlanSpec::vrrp(
                vrid(10),
                Family::Ipv4,
                vrrp_netaddr::IfIndex::new(999).unwrap(),
            ))
            .unwrap_err();
        assert!(matches!(err, Error::NoSuchInterface(_)), "{err}");
    });
    // Neither the existing link nor a half-made vrrp.10 was touched or left.
    assert_eq!(
        ip_json(&p.ns, &["link", "show", "dev", "vrrp.9"])[0]["address"],
        "02:00:00:00:00:09"
    );
    assert!(
        !p.ns
            .ip_try(&["link", "show", "dev", "vrrp.10"])
            .status
            .success()
    );
}

#[test]
fn existing_matching_macvlan_is_reused_switched_to_bridge_and_brought_up() {
    if !vrrp_testns::netns_available(
        "existing_matching_macvlan_is_reused_switched_to_bridge_and_brought_up",
    ) {
        return;
    }
    let p = pair("mvr");
    // Left behind, down, by an earlier run that crashed.
    p.ns.ip(&[
        "link",
        "add",
        "vrrp.11",
        "link",
        "veth0",
        "address",
        "00:00:5e:00:01:0b",
        "type",
        "macvlan",
        "mode",
        "private",
    ]);
    let (outcome, link) = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        h.create_macvlan(&MacvlanSpec::vrrp(vrid(11), Family::Ipv4, veth0))
            .unwrap()
    });
    assert_eq!(outcome, AddOutcome::AlreadyPresent);
    assert!(link.flags.contains(vrrp_netaddr::LinkFlags::UP), "{link:?}");
    assert_eq!(link.macvlan_mode, Some(MacvlanMode::Bridge));
    let ip = &ip_json(&p.ns, &["-d", "link", "show", "dev", "vrrp.11"])[0];
    assert!(
        ip["flags"]
            .as_array()
            .unwrap()
            .contains(&serde_json::Value::from("UP"))
    );
    // The private mode it was left in would hide a peer's adverts from
    // the virtual MAC: it is switched, the link kept (same index).
    assert_eq!(ip["linkinfo"]["info_data"]["mode"], "bridge");
    assert_eq!(u64::from(link.index.get()), ip["ifindex"].as_u64().unwrap());
}

/// `/proc/sys/net` follows the network namespace of the calling thread: the
/// settings made from a thread that entered the namespace show there, as
/// `sysctl` inside the namespace reports them, and restore puts the
/// parent's values back.
#[test]
fn vmac_sysctls_apply_in_the_namespace() {
    if !vrrp_testns::netns_available("vmac_sysctls_apply_in_the_namespace") {
        return;
    }
    let p = pair("mvs");
    p.ns.exec(&[
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.veth0.arp_filter=0",
        "net.ipv4.conf.veth0.arp_ignore=0",
    ]);
    let restore = p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        h.create_macvlan(&MacvlanSpec::vrrp(vrid(3), Family::Ipv4, veth0))
            .unwrap();
        let restore = configure_vmac("vrrp.3", "veth0").unwrap();
        assert_eq!(read_ipv4_conf("veth0", Ipv4Conf::ArpIgnore).unwrap(), 1);
        restore
    });
    for (key, want) in [
        ("net.ipv4.conf.vrrp/3.arp_ignore", "1"),
        ("net.ipv4.conf.vrrp/3.accept_local", "0"),
        ("net.ipv4.conf.vrrp/3.rp_filter", "0"),
        ("net.ipv4.conf.vrrp/3.promote_secondaries", "1"),
        ("net.ipv4.conf.veth0.arp_ignore", "1"),
        ("net.ipv4.conf.veth0.arp_filter", "1"),
    ] {
        assert_eq!(sysctl(&p.ns, key), want, "{key}");
    }
    let parent_changes: Vec<_> = restore
        .changes()
        .iter()
        .filter(|c| c.ifname == "veth0")
        .collect();
    assert_eq!(parent_changes.len(), 2);
    assert!(
        parent_changes
            .iter()
            .all(|c| c.previous == 0 && c.value == 1)
    );
    p.ns.run_in(move || restore.restore().unwrap());
    assert_eq!(sysctl(&p.ns, "net.ipv4.conf.veth0.arp_ignore"), "0");
    assert_eq!(sysctl(&p.ns, "net.ipv4.conf.veth0.arp_filter"), "0");
}
