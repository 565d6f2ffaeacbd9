//! The ledger on disk: a snapshot ([`LEDGER_FILE`]) and a journal of the
//! changes made since ([`JOURNAL_FILE`], one JSON line each).
//!
//! Durability follows from what the ledger records: kernel state that a
//! reboot erases.
//! - A journal line is written before the kernel is asked, and not
//!   `fdatasync`ed. Written data outlives a crash of the process (it is in
//!   the page cache); a crash of the kernel takes the addresses with it.
//!   Syncing would protect nothing and cost a disk flush per line in the
//!   middle of a takeover (about 140 µs each, measured on ext4).
//! - A journal line is only appended while the snapshot on disk carries
//!   the current boot, so a journal found beside a snapshot of an earlier
//!   boot belongs to that boot: it is dropped unread, whatever a power cut
//!   left in it.
//! - The snapshot is rewritten atomically (temporary file, `fsync`,
//!   `rename`, `fsync` of the directory), so it is never corrupt.
//!
//! Replaying ignores a torn last line (a crash in the middle of a write),
//! since its change had not been acted on yet. A corrupt line elsewhere is
//! an error naming the file and line: nothing is guessed.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LedgerEntry;
use crate::error::{Error, Result};
use crate::link::IfIndex;
use crate::prefix::IpPrefix;

/// The ledger's file name inside the state directory.
pub const LEDGER_FILE: &str = "netaddr-ledger.json";

/// The journal's file name inside the state directory.
pub const JOURNAL_FILE: &str = "netaddr-ledger.journal";

const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum JournalOp {
    /// The entry for this interface and address is now this one.
    Put(LedgerEntry),
    /// The entry for this interface and address is gone.
    Del {
        /// The interface.
        ifindex: IfIndex,
        /// The address.
        address: IpPrefix,
    },
}

/// The snapshot file.
#[derive(Debug, Serialize, Deserialize)]
struct LedgerFile {
    version: u32,
    boot_id: Option<String>,
    entries: Vec<LedgerEntry>,
}

/// What [`Store::load`] found.
#[derive(Debug)]
pub(super) struct Loaded {
    /// The boot the snapshot was written under.
    pub(super) boot_id: Option<String>,
    /// The snapshot's entries.
    pub(super) entries: Vec<LedgerEntry>,
    /// The journal's operations, in order, if it belongs to this boot.
    pub(super) journal: Vec<JournalOp>,
    /// Whether a snapshot file was there.
    pub(super) had_snapshot: bool,
    /// Whether a journal file was there (replayed or dropped).
    pub(super) had_journal: bool,
}

/// The two files of one ledger.
#[derive(Debug)]
pub(super) struct Store {
    path: PathBuf,
    journal_path: PathBuf,
    /// The journal, open for appending once something was written.
    journal: Option<File>,
    /// Lines in the journal.
    journal_lines: usize,
}

impl Store {
    /// The files in `state_dir`, which is created if needed.
    pub(super) fn new(state_dir: &Path) -> Result<Store> {
        let path = state_dir.join(LEDGER_FILE);
        fs::create_dir_all(state_dir)
            .map_err(|e| ledger_error(&path, "cannot create the state directory", e))?;
        Ok(Store {
            path,
            journal_path: state_dir.join(JOURNAL_FILE),
            journal: None,
            journal_lines: 0,
        })
    }

    /// The snapshot file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Lines appended to the journal since the last snapshot.
    pub(super) fn journal_lines(&self) -> usize {
        self.journal_lines
    }

    /// Reads the snapshot and, if it belongs to `boot_id`, the journal.
    /// No snapshot counts as one of this boot with no entries.
    pub(super) fn load(&self, boot_id: Option<&str>) -> Result<Loaded> {
        let (file_boot_id, entries, had_snapshot) = match fs::read(&self.path) {
            Ok(bytes) => {
                let file: LedgerFile =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Ledger {
                        path: self.path.clone(),
                        detail: format!("corrupt: {e}"),
                        source: None,
                    })?;
                if file.version != VERSION {
                    return Err(Error::Ledger {
                        path: self.path.clone(),
                        detail: format!(
                            "version {} (this build reads version {VERSION})",
                            file.version
                        ),
                        source: None,
                    });
                }
                (file.boot_id, file.entries, true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (boot_id.map(str::to_string), Vec::new(), false)
            }
            Err(e) => return Err(ledger_error(&self.path, "cannot read", e)),
        };
        let (journal, had_journal) = match fs::read(&self.journal_path) {
            Ok(bytes) if same_boot(file_boot_id.as_deref(), boot_id) => {
                (self.parse_journal(&bytes)?, true)
            }
            Ok(_) => (Vec::new(), true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), false),
            Err(e) => return Err(ledger_error(&self.journal_path, "cannot read", e)),
        };
        Ok(Loaded {
            boot_id: file_boot_id,
            entries,
            journal,
            had_snapshot,
            had_journal,
        })
    }

    /// The journal's complete lines.
    fn parse_journal(&self, bytes: &[u8]) -> Result<Vec<JournalOp>> {
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        // The last piece is empty after a complete line, or torn.
        lines.pop();
        lines
            .into_iter()
            .enumerate()
            .map(|(n, line)| {
                serde_json::from_slice(line).map_err(|e| Error::Ledger {
                    path: self.journal_path.clone(),
                    detail: format!("corrupt line {}: {e}", n + 1),
                    source: None,
                })
            })
            .collect()
    }

    /// Appends `op` to the journal (written, not synced: see the module
    /// documentation).
    #[cfg(test)]
    pub(super) fn append(&mut self, op: &JournalOp) -> Result<()> {
        self.append_all(std::slice::from_ref(op))
    }

    /// Appends every op of `ops` to the journal in one write, so that a
    /// batch of 2,000 addresses costs one system call, not 2,000.
    pub(super) fn append_all(&mut self, ops: &[JournalOp]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::with_capacity(ops.len() * 128);
        for op in ops {
            serde_json::to_writer(&mut lines, op).map_err(|e| Error::Ledger {
                path: self.journal_path.clone(),
                detail: format!("cannot serialize: {e}"),
                source: None,
            })?;
            lines.push(b'\n');
        }
        self.open_journal()?
            .write_all(&lines)
            .map_err(|e| ledger_error(&self.journal_path, "cannot write", e))?;
        self.journal_lines += ops.len();
        Ok(())
    }

    /// Opens the journal ahead of the next [`append`](Self::append) and
    /// serializes `op` once without writing it, so that a time-critical
    /// append finds the file open and the code warm. An empty journal is
    /// a valid one.
    pub(super) fn prepare_append(&mut self, op: &JournalOp) -> Result<()> {
        // Only the code path matters: the bytes are dropped.
        let _ = serde_json::to_vec(op);
        self.open_journal().map(drop)
    }

    /// The journal file, opened (and created) on first use.
    fn open_journal(&mut self) -> Result<&mut fs::File> {
        let file = match self.journal.take() {
            Some(f) => f,
            None => fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.journal_path)
                .map_err(|e| ledger_error(&self.journal_path, "cannot open", e))?,
        };
        Ok(self.journal.insert(file))
    }

    /// Writes `entries` as the snapshot of `boot_id`, atomically, then drops
    /// the journal it contains.
    pub(super) fn save(&mut self, boot_id: Option<&str>, entries: &[LedgerEntry]) -> Result<()> {
        let file = LedgerFile {
            version: VERSION,
            boot_id: boot_id.map(str::to_string),
            entries: entries.to_vec(),
        };
        let mut bytes = serde_json::to_vec(&file).map_err(|e| Error::Ledger {
            path: self.path.clone(),
            detail: format!("cannot serialize: {e}"),
            source: None,
        })?;
        bytes.push(b'\n');
        replace_file(&self.path, &bytes, true)
            .map_err(|e| ledger_error(&self.path, "cannot write", e))?;
        self.journal = None;
        match fs::remove_file(&self.journal_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(ledger_error(&self.journal_path, "cannot remove", e)),
        }
        self.journal_lines = 0;
        Ok(())
    }
}

/// Whether a ledger written under boot `file` belongs to boot `now`; an
/// unknown boot on either side counts as the same.
pub(super) fn same_boot(file: Option<&str>, now: Option<&str>) -> bool {
    match (file, now) {
        (Some(file), Some(now)) => file == now,
        _ => true,
    }
}

/// Replaces `path` with `bytes` atomically: a temporary file beside it,
/// then `rename`. With `sync`, the file and then its directory are synced
/// too, so that the new content survives a power cut.
pub(super) fn replace_file(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    if sync {
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if sync {
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
    }
    Ok(())
}

/// A ledger error for `path`.
pub(super) fn ledger_error(path: &Path, detail: &str, e: io::Error) -> Error {
    Error::Ledger {
        path: path.to_path_buf(),
        detail: detail.to_string(),
        source: Some(e),
    }
}
