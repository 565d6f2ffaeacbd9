//! The engine's inputs beside links, reloads and waiting instances:
//! datagrams, timeouts, trackers, install results, and the stop.

use std::time::{Duration, Instant};

use tracing::{debug, info};
use vrrp_core::wire::Received;

use super::Engine;
use super::action::{Action, InstanceId, SocketId};
use super::drain::{announce_due, announce_due_of};
use super::event::Event;
use crate::notify::{HookState, Target, Transition};
use crate::track::TrackerUpdate;

/// How long an instance whose addresses the kernel (or the ledger) refused
/// stays in Fault before it tries again; doubled after each failure in a
/// row, up to [`ADDRESS_RETRY_MAX`], so a host that cannot hold the VIPs
/// does not keep interrupting the one that does.
pub(crate) const ADDRESS_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const ADDRESS_RETRY_MAX: Duration = Duration::from_secs(32);

impl Engine {
    /// A VRRP datagram that arrived at `at` (the kernel's receive stamp) on
    /// `socket`: handed to the routers of its VRID there; what they refuse
    /// is counted, and logged at a bounded rate.
    pub fn handle_datagram(&mut self, at: Instant, socket: SocketId, received: &Received<'_>) {
        self.finish_due();
        let Some(&vrid) = received.payload().get(1) else {
            self.count_global("packet_length");
            return;
        };
        let mut targets = std::mem::take(&mut self.route_targets);
        self.route(socket, vrid, &mut targets);
        let matched = !targets.is_empty();
        for &i in &targets {
            let inst = &mut self.instances[i];
            if let Err(discard) = inst.router.handle_advertisement(at, received) {
                inst.extra.discard(discard.code());
                self.actions.push_back(Action::Publish(Event::Discarded {
                    instance: Some(inst.id),
                    reason: discard.code(),
                }));
                let verdict = self.log_limit.check(discard.code(), at);
                if let Some(suppressed) = allowed(verdict) {
                    let inst = &self.instances[i];
                    debug!(instance = inst.name(), src = %received.src(), ?discard, suppressed,
                        "advertisement discarded");
                }
            }
            self.drain(i, at);
        }
        self.route_targets = targets;
        if !matched {
            // No instance to validate it: say what is wrong with it before
            // blaming its VRID, so that garbage is not "vrid_mismatch".
            let code = match received.validate() {
                Err(e) => e.code(),
                Ok(_) => "vrid_mismatch",
            };
            if let Some(suppressed) = allowed(self.log_limit.check(code, at)) {
                if code == "vrid_mismatch" && self.config.global.log_unknown_vrids {
                    // keepalived's `log_unknown_vrids`.
                    info!(src = %received.src(), vrid, suppressed,
                        "advert for an unknown VRID: ignored");
                } else {
                    debug!(src = %received.src(), vrid, suppressed, reason = code,
                        "datagram for no instance here");
                }
            }
            self.count_global(code);
        }
    }

    /// A datagram that could not be decoded at all (`code` says why, as
    /// [`vrrp_core::wire::WireError::code`] does): counted, and logged at a
    /// bounded rate.
    pub fn handle_undecodable(
        &mut self,
        at: Instant,
        code: &'static str,
        detail: &dyn std::fmt::Display,
    ) {
        if let Some(suppressed) = allowed(self.log_limit.check(code, at)) {
            debug!(error = %detail, suppressed, "undecodable VRRP packet");
        }
        self.count_global(code);
    }

    /// Runs what is due at `now`: routers, announcements, address retries
    /// and the waiting instances' retry. The due instances are run one at a
    /// time as [`poll_action`](Self::poll_action) asks for more, so that the
    /// shell carries out one instance's actions before the next one's are
    /// made: a takeover of 1,000 instances queued at once left the heap
    /// fragmented (a megabyte more resident for good).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.finish_due();
        self.apply_delayed_links(now);
        self.refresh_deadlines();
        self.due = self.deadlines.due(now);
        self.due.reverse();
        self.due_at = Some(now);
        self.due_stale = false;
    }

    /// Runs the next due instance of the last [`handle_timeout`](Self::handle_timeout),
    /// or, after the last, the waiting instances' retry; false when nothing
    /// is left.
    pub(super) fn step_due(&mut self) -> bool {
        let Some(now) = self.due_at else {
            return false;
        };
        if self.due_stale {
            // Instances were added or removed meanwhile: the indices moved.
            // Running an instance again is harmless: only what is due runs.
            self.refresh_deadlines();
            self.due = self.deadlines.due(now);
            self.due.reverse();
            self.due_stale = false;
        }
        if let Some(i) = self.due.pop() {
            if i < self.instances.len() {
                self.run_due(i, now);
            }
            return true;
        }
        self.due_at = None;
        if !self.waiting.is_empty() && self.next_waiting_retry.is_some_and(|t| t <= now) {
            self.retry_waiting(now);
        }
        true
    }

    /// Runs everything still pending of the last timeout, queueing its
    /// actions: before any other input, so that inputs apply in order.
    pub(super) fn finish_due(&mut self) {
        while self.step_due() {}
    }

    /// Runs what is due at `now` of instance `i`.
    fn run_due(&mut self, i: usize, now: Instant) {
        self.deadlines.touch(i);
        let inst = &mut self.instances[i];
        if let Some(deadline) = inst.router.poll_timeout().filter(|&t| t <= now) {
            inst.timer_deadline = Some(deadline);
            inst.router.handle_timeout(now);
            self.drain(i, now);
            self.instances[i].timer_deadline = None;
        }
        let inst = &mut self.instances[i];
        if inst.schedule.poll_timeout().is_some_and(|t| t <= now) {
            announce_due(&mut self.actions, inst, now);
        }
        if let Some(s) = inst.lower_schedule.as_deref_mut() {
            if s.poll_timeout().is_some_and(|t| t <= now) {
                announce_due_of(&mut self.actions, inst.id, s, now);
            }
            if !s.is_active() {
                inst.lower_schedule = None;
            }
        }
        let inst = &mut self.instances[i];
        if inst.extra_interfaces_due.is_some_and(|t| t <= now) {
            // keepalived's garp_extra_if: one message per other interface.
            for address in inst.extra_interface_addresses() {
                self.actions.push_back(Action::Announce {
                    instance: inst.id,
                    address,
                });
            }
            inst.schedule_extra_interfaces(
                now,
                inst.router.state() == vrrp_core::router::State::Active,
            );
        }
        if inst.address_retry.is_some_and(|t| t <= now) {
            inst.address_retry = None;
            info!(instance = inst.name(), "trying the virtual addresses again");
            inst.router.set_address_fault(now, false);
            self.drain(i, now);
        }
    }

    /// A named tracker (`track_script`, `track_tcp`, `track_http`,
    /// `track_file`) changed.
    pub fn handle_tracker(&mut self, now: Instant, u: &TrackerUpdate) {
        self.finish_due();
        info!(tracker = %u.name, kind = u.kind.as_str(), observation = ?u.observation,
            detail = %u.detail, "tracker changed");
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.tracking.update(u) {
                let up = inst.tracking.result_of(u.kind, &u.name).unwrap_or(false);
                self.actions
                    .push_back(Action::Publish(Event::TrackerChanged {
                        instance: inst.id,
                        kind: u.kind.as_str(),
                        name: u.name.clone(),
                        up,
                    }));
                self.apply_tracking(i, now);
            }
        }
    }

    /// Hands instance `i`'s tracking to its router and carries out what
    /// follows; a change of its effective priority is reported (for
    /// notify FIFOs, keepalived's `notify_priority_changes`).
    pub(super) fn apply_tracking(&mut self, i: usize, now: Instant) {
        let inst = &mut self.instances[i];
        let before = inst.router.priority();
        inst.tracking.apply(now, &mut inst.router);
        let after = inst.router.priority();
        if before != after && inst.config.notify_priority_changes {
            let state = if inst.router.state() == vrrp_core::router::State::Active {
                HookState::MasterPriority
            } else {
                HookState::BackupPriority
            };
            self.actions.push_back(Action::Notify(Transition {
                target: Target::Instance(inst.config.name.clone()),
                state,
                previous: None,
                priority: after.get(),
            }));
        }
        self.drain(i, now);
    }

    /// The outcome of an [`Action::InstallAddresses`] or
    /// [`Action::UpdateAddresses`], whenever it comes (the shell may
    /// install off its event loop; the router keeps advertising
    /// meanwhile). On success the instance announces what it waited to
    /// announce. `Err` lists what the kernel refused or the ledger could
    /// not record: the router must not claim addresses this host does not
    /// hold, so what it queued with them (its advertisement, the
    /// announcements) is dropped, and it goes to Fault and tries again
    /// later; a priority-0 release still goes out. The outcome of an
    /// install that a removal undid since is ignored.
    pub fn handle_install_result(
        &mut self,
        now: Instant,
        id: InstanceId,
        result: Result<(), Vec<String>>,
    ) {
        let Some(i) = self.index_of(id) else { return };
        let inst = &mut self.instances[i];
        inst.installs_in_flight = inst.installs_in_flight.saturating_sub(1);
        if inst.installs_undone > 0 {
            inst.installs_undone -= 1;
            return;
        }
        let missing = match result {
            Ok(()) => {
                inst.address_failures = 0;
                if inst.installs_in_flight == 0 {
                    if let Some(transmit) = inst.held_advert.take() {
                        self.actions.push_back(Action::SendAdvertisement {
                            instance: id,
                            transmit,
                        });
                    }
                    super::drain::start_announcing(&mut self.actions, inst, now);
                    self.deadlines.touch(i);
                }
                return;
            }
            Err(missing) => missing,
        };
        inst.held_advert = None;
        inst.announce_after_install.clear();
        inst.announce_started = 0;
        self.actions.retain(|a| match a {
            Action::SendAdvertisement { instance, transmit } => {
                *instance != id || transmit.priority.is_shutdown()
            }
            Action::Announce { instance, .. } => *instance != id,
            _ => true,
        });
        inst.schedule.stop();
        let wait = ADDRESS_RETRY
            .saturating_mul(1 << inst.address_failures.min(5))
            .min(ADDRESS_RETRY_MAX);
        inst.address_failures = inst.address_failures.saturating_add(1);
        inst.extra.error("address_install_failed");
        tracing::error!(instance = inst.name(), addresses = %missing.join(" "),
            retry_in = ?wait,
            "virtual addresses could not be installed: giving them up (Fault) and retrying");
        inst.router.set_address_fault(now, true);
        inst.address_retry = Some(now + wait);
        self.drain(i, now);
    }

    /// Part of an install of all of instance `id`'s addresses is done:
    /// the first `installed` (its VIPs, then its excluded VIPs, in
    /// configuration order) are on the host, so they are announced now
    /// rather than when the last one is in (Many VIPs #7). Not while a
    /// retry holds its adverts, nor for an install a removal undid.
    pub fn handle_install_progress(&mut self, now: Instant, id: InstanceId, installed: usize) {
        let Some(i) = self.index_of(id) else { return };
        let inst = &mut self.instances[i];
        if inst.installs_in_flight != 1
            || inst.installs_undone > 0
            || inst.address_failures > 0
            || inst.held_advert.is_some()
        {
            return;
        }
        super::drain::announce_ready(&mut self.actions, inst, now, installed);
        self.deadlines.touch(i);
    }

    /// Stops every router: priority 0 from the Active ones (RFC 9568
    /// §6.4.3), addresses removed, then everything released.
    pub fn shutdown(&mut self, now: Instant) {
        self.finish_due();
        for i in 0..self.instances.len() {
            self.instances[i].router.shutdown(now);
            self.drain(i, now);
        }
        for inst in &self.instances {
            self.actions.push_back(Action::Release {
                instance: inst.id,
                removed_link: None,
            });
        }
    }

    /// Starts the router of instance `i`.
    pub(super) fn start(&mut self, i: usize, now: Instant) {
        let inst = &mut self.instances[i];
        if !inst.link_up && !inst.config.dont_track_primary {
            inst.router.set_link_up(now, false);
        }
        // The trackers' first results (a file's value, a tracker that is
        // down from the start) count from the start.
        inst.tracking.apply(now, &mut inst.router);
        inst.router.startup(now);
        self.drain(i, now);
    }

    /// Counts a packet refused before it reached an instance.
    fn count_global(&mut self, code: &'static str) {
        self.actions.push_back(Action::Publish(Event::Discarded {
            instance: None,
            reason: code,
        }));
        match self.global_discards.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.global_discards.insert(code.to_string(), 1);
            }
        }
    }

    /// Replaces `found` with the instances that a datagram on `socket` for
    /// `vrid` is for.
    fn route(&mut self, socket: SocketId, vrid: u8, found: &mut Vec<usize>) {
        self.build_routes();
        let instances = &self.instances;
        let routes = self.routes.as_deref().unwrap_or_default();
        let first = routes.partition_point(|&(s, v, _)| (s, v) < (socket, vrid));
        found.clear();
        found.extend(
            routes[first..]
                .iter()
                .take_while(|&&(s, v, _)| (s, v) == (socket, vrid))
                .map(|&(_, _, i)| i),
        );
        // A stale table would point at other instances.
        debug_assert!(
            found
                .iter()
                .all(|&i| instances[i].socket == socket && instances[i].vrid() == vrid),
            "stale datagram routes: instances changed without instances_changed()"
        );
    }

    /// Builds the datagram routes if the instances changed since they were
    /// (at start-up, so that what start-up freed is not left in holes under
    /// them).
    pub fn build_routes(&mut self) {
        if self.routes.is_none() {
            let mut routes: Vec<(SocketId, u8, usize)> = self
                .instances
                .iter()
                .enumerate()
                .map(|(i, inst)| (inst.socket, inst.vrid(), i))
                .collect();
            routes.sort_unstable();
            self.routes = Some(routes);
        }
        self.refresh_deadlines();
    }
}

/// The suppressed count to log with a line, or `None` to drop the line.
fn allowed(verdict: crate::ratelimit::Verdict) -> Option<u64> {
    use crate::ratelimit::Verdict;
    match verdict {
        Verdict::Log => Some(0),
        Verdict::LogAfterSuppressing(n) => Some(n),
        Verdict::Suppress => None,
    }
}
