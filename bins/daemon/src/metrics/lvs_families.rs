//! The `lvs_*` families: each virtual server and real server of the LVS
//! half, as `vrrpctl lvs` shows them.

use prometheus_client::registry::Unit;

use super::families::{Families, with};
use crate::lvs::VirtualServerStatus;

/// Every virtual server's and real server's families.
pub(super) fn lvs(f: &mut Families, vs: &[VirtualServerStatus]) {
    let service = |v: &VirtualServerStatus| vec![("service", v.service.to_string())];
    f.gauge(
        "lvs_virtual_server_quorum_up",
        "1 while the live real servers' weight reaches the quorum",
        vs.iter().map(|v| (service(v), i64::from(v.quorum_up))),
    );
    f.gauge(
        "lvs_virtual_server_sorry_server_active",
        "1 while the sorry server is serving",
        vs.iter()
            .map(|v| (service(v), i64::from(v.sorry_server_active))),
    );
    let service_stats = || {
        vs.iter()
            .filter_map(move |v| v.counters.map(|c| (service(v), c)))
    };
    f.counter(
        "lvs_virtual_server_connections",
        "Connections IPVS scheduled for the service",
        service_stats().map(|(l, c)| (l, c.connections)),
    );
    f.counter(
        "lvs_virtual_server_packets_in",
        "Packets in (IPVS)",
        service_stats().map(|(l, c)| (l, c.packets_in)),
    );
    f.counter(
        "lvs_virtual_server_packets_out",
        "Packets out (IPVS; NAT only)",
        service_stats().map(|(l, c)| (l, c.packets_out)),
    );
    f.counter_with_unit(
        "lvs_virtual_server_in",
        "Bytes in (IPVS)",
        Unit::Bytes,
        service_stats().map(|(l, c)| (l, c.bytes_in)),
    );
    f.counter_with_unit(
        "lvs_virtual_server_out",
        "Bytes out (IPVS; NAT only)",
        Unit::Bytes,
        service_stats().map(|(l, c)| (l, c.bytes_out)),
    );
    let reals = || {
        vs.iter().flat_map(move |v| {
            v.real_servers
                .iter()
                .map(move |r| (with(service(v), "real_server", r.addr.to_string()), r))
        })
    };
    f.gauge(
        "lvs_real_server_up",
        "1 while every checker of the real server passes",
        reals().map(|(l, r)| (l, i64::from(r.alive))),
    );
    f.gauge(
        "lvs_real_server_in_table",
        "1 while the real server is in the IPVS table",
        reals().map(|(l, r)| (l, i64::from(r.in_table))),
    );
    f.gauge(
        "lvs_real_server_weight",
        "The real server's weight when alive",
        reals().map(|(l, r)| (l, i64::from(r.weight))),
    );
    f.gauge(
        "lvs_real_server_last_check_passed",
        "1 if the real server's last check passed, 0 if it failed (absent before the first)",
        reals().filter_map(|(l, r)| r.last_check_passed.map(|p| (l, i64::from(p)))),
    );
    f.gauge(
        "lvs_real_server_active_connections",
        "Established connections (IPVS ActiveConn)",
        reals().filter_map(|(l, r)| r.counters.map(|c| (l, i64::from(c.active_connections)))),
    );
    f.gauge(
        "lvs_real_server_inactive_connections",
        "Other connections (IPVS InActConn)",
        reals().filter_map(|(l, r)| r.counters.map(|c| (l, i64::from(c.inactive_connections)))),
    );
    f.counter(
        "lvs_real_server_connections",
        "Connections IPVS scheduled to the real server",
        reals().filter_map(|(l, r)| r.counters.map(|c| (l, c.stats.connections))),
    );
}
