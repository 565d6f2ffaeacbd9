//! Privilege reduction: once its sockets are open, the daemon keeps only the
//! capabilities it still needs (CAP_NET_ADMIN for addresses and links,
//! CAP_NET_RAW for VRRP and ARP sockets, and CAP_SETUID, CAP_SETGID and
//! CAP_KILL when scripts run as another user) and drops every other one from
//! its effective, permitted, inheritable and bounding sets.
//!
//! Capabilities are per thread: call [`drop_capabilities`] on the main
//! thread before any other thread is started, so every later thread (and
//! every script) inherits the reduced set.

use std::fmt;

/// A Linux capability number (linux/capability.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability(pub u8);

impl Capability {
    /// Send signals to any process (a script run as another user).
    pub const KILL: Capability = Capability(5);
    /// Change group ids (run a script as another group).
    pub const SETGID: Capability = Capability(6);
    /// Change user ids (run a script as another user).
    pub const SETUID: Capability = Capability(7);
    /// Network administration: addresses, links, macvlans, sysctls.
    pub const NET_ADMIN: Capability = Capability(12);
    /// Raw and packet sockets: VRRP, ARP, NA.
    pub const NET_RAW: Capability = Capability(13);

    fn bit(self) -> u64 {
        1u64 << self.0
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Capability::KILL => "CAP_KILL",
            Capability::SETGID => "CAP_SETGID",
            Capability::SETUID => "CAP_SETUID",
            Capability::NET_ADMIN => "CAP_NET_ADMIN",
            Capability::NET_RAW => "CAP_NET_RAW",
            Capability(n) => return write!(f, "capability {n}"),
        };
        f.write_str(name)
    }
}

/// What the daemon keeps: the network pair, plus what running scripts as
/// another user needs when `scripts_change_user`.
pub fn needed(scripts_change_user: bool) -> Vec<Capability> {
    let mut keep = vec![Capability::NET_ADMIN, Capability::NET_RAW];
    if scripts_change_user {
        keep.extend([Capability::SETUID, Capability::SETGID, Capability::KILL]);
    }
    keep
}

/// Why capabilities could not be reduced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SystemError {
    /// Reading or changing a capability set failed.
    #[error("{what}: {source}")]
    Capabilities {
        /// What was being done.
        what: &'static str,
        /// The error of the `caps` crate (prctl or capset).
        source: caps::errors::CapsError,
    },
}

/// Keeps only `keep` in the calling thread's effective and permitted sets,
/// empties its inheritable set, and removes everything else from the
/// bounding set. Without CAP_SETPCAP (not root) the bounding set cannot be
/// changed; then only the sets are reduced.
pub fn drop_capabilities(keep: &[Capability]) -> Result<(), SystemError> {
    use caps::CapSet;
    let kept = |c: &caps::Capability| keep.iter().any(|k| k.0 == c.index());
    let can_bound =
        caps::has_cap(None, CapSet::Effective, caps::Capability::CAP_SETPCAP).unwrap_or(false);
    if can_bound {
        for cap in caps::all().iter().filter(|c| !kept(c)) {
            // A capability this kernel does not know cannot be read: skip it.
            if caps::has_cap(None, CapSet::Bounding, *cap).unwrap_or(false) {
                caps::drop(None, CapSet::Bounding, *cap).map_err(|source| {
                    SystemError::Capabilities {
                        what: "dropping from the bounding set",
                        source,
                    }
                })?;
            }
        }
    }
    let wanted: caps::CapsHashSet = caps::all().into_iter().filter(|c| kept(c)).collect();
    let set = |cset: CapSet, value: &caps::CapsHashSet, what: &'static str| {
        caps::set(None, cset, value).map_err(|source| SystemError::Capabilities { what, source })
    };
    // Effective before permitted: it must stay a subset.
    let effective = caps::read(None, CapSet::Effective)
        .map_err(|source| SystemError::Capabilities {
            what: "reading the effective set",
            source,
        })?
        .intersection(&wanted)
        .copied()
        .collect();
    set(CapSet::Effective, &effective, "reducing the effective set")?;
    let permitted = caps::read(None, CapSet::Permitted)
        .map_err(|source| SystemError::Capabilities {
            what: "reading the permitted set",
            source,
        })?
        .intersection(&wanted)
        .copied()
        .collect();
    set(CapSet::Permitted, &permitted, "reducing the permitted set")?;
    set(
        CapSet::Inheritable,
        &caps::CapsHashSet::new(),
        "emptying the inheritable set",
    )?;
    Ok(())
}

/// A process's capability sets, as /proc/PID/status shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapabilitySets {
    /// CapEff.
    pub effective: u64,
    /// CapPrm.
    pub permitted: u64,
    /// CapInh.
    pub inheritable: u64,
    /// CapBnd.
    pub bounding: u64,
}

impl CapabilitySets {
    /// Parses the `Cap*` lines of a /proc/PID/status text.
    pub fn parse(status: &str) -> Option<CapabilitySets> {
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        };
        Some(CapabilitySets {
            effective: field("CapEff:")?,
            permitted: field("CapPrm:")?,
            inheritable: field("CapInh:")?,
            bounding: field("CapBnd:")?,
        })
    }

    /// Reads /proc/`pid`/status.
    pub fn of_pid(pid: u32) -> Option<CapabilitySets> {
        CapabilitySets::parse(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
    }

    /// The mask of `caps`.
    pub fn mask(caps: &[Capability]) -> u64 {
        caps.iter().fold(0, |m, c| m | c.bit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_status_parses() {
        let text = "Name:\tvrrpd\nCapInh:\t0000000000000000\nCapPrm:\t0000000000003000\n\
                    CapEff:\t0000000000003000\nCapBnd:\t0000000000003000\nCapAmb:\t0000000000000000\n";
        let sets = CapabilitySets::parse(text).unwrap();
        assert_eq!(sets.effective, CapabilitySets::mask(&needed(false)));
        assert_eq!(sets.bounding, 0x3000);
        assert_eq!(CapabilitySets::parse("Name: x\n"), None);
    }

    /// Runs in a child process (this test binary re-executed) so the test
    /// harness keeps its own capabilities.
    #[test]
    fn dropping_keeps_exactly_the_needed_capabilities() {
        if std::env::var_os("VRRPD_CAPS_CHILD").is_some() {
            drop_capabilities(&needed(false)).unwrap();
            // The test runs on a harness thread: read that thread's sets.
            let tid = nix::unistd::gettid();
            let path = format!("/proc/self/task/{tid}/status");
            let t = CapabilitySets::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
            println!(
                "\nCAPS {:x} {:x} {:x} {:x}",
                t.effective, t.permitted, t.inheritable, t.bounding
            );
            return;
        }
        if !nix::unistd::geteuid().is_root() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root"
            );
            eprintln!("skipped: not root");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "system::tests::dropping_keeps_exactly_the_needed_capabilities",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("VRRPD_CAPS_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.split_once("CAPS ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("child said: {text}"));
        let v: Vec<u64> = line
            .split_whitespace()
            .map(|w| u64::from_str_radix(w, 16).unwrap())
            .collect();
        let want = CapabilitySets::mask(&needed(false));
        assert_eq!(
            v,
            vec![want, want, 0, want],
            "effective, permitted, inheritable, bounding"
        );
    }
}
