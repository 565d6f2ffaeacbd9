//! `vrrp-lab bench`: every figure for vrrpd and keepalived in the same run,
//! repeated, summarised (min/median/max and the vrrpd/keepalived ratio of
//! the medians), written as JSON and as a Markdown table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

mod vips;

pub use vips::FLOOR;

use super::daemon::DaemonKind;
use super::scenario::{self, Lab};
use super::stats::{Summary, summarize};
use super::{LabError, Result, ns_to_ms};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// One short repetition of every figure, at a small scale.
    pub quick: bool,
    /// Where `bench.json` and `bench.md` go.
    pub out: PathBuf,
    /// Repetitions of the failover, takeover and start-up figures.
    pub reps: usize,
    /// The daemons to compare.
    pub daemons: Vec<DaemonKind>,
    /// Only these groups of figures; empty runs every group.
    pub only: Vec<FigureGroup>,
}

impl BenchOptions {
    fn wants(&self, group: FigureGroup) -> bool {
        self.only.is_empty() || self.only.contains(&group)
    }
}

/// A group of figures that `vrrp-lab bench --only` can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureGroup {
    /// Crash failover: detection and outage at each interval.
    Crash,
    /// Graceful takeover after SIGTERM.
    Graceful,
    /// The Active's advert timing at 10 ms.
    Timing,
    /// An owner's start-up to its first GARP.
    Owner,
    /// CPU, RSS and advert rate with many routers.
    Scale,
    /// One instance with 1 to 2,000 VIPs: takeovers, start and stop, and
    /// the kernel's floor.
    Vips,
}

impl FigureGroup {
    /// Every group, in table order.
    pub const ALL: [FigureGroup; 6] = [
        FigureGroup::Crash,
        FigureGroup::Graceful,
        FigureGroup::Timing,
        FigureGroup::Owner,
        FigureGroup::Scale,
        FigureGroup::Vips,
    ];

    /// The group's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FigureGroup::Crash => "crash",
            FigureGroup::Graceful => "graceful",
            FigureGroup::Timing => "timing",
            FigureGroup::Owner => "owner",
            FigureGroup::Scale => "scale",
            FigureGroup::Vips => "vips",
        }
    }

    /// The group named `s`, if any.
    pub fn parse(s: &str) -> Option<FigureGroup> {
        FigureGroup::ALL.into_iter().find(|g| g.name() == s)
    }
}

/// The samples of one daemon for one figure, or why there are none.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Every measured value, in the figure's unit.
    pub samples: Vec<f64>,
    /// Their summary, when there is at least one.
    pub summary: Option<Summary>,
    /// The errors of failed repetitions.
    pub errors: Vec<String>,
}

/// One line of the results table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figure {
    /// Stable identifier.
    pub id: String,
    /// What is measured.
    pub title: String,
    /// The unit of every value.
    pub unit: String,
    /// The protocol bound or nominal value to compare with, if any.
    pub bound: Option<f64>,
    /// Per daemon name.
    pub results: BTreeMap<String, Outcome>,
    /// Median of vrrpd / median of keepalived.
    pub ratio: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// UTC date and time of the run.
    pub date: String,
    /// CPU, cores, kernel and keepalived version.
    pub machine: String,
    /// Whether this was a `--quick` run (timings not meaningful).
    pub quick: bool,
    /// Repetitions per figure.
    pub reps: usize,
    /// The figures, in table order.
    pub figures: Vec<Figure>,
}

impl Report {
    /// Whether any repetition of any figure failed.
    pub fn has_errors(&self) -> bool {
        self.figures
            .iter()
            .any(|f| f.results.values().any(|o| !o.errors.is_empty()))
    }
}

struct Collector {
    figures: Vec<Figure>,
}

impl Collector {
    fn figure(&mut self, id: &str, title: &str, unit: &str, bound: Option<f64>) {
        if self.figures.iter().all(|f| f.id != id) {
            self.figures.push(Figure {
                id: id.into(),
                title: title.into(),
                unit: unit.into(),
                bound,
                results: BTreeMap::new(),
                ratio: None,
            });
        }
    }

    fn record(&mut self, id: &str, kind: DaemonKind, value: std::result::Result<f64, &LabError>) {
        self.record_as(id, kind.name(), value);
    }

    /// Records a value measured for something other than a daemon (the
    /// kernel's floor, [`FLOOR`]).
    fn record_as(&mut self, id: &str, name: &str, value: std::result::Result<f64, &LabError>) {
        if let Some(f) = self.figures.iter_mut().find(|f| f.id == id) {
            let o = f
                .results
                .entry(name.to_string())
                .or_insert_with(|| Outcome {
                    samples: Vec::new(),
                    summary: None,
                    errors: Vec::new(),
                });
            match value {
                Ok(v) => o.samples.push(v),
                Err(e) => o.errors.push(e.to_string()),
            }
        }
    }

    fn finish(mut self) -> Vec<Figure> {
        for f in &mut self.figures {
            for o in f.results.values_mut() {
                o.summary = summarize(&o.samples);
            }
            let median = |k: &str| f.results.get(k).and_then(|o| o.summary).map(|s| s.median);
            f.ratio = match (median("vrrpd"), median("keepalived")) {
                (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                _ => None,
            };
        }
        self.figures
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores, Linux {}, {}",
        command_line("uname", &["-r"]),
        command_line("/usr/sbin/keepalived", &["--version"])
    )
}

fn ms(ns: i64) -> f64 {
    ns_to_ms(ns)
}

/// Runs the bench and writes `bench.json` and `bench.md` into `opts.out`.
pub fn run(opts: &BenchOptions) -> Result<Report> {
    let reps = if opts.quick { 1 } else { opts.reps.max(1) };
    let mut c = Collector {
        figures: Vec::new(),
    };
    let lab = Lab::new("bench", 1)?;
    let crash_cases = [
        (2u8, Duration::from_secs(1), "v2_1s", "VRRPv2 1 s"),
        (3, Duration::from_millis(100), "v3_100ms", "VRRPv3 100 ms"),
        (3, Duration::from_millis(10), "v3_10ms", "VRRPv3 10 ms"),
    ];
    if opts.wants(FigureGroup::Crash) {
        for (version, interval, tag, label) in crash_cases {
            let bound = ms(scenario::master_down_ns(
                version,
                interval,
                scenario::PRIO_BACKUP,
            ));
            let det = format!("crash_{tag}_detection");
            let out = format!("crash_{tag}_outage");
            let phase = format!("crash_{tag}_kill_phase");
            c.figure(
                &det,
                &format!("crash {label}: detection (last advert → GARP)"),
                "ms",
                Some(bound),
            );
            c.figure(
                &out,
                &format!("crash {label}: outage (kill → VIP answers)"),
                "ms",
                None,
            );
            c.figure(
                &phase,
                &format!("crash {label}: kill phase (last advert → kill)"),
                "ms",
                None,
            );
            for &kind in &opts.daemons {
                for rep in 0..reps {
                    eprintln!("bench: crash {label}, {} #{}", kind.name(), rep + 1);
                    let r = kind
                        .locate()
                        .and_then(|_| scenario::crash(&lab, kind, version, interval));
                    super::check_interrupted()?;
                    c.record(&det, kind, r.as_ref().map(|x| ms(x.detection)));
                    c.record(&out, kind, r.as_ref().map(|x| ms(x.outage)));
                    c.record(&phase, kind, r.as_ref().map(|x| ms(x.kill_phase)));
                }
            }
        }
    }
    if opts.wants(FigureGroup::Graceful) {
        let interval = Duration::from_millis(100);
        let skew = ms(scenario::skew_ns(3, interval, scenario::PRIO_BACKUP));
        c.figure(
            "graceful_takeover",
            "SIGTERM v3 100 ms: priority-0 advert → GARP",
            "ms",
            Some(skew),
        );
        c.figure(
            "graceful_from_signal",
            "SIGTERM v3 100 ms: signal → GARP",
            "ms",
            None,
        );
        for &kind in &opts.daemons {
            for rep in 0..reps {
                eprintln!("bench: graceful takeover, {} #{}", kind.name(), rep + 1);
                let r = kind
                    .locate()
                    .and_then(|_| scenario::graceful(&lab, kind, 3, interval));
                super::check_interrupted()?;
                c.record(
                    "graceful_takeover",
                    kind,
                    r.as_ref().map(|x| ms(x.takeover)),
                );
                c.record(
                    "graceful_from_signal",
                    kind,
                    r.as_ref().map(|x| ms(x.from_signal)),
                );
            }
        }
    }
    let window = if opts.quick {
        Duration::from_secs(3)
    } else {
        Duration::from_secs(60)
    };
    let w = window.as_secs();
    if opts.wants(FigureGroup::Timing) {
        c.figure(
            "advert_gap_p50",
            &format!("Active at 10 ms: inter-advert gap p50 ({w} s)"),
            "ms",
            Some(10.0),
        );
        c.figure(
            "advert_gap_p99",
            &format!("Active at 10 ms: inter-advert gap p99 ({w} s)"),
            "ms",
            Some(10.0),
        );
        c.figure(
            "advert_gap_max",
            &format!("Active at 10 ms: longest inter-advert gap ({w} s)"),
            "ms",
            Some(10.0),
        );
        c.figure(
            "advert_rate",
            &format!("Active at 10 ms: adverts/s over {w} s"),
            "1/s",
            Some(100.0),
        );
        for &kind in &opts.daemons {
            eprintln!("bench: advert timing, {} ({w} s)", kind.name());
            let interval = Duration::from_millis(10);
            let r = kind
                .locate()
                .and_then(|_| scenario::timing(&lab, kind, interval, window));
            super::check_interrupted()?;
            c.record("advert_gap_p50", kind, r.as_ref().map(|x| ms(x.p50)));
            c.record("advert_gap_p99", kind, r.as_ref().map(|x| ms(x.p99)));
            c.record("advert_gap_max", kind, r.as_ref().map(|x| ms(x.max)));
            c.record("advert_rate", kind, r.as_ref().map(|x| x.rate));
        }
    }
    if opts.wants(FigureGroup::Owner) {
        c.figure(
            "owner_start_to_garp",
            "owner (priority 255): process start → first GARP",
            "ms",
            None,
        );
        for &kind in &opts.daemons {
            for rep in 0..reps {
                eprintln!("bench: owner start-up, {} #{}", kind.name(), rep + 1);
                let r = kind.locate().and_then(|_| scenario::owner(&lab, kind));
                super::check_interrupted()?;
                c.record("owner_start_to_garp", kind, r.as_ref().map(|&x| ms(x)));
            }
        }
    }
    drop(lab);
    if opts.wants(FigureGroup::Scale) {
        let (links, vrids) = if opts.quick { (2, 10u8) } else { (4, 250u8) };
        let n = links * usize::from(vrids);
        let sc = format!("{n} routers ({links} links × {vrids}) v3 100 ms");
        c.figure(
            "scale_cpu_active",
            &format!("{sc}: CPU of the Active"),
            "CPU s/min",
            None,
        );
        c.figure(
            "scale_cpu_backup",
            &format!("{sc}: CPU of the Backup"),
            "CPU s/min",
            None,
        );
        c.figure(
            "scale_rss_active",
            &format!("{sc}: RSS of the Active"),
            "MiB",
            None,
        );
        c.figure(
            "scale_rss_backup",
            &format!("{sc}: RSS of the Backup"),
            "MiB",
            None,
        );
        let nominal = f64::from(vrids) * 10.0;
        c.figure(
            "scale_adverts_active",
            &format!("{sc}: adverts/s from the Active on link 0"),
            "1/s",
            Some(nominal),
        );
        c.figure(
            "scale_adverts_backup",
            &format!("{sc}: adverts/s from the Backup on link 0"),
            "1/s",
            Some(0.0),
        );
        for &kind in &opts.daemons {
            eprintln!("bench: scale {n} routers, {} ({w} s)", kind.name());
            let r = kind.locate().and_then(|_| {
                super::scale::scale(kind, links, vrids, Duration::from_millis(100), window)
            });
            super::check_interrupted()?;
            c.record("scale_cpu_active", kind, r.as_ref().map(|x| x.cpu_active));
            c.record("scale_cpu_backup", kind, r.as_ref().map(|x| x.cpu_backup));
            c.record("scale_rss_active", kind, r.as_ref().map(|x| x.rss_active));
            c.record("scale_rss_backup", kind, r.as_ref().map(|x| x.rss_backup));
            c.record(
                "scale_adverts_active",
                kind,
                r.as_ref().map(|x| x.adverts_active),
            );
            c.record(
                "scale_adverts_backup",
                kind,
                r.as_ref().map(|x| x.adverts_backup),
            );
        }
    }
    if opts.wants(FigureGroup::Vips) {
        vips::figures(opts, reps, &mut c)?;
    }
    let report = Report {
        date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        machine: machine(),
        quick: opts.quick,
        reps,
        figures: c.finish(),
    };
    std::fs::create_dir_all(&opts.out)?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| LabError::new(e.to_string()))?;
    std::fs::write(opts.out.join("bench.json"), json + "\n")?;
    std::fs::write(opts.out.join("bench.md"), markdown(&report))?;
    Ok(report)
}

fn cell(o: Option<&Outcome>) -> String {
    match o {
        None => "—".into(),
        Some(o) => match o.summary {
            Some(s) if o.errors.is_empty() => {
                format!("{:.3} / {:.3} / {:.3}", s.min, s.median, s.max)
            }
            Some(s) => format!(
                "{:.3} / {:.3} / {:.3} ({} failed)",
                s.min,
                s.median,
                s.max,
                o.errors.len()
            ),
            None => format!("error: {}", o.errors.first().map_or("", String::as_str))
                .replace('\n', " ⏎ "),
        },
    }
}

/// The report as a Markdown table.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "vrrp-lab bench, {}{}; {}; {} repetition(s); values min / median / max.\n",
        r.date,
        if r.quick {
            " (--quick: timings not meaningful)"
        } else {
            ""
        },
        r.machine,
        r.reps
    );
    let _ = writeln!(s, "| figure | unit | bound | vrrpd | keepalived | ratio |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for f in &r.figures {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            f.title,
            f.unit,
            f.bound.map_or("—".into(), |b| format!("{b:.3}")),
            match f.results.get(FLOOR) {
                Some(o) => format!("{FLOOR}: {}", cell(Some(o))),
                None => cell(f.results.get("vrrpd")),
            }
            .replace('|', "/"),
            cell(f.results.get("keepalived")).replace('|', "/"),
            f.ratio.map_or("—".into(), |x| format!("{x:.2}")),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_groups_parse_by_name_and_empty_means_all() {
        for g in FigureGroup::ALL {
            assert_eq!(FigureGroup::parse(g.name()), Some(g));
        }
        assert_eq!(FigureGroup::parse("everything"), None);
        let mut opts = BenchOptions {
            quick: true,
            out: PathBuf::from("unused"),
            reps: 1,
            daemons: Vec::new(),
            only: Vec::new(),
        };
        assert!(FigureGroup::ALL.iter().all(|&g| opts.wants(g)));
        opts.only = vec![FigureGroup::Scale];
        assert!(opts.wants(FigureGroup::Scale));
        assert!(!opts.wants(FigureGroup::Crash));
    }
}
