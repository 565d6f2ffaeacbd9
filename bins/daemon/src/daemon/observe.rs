//! What the shell tells observers: the engine's [`Event`]s become
//! [`WatchEvent`]s for `vrrpctl watch` clients (a broadcast channel; with
//! no client, nothing is built), and the shell times two things for the
//! metrics ([`Timings`]): each takeover to its first announcement, and
//! each install of an instance's VIPs.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

use crate::control::{WATCH_BACKLOG, WatchEvent};
use crate::engine::{Engine, Event, InstanceId};
use crate::metrics::Timings;

/// The observers' side of the shell.
#[derive(Debug)]
pub(crate) struct Observers {
    /// `vrrpctl watch` clients subscribe here (through the control socket).
    pub(crate) events: broadcast::Sender<WatchEvent>,
    /// The metrics' histograms.
    pub(crate) timings: Timings,
    /// Takeovers not announced yet: since when each is due.
    takeovers: HashMap<InstanceId, Instant>,
    /// Installs of all of an instance's VIPs in flight: since when.
    installs: HashMap<InstanceId, Instant>,
}

impl Default for Observers {
    fn default() -> Self {
        Observers {
            events: broadcast::channel(WATCH_BACKLOG).0,
            timings: Timings::default(),
            takeovers: HashMap::new(),
            installs: HashMap::new(),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Observers {
    /// An event from the engine: a takeover starts its clock; every event
    /// goes to the watch clients, if there are any.
    pub(crate) fn publish(&mut self, engine: &Engine, event: Event) {
        if let Event::StateChanged {
            instance,
            takeover_since,
            ..
        } = &event
        {
            match takeover_since {
                Some(since) => self.takeovers.insert(*instance, *since),
                None => self.takeovers.remove(instance),
            };
        }
        if self.events.receiver_count() == 0 {
            return;
        }
        let name = |id: InstanceId| engine.instance_name(id).unwrap_or("?").to_string();
        let at_unix_ms = unix_ms();
        let watch = match event {
            Event::StateChanged {
                instance,
                from,
                to,
                reason,
                priority,
                ..
            } => WatchEvent::State {
                at_unix_ms,
                instance: name(instance),
                from: from.as_str().to_string(),
                to: to.as_str().to_string(),
                reason: reason.as_str().to_string(),
                priority,
            },
            Event::PriorityChanged { instance, from, to } => WatchEvent::Priority {
                at_unix_ms,
                instance: name(instance),
                from,
                to,
            },
            Event::TrackerChanged {
                instance,
                kind,
                name: tracker,
                up,
            } => WatchEvent::Tracker {
                at_unix_ms,
                instance: name(instance),
                kind: kind.to_string(),
                name: tracker,
                up,
            },
            Event::Discarded { instance, reason } => WatchEvent::Discard {
                at_unix_ms,
                instance: instance.map(name),
                reason: reason.to_string(),
            },
        };
        // No receiver left is not an error.
        let _ = self.events.send(watch);
    }

    /// An announcement of `instance` is going out: the first after a
    /// takeover ends that takeover's clock.
    pub(crate) fn announcing(&mut self, instance: InstanceId) {
        if let Some(since) = self.takeovers.remove(&instance) {
            self.timings
                .observe_takeover(Instant::now().saturating_duration_since(since));
        }
    }

    /// All of `instance`'s VIPs were handed to the address worker.
    pub(crate) fn install_started(&mut self, instance: InstanceId) {
        self.installs.insert(instance, Instant::now());
    }

    /// The worker reported `instance`'s install: timed if it succeeded.
    pub(crate) fn install_done(&mut self, instance: InstanceId, ok: bool) {
        if let Some(since) = self.installs.remove(&instance) {
            if ok {
                self.timings
                    .observe_vip_install(Instant::now().saturating_duration_since(since));
            }
        }
    }

    /// `instance` is gone: forget its clocks.
    pub(crate) fn forget(&mut self, instance: InstanceId) {
        self.takeovers.remove(&instance);
        self.installs.remove(&instance);
    }
}
