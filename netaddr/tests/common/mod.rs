//! Shared set-up for the namespace tests: a namespace with `veth0` whose
//! peer `veth1` lives in a second namespace, and `ip -j` helpers to compare
//! against. Every test binary uses a different subset of these.
#![allow(dead_code)]

use serde_json::Value;
use vrrp_testns::Netns;

/// Two namespaces joined by a veth pair.
pub(crate) struct Pair {
    /// Holds `veth0`.
    pub(crate) ns: Netns,
    /// Holds `veth1`, the other end.
    pub(crate) peer: Netns,
}

/// `ns` holds `veth0`; `peer` holds its other end `veth1`. Both up, with
/// carrier.
///
/// The kernel applies carrier changes asynchronously ("link watch") and,
/// for a device whose `iflink` equals its own index (as for a physical
/// NIC), at most once a second. A veth's `iflink` is its peer's index, and
/// in two fresh namespaces both ends would get index 2, which the kernel
/// then treats like a physical NIC. A bridge created first in the peer
/// namespace shifts `veth1` to index 3, so carrier changes here are
/// reported at once, as they are for veths in practice. This waits until
/// `veth0` is operationally up.
pub(crate) fn pair(tag: &str) -> Pair {
    let ns = Netns::new(tag);
    let peer = Netns::new(&format!("{tag}p"));
    peer.ip(&["link", "add", "idx0", "type", "bridge"]);
    ns.veth_to("veth0", &peer, "veth1");
    let start = std::time::Instant::now();
    while ip_json(&ns, &["link", "show", "dev", "veth0"])[0]["operstate"] != "UP" {
        assert!(start.elapsed().as_secs() < 5, "veth0 never came up");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Pair { ns, peer }
}

/// `ip -n NS -j ARGS...`, parsed.
pub(crate) fn ip_json(ns: &Netns, args: &[&str]) -> Value {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    serde_json::from_str(&ns.ip(&all)).expect("ip -j output is JSON")
}

/// The `addr_info` entries `ip -j addr show dev DEV` lists.
pub(crate) fn ip_addrs(ns: &Netns, dev: &str) -> Vec<Value> {
    ip_json(ns, &["addr", "show", "dev", dev])[0]["addr_info"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The `ip -j` entry for `local/prefixlen` on `dev`, if any.
pub(crate) fn ip_addr(ns: &Netns, dev: &str, local: &str, prefixlen: u64) -> Option<Value> {
    ip_addrs(ns, dev)
        .into_iter()
        .find(|a| a["local"] == local && a["prefixlen"] == prefixlen)
}

/// `sysctl -n KEY` inside the namespace.
pub(crate) fn sysctl(ns: &Netns, key: &str) -> String {
    ns.exec(&["sysctl", "-n", key]).trim().to_string()
}
