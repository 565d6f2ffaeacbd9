//! The metrics endpoint (issue #27): the daemon's state and counters in the
//! Prometheus text format (version 0.0.4) and in OpenMetrics, as the
//! scraper's `Accept` header asks, from a plain HTTP listener that is off
//! unless `metrics_listen` (or `vrrpd --metrics-listen`) names an address.
//!
//! Each scrape asks the event loop for the same answers `vrrpctl status`,
//! `stats` and `lvs` get ([`crate::control`]), and builds the families
//! from them off the loop with prometheus-client; only the two latency
//! histograms ([`Timings`]) live between scrapes, fed by the shell.
//!
//! The names follow Prometheus conventions: `vrrp_instance_*` per VRRP
//! instance (labelled `vrrp_instance`, `interface`, `vrid`: `instance` is
//! the label Prometheus gives each target), `vrrp_tracker_*` per tracker, `vrrp_vip_installed`,
//! `vrrp_takeover_latency_seconds`, `vrrp_vip_install_duration_seconds`,
//! `lvs_*` for the LVS half, `vrrpd_build_info` and the standard
//! `process_*`. docs/operations.md lists them all.

mod encode;
mod families;
mod http;
mod lvs_families;
mod process;

use std::time::Duration;

use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

pub use encode::{Format, Snapshot, encode};
pub use http::{BadRequest, MetricsError, MetricsRequest, parse_request_head, serve};
pub use process::ProcessStats;

/// The latency histograms, shared by the shell (which observes) and the
/// endpoint (which reads). Cloning shares them.
#[derive(Debug, Clone)]
pub struct Timings {
    /// From the Master_Down deadline that fired (or the input that made
    /// the instance Active) to its first gratuitous ARP / unsolicited NA.
    pub(crate) takeover: Histogram,
    /// From handing an instance's VIPs to the address worker to the
    /// kernel's confirmation of all of them.
    pub(crate) vip_install: Histogram,
}

impl Default for Timings {
    fn default() -> Self {
        // 0.1 ms to about 3.3 s: a takeover's announcement is due within
        // milliseconds of its deadline, a 2,000-VIP install within a second.
        let buckets = || exponential_buckets(0.0001, 2.0, 16);
        Timings {
            takeover: Histogram::new(buckets()),
            vip_install: Histogram::new(buckets()),
        }
    }
}

impl Timings {
    /// Records a takeover's latency to its first announcement.
    pub fn observe_takeover(&self, latency: Duration) {
        self.takeover.observe(latency.as_secs_f64());
    }

    /// Records how long an install of an instance's VIPs took.
    pub fn observe_vip_install(&self, took: Duration) {
        self.vip_install.observe(took.as_secs_f64());
    }
}
