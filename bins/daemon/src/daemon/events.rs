//! Netlink events to engine inputs: link changes, and a VIP someone else
//! removed (the shell knows which instance's address it is, the address
//! worker whether the ledger still holds it, and the engine decides
//! whether to add it back).

use std::time::Instant;

use vrrp_netaddr::Event;

use super::shell::Shell;
use crate::engine::LinkState;

impl Shell {
    /// Applies one netlink event, then carries out what the engine asks.
    pub(crate) fn on_event(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::LinkUp(link) => {
                self.engine
                    .handle_link(now, link.index.get(), &link.name, LinkState::Up);
            }
            Event::LinkDown(link) => {
                self.announcer.forget(link.index.get());
                self.engine
                    .handle_link(now, link.index.get(), &link.name, LinkState::Down);
            }
            Event::LinkRemoved(link) => {
                self.announcer.forget(link.index.get());
                self.engine
                    .handle_link(now, link.index.get(), &link.name, LinkState::Removed);
            }
            Event::LinkChanged(_) | Event::AddressAdded { .. } => {
                self.engine.retry_waiting_soon(now);
            }
            Event::AddressRemoved { address, .. } => {
                // Whether it is still ours is the ledger's to say, and the
                // ledger is the worker's: the answer comes back in order.
                let engine = &self.engine;
                let candidates: Vec<_> = self
                    .hosts
                    .iter()
                    .filter(|&(id, _)| engine.is_active(id))
                    .filter_map(|(id, host)| {
                        let k = host
                            .addresses
                            .iter()
                            .position(|s| address.matches(s.ifindex, s.prefix))?;
                        let spec = &host.addresses[k];
                        Some((id, k, spec.ifindex, spec.prefix))
                    })
                    .collect();
                if !candidates.is_empty() {
                    self.addresses.check_removed(candidates);
                }
            }
            Event::Resync => self.resync(now),
            _ => {}
        }
        self.run_actions(now);
    }

    /// The event stream lost events: every instance's interface is looked
    /// up again and its state handed to the engine as if it had changed.
    fn resync(&mut self, now: Instant) {
        let mut seen = Vec::new();
        for host in self.hosts.values() {
            let state = match self.netlink.link_by_index(host.link.index) {
                Ok(link) if link.is_up() => LinkState::Up,
                Ok(_) => LinkState::Down,
                Err(vrrp_netaddr::Error::NoSuchInterface(_)) => LinkState::Removed,
                Err(_) => continue,
            };
            let entry = (host.link.index.get(), host.link.name.clone(), state);
            if !seen.contains(&entry) {
                seen.push(entry);
            }
        }
        for (ifindex, name, state) in seen {
            self.engine.handle_link(now, ifindex, &name, state);
        }
        self.engine.retry_waiting_soon(now);
    }
}
