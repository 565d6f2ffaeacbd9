//! End-to-end failover of the real `vrrpd` binaries in network namespaces,
//! v3 over ipv4: election, graceful stop, crash, restart clean-up (see
//! `e2e_support::failover_scenario`).

mod e2e_support;

use e2e_support::{Variant, failover_scenario};

#[test]
fn failover_v3_ipv4() {
    if !vrrp_testns::netns_available("failover_v3_ipv4") {
        return;
    }
    failover_scenario("fv3ipv4", Variant::V3_IPV4);
}
