//! SIGHUP reload: diff the running configuration against a new one.
//!
//! - An instance whose configuration (and the global settings it depends
//!   on) is unchanged keeps its router, state and addresses: no
//!   transition, no VIP flap.
//! - A changed instance is stopped (priority 0 if Active, addresses
//!   removed) and started again from the new configuration.
//! - A removed instance is stopped; a new one is started.
//!
//! Every new or changed instance is resolved (interface, addresses,
//! socket) before anything is stopped: if one cannot be, the reload is
//! rejected with a logged error and the old configuration keeps running.

use std::time::Instant;

use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::driver::Driver;
use super::instance::Instance;
use super::io::Datagram;
use crate::config::{Config, Global};

/// Whether a change of the global settings from `old` to `new` changes
/// what an instance runs (its advert checksum form).
fn instances_affected(old: &Global, new: &Global) -> bool {
    old.v3_ipv4_checksum != new.v3_ipv4_checksum
}

/// Whether what instance `name` depends on besides its own table (its
/// sync group, the named trackers it and its group use) is the same in
/// `old` and `new`.
fn same_context(old: &Config, new: &Config, name: &str) -> bool {
    let (Some(oi), Some(ni)) = (old.instance(name), new.instance(name)) else {
        return false;
    };
    let og = old.group_of(name);
    if og != new.group_of(name) {
        return false;
    }
    let sets = [Some(&oi.tracking), og.map(|g| &g.tracking)];
    let _ = ni;
    sets.into_iter().flatten().all(|set| {
        set.scripts
            .iter()
            .all(|r| old.track_script.get(&r.name) == new.track_script.get(&r.name))
            && set
                .tcp
                .iter()
                .all(|r| old.track_tcp.get(&r.name) == new.track_tcp.get(&r.name))
            && set
                .http
                .iter()
                .all(|r| old.track_http.get(&r.name) == new.track_http.get(&r.name))
            && set
                .files
                .iter()
                .all(|r| old.track_file.get(&r.name) == new.track_file.get(&r.name))
    })
}

impl Driver {
    /// Applies `config`; see the [module docs](self).
    pub(super) fn reload(
        &mut self,
        config: &Config,
        tx: &mpsc::UnboundedSender<Datagram>,
    ) -> Result<String, String> {
        let now = Instant::now();
        if config.global.state_dir != self.config.global.state_dir
            || config.global.control_socket != self.config.global.control_socket
        {
            warn!("state_dir and control_socket changes take effect at the next restart");
        }
        let all_changed = instances_affected(&self.config.global, &config.global);
        let old_config = self.config.clone();
        let keep = |old: &Instance| -> bool {
            !all_changed
                && config.instance(old.name()) == Some(&old.config)
                && same_context(&old_config, config, old.name())
        };
        // Resolve every new or changed instance first.
        let old_global = std::mem::replace(&mut self.config, config.clone());
        let mut fresh = Vec::new();
        for ic in &config.instances {
            let unchanged = self
                .instances
                .iter()
                .any(|old| old.name() == ic.name && keep(old));
            if unchanged {
                continue;
            }
            match self.build(ic, tx) {
                Ok(inst) => fresh.push(inst),
                Err(e) => {
                    error!(error = %e, "reload rejected: the running configuration stays");
                    self.config = old_global;
                    return Err(format!("reload rejected: {e}"));
                }
            }
        }
        // Stop what changed or went away.
        let mut i = 0;
        let mut stopped = 0;
        while i < self.instances.len() {
            if keep(&self.instances[i]) {
                i += 1;
                continue;
            }
            self.instances[i].router.shutdown(now);
            self.drain(i, now);
            let mut old = self.instances.remove(i);
            if let Some(v) = old.vmac.take() {
                // A new instance may have picked the same macvlan up; it
                // inherits it, and deletes it at stop.
                match fresh
                    .iter_mut()
                    .filter_map(|f| f.vmac.as_mut())
                    .find(|f| f.link.index == v.link.index)
                {
                    Some(f) => f.created |= v.created,
                    None => v.teardown(&mut self.addrs.handle),
                }
            }
            stopped += 1;
        }
        // Start the new ones, in file order after the kept ones.
        let started = fresh.len();
        let kept = self.instances.len();
        for inst in fresh {
            self.instances.push(inst);
            let i = self.instances.len() - 1;
            self.start(i, now);
        }
        self.spawn_trackers();
        self.groups = super::groups::build(config);
        // Keep the file order for status output.
        let order = |name: &str| config.instances.iter().position(|c| c.name == name);
        self.instances.sort_by_key(|inst| order(inst.name()));
        info!(kept, stopped, started, "configuration reloaded");
        Ok(format!(
            "reloaded: {kept} kept, {stopped} stopped, {started} started"
        ))
    }
}
