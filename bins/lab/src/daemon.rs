//! The two daemons the lab runs, vrrpd and keepalived: where their binaries
//! are, their configuration for a host, and a guard for a running one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::ns::Netns;
use super::{LabError, Result};

/// Which implementation runs on the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonKind {
    /// Our daemon, found beside the `vrrp-lab` executable.
    Vrrpd,
    /// keepalived from the system (`/usr/sbin/keepalived`).
    Keepalived,
}

impl DaemonKind {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            DaemonKind::Vrrpd => "vrrpd",
            DaemonKind::Keepalived => "keepalived",
        }
    }

    /// Parses `vrrpd` or `keepalived`.
    pub fn parse(s: &str) -> Option<DaemonKind> {
        match s {
            "vrrpd" => Some(DaemonKind::Vrrpd),
            "keepalived" => Some(DaemonKind::Keepalived),
            _ => None,
        }
    }

    /// The binary: vrrpd from the directory of the running executable (so
    /// it comes from the same cargo build), keepalived from the system.
    pub fn locate(self) -> Result<PathBuf> {
        match self {
            DaemonKind::Vrrpd => {
                build_vrrpd_once();
                let exe = std::env::current_exe()?;
                let dir = exe.parent().unwrap_or(Path::new("."));
                // Integration tests run from target/<profile>/deps.
                let candidates = [dir.join("vrrpd"), dir.join("../vrrpd")];
                candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
                    LabError::new(format!(
                        "vrrpd binary not found beside {} (build it with \
                         `cargo build --release -p vrrpd-cli --bins`)",
                        exe.display()
                    ))
                })
            }
            DaemonKind::Keepalived => ["/usr/sbin/keepalived", "/usr/local/sbin/keepalived"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    LabError::new(
                        "keepalived binary not found (install it: apt-get install keepalived)",
                    )
                }),
        }
    }
}

/// Under `cargo run` (which builds only the binary it runs), builds vrrpd
/// first with the same profile, once per process, so the demo never runs
/// a missing or stale daemon. `VRRP_LAB_NO_BUILD=1` turns this off.
fn build_vrrpd_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let (Some(cargo), Some(manifest)) = (
            std::env::var_os("CARGO"),
            std::env::var_os("CARGO_MANIFEST_DIR"),
        ) else {
            return;
        };
        if std::env::var_os("VRRP_LAB_NO_BUILD").is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        // target/<profile>/vrrp-lab, or target/<profile>/deps/<test> when
        // an integration test drives the lab.
        let mut dir = exe.parent();
        if dir.and_then(Path::file_name).is_some_and(|n| n == "deps") {
            dir = dir.and_then(Path::parent);
        }
        let profile = dir
            .and_then(Path::file_name)
            .and_then(|p| p.to_str())
            .unwrap_or("debug")
            .to_string();
        let mut cmd = std::process::Command::new(cargo);
        cmd.arg("build")
            .arg("--manifest-path")
            .arg(Path::new(&manifest).join("Cargo.toml"))
            .args(["-p", "vrrpd-cli", "--bin", "vrrpd"]);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        eprintln!("vrrp-lab: building vrrpd ({profile}) first: {cmd:?}");
        match cmd.status() {
            Ok(s) if s.success() => {}
            Ok(s) => eprintln!("vrrp-lab: building vrrpd failed ({s})"),
            Err(e) => eprintln!("vrrp-lab: cannot run cargo: {e}"),
        }
    });
}

/// One virtual router in a host's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Interface name in the host, `eth0`...
    pub interface: String,
    /// 1..=255.
    pub vrid: u8,
    /// 2 or 3.
    pub version: u8,
    /// 1..=255.
    pub priority: u8,
    /// The advertisement interval.
    pub interval: Duration,
    /// Start as Active (keepalived `state MASTER`).
    pub initial_active: bool,
    /// The VIP, `198.18.x.y/len`.
    pub vip: String,
    /// More VIPs, not advertised (`excluded_vips`, keepalived's
    /// `virtual_ipaddress_excluded`).
    pub excluded: Vec<String>,
}

/// Everything one host runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// `h1` or `h2`.
    pub router_id: String,
    /// The virtual routers.
    pub instances: Vec<Instance>,
}

fn interval_text(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The native TOML configuration (docs/configuration.md).
pub fn vrrpd_config(host: &HostConfig, dir: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "[global]");
    let _ = writeln!(s, "router_id = \"{}\"", host.router_id);
    let _ = writeln!(s, "state_dir = \"{}\"", dir.join("state").display());
    let _ = writeln!(
        s,
        "control_socket = \"{}\"",
        dir.join("vrrpd.sock").display()
    );
    for i in &host.instances {
        let _ = writeln!(s, "\n[[instance]]");
        let _ = writeln!(s, "name = \"VI_{}_{}\"", i.interface, i.vrid);
        let _ = writeln!(s, "interface = \"{}\"", i.interface);
        let _ = writeln!(s, "vrid = {}", i.vrid);
        let _ = writeln!(s, "version = {}", i.version);
        let _ = writeln!(s, "priority = {}", i.priority);
        let _ = writeln!(s, "advert_interval = \"{}\"", interval_text(i.interval));
        if i.initial_active && i.priority != 255 {
            let _ = writeln!(s, "initial_state = \"active\"");
        }
        let _ = writeln!(s, "vips = [\"{}\"]", i.vip);
        if !i.excluded.is_empty() {
            let quoted: Vec<String> = i.excluded.iter().map(|v| format!("\"{v}\"")).collect();
            let _ = writeln!(s, "excluded_vips = [{}]", quoted.join(", "));
        }
    }
    s
}

/// The equivalent keepalived.conf.
pub fn keepalived_config(host: &HostConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "global_defs {{\n  router_id {}\n}}", host.router_id);
    for i in &host.instances {
        let secs = i.interval.as_secs_f64();
        let _ = writeln!(s, "vrrp_instance VI_{}_{} {{", i.interface, i.vrid);
        let _ = writeln!(
            s,
            "  state {}",
            if i.initial_active || i.priority == 255 {
                "MASTER"
            } else {
                "BACKUP"
            }
        );
        let _ = writeln!(s, "  interface {}", i.interface);
        let _ = writeln!(s, "  virtual_router_id {}", i.vrid);
        let _ = writeln!(s, "  version {}", i.version);
        let _ = writeln!(s, "  priority {}", i.priority);
        let _ = writeln!(s, "  advert_int {secs}");
        let _ = writeln!(s, "  virtual_ipaddress {{\n    {}\n  }}", i.vip);
        if !i.excluded.is_empty() {
            let _ = writeln!(
                s,
                "  virtual_ipaddress_excluded {{\n    {}\n  }}",
                i.excluded.join("\n    ")
            );
        }
        let _ = writeln!(s, "}}");
    }
    s
}

/// A daemon running in a host namespace; killed (SIGKILL) on drop.
#[derive(Debug)]
pub struct Running {
    child: Option<Child>,
    /// What runs.
    pub kind: DaemonKind,
    /// Its stdout and stderr.
    pub log: PathBuf,
    /// Wall-clock nanoseconds just before the spawn.
    pub started_ns: i64,
}

/// Writes the configuration for `host` into `dir` and starts `kind` in `ns`.
pub fn start(kind: DaemonKind, ns: &Netns, host: &HostConfig, dir: &Path) -> Result<Running> {
    spawn(kind, ns, host, dir, false)
}

/// Like [`start`], but appends to the log of an earlier run in `dir`
/// instead of truncating it, so a daemon restarted again and again keeps
/// one log of all its lives.
pub fn start_appending(
    kind: DaemonKind,
    ns: &Netns,
    host: &HostConfig,
    dir: &Path,
) -> Result<Running> {
    spawn(kind, ns, host, dir, true)
}

/// Where [`start`] writes the configuration of `kind` in `dir`.
pub fn config_path(kind: DaemonKind, dir: &Path) -> PathBuf {
    match kind {
        DaemonKind::Vrrpd => dir.join("vrrpd.toml"),
        DaemonKind::Keepalived => dir.join("keepalived.conf"),
    }
}

/// Rewrites the configuration of `kind` for `host` in `dir` (for a reload).
pub fn write_config(kind: DaemonKind, host: &HostConfig, dir: &Path) -> Result<()> {
    let text = match kind {
        DaemonKind::Vrrpd => vrrpd_config(host, dir),
        DaemonKind::Keepalived => keepalived_config(host),
    };
    std::fs::write(config_path(kind, dir), text)?;
    Ok(())
}

fn spawn(
    kind: DaemonKind,
    ns: &Netns,
    host: &HostConfig,
    dir: &Path,
    append: bool,
) -> Result<Running> {
    let bin = kind.locate()?;
    std::fs::create_dir_all(dir.join("state"))?;
    let log = dir.join(format!("{}.log", kind.name()));
    let out = if append {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?
    } else {
        std::fs::File::create(&log)?
    };
    let err = out.try_clone()?;
    let mut cmd = ns.enter_command(&bin)?;
    match kind {
        DaemonKind::Vrrpd => {
            let conf = dir.join("vrrpd.toml");
            std::fs::write(&conf, vrrpd_config(host, dir))?;
            cmd.arg("--config")
                .arg(&conf)
                .args(["--log-format", "json"]);
        }
        DaemonKind::Keepalived => {
            let conf = dir.join("keepalived.conf");
            std::fs::write(&conf, keepalived_config(host))?;
            // A kill -9 leaves pid files behind; keepalived would refuse to start.
            for f in ["keepalived.pid", "vrrp.pid", "checkers.pid"] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            cmd.args(["-n", "-l", "-D", "-G", "-P", "-f"])
                .arg(&conf)
                .arg("-p")
                .arg(dir.join("keepalived.pid"))
                .arg("-r")
                .arg(dir.join("vrrp.pid"))
                .arg("-c")
                .arg(dir.join("checkers.pid"));
        }
    }
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let started_ns = super::now_ns();
    let child = cmd
        .spawn()
        .map_err(|e| LabError::new(format!("start {}: {e}", bin.display())))?;
    Ok(Running {
        child: Some(child),
        kind,
        log,
        started_ns,
    })
}

impl Running {
    /// The process id of the daemon (its main process).
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(0)
    }

    /// Whether it still runs.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The tail of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(8);
        lines.get(start..).unwrap_or(&[]).join("\n")
    }

    /// An error unless it still runs, with the end of its log.
    pub fn check_alive(&mut self) -> Result<()> {
        if self.alive() {
            Ok(())
        } else {
            Err(LabError::new(format!(
                "{} exited early (log {}); its log ends with:\n{}",
                self.kind.name(),
                self.log.display(),
                self.log_tail()
            )))
        }
    }

    /// Sends SIGTERM and waits up to `grace` for the exit, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut child) = self.child.take() {
            signal_child(&child, libc::SIGTERM);
            let end = Instant::now() + grace;
            while Instant::now() < end {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `sig` to the daemon; false once it was reaped or the signal
    /// could not be sent.
    pub fn signal(&self, sig: libc::c_int) -> bool {
        match self.child.as_ref() {
            // Our child, not yet reaped, so its pid cannot have been reused.
            Some(c) => signal_child(c, sig),
            None => false,
        }
    }

    /// The exit status once it has exited (reaping it), `None` while it runs.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Sends SIGTERM and waits up to `grace` for the exit. Returns the exit
    /// status, or `None` when it had to be killed (SIGKILL) after `grace`
    /// or was already gone.
    pub fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        signal_child(&child, libc::SIGTERM);
        let end = Instant::now() + grace;
        while Instant::now() < end {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Forgets the child after its namespace's processes were killed, and reaps it.
    pub fn reap(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.reap();
    }
}

/// Sends `sig` to our own `child` (not yet reaped, so its pid is still
/// its own); false if it could not be sent.
fn signal_child(child: &Child, sig: libc::c_int) -> bool {
    let Ok(signal) = nix::sys::signal::Signal::try_from(sig) else {
        return false;
    };
    let Ok(pid) = i32::try_from(child.id()) else {
        return false;
    };
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).is_ok()
}
