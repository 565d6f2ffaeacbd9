//! Gratuitous ARP (IPv4) and unsolicited Neighbor Advertisements (IPv6)
//! for the addresses of an Active instance (RFC 9568 §6.4.2 step 3), on
//! the schedule of its announcement policy.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use tracing::{debug, warn};
use vrrp_arp::{AnnounceSocket, Announcement, ArpMessage, ArpOperation, NeighborAdvert};

use super::host::Host;

/// AF_PACKET sockets by interface index, opened on first use.
#[derive(Debug, Default)]
pub(crate) struct Announcer {
    sockets: HashMap<u32, AnnounceSocket>,
    /// The frame of the last advert sent from a virtual MAC, reused.
    frame: Vec<u8>,
    /// The IPv4 identification of the next such advert.
    ipv4_id: u16,
}

impl Announcer {
    /// Sends one announcement of `addr`, a virtual address of `host`, out
    /// of the interface it lives on.
    pub(crate) fn announce(&mut self, host: &Host, addr: IpAddr) {
        let ifindex = host
            .addresses
            .iter()
            .find(|a| a.prefix.addr() == addr)
            .map_or(host.link.index.get(), |a| a.ifindex.get());
        // A vmac has no link-local address of its own (it would be the
        // same on every router of the VRID); its NAs come from the
        // instance's, which lives on the same link.
        let fallback = match host.primary {
            IpAddr::V6(a) if a.is_unicast_link_local() => Some(a),
            _ => None,
        };
        if let Err(e) = self.send(ifindex, addr, fallback) {
            warn!(instance = %host.name, address = %addr, error = %e,
                "cannot announce virtual address");
        } else {
            debug!(instance = %host.name, address = %addr, "announced");
        }
    }

    /// Opens the sockets `host` announces on ahead of its first takeover,
    /// which then need not wait for them. A failure is left for the first
    /// announcement to report.
    pub(crate) fn prepare(&mut self, host: &Host) {
        let link = std::iter::once(host.link.index.get());
        for ifindex in link.chain(host.addresses.iter().map(|a| a.ifindex.get())) {
            let _ = self.socket(ifindex);
        }
    }

    /// The socket for `ifindex`, opened on first use.
    fn socket(&mut self, ifindex: u32) -> Result<&AnnounceSocket, String> {
        match self.sockets.entry(ifindex) {
            std::collections::hash_map::Entry::Occupied(o) => Ok(o.into_mut()),
            std::collections::hash_map::Entry::Vacant(v) => {
                let s = AnnounceSocket::open(ifindex).map_err(|e| e.to_string())?;
                s.set_nonblocking(true).map_err(|e| e.to_string())?;
                Ok(v.insert(s))
            }
        }
    }

    /// Sends the advert `payload` from `src` to the multicast group `dst`
    /// out of `ifindex` (a vmac's parent) as a frame from `src_mac`, the
    /// virtual MAC (RFC 9568 §7.2).
    pub(crate) fn send_advert(
        &mut self,
        ifindex: u32,
        src_mac: [u8; 6],
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
    ) -> Result<(), String> {
        let mut frame = std::mem::take(&mut self.frame);
        let id = self.ipv4_id;
        self.ipv4_id = self.ipv4_id.wrapping_add(1);
        let result = crate::net::frame::advert_frame(&mut frame, src_mac, src, dst, payload, id)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let socket = self.socket(ifindex)?;
                socket.send_frame(&frame).map_err(|e| e.to_string())
            });
        self.frame = frame;
        if result.is_err() {
            self.sockets.remove(&ifindex);
        }
        result
    }

    /// Forgets the socket of an interface that went away.
    pub(crate) fn forget(&mut self, ifindex: u32) {
        self.sockets.remove(&ifindex);
    }

    /// Sends one announcement of `addr` out of `ifindex`; an NA comes from
    /// the interface's link-local address, else from `fallback_source`.
    fn send(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        fallback_source: Option<Ipv6Addr>,
    ) -> Result<(), String> {
        let socket = self.socket(ifindex)?;
        let mac = socket.interface_mac().map_err(|e| e.to_string())?;
        let announcement: Announcement = match addr {
            IpAddr::V4(ip) => ArpMessage::gratuitous(ip, mac, ArpOperation::Request).into(),
            IpAddr::V6(ip) => {
                let source = match (vrrp_arp::link_local_address(ifindex), fallback_source) {
                    (Ok(a), _) => a,
                    (Err(_), Some(a)) => a,
                    (Err(e), None) => return Err(e.to_string()),
                };
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
