//! Network namespaces, veth links and bridges of the lab, removed on drop.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{LabError, Result};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether `ip` accepts `addr` for the lab: 198.18.0.0/15 only.
pub fn is_lab_addr(addr: Ipv4Addr) -> bool {
    let o = addr.octets();
    o[0] == 198 && (o[1] == 18 || o[1] == 19)
}

/// Runs `ip args...`, with its stderr in the error.
pub fn ip(args: &[&str]) -> Result<String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::new(format!("cannot run `ip` (is iproute2 installed?): {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::new(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Deletes lab namespaces (`vl<pid>-…`) left behind by a `vrrp-lab` that
/// was killed before its guards could run (its pid no longer exists), with
/// the processes still inside them. Returns the names it removed.
pub fn sweep_stale() -> Vec<String> {
    let list = ip(&["netns", "list"]).unwrap_or_default();
    let mut removed = Vec::new();
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix("vl")
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

/// A network namespace that exists as long as this value; dropping it
/// kills every process left inside (only ours live there) and deletes it.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `vl<pid>-<tag><n>` with its loopback up.
    pub fn new(tag: &str) -> Result<Netns> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("vl{}-{tag}{n}", std::process::id());
        ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The name `ip netns` knows it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME args...`.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Opens the namespace file, for `setns`.
    pub fn open(&self) -> Result<OwnedFd> {
        let f = File::open(format!("/run/netns/{}", self.name))
            .map_err(|e| LabError::new(format!("open namespace {}: {e}", self.name)))?;
        Ok(OwnedFd::from(f))
    }

    /// A command whose process enters this namespace just before exec.
    /// Unlike `ip netns exec` this adds no process of its own, so start-up
    /// times measure only the program.
    pub fn command(&self, program: &std::path::Path) -> Result<Command> {
        let fd = self.open()?;
        let mut cmd = Command::new(program);
        // SAFETY: the closure runs between fork and exec and only calls
        // setns(2), which is async-signal-safe; `fd` stays open because the
        // closure owns it.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(cmd)
    }

    /// The pids of the processes whose network namespace this is.
    pub fn pids(&self) -> Vec<i32> {
        let own = std::process::id() as i32;
        ip(&["netns", "pids", &self.name])
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
            // The pid lives in a namespace this lab created: one of ours.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    /// Adds a veth pair, `local` here and `remote` in `peer`, both up.
    pub fn veth_to(&self, local: &str, peer: &Netns, remote: &str) -> Result<()> {
        self.ip(&[
            "link", "add", local, "type", "veth", "peer", "name", remote, "netns", &peer.name,
        ])?;
        self.ip(&["link", "set", local, "up"])?;
        peer.ip(&["link", "set", remote, "up"])?;
        Ok(())
    }

    /// Adds an IPv4 address (198.18.0.0/15 only) to `dev`.
    pub fn add_addr(&self, cidr: &str, dev: &str) -> Result<()> {
        let addr = cidr.split('/').next().unwrap_or(cidr);
        match addr.parse::<Ipv4Addr>() {
            Ok(a) if is_lab_addr(a) => {}
            _ => {
                return Err(LabError::new(format!(
                    "refusing address {cidr}: the lab uses 198.18.0.0/15 only"
                )));
            }
        }
        self.ip(&["addr", "add", cidr, "dev", dev])?;
        Ok(())
    }

    /// The MAC address of `dev`.
    pub fn mac(&self, dev: &str) -> Result<[u8; 6]> {
        let out = self.ip(&["-o", "link", "show", dev])?;
        let text = out
            .split("link/ether ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .ok_or_else(|| LabError::new(format!("no MAC address on {dev}")))?;
        let mut mac = [0u8; 6];
        let mut parts = text.split(':');
        for b in &mut mac {
            *b = parts
                .next()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| LabError::new(format!("bad MAC {text}")))?;
        }
        Ok(mac)
    }

    /// Runs `f` on a new thread that entered this namespace, and returns
    /// its handle; sockets `f` opens live in the namespace.
    pub fn spawn_thread<R: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<std::thread::JoinHandle<Result<R>>> {
        let fd = self.open()?;
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                // Changes only this thread's network namespace; the thread
                // is ours.
                nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| LabError::new(format!("setns: {e}")))?;
                Ok(f())
            })
            .map_err(LabError::from)
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

/// The lab's network: a switch namespace with one bridge per link, hosts
/// (two, `h1` and `h2`, unless built by [`Topology::with_hosts`]) with
/// `eth0..ethN` on the bridges, and a client with `eth0` on the first bridge.
///
/// Link `i` is 198.18.i.0/24: h1 is .1, h2 is .2 and the client 198.18.0.10.
#[derive(Debug)]
pub struct Topology {
    /// The hosts, h1, h2... Declared first so they drop before the switch.
    pub hosts: Vec<Netns>,
    /// The client, where captures and probes run.
    pub client: Netns,
    /// The namespace of the bridges.
    pub switch: Netns,
    /// The number of links (bridges) per host.
    pub links: usize,
}

/// The client's address on link 0.
pub const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);

impl Topology {
    /// Builds the lab with `links` bridges (1..=16).
    pub fn new(links: usize) -> Result<Topology> {
        Topology::with_hosts(2, links)
    }

    /// Builds the lab with `hosts` hosts (1..=9) `h1`, `h2`... and `links`
    /// bridges (1..=16). Host `h` is 198.18.i.h on link `i`, and its port
    /// on bridge `bri` in the switch namespace is `h<h>e<i>`.
    pub fn with_hosts(hosts: usize, links: usize) -> Result<Topology> {
        let hosts = hosts.clamp(1, 9);
        let links = links.clamp(1, 16);
        let switch = Netns::new("sw")?;
        for i in 0..links {
            let br = format!("br{i}");
            switch.ip(&["link", "add", &br, "type", "bridge", "forward_delay", "0"])?;
            switch.ip(&["link", "set", &br, "type", "bridge", "mcast_snooping", "0"])?;
            switch.ip(&["link", "set", &br, "up"])?;
        }
        let client = Netns::new("client")?;
        let mut topo = Topology {
            hosts: Vec::new(),
            client,
            switch,
            links,
        };
        topo.client.veth_to("eth0", &topo.switch, "cport")?;
        topo.switch.ip(&["link", "set", "cport", "master", "br0"])?;
        topo.client.add_addr(&format!("{CLIENT_ADDR}/24"), "eth0")?;
        for h in 1..=hosts as u8 {
            let host = Netns::new(&format!("h{h}-"))?;
            for i in 0..links {
                let dev = format!("eth{i}");
                let port = format!("h{h}e{i}");
                host.veth_to(&dev, &topo.switch, &port)?;
                topo.switch
                    .ip(&["link", "set", &port, "master", &format!("br{i}")])?;
                host.add_addr(&format!("198.18.{i}.{h}/24"), &dev)?;
            }
            topo.hosts.push(host);
        }
        Ok(topo)
    }

    /// Host `h` (1 to the number of hosts; clamped into that range).
    pub fn host(&self, h: usize) -> &Netns {
        &self.hosts[h.clamp(1, self.hosts.len().max(1)) - 1]
    }

    /// The address of host `h` on link 0.
    pub fn host_addr(h: usize) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, h.clamp(1, 2) as u8)
    }

    /// Sets every link of host `h` up or down.
    pub fn set_links(&self, h: usize, up: bool) -> Result<()> {
        for i in 0..self.links {
            self.host(h).ip(&[
                "link",
                "set",
                &format!("eth{i}"),
                if up { "up" } else { "down" },
            ])?;
        }
        Ok(())
    }

    /// Forgets the client's neighbour entries, between repetitions.
    pub fn flush_client_neighbours(&self) {
        let _ = self.client.ip(&["neigh", "flush", "dev", "eth0"]);
    }
}

/// A thread in a namespace that readies itself (`setup`: bind a socket,
/// subscribe), then works until it is dropped; [`NsThread::start`] returns
/// once it is ready, or with the error that kept it from being.
#[derive(Debug)]
pub struct NsThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Result<()>>>>,
}

impl NsThread {
    /// Starts `setup` then `work` (which should return soon after its
    /// stop flag is set) on a thread called `name` in `ns`; `what` names
    /// it in the error if it is not ready within 5 s.
    pub fn start<S>(
        ns: &Netns,
        name: &str,
        what: &str,
        setup: impl FnOnce() -> Result<S> + Send + 'static,
        work: impl FnOnce(S, &AtomicBool) -> Result<()> + Send + 'static,
    ) -> Result<NsThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let st = stop.clone();
        let thread = ns.spawn_thread(name, move || match setup() {
            Ok(ready) => {
                let _ = tx.send(Ok(()));
                work(ready, &st)
            }
            Err(e) => {
                let _ = tx.send(Err(e.clone()));
                Err(e)
            }
        })?;
        let mut t = NsThread {
            stop,
            thread: Some(thread),
        };
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(t),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                t.stop_now();
                Err(LabError::new(format!("{what} did not start")))
            }
        }
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        self.stop_now();
    }
}
