//! `vrrp-arp`: tell a LAN where an address now lives.
//!
//! When a virtual IP moves, every host and switch on the segment must learn
//! its new MAC at once. This crate provides, with no async runtime and no
//! knowledge of VRRP:
//!
//! - **Frames** ([`ArpMessage`], [`NeighborAdvert`], [`Announcement`]):
//!   builders and checked parsers, in the smoltcp style, on top of
//!   `pnet_packet`. Gratuitous ARP in request or reply form (RFC 5227 §2.3,
//!   RFC 5944 §4.6), padded to the 60-byte Ethernet minimum; unsolicited
//!   IPv6 Neighbor Advertisements (RFC 4861 §7.2.6, RFC 9568 §6.4.2).
//! - **Policy** ([`AnnouncementSchedule`]): how many, how often, with
//!   keepalived's `garp_master_*` semantics, as a sans-IO timeline.
//! - **I/O** ([`AnnounceSocket`], [`AnnounceListener`]): blocking AF_PACKET
//!   sockets bound to one interface, with fd accessors for event loops.
//! - **Source address** ([`link_local_address`]) for Neighbor Advertisements.
//!
//! ```
//! use vrrp_arp::{Announcement, ArpMessage, ArpOperation, MacAddr};
//!
//! let mac = MacAddr::vrrp_v4(51);
//! let garp = ArpMessage::gratuitous("198.18.0.5".parse().unwrap(), mac, ArpOperation::Request);
//! let frame = garp.to_frame();
//! assert_eq!(frame.len(), 60);
//! let parsed = Announcement::parse(&frame).unwrap();
//! assert_eq!(parsed.mac(), Some(mac));
//! // AnnounceSocket::open_by_name("eth0")?.send_frame(&frame)?;
//! ```

mod announcement;
mod arp;
mod error;
mod frame;
mod link_local;
mod ndp;
mod schedule;
mod socket;
mod sys;

pub use announcement::Announcement;
pub use arp::{ArpMessage, ArpOperation, ETHERTYPE_ARP};
pub use error::{BufferTooSmall, ParseError};
pub use link_local::{LinkLocalError, link_local_address};
pub use ndp::{ALL_NODES, ETHERTYPE_IPV6, NeighborAdvert};
pub use schedule::{
    AnnouncementPolicy, AnnouncementSchedule, BACK_TO_BACK, BurstKind, DueAnnouncement,
    PACING_PAUSE,
};
pub use socket::{
    AnnounceListener, AnnounceSocket, CapturedFrame, FrameCapture, PacketType,
    ReceivedAnnouncement, SocketError, SocketOp, interface_index,
};
pub use vrrp_core::{MacAddr, ParseMacError};
