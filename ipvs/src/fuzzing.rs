//! The decoding paths of kernel replies, for the fuzz target
//! (`fuzz/fuzz_targets/ipvs_reply.rs`) and its corpus replay. Not a
//! stable API.

use crate::attr::attrs;
use crate::constants::{CMD_ATTR_DAEMON, CMD_ATTR_DEST, CMD_ATTR_SERVICE};
use crate::destination::DestinationInfo;
use crate::service::{Family, ServiceInfo};
use crate::sync_daemon::SyncDaemon;

/// Walks `datagram` as the handle does a reply: each netlink message,
/// its error or end, and each IPVS attribute a reply can carry. Returns
/// how many things decoded; never panics.
pub fn decode_reply(datagram: &[u8]) -> usize {
    let mut decoded = 0;
    for frame in crate::socket::frames(datagram) {
        let Ok(frame) = frame else { break };
        if let Ok(Some(_)) = frame.end("fuzz") {
            decoded += 1;
            continue;
        }
        // Past the 4-byte generic netlink header.
        let Some(payload) = frame.body.get(4..) else {
            continue;
        };
        for (kind, value) in attrs(payload, "fuzz").flatten() {
            let ok = match kind {
                CMD_ATTR_SERVICE => ServiceInfo::parse(value).is_ok(),
                CMD_ATTR_DEST => {
                    DestinationInfo::parse(value, Family::Ipv4).is_ok()
                        | DestinationInfo::parse(value, Family::Ipv6).is_ok()
                }
                CMD_ATTR_DAEMON => SyncDaemon::parse(value).is_ok(),
                _ => false,
            };
            decoded += usize::from(ok);
        }
    }
    decoded
}
