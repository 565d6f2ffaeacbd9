//! Parsing of `address[/prefix]` strings shared by both front-ends.

use std::net::IpAddr;

/// Why an `address[/prefix]` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PrefixError {
    /// The address part is not an IP address.
    #[error("`{0}` is not an IP address")]
    Address(String),
    /// The prefix is not a number in range for the family.
    #[error("prefix length `{0}` is not in 0..={1}")]
    Prefix(String, u8),
}

/// Parses `198.18.0.1`, `198.18.0.1/24`, `fd00::1/64`. A bare address gets
/// a host prefix (/32 or /128), as in keepalived.
pub(crate) fn parse_prefixed(text: &str) -> Result<(IpAddr, u8), PrefixError> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let address: IpAddr = addr
        .parse()
        .map_err(|_| PrefixError::Address(addr.to_string()))?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max && !p.starts_with('+') => n,
            _ => return Err(PrefixError::Prefix(p.to_string(), max)),
        },
    };
    Ok((address, prefix_len))
}

/// Parses a plain IP address (no prefix).
pub(crate) fn parse_ip(text: &str) -> Result<IpAddr, PrefixError> {
    text.parse()
        .map_err(|_| PrefixError::Address(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_forms() {
        assert_eq!(
            parse_prefixed("198.18.0.1").unwrap(),
            ("198.18.0.1".parse().unwrap(), 32)
        );
        assert_eq!(
            parse_prefixed("198.18.0.1/24").unwrap(),
            ("198.18.0.1".parse().unwrap(), 24)
        );
        assert_eq!(
            parse_prefixed("fd00:198:18::1").unwrap(),
            ("fd00:198:18::1".parse().unwrap(), 128)
        );
        assert_eq!(parse_prefixed("fd00::1/64").unwrap().1, 64);
    }

    #[test]
    fn prefixed_errors() {
        assert!(matches!(
            parse_prefixed("198.18.0.1/33"),
            Err(PrefixError::Prefix(_, 32))
        ));
        assert!(matches!(
            parse_prefixed("fd00::1/129"),
            Err(PrefixError::Prefix(_, 128))
        ));
        assert!(matches!(
            parse_prefixed("198.18.0.1/+8"),
            Err(PrefixError::Prefix(..))
        ));
        assert!(matches!(
            parse_prefixed("198.18.0.1/"),
            Err(PrefixError::Prefix(..))
        ));
        assert!(matches!(
            parse_prefixed("eth0"),
            Err(PrefixError::Address(_))
        ));
        assert!(parse_ip("198.18.0.1/24").is_err());
    }
}
