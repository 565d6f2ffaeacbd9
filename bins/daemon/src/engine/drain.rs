//! Routers' outputs to actions: each instance's [`Output`]s become
//! [`Action`]s in their order (advertise, install, announce, report), and
//! its transitions queue its notify hooks.

use std::time::Instant;

use tracing::{debug, info};
use vrrp_core::router::{Output, State};

use super::action::{Action, Addresses};
use super::event::Event;
use super::{Engine, hold};
use crate::notify::{HookState, Target, Transition};

impl Engine {
    /// Turns every output of instance `i` into actions, then applies its
    /// sync group's rules.
    pub(super) fn drain(&mut self, i: usize, now: Instant) {
        self.deadlines.touch(i);
        if self.drain_outputs(i, now) {
            self.lower_heard_by_group(i, now);
        }
        self.sync_after(i, now);
    }

    /// Turns every output of instance `i` into actions, in order, and
    /// shortens the read hold if the router now allows less of one.
    /// Whether it heard a lower priority while Active.
    pub(super) fn drain_outputs(&mut self, i: usize, now: Instant) -> bool {
        // With a notify FIFO every transition is reported, hooks or not.
        let report_all = !self.config.global.notify_fifos.is_empty();
        let Engine {
            instances,
            actions,
            hold: read_hold,
            ..
        } = self;
        let inst = &mut instances[i];
        let id = inst.id;
        let mut installed = false;
        let mut lower_heard = false;
        let priority = inst.router.priority().get();
        if priority != inst.published_priority {
            actions.push_back(Action::Publish(Event::PriorityChanged {
                instance: id,
                from: inst.published_priority,
                to: priority,
            }));
            inst.published_priority = priority;
        }
        while let Some(output) = inst.router.poll_output() {
            match output {
                Output::InstallAddresses => {
                    actions.push_back(Action::InstallAddresses {
                        instance: id,
                        which: Addresses::All,
                    });
                    inst.installs_in_flight += 1;
                    installed = true;
                }
                Output::SendAdvertisement(transmit) => {
                    // The router advertises first. But after the kernel
                    // refused its VIPs, a retry holds its adverts (the
                    // latest one) until the install succeeds: else every
                    // retry would make the Active step down for a router
                    // that then gives up at once. Only a takeover, which
                    // installs, makes a router with failures advertise.
                    if inst.address_failures > 0 && !transmit.priority.is_shutdown() {
                        inst.held_advert = Some(transmit);
                    } else {
                        actions.push_back(Action::SendAdvertisement {
                            instance: id,
                            transmit,
                        });
                    }
                }
                Output::Announce => {
                    // A new timeline, once the addresses are on the host.
                    inst.schedule.stop();
                    inst.announce_after_install = inst.announced().collect();
                    inst.announce_started = 0;
                    if inst.installs_in_flight == 0 {
                        start_announcing(actions, inst, now);
                    }
                }
                Output::LowerPriorityHeard { from, priority } => {
                    info!(instance = inst.name(), %from, priority = priority.get(),
                        "an advert of lower priority: announcing the addresses again");
                    inst.announce_to_lower(now);
                    if let Some(s) = inst.lower_schedule.as_deref_mut() {
                        announce_due_of(actions, inst.id, s, now);
                    }
                    lower_heard = true;
                    if inst.config.notify.master_rx_lower_pri.is_some() || report_all {
                        actions.push_back(Action::Notify(Transition {
                            target: Target::Instance(inst.config.name.clone()),
                            state: HookState::MasterRxLowerPri,
                            previous: None,
                            priority: inst.router.priority().get(),
                        }));
                    }
                }
                Output::RemoveAddresses => {
                    inst.lower_schedule = None;
                    inst.schedule.stop();
                    inst.announce_after_install.clear();
                    inst.announce_started = 0;
                    inst.held_advert = None;
                    inst.installs_undone = inst.installs_in_flight;
                    actions.push_back(Action::RemoveAddresses { instance: id });
                }
                Output::StateChanged { from, to, reason } => {
                    inst.extra.transition(from, to, reason);
                    actions.push_back(Action::Publish(Event::StateChanged {
                        instance: id,
                        from,
                        to,
                        reason,
                        priority: inst.router.priority().get(),
                        takeover_since: (to == State::Active)
                            .then(|| inst.timer_deadline.unwrap_or(now)),
                    }));
                    if from == State::Active || to == State::Active {
                        inst.schedule_extra_interfaces(now, to == State::Active);
                    }
                    info!(
                        instance = inst.name(),
                        vrid = inst.vrid(),
                        %from,
                        %to,
                        reason = reason.as_str(),
                        priority = inst.router.priority().get(),
                        "state change: {} {from} -> {to} ({})",
                        inst.name(),
                        reason.as_str()
                    );
                    if let Some(t) = transition(inst, from, to, report_all) {
                        actions.push_back(Action::Notify(t));
                    }
                }
                Output::LegacyChecksumAdopted { from } => {
                    // keepalived logs "Setting unicast VRRPv3 checksum to
                    // old version".
                    info!(instance = inst.name(), %from,
                        "the peer sums unicast adverts the old way (keepalived <= 1.3.6): \
                         sending ours that way too (old_unicast_checksum)");
                }
                other => debug!(instance = inst.name(), ?other, "unhandled output"),
            }
        }
        if installed {
            // After the install (the shell's worker reports the install
            // before it settles).
            actions.push_back(Action::SettleAddresses);
        }
        read_hold.lower(hold::allowed(inst), now);
        lower_heard
    }

    /// keepalived announces again for the other Active members of the
    /// sync group of instance `i` too, when `i` hears a lower priority.
    fn lower_heard_by_group(&mut self, i: usize, now: Instant) {
        let name = &self.instances[i].config.name;
        let Some(g) = self.groups.iter().find(|g| g.members.contains(name)) else {
            return;
        };
        let members = g.members.clone();
        for (j, inst) in self.instances.iter_mut().enumerate() {
            if j != i && members.contains(&inst.config.name) {
                inst.announce_to_lower(now);
                if let Some(s) = inst.lower_schedule.as_deref_mut() {
                    announce_due_of(&mut self.actions, inst.id, s, now);
                }
                self.deadlines.touch(j);
            }
        }
    }
}

/// Announces every address `inst` waited to announce until it was
/// installed, and forgets the list.
pub(super) fn start_announcing(
    actions: &mut std::collections::VecDeque<Action>,
    inst: &mut super::instance::Instance,
    now: Instant,
) {
    announce_ready(actions, inst, now, usize::MAX);
    inst.announce_after_install.clear();
    inst.announce_started = 0;
}

/// Announces the first `ready` addresses `inst` waits to announce, those
/// not announced yet, and queues what is due at `now`: each one's burst
/// begins once it is on the host, while the rest are still being added.
pub(super) fn announce_ready(
    actions: &mut std::collections::VecDeque<Action>,
    inst: &mut super::instance::Instance,
    now: Instant,
    ready: usize,
) {
    let end = ready.min(inst.announce_after_install.len());
    let from = inst.announce_started;
    if end > from {
        let more = inst.announce_after_install[from..end].to_vec();
        inst.schedule.extend(now, more);
        inst.announce_started = end;
        announce_due(actions, inst, now);
    }
}

/// Queues every announcement of `schedule` (instance `id`'s) due at `now`.
pub(super) fn announce_due_of(
    actions: &mut std::collections::VecDeque<Action>,
    id: super::action::InstanceId,
    schedule: &mut vrrp_arp::AnnouncementSchedule,
    now: Instant,
) {
    while let Some(due) = schedule.poll_due(now) {
        actions.push_back(Action::Announce {
            instance: id,
            address: due.addr,
        });
    }
}

/// Queues every announcement of `inst` that is due at `now`.
pub(super) fn announce_due(
    actions: &mut std::collections::VecDeque<Action>,
    inst: &mut super::instance::Instance,
    now: Instant,
) {
    announce_due_of(actions, inst.id, &mut inst.schedule, now);
}

/// The hook call for a transition of `inst`, if it has hooks and the
/// transition is reported (not the first one out of Initialize).
fn transition(
    inst: &super::instance::Instance,
    from: State,
    to: State,
    report_all: bool,
) -> Option<Transition> {
    let state = match (HookState::from_router(to), from) {
        (Some(s), _) => s,
        (None, State::Initialize) => return None,
        (None, _) if !inst.removed_by_reload => HookState::Stop,
        // keepalived: DELETED with notify_deleted; otherwise FAULT, and
        // nothing for an instance that was in Fault.
        (None, _) if inst.config.notify.report_deleted => HookState::Deleted,
        (None, State::Fault) => return None,
        (None, _) => HookState::Fault,
    };
    if inst.config.notify.is_empty() && !report_all {
        return None;
    }
    Some(Transition {
        target: Target::Instance(inst.config.name.clone()),
        state,
        previous: HookState::from_router(from),
        priority: inst.router.priority().get(),
    })
}
