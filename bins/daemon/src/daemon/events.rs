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
                // The kernel drops an IPv4 route through a link that goes
                // down without a word: the static ones come back with it.
                self.addresses.link_up(link.index);
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
            Event::LinkChanged(_) => self.engine.retry_waiting_soon(now),
            Event::AddressAdded { address, .. } => {
                let (ifindex, ip) = (address.ifindex.get(), address.prefix.addr());
                self.engine.handle_address(now, ifindex, ip, true);
                self.engine.retry_waiting_soon(now);
            }
            Event::AddressRemoved { address, .. } => {
                let (ifindex, ip) = (address.ifindex.get(), address.prefix.addr());
                self.engine.handle_address(now, ifindex, ip, false);
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
            Event::RouteRemoved(route) => {
                self.addresses
                    .routing_removed(vrrp_netaddr::Routing::Route(route));
            }
            Event::RuleRemoved(rule) => {
                self.addresses
                    .routing_removed(vrrp_netaddr::Routing::Rule(rule));
            }
            Event::Resync => self.resync(),
            _ => {}
        }
        self.run_actions(now);
    }

    /// The event stream lost events: the worker looks every instance's
    /// interface up again, and the engine hears each state as if it had
    /// changed ([`super::address_worker::Done::LinkStates`]).
    fn resync(&mut self) {
        let mut links: Vec<(vrrp_netaddr::IfIndex, String)> = Vec::new();
        for host in self.hosts.values() {
            let entry = (host.link.index, host.link.name.clone());
            if !links.contains(&entry) {
                links.push(entry);
            }
        }
        self.addresses.link_states(links);
    }
}
