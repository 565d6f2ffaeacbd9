//! Running the commands the configuration names (track scripts and notify
//! hooks) safely: as an argv with no shell unless asked, as the configured
//! user, in a process group of their own so a timeout kills every child,
//! with their output discarded so a chatty script cannot fill memory, and
//! (keepalived's `enable_script_security`) only if no one but root can
//! change them.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::Command;

use crate::config::{Exec, RunAs};

/// Why a command could not be run, or how it ended badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The program was not found on `PATH`.
    #[error("`{0}` not found")]
    NotFound(String),
    /// The user or group does not exist.
    #[error("unknown {kind} `{name}`")]
    UnknownId {
        /// "user" or "group".
        kind: &'static str,
        /// The name given.
        name: String,
    },
    /// Script security refused the program.
    #[error("refusing {path}: {why} (script security)")]
    Insecure {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `fork`/`exec` failed.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Still running at the timeout; its whole process group was killed.
    #[error("timed out after {0:?}; process group killed")]
    TimedOut(Duration),
    /// Waiting for it failed.
    #[error("wait failed: {0}")]
    Wait(std::io::Error),
}

/// A uid and gid to run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Looks up `run_as` in the user and group databases.
pub fn resolve(run_as: &RunAs) -> Result<Credentials, RunError> {
    let (uid, primary_gid) = lookup_user(&run_as.user)?;
    let gid = match &run_as.group {
        Some(g) => lookup_group(g)?,
        None => primary_gid,
    };
    Ok(Credentials { uid, gid })
}

fn lookup_user(name: &str) -> Result<(u32, u32), RunError> {
    let unknown = || RunError::UnknownId {
        kind: "user",
        name: name.to_string(),
    };
    if let Ok(Some(user)) = nix::unistd::User::from_name(name) {
        return Ok((user.uid.as_raw(), user.gid.as_raw()));
    }
    // A numeric uid that has no entry: its gid is the same number.
    name.parse::<u32>().map(|n| (n, n)).map_err(|_| unknown())
}

fn lookup_group(name: &str) -> Result<u32, RunError> {
    let unknown = || RunError::UnknownId {
        kind: "group",
        name: name.to_string(),
    };
    if let Ok(Some(group)) = nix::unistd::Group::from_name(name) {
        return Ok(group.gid.as_raw());
    }
    name.parse::<u32>().map_err(|_| unknown())
}

/// Finds `program` as `execvp` would: a path with a `/` as is, else the
/// first executable match on `PATH`.
pub fn find_program(program: &str) -> Result<PathBuf, RunError> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
        .ok_or_else(|| RunError::NotFound(program.to_string()))
}

/// keepalived's `enable_script_security`: the program and every directory
/// above it must be owned by root and writable by no one else, so a
/// non-root user cannot change what root runs.
pub fn check_script_security(program: &Path) -> Result<(), RunError> {
    let program = program
        .canonicalize()
        .map_err(|_| RunError::NotFound(program.display().to_string()))?;
    let mut at = Some(program.as_path());
    while let Some(p) = at {
        let meta = p
            .metadata()
            .map_err(|_| RunError::NotFound(p.display().to_string()))?;
        if meta.uid() != 0 {
            return Err(RunError::Insecure {
                path: p.to_path_buf(),
                why: "not owned by root",
            });
        }
        // Group or other write, except on a sticky directory's own entry
        // is still refused: a sticky /tmp lets others create files there.
        if meta.mode() & 0o022 != 0 {
            return Err(RunError::Insecure {
                path: p.to_path_buf(),
                why: "writable by group or others",
            });
        }
        at = p.parent();
    }
    Ok(())
}

/// One command, ready to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// The argv.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Who runs it (the daemon's own user when `None`): looked up in the
    /// user database when it runs, off the event loop (see
    /// [`check`](Self::check)).
    pub run_as: Option<RunAs>,
    /// keepalived's `enable_script_security`: the program must pass
    /// [`check_script_security`] when it runs.
    pub script_security: bool,
    /// Killed (with its whole process group) after this long, start-up
    /// included.
    pub timeout: Duration,
}

impl Job {
    /// A job for `exec` with `timeout`, no extra environment, as the daemon.
    pub fn new(exec: &Exec, timeout: Duration) -> Job {
        Job {
            argv: exec.to_argv(),
            env: Vec::new(),
            run_as: None,
            script_security: false,
            timeout,
        }
    }

    /// Applies the configuration to the job: it runs as `run_as`, else the
    /// global `script_user`, and with `script_security` on its program must
    /// pass [`check_script_security`]. Nothing is looked up yet.
    pub fn configured(mut self, run_as: Option<&RunAs>, global: &crate::config::Global) -> Job {
        self.run_as = run_as.or(global.script_user.as_ref()).cloned();
        self.script_security = global.script_security;
        self
    }

    /// The user and group it runs as (`None`: the daemon's), if they exist
    /// and, with `script_security`, its program passes
    /// [`check_script_security`]. Blocks on the user database and the file
    /// system: [`run`](Self::run) calls it on tokio's blocking pool.
    pub fn check(&self) -> Result<Option<Credentials>, RunError> {
        let credentials = self.run_as.as_ref().map(resolve).transpose()?;
        if self.script_security {
            let program = self.argv.first().cloned().unwrap_or_default();
            check_script_security(&find_program(&program)?)?;
        }
        Ok(credentials)
    }

    /// Runs the job to completion or its timeout. The checks and the
    /// spawn (a fork) run on tokio's blocking pool, not on the caller's
    /// thread.
    pub async fn run(&self) -> Result<ExitStatus, RunError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let job = self.clone();
        let started = tokio::task::spawn_blocking(move || job.spawn());
        let mut child = match tokio::time::timeout_at(deadline, started).await {
            Ok(Ok(started)) => started?,
            Ok(Err(e)) => {
                return Err(RunError::Spawn {
                    program: self.argv.first().cloned().unwrap_or_default(),
                    source: std::io::Error::other(e),
                });
            }
            // A child it starts later is killed as it is dropped.
            Err(_) => return Err(RunError::TimedOut(self.timeout)),
        };
        let pgid = child.id();
        match tokio::time::timeout_at(deadline, child.wait()).await {
            Ok(status) => {
                // Children it left behind in its group go too.
                kill_group(pgid);
                status.map_err(RunError::Wait)
            }
            Err(_) => {
                kill_group(pgid);
                let _ = child.wait().await;
                Err(RunError::TimedOut(self.timeout))
            }
        }
    }

    /// Checks the job and starts its process without waiting for it (a
    /// long-running reader such as a notify FIFO's script), in a process
    /// group of its own. Blocks on the checks and the fork. Must be called
    /// inside a tokio runtime.
    pub fn spawn(&self) -> Result<tokio::process::Child, RunError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(RunError::NotFound(String::new()));
        };
        let credentials = self.check()?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(c) = credentials {
            cmd.uid(c.uid).gid(c.gid);
        }
        cmd.spawn().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => RunError::NotFound(program.clone()),
            _ => RunError::Spawn {
                program: program.clone(),
                source,
            },
        })
    }
}

/// SIGKILL to the process group `pgid` (the job's own, from
/// `process_group(0)`); nothing for `None`.
fn kill_group(pgid: Option<u32>) {
    if let Some(pgid) = pgid.and_then(|p| i32::try_from(p).ok()) {
        // The group is the one our child leads; it may be gone already.
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pgid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn argv(words: &[&str]) -> Exec {
        Exec::Argv(words.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn exit_status_is_reported() {
        let ok = rt().block_on(Job::new(&argv(&["true"]), Duration::from_secs(5)).run());
        assert!(ok.unwrap().success());
        let bad = rt().block_on(Job::new(&argv(&["false"]), Duration::from_secs(5)).run());
        assert_eq!(bad.unwrap().code(), Some(1));
    }

    #[test]
    fn missing_program_is_a_typed_error() {
        let r = rt().block_on(Job::new(&argv(&["/nonexistent/x"]), Duration::from_secs(1)).run());
        assert!(matches!(r, Err(RunError::NotFound(_))), "{r:?}");
        assert!(matches!(
            find_program("no-such-program-vrrpd"),
            Err(RunError::NotFound(_))
        ));
    }

    #[test]
    fn timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("child.pid");
        let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
        let job = Job::new(&Exec::Shell(script), Duration::from_millis(300));
        let r = rt().block_on(job.run());
        assert!(matches!(r, Err(RunError::TimedOut(_))), "{r:?}");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild is gone (or a zombie being reaped by init).
        std::thread::sleep(Duration::from_millis(100));
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z"))
            .unwrap_or(false);
        assert!(!alive, "grandchild {pid} survived the timeout");
    }

    #[test]
    fn output_is_discarded_not_buffered() {
        // 64 MiB of output finishes without being collected anywhere.
        let job = Job::new(
            &Exec::Shell("head -c 67108864 /dev/zero".into()),
            Duration::from_secs(20),
        );
        assert!(rt().block_on(job.run()).unwrap().success());
    }

    #[test]
    fn environment_is_passed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env");
        let mut job = Job::new(
            &Exec::Shell(format!("echo \"$VRRP_STATE\" > {}", out.display())),
            Duration::from_secs(5),
        );
        job.env.push(("VRRP_STATE".into(), "MASTER".into()));
        assert!(rt().block_on(job.run()).unwrap().success());
        assert_eq!(std::fs::read_to_string(out).unwrap(), "MASTER\n");
    }

    #[test]
    fn the_user_and_script_security_are_checked_when_the_job_runs() {
        let mut global = crate::config::Global::default();
        let unknown = RunAs {
            user: "no-such-user-vrrpd".into(),
            group: None,
        };
        // Configuring looks nothing up; running does, and refuses.
        let job =
            Job::new(&argv(&["true"]), Duration::from_secs(5)).configured(Some(&unknown), &global);
        let r = rt().block_on(job.run());
        assert!(
            matches!(r, Err(RunError::UnknownId { kind: "user", .. })),
            "{r:?}"
        );
        // The global script user applies when the hook names none.
        global.script_user = Some(unknown);
        let job = Job::new(&argv(&["true"]), Duration::from_secs(5)).configured(None, &global);
        assert!(matches!(job.check(), Err(RunError::UnknownId { .. })));
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let script = dir.path().join("hook.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o777)).unwrap();
        global.script_user = None;
        global.script_security = true;
        let exec = Exec::Argv(vec![script.display().to_string()]);
        let job = Job::new(&exec, Duration::from_secs(5)).configured(None, &global);
        let r = rt().block_on(job.run());
        assert!(matches!(r, Err(RunError::Insecure { .. })), "{r:?}");
    }

    #[test]
    fn users_resolve_by_name_and_number() {
        let root = resolve(&RunAs {
            user: "root".into(),
            group: None,
        })
        .unwrap();
        assert_eq!(root, Credentials { uid: 0, gid: 0 });
        let n = resolve(&RunAs {
            user: "4321".into(),
            group: Some("4322".into()),
        })
        .unwrap();
        assert_eq!(
            n,
            Credentials {
                uid: 4321,
                gid: 4322
            }
        );
        assert!(matches!(
            resolve(&RunAs {
                user: "no-such-user-vrrpd".into(),
                group: None
            }),
            Err(RunError::UnknownId { kind: "user", .. })
        ));
    }

    #[test]
    fn script_security_refuses_writable_scripts() {
        use std::os::unix::fs::PermissionsExt;
        // /bin/true is root-owned all the way up.
        check_script_security(&find_program("true").unwrap()).unwrap();
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let script = dir.path().join("check.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(
            check_script_security(&script),
            Err(RunError::Insecure { .. })
        ));
    }
}
