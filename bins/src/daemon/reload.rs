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

use super::driver::{Datagram, Driver};
use super::instance::Instance;
use crate::config::{Config, Global};

/// Whether a change of the global settings from `old` to `new` changes
/// what an instance runs (its advert checksum form).
fn instances_affected(old: &Global, new: &Global) -> bool {
    old.v3_ipv4_checksum != new.v3_ipv4_checksum
}

impl Driver {
    /// Applies `config`; see the [module docs](self).
    pub(super) fn reload(&mut self, config: &Config, tx: &mpsc::UnboundedSender<Datagram>) {
        let now = Instant::now();
        if config.global.state_dir != self.global.state_dir
            || config.global.control_socket != self.global.control_socket
        {
            warn!("state_dir and control_socket changes take effect at the next restart");
        }
        let all_changed = instances_affected(&self.global, &config.global);
        let keep = |old: &Instance| -> bool {
            !all_changed && config.instance(old.name()) == Some(&old.config)
        };
        // Resolve every new or changed instance first.
        let old_global = std::mem::replace(&mut self.global, config.global.clone());
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
                    self.global = old_global;
                    return;
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
            self.instances.remove(i);
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
        // Keep the file order for status output.
        let order = |name: &str| config.instances.iter().position(|c| c.name == name);
        self.instances.sort_by_key(|inst| order(inst.name()));
        info!(kept, stopped, started, "configuration reloaded");
    }
}
