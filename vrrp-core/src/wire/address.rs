//! Address families and the virtual address list of an advertisement.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IP version an advertisement travels over, which fixes the size of its
/// addresses. The VRRP header does not say; the IP layer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressFamily {
    /// IPv4: 4-byte addresses.
    Ipv4,
    /// IPv6: 16-byte addresses.
    Ipv6,
}

impl AddressFamily {
    /// The size of one address on the wire: 4 or 16 bytes.
    pub const fn address_len(self) -> usize {
        match self {
            AddressFamily::Ipv4 => 4,
            AddressFamily::Ipv6 => 16,
        }
    }

    /// The family of `addr`.
    pub const fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Ipv4,
            IpAddr::V6(_) => AddressFamily::Ipv6,
        }
    }
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressFamily::Ipv4 => "IPv4",
            AddressFamily::Ipv6 => "IPv6",
        })
    }
}

/// The virtual addresses an advertisement carries, all of one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressList {
    /// IPv4 addresses.
    V4(Vec<Ipv4Addr>),
    /// IPv6 addresses.
    V6(Vec<Ipv6Addr>),
}

impl AddressList {
    /// The family of the list.
    pub fn family(&self) -> AddressFamily {
        match self {
            AddressList::V4(_) => AddressFamily::Ipv4,
            AddressList::V6(_) => AddressFamily::Ipv6,
        }
    }

    /// The number of addresses.
    pub fn len(&self) -> usize {
        match self {
            AddressList::V4(a) => a.len(),
            AddressList::V6(a) => a.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = IpAddr> + '_ {
        let (v4, v6): (&[Ipv4Addr], &[Ipv6Addr]) = match self {
            AddressList::V4(a) => (a, &[]),
            AddressList::V6(a) => (&[], a),
        };
        // Exactly one of the two slices is non-empty.
        AddrIter {
            v4: v4.iter(),
            v6: v6.iter(),
        }
    }

    /// Whether `addr` is in the list.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (AddressList::V4(a), IpAddr::V4(x)) => a.contains(&x),
            (AddressList::V6(a), IpAddr::V6(x)) => a.contains(&x),
            _ => false,
        }
    }
}

struct AddrIter<'a> {
    v4: core::slice::Iter<'a, Ipv4Addr>,
    v6: core::slice::Iter<'a, Ipv6Addr>,
}

impl Iterator for AddrIter<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        match self.v4.next() {
            Some(a) => Some(IpAddr::V4(*a)),
            None => self.v6.next().map(|a| IpAddr::V6(*a)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.v4.len() + self.v6.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for AddrIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_report_family_and_contents() {
        let v4 = AddressList::V4(vec![Ipv4Addr::new(198, 18, 0, 100)]);
        assert_eq!(v4.family(), AddressFamily::Ipv4);
        assert_eq!(
            v4.iter().collect::<Vec<_>>(),
            [IpAddr::from([198, 18, 0, 100])]
        );
        assert!(v4.contains(IpAddr::from([198, 18, 0, 100])));
        assert!(!v4.contains(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let v6 = AddressList::V6(vec![Ipv6Addr::LOCALHOST; 3]);
        assert_eq!(v6.iter().len(), 3);
        assert!(AddressList::V6(vec![]).is_empty());
        assert_eq!(
            AddressFamily::of(IpAddr::V6(Ipv6Addr::LOCALHOST)).address_len(),
            16
        );
    }
}
