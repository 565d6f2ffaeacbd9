//! Per-interface IPv4 settings (`/proc/sys/net/ipv4/conf/IF/*`) that a
//! virtual-MAC interface and its parent need, as keepalived sets them
//! (`vrrp_if_config.c`). Nothing here runs implicitly: the daemon calls
//! [`configure_vmac`] after [`crate::Handle::create_macvlan`] and
//! [`SysctlRestore::restore`] when it stops.
//!
//! On the macvlan:
//! - `arp_ignore=1`: answer ARP only for addresses configured on the
//!   interface the request arrived on, so the macvlan never answers for the
//!   parent's own addresses with the virtual MAC.
//! - `accept_local=0`: drop what arrives with a local source address.
//!   keepalived sets 1 here, but then a router still holding the VIP
//!   answers the new Active's gratuitous ARP (sender = target = VIP) from
//!   the virtual MAC, which moves that MAC to its own switch port and
//!   black-holes the VIP until the next announcement. Advertisements are
//!   received on the parent, so nothing needs the 1.
//! - `rp_filter=0`: the macvlan may have no address of its own, and strict
//!   reverse-path filtering would drop what arrives on it. The kernel uses
//!   the larger of `conf/all/rp_filter` and the interface's value, so a host
//!   with `all.rp_filter=1` needs that changed too; this module leaves
//!   `all` alone.
//! - `promote_secondaries=1`: deleting the primary address of a subnet
//!   promotes a secondary instead of deleting every secondary with it.
//!
//! On the parent:
//! - `arp_ignore=1`: with Linux's weak host model the parent would answer
//!   ARP for the virtual addresses (which live on the macvlan) with its own
//!   MAC; this stops it.
//! - `arp_filter=1`: answer ARP on an interface only if the kernel would
//!   route the reply out of that interface.
//!
//! The parent's previous values are saved in the returned
//! [`SysctlRestore`]; the macvlan's vanish with the macvlan.
//!
//! Network namespaces: `/proc/sys/net` shows the namespace of the *thread*
//! that opens the file. We checked that a thread which `setns(2)`'d into a
//! namespace reads and writes that namespace's values (the integration test
//! `vmac_sysctls_apply_in_the_namespace` does so), so call these functions
//! from the thread that owns the [`crate::Handle`].

use std::fs;
use std::io;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::link::validate_ifname;

/// An IPv4 per-interface knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ipv4Conf {
    /// `arp_ignore`: which ARP requests to answer.
    ArpIgnore,
    /// `arp_filter`: answer ARP only on the interface the reply would leave by.
    ArpFilter,
    /// `accept_local`: accept packets with a local source address.
    AcceptLocal,
    /// `rp_filter`: reverse-path filtering (0 off, 1 strict, 2 loose).
    RpFilter,
    /// `promote_secondaries`: keep secondaries when the primary goes.
    PromoteSecondaries,
}

impl Ipv4Conf {
    /// The file name under `/proc/sys/net/ipv4/conf/IF/`.
    pub fn key(self) -> &'static str {
        match self {
            Ipv4Conf::ArpIgnore => "arp_ignore",
            Ipv4Conf::ArpFilter => "arp_filter",
            Ipv4Conf::AcceptLocal => "accept_local",
            Ipv4Conf::RpFilter => "rp_filter",
            Ipv4Conf::PromoteSecondaries => "promote_secondaries",
        }
    }
}

/// `/proc/sys/net/ipv4/conf/IFNAME/KEY`, after checking the name cannot
/// escape that directory.
pub fn ipv4_conf_path(ifname: &str, knob: Ipv4Conf) -> Result<PathBuf> {
    validate_ifname(ifname)?;
    Ok(PathBuf::from("/proc/sys/net/ipv4/conf")
        .join(ifname)
        .join(knob.key()))
}

/// Reads a knob.
pub fn read_ipv4_conf(ifname: &str, knob: Ipv4Conf) -> Result<u32> {
    let path = ipv4_conf_path(ifname, knob)?;
    let text = fs::read_to_string(&path).map_err(|e| sysctl_error(&path, "cannot read", e))?;
    text.trim().parse().map_err(|_| Error::Sysctl {
        detail: format!("{:?} is not a number", text.trim()),
        path,
        source: None,
    })
}

/// Writes a knob.
pub fn write_ipv4_conf(ifname: &str, knob: Ipv4Conf, value: u32) -> Result<()> {
    let path = ipv4_conf_path(ifname, knob)?;
    fs::write(&path, format!("{value}\n")).map_err(|e| sysctl_error(&path, "cannot write", e))
}

fn sysctl_error(path: &std::path::Path, what: &str, e: io::Error) -> Error {
    Error::Sysctl {
        path: path.to_path_buf(),
        detail: what.to_string(),
        source: Some(e),
    }
}

/// One knob changed from `previous` to `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SysctlChange {
    /// The interface.
    pub ifname: String,
    /// The knob.
    pub knob: Ipv4Conf,
    /// The value before.
    pub previous: u32,
    /// The value set.
    pub value: u32,
}

/// The knobs a call changed, to put back later.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "restore() puts the parent's settings back when the daemon stops"]
pub struct SysctlRestore {
    changes: Vec<SysctlChange>,
}

impl SysctlRestore {
    /// What was changed (knobs already at the wanted value are not listed).
    pub fn changes(&self) -> &[SysctlChange] {
        &self.changes
    }

    /// Writes the previous values back, newest first. Interfaces that no
    /// longer exist are skipped.
    pub fn restore(self) -> Result<()> {
        for c in self.changes.iter().rev() {
            match write_ipv4_conf(&c.ifname, c.knob, c.previous) {
                Err(Error::Sysctl {
                    source: Some(e), ..
                }) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(())
    }

    fn set(&mut self, ifname: &str, knob: Ipv4Conf, value: u32) -> Result<()> {
        let previous = read_ipv4_conf(ifname, knob)?;
        if previous != value {
            write_ipv4_conf(ifname, knob, value)?;
            self.changes.push(SysctlChange {
                ifname: ifname.to_string(),
                knob,
                previous,
                value,
            });
        }
        Ok(())
    }
}

/// Applies the settings described in the [module documentation](self) to
/// the macvlan `vmac` and its `parent`.
pub fn configure_vmac(vmac: &str, parent: &str) -> Result<SysctlRestore> {
    let mut restore = SysctlRestore::default();
    for (knob, value) in [
        (Ipv4Conf::ArpIgnore, 1),
        (Ipv4Conf::AcceptLocal, 0),
        (Ipv4Conf::RpFilter, 0),
        (Ipv4Conf::PromoteSecondaries, 1),
    ] {
        restore.set(vmac, knob, value)?;
    }
    restore.set(parent, Ipv4Conf::ArpIgnore, 1)?;
    restore.set(parent, Ipv4Conf::ArpFilter, 1)?;
    Ok(restore)
}

/// `net.ipv4.igmp_link_local_mcast_reports`: whether this network
/// namespace sends IGMP reports for groups in 224.0.0.0/24 (Linux ≥ 4.3).
pub const IGMP_LINK_LOCAL_REPORTS: &str = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";

/// Sets [`IGMP_LINK_LOCAL_REPORTS`] to `on` and returns what it was
/// (keepalived's `disable_local_igmp` turns them off: switches flood
/// 224.0.0.0/24 anyway, RFC 4541 §2.1.2).
pub fn set_local_igmp_reports(on: bool) -> Result<bool> {
    let path = PathBuf::from(IGMP_LINK_LOCAL_REPORTS);
    let text = fs::read_to_string(&path).map_err(|e| sysctl_error(&path, "cannot read", e))?;
    let previous = match text.trim() {
        "0" => false,
        "1" => true,
        other => {
            return Err(Error::Sysctl {
                detail: format!("{other:?} is not 0 or 1"),
                path,
                source: None,
            });
        }
    };
    if previous != on {
        fs::write(&path, if on { "1\n" } else { "0\n" })
            .map_err(|e| sysctl_error(&path, "cannot write", e))?;
    }
    Ok(previous)
}

/// Sets `promote_secondaries=1` on an interface that carries virtual
/// addresses without a macvlan, so that removing one that happens to be the
/// primary of its subnet does not take the other addresses of the subnet
/// with it.
pub fn enable_promote_secondaries(ifname: &str) -> Result<SysctlRestore> {
    let mut restore = SysctlRestore::default();
    restore.set(ifname, Ipv4Conf::PromoteSecondaries, 1)?;
    Ok(restore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape() {
        assert_eq!(
            ipv4_conf_path("vrrp.1", Ipv4Conf::ArpIgnore).unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/conf/vrrp.1/arp_ignore")
        );
        assert!(ipv4_conf_path("..", Ipv4Conf::ArpIgnore).is_err());
        assert!(ipv4_conf_path("a/../../x", Ipv4Conf::ArpIgnore).is_err());
    }

    #[test]
    fn missing_interface_is_a_typed_error_with_the_path() {
        let err = read_ipv4_conf("nosuchif0x", Ipv4Conf::ArpFilter).unwrap_err();
        assert!(
            matches!(&err, Error::Sysctl { path, .. } if path.ends_with("nosuchif0x/arp_filter")),
            "{err:?}"
        );
    }
}
