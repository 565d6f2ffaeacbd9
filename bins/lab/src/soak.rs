//! `vrrp-lab bench --soak`: four hosts running vrrpd on one bridge with
//! the client, five virtual routers (four IPv4, each host preferred by
//! one, and one IPv6), optionally random packet loss on every host's link
//! (`--loss`, nftables `numgen random` on what each host receives), and
//! for the whole duration a random fault every few
//! seconds: kill -9 (then a restart, which must remove the VIPs the killed
//! daemon left), SIGTERM (the daemon must release its VIPs) and a restart,
//! a link flap, a partition (ports moved to a second bridge) and a reload
//! (SIGHUP or the control socket, with a priority changed or not).
//!
//! After every fault heals, and for half of them also while it lasts, the
//! lab is checked until it settles: per VRID (and side of a partition)
//! exactly the expected host is Active and holds the VIP, every other
//! host is Backup without it, `vrrpctl status` agrees with the kernel and
//! every daemon that should run does. At the end every daemon gets SIGTERM
//! and no VIP may remain. The faults come from a seeded PRNG, so a seed
//! replays the same sequence (the timing of the daemons is not replayed).

pub mod model;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use self::model::{FaultKind, HOSTS, INTERVAL, Model, Observation, Rng};
use self::report::{FaultRecord, SoakReport, Violation, VridReport};
use super::daemon::{self, DaemonKind, Running};
use super::ns::Topology;
use super::scenario::{ScratchDir, master_down_ns};
use super::{LabError, Result, check_interrupted, sleep};
use vrrpd::control::{self, Request, Response};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoakOptions {
    /// How long faults are injected.
    pub duration: Duration,
    /// The PRNG seed of the fault sequence.
    pub seed: u64,
    /// Where `soak.json`, `soak.md` and the daemons' logs go.
    pub out: PathBuf,
    /// Random loss on every host's link, in percent (0 for none).
    pub loss_percent: u8,
}

/// How many packets the loss rules dropped, over every host.
fn dropped_by_loss(topo: &Topology) -> u64 {
    let nft = std::path::Path::new("nft");
    (1..=HOSTS)
        .filter_map(|h| {
            let out = topo
                .host(h)
                .enter_command(nft)
                .ok()?
                .args(["list", "chain", "inet", "vrrp_lab_loss", "input"])
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let words: Vec<&str> = text.split_whitespace().collect();
            let at = words.windows(2).position(|w| w == ["counter", "packets"])?;
            words.get(at + 2)?.parse::<u64>().ok()
        })
        .sum()
}

/// Drops `percent` % of what each host receives on its links, at random
/// (nftables in each host's namespace; the host kernel has no netem).
fn apply_loss(topo: &Topology, percent: u8) -> Result<()> {
    if percent == 0 {
        return Ok(());
    }
    let nft = std::path::Path::new("nft");
    let percent = percent.to_string();
    for h in 1..=HOSTS {
        let steps: [&[&str]; 3] = [
            &["add", "table", "inet", "vrrp_lab_loss"],
            &[
                "add",
                "chain",
                "inet",
                "vrrp_lab_loss",
                "input",
                "{ type filter hook input priority 0; }",
            ],
            &[
                "add",
                "rule",
                "inet",
                "vrrp_lab_loss",
                "input",
                "iifname",
                "eth0",
                "numgen",
                "random",
                "mod",
                "100",
                "<",
                &percent,
                "counter",
                "drop",
            ],
        ];
        for args in steps {
            let out = topo
                .host(h)
                .enter_command(nft)?
                .args(args)
                .output()
                .map_err(|e| LabError::new(format!("nft (install nftables for --loss): {e}")))?;
            if !out.status.success() {
                return Err(LabError::new(format!(
                    "nft {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
    }
    Ok(())
}

/// A seed from the clock, for runs without `--seed`.
pub fn seed_from_time() -> u64 {
    let mut r = Rng::new(super::now_ns() as u64 ^ u64::from(std::process::id()) << 32);
    r.next_u64() % 1_000_000_000
}

/// Keep at most this many violations in the report (all are counted).
const MAX_VIOLATIONS: usize = 500;
/// How long the invariants must hold before a check passes.
const STABLE: Duration = Duration::from_millis(500);
/// How long past the settle time a check waits before it fails.
const GRACE: Duration = Duration::from_secs(10);
/// How long a daemon has to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// 3 × the longest Master_Down_Interval of any priority + a margin: the
/// earliest a check may pass after a fault or its healing.
fn settle_time() -> Duration {
    Duration::from_nanos(3 * master_down_ns(3, INTERVAL, 1) as u64) + Duration::from_millis(300)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Initial,
    During,
    After,
    Final,
    Exit,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Initial => "initial",
            Phase::During => "during",
            Phase::After => "after",
            Phase::Final => "final",
            Phase::Exit => "exit",
        }
    }
}

/// The running soak. Fields drop in order: daemons, namespaces, files.
struct Soak {
    daemons: Vec<Option<Running>>,
    topo: Topology,
    dir: ScratchDir,
    model: Model,
    rng: Rng,
    start: Instant,
    fault: usize,
    faults: BTreeMap<String, u64>,
    checks_passed: u64,
    checks_during: u64,
    checks_failed: u64,
    convergence: Vec<f64>,
    restarts: u64,
    unexpected_exits: u64,
    stale_vips: u64,
    violation_count: u64,
    violations: Vec<Violation>,
    fault_log: Vec<FaultRecord>,
}

impl Soak {
    fn host_dir(&self, h: usize) -> PathBuf {
        self.dir.path().join(format!("h{}", h + 1))
    }

    fn violation(&mut self, phase: Phase, what: String) {
        eprintln!("soak: VIOLATION ({}): {what}", phase.name());
        self.violation_count += 1;
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(Violation {
                t_s: self.start.elapsed().as_secs_f64(),
                utc: report::utc(super::now_ns() / 1_000_000),
                fault: self.fault,
                phase: phase.name().into(),
                what,
            });
        }
    }

    fn addrs(&self, h: usize) -> Result<BTreeSet<IpAddr>> {
        let text = self.topo.host(h + 1).ip_checked(&["-o", "addr", "show"])?;
        Ok(model::parse_addrs(&text))
    }

    fn status(&self, h: usize) -> std::result::Result<Vec<control::InstanceStatus>, String> {
        let socket = self.host_dir(h).join("vrrpd.sock");
        match control::request(&socket, &Request::Status, Duration::from_secs(2)) {
            Ok(Response::Status { instances }) => Ok(instances),
            Ok(other) => Err(format!("unexpected answer {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn observe(&self) -> Result<Vec<Observation>> {
        (0..HOSTS)
            .map(|h| {
                let status = if self.model.hosts[h].running {
                    self.status(h)
                } else {
                    Err("not running".into())
                };
                Ok(Observation {
                    addrs: self.addrs(h)?,
                    status,
                })
            })
            .collect()
    }

    /// Starts host `h`'s daemon; a restart counts the VIPs left behind.
    fn start_daemon(&mut self, h: usize, restart: bool) -> Result<()> {
        if restart {
            let addrs = self.addrs(h)?;
            let stale = self.model.vrids.iter().filter(|v| addrs.contains(&v.vip));
            self.stale_vips += stale.count() as u64;
            self.restarts += 1;
        }
        let dir = self.host_dir(h);
        let config = self.model.host_config(h);
        let running =
            daemon::start_appending(DaemonKind::Vrrpd, self.topo.host(h + 1), &config, &dir)?;
        self.daemons[h] = Some(running);
        self.model.hosts[h].running = true;
        self.model.hosts[h].may_hold_stale = false;
        Ok(())
    }

    /// Records and restarts every daemon that exited without being told to.
    fn check_exits(&mut self) -> Result<()> {
        for h in 0..HOSTS {
            if !self.model.hosts[h].running {
                continue;
            }
            let Some(d) = self.daemons[h].as_mut() else {
                continue;
            };
            let Some(status) = d.exit_status() else {
                continue;
            };
            let tail = d.log_tail();
            self.unexpected_exits += 1;
            self.violation(
                Phase::Exit,
                format!(
                    "h{}'s vrrpd exited unexpectedly ({status}); its log ends:\n{tail}",
                    h + 1
                ),
            );
            self.daemons[h] = None;
            self.model.hosts[h].running = false;
            self.model.hosts[h].may_hold_stale = true;
            self.start_daemon(h, true)?;
        }
        Ok(())
    }

    /// Polls until the invariants hold for [`STABLE`], no earlier than the
    /// settle time after `since`; a violation once [`GRACE`] more passed.
    /// Returns the convergence time in milliseconds if they hold.
    fn converge(&mut self, phase: Phase, since: Instant) -> Result<Option<f64>> {
        let settle = since + settle_time();
        let deadline = settle + GRACE;
        let mut first_ok: Option<Instant> = None;
        let mut last = Vec::new();
        loop {
            check_interrupted()?;
            self.check_exits()?;
            let obs = self.observe()?;
            let problems = model::problems(&self.model, &obs);
            let now = Instant::now();
            if problems.is_empty() {
                let ok = *first_ok.get_or_insert(now);
                if now >= settle && now - ok >= STABLE {
                    let ms = (ok - since).as_secs_f64() * 1e3;
                    self.checks_passed += 1;
                    if phase == Phase::During {
                        self.checks_during += 1;
                    }
                    self.convergence.push(ms);
                    return Ok(Some(ms));
                }
            } else {
                first_ok = None;
                last = problems;
            }
            if now >= deadline && (first_ok.is_none() || now >= deadline + 2 * STABLE) {
                self.checks_failed += 1;
                let waited = (now - since).as_secs_f64();
                self.violation(
                    phase,
                    format!("not settled {waited:.1} s after: {}", last.join("; ")),
                );
                return Ok(None);
            }
            sleep(Duration::from_millis(100))?;
        }
    }

    fn set_link(&mut self, h: usize, up: bool) -> Result<()> {
        let state = if up { "up" } else { "down" };
        self.topo
            .host(h + 1)
            .ip_checked(&["link", "set", "eth0", state])?;
        self.model.hosts[h].link_up = up;
        Ok(())
    }

    fn set_side(&mut self, h: usize, side: u8) -> Result<()> {
        let br = if side == 0 { "br0" } else { "brp" };
        let port = format!("h{}e0", h + 1);
        self.topo
            .switch
            .ip_checked(&["link", "set", &port, "master", br])?;
        self.model.hosts[h].side = side;
        Ok(())
    }

    fn kill9(&mut self, h: usize) {
        // Dropping the guard sends SIGKILL and reaps the daemon.
        self.daemons[h] = None;
        self.model.hosts[h].running = false;
        self.model.hosts[h].may_hold_stale = true;
    }

    fn sigterm(&mut self, h: usize, phase: Phase) -> Result<()> {
        let status = self.daemons[h]
            .take()
            .map(|mut d| (d.terminate(STOP_GRACE), d));
        self.model.hosts[h].running = false;
        self.model.hosts[h].may_hold_stale = false;
        match status {
            Some((Some(s), _)) if s.success() => {}
            Some((Some(s), d)) => {
                let tail = d.log_tail();
                self.violation(
                    phase,
                    format!("h{} exited {s} on SIGTERM; log:\n{tail}", h + 1),
                );
            }
            Some((None, _)) => self.violation(
                phase,
                format!("h{} did not exit within {STOP_GRACE:?} of SIGTERM", h + 1),
            ),
            None => {}
        }
        let addrs = self.addrs(h)?;
        let left: Vec<String> = (self.model.vrids.iter())
            .filter(|v| addrs.contains(&v.vip))
            .map(model::SoakRouter::cidr)
            .collect();
        if !left.is_empty() {
            let what = format!("h{} still holds {} after SIGTERM", h + 1, left.join(", "));
            self.violation(phase, what);
        }
        Ok(())
    }

    fn reload(&mut self, fault: &model::Fault) -> Result<()> {
        let h = fault.hosts.first().copied().unwrap_or(0);
        if let Some((v, p)) = fault.change {
            if let Some(vr) = self.model.vrids.get_mut(v) {
                vr.prios[h] = p;
            }
        }
        daemon::write_config(
            DaemonKind::Vrrpd,
            &self.model.host_config(h),
            &self.host_dir(h),
        )?;
        if fault.kind == FaultKind::ReloadSighup {
            let sent = self.daemons[h]
                .as_ref()
                .is_some_and(|d| d.signal(libc::SIGHUP));
            if !sent {
                self.violation(
                    Phase::After,
                    format!("h{}: SIGHUP could not be sent", h + 1),
                );
            }
            return Ok(());
        }
        let socket = self.host_dir(h).join("vrrpd.sock");
        match control::request(&socket, &Request::Reload, Duration::from_secs(5)) {
            Ok(Response::Reloaded { ok: true, .. }) => {}
            Ok(other) => self.violation(Phase::After, format!("h{}: reload {other:?}", h + 1)),
            Err(e) => self.violation(Phase::After, format!("h{}: reload failed: {e}", h + 1)),
        }
        Ok(())
    }

    fn apply(&mut self, fault: &model::Fault) -> Result<()> {
        for &h in &fault.hosts {
            match fault.kind {
                FaultKind::Kill9 => self.kill9(h),
                FaultKind::Sigterm => self.sigterm(h, Phase::During)?,
                FaultKind::LinkFlap => self.set_link(h, false)?,
                FaultKind::Partition => self.set_side(h, 1)?,
                FaultKind::ReloadSighup | FaultKind::ReloadControl => {}
            }
        }
        if matches!(
            fault.kind,
            FaultKind::ReloadSighup | FaultKind::ReloadControl
        ) {
            self.reload(fault)?;
        }
        Ok(())
    }

    fn heal(&mut self, fault: &model::Fault) -> Result<()> {
        for &h in &fault.hosts {
            match fault.kind {
                FaultKind::Kill9 | FaultKind::Sigterm => self.start_daemon(h, true)?,
                FaultKind::LinkFlap => self.set_link(h, true)?,
                FaultKind::Partition => self.set_side(h, 0)?,
                FaultKind::ReloadSighup | FaultKind::ReloadControl => {}
            }
        }
        Ok(())
    }

    fn fault_loop(&mut self, duration: Duration) -> Result<()> {
        let loop_start = Instant::now();
        while loop_start.elapsed() < duration {
            check_interrupted()?;
            let fault = model::draw(&mut self.rng, &self.model);
            let description = fault.describe(&self.model);
            let gap = self.rng.millis(200, 1500);
            self.fault += 1;
            let t_s = self.start.elapsed().as_secs_f64();
            eprintln!("soak: [{t_s:6.1} s] #{} {description}", self.fault);
            *self.faults.entry(fault.kind.name().into()).or_default() += 1;
            let applied = Instant::now();
            self.apply(&fault)?;
            if fault.check_during {
                self.converge(Phase::During, applied)?;
            }
            sleep(fault.hold)?;
            self.heal(&fault)?;
            let convergence_ms = self.converge(Phase::After, Instant::now())?;
            self.fault_log.push(FaultRecord {
                index: self.fault,
                t_s,
                kind: fault.kind.name().into(),
                description,
                convergence_ms,
            });
            sleep(gap)?;
        }
        Ok(())
    }

    /// SIGTERM to every daemon: each must exit 0 and no VIP may remain.
    fn finish(&mut self) -> Result<bool> {
        let before = self.violation_count;
        for h in 0..HOSTS {
            if self.daemons[h].is_some() {
                self.sigterm(h, Phase::Final)?;
            }
        }
        let obs = self.observe()?;
        for (h, o) in obs.iter().enumerate() {
            for v in &self.model.vrids.clone() {
                if o.addrs.contains(&v.vip) {
                    let what = format!("{} left on h{} after the final stop", v.cidr(), h + 1);
                    self.violation(Phase::Final, what);
                }
            }
        }
        Ok(self.violation_count == before)
    }
}

/// Runs the soak and writes `soak.json`, `soak.md` and the daemons' logs
/// into `opts.out`. Ctrl-C ends the fault loop early; the daemons are still
/// stopped and checked and the report is written (marked interrupted).
pub fn run(opts: &SoakOptions) -> Result<SoakReport> {
    DaemonKind::Vrrpd.locate()?;
    eprintln!(
        "soak: seed {} (replay with --seed {}), {} s of faults, {} % loss",
        opts.seed,
        opts.seed,
        opts.duration.as_secs(),
        opts.loss_percent
    );
    let date = report::utc(super::now_ns() / 1_000_000);
    let dir = ScratchDir::new("soak")?;
    let topo = Topology::with_hosts(HOSTS, 1)?;
    topo.switch
        .ip_checked(&["link", "add", "brp", "type", "bridge", "forward_delay", "0"])?;
    topo.switch.ip_checked(&[
        "link",
        "set",
        "brp",
        "type",
        "bridge",
        "mcast_snooping",
        "0",
    ])?;
    topo.switch.ip_checked(&["link", "set", "brp", "up"])?;
    apply_loss(&topo, opts.loss_percent)?;
    let model = Model::default();
    let initial = model.vrids.clone();
    let mut s = Soak {
        daemons: (0..HOSTS).map(|_| None).collect(),
        topo,
        dir,
        model,
        rng: Rng::new(opts.seed),
        start: Instant::now(),
        fault: 0,
        faults: BTreeMap::new(),
        checks_passed: 0,
        checks_during: 0,
        checks_failed: 0,
        convergence: Vec::new(),
        restarts: 0,
        unexpected_exits: 0,
        stale_vips: 0,
        violation_count: 0,
        violations: Vec::new(),
        fault_log: Vec::new(),
    };
    for h in 0..HOSTS {
        s.start_daemon(h, false)?;
    }
    let started = Instant::now();
    let mut result = s.converge(Phase::Initial, started).map(|_| ());
    let loop_start = Instant::now();
    if result.is_ok() {
        result = s.fault_loop(opts.duration);
    }
    let elapsed_s = loop_start.elapsed().as_secs_f64();
    let interrupted = super::interrupted();
    match result {
        Err(e) if !interrupted => return Err(e),
        _ => {}
    }
    let final_clean = s.finish()?;
    let loss_dropped_packets = dropped_by_loss(&s.topo);
    let faults_total = s.faults.values().sum();
    let report = SoakReport {
        date,
        seed: opts.seed,
        requested_s: opts.duration.as_secs_f64(),
        elapsed_s,
        interrupted,
        hosts: HOSTS,
        loss_percent: opts.loss_percent,
        loss_dropped_packets,
        vrids: initial
            .iter()
            .zip(&s.model.vrids)
            .map(|(a, b)| VridReport {
                vrid: a.vrid,
                vip: a.cidr(),
                priorities_start: a.prios.to_vec(),
                priorities_end: b.prios.to_vec(),
            })
            .collect(),
        faults: std::mem::take(&mut s.faults),
        faults_total,
        checks_passed: s.checks_passed,
        checks_during_faults: s.checks_during,
        checks_failed: s.checks_failed,
        convergence_ms: super::stats::summarize(&s.convergence),
        daemon_restarts: s.restarts,
        unexpected_exits: s.unexpected_exits,
        stale_vips_at_restart: s.stale_vips,
        final_clean,
        violation_count: s.violation_count,
        violations: std::mem::take(&mut s.violations),
        fault_log: std::mem::take(&mut s.fault_log),
    };
    std::fs::create_dir_all(&opts.out)?;
    for h in 0..HOSTS {
        let log = s.host_dir(h).join("vrrpd.log");
        let _ = std::fs::copy(&log, opts.out.join(format!("h{}-vrrpd.log", h + 1)));
    }
    let json = serde_json::to_string_pretty(&report).map_err(|e| LabError::new(e.to_string()))?;
    std::fs::write(opts.out.join("soak.json"), json + "\n")?;
    std::fs::write(opts.out.join("soak.md"), report::markdown(&report))?;
    Ok(report)
}
