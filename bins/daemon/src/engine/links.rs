//! Link and address changes: link state drives `set_link_up` and
//! `track_interface`, a deleted interface parks its instances
//! ([`super::waiting`]), and a VIP someone else removed while we are
//! Active is added back.

use std::net::IpAddr;
use std::time::Instant;

use tracing::{info, warn};
use vrrp_core::router::State;

use super::Engine;
use super::action::{Action, Addresses, InstanceId, LinkState};
use super::event::Event;

impl Engine {
    /// Interface `ifindex` (named `name`) came up, went down or was
    /// deleted; waiting instances are tried again at once. A change of an
    /// interface with `interface_up_down_delays` waits out its delay.
    pub fn handle_link(&mut self, now: Instant, ifindex: u32, name: &str, state: LinkState) {
        self.finish_due();
        let delays = self.link_delays(name);
        if self.debounce.hold(now, ifindex, name, state, delays) {
            return;
        }
        self.apply_link(now, ifindex, name, state);
    }

    /// The link changes whose delay ran out by `now`.
    pub(super) fn apply_delayed_links(&mut self, now: Instant) {
        for (ifindex, name, state) in self.debounce.take_due(now) {
            info!(interface = %name, ?state, "delayed link change applies");
            self.apply_link(now, ifindex, &name, state);
        }
    }

    /// `name`'s `interface_up_down_delays`: its own, or for a vmac its
    /// parent's.
    fn link_delays(&self, name: &str) -> Option<crate::config::LinkDelays> {
        let delays = &self.config.global.link_delays;
        if delays.is_empty() {
            return None;
        }
        if let Some(d) = delays.get(name) {
            return Some(*d);
        }
        self.instances
            .iter()
            .find(|i| i.config.vmac_name().as_deref() == Some(name))
            .and_then(|i| delays.get(&i.config.interface).copied())
    }

    /// Applies a link change to the instances.
    fn apply_link(&mut self, now: Instant, ifindex: u32, name: &str, state: LinkState) {
        self.finish_due();
        let up = state == LinkState::Up;
        for i in 0..self.instances.len() {
            if self.instances[i].tracking.link(name, up) {
                self.actions
                    .push_back(Action::Publish(Event::TrackerChanged {
                        instance: self.instances[i].id,
                        kind: super::tracking::LINK_KIND,
                        name: name.to_string(),
                        up,
                    }));
                self.apply_tracking(i, now);
            }
            let inst = &mut self.instances[i];
            if inst.ifindex != ifindex || inst.link_up == up {
                continue;
            }
            inst.link_up = up;
            info!(
                instance = inst.name(),
                interface = name,
                up,
                "link state changed"
            );
            if !inst.config.dont_track_primary {
                inst.router.set_link_up(now, up);
                self.drain(i, now);
            }
        }
        if state == LinkState::Removed {
            self.link_removed(now, ifindex, name);
        } else {
            self.retry_waiting_soon(now);
        }
    }

    /// Address `address` was added to (`present`) or removed from interface
    /// `ifindex`: an instance that tracks it as its source address
    /// (keepalived `track_src_ip`) goes to Fault without it and back with it.
    pub fn handle_address(&mut self, now: Instant, ifindex: u32, address: IpAddr, present: bool) {
        self.finish_due();
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            let tracks = inst.config.track_source_address
                && inst.config.source_address == Some(address)
                && inst.depends_on(ifindex);
            if tracks && inst.tracking.source_address(present) {
                self.actions
                    .push_back(Action::Publish(Event::TrackerChanged {
                        instance: inst.id,
                        kind: super::tracking::SOURCE_KIND,
                        name: address.to_string(),
                        up: present,
                    }));
                info!(instance = inst.name(), %address, present,
                    "the source address changed (track_src_ip)");
                self.apply_tracking(i, now);
            }
        }
    }

    /// A link or address appeared or changed: a waiting instance may be
    /// able to start, so try them now rather than at the next retry.
    pub fn retry_waiting_soon(&mut self, now: Instant) {
        self.finish_due();
        if !self.waiting.is_empty() {
            self.retry_waiting(now);
        }
    }

    /// Address `index` of instance `id` (see [`Addresses`]) was removed from
    /// the host, and `still_ours` says whether the ledger still holds it
    /// (it does unless we removed it). If the instance is Active it is added
    /// back: returns whether it was.
    pub fn handle_address_removed(
        &mut self,
        now: Instant,
        id: InstanceId,
        index: usize,
        still_ours: bool,
    ) -> bool {
        self.finish_due();
        let Some(i) = self.index_of(id) else {
            return false;
        };
        let inst = &self.instances[i];
        if inst.router.state() != State::Active || !(still_ours || inst.link_up) {
            return false;
        }
        let address = inst.announced().nth(index);
        warn!(instance = inst.name(), address = ?address,
            "virtual address removed by someone else while Active: adding it back");
        self.actions.push_back(Action::InstallAddresses {
            instance: id,
            which: Addresses::One(index),
        });
        self.instances[i].installs_in_flight += 1;
        self.actions.push_back(Action::SettleAddresses);
        self.drain(i, now);
        true
    }
}
