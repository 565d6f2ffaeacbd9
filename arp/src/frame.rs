//! Ethernet framing shared by the ARP and NDP codecs, and the one place that
//! converts between our [`MacAddr`] and pnet's.

use vrrp_core::MacAddr;

/// Length of an untagged Ethernet II header.
pub(crate) const ETHERNET_HEADER_LEN: usize = 14;

/// The minimum Ethernet frame without its FCS (IEEE 802.3 §3.2.8). Kernels
/// pad short frames on most NICs but not on veth or bridges, so ARP frames are
/// padded here.
pub(crate) const ETHERNET_MIN_FRAME_LEN: usize = 60;

pub(crate) fn to_pnet_mac(mac: MacAddr) -> pnet_base::MacAddr {
    let [a, b, c, d, e, f] = mac.octets();
    pnet_base::MacAddr::new(a, b, c, d, e, f)
}

pub(crate) fn from_pnet_mac(mac: pnet_base::MacAddr) -> MacAddr {
    MacAddr(mac.octets())
}
