//! Files a local user may have planted where the daemon reads or writes
//! (`track_file` and its `init_file`, the configuration and its
//! `include`s): read and written so that no such file can stall the daemon,
//! exhaust its memory or redirect a write.
//!
//! - Opened with `O_NONBLOCK`, so a FIFO with no writer does not block the
//!   open (open(2)); then only a regular file is read (not a FIFO, a device
//!   such as `/dev/zero` behind a symlink, a socket or a directory).
//! - At most [`MAX_READ`] bytes are read, whatever the file's size.
//! - Writes use `O_NOFOLLOW` (a symlink planted at the path is refused, not
//!   followed into a root-owned file) and refuse anything but a regular
//!   file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most bytes read from a `track_file`: a number and some whitespace.
pub const MAX_READ: usize = 64;

/// The largest configuration file (or included file) read: far above any
/// real keepalived.conf, far below what would hurt the host.
pub const MAX_CONFIG: usize = 16 << 20;

/// Why a planted file was not read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlantedFileError {
    /// Opening, reading or writing failed (a symlink refused by
    /// `O_NOFOLLOW` shows as `ELOOP`).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The path is a FIFO, a device, a socket or a directory.
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    /// The file is larger than the most read from it.
    #[error("larger than {0} bytes")]
    TooLarge(usize),
}

/// What kind of non-regular file `t` is, for the error.
fn kind(t: std::fs::FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Fails unless `file` is a regular file.
fn regular(file: &File) -> Result<(), PlantedFileError> {
    let t = file.metadata()?.file_type();
    if t.is_file() {
        Ok(())
    } else {
        Err(PlantedFileError::NotRegular(kind(t)))
    }
}

/// Opens the regular file at `path` for reading without blocking on a
/// FIFO. Symlinks are followed, as keepalived does for reading.
fn open_regular(path: &Path) -> Result<File, PlantedFileError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    regular(&file)?;
    Ok(file)
}

/// Reads at most [`MAX_READ`] bytes of the regular file at `path` (what a
/// `track_file` holds beyond them is ignored).
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, PlantedFileError> {
    let mut out = Vec::with_capacity(MAX_READ);
    open_regular(path)?
        .take(MAX_READ as u64)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Reads the whole regular file at `path`, a configuration file: an error
/// past [`MAX_CONFIG`] bytes.
pub fn read_config(path: &Path) -> Result<Vec<u8>, PlantedFileError> {
    let mut out = Vec::new();
    open_regular(path)?
        .take(MAX_CONFIG as u64 + 1)
        .read_to_end(&mut out)?;
    if out.len() > MAX_CONFIG {
        return Err(PlantedFileError::TooLarge(MAX_CONFIG));
    }
    Ok(out)
}

/// Writes `contents` to the regular file at `path`, creating it (mode 0644)
/// if it is missing; with `replace` false an existing file is left alone
/// and `Ok(false)` says so. A symlink at `path` is refused, never followed.
pub fn write_no_follow(
    path: &Path,
    contents: &[u8],
    replace: bool,
) -> Result<bool, PlantedFileError> {
    let mut options = OpenOptions::new();
    options
        .write(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    if replace {
        options.create(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if !replace && e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    regular(&file)?;
    // Truncated only once it is known to be a regular file.
    file.set_len(0)?;
    file.write_all(contents)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let t0 = Instant::now();
        let e = read_bounded(&fifo).unwrap_err();
        assert!(matches!(e, PlantedFileError::NotRegular("a FIFO")), "{e}");
        // Generous: a blocking open would never return.
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert!(write_no_follow(&fifo, b"0\n", true).is_err());
    }

    #[test]
    fn a_symlink_to_a_device_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_bounded(&link).unwrap_err();
        assert!(matches!(e, PlantedFileError::NotRegular("a device")), "{e}");
        assert!(matches!(
            read_bounded(dir.path()).unwrap_err(),
            PlantedFileError::NotRegular("a directory")
        ));
    }

    #[test]
    fn a_huge_sparse_file_costs_only_the_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"42\n").unwrap();
        f.set_len(600 << 20).unwrap();
        let bytes = read_bounded(&path).unwrap();
        assert_eq!(bytes.len(), MAX_READ);
        assert!(bytes.starts_with(b"42\n"));
    }

    #[test]
    fn writes_refuse_a_planted_symlink_and_leave_its_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("root-owned");
        std::fs::write(&target, "precious\n").unwrap();
        let link = dir.path().join("track");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_no_follow(&link, b"0\n", true).is_err());
        assert!(!matches!(write_no_follow(&link, b"0\n", false), Ok(true)));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    }

    #[test]
    fn a_configuration_is_read_whole_up_to_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keepalived.conf");
        std::fs::write(&path, "global_defs {\n}\n").unwrap();
        assert_eq!(read_config(&path).unwrap(), b"global_defs {\n}\n");
        let f = File::create(&path).unwrap();
        f.set_len(MAX_CONFIG as u64 + 1).unwrap();
        assert!(matches!(
            read_config(&path),
            Err(PlantedFileError::TooLarge(_))
        ));
        assert!(matches!(
            read_config(dir.path()),
            Err(PlantedFileError::NotRegular(_))
        ));
    }

    #[test]
    fn writes_create_replace_or_keep_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prio");
        assert!(write_no_follow(&path, b"10\n", false).unwrap());
        assert!(!write_no_follow(&path, b"20\n", false).unwrap(), "kept");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "10\n");
        assert!(write_no_follow(&path, b"5\n", true).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "5\n");
    }
}
