//! [`IpvsLedger`]: which services and real servers this process created,
//! on disk, so that a clean stop, or the next start after a crash,
//! removes exactly those. A service someone else added (with `ipvsadm`)
//! is never deleted; real servers we added to it are removed alone.
//!
//! Each change is recorded before the kernel is asked (and dropped again
//! if it refuses), so a crash between the two leaves a record of
//! something that may not exist, which cleanup forgets, and never
//! something in the kernel without a record. The file is replaced
//! atomically (write, then rename). IPVS keeps nothing across a reboot,
//! so neither does the ledger need to.
//!
//! IPVS keeps no creation stamp: if someone deletes one of our services
//! and adds the same one again while we run, it is taken for ours.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::destination::Destination;
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::service::{Service, ServiceKey};

/// The ledger's file name in its state directory.
pub const LEDGER_FILE: &str = "ipvs-ledger.json";

/// What an add did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddOutcome {
    /// Added, and recorded as ours.
    Added,
    /// It was there already: someone else's, not recorded, never removed.
    AlreadyPresent,
}

/// What a removal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// Ours and present: removed.
    Removed,
    /// Ours but gone already: forgotten.
    AlreadyGone,
    /// Not ours: nothing was touched.
    NotOwned,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    services: Vec<ServiceKey>,
    destinations: Vec<(ServiceKey, SocketAddr)>,
}

/// What [`IpvsLedger::clear`] did, entry by entry.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ClearReport {
    /// Real servers (of services not ours) and what became of them.
    pub destinations: Vec<(ServiceKey, SocketAddr, Release)>,
    /// Our services and what became of them.
    pub services: Vec<(ServiceKey, Release)>,
    /// Entries the kernel refused to remove; they stay recorded.
    pub failed: Vec<(String, Error)>,
}

/// The services and real servers this process added, kept in a file.
#[derive(Debug)]
pub struct IpvsLedger {
    path: PathBuf,
    record: Record,
}

impl IpvsLedger {
    /// Opens (or starts) the ledger in `state_dir`. What it holds is what
    /// a previous run left: call [`clear`](Self::clear) before adding.
    pub fn open(state_dir: &Path) -> Result<IpvsLedger> {
        let path = state_dir.join(LEDGER_FILE);
        let record = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::LedgerCorrupt {
                path: path.clone(),
                detail: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Record::default(),
            Err(source) => return Err(Error::Ledger { path, source }),
        };
        Ok(IpvsLedger { path, record })
    }

    /// The ledger's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The services recorded as ours.
    pub fn services(&self) -> &[ServiceKey] {
        &self.record.services
    }

    /// The real servers recorded as ours, in services not ours.
    pub fn destinations(&self) -> &[(ServiceKey, SocketAddr)] {
        &self.record.destinations
    }

    /// Whether we created the service `key`.
    pub fn owns_service(&self, key: &ServiceKey) -> bool {
        self.record.services.contains(key)
    }

    /// Whether we added the real server `addr` of `service` (as a real
    /// server of a service not ours, or of one of ours).
    pub fn owns_destination(&self, service: &ServiceKey, addr: SocketAddr) -> bool {
        self.owns_service(service) || self.record.destinations.contains(&(*service, addr))
    }

    fn save(&self) -> Result<()> {
        let bytes = serde_json::to_vec(&self.record).map_err(|e| Error::LedgerCorrupt {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|source| Error::Ledger {
                path: self.path.clone(),
                source,
            })
    }

    /// Adds `service`, recorded as ours; one that exists already is left
    /// as it is and not recorded.
    pub fn add_service(&mut self, handle: &mut Handle, service: &Service) -> Result<AddOutcome> {
        if self.owns_service(&service.key) {
            return match handle.add_service(service) {
                Ok(()) => Ok(AddOutcome::Added),
                Err(Error::Kernel(k)) if k.is_exists() => Ok(AddOutcome::Added),
                Err(e) => Err(e),
            };
        }
        self.record.services.push(service.key);
        self.save()?;
        match handle.add_service(service) {
            Ok(()) => Ok(AddOutcome::Added),
            Err(e) => {
                self.record.services.retain(|k| *k != service.key);
                self.save()?;
                match e {
                    Error::Kernel(k) if k.is_exists() => Ok(AddOutcome::AlreadyPresent),
                    e => Err(e),
                }
            }
        }
    }

    /// Changes a service of ours; `Ok(false)` (untouched) if it is not ours.
    pub fn update_service(&mut self, handle: &mut Handle, service: &Service) -> Result<bool> {
        if !self.owns_service(&service.key) {
            return Ok(false);
        }
        handle.update_service(service)?;
        Ok(true)
    }

    /// Removes a service of ours (and with it its real servers).
    pub fn remove_service(&mut self, handle: &mut Handle, key: &ServiceKey) -> Result<Release> {
        if !self.owns_service(key) {
            return Ok(Release::NotOwned);
        }
        let release = match handle.delete_service(key) {
            Ok(()) => Release::Removed,
            Err(Error::Kernel(k)) if k.is_not_found() => Release::AlreadyGone,
            Err(e) => return Err(e),
        };
        self.record.services.retain(|k| k != key);
        self.record.destinations.retain(|(s, _)| s != key);
        self.save()?;
        Ok(release)
    }

    /// Adds a real server to `service` (ours or not), recorded as ours;
    /// one that is there already is left as it is.
    pub fn add_destination(
        &mut self,
        handle: &mut Handle,
        service: &ServiceKey,
        dest: &Destination,
    ) -> Result<AddOutcome> {
        let entry = (*service, dest.addr);
        let recorded = self.owns_service(service) || self.record.destinations.contains(&entry);
        if !recorded {
            self.record.destinations.push(entry);
            self.save()?;
        }
        match handle.add_destination(service, dest) {
            Ok(()) => Ok(AddOutcome::Added),
            Err(Error::Kernel(k)) if k.is_exists() && recorded => Ok(AddOutcome::Added),
            Err(e) => {
                if !recorded {
                    self.record.destinations.retain(|d| *d != entry);
                    self.save()?;
                }
                match e {
                    Error::Kernel(k) if k.is_exists() => Ok(AddOutcome::AlreadyPresent),
                    e => Err(e),
                }
            }
        }
    }

    /// Changes a real server we added (its weight, for
    /// `inhibit_on_failure`); `Ok(false)` (untouched) if it is not ours.
    pub fn update_destination(
        &mut self,
        handle: &mut Handle,
        service: &ServiceKey,
        dest: &Destination,
    ) -> Result<bool> {
        if !self.owns_destination(service, dest.addr) {
            return Ok(false);
        }
        handle.update_destination(service, dest)?;
        Ok(true)
    }

    /// Removes a real server we added.
    pub fn remove_destination(
        &mut self,
        handle: &mut Handle,
        service: &ServiceKey,
        addr: SocketAddr,
    ) -> Result<Release> {
        if !self.owns_destination(service, addr) {
            return Ok(Release::NotOwned);
        }
        let release = match handle.delete_destination(service, addr) {
            Ok(()) => Release::Removed,
            Err(Error::Kernel(k)) if k.is_not_found() => Release::AlreadyGone,
            Err(e) => return Err(e),
        };
        let entry = (*service, addr);
        if self.record.destinations.contains(&entry) {
            self.record.destinations.retain(|d| *d != entry);
            self.save()?;
        }
        Ok(release)
    }

    /// Removes everything recorded: at a clean stop, and at start for
    /// what a crashed run left. Real servers first, then services.
    /// Failures are reported and stay recorded for the next try.
    pub fn clear(&mut self, handle: &mut Handle) -> Result<ClearReport> {
        let mut report = ClearReport::default();
        for (service, addr) in self.record.destinations.clone() {
            match self.remove_destination(handle, &service, addr) {
                Ok(r) => report.destinations.push((service, addr, r)),
                Err(e) => report.failed.push((format!("{service} -> {addr}"), e)),
            }
        }
        for key in self.record.services.clone() {
            match self.remove_service(handle, &key) {
                Ok(r) => report.services.push((key, r)),
                Err(e) => report.failed.push((key.to_string(), e)),
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_file_is_a_typed_error_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = IpvsLedger::open(dir.path()).unwrap();
        assert!(ledger.services().is_empty());
        std::fs::write(dir.path().join(LEDGER_FILE), b"{not json").unwrap();
        let err = IpvsLedger::open(dir.path()).unwrap_err();
        assert!(matches!(err, Error::LedgerCorrupt { .. }), "{err}");
        assert!(err.to_string().contains(LEDGER_FILE));
    }

    #[test]
    fn the_record_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = IpvsLedger::open(dir.path()).unwrap();
        let key = ServiceKey::tcp("198.18.0.1:80".parse().unwrap());
        ledger.record.services.push(key);
        ledger
            .record
            .destinations
            .push((key, "198.18.1.2:80".parse().unwrap()));
        ledger.save().unwrap();
        let again = IpvsLedger::open(dir.path()).unwrap();
        assert_eq!(again.services(), &[key]);
        assert!(again.owns_destination(&key, "198.18.1.2:80".parse().unwrap()));
        assert!(!again.owns_service(&ServiceKey::tcp("198.18.0.1:81".parse().unwrap())));
    }
}
