//! End-to-end: keepalived's `virtual_routes`, `virtual_rules`,
//! `static_ipaddress`, `static_routes` and `static_rules` shown by their
//! effect on the real `vrrpd` (two hosts and a client on one bridge): the
//! virtual ones are on the Active and nowhere else, move with the VIP, go
//! at a stop, and after a crash at the next start; the static ones are on
//! every running host; a tracked route's interface going down moves the
//! VIP. And keepalived 2.2.7, given the same file, installs the same
//! routes and rules.

mod e2e_support;
mod interop_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, start_keepalived};
use serde_json::Value;

const VIRTUAL_ROUTES: &str = "    virtual_routes {
        src 198.18.0.100 to 198.18.60.0/24 via 198.18.0.254 dev eth0
        blackhole 198.18.61.0/24
        default via 198.18.0.254 dev eth0 table 100
        fd00:198:18:60::/64 via fd00:198:18::fe dev eth0 metric 10
    }
    virtual_rules {
        from 198.18.0.100 table 100 preference 100
        to fd00:198:18:61::/64 preference 101 prohibit
    }
";

const STATICS: &str = "static_ipaddress {
    198.18.1.7/32 dev eth0
}
static_routes {
    198.18.50.0/24 via 198.18.0.254 dev eth0
}
static_rules {
    from 198.18.1.7 table 200 preference 200
}
";

/// Host `idx`'s keepalived.conf: `top` at the top level, then one
/// VRRPv3 instance at 100 ms with the VIP and `instance` inside it.
fn write_conf(lab: &Lab, idx: usize, priority: u8, top: &str, instance: &str) -> PathBuf {
    let path = lab.host_dir(idx).join("keepalived.conf");
    std::fs::write(&path, conf(priority, top, instance)).unwrap();
    path
}

fn conf(priority: u8, top: &str, instance: &str) -> String {
    format!(
        "{top}vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id 51\n    priority {priority}\n    version 3\n    advert_int 0.1\n    \
         virtual_ipaddress {{\n        198.18.0.100/24\n    }}\n{instance}}}\n"
    )
}

/// `ip -j ARGS` on host `idx`, as a list.
fn ip_list(lab: &Lab, idx: usize, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    let out = lab.host(idx).ip(&all);
    serde_json::from_str::<Value>(&out)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

/// The routes marked `proto keepalived` on host `idx`, of both families
/// and every table, as `ip route` prints them (sorted, one per line).
fn keepalived_routes(lab: &Lab, idx: usize) -> Vec<String> {
    let mut out = Vec::new();
    for family in ["-4", "-6"] {
        let text = lab.host(idx).ip(&[
            family,
            "route",
            "show",
            "table",
            "all",
            "proto",
            "keepalived",
        ]);
        out.extend(
            text.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty()),
        );
    }
    out.sort();
    out
}

/// The rules marked `proto keepalived` on host `idx`, of both families,
/// as `ip rule` prints them (sorted).
fn keepalived_rules(lab: &Lab, idx: usize) -> Vec<String> {
    let mut out = Vec::new();
    for family in ["-4", "-6"] {
        let text = lab
            .host(idx)
            .ip(&[family, "rule", "show", "proto", "keepalived"]);
        out.extend(
            text.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                // Older `ip` lists every rule whatever `proto` says.
                .filter(|l| l.contains("proto keepalived")),
        );
    }
    out.sort();
    out
}

fn has_route(lab: &Lab, idx: usize, needle: &str) -> bool {
    keepalived_routes(lab, idx)
        .iter()
        .any(|r| r.contains(needle))
}

fn has_static_address(lab: &Lab, idx: usize) -> bool {
    ip_list(lab, idx, &["addr", "show", "dev", "eth0"])
        .iter()
        .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
        .any(|a| a["local"] == "198.18.1.7")
}

/// What the Active holds besides the static entries: 4 routes, 2 rules.
fn holds_virtual(lab: &Lab, idx: usize) -> bool {
    has_route(
        lab,
        idx,
        "198.18.60.0/24 via 198.18.0.254 dev eth0 src 198.18.0.100",
    ) && has_route(lab, idx, "blackhole 198.18.61.0/24")
        && has_route(lab, idx, "default via 198.18.0.254 dev eth0 table 100")
        && has_route(
            lab,
            idx,
            "fd00:198:18:60::/64 via fd00:198:18::fe dev eth0 metric 10",
        )
        && keepalived_rules(lab, idx)
            .iter()
            .any(|r| r.starts_with("100: from 198.18.0.100 lookup 100"))
        && keepalived_rules(lab, idx)
            .iter()
            .any(|r| r.starts_with("101: from all to fd00:198:18:61::/64 prohibit"))
}

fn holds_no_virtual(lab: &Lab, idx: usize) -> bool {
    let routes = keepalived_routes(lab, idx);
    !routes.iter().any(|r| {
        r.contains("198.18.60.0")
            || r.contains("198.18.61.0")
            || r.contains("table 100")
            || r.contains("fd00:198:18:60::")
    }) && !keepalived_rules(lab, idx)
        .iter()
        .any(|r| r.starts_with("100:") || r.starts_with("101:"))
}

fn holds_statics(lab: &Lab, idx: usize) -> bool {
    has_static_address(lab, idx)
        && has_route(lab, idx, "198.18.50.0/24 via 198.18.0.254 dev eth0")
        && keepalived_rules(lab, idx)
            .iter()
            .any(|r| r.starts_with("200:") && r.contains("from 198.18.1.7 lookup 200"))
}

/// Waits until h1 is Active with its VIP, virtual routes and rules and
/// the static entries.
fn wait_until_h1_holds_everything(lab: &Lab) {
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)
            && holds_virtual(lab, H1)
            && holds_statics(lab, H1))
        .is_some(),
        "h1 never held the VIP and its routes"
    );
}

#[test]
fn virtual_routes_follow_the_vip_and_statics_stay_while_running() {
    if !vrrp_testns::netns_available("virtual_routes_follow_the_vip_and_statics_stay_while_running")
    {
        return;
    }
    let lab = Lab::new("rt", Variant::V3_IPV4);
    let c1 = write_conf(&lab, H1, 200, STATICS, VIRTUAL_ROUTES);
    let c2 = write_conf(&lab, H2, 100, STATICS, VIRTUAL_ROUTES);
    let mut h1 = lab.start_keepalived_conf(H1, &c1);
    let mut h2 = lab.start_keepalived_conf(H2, &c2);
    let t = Duration::from_secs(5);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1) && holds_virtual(&lab, H1)).is_some(),
        "h1 never held the VIP and its routes: {:?} {:?}",
        keepalived_routes(&lab, H1),
        keepalived_rules(&lab, H1)
    );
    check!(
        lab,
        wait_for(t, || holds_statics(&lab, H1) && holds_statics(&lab, H2)).is_some(),
        "the static entries are not on both hosts: {:?} {:?}",
        keepalived_routes(&lab, H2),
        keepalived_rules(&lab, H2)
    );
    check!(
        lab,
        holds_no_virtual(&lab, H2),
        "the Backup holds virtual routes: {:?}",
        keepalived_routes(&lab, H2)
    );

    // A clean stop: the routes move with the VIP, and h1 keeps nothing.
    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
    check!(
        lab,
        wait_for(t, || lab.has_vip(H2) && holds_virtual(&lab, H2)).is_some(),
        "h2 took over without the routes: {:?}",
        keepalived_routes(&lab, H2)
    );
    check!(
        lab,
        keepalived_routes(&lab, H1).is_empty()
            && keepalived_rules(&lab, H1).is_empty()
            && !has_static_address(&lab, H1),
        "h1 left routes, rules or the static address behind: {:?} {:?}",
        keepalived_routes(&lab, H1),
        keepalived_rules(&lab, H1)
    );

    // A crash leaves everything; the next start (without any route in
    // its configuration) removes what the ledger says was ours.
    kill(h2.pid(), libc::SIGKILL);
    let _ = h2.child().wait();
    check!(
        lab,
        holds_virtual(&lab, H2) && holds_statics(&lab, H2),
        "kill -9 removed routes (it cannot)"
    );
    // Someone else's route with the same prefix as a virtual one stays.
    lab.host(H2)
        .ip(&["route", "append", "198.18.60.0/24", "via", "198.18.0.253"]);
    let bare = write_conf(&lab, H2, 100, "", "");
    let _h2 = lab.start_keepalived_conf(H2, &bare);
    check!(
        lab,
        wait_for(t, || keepalived_routes(&lab, H2).is_empty()
            && keepalived_rules(&lab, H2).is_empty()
            && !has_static_address(&lab, H2))
        .is_some(),
        "the restart did not clean up: {:?} {:?}",
        keepalived_routes(&lab, H2),
        keepalived_rules(&lab, H2)
    );
    let theirs = lab.host(H2).ip(&["route", "show", "198.18.60.0/24"]);
    check!(
        lab,
        theirs.contains("via 198.18.0.253"),
        "the cleanup removed someone else's route: {theirs:?}"
    );
}

#[test]
fn a_tracked_route_whose_device_goes_down_moves_the_vip() {
    if !vrrp_testns::netns_available("a_tracked_route_whose_device_goes_down_moves_the_vip") {
        return;
    }
    let lab = Lab::new("rd", Variant::V3_IPV4);
    for idx in [H1, H2] {
        // A veth pair inside the host: the kernel may lack `dummy`.
        lab.host(idx).ip(&[
            "link", "add", "dum0", "type", "veth", "peer", "name", "dum1",
        ]);
        lab.host(idx).ip(&["link", "set", "dum1", "up"]);
        lab.host(idx).ip(&["link", "set", "dum0", "up"]);
    }
    let routes = "    virtual_routes {\n        198.18.62.0/24 dev dum0 scope link\n    }\n";
    let c1 = write_conf(&lab, H1, 200, "", routes);
    let c2 = write_conf(&lab, H2, 100, "", routes);
    let _h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    let t = Duration::from_secs(5);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1)
            && has_route(&lab, H1, "198.18.62.0/24 dev dum0"))
        .is_some(),
        "h1 never held the VIP and its route: {:?}",
        keepalived_routes(&lab, H1)
    );
    lab.host(H1).ip(&["link", "set", "dum0", "down"]);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H2) && !lab.has_vip(H1)).is_some(),
        "the VIP did not move when the route's device went down"
    );
    check!(
        lab,
        lab.log(H1).contains("Fault"),
        "h1 did not go to Fault: {}",
        lab.log(H1)
    );
    lab.host(H1).ip(&["link", "set", "dum0", "up"]);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1)
            && has_route(&lab, H1, "198.18.62.0/24 dev dum0"))
        .is_some(),
        "h1 did not take the VIP and the route back when dum0 came up"
    );
}

#[test]
fn keepalived_installs_the_same_routes_and_rules() {
    if !vrrp_testns::netns_available("keepalived_installs_the_same_routes_and_rules") {
        return;
    }
    let lab = Lab::new("rk", Variant::V3_IPV4);
    let text = conf(200, STATICS, VIRTUAL_ROUTES);
    let t = Duration::from_secs(10);
    let settled = |lab: &Lab| {
        wait_for(t, || {
            lab.has_vip(H1) && holds_virtual(lab, H1) && holds_statics(lab, H1)
        })
        .is_some()
    };
    let keepalived = {
        let mut k = start_keepalived(&lab, H1, &text);
        let ok = settled(&lab);
        let seen = (keepalived_routes(&lab, H1), keepalived_rules(&lab, H1));
        kill(k.pid(), libc::SIGTERM);
        let _ = k.child().wait();
        check!(
            lab,
            ok,
            "keepalived never installed them: {seen:?}\n{}",
            keepalived_log(&lab, H1)
        );
        seen
    };
    check!(
        lab,
        keepalived_routes(&lab, H1).is_empty() && keepalived_rules(&lab, H1).is_empty(),
        "keepalived left routes behind"
    );
    let path = lab.host_dir(H1).join("same.conf");
    std::fs::write(&path, &text).unwrap();
    let mut v = lab.start_keepalived_conf(H1, &path);
    check!(lab, settled(&lab), "vrrpd never installed them");
    let ours = (keepalived_routes(&lab, H1), keepalived_rules(&lab, H1));
    kill(v.pid(), libc::SIGTERM);
    let _ = v.child().wait();
    check!(
        lab,
        ours == keepalived,
        "vrrpd and keepalived differ:\nvrrpd:      {ours:#?}\nkeepalived: {keepalived:#?}"
    );
}

#[test]
fn a_deleted_tracked_route_or_rule_is_added_back_and_the_vip_stays() {
    if !vrrp_testns::netns_available(
        "a_deleted_tracked_route_or_rule_is_added_back_and_the_vip_stays",
    ) {
        return;
    }
    let lab = Lab::new("ra", Variant::V3_IPV4);
    let c1 = write_conf(&lab, H1, 200, STATICS, VIRTUAL_ROUTES);
    let c2 = write_conf(&lab, H2, 100, STATICS, VIRTUAL_ROUTES);
    let _h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    let t = Duration::from_secs(5);
    wait_until_h1_holds_everything(&lab);
    let h1 = lab.host(H1);
    h1.ip(&["route", "del", "198.18.60.0/24", "via", "198.18.0.254"]);
    h1.ip(&["rule", "del", "pref", "100"]);
    h1.ip(&["route", "del", "198.18.50.0/24"]);
    // The blackhole route has no `dev`: it is not tracked.
    h1.ip(&["route", "del", "blackhole", "198.18.61.0/24"]);
    check!(
        lab,
        wait_for(t, || {
            has_route(&lab, H1, "198.18.60.0/24 via 198.18.0.254")
                && has_route(&lab, H1, "198.18.50.0/24 via 198.18.0.254")
                && keepalived_rules(&lab, H1)
                    .iter()
                    .any(|r| r.starts_with("100:"))
        })
        .is_some(),
        "the deleted routes and rule did not come back: {:?} {:?}",
        keepalived_routes(&lab, H1),
        keepalived_rules(&lab, H1)
    );
    std::thread::sleep(Duration::from_millis(300));
    check!(
        lab,
        !has_route(&lab, H1, "blackhole 198.18.61.0/24"),
        "an untracked route was added back"
    );
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "the VIP moved when a route was deleted"
    );
    check!(
        lab,
        lab.log(H1)
            .contains("removed by someone else: adding it back"),
        "no log line says so"
    );
}

#[test]
fn a_reload_changes_the_routes_and_rules_without_a_transition() {
    if !vrrp_testns::netns_available("a_reload_changes_the_routes_and_rules_without_a_transition") {
        return;
    }
    let lab = Lab::new("rr", Variant::V3_IPV4);
    let c1 = write_conf(&lab, H1, 200, STATICS, VIRTUAL_ROUTES);
    let h1 = lab.start_keepalived_conf(H1, &c1);
    let t = Duration::from_secs(5);
    wait_until_h1_holds_everything(&lab);
    let before = e2e_support::transitions(&lab, H1);
    // One route kept, one changed, two gone, one new; a rule gone, one
    // new; the static route changed.
    let routes = "    virtual_routes {
        src 198.18.0.100 to 198.18.60.0/24 via 198.18.0.254 dev eth0
        198.18.63.0/24 via 198.18.0.254 dev eth0
        default via 198.18.0.253 dev eth0 table 100
    }
    virtual_rules {
        from 198.18.0.100 table 100 preference 102
    }
";
    let statics = STATICS.replace("198.18.50.0/24", "198.18.51.0/24");
    std::fs::write(&c1, conf(200, &statics, routes)).unwrap();
    kill(h1.pid(), libc::SIGHUP);
    check!(
        lab,
        wait_for(t, || {
            let r = keepalived_routes(&lab, H1);
            let rules = keepalived_rules(&lab, H1);
            r.iter().any(|l| l.starts_with("198.18.63.0/24"))
                && r.iter().any(|l| l.starts_with("198.18.51.0/24"))
                && r.iter()
                    .any(|l| l == "default via 198.18.0.253 dev eth0 table 100")
                && !r
                    .iter()
                    .any(|l| l.contains("198.18.61.0") || l.contains("198.18.50.0"))
                && !r.iter().any(|l| l.contains("fd00:198:18:60::"))
                && !r
                    .iter()
                    .any(|l| l.contains("via 198.18.0.254 dev eth0 table 100"))
                && rules.iter().any(|l| l.starts_with("102:"))
                && !rules
                    .iter()
                    .any(|l| l.starts_with("100:") || l.starts_with("101:"))
        })
        .is_some(),
        "the reload did not change them: {:?} {:?}",
        keepalived_routes(&lab, H1),
        keepalived_rules(&lab, H1)
    );
    check!(
        lab,
        has_route(
            &lab,
            H1,
            "198.18.60.0/24 via 198.18.0.254 dev eth0 src 198.18.0.100"
        ) && lab.has_vip(H1),
        "the kept route or the VIP went"
    );
    check!(
        lab,
        e2e_support::transitions(&lab, H1) == before,
        "the reload made a transition"
    );
}

#[test]
fn a_static_route_comes_back_with_its_interface() {
    if !vrrp_testns::netns_available("a_static_route_comes_back_with_its_interface") {
        return;
    }
    let lab = Lab::new("rs", Variant::V3_IPV4);
    let h1 = lab.host(H1);
    h1.ip(&[
        "link", "add", "dum0", "type", "veth", "peer", "name", "dum1",
    ]);
    h1.ip(&["link", "set", "dum1", "up"]);
    h1.ip(&["link", "set", "dum0", "up"]);
    let statics = "static_routes {\n    198.18.70.0/24 dev dum0 scope link\n}\n";
    let c1 = write_conf(&lab, H1, 200, statics, "");
    let _h1 = lab.start_keepalived_conf(H1, &c1);
    let t = Duration::from_secs(5);
    let present = || has_route(&lab, H1, "198.18.70.0/24 dev dum0");
    check!(
        lab,
        wait_for(t, present).is_some(),
        "the static route never came"
    );
    // The kernel drops it with the link, silently.
    h1.ip(&["link", "set", "dum0", "down"]);
    check!(
        lab,
        wait_for(t, || !present()).is_some(),
        "the kernel kept the route"
    );
    h1.ip(&["link", "set", "dum0", "up"]);
    check!(
        lab,
        wait_for(t, present).is_some(),
        "the static route did not come back with its interface: {:?}",
        keepalived_routes(&lab, H1)
    );
}

#[test]
fn a_track_group_faults_its_instances_when_a_static_route_device_goes_down() {
    if !vrrp_testns::netns_available(
        "a_track_group_faults_its_instances_when_a_static_route_device_goes_down",
    ) {
        return;
    }
    track_group_moves_the_vip(
        "tg",
        "static_routes {\n    198.18.71.0/24 dev dum0 scope link track_group G\n}\n",
        &["route", "show"],
        "198.18.71.0/24 dev dum0",
    );
}

#[test]
fn a_track_group_faults_its_instances_when_a_static_address_device_goes_down() {
    if !vrrp_testns::netns_available(
        "a_track_group_faults_its_instances_when_a_static_address_device_goes_down",
    ) {
        return;
    }
    // keepalived: the group's instances track the address's interface.
    track_group_moves_the_vip(
        "ta",
        "static_ipaddress {\n    198.18.72.1/24 dev dum0 track_group G\n}\n",
        &["-4", "addr", "show", "dev", "dum0"],
        "198.18.72.1/24",
    );
}

/// h1 (200) and h2 (100) with `statics` naming track group G = { VI_1 }
/// on a veth `dum0`: dum0 down on h1 moves the VIP to h2; up again, h1
/// takes it back, and `ip ARGS` on h1 shows `shown` again.
fn track_group_moves_the_vip(tag: &str, statics: &str, args: &[&str], shown: &str) {
    let lab = Lab::new(tag, Variant::V3_IPV4);
    for idx in [H1, H2] {
        let h = lab.host(idx);
        h.ip(&[
            "link", "add", "dum0", "type", "veth", "peer", "name", "dum1",
        ]);
        h.ip(&["link", "set", "dum1", "up"]);
        h.ip(&["link", "set", "dum0", "up"]);
    }
    let statics = format!("track_group G {{\n    group {{\n        VI_1\n    }}\n}}\n{statics}");
    let c1 = write_conf(&lab, H1, 200, &statics, "");
    let c2 = write_conf(&lab, H2, 100, &statics, "");
    let _h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    let t = Duration::from_secs(5);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    lab.host(H1).ip(&["link", "set", "dum0", "down"]);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H2) && !lab.has_vip(H1)).is_some(),
        "the VIP did not move when the static entry's device went down"
    );
    lab.host(H1).ip(&["link", "set", "dum0", "up"]);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1)
            && lab.host(H1).ip(args).contains(shown))
        .is_some(),
        "h1 did not come back, with its static entry, when dum0 came up"
    );
}
