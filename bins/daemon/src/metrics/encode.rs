//! The families of one scrape, built with prometheus-client from a
//! [`Snapshot`] of the daemon and the [`Timings`] histograms.

use std::collections::BTreeMap;

use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::families::{Families, Labels, with};
use super::{ProcessStats, Timings};
use crate::control::{InstanceStats, InstanceStatus};
use crate::lvs::VirtualServerStatus;

/// What the daemon answered for one scrape.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// `vrrpctl status`: every instance.
    pub status: Vec<InstanceStatus>,
    /// `vrrpctl stats`: every instance's counters.
    pub stats: Vec<InstanceStats>,
    /// Packets refused before they reached an instance, by reason.
    pub global_discards: BTreeMap<String, u64>,
    /// `vrrpctl lvs`: every virtual server.
    pub virtual_servers: Vec<VirtualServerStatus>,
    /// The process, when `/proc` answered.
    pub process: Option<ProcessStats>,
}

/// The exposition format of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// What the scraper's `Accept` header asks for: OpenMetrics if it
    /// names it, else the Prometheus text format.
    pub fn from_accept(accept: &str) -> Self {
        if accept.contains("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The `Content-Type` of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The families of `snapshot` and `timings` in `format`.
pub fn encode(snapshot: &Snapshot, timings: &Timings, format: Format) -> String {
    let registry = build(snapshot, timings);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = match format {
        Format::Prometheus => prometheus_text::encode(&mut out, &registry),
        Format::OpenMetrics => text::encode(&mut out, &registry),
    };
    out
}

/// The labels that name an instance: `vrrp_instance`, not `instance`,
/// which Prometheus gives every target.
fn instance_labels(s: &InstanceStatus) -> Labels {
    vec![
        ("vrrp_instance", s.name.clone()),
        ("interface", s.interface.clone()),
        ("vrid", s.vrid.to_string()),
    ]
}

/// keepalived-exporter's state numbers: 0 init, 1 backup, 2 master, 3 fault.
fn state_code(state: &str) -> i64 {
    match state {
        "initialize" => 0,
        "backup" => 1,
        "active" => 2,
        _ => 3,
    }
}

/// Every state an instance can be in, as `vrrpctl status` names them.
const STATES: [&str; 4] = ["initialize", "backup", "active", "fault"];

fn build(s: &Snapshot, t: &Timings) -> Registry {
    let mut f = Families(Registry::default());
    vrrp_instances(&mut f, s);
    vrrp_counters(&mut f, s);
    trackers_and_vips(&mut f, &s.status);
    f.0.register_with_unit(
        "vrrp_takeover_latency",
        "From the Master_Down deadline (or the input that made an instance Active) to its first gratuitous ARP or unsolicited NA",
        Unit::Seconds,
        t.takeover.clone(),
    );
    f.0.register_with_unit(
        "vrrp_vip_install_duration",
        "From handing an instance's VIPs to the address worker to the kernel confirming all of them",
        Unit::Seconds,
        t.vip_install.clone(),
    );
    super::lvs_families::lvs(&mut f, &s.virtual_servers);
    f.0.register(
        "vrrpd_build",
        "The daemon's version",
        Info::new(vec![("version", env!("CARGO_PKG_VERSION").to_string())]),
    );
    if let Some(p) = &s.process {
        super::process::families(&mut f, p);
    }
    f.0
}

fn vrrp_instances(f: &mut Families, s: &Snapshot) {
    let st = &s.status;
    f.gauge(
        "vrrp_instance_state",
        "1 for the state the instance is in (initialize, backup, active, fault), 0 for the others",
        st.iter().flat_map(|i| {
            STATES.iter().map(move |&state| {
                (
                    with(instance_labels(i), "state", state),
                    i64::from(i.state == state),
                )
            })
        }),
    );
    f.gauge(
        "vrrp_instance_state_code",
        "The instance's state as a number: 0 initialize, 1 backup, 2 active (master), 3 fault",
        st.iter()
            .map(|i| (instance_labels(i), state_code(&i.state))),
    );
    f.gauge(
        "vrrp_instance_priority",
        "The configured priority",
        st.iter()
            .map(|i| (instance_labels(i), i64::from(i.priority))),
    );
    f.gauge(
        "vrrp_instance_effective_priority",
        "The priority after tracking",
        st.iter()
            .map(|i| (instance_labels(i), i64::from(i.effective_priority))),
    );
    f.gauge_f64(
        "vrrp_instance_master_adver_interval",
        "Master_Adver_Interval (RFC 9568 §6.1)",
        Unit::Seconds,
        st.iter().map(|i| {
            (
                instance_labels(i),
                i.master_adver_interval_ms as f64 / 1000.0,
            )
        }),
    );
    f.gauge(
        "vrrp_instance_holds_vips",
        "1 while the instance holds its VIPs (Active)",
        st.iter()
            .map(|i| (instance_labels(i), i64::from(i.holds_vips))),
    );
    f.gauge(
        "vrrp_instance_waiting",
        "1 while the instance waits for its interface, an address or a device",
        st.iter()
            .map(|i| (instance_labels(i), i64::from(i.waiting.is_some()))),
    );
    f.gauge_f64(
        "vrrp_instance_last_transition_timestamp",
        "When the instance last changed state",
        Unit::Seconds,
        st.iter().filter_map(|i| {
            let t = i.last_transition.as_ref()?;
            Some((instance_labels(i), t.at_unix_ms as f64 / 1000.0))
        }),
    );
}

/// The stats of each instance, with the labels of its status.
fn stats_with_labels(s: &Snapshot) -> Vec<(Labels, &InstanceStats)> {
    s.stats
        .iter()
        .filter_map(|stats| {
            let status = s.status.iter().find(|i| i.name == stats.name)?;
            Some((instance_labels(status), stats))
        })
        .collect()
}

fn vrrp_counters(f: &mut Families, s: &Snapshot) {
    let stats = stats_with_labels(s);
    f.counter(
        "vrrp_instance_transitions",
        "State changes, by the state entered and the reason",
        stats.iter().flat_map(|(l, st)| {
            st.transitions_by_reason.iter().map(move |t| {
                let labels = with(
                    with(l.clone(), "to", t.to.clone()),
                    "reason",
                    t.reason.clone(),
                );
                (labels, t.count)
            })
        }),
    );
    // RFC 8347's per-router statistics, one family each, by their YANG
    // leaf names (advertisement_sent, advertisement_rcvd, ...).
    let mut names: Vec<&str> = stats
        .iter()
        .flat_map(|(_, st)| st.counters.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        f.counter(
            &format!("vrrp_instance_{name}"),
            &format!("RFC 8347 statistic {name}"),
            stats
                .iter()
                .filter_map(|(l, st)| st.counters.get(name).map(|&v| (l.clone(), v))),
        );
    }
    f.counter(
        "vrrp_instance_discards",
        "Advertisements the instance refused, by reason",
        stats.iter().flat_map(|(l, st)| {
            st.discards
                .iter()
                .map(move |(reason, &n)| (with(l.clone(), "reason", reason.clone()), n))
        }),
    );
    f.counter(
        "vrrp_instance_errors",
        "Local failures (a VIP the kernel refused, a lost interface), by kind",
        stats.iter().flat_map(|(l, st)| {
            st.errors
                .iter()
                .map(move |(kind, &n)| (with(l.clone(), "kind", kind.clone()), n))
        }),
    );
    f.counter(
        "vrrp_discards",
        "Packets refused before they reached an instance (unknown VRID, bad checksum, ...), by reason",
        s.global_discards
            .iter()
            .map(|(reason, &n)| (vec![("reason", reason.clone())], n)),
    );
}

fn trackers_and_vips(f: &mut Families, st: &[InstanceStatus]) {
    let trackers = || {
        st.iter().flat_map(|i| {
            i.trackers.iter().map(move |t| {
                let labels = with(
                    with(instance_labels(i), "kind", t.kind.clone()),
                    "tracker",
                    t.name.clone(),
                );
                (labels, t)
            })
        })
    };
    f.gauge(
        "vrrp_tracker_up",
        "1 while the tracker's result is up",
        trackers().map(|(l, t)| (l, i64::from(t.up))),
    );
    f.gauge(
        "vrrp_tracker_weight_applied",
        "The priority adjustment the tracker applies now (absent while it faults the instance)",
        trackers().filter_map(|(l, t)| t.weight_applied.map(|w| (l, w))),
    );
    f.gauge(
        "vrrp_tracker_faulting",
        "1 while the tracker puts the instance in Fault",
        trackers().map(|(l, t)| (l, i64::from(t.weight_applied.is_none()))),
    );
    f.gauge(
        "vrrp_vip_installed",
        "1 while the VIP is on this host, as the kernel confirmed it",
        st.iter().flat_map(|i| {
            i.vips.iter().map(move |vip| {
                (
                    with(instance_labels(i), "vip", vip.clone()),
                    i64::from(i.vips_installed),
                )
            })
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{TrackerStatus, TransitionCount};

    fn snapshot() -> Snapshot {
        let status = InstanceStatus {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 51,
            version: 3,
            state: "active".into(),
            priority: 150,
            effective_priority: 130,
            master_adver_interval_ms: 100,
            active_router: None,
            vips: vec!["198.18.0.100/24".into()],
            holds_vips: true,
            last_transition: None,
            waiting: None,
            vips_installed: true,
            trackers: vec![TrackerStatus {
                kind: "track_script".into(),
                name: "chk".into(),
                up: false,
                weight_applied: Some(-20),
            }],
        };
        let stats = InstanceStats {
            name: "VI_1".into(),
            counters: [("advertisement_sent".to_string(), 42)].into(),
            discards: [("ttl".to_string(), 2)].into(),
            transitions: BTreeMap::new(),
            last_transition: None,
            errors: BTreeMap::new(),
            transitions_by_reason: vec![TransitionCount {
                to: "active".into(),
                reason: "master_down".into(),
                count: 1,
            }],
        };
        Snapshot {
            status: vec![status],
            stats: vec![stats],
            global_discards: [("vrid_mismatch".to_string(), 3)].into(),
            virtual_servers: Vec::new(),
            process: None,
        }
    }

    #[test]
    fn the_prometheus_text_names_every_family_with_its_unit_and_total() {
        let timings = Timings::default();
        timings.observe_takeover(std::time::Duration::from_micros(1500));
        let text = encode(&snapshot(), &timings, Format::Prometheus);
        let labels = r#"vrrp_instance="VI_1",interface="eth0",vrid="51""#;
        for line in [
            format!(r#"vrrp_instance_state{{{labels},state="active"}} 1"#),
            format!(r#"vrrp_instance_state{{{labels},state="backup"}} 0"#),
            format!("vrrp_instance_state_code{{{labels}}} 2"),
            format!("vrrp_instance_effective_priority{{{labels}}} 130"),
            format!("vrrp_instance_master_adver_interval_seconds{{{labels}}} 0.1"),
            format!(
                r#"vrrp_instance_transitions_total{{{labels},to="active",reason="master_down"}} 1"#
            ),
            format!("vrrp_instance_advertisement_sent_total{{{labels}}} 42"),
            format!(r#"vrrp_instance_discards_total{{{labels},reason="ttl"}} 2"#),
            format!(
                r#"vrrp_tracker_weight_applied{{{labels},kind="track_script",tracker="chk"}} -20"#
            ),
            format!(r#"vrrp_tracker_up{{{labels},kind="track_script",tracker="chk"}} 0"#),
            format!(r#"vrrp_vip_installed{{{labels},vip="198.18.0.100/24"}} 1"#),
            r#"vrrp_discards_total{reason="vrid_mismatch"} 3"#.to_string(),
            "vrrp_takeover_latency_seconds_count 1".to_string(),
            r#"vrrp_takeover_latency_seconds_bucket{le="0.0016"} 1"#.to_string(),
            "# TYPE vrrp_vip_install_duration_seconds histogram".to_string(),
            format!(
                r#"vrrpd_build_info{{version="{}"}} 1"#,
                env!("CARGO_PKG_VERSION")
            ),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in:\n{text}"
            );
        }
        assert!(!text.contains("# EOF"), "0.0.4 has no EOF marker");
    }

    #[test]
    fn openmetrics_ends_with_eof_and_process_metrics_appear_when_read() {
        let mut s = snapshot();
        s.process = Some(ProcessStats {
            cpu_seconds: 1.5,
            resident_bytes: 4096,
            virtual_bytes: 8192,
            open_fds: 7,
            max_fds: 1024,
            start_time_seconds: 1.7e9,
        });
        let text = encode(&s, &Timings::default(), Format::OpenMetrics);
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.lines().any(|l| l == "process_cpu_seconds_total 1.5"),
            "{text}"
        );
        assert!(text.lines().any(|l| l == "process_open_fds 7"), "{text}");
        assert!(
            text.lines()
                .any(|l| l == "process_resident_memory_bytes 4096.0"),
            "{text}"
        );
        assert_eq!(
            Format::from_accept("application/openmetrics-text; version=1.0.0"),
            Format::OpenMetrics
        );
        assert_eq!(Format::from_accept("text/plain"), Format::Prometheus);
    }
}
