//! Errors of the frame codec. Socket errors live in [`crate::socket`].

use std::net::Ipv6Addr;

/// Why a received frame is not a well-formed ARP message or IPv6 Neighbor
/// Advertisement.
///
/// Every malformed input maps to one of these; the parser never panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The frame ends before a header (or the IPv6 payload length) says it should.
    #[error("truncated {layer}: need {needed} bytes, have {available}")]
    Truncated {
        /// Which header or payload is cut short.
        layer: &'static str,
        /// Bytes that layer needs.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// Neither ARP (0x0806) nor IPv6 (0x86dd).
    #[error("EtherType {0:#06x} is neither ARP nor IPv6")]
    UnsupportedEtherType(u16),
    /// An ARP message for something other than IPv4 over Ethernet (RFC 826).
    #[error(
        "ARP for hardware {hardware} / protocol {protocol:#06x} (lengths {hardware_len}/{protocol_len}), not Ethernet/IPv4"
    )]
    UnsupportedArpFormat {
        /// `ar$hrd`; 1 is Ethernet.
        hardware: u16,
        /// `ar$pro`; 0x0800 is IPv4.
        protocol: u16,
        /// `ar$hln`; 6 for Ethernet.
        hardware_len: u8,
        /// `ar$pln`; 4 for IPv4.
        protocol_len: u8,
    },
    /// An ARP opcode other than request (1) or reply (2).
    #[error("ARP opcode {0} is neither request nor reply")]
    UnknownArpOperation(u16),
    /// The IPv6 header's version field is not 6.
    #[error("IP version {0} in an IPv6 frame")]
    NotIpv6(u8),
    /// The IPv6 next header is not ICMPv6 (58); extension headers are not followed.
    #[error("IPv6 next header {0} is not ICMPv6")]
    NotIcmpv6(u8),
    /// An ICMPv6 message other than Neighbor Advertisement (136).
    #[error("ICMPv6 type {0} is not a Neighbor Advertisement")]
    NotNeighborAdvert(u8),
    /// RFC 4861 §7.1.2: the ICMP code must be 0.
    #[error("Neighbor Advertisement with ICMP code {0} (must be 0)")]
    BadIcmpCode(u8),
    /// RFC 4861 §7.1.2: the hop limit must be 255, proving the sender is on-link.
    #[error("Neighbor Advertisement with hop limit {0} (must be 255)")]
    BadHopLimit(u8),
    /// The ICMPv6 checksum over the pseudo-header (RFC 4443 §2.3) is wrong.
    #[error("ICMPv6 checksum {found:#06x}, expected {expected:#06x}")]
    BadChecksum {
        /// The checksum computed over the received message.
        expected: u16,
        /// The checksum field as received.
        found: u16,
    },
    /// RFC 4861 §7.1.2: the target address must not be multicast.
    #[error("Neighbor Advertisement for multicast target {0}")]
    MulticastTarget(Ipv6Addr),
    /// RFC 4861 §7.1.2: an advertisement to a multicast group must not be solicited.
    #[error("solicited Neighbor Advertisement sent to multicast {0}")]
    SolicitedToMulticast(Ipv6Addr),
    /// An NDP option with length 0, or one running past the message (RFC 4861 §4.6).
    #[error("malformed NDP option of type {option_type} at offset {offset}")]
    BadOption {
        /// The option's type.
        option_type: u8,
        /// Its offset in the ICMPv6 message.
        offset: usize,
    },
    /// A target link-layer address option whose length is not one 8-byte unit
    /// (the Ethernet form, RFC 2464 §6).
    #[error("target link-layer address option of {0} units (Ethernet uses 1)")]
    BadLinkLayerOption(u8),
}

/// The output buffer cannot hold the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("buffer of {available} bytes is too small for a {needed}-byte frame")]
pub struct BufferTooSmall {
    /// Bytes the frame needs.
    pub needed: usize,
    /// Bytes the buffer has.
    pub available: usize,
}
