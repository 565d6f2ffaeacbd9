//! Gratuitous ARP (IPv4) and unsolicited Neighbor Advertisements (IPv6)
//! for the addresses of an Active instance (RFC 9568 §6.4.2 step 3), on
//! the schedule of its announcement policy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use tracing::{debug, warn};
use vrrp_arp::{AnnounceSocket, Announcement, ArpMessage, ArpOperation, NeighborAdvert};

use super::instance::Instance;

/// AF_PACKET sockets by interface index, opened on first use.
#[derive(Debug, Default)]
pub(crate) struct Announcer {
    sockets: HashMap<u32, AnnounceSocket>,
}

impl Announcer {
    /// Sends every announcement of `instance` that is due at `now`.
    pub(crate) fn send_due(&mut self, instance: &mut Instance, now: Instant) {
        while let Some(due) = instance.schedule.poll_due(now) {
            let ifindex = instance
                .addresses
                .iter()
                .find(|a| a.prefix.addr() == due.addr)
                .map_or(instance.link.index.get(), |a| a.ifindex.get());
            if let Err(e) = self.send(ifindex, due.addr) {
                warn!(instance = instance.name(), address = %due.addr, error = %e,
                    "cannot announce virtual address");
            } else {
                debug!(instance = instance.name(), address = %due.addr, burst = ?due.burst, "announced");
            }
        }
    }

    /// Forgets the socket of an interface that went away.
    pub(crate) fn forget(&mut self, ifindex: u32) {
        self.sockets.remove(&ifindex);
    }

    fn send(&mut self, ifindex: u32, addr: IpAddr) -> Result<(), String> {
        let socket = match self.sockets.entry(ifindex) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let s = AnnounceSocket::open(ifindex).map_err(|e| e.to_string())?;
                s.set_nonblocking(true).map_err(|e| e.to_string())?;
                v.insert(s)
            }
        };
        let mac = socket.interface_mac().map_err(|e| e.to_string())?;
        let announcement: Announcement = match addr {
            IpAddr::V4(ip) => ArpMessage::gratuitous(ip, mac, ArpOperation::Request).into(),
            IpAddr::V6(ip) => {
                let source = vrrp_arp::link_local_address(ifindex).map_err(|e| e.to_string())?;
                NeighborAdvert::unsolicited(ip, mac, source, true).into()
            }
        };
        let result = socket.send(&announcement).map_err(|e| e.to_string());
        if result.is_err() {
            // Reopen next time: the interface may have been recreated.
            self.sockets.remove(&ifindex);
        }
        result
    }
}
