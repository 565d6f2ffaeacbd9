//! The loop's packet path: a received datagram is decoded, routed to the
//! instances of its socket and VRID, and handed to their routers; what is
//! refused is counted, and logged at a bounded rate.

use std::collections::HashMap;
use std::time::Instant;

use tracing::debug;

use super::driver::Driver;
use super::io::Datagram;

impl Driver {
    /// Whether a discard line for `key` may be logged now, and how many
    /// were suppressed before it.
    fn log_allowed(&mut self, key: &'static str, now: Instant) -> Option<u64> {
        allowed(self.log_limit.check(key, now))
    }

    pub(super) fn on_datagram(&mut self, dg: &Datagram) {
        let received = match dg.meta.received(&dg.data) {
            Ok(r) => r,
            Err(e) => {
                if let Some(suppressed) = self.log_allowed(e.code(), dg.at) {
                    debug!(src = %dg.meta.src, error = %e, suppressed, "undecodable VRRP packet");
                }
                *self
                    .global_discards
                    .entry(e.code().to_string())
                    .or_default() += 1;
                return;
            }
        };
        let Some(&vrid) = received.payload().get(1) else {
            *self
                .global_discards
                .entry("packet_length".to_string())
                .or_default() += 1;
            return;
        };
        let targets = self.route(dg.socket, vrid);
        let matched = !targets.is_empty();
        for i in targets {
            let inst = &mut self.instances[i];
            if let Err(discard) = inst.router.handle_advertisement(dg.at, &received) {
                inst.extra.discard(discard.code());
                let verdict = self.log_limit.check(discard.code(), dg.at);
                if let Some(suppressed) = allowed(verdict) {
                    let inst = &self.instances[i];
                    debug!(instance = inst.name(), src = %dg.meta.src, ?discard, suppressed, "advertisement discarded");
                }
            }
            self.drain(i, dg.at);
        }
        if !matched {
            if let Some(suppressed) = self.log_allowed("vrid_mismatch", dg.at) {
                debug!(src = %dg.meta.src, vrid, suppressed, "advertisement for a VRID not configured here");
            }
            *self
                .global_discards
                .entry("vrid_mismatch".to_string())
                .or_default() += 1;
        }
    }

    /// The instances that a datagram on `socket` for `vrid` is for.
    fn route(&mut self, socket: usize, vrid: u8) -> Vec<usize> {
        let instances = &self.instances;
        let routes = self.routes.get_or_insert_with(|| {
            let mut m: HashMap<(usize, u8), Vec<usize>> = HashMap::new();
            for (i, inst) in instances.iter().enumerate() {
                m.entry((inst.socket, inst.vrid())).or_default().push(i);
            }
            m
        });
        let found = routes.get(&(socket, vrid)).cloned().unwrap_or_default();
        // A stale table would point at other instances.
        debug_assert!(
            found
                .iter()
                .all(|&i| instances[i].socket == socket && instances[i].vrid() == vrid),
            "stale datagram routes: instances changed without instances_changed()"
        );
        found
    }
}

/// The suppressed count to log with a line, or `None` to drop the line.
fn allowed(verdict: crate::ratelimit::Verdict) -> Option<u64> {
    use crate::ratelimit::Verdict;
    match verdict {
        Verdict::Log => Some(0),
        Verdict::LogAfterSuppressing(n) => Some(n),
        Verdict::Suppress => None,
    }
}
