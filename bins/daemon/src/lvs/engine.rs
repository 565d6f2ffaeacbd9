//! [`LvsEngine`]: every virtual server of a configuration, its real
//! servers' checkers, quorum and sorry server, as inputs in and
//! [`LvsAction`]s out.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use vrrp_ipvs::{Destination, Service, ServiceKey, Stats};

use super::action::{CheckOutcome, CheckerId, HookReason, LvsAction};
use super::checker::{CheckerState, Verdict};
use crate::config::lvs::{BOOTSTRAP_DELAY, Checker, RealServer, VirtualServer};

/// A real server's state.
#[derive(Debug)]
pub(super) struct Real {
    pub(super) checkers: Vec<CheckerState>,
    /// All checkers up.
    pub(super) alive: bool,
    /// In the IPVS table (with its weight, or 0 when inhibited).
    pub(super) set: bool,
    /// The weight in effect (`misc_dynamic` changes it).
    pub(super) weight: u32,
    /// The last result and when, for `vrrpctl lvs`.
    pub(super) last: Option<(Instant, bool)>,
}

/// A virtual server's state.
#[derive(Debug)]
pub(super) struct Virtual {
    pub(super) reals: Vec<Real>,
    pub(super) quorum_up: bool,
    /// The sorry server is serving.
    pub(super) sorry_alive: bool,
    /// `ha_suspend`: its address is not on this host, checks are skipped.
    pub(super) suspended: bool,
}

/// What `vrrpctl lvs` shows of a real server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServerStatus {
    /// Its address.
    pub addr: SocketAddr,
    /// Whether every checker passes.
    pub alive: bool,
    /// Whether it is in the IPVS table.
    pub in_table: bool,
    /// The weight it has when alive.
    pub weight: u32,
    /// How long ago the last check ended, in milliseconds.
    pub last_check_ms_ago: Option<u64>,
    /// Whether the last check passed.
    pub last_check_passed: Option<bool>,
    /// What IPVS counts for it, when it is in the table and the kernel
    /// answered (`ipvsadm -Ln --stats`); the engine leaves it `None`.
    #[serde(default)]
    pub counters: Option<RealServerCounters>,
}

/// IPVS's counters of a real server (`ipvsadm -Ln` and `--stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServerCounters {
    /// Established connections (`ActiveConn`).
    pub active_connections: u32,
    /// Other connections (`InActConn`).
    pub inactive_connections: u32,
    /// Totals and rates.
    pub stats: Stats,
}

/// What `vrrpctl lvs` shows of a virtual server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServerStatus {
    /// The service.
    pub service: ServiceKey,
    /// Whether the live weight reaches the quorum.
    pub quorum_up: bool,
    /// Whether the sorry server is serving.
    pub sorry_server_active: bool,
    /// Whether checks are suspended (`ha_suspend`).
    pub suspended: bool,
    /// Its real servers.
    pub real_servers: Vec<RealServerStatus>,
    /// What IPVS counts for the service, when the kernel answered; the
    /// engine leaves it `None`.
    #[serde(default)]
    pub counters: Option<Stats>,
}

/// The LVS half of a configuration; see the [module docs](super).
#[derive(Debug)]
pub struct LvsEngine {
    /// The configuration, shared with the shell (its check tasks read it).
    pub(super) config: Arc<[VirtualServer]>,
    /// Which configuration: 0 at start, one more at each reload (checks
    /// started under an older one are ignored when they come back).
    pub(super) generation: u32,
    /// The state of each of `config`'s virtual servers, by index.
    pub(super) servers: Vec<Virtual>,
    pub(super) actions: VecDeque<LvsAction>,
    rng: u64,
}

impl LvsEngine {
    /// An engine for `servers`; `seed` drives the random part of each
    /// checker's first delay (`warmup`). Nothing happens before
    /// [`start`](Self::start).
    pub fn new(servers: impl Into<Arc<[VirtualServer]>>, seed: u64) -> LvsEngine {
        let config: Arc<[VirtualServer]> = servers.into();
        LvsEngine {
            servers: config
                .iter()
                .map(|c| Virtual {
                    reals: Vec::new(),
                    quorum_up: false,
                    sorry_alive: false,
                    suspended: c.ha_suspend,
                })
                .collect(),
            config,
            generation: 0,
            actions: VecDeque::new(),
            rng: seed | 1,
        }
    }

    /// The virtual servers it runs (the shell hands the same list to the
    /// check tasks; [`CheckerId`]s index into it).
    pub fn config(&self) -> &Arc<[VirtualServer]> {
        &self.config
    }

    /// A number in `0..=max_micros`, from xorshift64.
    pub(super) fn random_micros(&mut self, max: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let max = max.as_micros().min(u128::from(u64::MAX - 1)) as u64;
        Duration::from_micros(self.rng % (max + 1))
    }

    /// Adds every service and the real servers that start up (all but
    /// `alpha` ones, which an inhibiting server adds with weight 0),
    /// judges the quorum (so `quorum_up` runs at a fresh start, as in
    /// keepalived) and schedules the first checks at `now` + 1 s + a
    /// random part of `warmup`.
    pub fn start(&mut self, now: Instant) {
        let all = Arc::clone(&self.config);
        self.servers.clear();
        for (v, config) in all.iter().enumerate() {
            let state = self.start_virtual(now, config);
            self.servers.push(state);
            self.update_quorum(v, true);
        }
    }

    /// Starts one virtual server: its service, the real servers that
    /// start in the table, its inhibited sorry server, and its checkers'
    /// first runs. The caller judges its quorum once it is in place.
    pub(super) fn start_virtual(&mut self, now: Instant, config: &VirtualServer) -> Virtual {
        self.actions
            .push_back(LvsAction::AddService(service(config)));
        let mut reals = Vec::with_capacity(config.real_servers.len());
        for rs in &config.real_servers {
            let real = self.new_real(now, rs);
            if real.set {
                let weight = if real.alive { rs.weight } else { 0 };
                self.actions.push_back(LvsAction::AddDestination(
                    config.key,
                    destination(rs, weight),
                ));
            }
            reals.push(real);
        }
        if let Some(sorry) = &config.sorry_server {
            if sorry.inhibit {
                self.actions.push_back(LvsAction::AddDestination(
                    config.key,
                    sorry_destination(sorry, 0),
                ));
            }
        }
        Virtual {
            reals,
            quorum_up: false,
            sorry_alive: false,
            suspended: config.ha_suspend,
        }
    }

    /// A real server before its first check: up unless `alpha`, in the
    /// table when up or inhibiting; its checkers first run after 1 s and
    /// a random part of their `warmup`.
    pub(super) fn new_real(&mut self, now: Instant, rs: &RealServer) -> Real {
        let checkers = rs
            .checkers
            .iter()
            .map(|c| self.new_checker(now, c))
            .collect::<Vec<_>>();
        let alive = checkers.iter().all(|c| c.up);
        Real {
            checkers,
            alive,
            set: alive || rs.inhibit_on_failure,
            weight: rs.weight,
            last: None,
        }
    }

    /// A checker's state before its first run.
    pub(super) fn new_checker(&mut self, now: Instant, c: &Checker) -> CheckerState {
        let first = now + BOOTSTRAP_DELAY + self.random_micros(c.warmup);
        CheckerState::new(c, first)
    }

    /// Removes what [`start`](Self::start) added: the sorry server, every
    /// real server in the table (inhibited ones too) and the service. With
    /// `omega`, live real servers' `notify_down` and `quorum_down` run.
    pub fn stop(&mut self) {
        for (vs, cfg) in self.servers.iter_mut().zip(self.config.iter()) {
            let key = cfg.key;
            if let Some(sorry) = &cfg.sorry_server {
                if vs.sorry_alive || sorry.inhibit {
                    self.actions
                        .push_back(LvsAction::RemoveDestination(key, sorry.addr));
                }
            }
            vs.sorry_alive = false;
            for (r, rs) in vs.reals.iter_mut().zip(&cfg.real_servers) {
                if r.set {
                    self.actions
                        .push_back(LvsAction::RemoveDestination(key, rs.addr));
                    r.set = false;
                }
                if r.alive && cfg.omega {
                    if let Some(h) = &rs.notify_down {
                        self.actions.push_back(LvsAction::RunHook(
                            h.clone(),
                            HookReason::RealServerDown {
                                service: key,
                                addr: rs.addr,
                            },
                        ));
                    }
                }
                for c in &mut r.checkers {
                    c.next = None;
                }
            }
            if cfg.omega {
                if let Some(h) = &cfg.quorum_down {
                    self.actions
                        .push_back(LvsAction::RunHook(h.clone(), HookReason::QuorumDown(key)));
                }
            }
            vs.quorum_up = false;
            self.actions.push_back(LvsAction::RemoveService(key));
        }
    }

    /// Starts every check due at `now` (each becomes a
    /// [`LvsAction::RunCheck`]; it is not due again until its result
    /// comes back). A suspended service's checks are skipped for a
    /// `delay_loop`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (v, vs) in self.servers.iter_mut().enumerate() {
            for (r, real) in vs.reals.iter_mut().enumerate() {
                for (c, state) in real.checkers.iter_mut().enumerate() {
                    if !state.due(now) {
                        continue;
                    }
                    if vs.suspended {
                        let delay = self.config[v].real_servers[r].checkers[c].delay_loop;
                        state.next = Some(now + delay);
                        continue;
                    }
                    state.next = None;
                    self.actions.push_back(LvsAction::RunCheck(CheckerId {
                        generation: self.generation,
                        virtual_server: v,
                        real_server: r,
                        checker: c,
                    }));
                }
            }
        }
    }

    /// Takes the result of check `id` at `now`: a real server whose last
    /// failing checker passed comes up, one whose first checker failed
    /// goes down, each with its IPVS change, hook and quorum update. A
    /// result for a checker not out (after a stop) is ignored.
    pub fn handle_check_result(&mut self, now: Instant, id: CheckerId, outcome: CheckOutcome) {
        if id.generation != self.generation {
            return;
        }
        let Some(vs) = self.servers.get_mut(id.virtual_server) else {
            return;
        };
        let Some(real) = vs.reals.get_mut(id.real_server) else {
            return;
        };
        let Some(state) = real.checkers.get_mut(id.checker) else {
            return;
        };
        if state.next.is_some() {
            return;
        }
        let key = self.config[id.virtual_server].key;
        let config = &self.config[id.virtual_server].real_servers[id.real_server];
        let passed = outcome != CheckOutcome::Down;
        let verdict = state.record(&config.checkers[id.checker], now, passed);
        real.last = Some((now, passed));
        if let CheckOutcome::UpWithWeight(w) = outcome {
            if w != real.weight {
                real.weight = w;
                if real.alive && real.set && (vs.quorum_up || !vs.sorry_alive) {
                    let d = destination(config, w);
                    self.actions.push_back(LvsAction::UpdateDestination(key, d));
                }
            }
        }
        let alive = real.checkers.iter().all(|c| c.up);
        match verdict {
            Verdict::WentUp | Verdict::WentDown if alive != real.alive => {
                self.set_real(id.virtual_server, id.real_server, alive);
            }
            Verdict::StayedDownFirst => {
                if let Some(h) = &config.notify_down {
                    let reason = HookReason::RealServerDown {
                        service: key,
                        addr: config.addr,
                    };
                    self.actions
                        .push_back(LvsAction::RunHook(h.clone(), reason));
                }
            }
            _ => {}
        }
        if matches!(outcome, CheckOutcome::UpWithWeight(_)) {
            self.update_quorum(id.virtual_server, false);
        }
    }

    /// Tells the engine whether `addr` is on this host now (for
    /// `ha_suspend`: checks run only while the service address is).
    pub fn set_address_present(&mut self, addr: IpAddr, present: bool) {
        for (vs, cfg) in self.servers.iter_mut().zip(self.config.iter()) {
            if cfg.ha_suspend && cfg.address() == Some(addr) {
                vs.suspended = !present;
            }
        }
    }

    /// The next action, in order; drain to `None` after every input.
    pub fn poll_action(&mut self) -> Option<LvsAction> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.servers
            .iter()
            .flat_map(|v| &v.reals)
            .flat_map(|r| &r.checkers)
            .filter_map(|c| c.next)
            .min()
    }

    /// The state of every virtual server, for `vrrpctl lvs`.
    pub fn status(&self, now: Instant) -> Vec<VirtualServerStatus> {
        self.servers
            .iter()
            .zip(self.config.iter())
            .map(|(vs, cfg)| VirtualServerStatus {
                service: cfg.key,
                quorum_up: vs.quorum_up,
                sorry_server_active: vs.sorry_alive,
                suspended: vs.suspended,
                real_servers: vs
                    .reals
                    .iter()
                    .zip(&cfg.real_servers)
                    .map(|(r, rs)| RealServerStatus {
                        addr: rs.addr,
                        alive: r.alive,
                        in_table: r.set,
                        weight: r.weight,
                        last_check_ms_ago: r
                            .last
                            .map(|(t, _)| now.saturating_duration_since(t).as_millis() as u64),
                        last_check_passed: r.last.map(|(_, ok)| ok),
                        counters: None,
                    })
                    .collect(),
                counters: None,
            })
            .collect()
    }

    /// A real server came up or went down: its IPVS change (unless the
    /// sorry server serves in place of the real servers), its hook, the
    /// quorum.
    fn set_real(&mut self, v: usize, r: usize, alive: bool) {
        let vs = &mut self.servers[v];
        let key = self.config[v].key;
        let config = &self.config[v].real_servers[r];
        let real = &mut vs.reals[r];
        real.alive = alive;
        if vs.quorum_up || !vs.sorry_alive {
            self.actions.push_back(if alive {
                real.set = true;
                if config.inhibit_on_failure {
                    LvsAction::UpdateDestination(key, destination(config, real.weight))
                } else {
                    LvsAction::AddDestination(key, destination(config, real.weight))
                }
            } else if config.inhibit_on_failure {
                LvsAction::UpdateDestination(key, destination(config, 0))
            } else {
                real.set = false;
                LvsAction::RemoveDestination(key, config.addr)
            });
        }
        let (hook, reason) = if alive {
            (
                &config.notify_up,
                HookReason::RealServerUp {
                    service: key,
                    addr: config.addr,
                },
            )
        } else {
            (
                &config.notify_down,
                HookReason::RealServerDown {
                    service: key,
                    addr: config.addr,
                },
            )
        };
        self.actions.push_back(LvsAction::Changed(reason));
        if let Some(h) = hook {
            self.actions
                .push_back(LvsAction::RunHook(h.clone(), reason));
        }
        self.update_quorum(v, false);
    }

    /// keepalived's `update_quorum_state`: gains or loses the quorum, with
    /// the sorry server's swap and the quorum hooks.
    pub(super) fn update_quorum(&mut self, v: usize, init: bool) {
        let vs = &mut self.servers[v];
        let cfg = &self.config[v];
        let key = cfg.key;
        let sum: u64 = vs
            .reals
            .iter()
            .filter(|r| r.alive)
            .map(|r| u64::from(r.weight))
            .sum();
        let quorum = u64::from(cfg.quorum);
        let hysteresis = u64::from(cfg.hysteresis);
        let has_sorry = cfg.sorry_server.is_some();
        if !vs.quorum_up && sum >= quorum + hysteresis {
            vs.quorum_up = true;
            if vs.sorry_alive {
                let sorry = cfg.sorry_server.expect("alive implies configured");
                vs.sorry_alive = false;
                self.actions.push_back(if sorry.inhibit {
                    LvsAction::UpdateDestination(key, sorry_destination(&sorry, 0))
                } else {
                    LvsAction::RemoveDestination(key, sorry.addr)
                });
                for (real, rs) in vs.reals.iter_mut().zip(&cfg.real_servers) {
                    if real.alive {
                        real.set = true;
                        self.actions.push_back(LvsAction::AddDestination(
                            key,
                            destination(rs, real.weight),
                        ));
                    }
                }
            }
            self.actions
                .push_back(LvsAction::Changed(HookReason::QuorumUp(key)));
            if let Some(h) = &cfg.quorum_up {
                self.actions
                    .push_back(LvsAction::RunHook(h.clone(), HookReason::QuorumUp(key)));
            }
        } else if (vs.quorum_up && (sum == 0 || sum < quorum.saturating_sub(hysteresis)))
            || (init && !vs.quorum_up && has_sorry && !vs.sorry_alive)
        {
            vs.quorum_up = false;
            if let Some(sorry) = cfg.sorry_server {
                for (real, rs) in vs.reals.iter_mut().zip(&cfg.real_servers) {
                    if real.alive && real.set {
                        self.actions.push_back(if rs.inhibit_on_failure {
                            LvsAction::UpdateDestination(key, destination(rs, 0))
                        } else {
                            real.set = false;
                            LvsAction::RemoveDestination(key, rs.addr)
                        });
                    }
                }
                vs.sorry_alive = true;
                self.actions.push_back(if sorry.inhibit {
                    LvsAction::UpdateDestination(key, sorry_destination(&sorry, 1))
                } else {
                    LvsAction::AddDestination(key, sorry_destination(&sorry, 1))
                });
            }
            self.actions
                .push_back(LvsAction::Changed(HookReason::QuorumDown(key)));
            if let Some(h) = &cfg.quorum_down {
                self.actions
                    .push_back(LvsAction::RunHook(h.clone(), HookReason::QuorumDown(key)));
            }
        }
    }
}

/// The IPVS service of `config`.
pub(super) fn service(config: &VirtualServer) -> Service {
    let mut s = Service::new(config.key, config.scheduler.clone()).with_flags(config.flags);
    if let Some(p) = config.persistence {
        s = s.with_persistence(p);
    }
    s.persistence_engine = config.persistence_engine.clone();
    s
}

/// The IPVS destination of real server `rs` with `weight`.
pub(super) fn destination(rs: &RealServer, weight: u32) -> Destination {
    Destination::new(rs.addr, rs.forwarding)
        .with_weight(weight)
        .with_thresholds(rs.upper_threshold, rs.lower_threshold)
}

pub(super) fn sorry_destination(
    sorry: &crate::config::lvs::SorryServer,
    weight: u32,
) -> Destination {
    Destination::new(sorry.addr, sorry.forwarding).with_weight(weight)
}
