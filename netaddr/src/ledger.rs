//! [`AddressLedger`]: which addresses this process added, kept on disk, so
//! that shutdown — or the start after a crash — removes exactly those and
//! never an address someone else configured.
//!
//! Rules:
//! - An add that finds the address already there (`EEXIST`) does not make
//!   it ours: it is not recorded, and never removed by us.
//! - Each entry keeps the kernel's creation stamp of the address
//!   (`IFA_CACHEINFO` `cstamp`, 10 ms resolution). If an operator deletes
//!   our address and adds the same one back, the stamp differs: it is
//!   theirs now, and cleanup leaves it alone.
//! - An entry is written as *pending* before the kernel is asked (only
//!   when the address is absent), and made *owned* after. After a crash
//!   between the two, an address found present was absent before our
//!   request, so it is taken as ours.
//! - Addresses do not survive a reboot: a ledger written under another boot
//!   (`/proc/sys/kernel/random/boot_id`) is forgotten without touching the
//!   kernel.
//! - The file is rewritten atomically (temporary file, `fsync`, `rename`,
//!   `fsync` of the directory) after every change. One process per ledger.
//!
//! Interfaces are identified by index; the name is kept for people reading
//! the file.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::address::{AddressInfo, AddressSpec};
use crate::error::{Error, Result};
use crate::handle::{AddOutcome, DeleteOutcome, Handle};
use crate::label::Label;
use crate::link::IfIndex;
use crate::prefix::IpPrefix;

/// The ledger's file name inside the state directory.
pub const LEDGER_FILE: &str = "netaddr-ledger.json";

const VERSION: u32 = 1;

/// Whether an entry's add was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Claim {
    /// Absent, and about to be added; not confirmed.
    Pending,
    /// Added by us; `created` is the kernel's creation stamp (time since boot).
    Owned {
        /// The kernel's creation stamp, when it reports one.
        created: Option<Duration>,
    },
}

/// One address this process added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The interface's name when the address was added.
    pub ifname: String,
    /// The interface.
    pub ifindex: IfIndex,
    /// The address.
    pub address: IpPrefix,
    /// Its label, if any.
    pub label: Option<Label>,
    /// Pending or owned.
    #[serde(flatten)]
    pub claim: Claim,
}

impl LedgerEntry {
    /// Whether the address the kernel has now is the one this entry claims.
    fn claims(&self, present: &AddressInfo) -> bool {
        match (self.claim, present.created) {
            (
                Claim::Owned {
                    created: Some(ours),
                },
                Some(now),
            ) => ours == now,
            (Claim::Owned { .. }, _) => true,
            // It was absent just before our request.
            (Claim::Pending, _) => true,
        }
    }
}

/// What releasing an entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// It was ours and present: removed.
    Removed,
    /// It was already gone (or its interface was): forgotten.
    AlreadyGone,
    /// The address there now is not the one we added (deleted and re-added
    /// by someone else, or never confirmed as ours): forgotten, left alone.
    NotOurs,
    /// The ledger has no such entry: nothing was touched.
    NotOwned,
}

/// What [`AddressLedger::cleanup`] did.
#[derive(Debug, Default)]
pub struct CleanupReport {
    /// Each entry and what happened to it.
    pub released: Vec<(LedgerEntry, Release)>,
    /// Entries written under an earlier boot, forgotten untouched.
    pub previous_boot: Vec<LedgerEntry>,
    /// Entries whose removal failed; they stay in the ledger.
    pub failed: Vec<(LedgerEntry, Error)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LedgerFile {
    version: u32,
    boot_id: Option<String>,
    entries: Vec<LedgerEntry>,
}

/// The addresses this process added, persisted in a state directory.
#[derive(Debug)]
pub struct AddressLedger {
    path: PathBuf,
    boot_id: Option<String>,
    file_boot_id: Option<String>,
    entries: Vec<LedgerEntry>,
}

impl AddressLedger {
    /// Opens (or starts) the ledger `LEDGER_FILE` in `state_dir`, e.g.
    /// `/run/vrrpd`, creating the directory if needed. An unreadable or
    /// corrupt file is an [`Error::Ledger`] naming it; nothing is guessed.
    pub fn open(state_dir: &Path) -> Result<AddressLedger> {
        let path = state_dir.join(LEDGER_FILE);
        fs::create_dir_all(state_dir)
            .map_err(|e| ledger_error(&path, "cannot create the state directory", e))?;
        let boot_id = current_boot_id();
        let (file_boot_id, entries) = match fs::read(&path) {
            Ok(bytes) => {
                let file: LedgerFile =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Ledger {
                        path: path.clone(),
                        detail: format!("corrupt: {e}"),
                        source: None,
                    })?;
                if file.version != VERSION {
                    return Err(Error::Ledger {
                        path,
                        detail: format!(
                            "version {} (this build reads version {VERSION})",
                            file.version
                        ),
                        source: None,
                    });
                }
                (file.boot_id, file.entries)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (boot_id.clone(), Vec::new()),
            Err(e) => return Err(ledger_error(&path, "cannot read", e)),
        };
        Ok(AddressLedger {
            path,
            boot_id,
            file_boot_id,
            entries,
        })
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded entries.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Whether the ledger claims `prefix` on `ifindex`.
    pub fn owns(&self, ifindex: IfIndex, prefix: IpPrefix) -> bool {
        self.position(ifindex, prefix).is_some()
    }

    fn position(&self, ifindex: IfIndex, prefix: IpPrefix) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.ifindex == ifindex && e.address == prefix)
    }

    /// Adds the address through `handle` and records it as ours if the
    /// kernel did not already have it. Re-adding an address we own that an
    /// operator deleted records the new one.
    pub fn add(&mut self, handle: &mut Handle, spec: &AddressSpec) -> Result<AddOutcome> {
        spec.validate()?;
        self.forget_previous_boot()?;
        let link = handle.link_by_index(spec.ifindex)?;
        let present = handle.address(spec.ifindex, spec.prefix)?;
        let previous = self
            .position(spec.ifindex, spec.prefix)
            .map(|i| self.entries.remove(i));
        if let Some(present) = present {
            // Already there: still ours only if it is the very address we
            // added before.
            let had_previous = previous.is_some();
            let keep = previous.filter(|p| p.claims(&present));
            let dropped = had_previous && keep.is_none();
            self.entries.extend(keep);
            if dropped {
                self.save()?;
            }
            return Ok(AddOutcome::AlreadyPresent);
        }
        let pending = LedgerEntry {
            ifname: link.name,
            ifindex: spec.ifindex,
            address: spec.prefix,
            label: spec.label.clone(),
            claim: Claim::Pending,
        };
        self.entries.push(pending.clone());
        if let Err(e) = self.save() {
            // Not recorded, so not attempted.
            self.entries.pop();
            return Err(e);
        }
        let outcome = handle.add_address(spec);
        // The pending entry is the last one; settle it.
        self.entries.pop();
        if let Ok(AddOutcome::Added) = outcome {
            // Without the stamp the entry still claims the address; a failed
            // lookup must not lose track of what we just added.
            let created = handle
                .address(spec.ifindex, spec.prefix)
                .ok()
                .flatten()
                .and_then(|a| a.created);
            self.entries.push(LedgerEntry {
                claim: Claim::Owned { created },
                ..pending
            });
        }
        // AlreadyPresent here means someone else added it in between: theirs.
        self.save()?;
        outcome
    }

    /// Removes an address we own and forgets it. An address the ledger does
    /// not claim is not touched ([`Release::NotOwned`]).
    pub fn remove(
        &mut self,
        handle: &mut Handle,
        ifindex: IfIndex,
        prefix: IpPrefix,
    ) -> Result<Release> {
        let Some(i) = self.position(ifindex, prefix) else {
            return Ok(Release::NotOwned);
        };
        let release = release(handle, &self.entries[i])?;
        self.entries.remove(i);
        self.save()?;
        Ok(release)
    }

    /// Removes every address we own that is still present, and forgets all
    /// entries but those whose removal failed. Call it at shutdown, and at
    /// start-up to clean up after a crash.
    pub fn cleanup(&mut self, handle: &mut Handle) -> Result<CleanupReport> {
        let mut report = CleanupReport {
            previous_boot: self.forget_previous_boot()?,
            ..CleanupReport::default()
        };
        for entry in std::mem::take(&mut self.entries) {
            match release(handle, &entry) {
                Ok(r) => report.released.push((entry, r)),
                Err(e) => report.failed.push((entry, e)),
            }
        }
        self.entries = report.failed.iter().map(|(e, _)| e.clone()).collect();
        self.save()?;
        Ok(report)
    }

    /// Drops entries written under another boot; their addresses died with it.
    fn forget_previous_boot(&mut self) -> Result<Vec<LedgerEntry>> {
        let same_boot = match (&self.file_boot_id, &self.boot_id) {
            (Some(file), Some(now)) => file == now,
            _ => true,
        };
        self.file_boot_id = self.boot_id.clone();
        if same_boot {
            return Ok(Vec::new());
        }
        let stale = std::mem::take(&mut self.entries);
        self.save()?;
        Ok(stale)
    }

    /// Writes the ledger atomically.
    fn save(&self) -> Result<()> {
        let file = LedgerFile {
            version: VERSION,
            boot_id: self.boot_id.clone(),
            entries: self.entries.clone(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| Error::Ledger {
            path: self.path.clone(),
            detail: format!("cannot serialize: {e}"),
            source: None,
        })?;
        bytes.push(b'\n');
        let tmp = self.path.with_extension("json.tmp");
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent() {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| ledger_error(&self.path, "cannot write", e))
    }
}

/// Removes the entry's address if it is still the one we added.
fn release(handle: &mut Handle, entry: &LedgerEntry) -> Result<Release> {
    let present = match handle.address(entry.ifindex, entry.address) {
        Ok(p) => p,
        Err(Error::NoSuchInterface(_)) => return Ok(Release::AlreadyGone),
        Err(e) => return Err(e),
    };
    let Some(present) = present else {
        return Ok(Release::AlreadyGone);
    };
    if !entry.claims(&present) {
        return Ok(Release::NotOurs);
    }
    match handle.delete_address(entry.ifindex, entry.address) {
        Ok(DeleteOutcome::Removed) => Ok(Release::Removed),
        Ok(DeleteOutcome::NotPresent) | Err(Error::NoSuchInterface(_)) => Ok(Release::AlreadyGone),
        Err(e) => Err(e),
    }
}

fn ledger_error(path: &Path, detail: &str, e: io::Error) -> Error {
    Error::Ledger {
        path: path.to_path_buf(),
        detail: detail.to_string(),
        source: Some(e),
    }
}

fn current_boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}
