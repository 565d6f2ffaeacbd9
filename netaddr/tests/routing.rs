//! Adding and deleting routes and rules in throwaway network namespaces,
//! checked against `ip -j route` and `ip -j rule`, and the routing
//! ledger's promise: what it removes is only what it added.

mod common;

use common::pair;
use serde_json::Value;
use vrrp_netaddr::{
    AddOutcome, DeleteOutcome, Family, Handle, Release, RouteKind, RouteMetricKind,
    RouteMetricValue, RouteSpec, Routing, RoutingLedger, RuleAction, RuleSpec,
};

/// `ip -j ARGS...` in the calling thread's namespace, parsed.
fn here(args: &[&str]) -> Value {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    serde_json::from_str(&vrrp_testns::run_ip(&all).unwrap()).expect("ip -j output is JSON")
}

/// The routes of `table` (in the calling thread's namespace).
fn routes(table: &str) -> Vec<Value> {
    here(&["route", "show", "table", table])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The IPv4 rules (in the calling thread's namespace).
fn rules() -> Vec<Value> {
    here(&["rule", "show"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn routes_go_in_front_and_only_ours_are_deleted() {
    if !vrrp_testns::netns_available("routes_go_in_front_and_only_ours_are_deleted") {
        return;
    }
    let p = pair("rte");
    p.ns.ip(&["addr", "add", "198.18.0.1/24", "dev", "veth0"]);
    // Someone else's route to the same destination, through another gateway.
    p.ns.ip(&["route", "add", "198.18.9.0/24", "via", "198.18.0.253"]);
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let dev = h.link_by_name("veth0").unwrap().index;
        let mut ours = RouteSpec::new("198.18.9.0/24".parse().unwrap());
        ours.gateway = Some("198.18.0.254".parse().unwrap());
        ours.device = Some(dev);
        ours.source = Some("198.18.0.1".parse().unwrap());
        ours.metrics.push(RouteMetricValue {
            kind: RouteMetricKind::Mtu,
            value: 1400,
            locked: true,
        });
        assert_eq!(h.add_route(&ours).unwrap(), AddOutcome::Added);
        assert_eq!(h.add_route(&ours).unwrap(), AddOutcome::AlreadyPresent);
        let mut hole = RouteSpec::new("198.18.10.0/24".parse().unwrap());
        hole.kind = RouteKind::Blackhole;
        hole.table = 1000;
        assert_eq!(h.add_route(&hole).unwrap(), AddOutcome::Added);
        let mut direct = RouteSpec::new("198.18.11.0/24".parse().unwrap());
        direct.device = Some(dev);
        direct.metric = Some(7);
        assert_eq!(h.add_route(&direct).unwrap(), AddOutcome::Added);
        let mut v6 = RouteSpec::new("fd00:198:18:9::/64".parse().unwrap());
        v6.kind = RouteKind::Unreachable;
        assert_eq!(h.add_route(&v6).unwrap(), AddOutcome::Added);
        let main = routes("main");
        let to9: Vec<&Value> = main
            .iter()
            .filter(|r| r["dst"] == "198.18.9.0/24")
            .collect();
        assert_eq!(to9.len(), 2, "{main:?}");
        // In front: the kernel lists ours first.
        assert_eq!(to9[0]["gateway"], "198.18.0.254");
        assert_eq!(to9[0]["protocol"], "keepalived");
        assert_eq!(to9[0]["prefsrc"], "198.18.0.1");
        assert_eq!(to9[0]["metrics"][0]["mtu"], 1400, "{:?}", to9[0]);
        let direct_ip = main.iter().find(|r| r["dst"] == "198.18.11.0/24").unwrap();
        assert_eq!(direct_ip["scope"], "link");
        assert_eq!(direct_ip["metric"], 7);
        let t1000 = routes("1000");
        assert_eq!(t1000[0]["type"], "blackhole", "{t1000:?}");
        let v6s = here(&["-6", "route", "show", "table", "main"]);
        assert!(
            v6s.as_array()
                .unwrap()
                .iter()
                .any(|r| r["dst"] == "fd00:198:18:9::/64" && r["type"] == "unreachable"),
            "{v6s:?}"
        );

        assert_eq!(h.delete_route(&ours).unwrap(), DeleteOutcome::Removed);
        assert_eq!(h.delete_route(&ours).unwrap(), DeleteOutcome::NotPresent);
        let main = routes("main");
        let left: Vec<&Value> = main
            .iter()
            .filter(|r| r["dst"] == "198.18.9.0/24")
            .collect();
        assert_eq!(left.len(), 1, "someone else's route stays: {main:?}");
        assert_eq!(left[0]["gateway"], "198.18.0.253");
        for r in [&hole, &direct, &v6] {
            assert_eq!(h.delete_route(r).unwrap(), DeleteOutcome::Removed);
        }
    });
}

#[test]
fn rules_are_added_once_and_deleted_exactly() {
    if !vrrp_testns::netns_available("rules_are_added_once_and_deleted_exactly") {
        return;
    }
    let p = pair("rul");
    p.ns.ip(&[
        "rule",
        "add",
        "from",
        "198.18.0.0/24",
        "lookup",
        "200",
        "pref",
        "500",
    ]);
    p.ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let mut ours = RuleSpec::new(Family::Ipv4, RuleAction::Table(100));
        ours.from = Some("198.18.0.0/24".parse().unwrap());
        ours.priority = Some(500);
        ours.fwmark = Some(3);
        assert_eq!(h.add_rule(&ours).unwrap(), AddOutcome::Added);
        assert_eq!(h.add_rule(&ours).unwrap(), AddOutcome::AlreadyPresent);
        let mut v6 = RuleSpec::new(Family::Ipv6, RuleAction::Prohibit);
        v6.to = Some("fd00:198:18:9::/64".parse().unwrap());
        v6.priority = Some(600);
        assert_eq!(h.add_rule(&v6).unwrap(), AddOutcome::Added);
        let all = rules();
        let at500: Vec<&Value> = all.iter().filter(|r| r["priority"] == 500).collect();
        assert_eq!(at500.len(), 2, "{all:?}");
        assert!(
            at500
                .iter()
                .any(|r| r["table"] == "100" && r["fwmark"] == "0x3")
        );
        assert_eq!(h.delete_rule(&ours).unwrap(), DeleteOutcome::Removed);
        assert_eq!(h.delete_rule(&ours).unwrap(), DeleteOutcome::NotPresent);
        let all = rules();
        let at500: Vec<&Value> = all.iter().filter(|r| r["priority"] == 500).collect();
        assert_eq!(at500.len(), 1, "someone else's rule stays: {all:?}");
        assert_eq!(at500[0]["table"], "200");
        let v6s = here(&["-6", "rule", "show"]);
        assert!(v6s.as_array().unwrap().iter().any(|r| r["priority"] == 600));
        assert_eq!(h.delete_rule(&v6).unwrap(), DeleteOutcome::Removed);
    });
}

#[test]
fn ledger_removes_what_it_added_after_a_crash() {
    if !vrrp_testns::netns_available("ledger_removes_what_it_added_after_a_crash") {
        return;
    }
    let p = pair("rtl");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_path_buf();
    p.ns.ip(&["addr", "add", "198.18.0.1/24", "dev", "veth0"]);
    // Already there: someone else's, identical to one we will ask for.
    p.ns.ip(&[
        "route",
        "add",
        "198.18.12.0/24",
        "via",
        "198.18.0.254",
        "proto",
        "18",
    ]);
    p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let mut theirs = RouteSpec::new("198.18.12.0/24".parse().unwrap());
        theirs.gateway = Some("198.18.0.254".parse().unwrap());
        let mut ours = RouteSpec::new("198.18.13.0/24".parse().unwrap());
        ours.gateway = Some("198.18.0.254".parse().unwrap());
        ours.table = 100;
        let mut rule = RuleSpec::new(Family::Ipv4, RuleAction::Table(100));
        rule.priority = Some(100);
        rule.from = Some("198.18.0.0/24".parse().unwrap());
        let items = [
            Routing::Route(theirs.clone()),
            Routing::Route(ours.clone()),
            Routing::Rule(rule.clone()),
        ];
        let mut ledger = RoutingLedger::open(&state).unwrap();
        let outcomes = ledger.add_all(&mut h, "vi", &items).unwrap();
        assert_eq!(outcomes[0].as_ref().unwrap(), &AddOutcome::AlreadyPresent);
        assert_eq!(outcomes[1].as_ref().unwrap(), &AddOutcome::Added);
        assert_eq!(outcomes[2].as_ref().unwrap(), &AddOutcome::Added);
        assert!(!ledger.owns(&items[0]));
        drop(ledger); // a crash: the file stays
        let mut ledger = RoutingLedger::open(&state).unwrap();
        assert_eq!(ledger.owned_by("vi").count(), 2);
        let report = ledger.cleanup(&mut h).unwrap();
        assert_eq!(report.len(), 2);
        assert!(
            matches!(report[0].0.item, Routing::Rule(_)),
            "rules go first"
        );
        assert!(
            report
                .iter()
                .all(|(_, r)| matches!(r, Ok(Release::Removed)))
        );
        assert!(ledger.entries().is_empty());
        // Theirs stays.
        let remove = ledger.remove_all(&mut h, &items[..1]).unwrap();
        assert!(matches!(remove[0], Ok(Release::NotOwned)));
        assert!(routes("main").iter().any(|r| r["dst"] == "198.18.12.0/24"));
        assert!(routes("100").is_empty());
        assert!(!rules().iter().any(|r| r["priority"] == 100));
    });
}
