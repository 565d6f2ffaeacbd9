//! Adds and removals in batches: one link look-up and one address dump per
//! interface, and one journal write, however many addresses. One at a
//! time, a takeover of 2,000 VIPs made 6,000 dumps of the interface.

use std::collections::{HashMap, HashSet};

use super::store::JournalOp;
use super::{AddressLedger, Claim, LedgerEntry, Release};
use crate::address::{AddressInfo, AddressSpec};
use crate::error::{Error, Result};
use crate::handle::{AddOutcome, DeleteOutcome, Handle};
use crate::link::IfIndex;
use crate::prefix::IpPrefix;

/// What one batch learned of each interface, asked once. A failed
/// look-up is not kept: the next address on that interface asks again
/// and gets its own error.
#[derive(Debug, Default)]
pub(super) struct Interfaces {
    names: HashMap<IfIndex, String>,
    /// Each interface's addresses by prefix: a batch of 2,000 looks up
    /// 2,000 in a dump of 2,000.
    addresses: HashMap<IfIndex, HashMap<IpPrefix, AddressInfo>>,
}

impl Interfaces {
    /// The name of `ifindex`.
    fn name(&mut self, handle: &mut Handle, ifindex: IfIndex) -> Result<String> {
        if let Some(name) = self.names.get(&ifindex) {
            return Ok(name.clone());
        }
        let name = handle.link_by_index(ifindex)?.name;
        self.names.insert(ifindex, name.clone());
        Ok(name)
    }

    /// The address `prefix` on `ifindex` as the batch's dump of that
    /// interface saw it.
    pub(super) fn present(
        &mut self,
        handle: &mut Handle,
        ifindex: IfIndex,
        prefix: IpPrefix,
    ) -> Result<Option<AddressInfo>> {
        let all = match self.addresses.entry(ifindex) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let dump = handle.addresses(Some(ifindex))?;
                e.insert(
                    dump.into_iter()
                        .filter(|a| a.ifindex == ifindex)
                        .map(|a| (a.prefix, a))
                        .collect(),
                )
            }
        };
        Ok(all.get(&prefix).cloned())
    }
}

/// How many adds [`AddressLedger::add_unsettled_all_with_progress`] makes
/// between two reports: the announcements of a VIP can follow its add
/// within a few milliseconds, and a report costs a wake-up of the caller.
pub const PROGRESS_EVERY: usize = 256;

impl AddressLedger {
    /// [`add_unsettled`](Self::add_unsettled) for every address of
    /// `specs`, in one pass: one link look-up and one address dump per
    /// interface; the pending entries in one journal write before the
    /// kernel is asked, and the adds it refused in one after. Call
    /// [`settle`](Self::settle) soon after.
    ///
    /// The outcomes are in the order of `specs`. The outer error is a
    /// journal write that failed: then nothing was added.
    pub fn add_unsettled_all(
        &mut self,
        handle: &mut Handle,
        specs: &[AddressSpec],
    ) -> Result<Vec<Result<AddOutcome>>> {
        self.add_unsettled_all_with_progress(handle, specs, &mut |_| {})
    }

    /// [`add_unsettled_all`](Self::add_unsettled_all), calling `progress`
    /// with `k` after every [`PROGRESS_EVERY`] adds while more are to come:
    /// the first `k` of `specs` have been through the kernel (added, or
    /// refused), so a caller can announce them before the rest are in.
    pub fn add_unsettled_all_with_progress(
        &mut self,
        handle: &mut Handle,
        specs: &[AddressSpec],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Result<AddOutcome>>> {
        self.forget_previous_boot()?;
        let mut seen = Interfaces::default();
        let mut out: Vec<Result<AddOutcome>> = Vec::with_capacity(specs.len());
        let mut ops = Vec::new();
        let mut to_add = Vec::new();
        let mut in_batch = HashSet::new();
        for (i, spec) in specs.iter().enumerate() {
            let checked = spec.validate().and_then(|()| {
                let name = seen.name(handle, spec.ifindex)?;
                let present = seen.present(handle, spec.ifindex, spec.prefix)?;
                Ok((name, present))
            });
            let (name, present) = match checked {
                Ok(found) => found,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            if !in_batch.insert((spec.ifindex, spec.prefix)) {
                // Named twice: the first one adds it.
                out.push(Ok(AddOutcome::AlreadyPresent));
                continue;
            }
            let previous = self
                .position(spec.ifindex, spec.prefix)
                .map(|j| self.take_entry(j));
            if let Some(present) = present {
                // Already there: still ours only if it is the very address
                // we added before.
                let had_previous = previous.is_some();
                let keep = previous.filter(|p| p.claims(&present));
                if had_previous && keep.is_none() {
                    ops.push(JournalOp::Del {
                        ifindex: spec.ifindex,
                        address: spec.prefix,
                    });
                }
                if let Some(keep) = keep {
                    self.push_entry(keep);
                }
                out.push(Ok(AddOutcome::AlreadyPresent));
                continue;
            }
            let pending = LedgerEntry::pending(name, spec);
            self.push_entry(pending.clone());
            ops.push(JournalOp::Put(pending));
            to_add.push(i);
            // Replaced by the kernel's answer below.
            out.push(Ok(AddOutcome::Added));
        }
        if let Err(e) = self.store.append_all(&ops) {
            // Not recorded, so not attempted.
            for &i in &to_add {
                self.forget(specs[i].ifindex, specs[i].prefix);
            }
            return Err(e);
        }
        let mut refused = Vec::new();
        for (c, chunk) in to_add.chunks(PROGRESS_EVERY).enumerate() {
            if c > 0 {
                progress(chunk[0]);
            }
            let batch: Vec<&AddressSpec> = chunk.iter().map(|&i| &specs[i]).collect();
            for (&i, outcome) in chunk.iter().zip(handle.add_addresses(&batch)) {
                let spec = &specs[i];
                // No answer: the add may have happened. The pending entry
                // stays, so the address is never left behind (settle and
                // removal look at what is really there).
                let unanswered = matches!(outcome, Err(Error::Unanswered(_)));
                if !unanswered && !matches!(outcome, Ok(AddOutcome::Added)) {
                    // Refused, or someone else added it in between: not ours.
                    self.forget(spec.ifindex, spec.prefix);
                    refused.push(JournalOp::Del {
                        ifindex: spec.ifindex,
                        address: spec.prefix,
                    });
                }
                out[i] = outcome;
            }
        }
        self.store.append_all(&refused)?;
        Ok(out)
    }

    /// [`remove`](Self::remove) for every address of `addresses`: one
    /// address dump per interface and one journal write. The outcomes are
    /// in the order of `addresses`; an address whose removal failed stays
    /// in the ledger.
    pub fn remove_all(
        &mut self,
        handle: &mut Handle,
        addresses: &[(IfIndex, IpPrefix)],
    ) -> Result<Vec<Result<Release>>> {
        self.forget_previous_boot()?;
        let mut seen = Interfaces::default();
        // Judged from the dump first; then what is still ours is deleted
        // in one pipelined batch.
        let mut out: Vec<Option<Result<Release>>> = Vec::with_capacity(addresses.len());
        let mut to_delete = Vec::new();
        let mut slots = Vec::new();
        for &(ifindex, prefix) in addresses {
            let Some(j) = self.position(ifindex, prefix) else {
                out.push(Some(Ok(Release::NotOwned)));
                continue;
            };
            match judge(handle, &mut seen, &self.entries[j]) {
                Ok(None) => {
                    slots.push(out.len());
                    to_delete.push((ifindex, prefix));
                    out.push(None);
                }
                Ok(Some(r)) => out.push(Some(Ok(r))),
                Err(e) => out.push(Some(Err(e))),
            }
        }
        for (k, deleted) in slots.into_iter().zip(handle.delete_addresses(&to_delete)) {
            out[k] = Some(match deleted {
                Ok(DeleteOutcome::Removed) => Ok(Release::Removed),
                Ok(DeleteOutcome::NotPresent) | Err(Error::NoSuchInterface(_)) => {
                    Ok(Release::AlreadyGone)
                }
                Err(e) => Err(e),
            });
        }
        let out: Vec<Result<Release>> = out
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Unanswered("a removal got no outcome"))))
            .collect();
        // What is settled leaves the ledger; a failed removal stays.
        let mut ops = Vec::new();
        for (&(ifindex, prefix), result) in addresses.iter().zip(&out) {
            if !matches!(result, Ok(r) if *r != Release::NotOwned) {
                continue;
            }
            if let Some(j) = self.position(ifindex, prefix) {
                self.take_entry(j);
                ops.push(JournalOp::Del {
                    ifindex,
                    address: prefix,
                });
            }
        }
        self.store.append_all(&ops)?;
        self.compact_if_long()?;
        Ok(out)
    }

    /// Readies an add of `specs` without changing anything: the link and
    /// address look-ups an add makes (one per interface), and the journal
    /// opened, so that a takeover right after finds them warm.
    pub fn prepare_add_all(&mut self, handle: &mut Handle, specs: &[AddressSpec]) -> Result<()> {
        let mut seen = Interfaces::default();
        let mut first = None;
        for spec in specs {
            let name = seen.name(handle, spec.ifindex)?;
            seen.present(handle, spec.ifindex, spec.prefix)?;
            first.get_or_insert_with(|| LedgerEntry::pending(name, spec));
        }
        match first {
            Some(entry) => self.store.prepare_append(&JournalOp::Put(entry)),
            None => Ok(()),
        }
    }

    /// Confirms every pending entry: reads the kernel's creation stamp of
    /// its address (one dump per interface) and records it as owned, in
    /// one journal write. Without a stamp (the lookup failed, the address
    /// is gone already) the entry still claims the address: a failed
    /// lookup must not lose track of what we added.
    pub fn settle(&mut self, handle: &mut Handle) -> Result<()> {
        let mut seen = Interfaces::default();
        let mut ops = Vec::new();
        for i in 0..self.entries.len() {
            let entry = &self.entries[i];
            if entry.claim != Claim::Pending {
                continue;
            }
            let created = seen
                .present(handle, entry.ifindex, entry.address)
                .ok()
                .flatten()
                .and_then(|a| a.created);
            self.entries[i].claim = Claim::Owned { created };
            ops.push(JournalOp::Put(self.entries[i].clone()));
        }
        self.store.append_all(&ops)?;
        self.compact_if_long()
    }

    /// Drops the entry of `prefix` on `ifindex`, if there is one.
    fn forget(&mut self, ifindex: IfIndex, prefix: IpPrefix) {
        if let Some(j) = self.position(ifindex, prefix) {
            self.take_entry(j);
        }
    }
}

/// Whether the entry's address is still the one we added, judged by the
/// batch's dump of its interface: `None` if so (delete it), else what
/// releasing it amounts to.
fn judge(
    handle: &mut Handle,
    seen: &mut Interfaces,
    entry: &LedgerEntry,
) -> Result<Option<Release>> {
    let present = match seen.present(handle, entry.ifindex, entry.address) {
        Ok(p) => p,
        Err(Error::NoSuchInterface(_)) => return Ok(Some(Release::AlreadyGone)),
        Err(e) => return Err(e),
    };
    let Some(present) = present else {
        return Ok(Some(Release::AlreadyGone));
    };
    if !entry.claims(&present) {
        return Ok(Some(Release::NotOurs));
    }
    Ok(None)
}

/// Removes the entry's address if it is still the one we added, judged by
/// the batch's dump of its interface.
pub(super) fn release(
    handle: &mut Handle,
    seen: &mut Interfaces,
    entry: &LedgerEntry,
) -> Result<Release> {
    if let Some(r) = judge(handle, seen, entry)? {
        return Ok(r);
    }
    match handle.delete_address(entry.ifindex, entry.address) {
        Ok(DeleteOutcome::Removed) => Ok(Release::Removed),
        Ok(DeleteOutcome::NotPresent) | Err(Error::NoSuchInterface(_)) => Ok(Release::AlreadyGone),
        Err(e) => Err(e),
    }
}
