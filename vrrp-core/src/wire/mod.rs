//! The VRRP wire codec, in the smoltcp style: a checked zero-copy view
//! ([`Packet`]), an owned representation ([`Advertisement`]) with `parse`,
//! `emit` and `buffer_len`, and an IP-layer helper ([`Received`]).
//!
//! # Layout
//!
//! VRRPv3 (RFC 9568 §5.1), over IPv4 or IPv6:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 IPvX Address(es), 4 or 16 bytes each          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Max Adver Int is in centiseconds. The 4 reserved bits are sent as zero
//! and ignored on receive. The checksum covers an IPv4 or IPv6
//! pseudo-header (see [`checksum`] for the legacy IPv4 form).
//!
//! VRRPv2 (RFC 3768 §5.1), over IPv4 only:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Adver Int   |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     IP Address(es), 4 bytes each              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (1)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (2)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Adver Int is in whole seconds. The checksum covers the message alone.
//!
//! # Receiving
//!
//! ```
//! use vrrp_core::wire::{ChecksumStatus, Received};
//!
//! // A VRRPv3 advertisement from keepalived: VRID 51, priority 150, 50 cs,
//! // VIP 198.18.0.100, in a whole IPv4 packet as a raw socket returns it.
//! let ip = [
//!     0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x14, 0x87,
//!     198, 18, 0, 1, 224, 0, 0, 18,
//!     0x31, 0x33, 0x96, 0x01, 0x00, 0x32, 0xcb, 0x7f, 198, 18, 0, 100,
//! ];
//! let rx = Received::from_ipv4_packet(&ip)?;
//! let ok = rx.validate()?; // TTL, layout, fields, checksum; no allocation
//! assert_eq!(ok.checksum, ChecksumStatus::Valid);
//! assert_eq!(ok.packet.vrid().get(), 51);
//! assert_eq!(ok.packet.interval().as_millis(), 500);
//! assert_eq!(ok.packet.addresses().next(), Some([198, 18, 0, 100].into()));
//! # Ok::<(), vrrp_core::wire::WireError>(())
//! ```

mod address;
mod advertisement;
mod auth;
pub mod checksum;
mod constants;
mod error;
mod ip;
mod packet;
mod version_fields;

pub use address::{AddressFamily, AddressList};
pub use advertisement::Advertisement;
pub use auth::{
    AUTH_DATA_LEN, AUTH_TYPE_IP_AH, AUTH_TYPE_NONE, AUTH_TYPE_SIMPLE_TEXT, Auth, Password,
};
pub use checksum::{ChecksumMode, ChecksumStatus};
pub use constants::{MULTICAST_V4, MULTICAST_V6, PROTOCOL, TTL};
pub use error::{EmitError, WireError};
pub use ip::{Received, Validated};
pub use packet::{Addresses, HEADER_LEN, Packet, TYPE_ADVERTISEMENT};
pub use version_fields::VersionFields;
