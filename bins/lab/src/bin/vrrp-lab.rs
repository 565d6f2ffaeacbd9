//! `vrrp-lab`: the failover demonstration and the benchmarks side by side
//! with keepalived, in throwaway network namespaces. Needs root.
//!
//! ```text
//! vrrp-lab demo [--daemon vrrpd|keepalived] [--interval 100ms] [--version 3]
//! vrrp-lab bench [--quick] [--out DIR] [--reps N] [--daemon vrrpd|keepalived]...
//! vrrp-lab bench --soak [--duration 30m] [--seed N] [--loss PERCENT] [--out DIR]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use vrrp_lab::bench::{self, BenchOptions, FigureGroup};
use vrrp_lab::daemon::DaemonKind;
use vrrp_lab::demo::{self, DemoOptions};
use vrrp_lab::soak::{self, SoakOptions};
use vrrp_lab::{self as lab, LabError};

#[derive(Parser, Debug)]
#[command(
    name = "vrrp-lab",
    version,
    about = "VRRP failover demo and benchmarks in network namespaces (root)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Two hosts and a client in namespaces: watch a VIP move on a crash and back.
    Demo {
        /// The daemon on both hosts: vrrpd or keepalived.
        #[arg(long, default_value = "vrrpd", value_parser = parse_daemon)]
        daemon: DaemonKind,
        /// VRRP version, 2 or 3.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=3))]
        version: u8,
        /// Advertisement interval, such as 100ms or 1s (v2: whole seconds).
        #[arg(long, default_value = "100ms", value_parser = parse_interval)]
        interval: Duration,
    },
    /// Failover, takeover, advert timing, scale and start-up, vrrpd beside keepalived.
    Bench {
        /// One short repetition of every figure at a small scale (for tests).
        #[arg(long)]
        quick: bool,
        /// Instead of the figures, a soak: random crashes, link flaps,
        /// partitions and reloads across four vrrpd hosts, then checks
        /// (soak.json and soak.md; exit 1 on any violation).
        #[arg(long, conflicts_with_all = ["quick", "reps"])]
        soak: bool,
        /// How long the soak injects faults: 90s, 30m, 1h.
        #[arg(long, default_value = "30m", requires = "soak", value_parser = soak::model::parse_duration)]
        duration: Duration,
        /// The soak's PRNG seed (default from the clock; printed for a replay).
        #[arg(long, requires = "soak")]
        seed: Option<u64>,
        /// Random loss on every soak host's link, in percent (nftables).
        #[arg(long, default_value_t = 0, requires = "soak", value_parser = clap::value_parser!(u8).range(0..=50))]
        loss: u8,
        /// Where bench.json and bench.md (or soak.json and soak.md) are written.
        #[arg(long, default_value = "vrrp-lab-results")]
        out: PathBuf,
        /// Repetitions of the failover, takeover and start-up figures [default: 5].
        #[arg(long)]
        reps: Option<usize>,
        /// Only these daemons (repeatable); default both.
        #[arg(long = "daemon", value_parser = parse_daemon)]
        daemons: Vec<DaemonKind>,
        /// Only these groups of figures (repeatable): crash, graceful,
        /// timing, owner, scale or vips; default all.
        #[arg(long, value_parser = parse_group, conflicts_with = "soak")]
        only: Vec<FigureGroup>,
    },
}

fn parse_daemon(s: &str) -> Result<DaemonKind, String> {
    DaemonKind::parse(s).ok_or_else(|| format!("unknown daemon {s:?}: use vrrpd or keepalived"))
}

fn parse_group(s: &str) -> Result<FigureGroup, String> {
    FigureGroup::parse(s).ok_or_else(|| {
        let names: Vec<_> = FigureGroup::ALL.iter().map(|g| g.name()).collect();
        format!(
            "unknown figure group {s:?}: use one of {}",
            names.join(", ")
        )
    })
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(format!("{s:?}: give a unit, such as 100ms or 1s"));
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration"))?;
    let ms = n.saturating_mul(scale);
    if !(10..=40_950).contains(&ms) || ms % 10 != 0 {
        return Err(format!(
            "{s:?}: VRRP intervals are 10ms..=40950ms in steps of 10 ms"
        ));
    }
    Ok(Duration::from_millis(ms))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = lab::require_root() {
        eprintln!("vrrp-lab: {e}");
        return ExitCode::from(2);
    }
    lab::install_signal_handlers();
    for name in lab::ns::sweep_stale() {
        eprintln!(
            "vrrp-lab: removed namespace {name}, left behind by an earlier run that was killed"
        );
    }
    let result: Result<bool, LabError> = match cli.command {
        Command::Demo {
            daemon,
            version,
            interval,
        } => {
            if version == 2 && interval.subsec_nanos() != 0 {
                eprintln!("vrrp-lab: VRRPv2 intervals are whole seconds");
                return ExitCode::from(2);
            }
            demo::run(&DemoOptions {
                daemon,
                version,
                interval,
            })
            .map(|_| true)
        }
        Command::Bench {
            soak: true,
            out,
            duration,
            seed,
            loss,
            daemons,
            ..
        } => {
            if daemons.iter().any(|&d| d != DaemonKind::Vrrpd) {
                eprintln!("vrrp-lab: the soak runs vrrpd only");
                return ExitCode::from(2);
            }
            let opts = SoakOptions {
                duration,
                seed: seed.unwrap_or_else(soak::seed_from_time),
                out: out.clone(),
                loss_percent: loss,
            };
            soak::run(&opts).map(|report| {
                print!("{}", soak::report::markdown(&report));
                eprintln!(
                    "vrrp-lab: wrote {} and {}",
                    out.join("soak.json").display(),
                    out.join("soak.md").display()
                );
                if report.violation_count > 0 {
                    eprintln!(
                        "vrrp-lab: {} violation(s); replay with --seed {}",
                        report.violation_count, report.seed
                    );
                }
                report.violation_count == 0
            })
        }
        Command::Bench {
            quick,
            out,
            reps,
            daemons,
            only,
            ..
        } => {
            let reps = reps.unwrap_or(5);
            let daemons = if daemons.is_empty() {
                vec![DaemonKind::Vrrpd, DaemonKind::Keepalived]
            } else {
                daemons
            };
            let opts = BenchOptions {
                quick,
                out: out.clone(),
                reps,
                daemons,
                only,
            };
            bench::run(&opts).map(|report| {
                print!("{}", bench::markdown(&report));
                eprintln!(
                    "vrrp-lab: wrote {} and {}",
                    out.join("bench.json").display(),
                    out.join("bench.md").display()
                );
                if report.has_errors() {
                    eprintln!("vrrp-lab: some figures failed; see the errors in the table");
                }
                !report.has_errors()
            })
        }
    };
    match result {
        Ok(_) if lab::interrupted() => ExitCode::from(130),
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("vrrp-lab: {e}");
            if lab::interrupted() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
