//! The counters and rates IPVS keeps per service and per destination
//! (`ipvsadm -Ln --stats` and `--rate`).

use serde::{Deserialize, Serialize};

use crate::attr::{attrs, get_counter};
use crate::constants::*;
use crate::error::Result;

/// Totals since the service or destination was added, and the current
/// rates (the kernel's estimator, per second).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Connections scheduled.
    pub connections: u64,
    /// Packets in.
    pub packets_in: u64,
    /// Packets out (NAT only: with DR and TUN replies bypass the director).
    pub packets_out: u64,
    /// Bytes in.
    pub bytes_in: u64,
    /// Bytes out.
    pub bytes_out: u64,
    /// Connections per second.
    pub connections_per_second: u64,
    /// Packets in per second.
    pub packets_in_per_second: u64,
    /// Packets out per second.
    pub packets_out_per_second: u64,
    /// Bytes in per second.
    pub bytes_in_per_second: u64,
    /// Bytes out per second.
    pub bytes_out_per_second: u64,
}

impl Stats {
    /// Parses a nested `IPVS_*_ATTR_STATS` or `STATS64` attribute.
    pub(crate) fn parse(payload: &[u8]) -> Result<Stats> {
        let mut s = Stats::default();
        for attr in attrs(payload, "IPVS statistics") {
            let (kind, v) = attr?;
            let what = "IPVS statistics";
            let slot = match kind {
                STATS_ATTR_CONNS => &mut s.connections,
                STATS_ATTR_INPKTS => &mut s.packets_in,
                STATS_ATTR_OUTPKTS => &mut s.packets_out,
                STATS_ATTR_INBYTES => &mut s.bytes_in,
                STATS_ATTR_OUTBYTES => &mut s.bytes_out,
                STATS_ATTR_CPS => &mut s.connections_per_second,
                STATS_ATTR_INPPS => &mut s.packets_in_per_second,
                STATS_ATTR_OUTPPS => &mut s.packets_out_per_second,
                STATS_ATTR_INBPS => &mut s.bytes_in_per_second,
                STATS_ATTR_OUTBPS => &mut s.bytes_out_per_second,
                _ => continue,
            };
            *slot = get_counter(v, what)?;
        }
        Ok(s)
    }
}
