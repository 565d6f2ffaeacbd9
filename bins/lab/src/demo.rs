//! `vrrp-lab demo`: a VIP moving between two hosts, as a live timeline.

use std::io::IsTerminal;
use std::net::Ipv4Addr;
use std::time::Duration;

use super::capture::Kind;
use super::daemon::DaemonKind;
use super::ns::{CLIENT_ADDR, Topology};
use super::probe::Prober;
use super::scenario::{self, Lab, PRIO_ACTIVE, PRIO_BACKUP, VIP, VRID, single};
use super::{Result, now_ns, ns_to_ms, sleep};

/// What the demo runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// The daemon on both hosts.
    pub daemon: DaemonKind,
    /// VRRP version, 2 or 3.
    pub version: u8,
    /// Advertisement interval.
    pub interval: Duration,
}

/// The demo's measured figures, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    /// Dead Active's last advert → new Active's first GARP.
    pub detection: i64,
    /// Master_Down_Interval.
    pub bound: i64,
    /// Kill → the VIP answers again.
    pub outage: i64,
    /// Longest gap between answers while h1 took the VIP back.
    pub switch_back_gap: i64,
    /// Priority-0 advert → GARP when h1 stopped gracefully at the end.
    pub graceful: i64,
}

struct Timeline {
    t0: i64,
    colour: bool,
}

impl Timeline {
    fn line(&self, t: i64, colour: &str, text: &str) {
        let stamp = format!("{:>9.3}s", (t - self.t0) as f64 / 1e9);
        if self.colour {
            println!("\x1b[2m{stamp}\x1b[0m  \x1b[{colour}m{text}\x1b[0m");
        } else {
            println!("{stamp}  {text}");
        }
    }
}

const PLAIN: &str = "0";
const GREEN: &str = "32";
const RED: &str = "31";
const CYAN: &str = "36";
const YELLOW: &str = "33";

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Runs the demo, printing one line per event.
pub fn run(opts: &DemoOptions) -> Result<DemoSummary> {
    let (kind, version, interval) = (opts.daemon, opts.version, opts.interval);
    let bin = kind.locate()?;
    let tl = Timeline {
        t0: now_ns(),
        colour: std::io::stdout().is_terminal(),
    };
    let lab = Lab::new("demo", 1)?;
    tl.line(
        now_ns(),
        PLAIN,
        &format!(
            "lab up: bridge in {}, h1 {} and h2 {} ({}), client {CLIENT_ADDR} ({})",
            lab.topo.switch.name(),
            Topology::host_addr(1),
            Topology::host_addr(2),
            lab.topo.host(1).name(),
            lab.topo.client.name()
        ),
    );
    tl.line(
        now_ns(),
        PLAIN,
        &format!(
            "{} ({}) on both hosts: VRRPv{version}, VRID {VRID}, VIP {VIP}, advert every {interval:?}",
            kind.name(),
            bin.display()
        ),
    );
    let mut h1 = lab.start(kind, 1, &single(1, version, interval, PRIO_ACTIVE))?;
    tl.line(
        h1.started_ns,
        PLAIN,
        &format!("h1: started, priority {PRIO_ACTIVE} (pid {})", h1.pid()),
    );
    let g = lab.wait_garp(1, VIP, h1.started_ns, Duration::from_secs(5) + interval * 5);
    h1.check_alive()?;
    let g = g?;
    tl.line(
        g.t,
        GREEN,
        &format!(
            "h1 is Active: gratuitous ARP for {VIP} from {}",
            mac_text(lab.mac(1))
        ),
    );
    let mut h2 = lab.start(kind, 2, &single(2, version, interval, PRIO_BACKUP))?;
    tl.line(
        h2.started_ns,
        PLAIN,
        &format!("h2: started, priority {PRIO_BACKUP} (pid {})", h2.pid()),
    );
    sleep(Duration::from_millis(300) + interval * 3)?;
    h2.check_alive()?;
    let h2_src = Topology::host_addr(2);
    let h2_adverts = lab
        .capture
        .since(h2.started_ns)
        .iter()
        .filter(|e| matches!(e.kind, Kind::Advert { src, .. } if src == h2_src))
        .count();
    tl.line(
        now_ns(),
        PLAIN,
        &format!(
            "h2 is Backup: it sent {h2_adverts} adverts since it started (h1 keeps advertising)"
        ),
    );
    // For the clean-up test: a panic with both daemons and the capture up.
    if std::env::var_os("VRRP_LAB_TEST_PANIC").is_some() {
        panic!("VRRP_LAB_TEST_PANIC is set: panicking with the lab up");
    }
    let period = Duration::from_millis(5);
    let _probe = Prober::start(&lab.topo.client, VIP, period)?;
    let r = lab.wait_reply(1, VIP, now_ns(), Duration::from_secs(3))?;
    tl.line(
        r.t,
        GREEN,
        &format!("client reaches {VIP}: ping answered by h1 (probe every {period:?})"),
    );
    sleep(Duration::from_secs(1))?;

    let kill_t = now_ns();
    lab.topo.host(1).kill_all();
    lab.topo.set_links(1, false)?;
    h1.reap();
    tl.line(kill_t, RED, "h1 crashes: kill -9 of its daemon, link down");
    let bound = scenario::master_down_ns(version, interval, PRIO_BACKUP);
    let wait = Duration::from_nanos(bound as u64) + Duration::from_secs(3);
    let g = lab.wait_garp(2, VIP, kill_t, wait);
    h2.check_alive()?;
    let g = g?;
    let last = lab.last_advert(1, VRID, tl.t0, g.t).map_or(kill_t, |e| e.t);
    let detection = g.t - last;
    let skew = scenario::skew_ns(version, interval, PRIO_BACKUP);
    tl.line(
        g.t,
        GREEN,
        &format!(
            "h2 is Active: gratuitous ARP {:.1} ms after h1's last advert (bound Master_Down_Interval = 3 × {interval:?} + skew {:.1} ms = {:.1} ms)",
            ns_to_ms(detection),
            ns_to_ms(skew),
            ns_to_ms(bound)
        ),
    );
    let r = lab.wait_reply(2, VIP, kill_t, wait)?;
    let outage = r.t - kill_t;
    tl.line(
        r.t,
        CYAN,
        &format!(
            "client reaches {VIP} again, answered by h2: outage {:.1} ms from the kill",
            ns_to_ms(outage)
        ),
    );
    sleep(Duration::from_secs(1))?;

    let _ = lab
        .topo
        .host(1)
        .ip_checked(&["addr", "del", &format!("{VIP}/24"), "dev", "eth0"]);
    lab.topo.set_links(1, true)?;
    let mut h1 = lab.start(kind, 1, &single(1, version, interval, PRIO_ACTIVE))?;
    tl.line(
        h1.started_ns,
        YELLOW,
        &format!("h1 restarts (priority {PRIO_ACTIVE}, preempts)"),
    );
    let g = lab.wait_garp(1, VIP, h1.started_ns, Duration::from_secs(5) + interval * 5);
    h1.check_alive()?;
    let g = g?;
    let back_t = h1.started_ns;
    sleep(Duration::from_secs(1))?;
    let replies: Vec<i64> = lab
        .capture
        .since(back_t)
        .iter()
        .filter(|e| matches!(e.kind, Kind::EchoReply { src, .. } if src == VIP))
        .map(|e| e.t)
        .collect();
    let gap = replies.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    // Print what happened in capture order: the Active's advert (which
    // sends h2 back to Backup) comes before its gratuitous ARP.
    let mut lines = vec![(g.t, GREEN, "h1 is Active again: gratuitous ARP".to_string())];
    if let Some(e) = lab.last_advert(2, VRID, back_t, now_ns()) {
        lines.push((
            e.t,
            PLAIN,
            "h2 is Backup again: its last advert".to_string(),
        ));
    }
    lines.sort_by_key(|l| l.0);
    for (t, colour, text) in lines {
        tl.line(t, colour, &text);
    }
    tl.line(
        now_ns(),
        CYAN,
        &format!(
            "switch-back: {} answers since h1 restarted, longest gap {:.1} ms (probe every {period:?})",
            replies.len(),
            ns_to_ms(gap)
        ),
    );

    let term_t = now_ns();
    h1.signal(libc::SIGTERM);
    tl.line(term_t, YELLOW, "h1 stops gracefully (SIGTERM)");
    let h1_src = Topology::host_addr(1);
    let zero = lab.capture.wait_for(
        term_t,
        Duration::from_secs(3),
        "h1's priority-0 advert",
        |e| matches!(e.kind, Kind::Advert { src, priority: 0, .. } if src == h1_src),
    )?;
    tl.line(zero.t, PLAIN, "h1 sends priority 0");
    let g = lab.wait_garp(2, VIP, term_t, Duration::from_secs(3))?;
    let graceful = g.t - zero.t;
    tl.line(
        g.t,
        GREEN,
        &format!(
            "h2 is Active: gratuitous ARP {:.1} ms after the priority-0 advert (Skew_Time {:.1} ms)",
            ns_to_ms(graceful),
            ns_to_ms(skew)
        ),
    );
    h1.stop(Duration::from_secs(2));
    h2.stop(Duration::from_secs(2));
    drop(lab);
    tl.line(
        now_ns(),
        PLAIN,
        "cleaned up: daemons stopped, namespaces deleted",
    );
    Ok(DemoSummary {
        detection,
        bound,
        outage,
        switch_back_gap: gap,
        graceful,
    })
}

/// The VIP the demo moves.
pub fn vip() -> Ipv4Addr {
    VIP
}
