//! Trackers to priorities: each instance keeps a [`vrrp_core::Tracking`]
//! fed by `track_interface` (netaddr link events) and the named trackers'
//! tasks (`track_script`, `track_tcp`, `track_http`, `track_file`, from
//! [`crate::track`]). A sync group's trackers act on every member.

use std::time::Instant;
use tracing::warn;

use vrrp_core::router::VirtualRouter;
use vrrp_core::{TrackerId, Weight};

use super::action::Resolved;
use crate::config::{self, Config, TrackRef};
use crate::control::TrackerStatus;
use crate::track::{self, Observation, TrackerKind, TrackerUpdate};

/// [`TrackerStatus::kind`] of a `track_interface` entry.
pub(crate) const LINK_KIND: &str = "track_interface";
/// [`TrackerStatus::kind`] of the `track_src_ip` entry.
pub(crate) const SOURCE_KIND: &str = "track_src_ip";

/// How one registered tracker maps to the instance's [`vrrp_core::Tracking`].
#[derive(Debug, Clone)]
struct Binding {
    id: TrackerId,
    /// keepalived `reverse`: the result is inverted (and the weight negated).
    reverse: bool,
}

/// The trackers of one instance.
#[derive(Debug, Clone)]
pub(crate) struct InstanceTracking {
    tracking: vrrp_core::Tracking,
    interfaces: Vec<(String, Binding)>,
    named: Vec<(TrackerKind, String, Binding)>,
    /// keepalived's `track_src_ip`: the source address on the interface.
    source: Option<TrackerId>,
}

/// The core weight and first state for a configured weight and result.
fn binary(weight: config::Weight, up: bool) -> (Weight, bool) {
    let value = i16::try_from(weight.value.clamp(-253, 253)).unwrap_or(0);
    let value = if weight.reverse { -value } else { value };
    (Weight::from_keepalived(value), up != weight.reverse)
}

impl InstanceTracking {
    /// The trackers `ic` (and its sync group) refer to, with their first
    /// results: interfaces and files as the shell `resolved` them, the
    /// others as [`track::initial_up`] says.
    pub(crate) fn new(config: &Config, ic: &config::Instance, resolved: &Resolved) -> Self {
        let mut t = InstanceTracking {
            tracking: vrrp_core::Tracking::new(vrrp_core::Priority::new(ic.priority.get())),
            interfaces: Vec::new(),
            named: Vec::new(),
            source: None,
        };
        // Interfaces of tracked routes and rules: weight 0, as keepalived.
        let routing = config::Tracking {
            interfaces: ic
                .routing_links()
                .into_iter()
                .chain(config.statics.links_tracked_by(&ic.name))
                .map(|interface| config::TrackInterface {
                    interface,
                    weight: config::Weight::new(0),
                })
                .collect(),
            ..config::Tracking::default()
        };
        let mut sets = vec![&ic.tracking, &routing];
        if let Some(g) = config.group_of(&ic.name) {
            sets.push(&g.tracking);
        }
        for set in sets {
            for ti in &set.interfaces {
                let up = resolved
                    .tracked_links
                    .iter()
                    .any(|(name, up)| *up && *name == ti.interface);
                let (w, state) = binary(ti.weight, up);
                let id = t.tracking.add(w, state);
                t.interfaces.push((
                    ti.interface.clone(),
                    Binding {
                        id,
                        reverse: ti.weight.reverse,
                    },
                ));
            }
            for (kind, refs) in [
                (TrackerKind::Script, &set.scripts),
                (TrackerKind::Tcp, &set.tcp),
                (TrackerKind::Http, &set.http),
                (TrackerKind::Process, &set.processes),
            ] {
                for r in refs {
                    t.add_named(config, kind, r);
                }
            }
            for r in &set.files {
                let Some(f) = config.track_file.get(&r.name) else {
                    continue;
                };
                let weight = r.weight.unwrap_or(f.weight);
                let w = if weight.reverse {
                    -weight.value
                } else {
                    weight.value
                };
                let value = resolved
                    .tracked_files
                    .iter()
                    .find(|(name, _)| *name == r.name)
                    .map_or(0, |(_, v)| *v);
                let id = t.tracking.add_value(w, value);
                t.named.push((
                    TrackerKind::File,
                    r.name.clone(),
                    Binding { id, reverse: false },
                ));
            }
        }
        if ic.unicast_fault_no_peer && ic.unicast_peers.is_empty() {
            // keepalived: "Cannot use unicast without any peers - going to
            // fault state", until a reload gives it peers.
            warn!(
                instance = %ic.name,
                "unicast_fault_no_peer and no unicast peer: in Fault until a reload gives it one"
            );
            let (w, up) = binary(config::Weight::new(0), false);
            t.tracking.add(w, up);
        }
        if ic.track_source_address && ic.source_address.is_some() {
            let (w, up) = binary(config::Weight::new(0), resolved.source_present);
            t.source = Some(t.tracking.add(w, up));
        }
        t
    }

    fn add_named(&mut self, config: &Config, kind: TrackerKind, r: &TrackRef) {
        let own = match kind {
            TrackerKind::Script => config.track_script.get(&r.name).map(|s| s.weight),
            TrackerKind::Tcp => config.track_tcp.get(&r.name).map(|s| s.weight),
            TrackerKind::Http => config.track_http.get(&r.name).map(|s| s.weight),
            TrackerKind::Process => config.track_process.get(&r.name).map(|s| s.weight),
            TrackerKind::File => None,
        };
        let Some(own) = own else { return };
        let weight = r.weight.unwrap_or(own);
        let (w, state) = binary(weight, track::initial_up(kind, config, &r.name));
        let id = self.tracking.add(w, state);
        self.named.push((
            kind,
            r.name.clone(),
            Binding {
                id,
                reverse: weight.reverse,
            },
        ));
    }

    /// Records a link state; true if a tracker changed.
    pub(crate) fn link(&mut self, interface: &str, up: bool) -> bool {
        let mut changed = false;
        for (name, b) in &self.interfaces {
            if name == interface {
                changed |= self.tracking.set(b.id, up != b.reverse);
            }
        }
        changed
    }

    /// Records whether the tracked source address is on the interface;
    /// true if that changed.
    pub(crate) fn source_address(&mut self, present: bool) -> bool {
        self.source.is_some_and(|id| self.tracking.set(id, present))
    }

    /// Records a named tracker's result; true if a tracker changed.
    pub(crate) fn update(&mut self, u: &TrackerUpdate) -> bool {
        let mut changed = false;
        for (kind, name, b) in &self.named {
            if *kind != u.kind || *name != u.name {
                continue;
            }
            changed |= match u.observation {
                Observation::Up(up) => self.tracking.set(b.id, up != b.reverse),
                Observation::Value(v) => self.tracking.set_value(b.id, v),
            };
        }
        changed
    }

    /// Every tracker with its result and the weight it applies, for
    /// `vrrpctl status` and the metrics.
    pub(crate) fn report(&self, source: Option<&str>) -> Vec<TrackerStatus> {
        let entry = |kind: &str, name: &str, b: &Binding| TrackerStatus {
            kind: kind.to_string(),
            name: name.to_string(),
            up: self.tracking.is_up(b.id) != b.reverse,
            weight_applied: self.tracking.adjustment(b.id),
        };
        let mut out: Vec<TrackerStatus> = self
            .interfaces
            .iter()
            .map(|(name, b)| entry(LINK_KIND, name, b))
            .chain(
                self.named
                    .iter()
                    .map(|(kind, name, b)| entry(kind.as_str(), name, b)),
            )
            .collect();
        if let (Some(id), Some(address)) = (self.source, source) {
            let b = Binding { id, reverse: false };
            out.push(entry(SOURCE_KIND, address, &b));
        }
        out
    }

    /// A named tracker's result as this instance sees it now (before
    /// `reverse`); `None` if the instance does not use it.
    pub(crate) fn result_of(&self, kind: TrackerKind, name: &str) -> Option<bool> {
        self.named
            .iter()
            .find(|(k, n, _)| *k == kind && n == name)
            .map(|(_, _, b)| self.tracking.is_up(b.id) != b.reverse)
    }

    /// Hands the effective priority and fault to `router`.
    pub(crate) fn apply(&self, now: Instant, router: &mut VirtualRouter) {
        self.tracking.apply(now, router);
    }
}

/// Every named tracker some instance or group refers to, once.
/// `instances` are the instance tables, running and waiting;
/// `config`'s own list is not read.
pub(crate) fn used<'a>(
    config: &'a Config,
    instances: impl Iterator<Item = &'a config::Instance>,
) -> Vec<(TrackerKind, String)> {
    let mut out: Vec<(TrackerKind, String)> = Vec::new();
    let sets = instances
        .map(|i| &i.tracking)
        .chain(config.sync_groups.iter().map(|g| &g.tracking));
    for set in sets {
        for (kind, refs) in [
            (TrackerKind::Script, &set.scripts),
            (TrackerKind::Tcp, &set.tcp),
            (TrackerKind::Http, &set.http),
            (TrackerKind::File, &set.files),
            (TrackerKind::Process, &set.processes),
        ] {
            for r in refs {
                let key = (kind, r.name.clone());
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_negates_the_weight_and_inverts_the_result() {
        let plain = config::Weight::new(-20);
        assert_eq!(binary(plain, true), (Weight::Adjust(-20), true));
        let reversed = config::Weight {
            value: 10,
            reverse: true,
        };
        // +10 reversed: 10 is subtracted while the tracker is up.
        assert_eq!(binary(reversed, true), (Weight::Adjust(-10), false));
        assert_eq!(
            binary(config::Weight::new(0), false),
            (Weight::Fault, false)
        );
    }

    #[test]
    fn out_of_range_weights_are_clamped_not_wrapped() {
        assert_eq!(
            binary(config::Weight::new(100_000), true).0,
            Weight::Adjust(253)
        );
        assert_eq!(
            binary(config::Weight::new(-100_000), true).0,
            Weight::Adjust(-253)
        );
    }
}
