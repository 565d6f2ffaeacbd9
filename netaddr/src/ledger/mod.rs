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
//!   when the address is absent), and made *owned* after, by
//!   [`AddressLedger::settle`]. After a crash between the two, an address
//!   found present was absent before our request, so it is taken as ours.
//! - Addresses do not survive a reboot: a ledger written under another boot
//!   (`/proc/sys/kernel/random/boot_id`) is forgotten without touching the
//!   kernel.
//! - Every change is one line appended to a journal ([`JOURNAL_FILE`]), so
//!   recording an address costs the same with 1,000 entries as with one.
//!   When the journal has grown past twice the entries, it is folded into
//!   the snapshot ([`LEDGER_FILE`]). The `store` module says what is synced
//!   and why. One process per ledger.
//!
//! Interfaces are identified by index; the name is kept for people reading
//! the file.

mod batch;
mod routing;
mod store;

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::address::{AddressInfo, AddressSpec};
use crate::error::{Error, Result};
use crate::handle::{AddOutcome, Handle};
use crate::label::Label;
use crate::link::IfIndex;
use crate::prefix::IpPrefix;
pub use batch::PROGRESS_EVERY;
pub use routing::{ROUTING_LEDGER_FILE, Routing, RoutingEntry, RoutingLedger};
pub use store::{JOURNAL_FILE, LEDGER_FILE};
use store::{JournalOp, Store};

/// The journal is folded into the snapshot once it has more lines than
/// this many plus twice the entries.
const JOURNAL_SLACK: usize = 64;

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
    /// The entry an add of `spec` on the interface called `ifname` records
    /// before asking the kernel.
    fn pending(ifname: String, spec: &AddressSpec) -> Self {
        LedgerEntry {
            ifname,
            ifindex: spec.ifindex,
            address: spec.prefix,
            label: spec.label.clone(),
            claim: Claim::Pending,
        }
    }

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

/// The addresses this process added, persisted in a state directory.
#[derive(Debug)]
pub struct AddressLedger {
    store: Store,
    boot_id: Option<String>,
    file_boot_id: Option<String>,
    entries: Vec<LedgerEntry>,
    /// Where each (interface, address) is in `entries`: a batch of 2,000
    /// looked each one up by a scan and removed it by shifting the rest,
    /// which was quadratic (about 20 ms for a clean stop).
    index: HashMap<(IfIndex, IpPrefix), usize>,
}

impl AddressLedger {
    /// Opens (or starts) the ledger `LEDGER_FILE` in `state_dir`, e.g.
    /// `/run/vrrpd`, creating the directory if needed. An unreadable,
    /// unwritable or corrupt file is an [`Error::Ledger`] naming it;
    /// nothing is guessed.
    pub fn open(state_dir: &Path) -> Result<AddressLedger> {
        let store = Store::new(state_dir)?;
        let boot_id = current_boot_id();
        let loaded = store.load(boot_id.as_deref())?;
        let mut ledger = AddressLedger {
            store,
            boot_id,
            file_boot_id: loaded.boot_id,
            entries: Vec::new(),
            index: HashMap::new(),
        };
        ledger.set_entries(loaded.entries);
        for op in loaded.journal {
            ledger.apply(op);
        }
        // Start from one clean snapshot of this boot: journal lines are
        // only ever appended beside one. A ledger of an earlier boot is
        // rewritten when it is forgotten.
        if ledger.same_boot() && (loaded.had_journal || !loaded.had_snapshot) {
            ledger.save()?;
        }
        Ok(ledger)
    }

    /// Applies one journal operation to the entries.
    fn apply(&mut self, op: JournalOp) {
        match op {
            JournalOp::Put(entry) => match self.position(entry.ifindex, entry.address) {
                Some(i) => self.entries[i] = entry,
                None => self.push_entry(entry),
            },
            JournalOp::Del { ifindex, address } => {
                if let Some(i) = self.position(ifindex, address) {
                    self.take_entry(i);
                }
            }
        }
    }

    /// Records `op`, which the caller has already applied to the entries,
    /// before the kernel is asked to act on it (the batches write many).
    #[cfg(test)]
    fn record(&mut self, op: &JournalOp) -> Result<()> {
        self.store.append(op)
    }

    /// Folds the journal into the snapshot once it has grown long.
    fn compact_if_long(&mut self) -> Result<()> {
        if self.store.journal_lines() >= JOURNAL_SLACK + 2 * self.entries.len() {
            self.save()?;
        }
        Ok(())
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        self.store.path()
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
        self.index.get(&(ifindex, prefix)).copied()
    }

    /// Appends `entry` (whose address has no entry yet).
    fn push_entry(&mut self, entry: LedgerEntry) {
        self.index
            .insert((entry.ifindex, entry.address), self.entries.len());
        self.entries.push(entry);
    }

    /// Takes the entry at `j` out; the last entry takes its place.
    fn take_entry(&mut self, j: usize) -> LedgerEntry {
        let entry = self.entries.swap_remove(j);
        self.index.remove(&(entry.ifindex, entry.address));
        if let Some(moved) = self.entries.get(j) {
            self.index.insert((moved.ifindex, moved.address), j);
        }
        entry
    }

    /// Replaces every entry.
    fn set_entries(&mut self, entries: Vec<LedgerEntry>) {
        self.entries = Vec::new();
        self.index.clear();
        for e in entries {
            match self.position(e.ifindex, e.address) {
                Some(j) => self.entries[j] = e,
                None => self.push_entry(e),
            }
        }
    }

    /// Adds the address through `handle` and records it as ours if the
    /// kernel did not already have it. Re-adding an address we own that an
    /// operator deleted records the new one. This is
    /// [`add_unsettled`](Self::add_unsettled) followed by
    /// [`settle`](Self::settle).
    pub fn add(&mut self, handle: &mut Handle, spec: &AddressSpec) -> Result<AddOutcome> {
        let outcome = self.add_unsettled(handle, spec)?;
        self.settle(handle)?;
        Ok(outcome)
    }

    /// Adds the address like [`add`](Self::add), but leaves the new entry
    /// pending: the time-critical part of an add (a takeover announces
    /// the address right after it). Call [`settle`](Self::settle) soon
    /// after; until then, an operator deleting the address and adding it
    /// back would not be told apart from ours.
    pub fn add_unsettled(&mut self, handle: &mut Handle, spec: &AddressSpec) -> Result<AddOutcome> {
        self.add_unsettled_all(handle, std::slice::from_ref(spec))?
            .pop()
            .unwrap_or(Ok(AddOutcome::AlreadyPresent))
    }

    /// Readies an add of `spec` without changing anything: the link and
    /// address lookups an add makes, and the journal opened, so that a
    /// takeover right after finds them warm.
    pub fn prepare_add(&mut self, handle: &mut Handle, spec: &AddressSpec) -> Result<()> {
        self.prepare_add_all(handle, std::slice::from_ref(spec))
    }

    /// Removes an address we own and forgets it. An address the ledger does
    /// not claim is not touched ([`Release::NotOwned`]).
    pub fn remove(
        &mut self,
        handle: &mut Handle,
        ifindex: IfIndex,
        prefix: IpPrefix,
    ) -> Result<Release> {
        self.remove_all(handle, &[(ifindex, prefix)])?
            .pop()
            .unwrap_or(Ok(Release::NotOwned))
    }

    /// Removes every address we own that is still present, and forgets all
    /// entries but those whose removal failed. Call it at shutdown, and at
    /// start-up to clean up after a crash.
    pub fn cleanup(&mut self, handle: &mut Handle) -> Result<CleanupReport> {
        let mut report = CleanupReport {
            previous_boot: self.forget_previous_boot()?,
            ..CleanupReport::default()
        };
        let mut seen = batch::Interfaces::default();
        self.index.clear();
        for entry in std::mem::take(&mut self.entries) {
            match batch::release(handle, &mut seen, &entry) {
                Ok(r) => report.released.push((entry, r)),
                Err(e) => report.failed.push((entry, e)),
            }
        }
        self.set_entries(report.failed.iter().map(|(e, _)| e.clone()).collect());
        self.save()?;
        Ok(report)
    }

    fn same_boot(&self) -> bool {
        store::same_boot(self.file_boot_id.as_deref(), self.boot_id.as_deref())
    }

    /// Drops entries written under another boot; their addresses died with it.
    fn forget_previous_boot(&mut self) -> Result<Vec<LedgerEntry>> {
        if self.same_boot() {
            return Ok(Vec::new());
        }
        self.file_boot_id = self.boot_id.clone();
        let stale = std::mem::take(&mut self.entries);
        self.index.clear();
        self.save()?;
        Ok(stale)
    }

    /// Writes the snapshot atomically, then drops the journal it contains.
    fn save(&mut self) -> Result<()> {
        self.store.save(self.boot_id.as_deref(), &self.entries)
    }
}

fn current_boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn entry(n: u8) -> LedgerEntry {
        LedgerEntry {
            ifname: "eth0".into(),
            ifindex: IfIndex::new(2).unwrap(),
            address: format!("198.18.0.{n}/32").parse().unwrap(),
            label: None,
            claim: Claim::Owned { created: None },
        }
    }

    /// Records `e` as an add does: applied, recorded, compacted when long.
    fn put(ledger: &mut AddressLedger, e: LedgerEntry) {
        ledger.apply(JournalOp::Put(e.clone()));
        ledger.record(&JournalOp::Put(e)).unwrap();
        ledger.compact_if_long().unwrap();
    }

    #[test]
    fn a_journal_of_an_earlier_boot_is_dropped_unread() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = serde_json::json!({
            "version": 1,
            "boot_id": "an-earlier-boot",
            "entries": [entry(1)],
        });
        fs::write(dir.path().join(LEDGER_FILE), snapshot.to_string()).unwrap();
        // What a power cut can leave in an unsynced journal.
        let journal = dir.path().join(JOURNAL_FILE);
        fs::write(&journal, b"\0\0\0\0{\"put\":\n\0\0\n").unwrap();
        let mut ledger = AddressLedger::open(dir.path()).unwrap();
        assert!(!ledger.same_boot() || ledger.boot_id.is_none());
        if ledger.boot_id.is_none() {
            return; // no boot id on this kernel: nothing to compare
        }
        let mut handle = Handle::new().unwrap();
        let report = ledger.cleanup(&mut handle).unwrap();
        assert_eq!(report.previous_boot, vec![entry(1)]);
        assert!(report.released.is_empty());
        assert!(!journal.exists());
        assert!(
            AddressLedger::open(dir.path())
                .unwrap()
                .entries()
                .is_empty()
        );
    }

    #[test]
    fn a_new_ledger_writes_its_snapshot_before_any_journal_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = AddressLedger::open(dir.path()).unwrap();
        assert!(dir.path().join(LEDGER_FILE).exists());
        put(&mut ledger, entry(1));
        assert!(dir.path().join(JOURNAL_FILE).exists());
    }

    #[test]
    fn the_journal_survives_a_crash_and_a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = AddressLedger::open(dir.path()).unwrap();
        put(&mut ledger, entry(1));
        put(&mut ledger, entry(2));
        let gone = entry(1);
        ledger.apply(JournalOp::Del {
            ifindex: gone.ifindex,
            address: gone.address,
        });
        ledger
            .record(&JournalOp::Del {
                ifindex: gone.ifindex,
                address: gone.address,
            })
            .unwrap();
        drop(ledger);
        // A crash in the middle of the next line.
        let journal = dir.path().join(JOURNAL_FILE);
        let mut f = fs::OpenOptions::new().append(true).open(&journal).unwrap();
        f.write_all(br#"{"put":{"ifname":"eth0","ifin"#).unwrap();
        drop(f);
        let ledger = AddressLedger::open(dir.path()).unwrap();
        assert_eq!(ledger.entries(), &[entry(2)]);
        // Opening folded the journal into the snapshot.
        assert!(!journal.exists());
        let again = AddressLedger::open(dir.path()).unwrap();
        assert_eq!(again.entries(), &[entry(2)]);
    }

    #[test]
    fn a_corrupt_journal_line_is_an_error_naming_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        fs::write(&journal, "{\"del\":{}}\n{\"put\":1}\n").unwrap();
        let e = AddressLedger::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains(JOURNAL_FILE) && e.contains("line 1"), "{e}");
    }

    #[test]
    fn the_index_follows_every_removal_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = AddressLedger::open(dir.path()).unwrap();
        for n in 1..=9 {
            put(&mut ledger, entry(n));
        }
        let eth0 = IfIndex::new(2).unwrap();
        // From the front, the middle and the end: each moves another
        // entry into its slot.
        for n in [1u8, 5, 9, 2] {
            let op = JournalOp::Del {
                ifindex: eth0,
                address: entry(n).address,
            };
            ledger.record(&op).unwrap();
            ledger.apply(op);
        }
        let check = |ledger: &AddressLedger| {
            for n in 1..=9u8 {
                let kept = ![1, 5, 9, 2].contains(&n);
                assert_eq!(ledger.owns(eth0, entry(n).address), kept, "198.18.0.{n}");
            }
            assert_eq!(ledger.entries().len(), 5);
            for (j, e) in ledger.entries().iter().enumerate() {
                assert_eq!(ledger.position(e.ifindex, e.address), Some(j));
            }
        };
        check(&ledger);
        drop(ledger);
        check(&AddressLedger::open(dir.path()).unwrap());
    }

    #[test]
    fn the_journal_stays_short_however_many_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = AddressLedger::open(dir.path()).unwrap();
        for round in 0..50u8 {
            for n in 1..=4 {
                let mut e = entry(n);
                e.claim = if round % 2 == 0 {
                    Claim::Pending
                } else {
                    Claim::Owned { created: None }
                };
                put(&mut ledger, e);
            }
        }
        let lines = fs::read_to_string(dir.path().join(JOURNAL_FILE))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        assert!(lines <= JOURNAL_SLACK + 8, "{lines} journal lines");
        drop(ledger);
        let ledger = AddressLedger::open(dir.path()).unwrap();
        let got: Vec<_> = ledger.entries().iter().map(|e| e.address).collect();
        let want: Vec<_> = (1..=4).map(|n| entry(n).address).collect();
        assert_eq!(got, want);
        assert!(
            ledger
                .entries()
                .iter()
                .all(|e| e.claim == Claim::Owned { created: None })
        );
    }
}
