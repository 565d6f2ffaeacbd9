//! The LVS engine in virtual time: start, failures with retries, alpha,
//! inhibit_on_failure, quorum with hysteresis and the sorry server,
//! misc_dynamic weights, ha_suspend, stop and reload.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use vrrp_ipvs::{Forwarding, Protocol, Scheduler, ServiceFlags, ServiceKey};

use super::*;
use crate::config::Exec;
use crate::config::Hook;
use crate::config::lvs::{CheckKind, Checker, Connect, RealServer, SorryServer, VirtualServer};

const SECOND: Duration = Duration::from_secs(1);

fn hook(name: &str) -> Hook {
    Hook {
        exec: Exec::Argv(vec![name.to_string()]),
        run_as: None,
    }
}

fn tcp_checker(addr: SocketAddr) -> Checker {
    Checker {
        kind: CheckKind::Tcp(Connect {
            addr,
            bind: None,
            timeout: 3 * SECOND,
            fwmark: None,
        }),
        delay_loop: 10 * SECOND,
        retry: 1,
        delay_before_retry: 2 * SECOND,
        warmup: Duration::ZERO,
        alpha: false,
    }
}

fn real(n: u8) -> RealServer {
    let addr: SocketAddr = format!("198.18.1.{n}:80").parse().unwrap();
    RealServer {
        addr,
        forwarding: Forwarding::Masquerade,
        weight: 1,
        upper_threshold: 0,
        lower_threshold: 0,
        inhibit_on_failure: false,
        alpha: false,
        notify_up: Some(hook(&format!("up{n}"))),
        notify_down: Some(hook(&format!("down{n}"))),
        checkers: vec![tcp_checker(addr)],
    }
}

fn key() -> ServiceKey {
    ServiceKey::Inet {
        protocol: Protocol::Tcp,
        addr: "198.18.0.10:80".parse().unwrap(),
    }
}

fn vs(reals: Vec<RealServer>) -> VirtualServer {
    VirtualServer {
        key: key(),
        scheduler: Scheduler::Wlc,
        flags: ServiceFlags::default(),
        persistence: None,
        persistence_engine: None,
        ha_suspend: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: Some(hook("qup")),
        quorum_down: Some(hook("qdown")),
        sorry_server: None,
        omega: false,
        virtualhost: None,
        real_servers: reals,
    }
}

/// Plays the shell: drains actions, answering checks from `health`.
struct Harness {
    engine: LvsEngine,
    now: Instant,
    /// Whether real server `real(n + 1)` (198.18.1.<n+1>) answers.
    health: Vec<bool>,
    log: Vec<String>,
    /// Every change reported, hooks or not.
    changes: Vec<HookReason>,
}

impl Harness {
    fn new(config: VirtualServer) -> Harness {
        let now = Instant::now();
        let mut engine = LvsEngine::new(vec![config], 7);
        engine.start(now);
        let mut h = Harness {
            engine,
            now,
            health: vec![true; 8],
            log: Vec::new(),
            changes: Vec::new(),
        };
        h.drain();
        h
    }

    fn drain(&mut self) {
        while let Some(a) = self.engine.poll_action() {
            let line = match a {
                LvsAction::AddService(s) => format!("add-service {}", s.key),
                LvsAction::UpdateService(s) => format!("edit-service {} {}", s.key, s.scheduler),
                LvsAction::RemoveService(k) => format!("del-service {k}"),
                LvsAction::AddDestination(_, d) => format!("add {} w{}", d.addr, d.weight),
                LvsAction::UpdateDestination(_, d) => format!("edit {} w{}", d.addr, d.weight),
                LvsAction::RemoveDestination(_, a) => format!("del {a}"),
                LvsAction::RunHook(h, _) => format!("hook {}", h.exec),
                LvsAction::Changed(c) => {
                    self.changes.push(c);
                    continue;
                }
                LvsAction::RunCheck(id) => {
                    let addr =
                        self.engine.config[id.virtual_server].real_servers[id.real_server].addr;
                    let n = match addr.ip() {
                        std::net::IpAddr::V4(a) => usize::from(a.octets()[3]) - 1,
                        std::net::IpAddr::V6(_) => unreachable!("IPv4 test servers"),
                    };
                    let outcome = if self.health[n] {
                        CheckOutcome::Up
                    } else {
                        CheckOutcome::Down
                    };
                    self.engine.handle_check_result(self.now, id, outcome);
                    continue;
                }
            };
            self.log.push(line);
        }
    }

    /// Runs virtual time forward to `now + d`, timeout by timeout.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.engine.poll_timeout() {
            if t > end {
                break;
            }
            self.now = t;
            self.engine.handle_timeout(t);
            self.drain();
        }
        self.now = end;
    }

    fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }
}

#[test]
fn a_start_adds_the_service_and_live_servers_then_gains_the_quorum() {
    let mut h = Harness::new(vs(vec![real(1), real(2)]));
    assert_eq!(
        h.take(),
        [
            "add-service TCP 198.18.0.10:80",
            "add 198.18.1.1:80 w1",
            "add 198.18.1.2:80 w1",
            "hook qup",
        ]
    );
    // First checks at 1 s (warmup 0): all pass, nothing changes.
    h.advance(30 * SECOND);
    assert!(h.take().is_empty());
}

#[test]
fn the_first_failure_is_decisive_then_it_takes_retry_plus_one() {
    let mut h = Harness::new(vs(vec![real(1), real(2)]));
    h.take();
    h.health[0] = false;
    // The first check (at 1 s) fails: down at once.
    h.advance(SECOND);
    assert_eq!(h.take(), ["del 198.18.1.1:80", "hook down1"]);
    h.health[0] = true;
    h.advance(10 * SECOND);
    assert_eq!(h.take(), ["add 198.18.1.1:80 w1", "hook up1"]);
    // Up again: one failure is retried (delay_before_retry 2 s) ...
    h.health[0] = false;
    h.advance(10 * SECOND);
    assert!(h.take().is_empty(), "one failure with retry 1 is tolerated");
    // ... and the second in a row takes it down.
    h.advance(2 * SECOND);
    assert_eq!(h.take(), ["del 198.18.1.1:80", "hook down1"]);
}

#[test]
fn every_change_is_reported_even_without_a_hook() {
    let mut r = real(1);
    r.notify_down = None;
    let mut config = vs(vec![r]);
    config.quorum_down = None;
    let mut h = Harness::new(config);
    h.take();
    h.health[0] = false;
    h.advance(SECOND);
    assert_eq!(h.take(), ["del 198.18.1.1:80"], "no hook configured");
    let addr = "198.18.1.1:80".parse().unwrap();
    assert_eq!(
        h.changes,
        [
            HookReason::QuorumUp(key()),
            HookReason::RealServerDown {
                service: key(),
                addr
            },
            HookReason::QuorumDown(key()),
        ]
    );
}

#[test]
fn inhibit_on_failure_sets_weight_zero_instead_of_removing() {
    let mut r = real(1);
    r.inhibit_on_failure = true;
    r.weight = 5;
    let mut h = Harness::new(vs(vec![r, real(2)]));
    assert!(h.take().contains(&"add 198.18.1.1:80 w5".to_string()));
    h.health[0] = false;
    h.advance(SECOND);
    assert_eq!(h.take(), ["edit 198.18.1.1:80 w0", "hook down1"]);
    h.health[0] = true;
    h.advance(10 * SECOND);
    assert_eq!(h.take(), ["edit 198.18.1.1:80 w5", "hook up1"]);
}

#[test]
fn alpha_servers_start_down_and_come_up_on_their_first_pass() {
    let mut r = real(1);
    r.alpha = true;
    r.checkers[0].alpha = true;
    let mut h = Harness::new(vs(vec![r]));
    // Not added, and no quorum: the only server is down.
    assert_eq!(h.take(), ["add-service TCP 198.18.0.10:80"]);
    h.advance(SECOND);
    assert_eq!(h.take(), ["add 198.18.1.1:80 w1", "hook up1", "hook qup"]);
}

#[test]
fn an_alpha_servers_first_failure_runs_notify_down_only() {
    let mut r = real(1);
    r.alpha = true;
    r.checkers[0].alpha = true;
    let mut h = Harness::new(vs(vec![r]));
    h.take();
    h.health[0] = false;
    h.advance(SECOND);
    assert_eq!(h.take(), ["hook down1"]);
    h.advance(30 * SECOND);
    assert!(h.take().is_empty());
}

#[test]
fn losing_the_quorum_swaps_in_the_sorry_server_and_back() {
    let mut config = vs(vec![real(1), real(2), real(3)]);
    config.quorum = 2;
    config.hysteresis = 1;
    config.sorry_server = Some(SorryServer {
        addr: "198.18.2.1:80".parse().unwrap(),
        forwarding: Forwarding::Masquerade,
        inhibit: false,
    });
    let mut h = Harness::new(config);
    assert_eq!(
        h.take().last().map(String::as_str),
        Some("hook qup"),
        "3 >= 2 + 1"
    );
    h.health[0] = false;
    h.advance(SECOND);
    // 2 left: not below quorum - hysteresis = 1.
    assert_eq!(h.take(), ["del 198.18.1.1:80", "hook down1"]);
    h.health[1] = false;
    h.health[2] = false;
    // Checks at 11 s fail once (retried at 13 s), then they go down.
    h.advance(12 * SECOND);
    let log = h.take();
    assert_eq!(
        log,
        [
            "del 198.18.1.2:80",
            "hook down2",
            // 1 left, not below 1: still up; then 0: lost.
            "del 198.18.1.3:80",
            "hook down3",
            "add 198.18.2.1:80 w1",
            "hook qdown",
        ]
    );
    // Two come back (checked at 23 s): 2 < quorum + hysteresis = 3, so
    // the sorry server stays.
    h.health[0] = true;
    h.health[1] = true;
    h.advance(10 * SECOND);
    assert_eq!(h.take(), ["hook up1", "hook up2"]);
    h.health[2] = true;
    h.advance(10 * SECOND);
    assert_eq!(
        h.take(),
        [
            "hook up3",
            "del 198.18.2.1:80",
            "add 198.18.1.1:80 w1",
            "add 198.18.1.2:80 w1",
            "add 198.18.1.3:80 w1",
            "hook qup",
        ]
    );
}

#[test]
fn misc_dynamic_weights_edit_the_destination() {
    let mut h = Harness::new(vs(vec![real(1)]));
    h.take();
    let id = CheckerId {
        generation: 0,
        virtual_server: 0,
        real_server: 0,
        checker: 0,
    };
    h.engine.handle_timeout(h.now + SECOND);
    assert_eq!(h.engine.poll_action(), Some(LvsAction::RunCheck(id)));
    h.engine
        .handle_check_result(h.now + SECOND, id, CheckOutcome::UpWithWeight(7));
    h.drain();
    assert_eq!(h.take(), ["edit 198.18.1.1:80 w7"]);
}

#[test]
fn ha_suspend_skips_checks_while_the_address_is_elsewhere() {
    let mut config = vs(vec![real(1)]);
    config.ha_suspend = true;
    let mut h = Harness::new(config);
    h.take();
    h.health[0] = false;
    h.advance(30 * SECOND);
    assert!(h.take().is_empty(), "suspended: no check, no change");
    h.engine
        .set_address_present("198.18.0.10".parse().unwrap(), true);
    h.advance(10 * SECOND);
    assert_eq!(h.take(), ["del 198.18.1.1:80", "hook down1", "hook qdown"]);
}

#[test]
fn stop_removes_everything_it_added_and_omega_runs_the_down_hooks() {
    let mut config = vs(vec![real(1), real(2)]);
    config.omega = true;
    let mut h = Harness::new(config);
    h.take();
    h.health[1] = false;
    h.advance(SECOND);
    h.take();
    h.engine.stop();
    h.drain();
    assert_eq!(
        h.take(),
        [
            "del 198.18.1.1:80",
            "hook down1",
            "hook qdown",
            "del-service TCP 198.18.0.10:80",
        ]
    );
    assert_eq!(h.engine.poll_timeout(), None, "no check after a stop");
}

#[test]
fn a_server_without_checkers_is_always_up() {
    let mut r = real(1);
    r.checkers.clear();
    let mut h = Harness::new(vs(vec![r]));
    assert_eq!(
        h.take(),
        [
            "add-service TCP 198.18.0.10:80",
            "add 198.18.1.1:80 w1",
            "hook qup"
        ]
    );
    assert_eq!(h.engine.poll_timeout(), None);
    let status = h.engine.status(h.now);
    assert!(status[0].real_servers[0].alive && status[0].quorum_up);
}

#[test]
fn warmup_spreads_first_checks_within_one_second_plus_warmup() {
    let reals: Vec<RealServer> = (1..=50)
        .map(|n| {
            let mut r = real(n);
            r.checkers[0].warmup = 10 * SECOND;
            r
        })
        .collect();
    let now = Instant::now();
    let mut engine = LvsEngine::new(vec![vs(reals)], 99);
    engine.start(now);
    let first = engine.poll_timeout().unwrap();
    assert!(first >= now + SECOND && first <= now + 11 * SECOND);
    engine.handle_timeout(now + 11 * SECOND);
    let checks = std::iter::from_fn(|| engine.poll_action())
        .filter(|a| matches!(a, LvsAction::RunCheck(_)))
        .count();
    assert_eq!(checks, 50);
    assert!(first > now + SECOND, "spread, not all at 1 s");
}

impl Harness {
    fn reload(&mut self, config: Vec<VirtualServer>) {
        self.engine.reload(self.now, config);
        self.drain();
    }
}

#[test]
fn a_reload_with_the_same_configuration_changes_nothing() {
    let mut h = Harness::new(vs(vec![real(1), real(2)]));
    h.advance(30 * SECOND);
    h.take();
    h.reload(vec![vs(vec![real(1), real(2)])]);
    h.advance(30 * SECOND);
    assert!(h.take().is_empty());
}

#[test]
fn a_reload_adds_and_removes_real_servers_and_the_others_keep_their_state() {
    let mut h = Harness::new(vs(vec![real(1), real(2)]));
    h.advance(30 * SECOND);
    h.take();
    h.reload(vec![vs(vec![real(2), real(3)])]);
    assert_eq!(h.take(), ["del 198.18.1.1:80", "add 198.18.1.3:80 w1"]);
    // real(2) kept its checker: it has run, so one failure is retried
    // (a fresh checker's first failure would be decisive) ...
    h.health[1] = false;
    let failed_once =
        |h: &Harness| h.engine.status(h.now)[0].real_servers[0].last_check_passed == Some(false);
    while !failed_once(&h) {
        h.advance(SECOND / 10);
    }
    let log = h.take();
    assert!(log.is_empty(), "a kept checker keeps its retries: {log:?}");
    assert!(h.engine.status(h.now)[0].real_servers[0].in_table);
    h.advance(2 * SECOND);
    assert_eq!(h.take(), ["del 198.18.1.2:80", "hook down2"]);
    // ... and the new real(3) is checked as well: it goes down when it
    // fails, and with it the quorum.
    h.health[2] = false;
    h.advance(10 * SECOND);
    assert_eq!(h.take(), ["del 198.18.1.3:80", "hook down3", "hook qdown"]);
}

#[test]
fn a_reload_edits_what_changed_in_place() {
    let mut h = Harness::new(vs(vec![real(1), real(2)]));
    h.advance(30 * SECOND);
    h.take();
    let mut config = vs(vec![real(1), real(2)]);
    config.scheduler = Scheduler::Rr;
    config.real_servers[1].weight = 5;
    h.reload(vec![config]);
    assert_eq!(
        h.take(),
        [
            "edit-service TCP 198.18.0.10:80 rr",
            "edit 198.18.1.2:80 w5"
        ]
    );
}

#[test]
fn a_reload_removes_a_service_that_went_and_starts_a_new_one() {
    let mut h = Harness::new(vs(vec![real(1)]));
    h.take();
    let mut other = vs(vec![real(2)]);
    other.key = ServiceKey::Inet {
        protocol: Protocol::Tcp,
        addr: "198.18.0.11:443".parse().unwrap(),
    };
    h.reload(vec![other]);
    assert_eq!(
        h.take(),
        [
            "del 198.18.1.1:80",
            "del-service TCP 198.18.0.10:80",
            "add-service TCP 198.18.0.11:443",
            "add 198.18.1.2:80 w1",
            "hook qup",
        ]
    );
}

#[test]
fn a_check_out_during_a_reload_is_ignored_and_its_checker_runs_again() {
    let now = Instant::now();
    let mut engine = LvsEngine::new(vec![vs(vec![real(1)])], 7);
    engine.start(now);
    while engine.poll_action().is_some() {}
    engine.handle_timeout(now + SECOND);
    let Some(LvsAction::RunCheck(old)) = engine.poll_action() else {
        panic!("no check started");
    };
    // Reloaded while the check is out (the server now comes second).
    engine.reload(now + SECOND, vec![vs(vec![real(2), real(1)])]);
    let added: Vec<_> = std::iter::from_fn(|| engine.poll_action()).collect();
    assert!(
        matches!(added.as_slice(), [LvsAction::AddDestination(_, d)] if d.addr.port() == 80 && d.addr.ip().to_string() == "198.18.1.2"),
        "{added:?}"
    );
    // The old check's failure is not real(2)'s (nor anyone's).
    engine.handle_check_result(now + 2 * SECOND, old, CheckOutcome::Down);
    assert_eq!(engine.poll_action(), None);
    // real(1)'s checker runs again at once.
    assert_eq!(engine.poll_timeout(), Some(now + SECOND));
    engine.handle_timeout(now + 2 * SECOND);
    let ids: Vec<_> = std::iter::from_fn(|| engine.poll_action())
        .filter_map(|a| match a {
            LvsAction::RunCheck(id) => Some((id.real_server, id.generation)),
            _ => None,
        })
        .collect();
    assert!(ids.contains(&(1, 1)), "{ids:?}");
}
