//! Why a received advertisement was discarded ([`Discard`]).

use std::net::IpAddr;

use super::State;
use crate::wire::WireError;
use crate::{Centiseconds, Version, Vrid};

/// Why [`handle_advertisement`](super::VirtualRouter::handle_advertisement)
/// discarded a packet (RFC 9568 §7.1, RFC 3768 §7.1). Each reason feeds one
/// counter of [`Stats`](super::Stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Discard {
    /// The codec refused the packet: TTL, length, version, type, checksum...
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The version is not the one configured.
    #[error("{received} advertisement, this router runs {local}")]
    VersionMismatch {
        /// The version received.
        received: Version,
        /// The version configured.
        local: Version,
    },
    /// The VRID is not this router's.
    #[error("VRID {received} is not configured here (local VRID {local})")]
    VridMismatch {
        /// The VRID received.
        received: Vrid,
        /// This router's VRID.
        local: Vrid,
    },
    /// VRRPv2: the authentication type differs from the local one.
    #[error("VRRPv2 authentication type {received}, local type {local}")]
    AuthTypeMismatch {
        /// The type received.
        received: u8,
        /// The local type.
        local: u8,
    },
    /// VRRPv2: simple-text authentication with the wrong password.
    #[error("VRRPv2 authentication failure: wrong password")]
    AuthFailure,
    /// VRRPv2: the advertisement interval differs from the local one
    /// (RFC 3768 §7.1; VRRPv3 learns it instead).
    #[error("VRRPv2 advertisement interval {received}, local {local}")]
    IntervalMismatch {
        /// The interval received.
        received: Centiseconds,
        /// The local interval.
        local: Centiseconds,
    },
    /// VRRPv2: the address list differs from the configured one and the
    /// sender is not the owner (RFC 3768 §7.1).
    #[error("VRRPv2 address list does not match the configured virtual addresses")]
    AddressListMismatch,
    /// VRRPv3: the advertisement carries no address; RFC 9568 §5.2.5 sets
    /// the minimum Count IPvX Addr to 1.
    #[error("VRRPv3 advertisement without addresses (count 0)")]
    NoAddresses,
    /// IPv4: the source cannot be a router's address (unspecified,
    /// broadcast, multicast or class E, RFC 1122 §3.2.1.3), so it must not
    /// win an election.
    #[error("advertisement from {0}, which no router can send from")]
    BogusSource(IpAddr),
    /// IPv6: the source is not a link-local address (RFC 9568 §5.1.2.1).
    #[error("IPv6 advertisement from {0}, not a link-local address")]
    NotLinkLocal(IpAddr),
    /// Unicast mode: the source is not a configured peer.
    #[error("advertisement from {0}, not a configured unicast peer")]
    NotAPeer(IpAddr),
    /// The source is this router's own primary address: a looped-back copy of
    /// its own advertisement, or another router misconfigured with the same
    /// address.
    #[error("advertisement from our own address {0}")]
    OwnAddress(IpAddr),
    /// The packet's address family is not the router's.
    #[error("advertisement over the wrong address family")]
    FamilyMismatch,
    /// The router is in Initialize or Fault and listens to nothing.
    #[error("not listening in state {0}")]
    NotListening(State),
}

impl Discard {
    /// A stable snake_case name, for counters, JSON and rate-limited logs.
    pub fn code(&self) -> &'static str {
        match self {
            Discard::Wire(e) => e.code(),
            Discard::VersionMismatch { .. } => "version_mismatch",
            Discard::VridMismatch { .. } => "vrid_mismatch",
            Discard::AuthTypeMismatch { .. } => "auth_type_mismatch",
            Discard::AuthFailure => "auth_failure",
            Discard::IntervalMismatch { .. } => "interval_mismatch",
            Discard::AddressListMismatch => "address_list_mismatch",
            Discard::NoAddresses => "no_addresses",
            Discard::BogusSource(_) => "bogus_source",
            Discard::NotLinkLocal(_) => "not_link_local",
            Discard::NotAPeer(_) => "not_a_peer",
            Discard::OwnAddress(_) => "own_address",
            Discard::FamilyMismatch => "family_mismatch",
            Discard::NotListening(_) => "not_listening",
        }
    }
}
