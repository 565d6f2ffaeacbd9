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
//! socket) before anything is stopped: if one cannot run at all, the
//! reload is rejected with a logged error and the old configuration keeps
//! running. One whose interface is missing waits for it, as at start-up.
//! Sockets no instance uses any more are closed.

use std::time::Instant;

use tracing::{error, info, warn};

use super::driver::Driver;
use super::instance::Instance;
use crate::config::{self, Config, Global};

/// Whether a change of the global settings from `old` to `new` changes
/// what an instance runs (its advert checksum form).
fn instances_affected(old: &Global, new: &Global) -> bool {
    old.v3_ipv4_checksum != new.v3_ipv4_checksum
}

/// Whether what the instance with table `oi` depends on besides that table
/// (its sync group, the named trackers it and its group use) is the same in
/// `old` and `new`. `old` has no instance list (see [`Driver::config`]).
fn same_context(old: &Config, oi: &config::Instance, new: &Config) -> bool {
    let name = oi.name.as_str();
    if new.instance(name).is_none() {
        return false;
    }
    let og = old.group_of(name);
    if og != new.group_of(name) {
        return false;
    }
    let sets = [Some(&oi.tracking), og.map(|g| &g.tracking)];
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
    pub(super) fn reload(&mut self, config: &Config) -> Result<String, String> {
        let now = Instant::now();
        if config.global.state_dir != self.config.global.state_dir
            || config.global.control_socket != self.config.global.control_socket
        {
            warn!("state_dir and control_socket changes take effect at the next restart");
        }
        let all_changed = instances_affected(&self.config.global, &config.global);
        let old_global =
            std::mem::replace(&mut self.config, super::driver::without_instances(config));
        let keep = |old: &Instance| -> bool {
            !all_changed
                && config.instance(old.name()) == Some(&old.config)
                && same_context(&old_global, &old.config, config)
        };
        // Resolve every new or changed instance first.
        let old_order =
            std::mem::replace(&mut self.instance_order, super::driver::file_order(config));
        let old_waiting = std::mem::take(&mut self.waiting);
        let mut fresh = Vec::new();
        for ic in &config.instances {
            let unchanged = self
                .instances
                .iter()
                .any(|old| old.name() == ic.name && keep(old));
            if unchanged {
                continue;
            }
            match self.build_or_wait(ic) {
                Ok(Some(inst)) => fresh.push(inst),
                Ok(None) => {}
                Err(e) => {
                    error!(instance = %ic.name, error = %e,
                        "reload rejected: the running configuration stays");
                    self.config = old_global;
                    self.instance_order = old_order;
                    self.waiting = old_waiting;
                    for inst in fresh {
                        if let Some(v) = inst.vmac {
                            if v.created {
                                v.teardown(&mut self.addrs.handle);
                            }
                        }
                    }
                    self.close_unused_sockets();
                    return Err(format!("reload rejected: instance {}: {e}", ic.name));
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
            self.instances_changed();
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
            self.instances_changed();
            let i = self.instances.len() - 1;
            self.start(i, now);
        }
        self.close_unused_sockets();
        self.spawn_trackers();
        self.groups = super::groups::build(config);
        self.sort_instances();
        let waiting = self.waiting.len();
        info!(kept, stopped, started, waiting, "configuration reloaded");
        Ok(format!(
            "reloaded: {kept} kept, {stopped} stopped, {started} started, {waiting} waiting"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::driver::without_instances;
    use crate::daemon::instance::tests::load;

    const BASE: &str = r#"
[track_file.flag]
path = "/run/vrrpd-test-flag"

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 150
vips = ["198.18.0.100/24"]
track_file = ["flag"]

[[instance]]
name = "B"
interface = "eth0"
vrid = 52
priority = 150
vips = ["198.18.0.101/24"]

[[instance]]
name = "C"
interface = "eth0"
vrid = 53
priority = 150
vips = ["198.18.0.102/24"]
"#;

    /// The running configuration keeps no instance list: the context check
    /// takes the instance's own table, and still sees its trackers, its
    /// group and whether it is still configured.
    #[test]
    fn context_is_judged_from_the_instance_table() {
        let old = load(BASE);
        let running = without_instances(&old);
        assert!(running.instances.is_empty());
        let [a, b, c] = [&old.instances[0], &old.instances[1], &old.instances[2]];
        assert!(same_context(&running, a, &old));
        assert!(same_context(&running, b, &old));

        let moved = load(&BASE.replace("/run/vrrpd-test-flag", "/run/vrrpd-test-other"));
        assert!(!same_context(&running, a, &moved), "A's tracker changed");
        assert!(same_context(&running, b, &moved), "B uses no tracker");

        let grouped = load(&format!(
            "{BASE}\n[[sync_group]]\nname = \"G\"\ninstances = [\"B\", \"C\"]\n"
        ));
        assert!(!same_context(&running, b, &grouped), "B joined a group");
        assert!(same_context(&running, a, &grouped));

        let without_c = load(&BASE.replace("name = \"C\"", "name = \"D\""));
        assert!(!same_context(&running, c, &without_c), "C is gone");
    }
}
