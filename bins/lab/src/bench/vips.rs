//! The many-VIPs group of `vrrp-lab bench` (`--only vips`): one instance
//! with 1 to 2,000 VIPs, for each daemon, beside the kernel's own cost of
//! the same address changes (see [`crate::vips`]).

use super::{BenchOptions, Collector, ms};
use crate::Result;
use crate::scenario::{self, Lab};
use crate::stats::summarize;
use crate::vips::{self as v, VipsRun};

/// The name the kernel's floor is recorded under.
pub const FLOOR: &str = "ip -batch";

/// One row: its id suffix, title, bound and the value it takes from a run.
type Row = (&'static str, String, Option<f64>, fn(&VipsRun) -> i64);

/// The many-VIPs figures: for each count, the kernel's floor first (its
/// median sets the bound of the rows it limits: 1.2 × the floor), then
/// every daemon.
pub(super) fn figures(opts: &BenchOptions, reps: usize, c: &mut Collector) -> Result<()> {
    let counts: &[usize] = if opts.quick {
        &[1, 100]
    } else {
        &[1, 100, 500, 2000]
    };
    let lab = Lab::new("vips", 1)?;
    let interval = v::INTERVAL;
    let master_down = ms(scenario::master_down_ns(3, interval, scenario::PRIO_BACKUP));
    let skew = ms(scenario::skew_ns(3, interval, scenario::PRIO_BACKUP));
    for &n in counts {
        let id = |what: &str| format!("vips_{n}_{what}");
        let label = format!("{n} VIP{} v3 100 ms", if n == 1 { "" } else { "s" });
        c.figure(
            &id("floor_add"),
            &format!("{label}: kernel floor, `ip -batch` with {n} × `addr add`"),
            "ms",
            None,
        );
        c.figure(
            &id("floor_del"),
            &format!("{label}: kernel floor, `ip -batch` with {n} × `addr del`"),
            "ms",
            None,
        );
        let (mut adds, mut dels) = (Vec::new(), Vec::new());
        for rep in 0..reps {
            eprintln!("bench: {label}, kernel floor #{}", rep + 1);
            let r = v::floor(&lab, n);
            crate::check_interrupted()?;
            if let Ok((a, d)) = r {
                adds.push(ms(a));
                dels.push(ms(d));
            }
            c.record_as(&id("floor_add"), FLOOR, r.as_ref().map(|x| ms(x.0)));
            c.record_as(&id("floor_del"), FLOOR, r.as_ref().map(|x| ms(x.1)));
        }
        let limit = |v: &[f64]| summarize(v).map(|s| 1.2 * s.median);
        let (add_limit, del_limit) = (limit(&adds), limit(&dels));
        let rows: [Row; 9] = [
            (
                "start_present",
                format!("{label}: start alone → all present"),
                None,
                |r| r.start_present,
            ),
            (
                "start_install",
                format!("{label}: start alone, first advert → all present"),
                add_limit,
                |r| r.start_install,
            ),
            (
                "crash_first_garp",
                format!("{label}: kill -9, last advert → first GARP"),
                Some(master_down),
                |r| r.crash_first_garp,
            ),
            (
                "crash_last_garp",
                format!("{label}: kill -9, first advert → last VIP's first GARP"),
                add_limit,
                |r| r.crash_last_garp,
            ),
            (
                "crash_present",
                format!("{label}: kill -9 → all present"),
                None,
                |r| r.crash_present,
            ),
            (
                "preempt_removed",
                format!("{label}: preempt-back, preempting advert → all removed"),
                del_limit,
                |r| r.preempt_removed,
            ),
            (
                "graceful_first_garp",
                format!("{label}: SIGTERM, priority-0 advert → first GARP"),
                Some(skew),
                |r| r.graceful_first_garp,
            ),
            (
                "graceful_last_garp",
                format!("{label}: SIGTERM, first advert → last VIP's first GARP"),
                add_limit,
                |r| r.graceful_last_garp,
            ),
            (
                "stop_removed",
                format!("{label}: clean stop, SIGTERM → all removed"),
                del_limit,
                |r| r.stop_removed,
            ),
        ];
        for (what, title, bound, _) in &rows {
            c.figure(&id(what), title, "ms", *bound);
        }
        for &kind in &opts.daemons {
            for rep in 0..reps {
                eprintln!("bench: {label}, {} #{}", kind.name(), rep + 1);
                let r = kind.locate().and_then(|_| v::run(&lab, kind, n));
                crate::check_interrupted()?;
                for (what, _, _, get) in &rows {
                    c.record(&id(what), kind, r.as_ref().map(|x| ms(get(x))));
                }
            }
        }
    }
    Ok(())
}
