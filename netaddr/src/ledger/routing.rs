//! [`RoutingLedger`]: which routes and rules this process added, on disk,
//! so that a stop — or the start after a crash — removes exactly those.
//!
//! Rules, as for addresses ([`super::AddressLedger`]):
//! - An add the kernel answers with `EEXIST` does not make the route or
//!   rule ours: it is not recorded and never removed by us. (keepalived
//!   takes such a route as its own and deletes it later.)
//! - An entry is written as pending before the kernel is asked and
//!   confirmed after. After a crash between the two, a pending entry is
//!   removed like a confirmed one: the kernel did not have it before.
//! - Routes and rules do not survive a reboot: a ledger of another boot
//!   is forgotten untouched.
//! - Each batch of changes rewrites the file once before and once after
//!   the kernel is asked (temporary file and `rename`, not synced: a crash
//!   of the process keeps what it wrote, a crash of the kernel takes the
//!   routes with it). There are few entries: no journal.
//!
//! A delete carries every attribute of the add, so it removes our route
//! and not another one to the same destination. One process per ledger.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Release;
use super::store::{ledger_error, replace_file, same_boot};
use crate::error::{Error, Result};
use crate::handle::{AddOutcome, DeleteOutcome, Handle};
use crate::route::RouteSpec;
use crate::rule::RuleSpec;

/// The routing ledger's file name inside the state directory.
pub const ROUTING_LEDGER_FILE: &str = "netaddr-routing.json";

const VERSION: u32 = 1;

/// A route or a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// A route.
    Route(RouteSpec),
    /// A policy rule.
    Rule(RuleSpec),
}

impl std::fmt::Display for Routing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Routing::Route(r) => write!(f, "route {r}"),
            Routing::Rule(r) => write!(f, "rule {r}"),
        }
    }
}

/// One route or rule this process added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingEntry {
    /// Who it is for (an instance's name, or `static`), for people
    /// reading the file and for [`RoutingLedger::owned_by`].
    pub owner: String,
    /// The route or rule.
    pub item: Routing,
    /// Whether the kernel confirmed the add.
    pub confirmed: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct RoutingFile {
    version: u32,
    boot_id: Option<String>,
    entries: Vec<RoutingEntry>,
}

/// The routes and rules this process added, persisted in a state
/// directory.
#[derive(Debug)]
pub struct RoutingLedger {
    path: PathBuf,
    boot_id: Option<String>,
    entries: Vec<RoutingEntry>,
}

impl RoutingLedger {
    /// Opens (or starts) the ledger in `state_dir`. Entries written under
    /// another boot are forgotten.
    pub fn open(state_dir: &Path) -> Result<RoutingLedger> {
        let path = state_dir.join(ROUTING_LEDGER_FILE);
        let boot_id = super::current_boot_id();
        let entries = match fs::read(&path) {
            Ok(bytes) => {
                let file: RoutingFile =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Ledger {
                        path: path.clone(),
                        detail: format!("cannot parse: {e}"),
                        source: None,
                    })?;
                if same_boot(file.boot_id.as_deref(), boot_id.as_deref()) {
                    file.entries
                } else {
                    Vec::new()
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ledger_error(&path, "cannot read", e)),
        };
        Ok(RoutingLedger {
            path,
            boot_id,
            entries,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry.
    pub fn entries(&self) -> &[RoutingEntry] {
        &self.entries
    }

    /// The entries of `owner`.
    pub fn owned_by<'a>(&'a self, owner: &'a str) -> impl Iterator<Item = &'a Routing> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.owner == owner)
            .map(|e| &e.item)
    }

    /// Whether we added `item` and have not removed it.
    pub fn owns(&self, item: &Routing) -> bool {
        self.entries.iter().any(|e| &e.item == item)
    }

    /// Our entry for what the kernel reports as `seen` (a deleted route or
    /// rule, say): the same route ([`RouteSpec::same_route`]) or rule
    /// ([`RuleSpec::same_rule`]).
    pub fn matching(&self, seen: &Routing) -> Option<&RoutingEntry> {
        self.entries.iter().find(|e| match (&e.item, seen) {
            (Routing::Route(ours), Routing::Route(theirs)) => ours.same_route(theirs),
            (Routing::Rule(ours), Routing::Rule(theirs)) => ours.same_rule(theirs),
            _ => false,
        })
    }

    /// Adds `item`, which is ours and which someone deleted, again; its
    /// entry stays either way (a later removal finds it gone).
    pub fn restore(&mut self, handle: &mut Handle, item: &Routing) -> Result<AddOutcome> {
        match item {
            Routing::Route(r) => handle.add_route(r),
            Routing::Rule(r) => handle.add_rule(r),
        }
    }

    /// Adds each of `items` for `owner`, in order (routes before the rules
    /// that look them up, say), with two writes of the ledger in all. An
    /// item already ours is [`AddOutcome::AlreadyPresent`] and stays ours;
    /// one someone else has is [`AddOutcome::AlreadyPresent`] and stays
    /// theirs. The outcomes are in the order of `items`; `Err` only when
    /// the ledger cannot be written, and then nothing was asked of the
    /// kernel.
    pub fn add_all(
        &mut self,
        handle: &mut Handle,
        owner: &str,
        items: &[Routing],
    ) -> Result<Vec<Result<AddOutcome>>> {
        let fresh: Vec<bool> = items.iter().map(|i| !self.owns(i)).collect();
        for (item, _) in items.iter().zip(&fresh).filter(|(_, f)| **f) {
            self.entries.push(RoutingEntry {
                owner: owner.to_string(),
                item: item.clone(),
                confirmed: false,
            });
        }
        if fresh.iter().any(|f| *f) {
            self.save()?;
        }
        let mut outcomes = Vec::with_capacity(items.len());
        for (item, fresh) in items.iter().zip(fresh) {
            let outcome = match item {
                Routing::Route(r) => handle.add_route(r),
                Routing::Rule(r) => handle.add_rule(r),
            };
            if fresh {
                let k = self.entries.iter().rposition(|e| &e.item == item);
                match (&outcome, k) {
                    (Ok(AddOutcome::Added), Some(k)) => self.entries[k].confirmed = true,
                    (_, Some(k)) => {
                        self.entries.remove(k);
                    }
                    (_, None) => {}
                }
            }
            outcomes.push(outcome);
        }
        self.save()?;
        Ok(outcomes)
    }

    /// Removes each of `items` that we added, in order (rules before the
    /// routes they look up), with one write of the ledger. Those we did
    /// not add are [`Release::NotOwned`] and untouched. A failed delete
    /// keeps its entry.
    pub fn remove_all(
        &mut self,
        handle: &mut Handle,
        items: &[Routing],
    ) -> Result<Vec<Result<Release>>> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut changed = false;
        for item in items {
            let Some(k) = self.entries.iter().position(|e| &e.item == item) else {
                outcomes.push(Ok(Release::NotOwned));
                continue;
            };
            let outcome = match item {
                Routing::Route(r) => handle.delete_route(r),
                Routing::Rule(r) => handle.delete_rule(r),
            };
            outcomes.push(match outcome {
                Ok(DeleteOutcome::Removed) => Ok(Release::Removed),
                Ok(DeleteOutcome::NotPresent) => Ok(Release::AlreadyGone),
                Err(e) => Err(e),
            });
            if outcomes.last().is_some_and(|o| o.is_ok()) {
                self.entries.remove(k);
                changed = true;
            }
        }
        if changed {
            self.save()?;
        }
        Ok(outcomes)
    }

    /// Removes everything in the ledger, rules first (a clean stop, or the
    /// start after a crash). Each entry with what happened; failed ones
    /// stay.
    pub fn cleanup(&mut self, handle: &mut Handle) -> Result<Vec<(RoutingEntry, Result<Release>)>> {
        let mut entries = self.entries.clone();
        // Rules, then routes, each in the reverse order of their adds.
        entries.reverse();
        entries.sort_by_key(|e| matches!(e.item, Routing::Route(_)));
        let items: Vec<Routing> = entries.iter().map(|e| e.item.clone()).collect();
        let outcomes = self.remove_all(handle, &items)?;
        Ok(entries.into_iter().zip(outcomes).collect())
    }

    fn save(&self) -> Result<()> {
        let file = RoutingFile {
            version: VERSION,
            boot_id: self.boot_id.clone(),
            entries: self.entries.clone(),
        };
        let mut bytes = serde_json::to_vec(&file).map_err(|e| Error::Ledger {
            path: self.path.clone(),
            detail: format!("cannot serialize: {e}"),
            source: None,
        })?;
        bytes.push(b'\n');
        // Not synced: see the module's rules.
        replace_file(&self.path, &bytes, false)
            .map_err(|e| ledger_error(&self.path, "cannot write", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::Family;
    use crate::rule::RuleAction;

    #[test]
    fn another_boot_is_forgotten_and_a_corrupt_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let route = Routing::Route(RouteSpec::new("198.18.5.0/24".parse().unwrap()));
        let file = RoutingFile {
            version: VERSION,
            boot_id: Some("an-earlier-boot".into()),
            entries: vec![RoutingEntry {
                owner: "vi".into(),
                item: route.clone(),
                confirmed: true,
            }],
        };
        let path = dir.path().join(ROUTING_LEDGER_FILE);
        fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
        let ledger = RoutingLedger::open(dir.path()).unwrap();
        if ledger.boot_id.is_some() {
            assert!(!ledger.owns(&route));
        }
        fs::write(&path, b"{not json").unwrap();
        let err = RoutingLedger::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(ROUTING_LEDGER_FILE), "{err}");
    }

    #[test]
    fn entries_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = RoutingLedger::open(dir.path()).unwrap();
        let rule = Routing::Rule(RuleSpec::new(Family::Ipv4, RuleAction::Table(100)));
        ledger.entries.push(RoutingEntry {
            owner: "static".into(),
            item: rule.clone(),
            confirmed: false,
        });
        ledger.save().unwrap();
        let again = RoutingLedger::open(dir.path()).unwrap();
        assert!(again.owns(&rule));
        assert_eq!(again.owned_by("static").count(), 1);
        assert_eq!(again.owned_by("vi").count(), 0);
    }
}
