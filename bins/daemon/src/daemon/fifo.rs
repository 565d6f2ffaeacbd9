//! keepalived's notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`): every
//! state change is written to each FIFO as one line in keepalived's
//! format, `INSTANCE "VI_1" MASTER 100` or `GROUP "G" BACKUP 0`, so that
//! existing FIFO readers keep working. Writes never block: a FIFO nobody
//! reads fills up, and then lines are dropped and counted (keepalived's
//! writes fail the same way). A FIFO's script (`notify_fifo_script`)
//! starts with the FIFO's path as its last argument and gets SIGTERM at
//! stop.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag};
use tracing::{info, warn};

use crate::config::{Global, NotifyFifo};
use crate::notify::{Target, Transition};
use crate::process::Job;

/// How long a FIFO's script has to end after SIGTERM before SIGKILL.
const READER_GRACE: Duration = Duration::from_secs(1);

/// The open FIFOs and their readers.
#[derive(Debug, Default)]
pub(crate) struct NotifyFifos {
    open: Vec<OpenFifo>,
}

#[derive(Debug)]
struct OpenFifo {
    path: PathBuf,
    /// Its script, until started.
    script: Option<Box<crate::config::Hook>>,
    fd: OwnedFd,
    /// Whether we made it (and so remove it at stop).
    created: bool,
    reader: Option<tokio::process::Child>,
    /// Lines dropped because the FIFO was full.
    dropped: u64,
}

/// The line keepalived writes for `t`: groups have priority 0.
pub(crate) fn line(t: &Transition) -> String {
    let priority = match t.target {
        Target::Instance(_) => t.priority,
        Target::Group(_) => 0,
    };
    format!(
        "{} \"{}\" {} {}\n",
        t.target.kind(),
        t.target.name(),
        t.state.as_str(),
        priority
    )
}

impl NotifyFifos {
    /// Creates (mode 0644, given to its owner) or opens each FIFO of
    /// `global`. One that cannot be opened is logged and left out. Blocks
    /// on the file system: for start-up, before the event loop runs (and
    /// before the capability drop, for a FIFO in a root-owned directory).
    pub(crate) fn open(global: &Global) -> NotifyFifos {
        let mut open = Vec::new();
        for fifo in &global.notify_fifos {
            match open_one(fifo) {
                Ok((fd, created)) => {
                    info!(fifo = %fifo.path.display(), "writing state changes to the notify FIFO");
                    open.push(OpenFifo {
                        path: fifo.path.clone(),
                        script: fifo.script.clone(),
                        fd,
                        created,
                        reader: None,
                        dropped: 0,
                    });
                }
                Err(e) => warn!(fifo = %fifo.path.display(), error = %e,
                    "cannot open the notify FIFO; state changes are not written to it"),
            }
        }
        NotifyFifos { open }
    }

    /// Starts each FIFO's script, with the FIFO's path as its last
    /// argument (keepalived's `notify_fifo_script`). Forks: for start-up,
    /// after the capability drop, so that the scripts inherit the reduced
    /// sets as hooks do.
    pub(crate) fn start_readers(&mut self, global: &Global) {
        for f in &mut self.open {
            let Some(hook) = f.script.take() else {
                continue;
            };
            let mut job =
                Job::new(&hook.exec, Duration::MAX).configured(hook.run_as.as_ref(), global);
            job.argv.push(f.path.to_string_lossy().into_owned());
            match job.spawn() {
                Ok(child) => f.reader = Some(child),
                Err(e) => warn!(fifo = %f.path.display(), error = %e,
                    "cannot start the notify FIFO's script"),
            }
        }
    }

    /// Writes the line of `t` to every FIFO, without blocking.
    pub(crate) fn write(&mut self, t: &Transition) {
        if self.open.is_empty() {
            return;
        }
        let text = line(t);
        for f in &mut self.open {
            match nix::unistd::write(f.fd.as_fd(), text.as_bytes()) {
                Ok(_) => {}
                Err(Errno::EAGAIN) => {
                    f.dropped += 1;
                    if f.dropped.is_power_of_two() {
                        warn!(fifo = %f.path.display(), dropped = f.dropped,
                            "the notify FIFO is full (is its reader running?): lines dropped");
                    }
                }
                Err(e) => {
                    warn!(fifo = %f.path.display(), error = %e, "cannot write to the notify FIFO")
                }
            }
        }
    }

    /// Stops the readers (SIGTERM to their process group, SIGKILL after
    /// [`READER_GRACE`]): at stop before the instances stop, as keepalived
    /// ends its scripts first (their STOP lines are written for other
    /// readers of the FIFO).
    pub(crate) async fn stop_readers(&mut self) {
        for f in &mut self.open {
            if let Some(mut child) = f.reader.take() {
                if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                    // The group our child leads (process_group(0)).
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGTERM,
                    );
                }
                if tokio::time::timeout(READER_GRACE, child.wait())
                    .await
                    .is_err()
                {
                    let _ = child.kill().await;
                }
            }
        }
    }

    /// Stops the readers still running, closes the FIFOs and removes those
    /// we made.
    pub(crate) async fn close(&mut self) {
        self.stop_readers().await;
        for f in self.open.drain(..) {
            if f.created {
                let _ = std::fs::remove_file(&f.path);
            }
        }
    }
}

/// Opens `fifo` for writing without blocking (read-write, so the open
/// needs no reader and a reader that goes does not raise SIGPIPE), making
/// it first if it does not exist. Something else at that path (a file, a
/// symbolic link) is refused.
fn open_one(fifo: &NotifyFifo) -> Result<(OwnedFd, bool), String> {
    let created = match nix::unistd::mkfifo(&fifo.path, Mode::from_bits_truncate(0o644)) {
        Ok(()) => true,
        Err(Errno::EEXIST) => false,
        Err(e) => return Err(format!("mkfifo: {e}")),
    };
    if created {
        if let Some(owner) = &fifo.owner {
            let c = crate::process::resolve(owner).map_err(|e| e.to_string())?;
            nix::unistd::chown(
                &fifo.path,
                Some(nix::unistd::Uid::from_raw(c.uid)),
                Some(nix::unistd::Gid::from_raw(c.gid)),
            )
            .map_err(|e| format!("chown: {e}"))?;
        }
    }
    let fd = nix::fcntl::open(
        &fifo.path,
        OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
    .map_err(|e| format!("open: {e}"))?;
    let st = nix::sys::stat::fstat(&fd).map_err(|e| format!("fstat: {e}"))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFIFO {
        return Err("not a FIFO".into());
    }
    Ok((fd, created))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::HookState;

    #[test]
    fn lines_are_keepalived_s() {
        let t = Transition {
            target: Target::Instance("VI_1".into()),
            state: HookState::Master,
            previous: Some(HookState::Backup),
            priority: 100,
        };
        assert_eq!(line(&t), "INSTANCE \"VI_1\" MASTER 100\n");
        let g = Transition {
            target: Target::Group("G".into()),
            state: HookState::Backup,
            previous: None,
            priority: 150,
        };
        assert_eq!(line(&g), "GROUP \"G\" BACKUP 0\n");
    }

    #[test]
    fn a_full_fifo_drops_lines_without_blocking_and_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let global = Global {
            notify_fifos: vec![NotifyFifo {
                path: path.clone(),
                owner: None,
                script: None,
            }],
            ..Global::default()
        };
        let mut fifos = NotifyFifos::open(&global);
        assert_eq!(fifos.open.len(), 1);
        assert!(fifos.open[0].created);
        let t = Transition {
            target: Target::Instance("VI_1".into()),
            state: HookState::Backup,
            previous: None,
            priority: 100,
        };
        // Nobody reads: the pipe (64 KiB) fills, then lines are dropped.
        for _ in 0..5000 {
            fifos.write(&t);
        }
        assert!(fifos.open[0].dropped > 0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(fifos.close());
        assert!(!path.exists(), "the FIFO we made is removed at stop");
        std::fs::write(&path, "").unwrap();
        let fifos = NotifyFifos::open(&global);
        assert!(fifos.open.is_empty(), "a regular file is not a FIFO");
    }
}
