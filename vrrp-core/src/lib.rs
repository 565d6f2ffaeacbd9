//! Sans-IO VRRP: VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568), for IPv4 and IPv6.
//!
//! This crate knows nothing of sockets or clocks. It holds the wire codec
//! ([`wire`]), the election state machine ([`router::VirtualRouter`]), and
//! the thin sans-IO layers above it: [`Tracking`] and [`SyncGroup`].
//!
//! # Where the RFCs live
//!
//! | RFC section | here |
//! |---|---|
//! | RFC 9568 §5.1, RFC 3768 §5.1 (packet format) | [`wire`], [`wire::Packet`], [`wire::Advertisement`] |
//! | RFC 9568 §5.1.1.3, §5.1.2.3 (TTL / hop limit 255) | [`wire::Received::check_ttl`] |
//! | RFC 9568 §5.2.1–5.2.2 (version, type) | [`Version`], [`wire::Packet::new_checked`] |
//! | RFC 9568 §5.2.3 (VRID) | [`Vrid`] |
//! | RFC 9568 §5.2.4 (priority 0, 255) | [`Priority`] |
//! | RFC 9568 §5.2.6–5.2.7 (reserved bits, Max Adver Int) | [`MaxAdverInt`], [`Centiseconds`] |
//! | RFC 3768 §5.3.6–5.3.7 (auth type, Adver Int) | [`wire::Auth`], [`AdverIntSeconds`] |
//! | RFC 9568 §5.2.8, RFC 3768 §5.3.8 (checksum) | [`wire::checksum`] |
//! | RFC 9568 §7.1 (receive validation) | [`wire::Received::validate`], [`router::VirtualRouter::handle_advertisement`] |
//! | RFC 9568 §6 (state machine, timers) | [`router`] |
//!
//! # Units
//!
//! Every span of time is a [`Centiseconds`] (timer arithmetic) or a type
//! that knows its unit ([`MaxAdverInt`], [`AdverIntSeconds`]), never a bare
//! integer of seconds.

#![forbid(unsafe_code)]

mod centiseconds;
mod interval;
mod mac;
mod priority;
pub mod router;
mod sync_group;
mod tracking;
mod version;
mod vrid;
pub mod wire;

pub use centiseconds::{Centiseconds, CentisecondsError};
pub use interval::{AdverIntSeconds, MaxAdverInt};
pub use mac::{MacAddr, ParseMacError};
pub use priority::Priority;
pub use sync_group::SyncGroup;
pub use tracking::{TrackerId, Tracking, Weight};
pub use version::Version;
pub use vrid::{Vrid, ZeroVridError};
