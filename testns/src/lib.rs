//! Test support for the suite: throwaway network namespaces joined by veth
//! links and bridges, all removed on drop, even when a test panics.
//!
//! Network safety: everything here happens inside namespaces this crate
//! creates, named `<prefix><pid>-<tag><n>` (`vt` for tests, `vl` for the
//! lab). Callers use only 198.18.0.0/15 and fd00:198:18::/48.
//!
//! Two forms of each operation: the short ones (`new`, `ip`, `veth_to`)
//! panic with the command's stderr, for tests; the `try_`/`checked` ones
//! return an [`io::Error`] that says the same, for the lab.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

pub mod guest;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether tests that need root and network namespaces can run here.
///
/// Returns `false` (and says why on stderr) when they cannot, so the caller
/// can skip. With `CI=true` in the environment it panics instead: in CI such
/// a test must run or fail, never skip silently.
pub fn netns_available(test: &str) -> bool {
    let reason = if !is_root() {
        Some("not running as root".to_string())
    } else if !has_ip() {
        Some("`ip` (iproute2) is not installed".to_string())
    } else {
        None
    };
    match reason {
        None => true,
        Some(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: needs root and network namespaces but cannot run: {why} (CI=true)")
        }
        Some(why) => {
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn has_ip() -> bool {
    Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether a program is on `PATH` (or in /usr/sbin, where Debian puts daemons).
pub fn have_program(name: &str) -> bool {
    which(name).is_some()
}

/// The full path of a program on `PATH` or in /usr/sbin and /sbin.
pub fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin"])
        .map(|dir| std::path::Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Runs `ip args...` (in the host namespace: `netns` commands, or `-n`),
/// with its stderr in the error.
pub fn run_ip(args: &[&str]) -> io::Result<String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run `ip` (is iproute2 installed?): {e}"),
            )
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(io::Error::other(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// A network namespace that exists for the lifetime of this value;
/// dropping it kills every process left inside (only the caller's live
/// there) and deletes it.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `vt<pid>-<tag><n>` with its loopback up.
    ///
    /// Panics if it cannot be created: call [`netns_available`] first.
    pub fn new(tag: &str) -> Netns {
        Netns::try_new("vt", tag).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Creates a namespace named `<prefix><pid>-<tag><n>` with its
    /// loopback up (see [`sweep_stale`] for the prefix).
    pub fn try_new(prefix: &str, tag: &str) -> io::Result<Netns> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}{}-{tag}{n}", std::process::id());
        run_ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip_checked(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME args...` and panics with its stderr if it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        self.ip_checked(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `ip -n NAME args...`; its stderr is in the error.
    pub fn ip_checked(&self, args: &[&str]) -> io::Result<String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run_ip(&all)
    }

    /// Runs `ip -n NAME args...` and returns its output whatever the status.
    pub fn ip_try(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .output()
            .expect("run ip")
    }

    /// A command that runs `argv` inside the namespace (`ip netns exec`).
    pub fn command<S: AsRef<OsStr>>(&self, program: S) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// A command whose process enters this namespace just before exec.
    /// Unlike [`command`](Self::command) this adds no process of its own,
    /// so start-up times measure only the program.
    pub fn enter_command<S: AsRef<OsStr>>(&self, program: S) -> io::Result<Command> {
        let fd = self.open()?;
        let mut cmd = Command::new(program);
        // SAFETY: the closure runs between fork and exec and only calls
        // setns(2), which is async-signal-safe; `fd` stays open because the
        // closure owns it.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(cmd)
    }

    /// Runs `argv` inside the namespace and panics with its stderr if it fails.
    pub fn exec(&self, argv: &[&str]) -> String {
        let (program, args) = argv.split_first().expect("empty argv");
        let out = run_ok(self.command(program).args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `argv` inside the namespace and returns its output whatever the status.
    pub fn exec_try(&self, argv: &[&str]) -> Output {
        let (program, args) = argv.split_first().expect("empty argv");
        self.command(program)
            .args(args)
            .output()
            .expect("spawn ip netns exec")
    }

    /// Starts `argv` inside the namespace; the child is killed when the guard drops.
    pub fn spawn(&self, argv: &[&str]) -> ChildGuard {
        let (program, args) = argv.split_first().expect("empty argv");
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn in namespace");
        ChildGuard(Some(child))
    }

    /// Opens the namespace file, for `setns`.
    pub fn open(&self) -> io::Result<OwnedFd> {
        File::open(format!("/run/netns/{}", self.name))
            .map(OwnedFd::from)
            .map_err(|e| io::Error::new(e.kind(), format!("open namespace {}: {e}", self.name)))
    }

    /// Runs `f` on a new thread that has entered this namespace, so sockets
    /// it opens (netlink, raw, packet) live in the namespace.
    pub fn run_in<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let thread = self
            .spawn_thread("netns", f)
            .unwrap_or_else(|e| panic!("{e}"));
        match thread.join() {
            Ok(r) => r.unwrap_or_else(|e| panic!("{e}")),
            Err(e) => std::panic::resume_unwind(e),
        }
    }

    /// Runs `f` on a new thread called `name` that entered this namespace,
    /// and returns its handle; sockets `f` opens live in the namespace.
    pub fn spawn_thread<R: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> io::Result<JoinHandle<io::Result<R>>> {
        let fd = self.open()?;
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                // SAFETY: setns on a namespace descriptor we own only
                // changes this thread's network namespace; the thread is
                // ours.
                if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    let e = io::Error::last_os_error();
                    return Err(io::Error::new(e.kind(), format!("setns: {e}")));
                }
                Ok(f())
            })
    }

    /// Adds a veth pair: `local` in this namespace, `remote` in `peer`; both up.
    pub fn veth_to(&self, local: &str, peer: &Netns, remote: &str) {
        self.try_veth_to(local, peer, remote)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// [`veth_to`](Self::veth_to), with the failure as an error.
    pub fn try_veth_to(&self, local: &str, peer: &Netns, remote: &str) -> io::Result<()> {
        self.ip_checked(&[
            "link", "add", local, "type", "veth", "peer", "name", remote, "netns", &peer.name,
        ])?;
        self.ip_checked(&["link", "set", local, "up"])?;
        peer.ip_checked(&["link", "set", remote, "up"])?;
        Ok(())
    }

    /// Adds `cidr` to `dev`; an address outside 198.18.0.0/15 and
    /// fd00:198:18::/48 is refused. IPv6 ones skip duplicate address
    /// detection.
    pub fn add_addr(&self, cidr: &str, dev: &str) -> io::Result<()> {
        if !is_safe_addr(cidr) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing address {cidr}: outside 198.18.0.0/15 and fd00:198:18::/48"),
            ));
        }
        let mut args = vec!["addr", "add", cidr, "dev", dev];
        if cidr.contains(':') {
            args.push("nodad");
        }
        self.ip_checked(&args).map(drop)
    }

    /// The MAC address of `dev`.
    pub fn mac(&self, dev: &str) -> io::Result<[u8; 6]> {
        let out = self.ip_checked(&["-o", "link", "show", dev])?;
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no MAC address on {dev}"),
            )
        };
        let text = out
            .split("link/ether ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .ok_or_else(bad)?;
        let mut mac = [0u8; 6];
        let mut parts = text.split(':');
        for b in &mut mac {
            *b = parts
                .next()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(bad)?;
        }
        Ok(mac)
    }

    /// The pids of the processes whose network namespace this is, but
    /// this process.
    pub fn pids(&self) -> Vec<i32> {
        let own = std::process::id() as i32;
        run_ip(&["netns", "pids", &self.name])
            .map(|out| {
                out.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok())
                    .filter(|&p| p != own && p > 1)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends SIGKILL to every process inside, newest (highest pid) first so
    /// that children die before a parent could tell them to shut down.
    pub fn kill_all(&self) {
        let mut pids = self.pids();
        pids.sort_unstable_by(|a, b| b.cmp(a));
        for pid in pids {
            // SAFETY: kill has no memory-safety preconditions; the pid
            // lives in a namespace the caller created: one of its own.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.kill_all();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Deletes the namespaces named `<prefix><pid>-…` that a process killed
/// before its guards could run left behind (its pid no longer exists),
/// with the processes still inside them. Returns the names it removed.
pub fn sweep_stale(prefix: &str) -> Vec<String> {
    let list = run_ip(&["netns", "list"]).unwrap_or_default();
    let mut removed = Vec::new();
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|r| r.split_once('-'))
            .and_then(|(p, _)| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // Dropping the guard kills what runs inside and deletes it.
        drop(Netns {
            name: name.to_string(),
        });
        removed.push(name.to_string());
    }
    removed
}

/// A child process killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    /// Wraps a child so it is killed on drop.
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard(Some(child))
    }

    /// The process id (of `ip netns exec`, which execs the program in place).
    pub fn pid(&self) -> u32 {
        self.0.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The child, for waiting or reading its pipes.
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child already taken")
    }

    /// Sends a signal to the child.
    pub fn signal(&self, sig: i32) {
        if let Some(child) = &self.0 {
            // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
            unsafe { libc::kill(child.id() as i32, sig) };
        }
    }

    /// Gives up the guard and returns the child without killing it.
    pub fn into_inner(mut self) -> Child {
        self.0.take().expect("child already taken")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A LAN: one namespace holding a bridge `br0`, and hosts attached to it,
/// each with `eth0` linked to a bridge port.
#[derive(Debug)]
pub struct Lan {
    /// The namespace that holds the bridge.
    pub switch: Netns,
    /// The hosts, in the order they were added.
    pub hosts: Vec<Netns>,
}

impl Lan {
    /// Creates the switch namespace and its bridge.
    pub fn new(tag: &str) -> Lan {
        let switch = Netns::new(&format!("{tag}s"));
        switch.ip(&["link", "add", "br0", "type", "bridge"]);
        // Forward at once: no STP listening delay.
        switch.ip(&["link", "set", "br0", "type", "bridge", "forward_delay", "0"]);
        switch.ip(&["link", "set", "br0", "up"]);
        Lan {
            switch,
            hosts: Vec::new(),
        }
    }

    /// Adds a host namespace with `eth0` on the bridge, and returns its index.
    /// `addrs` are CIDR addresses for `eth0` (198.18.0.0/15 or fd00:198:18::/48 only).
    pub fn add_host(&mut self, tag: &str, addrs: &[&str]) -> usize {
        let idx = self.hosts.len();
        let host = Netns::new(tag);
        let port = format!("p{idx}");
        host.veth_to("eth0", &self.switch, &port);
        self.switch.ip(&["link", "set", &port, "master", "br0"]);
        for addr in addrs {
            assert_safe_addr(addr);
            host.add_addr(addr, "eth0")
                .unwrap_or_else(|e| panic!("{e}"));
        }
        self.hosts.push(host);
        idx
    }

    /// The bridge port name of host `idx` (in the switch namespace).
    pub fn port(&self, idx: usize) -> String {
        format!("p{idx}")
    }
}

/// Panics unless `addr` (with or without a prefix length) is in the ranges
/// tests may use: 198.18.0.0/15 or fd00:198:18::/48.
pub fn assert_safe_addr(addr: &str) {
    assert!(
        is_safe_addr(addr),
        "test address {addr} is outside 198.18.0.0/15 and fd00:198:18::/48"
    );
}

/// Whether `addr` (with or without a prefix length) is in the ranges tests
/// and the lab may use: 198.18.0.0/15 or fd00:198:18::/48 (or IPv6
/// link-local).
pub fn is_safe_addr(addr: &str) -> bool {
    let ip = addr.split('/').next().unwrap_or(addr);
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            o[0] == 198 && (o[1] == 18 || o[1] == 19)
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            (s[0] == 0xfd00 && s[1] == 0x198 && s[2] == 0x18) || (s[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ranges_are_enforced() {
        assert_safe_addr("198.18.0.1/24");
        assert_safe_addr("198.19.255.1");
        assert_safe_addr("fd00:198:18::5/64");
        assert!(std::panic::catch_unwind(|| assert_safe_addr("10.0.0.1/8")).is_err());
        assert!(std::panic::catch_unwind(|| assert_safe_addr("fd00::1")).is_err());
    }

    #[test]
    fn lan_hosts_reach_each_other_and_vanish_on_drop() {
        if !netns_available("lan_hosts_reach_each_other_and_vanish_on_drop") {
            return;
        }
        let names;
        {
            let mut lan = Lan::new("t");
            let a = lan.add_host("a", &["198.18.0.1/24"]);
            let b = lan.add_host("b", &["198.18.0.2/24"]);
            lan.hosts[a].exec(&["ping", "-c", "1", "-W", "2", "198.18.0.2"]);
            names = [
                lan.hosts[a].name().to_string(),
                lan.hosts[b].name().to_string(),
            ];
        }
        let list = String::from_utf8_lossy(
            &Command::new("ip")
                .args(["netns", "list"])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned();
        for n in names {
            assert!(!list.contains(&n), "{n} still exists");
        }
    }
}
