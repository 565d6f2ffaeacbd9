//! What the soak expects: the virtual routers, the state of each host as
//! the faults left it, the faults themselves (drawn from a seeded PRNG so a
//! run can be replayed) and the invariants an observation must satisfy.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::daemon::{HostConfig, Instance};
use vrrpd::control::InstanceStatus;

/// The number of hosts, h1..h4.
pub const HOSTS: usize = 4;

/// The advertisement interval of every virtual router.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// splitmix64: a small, fast, deterministic PRNG (not for cryptography).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: no modulo bias worth speaking of for small n.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A duration uniform in `lo_ms..=hi_ms` milliseconds.
    pub fn millis(&mut self, lo_ms: u64, hi_ms: u64) -> Duration {
        let (lo, hi) = (lo_ms.min(hi_ms), lo_ms.max(hi_ms));
        Duration::from_millis(lo + self.below(hi - lo + 1))
    }
}

/// Parses a soak duration: a whole number with `s`, `m` or `h` (`90s`,
/// `30m`, `1h`), from 1 s to 7 days.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1u64),
        Some((i, 'm')) => (&t[..i], 60),
        Some((i, 'h')) => (&t[..i], 3600),
        _ => return Err(format!("{s:?}: give a unit, such as 90s, 30m or 1h")),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 90s, 30m or 1h"))?;
    let secs = n.saturating_mul(scale);
    if !(1..=7 * 24 * 3600).contains(&secs) {
        return Err(format!("{s:?}: a soak lasts from 1s to 168h"));
    }
    Ok(Duration::from_secs(secs))
}

/// One virtual router of the soak: its VRID, VIP and the hosts' priorities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoakRouter {
    /// Its VRID.
    pub vrid: u8,
    /// Its VIP.
    pub vip: IpAddr,
    /// The VIP's prefix length.
    pub prefix: u8,
    /// The priority of h1..h4 (distinct, so the winner is unambiguous).
    pub prios: [u8; HOSTS],
}

impl SoakRouter {
    /// The VIP as `addr/len`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.vip, self.prefix)
    }
}

/// The virtual routers: four IPv4 with each host preferred once, and one
/// IPv6, all VRRPv3 at 100 ms.
pub fn vrids() -> Vec<SoakRouter> {
    let v4 = |vrid, last, prios| SoakRouter {
        vrid,
        vip: IpAddr::V4(Ipv4Addr::new(198, 18, 0, last)),
        prefix: 24,
        prios,
    };
    vec![
        v4(10, 110, [200, 150, 100, 50]),
        v4(20, 120, [50, 200, 150, 100]),
        v4(30, 130, [100, 50, 200, 150]),
        v4(50, 150, [150, 100, 50, 200]),
        SoakRouter {
            vrid: 40,
            vip: IpAddr::V6(Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x140)),
            prefix: 64,
            prios: [120, 180, 240, 60],
        },
    ]
}

/// What a host should be doing, as the faults so far left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostModel {
    /// Its daemon runs.
    pub running: bool,
    /// Its eth0 is up.
    pub link_up: bool,
    /// The bridge its port is on: 0 is the main one, 1 the partition.
    pub side: u8,
    /// Its daemon was killed with SIGKILL and not restarted yet, so it may
    /// still hold the VIPs it had (the restart must remove them).
    pub may_hold_stale: bool,
}

/// The expected state of the whole lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The virtual routers with their current priorities.
    pub vrids: Vec<SoakRouter>,
    /// h1..h4.
    pub hosts: [HostModel; HOSTS],
}

impl Default for Model {
    fn default() -> Model {
        let host = HostModel {
            running: false,
            link_up: true,
            side: 0,
            may_hold_stale: false,
        };
        Model {
            vrids: vrids(),
            hosts: [host; HOSTS],
        }
    }
}

impl Model {
    /// Whether host `h` (0-based) should be the Active of `vrids[v]`: it
    /// runs, its link is up, and it has the highest priority among the
    /// running, linked hosts on its side of any partition.
    pub fn should_be_active(&self, v: usize, h: usize) -> bool {
        let Some(vr) = self.vrids.get(v) else {
            return false;
        };
        let up = |i: usize| self.hosts[i].running && self.hosts[i].link_up;
        if h >= HOSTS || !up(h) {
            return false;
        }
        (0..HOSTS)
            .filter(|&i| up(i) && self.hosts[i].side == self.hosts[h].side)
            .max_by_key(|&i| (vr.prios[i], i))
            == Some(h)
    }

    /// The daemon configuration of host `h` (0-based).
    pub fn host_config(&self, h: usize) -> HostConfig {
        HostConfig {
            router_id: format!("h{}", h + 1),
            instances: self
                .vrids
                .iter()
                .map(|v| Instance {
                    interface: "eth0".into(),
                    vrid: v.vrid,
                    version: 3,
                    priority: v.prios[h.min(HOSTS - 1)],
                    interval: INTERVAL,
                    initial_active: false,
                    vip: v.cidr(),
                    excluded: Vec::new(),
                })
                .collect(),
        }
    }
}

/// What was seen on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Every address in the host's namespace, on any interface.
    pub addrs: BTreeSet<IpAddr>,
    /// `vrrpctl status` of its daemon, or why there is none; ignored for a
    /// host whose daemon should not run.
    pub status: Result<Vec<InstanceStatus>, String>,
}

/// Parses `ip -o addr show` output into its addresses.
pub fn parse_addrs(text: &str) -> BTreeSet<IpAddr> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            words.next()?.split('/').next()?.parse().ok()
        })
        .collect()
}

/// Every way `obs` (one per host) breaks the invariants of `model`; empty
/// when it holds. Per VRID and side of a partition: exactly the expected
/// host is Active and holds the VIP, its status agrees with the kernel,
/// every other running host is Backup (or, with its link down, not Active)
/// and holds no VIP, a host stopped gracefully holds none either, and
/// every daemon reports the configured priority.
pub fn problems(model: &Model, obs: &[Observation]) -> Vec<String> {
    let mut out = Vec::new();
    for (h, hm) in model.hosts.iter().enumerate() {
        let name = format!("h{}", h + 1);
        let Some(o) = obs.get(h) else {
            out.push(format!("{name}: not observed"));
            continue;
        };
        let status = match (&o.status, hm.running) {
            (_, false) => None,
            (Ok(s), true) => Some(s),
            (Err(e), true) => {
                out.push(format!("{name}: no status: {e}"));
                None
            }
        };
        for (v, vr) in model.vrids.iter().enumerate() {
            let holds = o.addrs.contains(&vr.vip);
            let vid = vr.vrid;
            if !hm.running {
                if holds && !hm.may_hold_stale {
                    out.push(format!(
                        "{name} holds {} of VRID {vid} after its daemon was stopped",
                        vr.vip
                    ));
                }
                continue;
            }
            let expected = model.should_be_active(v, h);
            if expected && !holds {
                out.push(format!(
                    "{name} should be Active for VRID {vid} but lacks {}",
                    vr.vip
                ));
            }
            if !expected && holds {
                out.push(format!(
                    "stray VIP: {name} holds {} but should not be Active for VRID {vid}",
                    vr.vip
                ));
            }
            let Some(status) = status else { continue };
            let Some(i) = status.iter().find(|i| i.vrid == vid) else {
                out.push(format!("{name}: no instance for VRID {vid} in its status"));
                continue;
            };
            let want = if expected {
                "active"
            } else if hm.link_up {
                "backup"
            } else {
                "not active"
            };
            let state_ok = match want {
                "not active" => i.state != "active",
                w => i.state == w,
            };
            if !state_ok {
                out.push(format!(
                    "{name} VRID {vid}: state {}, expected {want}",
                    i.state
                ));
            }
            if i.holds_vips != holds {
                out.push(format!(
                    "{name} VRID {vid}: status says holds_vips={} but the kernel says {holds}",
                    i.holds_vips
                ));
            }
            if i.priority != vr.prios[h] {
                out.push(format!(
                    "{name} VRID {vid}: priority {}, configured {}",
                    i.priority, vr.prios[h]
                ));
            }
        }
    }
    out
}

/// The kinds of fault the soak injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL of a daemon, restarted after a while.
    Kill9,
    /// SIGTERM of a daemon (it must release its VIPs), restarted after a while.
    Sigterm,
    /// A host's eth0 down, then up.
    LinkFlap,
    /// One or two hosts moved to a second bridge, then back.
    Partition,
    /// The configuration rewritten, then SIGHUP.
    ReloadSighup,
    /// The configuration rewritten, then a reload on the control socket.
    ReloadControl,
}

impl FaultKind {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill9 => "kill9",
            FaultKind::Sigterm => "sigterm",
            FaultKind::LinkFlap => "link_flap",
            FaultKind::Partition => "partition",
            FaultKind::ReloadSighup => "reload_sighup",
            FaultKind::ReloadControl => "reload_control",
        }
    }
}

/// One fault, as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What.
    pub kind: FaultKind,
    /// The hosts it hits (0-based).
    pub hosts: Vec<usize>,
    /// How long it lasts before it heals (after the check, if any).
    pub hold: Duration,
    /// Whether the degraded lab is checked before the fault heals.
    pub check_during: bool,
    /// For a reload: the index of a VRID and the new priority of the host.
    pub change: Option<(usize, u8)>,
}

impl Fault {
    /// A one-line description, for the fault log.
    pub fn describe(&self, model: &Model) -> String {
        let hosts: Vec<String> = self.hosts.iter().map(|h| format!("h{}", h + 1)).collect();
        let mut s = format!("{} {}", self.kind.name(), hosts.join("+"));
        if self.check_during {
            s.push_str(", checked while degraded");
        }
        if self.kind != FaultKind::ReloadSighup && self.kind != FaultKind::ReloadControl {
            s.push_str(&format!(", then {} ms", self.hold.as_millis()));
        }
        match self.change {
            Some((v, p)) => {
                let h = self.hosts.first().copied().unwrap_or(0).min(HOSTS - 1);
                if let Some(vr) = model.vrids.get(v) {
                    s.push_str(&format!(
                        ", VRID {} priority {} -> {p}",
                        vr.vrid, vr.prios[h]
                    ));
                }
            }
            None if self.hosts.len() == 1 && self.kind >= FaultKind::ReloadSighup => {
                s.push_str(", configuration unchanged");
            }
            None => {}
        }
        s
    }
}

/// Draws the next fault.
pub fn draw(rng: &mut Rng, model: &Model) -> Fault {
    // Weights: kill -9 and link flaps are the commonest real failures.
    const TABLE: [(FaultKind, u64); 6] = [
        (FaultKind::Kill9, 3),
        (FaultKind::Sigterm, 2),
        (FaultKind::LinkFlap, 3),
        (FaultKind::Partition, 3),
        (FaultKind::ReloadSighup, 2),
        (FaultKind::ReloadControl, 1),
    ];
    let total: u64 = TABLE.iter().map(|(_, w)| w).sum();
    let mut pick = rng.below(total);
    let mut kind = FaultKind::Kill9;
    for (k, w) in TABLE {
        if pick < w {
            kind = k;
            break;
        }
        pick -= w;
    }
    let h = rng.below(HOSTS as u64) as usize;
    let check_during = rng.chance(1, 2);
    let mut fault = Fault {
        kind,
        hosts: vec![h],
        hold: if check_during {
            rng.millis(0, 1000)
        } else {
            rng.millis(50, 1500)
        },
        check_during,
        change: None,
    };
    match kind {
        FaultKind::Partition if rng.chance(1, 2) => {
            // The other hosts on the partition side, this one with the client.
            fault.hosts = (0..HOSTS).filter(|&i| i != h).collect();
        }
        FaultKind::ReloadSighup | FaultKind::ReloadControl => {
            fault.check_during = false;
            fault.hold = Duration::ZERO;
            if rng.chance(2, 3) {
                let v = rng.below(model.vrids.len() as u64) as usize;
                let taken: Vec<u8> = (0..HOSTS)
                    .filter(|&i| i != h)
                    .filter_map(|i| model.vrids.get(v).map(|vr| vr.prios[i]))
                    .collect();
                let choices: Vec<u8> = (1..=25u8)
                    .map(|x| x * 10)
                    .filter(|p| !taken.contains(p))
                    .collect();
                let p = choices[rng.below(choices.len() as u64) as usize];
                fault.change = Some((v, p));
            }
        }
        _ => {}
    }
    fault
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["", "m", "10", "0s", "-1m", "1.5h", "9999h", "ü", "10x"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert!(a.below(3) < 3);
            assert!(b.below(3) < 3);
        }
        assert_eq!(a.below(0), 0);
        let d = a.millis(50, 60);
        assert!((50..=60).contains(&(d.as_millis() as u64)));
    }

    #[test]
    fn draws_keep_priorities_distinct() {
        let mut rng = Rng::new(1);
        let mut model = Model::default();
        for _ in 0..2000 {
            let f = draw(&mut rng, &model);
            assert!(!f.hosts.is_empty() && f.hosts.len() < HOSTS);
            if let Some((v, p)) = f.change {
                model.vrids[v].prios[f.hosts[0]] = p;
            }
            for vr in &model.vrids {
                let mut p = vr.prios.to_vec();
                p.sort_unstable();
                p.dedup();
                assert_eq!(p.len(), HOSTS);
            }
        }
    }

    fn status(vrid: u8, state: &str, prio: u8, holds: bool) -> InstanceStatus {
        InstanceStatus {
            name: format!("VI_eth0_{vrid}"),
            interface: "eth0".into(),
            vrid,
            version: 3,
            state: state.into(),
            priority: prio,
            effective_priority: prio,
            master_adver_interval_ms: 100,
            active_router: None,
            vips: vec![],
            holds_vips: holds,
            last_transition: None,
            waiting: None,
            vips_installed: holds,
            trackers: Vec::new(),
        }
    }

    fn observe(model: &Model, active: impl Fn(usize, usize) -> bool) -> Vec<Observation> {
        (0..HOSTS)
            .map(|h| {
                let mut addrs = BTreeSet::new();
                let mut st = Vec::new();
                for (v, vr) in model.vrids.iter().enumerate() {
                    let a = active(v, h);
                    if a {
                        addrs.insert(vr.vip);
                    }
                    let state = if a { "active" } else { "backup" };
                    st.push(status(vr.vrid, state, vr.prios[h], a));
                }
                Observation {
                    addrs,
                    status: Ok(st),
                }
            })
            .collect()
    }

    #[test]
    fn invariants() {
        let mut model = Model::default();
        for h in &mut model.hosts {
            h.running = true;
        }
        let good = observe(&model, |v, h| model.should_be_active(v, h));
        assert_eq!(problems(&model, &good), Vec::<String>::new());
        // h1 is Active for VRID 10 only.
        assert!(model.should_be_active(0, 0) && !model.should_be_active(1, 0));
        let two = observe(&model, |v, h| v == 0 || model.should_be_active(v, h));
        assert!(
            problems(&model, &two)
                .iter()
                .any(|p| p.contains("stray VIP"))
        );
        // Partition h1 away: it is Active for everything on its own.
        model.hosts[0].side = 1;
        assert!((0..model.vrids.len()).all(|v| model.should_be_active(v, 0)));
        assert!(!problems(&model, &good).is_empty());
        // Killed with SIGKILL: stale VIPs allowed until the restart.
        model.hosts[0].side = 0;
        model.hosts[0].running = false;
        model.hosts[0].may_hold_stale = true;
        let mut obs = observe(&model, |v, h| model.should_be_active(v, h));
        obs[0].addrs.insert(model.vrids[0].vip);
        assert_eq!(problems(&model, &obs), Vec::<String>::new());
        model.hosts[0].may_hold_stale = false;
        assert_eq!(problems(&model, &obs).len(), 1);
        let mut missing = good.clone();
        missing[1].status = Err("refused".into());
        model.hosts[0].running = true;
        assert!(problems(&model, &missing)[0].contains("no status"));
    }

    #[test]
    fn addresses_parse() {
        let text = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n\
                    2: eth0    inet 198.18.0.110/24 scope global secondary eth0\n\
                    2: eth0    inet6 fd00:198:18::140/64 scope global \\ x\n\
                    garbage\n";
        let a = parse_addrs(text);
        assert!(a.contains(&"198.18.0.110".parse().unwrap()));
        assert!(a.contains(&"fd00:198:18::140".parse().unwrap()));
        assert_eq!(a.len(), 3);
    }
}
