//! Applying a new configuration while running (SIGHUP, `vrrpctl reload`),
//! without blocking the loop: what the reload needs from the host is
//! looked up on the address worker first ([`ReloadLookups`]); when the
//! answer comes back the engine plans and applies the reload at once, in
//! one step. If the host changed in between so that the plan needs an
//! instance that was not looked up (one that went waiting meanwhile), it
//! is looked up again. Reloads run one at a time, in the order they came.

use std::collections::HashMap;

use tracing::{info, warn};

use super::lookup::ReloadLookups;
use super::memory;
use super::reload_queue::ReloadReply;
use super::sdnotify;
use super::shell::Shell;
use crate::config::Config;
use crate::control::Response;
use crate::engine::ReloadSummary;

impl Shell {
    /// Reloads `config`; the outcome goes to `reply` once applied.
    pub(crate) fn reload(&mut self, config: Config, reply: ReloadReply) {
        if self.reloads.in_flight.is_some() {
            self.reloads.queued.push_back((config, reply));
        } else {
            self.look_up_reload(config, reply);
        }
    }

    /// Hands what a reload to `config` needs looked up to the worker.
    fn look_up_reload(&mut self, mut config: Config, reply: ReloadReply) {
        sdnotify::notify("RELOADING=1");
        let running = &self.engine.config().global;
        if config.global.net_namespace != running.net_namespace {
            // keepalived: "the namespace cannot be changed on a
            // configuration reload".
            warn!(
                running = ?running.net_namespace,
                new = ?config.global.net_namespace,
                "net_namespace cannot change at a reload: restart vrrpd for it"
            );
            config.global.net_namespace = running.net_namespace.clone();
        }
        if config.global.disable_local_igmp != running.disable_local_igmp {
            warn!("disable_local_igmp cannot change at a reload: restart vrrpd for it");
            config.global.disable_local_igmp = running.disable_local_igmp;
        }
        let update = self
            .engine
            .address_updates(&config)
            .into_iter()
            .filter_map(|(id, k)| {
                let host = self.hosts.get(&id)?;
                let default = host.vmac.as_ref().map_or(host.link.index, |v| v.link.index);
                Some((k, default))
            })
            .collect();
        let lookups = ReloadLookups {
            resolve: self.engine.needs_resolving(&config),
            update,
            ..ReloadLookups::default()
        };
        self.reloads.in_flight = Some(reply);
        self.lookups_out += 1;
        self.addresses
            .look_up_reload(Box::new(config), Box::new(lookups));
    }

    /// The worker looked up what the reload to `config` needs: plan and
    /// apply it now (or look again if the host changed in between), then
    /// start the next one.
    pub(super) fn on_reload_looked_up(&mut self, config: Config, lookups: ReloadLookups) {
        let reply = self.reloads.in_flight.take().flatten();
        let old_statics = self.engine.config().statics.clone();
        let plan = self.engine.plan_reload(config);
        let ReloadLookups {
            resolve,
            update,
            hosts,
            specs,
        } = lookups;
        let missing = plan
            .to_resolve_indices()
            .any(|(_, k)| !resolve.contains(&k))
            || self
                .engine
                .address_updates(plan.config())
                .iter()
                .any(|(_, k)| !update.iter().any(|(u, _)| u == k));
        if missing {
            info!("the host changed while a reload was looked up: looking up again");
            self.free_found(hosts);
            self.look_up_reload(plan.into_config(), reply);
            return;
        }
        self.reloads.specs = specs
            .into_iter()
            .filter_map(|(k, s)| Some((plan.config().instances.get(k)?.name.clone(), s)))
            .collect();
        let results = self.finish_all(&plan, hosts);
        let outcome = self.commit(plan, results);
        self.reloads.specs = HashMap::new();
        let message = match outcome {
            Ok(summary) => {
                let new_statics = self.engine.config().statics.clone();
                self.addresses.replace_statics(old_statics, new_statics);
                self.spawn_trackers();
                let ReloadSummary {
                    kept,
                    updated,
                    stopped,
                    started,
                    waiting,
                } = summary;
                info!(
                    kept,
                    updated, stopped, started, waiting, "configuration reloaded"
                );
                Ok(format!("reloaded: {summary}"))
            }
            Err(e) => {
                tracing::error!(error = %e, "reload rejected: the running configuration stays");
                Err(format!("reload rejected: {e}"))
            }
        };
        memory::return_free_memory();
        sdnotify::notify("READY=1");
        if let Some(reply) = reply {
            let _ = reply.send(Response::Reloaded {
                ok: message.is_ok(),
                message: message.unwrap_or_else(|e| e),
            });
        }
        if let Some((config, reply)) = self.reloads.queued.pop_front() {
            self.look_up_reload(config, reply);
        }
    }
}
