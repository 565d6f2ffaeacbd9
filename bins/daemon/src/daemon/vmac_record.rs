//! What the daemon changed on the host for its macvlans (keepalived's
//! `use_vmac`), kept in the state directory so that the next start undoes
//! it after a crash or a `kill -9`: the macvlans it created, and the
//! parents' sysctls as they were before. A clean stop undoes the same
//! itself and forgets the record.
//!
//! Without it, a restarted daemon found its crashed predecessor's macvlan,
//! took it for someone else's, and left it (and `arp_ignore`,
//! `arp_filter`, `arp_announce` on the parent) behind at its own stop.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use vrrp_netaddr::{Handle, IfIndex};

/// The record's file in the state directory.
pub(crate) const FILE: &str = "vmacs.json";

/// One macvlan the daemon created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VmacRecord {
    /// Its name.
    pub(crate) name: String,
    /// Its index (a link of that name with another index is not ours).
    pub(crate) ifindex: u32,
    /// The parent's sysctl files it changed and their values before, in
    /// the order they were changed.
    pub(crate) parent_sysctls: Vec<(PathBuf, String)>,
}

/// The records in `state_dir`, oldest first (read as a planted file, up
/// to [`crate::planted::MAX_CONFIG`] bytes). A missing file is none; an
/// unreadable or corrupt one is logged and taken as none.
fn load(state_dir: &Path) -> Vec<VmacRecord> {
    let path = state_dir.join(FILE);
    let bytes = match crate::planted::read_config(&path) {
        Ok(bytes) => bytes,
        Err(crate::planted::PlantedFileError::Io(e))
            if e.kind() == std::io::ErrorKind::NotFound =>
        {
            return Vec::new();
        }
        Err(e) => {
            warn!(path = %path.display(), error = %e, "cannot read the macvlan record");
            return Vec::new();
        }
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        warn!(path = %path.display(), error = %e, "corrupt macvlan record ignored");
        Vec::new()
    })
}

/// Writes `records` atomically (a temporary file, then a rename).
fn save(state_dir: &Path, records: &[VmacRecord]) {
    let path = state_dir.join(FILE);
    let write = || -> std::io::Result<()> {
        if records.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let text = serde_json::to_string_pretty(records).map_err(std::io::Error::other)?;
        let tmp = state_dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        warn!(path = %path.display(), error = %e,
            "cannot write the macvlan record: a crash now would leave a macvlan behind");
    }
}

/// Records a macvlan the daemon just created.
pub(crate) fn add(state_dir: &Path, record: VmacRecord) {
    let mut records = load(state_dir);
    records.retain(|r| r.name != record.name);
    records.push(record);
    save(state_dir, &records);
}

/// Forgets `name` (deleted at a clean stop).
pub(crate) fn remove(state_dir: &Path, name: &str) {
    let mut records = load(state_dir);
    let before = records.len();
    records.retain(|r| r.name != name);
    if records.len() != before {
        save(state_dir, &records);
    }
}

/// Whether `path` is a sysctl the record may write back: an IPv4
/// interface knob, nothing else.
fn is_parent_sysctl(path: &Path) -> bool {
    path.starts_with("/proc/sys/net/ipv4/conf/")
        && path.components().count() == 8
        && !path.to_string_lossy().contains("..")
}

/// At start, before anything is created: deletes every recorded macvlan
/// that is still there (same name, same index) and writes the parents'
/// sysctls back, newest first; then forgets the record.
pub(crate) fn clean_up(state_dir: &Path, handle: &mut Handle) {
    let records = load(state_dir);
    for r in records.iter().rev() {
        let ours = IfIndex::new(r.ifindex)
            .and_then(|i| handle.link_by_index(i).ok())
            .filter(|l| l.name == r.name);
        if let Some(link) = ours {
            match handle.delete_link(link.index) {
                Ok(_) => info!(interface = %r.name, "deleted a macvlan left by a previous run"),
                Err(e) => warn!(interface = %r.name, error = %e,
                    "cannot delete a macvlan left by a previous run"),
            }
        }
        for (path, value) in r.parent_sysctls.iter().rev() {
            if !is_parent_sysctl(path) {
                warn!(path = %path.display(), "macvlan record names a file that is not an interface sysctl; skipped");
                continue;
            }
            if let Err(e) = std::fs::write(path, value) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    warn!(path = %path.display(), error = %e, "cannot restore a sysctl left by a previous run");
                }
            }
        }
    }
    if !records.is_empty() {
        save(state_dir, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_add_replace_and_remove_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let rec = |name: &str, i: u32| VmacRecord {
            name: name.into(),
            ifindex: i,
            parent_sysctls: vec![("/proc/sys/net/ipv4/conf/eth0/arp_ignore".into(), "0".into())],
        };
        assert!(load(dir.path()).is_empty());
        add(dir.path(), rec("vrrp.1", 7));
        add(dir.path(), rec("vrrp.2", 8));
        add(dir.path(), rec("vrrp.1", 9));
        let names: Vec<_> = load(dir.path())
            .into_iter()
            .map(|r| (r.name, r.ifindex))
            .collect();
        assert_eq!(
            names,
            [("vrrp.2".to_string(), 8), ("vrrp.1".to_string(), 9)]
        );
        remove(dir.path(), "vrrp.2");
        remove(dir.path(), "vrrp.1");
        assert!(
            !dir.path().join(FILE).exists(),
            "an empty record is no file"
        );
        std::fs::write(dir.path().join(FILE), "{not json").unwrap();
        assert!(load(dir.path()).is_empty());
    }

    #[test]
    fn only_interface_sysctls_are_written_back() {
        assert!(is_parent_sysctl(Path::new(
            "/proc/sys/net/ipv4/conf/eth0/arp_ignore"
        )));
        for bad in [
            "/etc/passwd",
            "/proc/sys/net/ipv4/conf/eth0/../../../../kernel/core_pattern",
            "/proc/sys/net/ipv4/conf/eth0",
            "/proc/sys/net/ipv4/ip_forward",
        ] {
            assert!(!is_parent_sysctl(Path::new(bad)), "{bad}");
        }
    }
}
