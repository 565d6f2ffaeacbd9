//! Per-router counters ([`Stats`]), named after the ietf-vrrp YANG module
//! (RFC 8347) and the VRRPv3 MIB (RFC 6527).

use super::Discard;
use crate::wire::WireError;

/// Counters of one virtual router. Every field only grows.
///
/// Names follow RFC 8347's `statistics` container, with `_` for `-`;
/// VRRPv2's authentication counters follow RFC 2787.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Transitions into Active (`master-transitions`).
    pub master_transitions: u64,
    /// Valid advertisements received (`advertisement-rcvd`).
    pub advertisement_rcvd: u64,
    /// Advertisements sent (`advertisement-sent`).
    pub advertisement_sent: u64,
    /// Priority-0 advertisements received (`priority-zero-pkts-rcvd`).
    pub priority_zero_pkts_rcvd: u64,
    /// Priority-0 advertisements sent (`priority-zero-pkts-sent`).
    pub priority_zero_pkts_sent: u64,
    /// Packets with a bad checksum (`checksum-errors`).
    pub checksum_errors: u64,
    /// Packets of another VRRP version, or none (`version-errors`).
    pub version_errors: u64,
    /// Packets for another VRID (`vrid-errors`).
    pub vrid_errors: u64,
    /// Packets with a TTL or hop limit other than 255 (`ip-ttl-errors`).
    pub ip_ttl_errors: u64,
    /// Packets of a type other than Advertisement (`invalid-type-pkts-rcvd`).
    pub invalid_type_pkts_rcvd: u64,
    /// Advertisements whose address list differs from the configured one
    /// (`address-list-errors`). VRRPv3 still processes them.
    pub address_list_errors: u64,
    /// Packets whose length disagrees with their contents
    /// (`packet-length-errors`).
    pub packet_length_errors: u64,
    /// VRRPv2 advertisements with another interval (`interval-errors`).
    pub interval_errors: u64,
    /// VRRPv2 authentication type mismatches (RFC 2787
    /// `vrrpStatsAuthTypeMismatch`).
    pub auth_type_mismatch: u64,
    /// VRRPv2 wrong passwords (RFC 2787 `vrrpStatsAuthFailures`).
    pub auth_failures: u64,
    /// VRRPv2 unsupported authentication types (RFC 2787
    /// `vrrpStatsInvalidAuthType`).
    pub invalid_auth_type: u64,
    /// Packets refused for any other reason: IPv6 source not link-local,
    /// source not a unicast peer, our own source address, wrong family,
    /// received while not listening.
    pub other_discards: u64,
}

impl Stats {
    /// Counts `discard` in its counter.
    pub fn count_discard(&mut self, discard: &Discard) {
        let counter = match discard {
            Discard::Wire(e) => match e {
                WireError::BadChecksum { .. } => &mut self.checksum_errors,
                WireError::BadVersion(_) | WireError::V2OverIpv6 => &mut self.version_errors,
                WireError::BadTtl(_) => &mut self.ip_ttl_errors,
                WireError::BadType(_) => &mut self.invalid_type_pkts_rcvd,
                WireError::ZeroVrid => &mut self.vrid_errors,
                WireError::ZeroInterval => &mut self.interval_errors,
                WireError::UnsupportedAuth(_) => &mut self.invalid_auth_type,
                _ => &mut self.packet_length_errors,
            },
            Discard::VersionMismatch { .. } => &mut self.version_errors,
            Discard::VridMismatch { .. } => &mut self.vrid_errors,
            Discard::AuthTypeMismatch { .. } => &mut self.auth_type_mismatch,
            Discard::AuthFailure => &mut self.auth_failures,
            Discard::IntervalMismatch { .. } => &mut self.interval_errors,
            Discard::AddressListMismatch | Discard::NoAddresses => &mut self.address_list_errors,
            _ => &mut self.other_discards,
        };
        *counter += 1;
    }

    /// Every counter with its RFC 8347 / RFC 2787 name, for `vrrpctl stats`,
    /// in a fixed order. More counters may come in later versions.
    pub fn named(&self) -> impl ExactSizeIterator<Item = (&'static str, u64)> + use<> {
        [
            ("master_transitions", self.master_transitions),
            ("advertisement_rcvd", self.advertisement_rcvd),
            ("advertisement_sent", self.advertisement_sent),
            ("priority_zero_pkts_rcvd", self.priority_zero_pkts_rcvd),
            ("priority_zero_pkts_sent", self.priority_zero_pkts_sent),
            ("checksum_errors", self.checksum_errors),
            ("version_errors", self.version_errors),
            ("vrid_errors", self.vrid_errors),
            ("ip_ttl_errors", self.ip_ttl_errors),
            ("invalid_type_pkts_rcvd", self.invalid_type_pkts_rcvd),
            ("address_list_errors", self.address_list_errors),
            ("packet_length_errors", self.packet_length_errors),
            ("interval_errors", self.interval_errors),
            ("auth_type_mismatch", self.auth_type_mismatch),
            ("auth_failures", self.auth_failures),
            ("invalid_auth_type", self.invalid_auth_type),
            ("other_discards", self.other_discards),
        ]
        .into_iter()
    }
}
