//! Test support for the suite: throwaway network namespaces joined by veth
//! links and bridges, all removed on drop, even when a test panics.
//!
//! Network safety: everything here happens inside namespaces this crate
//! creates, named `vt<tag>-<pid>-<n>`. Callers use only 198.18.0.0/15 and
//! fd00:198:18::/48.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

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

/// A network namespace that exists for the lifetime of this value.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `vt<tag>-<pid>-<n>` with its loopback up.
    ///
    /// Panics if it cannot be created: call [`netns_available`] first.
    pub fn new(tag: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("vt{tag}-{}-{n}", std::process::id());
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME args...` and panics with its stderr if it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        let out = run_ok(Command::new("ip").arg("-n").arg(&self.name).args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
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

    /// Runs `f` on a new thread that has entered this namespace, so sockets
    /// it opens (netlink, raw, packet) live in the namespace.
    pub fn run_in<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let file = File::open(format!("/run/netns/{}", self.name)).expect("open netns file");
        std::thread::spawn(move || {
            // SAFETY: setns on a valid namespace fd only changes this thread's
            // network namespace; the thread is ours and ends after `f`.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Adds a veth pair: `local` in this namespace, `remote` in `peer`; both up.
    pub fn veth_to(&self, local: &str, peer: &Netns, remote: &str) {
        self.ip(&[
            "link", "add", local, "type", "veth", "peer", "name", remote, "netns", &peer.name,
        ]);
        self.ip(&["link", "set", local, "up"]);
        peer.ip(&["link", "set", remote, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Kill what still runs inside (only our own test processes live in a
        // namespace we created), then delete it.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
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
            let mut args = vec!["addr", "add", addr, "dev", "eth0"];
            if addr.contains(':') {
                args.push("nodad");
            }
            host.ip(&args);
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
    let ip = addr.split('/').next().unwrap_or(addr);
    let ok = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            o[0] == 198 && (o[1] == 18 || o[1] == 19)
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            (s[0] == 0xfd00 && s[1] == 0x198 && s[2] == 0x18) || (s[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    };
    assert!(
        ok,
        "test address {addr} is outside 198.18.0.0/15 and fd00:198:18::/48"
    );
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
