//! The soak's results: `soak.json` and the `soak.md` summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::stats::Summary;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// Seconds since the soak started.
    pub t_s: f64,
    /// UTC time, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub utc: String,
    /// The fault it followed (1-based; 0 before the first fault).
    pub fault: usize,
    /// What was checked: `initial`, `during`, `after`, `final` or `exit`.
    pub phase: String,
    /// What was wrong.
    pub what: String,
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FaultRecord {
    /// 1-based.
    pub index: usize,
    /// Seconds since the soak started.
    pub t_s: f64,
    /// The kind, as counted in [`SoakReport::faults`].
    pub kind: String,
    /// What exactly was done.
    pub description: String,
    /// Heal → invariants hold again, in milliseconds (`None` if they did not).
    pub convergence_ms: Option<f64>,
}

/// One virtual router, for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VridReport {
    /// VRID.
    pub vrid: u8,
    /// VIP with its prefix.
    pub vip: String,
    /// Priorities of h1, h2... at the start.
    pub priorities_start: Vec<u8>,
    /// Priorities at the end (reloads change them).
    pub priorities_end: Vec<u8>,
}

/// The whole soak report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SoakReport {
    /// UTC date and time of the start.
    pub date: String,
    /// The seed; `--seed` with it replays the same fault sequence.
    pub seed: u64,
    /// The requested duration, seconds.
    pub requested_s: f64,
    /// How long the fault loop ran, seconds.
    pub elapsed_s: f64,
    /// Stopped early by Ctrl-C.
    pub interrupted: bool,
    /// The number of hosts.
    pub hosts: usize,
    /// Random loss on every host's link, in percent of the packets it
    /// receives (nftables `numgen random`).
    pub loss_percent: u8,
    /// Packets the loss rules dropped, over every host.
    pub loss_dropped_packets: u64,
    /// The virtual routers.
    pub vrids: Vec<VridReport>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// Faults injected in all.
    pub faults_total: u64,
    /// Invariant checks that passed (initial, during faults, after healing, final).
    pub checks_passed: u64,
    /// Of those, checks of a degraded lab while a fault lasted.
    pub checks_during_faults: u64,
    /// Invariant checks that failed (each is also a violation).
    pub checks_failed: u64,
    /// Heal (or fault) → invariants hold, over every passed check, ms.
    pub convergence_ms: Option<Summary>,
    /// Daemon starts after the first (after kill -9, SIGTERM or an unexpected exit).
    pub daemon_restarts: u64,
    /// Daemons that exited without being told to.
    pub unexpected_exits: u64,
    /// VIPs a killed daemon left behind, found at its restart (the
    /// restarted daemon must remove those it is not Active for).
    pub stale_vips_at_restart: u64,
    /// Every daemon exited 0 on the final SIGTERM and no VIP remained.
    pub final_clean: bool,
    /// Violations in all (the list below keeps the first 500).
    pub violation_count: u64,
    /// The broken invariants, with times.
    pub violations: Vec<Violation>,
    /// Every fault, in order.
    pub fault_log: Vec<FaultRecord>,
}

/// `unix_ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn utc(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let ms = unix_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The report as Markdown: the counts, the faults by kind and every violation.
pub fn markdown(r: &SoakReport) -> String {
    let mut s = String::new();
    let verdict = if r.violation_count == 0 {
        "PASS"
    } else {
        "FAIL"
    };
    let _ = writeln!(
        s,
        "# vrrp-lab bench --soak: {verdict}\n\n{}, seed {} (replay: `vrrp-lab bench --soak --seed {} \
         --duration {}s --loss {}`), {:.0} s of faults{}; {} hosts running vrrpd, VRRPv3 100 ms, {} % random loss on every link.\n",
        r.date,
        r.seed,
        r.seed,
        r.requested_s.round(),
        r.loss_percent,
        r.elapsed_s,
        if r.interrupted { " (interrupted)" } else { "" },
        r.hosts,
        r.loss_percent
    );
    let hosts: Vec<String> = (1..=r.hosts).map(|h| format!("h{h}")).collect();
    let _ = writeln!(
        s,
        "| VRID | VIP | priorities {} at start | at end |",
        hosts.join("/")
    );
    let _ = writeln!(s, "|---|---|---|---|");
    let join = |p: &[u8]| p.iter().map(u8::to_string).collect::<Vec<_>>().join(" / ");
    for v in &r.vrids {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            v.vrid,
            v.vip,
            join(&v.priorities_start),
            join(&v.priorities_end)
        );
    }
    let _ = writeln!(s, "\n| count | value |\n|---|---|");
    let conv = r.convergence_ms.map_or("—".into(), |c| {
        format!("{:.0} / {:.0} / {:.0}", c.min, c.median, c.max)
    });
    let rows = [
        ("faults injected", r.faults_total.to_string()),
        ("invariant checks passed", r.checks_passed.to_string()),
        (
            "… of a degraded lab, during a fault",
            r.checks_during_faults.to_string(),
        ),
        ("invariant checks failed", r.checks_failed.to_string()),
        (
            "packets dropped by the random loss",
            r.loss_dropped_packets.to_string(),
        ),
        ("convergence ms, min / median / max", conv),
        ("daemon restarts", r.daemon_restarts.to_string()),
        ("unexpected daemon exits", r.unexpected_exits.to_string()),
        (
            "stale VIPs found at a restart after kill -9",
            r.stale_vips_at_restart.to_string(),
        ),
        (
            "final stop clean (exit 0, no VIP left)",
            if r.final_clean { "yes" } else { "no" }.into(),
        ),
        ("violations", r.violation_count.to_string()),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let _ = writeln!(s, "\n| fault | count |\n|---|---|");
    for (k, v) in &r.faults {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    if r.violations.is_empty() {
        let _ = writeln!(s, "\nNo violations.");
    } else {
        let _ = writeln!(s, "\n## Violations\n");
        for v in &r.violations {
            let _ = writeln!(
                s,
                "- {} (t = {:.1} s, fault #{}, {}): {}",
                v.utc,
                v.t_s,
                v.fault,
                v.phase,
                v.what.replace('\n', " ⏎ ")
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(utc(1_798_000_000_000), "2026-12-23T04:26:40.000Z");
    }
}
