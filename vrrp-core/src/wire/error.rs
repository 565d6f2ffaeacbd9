//! Every way a received packet can be refused ([`WireError`]) and every way
//! an advertisement can fail to be written ([`EmitError`]).

/// Why a received packet is not a usable VRRP advertisement.
///
/// Each variant carries the offending value so that logs and `vrrpctl decode`
/// can say exactly what was wrong. [`WireError::code`] gives a stable
/// snake_case name for counters and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer is shorter than the fixed IPv4 (20 bytes) or IPv6 (40 bytes)
    /// header, or an IPv6 extension header runs past the captured bytes.
    #[error("IP packet truncated: {len} bytes, need at least {needed}")]
    IpTruncated {
        /// Bytes available.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// The IP version nibble is not the one expected (4 or 6).
    #[error("IP version {0}, expected 4 or 6")]
    BadIpVersion(u8),
    /// The IPv4 Internet Header Length is below 5 words (20 bytes).
    #[error("IPv4 header length {bytes} bytes (IHL {ihl}), below the 20-byte minimum", ihl = .0, bytes = u32::from(*.0) * 4)]
    BadIhl(u8),
    /// The IPv4 Total Length (or IPv6 Payload Length) disagrees with the
    /// header length or claims more bytes than were received.
    #[error(
        "IP length field says {claimed} bytes, but the header is {header_len} bytes and {received} were received"
    )]
    BadIpLength {
        /// Total length the packet claims, header included.
        claimed: usize,
        /// Length of the IP header(s).
        header_len: usize,
        /// Bytes actually received.
        received: usize,
    },
    /// The packet is an IP fragment; VRRP advertisements are never fragmented.
    #[error("IP fragment: VRRP advertisements are never fragmented")]
    Fragmented,
    /// The IPv4 protocol or IPv6 next header is not VRRP (112).
    #[error("IP protocol {0}, not VRRP (112)")]
    NotVrrp(u8),
    /// The IPv4 TTL or IPv6 hop limit is not 255, so the packet may have been
    /// forwarded (RFC 3768 §7.1, RFC 9568 §7.1).
    #[error("TTL/hop limit {0}, must be 255")]
    BadTtl(u8),
    /// The VRRP message is shorter than its 8-byte fixed header.
    #[error("VRRP message truncated: {len} bytes, the fixed header alone is 8")]
    Truncated {
        /// Bytes available.
        len: usize,
    },
    /// The version nibble is neither 2 nor 3.
    #[error("VRRP version {0}, expected 2 or 3")]
    BadVersion(u8),
    /// The type nibble is not 1 (Advertisement), the only type defined.
    #[error("VRRP type {0}, expected 1 (Advertisement)")]
    BadType(u8),
    /// A VRRPv2 message arrived over IPv6; RFC 3768 is IPv4 only.
    #[error("VRRPv2 over IPv6: RFC 3768 defines VRRPv2 for IPv4 only")]
    V2OverIpv6,
    /// The address count needs more bytes than the message has (for VRRPv2
    /// with simple-text authentication, the 8 authentication bytes count too).
    #[error("{count} addresses need a {needed}-byte message, but it has {len} bytes")]
    LengthMismatch {
        /// The Count IPvX Addrs field.
        count: u8,
        /// Bytes that count implies.
        needed: usize,
        /// Bytes available.
        len: usize,
    },
    /// The VRID is 0, which is not a valid VRID.
    #[error("VRID 0 is invalid")]
    ZeroVrid,
    /// The advertisement interval is 0 (for VRRPv3, the low 12 bits of the
    /// Max Adver Int field).
    #[error("advertisement interval 0 is invalid")]
    ZeroInterval,
    /// VRRPv2 authentication type other than 0 (none) and 1 (simple text);
    /// type 2 (IP Authentication Header) was removed by RFC 3768.
    #[error("VRRPv2 authentication type {0} is not supported ({name})", name = auth_type_name(*.0))]
    UnsupportedAuth(u8),
    /// The checksum matches neither accepted form.
    #[error("bad checksum {found:#06x}")]
    BadChecksum {
        /// The Checksum field as received.
        found: u16,
    },
}

fn auth_type_name(auth_type: u8) -> &'static str {
    match auth_type {
        2 => "IP Authentication Header, removed by RFC 3768",
        _ => "unknown type",
    }
}

impl WireError {
    /// A stable snake_case name for the error, for counters and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::IpTruncated { .. } => "ip_truncated",
            WireError::BadIpVersion(_) => "bad_ip_version",
            WireError::BadIhl(_) => "bad_ihl",
            WireError::BadIpLength { .. } => "bad_ip_length",
            WireError::Fragmented => "fragmented",
            WireError::NotVrrp(_) => "not_vrrp",
            WireError::BadTtl(_) => "bad_ttl",
            WireError::Truncated { .. } => "truncated",
            WireError::BadVersion(_) => "bad_version",
            WireError::BadType(_) => "bad_type",
            WireError::V2OverIpv6 => "v2_over_ipv6",
            WireError::LengthMismatch { .. } => "length_mismatch",
            WireError::ZeroVrid => "zero_vrid",
            WireError::ZeroInterval => "zero_interval",
            WireError::UnsupportedAuth(_) => "unsupported_auth",
            WireError::BadChecksum { .. } => "bad_checksum",
        }
    }
}

/// Why an [`Advertisement`](super::Advertisement) could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The output buffer is shorter than [`buffer_len`](super::Advertisement::buffer_len).
    #[error("buffer of {len} bytes, the advertisement needs {needed}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        len: usize,
    },
    /// More than 255 addresses: the count field is one byte.
    #[error("{0} addresses, at most 255 fit in an advertisement")]
    TooManyAddresses(usize),
    /// A VRRPv2 advertisement with IPv6 addresses (RFC 3768 is IPv4 only).
    #[error("VRRPv2 cannot carry IPv6 addresses")]
    V2OverIpv6,
    /// The source or destination address is not of the advertisement's
    /// address family, so no pseudo-header can be built.
    #[error("source and destination must be of the advertisement's address family")]
    FamilyMismatch,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_offending_values() {
        assert_eq!(
            WireError::UnsupportedAuth(2).to_string(),
            "VRRPv2 authentication type 2 is not supported (IP Authentication Header, removed by RFC 3768)"
        );
        assert_eq!(
            WireError::BadIhl(4).to_string(),
            "IPv4 header length 16 bytes (IHL 4), below the 20-byte minimum"
        );
        assert_eq!(
            WireError::BadChecksum { found: 0xab }.to_string(),
            "bad checksum 0x00ab"
        );
        assert_eq!(WireError::BadTtl(64).code(), "bad_ttl");
    }
}
