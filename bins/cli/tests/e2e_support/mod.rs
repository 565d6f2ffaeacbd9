//! Shared set-up of the end-to-end tests: a LAN of network namespaces (a
//! bridge, hosts h1 and h2 running the real `vrrpd`, and a client), native
//! configurations, and a netlink watcher that timestamps when a host gains
//! the VIP.
//!
//! Network safety: everything runs in namespaces created here (removed on
//! drop), with 198.18.0.0/15 and fd00:198:18::/48 only.

#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vrrp_netaddr::{Event, EventStream};
use vrrp_testns::{ChildGuard, Lan, Netns};

/// Which protocol variant a test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// 2 or 3.
    pub version: u8,
    /// IPv6 (else IPv4).
    pub ipv6: bool,
    /// The advert interval as the config spells it.
    pub interval: &'static str,
    /// The advert interval.
    pub interval_dur: Duration,
}

impl Variant {
    pub const V3_IPV4: Variant = Variant {
        version: 3,
        ipv6: false,
        interval: "100ms",
        interval_dur: Duration::from_millis(100),
    };
    pub const V2_IPV4: Variant = Variant {
        version: 2,
        ipv6: false,
        interval: "1s",
        interval_dur: Duration::from_secs(1),
    };
    pub const V3_IPV6: Variant = Variant {
        version: 3,
        ipv6: true,
        interval: "100ms",
        interval_dur: Duration::from_millis(100),
    };

    /// The VIP with its prefix length.
    pub fn vip_cidr(&self) -> &'static str {
        if self.ipv6 {
            "fd00:198:18::100/64"
        } else {
            "198.18.0.100/24"
        }
    }

    /// The VIP.
    pub fn vip(&self) -> IpAddr {
        self.vip_cidr().split('/').next().unwrap().parse().unwrap()
    }

    /// Skew_Time at `priority` (RFC 9568 §6.1, RFC 3768 §6.1).
    pub fn skew(&self, priority: u32) -> Duration {
        let base = if self.version == 2 {
            Duration::from_secs(1)
        } else {
            self.interval_dur
        };
        base * (256 - priority) / 256
    }

    /// Master_Down_Interval at `priority`.
    pub fn master_down(&self, priority: u32) -> Duration {
        self.interval_dur * 3 + self.skew(priority)
    }
}

/// The LAN: hosts 0 = h1, 1 = h2, 2 = client.
pub struct Lab {
    pub lan: Lan,
    pub dir: tempfile::TempDir,
    pub variant: Variant,
}

pub const H1: usize = 0;
pub const H2: usize = 1;
pub const CLIENT: usize = 2;

impl Lab {
    pub fn new(tag: &str, variant: Variant) -> Lab {
        let mut lan = Lan::new(tag);
        for (name, v4, v6) in [
            ("h1", "198.18.0.1/24", "fd00:198:18::1/64"),
            ("h2", "198.18.0.2/24", "fd00:198:18::2/64"),
            ("c", "198.18.0.10/24", "fd00:198:18::10/64"),
        ] {
            lan.add_host(name, &[v4, v6]);
        }
        let lab = Lab {
            lan,
            // tmpfs, as /run is in production: the state dirs go away
            // with the test.
            dir: tempfile::tempdir_in("/dev/shm")
                .or_else(|_| tempfile::tempdir())
                .unwrap(),
            variant,
        };
        if variant.ipv6 {
            for h in &lab.lan.hosts {
                // Keep addresses over a link flap, as IPv4 does, so a crashed
                // daemon's VIP survives "link down" like a real leftover.
                h.exec(&["sysctl", "-qw", "net.ipv6.conf.eth0.keep_addr_on_down=1"]);
                wait_for(Duration::from_secs(10), || {
                    let out = h.ip(&["-6", "addr", "show", "dev", "eth0", "tentative"]);
                    out.trim().is_empty()
                })
                .expect("IPv6 DAD did not finish");
            }
        }
        lab
    }

    pub fn host(&self, idx: usize) -> &Netns {
        &self.lan.hosts[idx]
    }

    /// The directory of host `idx`'s state, config and log.
    pub fn host_dir(&self, idx: usize) -> PathBuf {
        let d = self.dir.path().join(format!("h{}", idx + 1));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Writes a one-instance native config for host `idx`; `extra` is
    /// appended to the instance table.
    pub fn write_config(&self, idx: usize, priority: u8, extra: &str) -> PathBuf {
        let dir = self.host_dir(idx);
        let text = format!(
            r#"[global]
state_dir = "{state}"
control_socket = "{dir}/ctl.sock"
log_level = "debug"

[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
version = {version}
priority = {priority}
advert_interval = "{interval}"
vips = ["{vip}"]
{extra}
"#,
            state = dir.join("state").display(),
            dir = dir.display(),
            version = self.variant.version,
            interval = self.variant.interval,
            vip = self.variant.vip_cidr(),
        );
        let path = dir.join("vrrpd.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts `vrrpd --config PATH` in host `idx`, logging to its directory.
    pub fn start(&self, idx: usize, config: &Path) -> ChildGuard {
        self.start_args(idx, &["--config".as_ref(), config.as_os_str()], &[])
    }

    /// Starts `vrrpd` with `args` (and the environment entries `env`) in
    /// host `idx`, logging to its directory as [`Lab::start`] does.
    pub fn start_args(
        &self,
        idx: usize,
        args: &[&std::ffi::OsStr],
        env: &[(&str, &str)],
    ) -> ChildGuard {
        let log = self.log_path(idx);
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut command = self.host(idx).command(env!("CARGO_BIN_EXE_vrrpd"));
        command.args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn vrrpd");
        ChildGuard::new(child)
    }

    /// The state directory [`Lab::write_config`] gives host `idx`.
    pub fn state_dir(&self, idx: usize) -> PathBuf {
        self.host_dir(idx).join("state")
    }

    /// The control socket [`Lab::write_config`] gives host `idx`.
    pub fn control_socket(&self, idx: usize) -> PathBuf {
        self.host_dir(idx).join("ctl.sock")
    }

    /// Starts `vrrpd --keepalived-config PATH` in host `idx`, with the
    /// state directory and control socket a native config of
    /// [`Lab::write_config`] would name given as `--state-dir` and
    /// `--control-socket` (a keepalived.conf has no place for them), and
    /// `VRRPD_LOG=debug`, the level of those native configs.
    pub fn start_keepalived_conf(&self, idx: usize, path: &Path) -> ChildGuard {
        let state = self.state_dir(idx);
        let socket = self.control_socket(idx);
        self.start_args(
            idx,
            &[
                "--keepalived-config".as_ref(),
                path.as_os_str(),
                "--state-dir".as_ref(),
                state.as_os_str(),
                "--control-socket".as_ref(),
                socket.as_os_str(),
            ],
            &[("VRRPD_LOG", "debug")],
        )
    }

    pub fn log_path(&self, idx: usize) -> PathBuf {
        self.host_dir(idx).join("vrrpd.log")
    }

    pub fn log(&self, idx: usize) -> String {
        std::fs::read_to_string(self.log_path(idx)).unwrap_or_default()
    }

    /// Whether host `idx` has the VIP on eth0.
    pub fn has_vip(&self, idx: usize) -> bool {
        let vip = self.variant.vip().to_string();
        let out = self.host(idx).ip(&["-o", "addr", "show", "dev", "eth0"]);
        out.split_whitespace()
            .any(|w| w.split('/').next() == Some(vip.as_str()))
    }

    /// The MAC address of host `idx`'s eth0.
    pub fn mac(&self, idx: usize) -> String {
        let out = self.host(idx).ip(&["-o", "link", "show", "dev", "eth0"]);
        let mut words = out.split_whitespace();
        while let Some(w) = words.next() {
            if w == "link/ether" {
                return words.next().unwrap_or_default().to_string();
            }
        }
        panic!("no MAC in {out}");
    }

    /// Pings the VIP from the client; true when it answers.
    pub fn client_pings_vip(&self) -> bool {
        let vip = self.variant.vip().to_string();
        self.host(CLIENT)
            .exec_try(&["ping", "-c", "1", "-W", "1", &vip])
            .status
            .success()
    }

    /// The MAC the client's neighbour cache holds for the VIP.
    pub fn client_neighbour_mac(&self) -> Option<String> {
        let vip = self.variant.vip().to_string();
        let out = self
            .host(CLIENT)
            .ip(&["neigh", "show", &vip, "dev", "eth0"]);
        let mut words = out.split_whitespace();
        while let Some(w) = words.next() {
            if w == "lladdr" {
                return words.next().map(str::to_string);
            }
        }
        None
    }

    /// Runs `action` and returns how long after it host `idx` gained the
    /// VIP (timestamped from a netlink subscription in its namespace), or
    /// `None` within `timeout`.
    pub fn time_until_vip(
        &self,
        idx: usize,
        timeout: Duration,
        action: impl FnOnce(),
    ) -> Option<Duration> {
        let vip = self.variant.vip();
        let file = File::open(format!("/run/netns/{}", self.host(idx).name())).unwrap();
        let (ready_tx, ready_rx) = mpsc::channel();
        let watcher = std::thread::spawn(move || {
            // Changes only this thread's network namespace; the thread is ours.
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let mut events = EventStream::subscribe().unwrap();
            ready_tx.send(()).unwrap();
            let deadline = Instant::now() + timeout;
            loop {
                let left = deadline.checked_duration_since(Instant::now())?;
                match events.recv_timeout(left) {
                    Ok(Some(Event::AddressAdded { address, .. }))
                        if address.prefix.addr() == vip =>
                    {
                        return Some(Instant::now());
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return None,
                    Err(e) => panic!("netlink: {e}"),
                }
            }
        });
        ready_rx.recv().unwrap();
        let t0 = Instant::now();
        action();
        let t1 = watcher.join().unwrap()?;
        Some(t1.saturating_duration_since(t0))
    }

    /// Prints every host's log (for a failing test).
    pub fn dump_logs(&self) {
        for idx in [H1, H2] {
            eprintln!("----- log of h{} -----\n{}", idx + 1, self.log(idx));
        }
    }
}

/// Polls `f` every 5 ms until it holds; how long it took, or `None`.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `sig` to the process `pid`.
pub fn kill(pid: u32, sig: i32) {
    // The pid is a child we spawned.
    let signal = nix::sys::signal::Signal::try_from(sig).expect("a signal number");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid"));
    nix::sys::signal::kill(pid, signal).unwrap_or_else(|e| panic!("kill {pid}: {e}"));
}

/// Asserts `cond`, printing the daemons' logs first when it fails.
#[macro_export]
macro_rules! check {
    ($lab:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $lab.dump_logs();
            panic!($($msg)+);
        }
    };
}

/// The failover scenario every variant runs, in one lab:
///
/// 1. initial election: h1 (priority 200) wins over h2 (100); the client
///    reaches the VIP and its neighbour cache points at h1's MAC;
/// 2. SIGTERM on h1: h2 takes over within Skew_Time + 50 ms, and h1 exits
///    cleanly with no VIP left;
/// 3. h1 restarts and preempts back;
/// 4. kill -9 and link down of h1: h2 takes over within
///    Master_Down_Interval + 50 ms of the kill;
/// 5. h1's link comes back with the VIP the killed daemon left; vrrpd
///    restarted there (now priority 50, so it stays Backup) removes it at
///    start-up, and h2 keeps it.
pub fn failover_scenario(tag: &str, variant: Variant) {
    let lab = Lab::new(tag, variant);
    let c1 = lab.write_config(H1, 200, "");
    let c2 = lab.write_config(H2, 100, "");
    let mut h1 = lab.start(H1, &c1);
    let h2 = lab.start(H2, &c2);

    // 1. Initial election.
    let settle = variant.master_down(100) * 3 + Duration::from_secs(2);
    check!(
        lab,
        wait_for(settle, || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    std::thread::sleep(variant.interval_dur * 4);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on h1"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.client_pings_vip()).is_some(),
        "client cannot ping the VIP"
    );
    let h1_mac = lab.mac(H1);
    check!(
        lab,
        lab.client_neighbour_mac().as_deref() == Some(h1_mac.as_str()),
        "client neighbour cache {:?} is not h1's MAC {h1_mac}",
        lab.client_neighbour_mac()
    );

    // 2. Graceful stop.
    let bound = variant.skew(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(10), || {
        kill(h1.pid(), libc::SIGTERM)
    });
    eprintln!("{tag}: SIGTERM takeover took {took:?} (bound {bound:?})");
    check!(
        lab,
        took.is_some_and(|t| t <= bound),
        "SIGTERM takeover {took:?} over {bound:?}"
    );
    let status = h1.child().wait().unwrap();
    check!(lab, status.success(), "h1 exited with {status}");
    check!(lab, !lab.has_vip(H1), "VIP left on h1 after a clean stop");
    check!(
        lab,
        lab.log(H1).contains("active -> initialize (shutdown)"),
        "no shutdown transition logged"
    );

    // 3. Restart and preempt back.
    let mut h1 = lab.start(H1, &c1);
    check!(
        lab,
        wait_for(settle, || lab.has_vip(H1) && !lab.has_vip(H2)).is_some(),
        "h1 did not preempt back"
    );

    // 4. Crash failover.
    let bound = variant.master_down(100) + Duration::from_millis(50);
    let pid = h1.pid();
    let took = lab.time_until_vip(H2, Duration::from_secs(10), || {
        kill(pid, libc::SIGKILL);
        lab.host(H1).ip(&["link", "set", "eth0", "down"]);
    });
    eprintln!("{tag}: crash takeover took {took:?} (bound {bound:?})");
    check!(
        lab,
        took.is_some_and(|t| t <= bound),
        "crash takeover {took:?} over {bound:?}"
    );
    let _ = h1.child().wait();

    // 5. Restart after kill -9 cleans the leftover VIP.
    lab.host(H1).ip(&["link", "set", "eth0", "up"]);
    check!(
        lab,
        lab.has_vip(H1),
        "the killed daemon's VIP should still be on h1"
    );
    let c1_low = lab.write_config(H1, 50, "");
    let _h1 = lab.start(H1, &c1_low);
    check!(
        lab,
        wait_for(Duration::from_secs(3), || !lab.has_vip(H1)).is_some(),
        "restarted vrrpd did not remove the leftover VIP"
    );
    std::thread::sleep(variant.master_down(50) + variant.interval_dur * 2);
    check!(
        lab,
        !lab.has_vip(H1) && lab.has_vip(H2),
        "after restart the VIP is not only on h2"
    );
    check!(
        lab,
        lab.log(H1)
            .contains("cleaned up an address left by a previous run"),
        "no cleanup logged"
    );
    drop(h2);
    if std::env::var_os("E2E_DUMP").is_some() {
        lab.dump_logs();
    }
}

/// Runs `action`, then watches host `idx` for `window` and returns every
/// add or removal of the VIP seen there (netlink), as "added"/"removed".
pub fn vip_changes_during(
    lab: &Lab,
    idx: usize,
    window: Duration,
    action: impl FnOnce(),
) -> Vec<&'static str> {
    let vip = lab.variant.vip();
    let file = File::open(format!("/run/netns/{}", lab.host(idx).name())).unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let watcher = std::thread::spawn(move || {
        // Changes only this thread's network namespace; the thread is ours.
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let mut events = EventStream::subscribe().unwrap();
        ready_tx.send(()).unwrap();
        let deadline = Instant::now() + window;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(Some(Event::AddressAdded { address, .. })) if address.prefix.addr() == vip => {
                    seen.push("added");
                }
                Ok(Some(Event::AddressRemoved { address, .. })) if address.prefix.addr() == vip => {
                    seen.push("removed");
                }
                Ok(_) => {}
                Err(e) => panic!("netlink: {e}"),
            }
        }
        seen
    });
    ready_rx.recv().unwrap();
    action();
    watcher.join().unwrap()
}

/// Counts the state changes logged by host `idx`.
pub fn transitions(lab: &Lab, idx: usize) -> usize {
    lab.log(idx).matches("state change:").count()
}

/// A lab with h1 (priority 200) Active and h2 (100) Backup.
pub fn elected(tag: &str, variant: Variant, extra: &str) -> (Lab, ChildGuard, ChildGuard, PathBuf) {
    let lab = Lab::new(tag, variant);
    let c1 = lab.write_config(H1, 200, extra);
    let c2 = lab.write_config(H2, 100, extra);
    let h1 = lab.start(H1, &c1);
    let h2 = lab.start(H2, &c2);
    let settle = variant.master_down(100) * 3 + Duration::from_secs(2);
    check!(
        lab,
        wait_for(settle, || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    std::thread::sleep(variant.interval_dur * 4);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on h1"
    );
    (lab, h1, h2, c1)
}
