//! Answering the engine's [`Action::Resolve`](crate::engine::Action::Resolve):
//! the shell looks the interface, source address and VIP devices up,
//! creates the macvlan (keepalived's `use_vmac`), opens (or reuses) the
//! VRRP socket, and keeps the result as a [`Host`] until the instance is
//! released.

use super::host::{Host, address_spec, create_vmac, primary_address};
use super::shell::Shell;
use super::sockets::open_socket;
use crate::config;
use crate::engine::{InstanceId, Resolved, SetupError, SocketId};
use vrrp_netaddr::Link;

/// Each tracked interface's state and each tracked file's value, by name.
type Tracked = (Vec<(String, bool)>, Vec<(String, i64)>);

impl Shell {
    /// Resolves `config` for instance `id` (interface, primary address, VIP
    /// devices, macvlan, socket) and keeps what it holds. Nothing is sent
    /// or installed. Nothing here sleeps: what is not there yet (an
    /// interface, a tentative IPv6 link-local address) is a waiting
    /// [`SetupError`].
    pub(crate) fn resolve(
        &mut self,
        id: InstanceId,
        config: &config::Instance,
    ) -> Result<Resolved, SetupError> {
        let handle = &mut self.netlink;
        let link = handle
            .link_by_name(&config.interface)
            .map_err(|e| SetupError::waiting(format!("interface {}", config.interface), e))?;
        let (primary, primary_prefix_len) = match config.source_address {
            Some(a) => (a, None),
            None => primary_address(handle, config, &link)?,
        };
        // Resolve every VIP's device before creating anything.
        let mut addresses = Vec::new();
        let mut on_default = Vec::new();
        for vip in config.vips.iter().chain(&config.excluded_vips) {
            on_default.push(vip.device.is_none());
            addresses.push(address_spec(handle, vip, link.index)?);
        }
        let vmac = match &config.vmac {
            Some(v) => {
                let state_dir = &self.engine.config().global.state_dir;
                Some(Box::new(create_vmac(handle, state_dir, config, v, &link)?))
            }
            None => None,
        };
        if let Some(v) = &vmac {
            for (spec, default) in addresses.iter_mut().zip(on_default) {
                if default {
                    spec.ifindex = v.link.index;
                }
            }
        }
        let socket = match self.socket_for(config, &link) {
            Ok(id) => id,
            Err(e) => {
                if let Some(v) = vmac {
                    v.teardown(&mut self.netlink);
                }
                return Err(SetupError::waiting(
                    format!("VRRP socket on {}", config.interface),
                    e,
                ));
            }
        };
        let mut also_depends_on: Vec<u32> = vmac.iter().map(|v| v.link.index.get()).collect();
        for a in &addresses {
            let i = a.ifindex.get();
            if i != link.index.get() && !also_depends_on.contains(&i) {
                also_depends_on.push(i);
            }
        }
        let (tracked_links, tracked_files) = self.tracked_now(config);
        let resolved = Resolved {
            socket,
            ifindex: link.index.get(),
            link_up: link.is_up(),
            primary,
            primary_prefix_len,
            also_depends_on,
            tracked_links,
            tracked_files,
        };
        let host = Host {
            name: config.name.clone(),
            link,
            socket,
            primary,
            addresses: addresses.into(),
            vmac,
        };
        self.announcer.prepare(&host);
        self.hosts.insert(id, host);
        Ok(resolved)
    }

    /// The state of every interface and the value of every file that
    /// `config` (and its sync group) tracks, now.
    fn tracked_now(&mut self, config: &config::Instance) -> Tracked {
        let full = self.engine.config();
        let mut sets = vec![&config.tracking];
        if let Some(g) = full.group_of(&config.name) {
            sets.push(&g.tracking);
        }
        let mut links = Vec::new();
        let mut files = Vec::new();
        for set in sets {
            for ti in &set.interfaces {
                let up = self
                    .netlink
                    .link_by_name(&ti.interface)
                    .is_ok_and(|l| l.is_up());
                links.push((ti.interface.clone(), up));
            }
            for r in &set.files {
                if let Some(f) = full.track_file.get(&r.name) {
                    files.push((r.name.clone(), crate::track::read_file_value(&f.path).0));
                }
            }
        }
        (links, files)
    }

    /// The id of the socket for `config`'s family on `link`, opened and
    /// joined to the group if need be.
    fn socket_for(&mut self, config: &config::Instance, link: &Link) -> std::io::Result<SocketId> {
        let family = config.family();
        let found = self
            .sockets
            .iter()
            .find(|(_, s)| s.family == family && s.ifindex == link.index)
            .map(|(&id, _)| id);
        let id = match found {
            Some(id) => id,
            None => {
                let id = self.next_socket;
                self.next_socket += 1;
                let entry =
                    open_socket(&self.socket_set, id, family, &config.interface, link.index)?;
                self.sockets.insert(id, entry);
                id
            }
        };
        if !config.is_unicast() {
            // Joining twice is harmless (EADDRINUSE is ignored; the socket
            // layer keeps the kind but not the errno).
            if let Some(entry) = self.sockets.get(&id) {
                if let Err(e) = entry.socket.join_group() {
                    if e.kind() != std::io::ErrorKind::AddrInUse {
                        return Err(e);
                    }
                }
            }
        }
        Ok(SocketId(id))
    }
}
