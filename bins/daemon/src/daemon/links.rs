//! Link and address events from netaddr: link state drives
//! `set_link_up` and `track_interface`, a deleted interface parks its
//! instances ([`super::waiting`]), and a VIP someone else removed while we
//! are Active is added back.

use std::time::Instant;

use tracing::{info, warn};
use vrrp_core::router::State;
use vrrp_netaddr::{Event, Link};

use super::driver::Driver;
use super::refused::install_addresses;

impl Driver {
    /// Applies one netlink event.
    pub(super) fn on_event(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::LinkUp(link) => {
                self.link_changed(&link, true, now);
                self.retry_waiting_soon(now);
            }
            Event::LinkDown(link) => {
                self.announcer.forget(link.index.get());
                self.link_changed(&link, false, now);
                self.retry_waiting_soon(now);
            }
            Event::LinkRemoved(link) => {
                self.announcer.forget(link.index.get());
                self.link_changed(&link, false, now);
                self.link_removed(&link, now);
            }
            Event::LinkChanged(_) | Event::AddressAdded { .. } => self.retry_waiting_soon(now),
            Event::AddressRemoved { address, .. } => {
                for i in 0..self.instances.len() {
                    let inst = &self.instances[i];
                    if inst.router.state() != State::Active {
                        continue;
                    }
                    let Some(spec) = inst
                        .addresses
                        .iter()
                        .find(|s| address.matches(s.ifindex, s.prefix))
                    else {
                        continue;
                    };
                    // The ledger still claims it only if we did not remove it.
                    if self.addrs.owns(spec.ifindex, spec.prefix) || inst.link_up {
                        warn!(instance = inst.name(), address = %spec.prefix,
                            "virtual address removed by someone else while Active: adding it back");
                        let spec = spec.clone();
                        install_addresses(
                            &mut self.addrs,
                            &mut self.instances[i],
                            std::slice::from_ref(&spec),
                            now,
                        );
                        self.drain(i, now);
                        break;
                    }
                }
            }
            Event::Resync => {
                let mut links = Vec::new();
                let mut gone = Vec::new();
                for inst in &self.instances {
                    match self.addrs.handle.link_by_index(inst.link.index) {
                        Ok(link) => links.push(link),
                        Err(vrrp_netaddr::Error::NoSuchInterface(_)) => {
                            gone.push(inst.link.clone());
                        }
                        Err(_) => {}
                    }
                }
                for link in links {
                    let up = link.is_up();
                    self.link_changed(&link, up, now);
                }
                for link in gone {
                    self.link_changed(&link, false, now);
                    self.link_removed(&link, now);
                }
                self.retry_waiting_soon(now);
            }
            _ => {}
        }
    }

    /// A link or address appeared or changed: a waiting instance may be
    /// able to start, so try them now rather than at the next retry.
    fn retry_waiting_soon(&mut self, now: Instant) {
        if !self.waiting.is_empty() {
            self.retry_waiting(now);
        }
    }

    pub(super) fn link_changed(&mut self, link: &Link, up: bool, now: Instant) {
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.tracking.link(&link.name, up) {
                inst.tracking.apply(now, &mut inst.router);
                self.drain(i, now);
            }
            let inst = &mut self.instances[i];
            if inst.link.index != link.index || inst.link_up == up {
                continue;
            }
            inst.link_up = up;
            info!(instance = inst.name(), interface = %link.name, up, "link state changed");
            if !inst.config.dont_track_primary {
                inst.router.set_link_up(now, up);
                self.drain(i, now);
            }
        }
    }
}
