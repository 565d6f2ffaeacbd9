//! Putting a dump in place so that no reader ever sees part of one.

use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells the temporary files of one process apart.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// How many temporary names are tried before giving up.
const ATTEMPTS: u32 = 64;

/// Writes `contents` to `dir/file_name`, atomically: into a new file in
/// `dir` (created exclusively, `O_EXCL|O_NOFOLLOW`, mode 0600 before the
/// umask), which is then renamed over `dir/file_name`. Readers see the
/// old file or the whole new one, never a part (keepalived renames first
/// and writes after). A symlink at `dir/file_name` is replaced, not
/// followed. The file is not synced: dumps do not need to survive a
/// crash.
///
/// The temporary name starts with a dot and does not start with
/// `file_name`, so that exporters that delete `keepalived.json*` after
/// reading (gen2brain/keepalived_exporter) cannot remove one in flight.
/// Returns the final path.
pub fn write(dir: &Path, file_name: &str, contents: &str) -> io::Result<PathBuf> {
    let target = dir.join(file_name);
    let pid = std::process::id();
    for _ in 0..ATTEMPTS {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{file_name}.{pid}.{n}.tmp"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let done = file
            .write_all(contents.as_bytes())
            .and_then(|()| file.flush())
            .and_then(|()| {
                drop(file);
                std::fs::rename(&temp, &target)
            });
        return match done {
            Ok(()) => Ok(target),
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        };
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "no free temporary name for {} after {ATTEMPTS} tries",
            target.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn writes_the_whole_file_mode_0600_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "keepalived.stats", "one\n").unwrap();
        assert_eq!(path, dir.path().join("keepalived.stats"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        write(dir.path(), "keepalived.stats", "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["keepalived.stats"]);
    }

    #[test]
    fn replaces_a_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = dir.path().join("keepalived.data");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write(dir.path(), "keepalived.data", "dump\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.nlink(), 1);
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "dump\n");
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(write(&missing, "keepalived.json", "[]\n").is_err());
    }
}
