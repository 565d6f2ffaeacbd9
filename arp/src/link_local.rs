//! The IPv6 link-local address of an interface: the source of unsolicited
//! Neighbor Advertisements.

use std::io;
use std::net::Ipv6Addr;

/// The kernel's list of IPv6 addresses for the calling *thread's* network
/// namespace. `/proc/net` follows the process's main thread instead, which is
/// wrong for a thread that entered another namespace with `setns`.
const IF_INET6: &str = "/proc/thread-self/net/if_inet6";

/// `IFA_F_DADFAILED` (`linux/if_addr.h`).
const IFA_F_DADFAILED: u32 = 0x08;
/// `IFA_F_TENTATIVE`: duplicate address detection is still running.
const IFA_F_TENTATIVE: u32 = 0x40;

/// Why no usable link-local address was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkLocalError {
    /// The address list could not be read (IPv6 may be disabled).
    #[error("reading {IF_INET6}: {0}")]
    Read(#[source] io::Error),
    /// A line of the address list did not have the expected fields.
    #[error("line {line} of {IF_INET6} is malformed")]
    Malformed {
        /// The line number, from 1.
        line: usize,
    },
    /// The interface has no link-local address (or does not exist).
    #[error("interface {ifindex} has no IPv6 link-local address")]
    Missing {
        /// The interface index.
        ifindex: u32,
    },
    /// The only link-local address is still tentative: duplicate address
    /// detection takes about a second after the link comes up. Retry later.
    #[error("link-local {address} of interface {ifindex} is still tentative (DAD in progress)")]
    Tentative {
        /// The interface index.
        ifindex: u32,
        /// The tentative address.
        address: Ipv6Addr,
    },
    /// The only link-local address failed duplicate address detection.
    #[error("link-local {address} of interface {ifindex} failed duplicate address detection")]
    DadFailed {
        /// The interface index.
        ifindex: u32,
        /// The duplicated address.
        address: Ipv6Addr,
    },
}

/// The usable (not tentative, not DAD-failed) link-local address of
/// interface `ifindex` in the calling thread's network namespace, read from
/// `/proc/thread-self/net/if_inet6`.
///
/// Right after a link comes up the address is tentative for about a second
/// (`dad_transmits` × `retrans_time`); this returns
/// [`LinkLocalError::Tentative`] then, and the caller should retry or use
/// another address of the interface as the source.
pub fn link_local_address(ifindex: u32) -> Result<Ipv6Addr, LinkLocalError> {
    let text = std::fs::read_to_string(IF_INET6).map_err(LinkLocalError::Read)?;
    find_link_local(&text, ifindex)
}

/// Finds the link-local address of `ifindex` in the text of `if_inet6`, whose
/// lines are `address ifindex prefix-length scope flags name`, all hex but the name.
fn find_link_local(text: &str, ifindex: u32) -> Result<Ipv6Addr, LinkLocalError> {
    let mut unusable = None;
    for (n, line) in text.lines().enumerate() {
        let malformed = || LinkLocalError::Malformed { line: n + 1 };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [address, index, _prefix_len, _scope, flags, _name] = fields[..] else {
            return Err(malformed());
        };
        let index = u32::from_str_radix(index, 16).map_err(|_| malformed())?;
        if index != ifindex {
            continue;
        }
        if address.len() != 32 {
            return Err(malformed());
        }
        let address = Ipv6Addr::from(u128::from_str_radix(address, 16).map_err(|_| malformed())?);
        let flags = u32::from_str_radix(flags, 16).map_err(|_| malformed())?;
        if !address.is_unicast_link_local() {
            continue;
        }
        if flags & IFA_F_DADFAILED != 0 {
            unusable.get_or_insert(LinkLocalError::DadFailed { ifindex, address });
        } else if flags & IFA_F_TENTATIVE != 0 {
            unusable = Some(LinkLocalError::Tentative { ifindex, address });
        } else {
            return Ok(address);
        }
    }
    Err(unusable.unwrap_or(LinkLocalError::Missing { ifindex }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines in the kernel's format: a veth `eth0` (index 2), `lo`, and a
    // tentative `eth1` (flags 0xc0 = permanent + tentative).
    const SAMPLE: &str = "\
fd00019800180000000000000000000a 00000002 40 00 80     eth0
00000000000000000000000000000001 00000001 80 10 80       lo
fe80000000000000a02900fffed14068 00000002 40 20 80     eth0
fe800000000000008c1783fffeff9995 00000003 40 20 c0     eth1
";

    #[test]
    fn picks_the_link_local_of_the_right_interface() {
        assert_eq!(
            find_link_local(SAMPLE, 2).unwrap(),
            "fe80::a029:ff:fed1:4068".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn tentative_and_missing_addresses_are_distinct_errors() {
        assert!(matches!(
            find_link_local(SAMPLE, 3),
            Err(LinkLocalError::Tentative { ifindex: 3, .. })
        ));
        // lo has ::1 but no link-local address.
        assert!(matches!(
            find_link_local(SAMPLE, 1),
            Err(LinkLocalError::Missing { ifindex: 1 })
        ));
        let failed = "fe800000000000008c1783fffeff9995 00000004 40 20 88 eth2\n";
        assert!(matches!(
            find_link_local(failed, 4),
            Err(LinkLocalError::DadFailed { ifindex: 4, .. })
        ));
    }

    #[test]
    fn a_usable_address_wins_over_a_tentative_one() {
        let text = "\
fe800000000000000000000000000001 00000005 40 20 c0 eth5
fe800000000000000000000000000002 00000005 40 20 80 eth5
";
        assert_eq!(
            find_link_local(text, 5).unwrap(),
            "fe80::2".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let text = "fe800000000000000000000000000001 00000005 40 20 80 eth5\nfe80 nonsense\n";
        assert!(matches!(
            find_link_local(text, 9),
            Err(LinkLocalError::Malformed { line: 2 })
        ));
        let short_address = "fe80000000000000000000000001 00000005 40 20 80 eth5\n";
        assert!(matches!(
            find_link_local(short_address, 5),
            Err(LinkLocalError::Malformed { line: 1 })
        ));
    }

    #[test]
    fn reads_the_live_list_of_this_namespace() {
        // `lo` (index 1) never has a link-local address; any other outcome
        // than Missing or Read (IPv6 disabled) is wrong.
        match link_local_address(1) {
            Err(LinkLocalError::Missing { ifindex: 1 } | LinkLocalError::Read(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
