//! 2,000 VIPs in one instance (Many VIPs #7): they move on kill -9 and on
//! SIGTERM, every address is announced exactly as the schedule says, a
//! reload that drops 1,000 of them leaves exactly the other 1,000 without
//! a transition, none is left behind, and the Active's adverts never stop
//! long enough for a Backup to take over.

mod e2e_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, transitions, wait_for};

const N: usize = 2000;
/// keepalived's `garp_master_repeat` default: messages per address in the
/// burst on becoming Active.
const REPEAT: usize = 5;

/// The `i`-th VIP, in 198.18.2.0 - 198.18.9.255.
fn vip(i: usize) -> String {
    format!("198.18.{}.{}", 2 + i / 250, 1 + i % 250)
}

/// A native config with the first `n` VIPs, at 100 ms.
fn config(lab: &Lab, idx: usize, priority: u8, n: usize) -> PathBuf {
    let dir = lab.host_dir(idx);
    let vips: Vec<String> = (0..n).map(|i| format!("\"{}/32\"", vip(i))).collect();
    let text = format!(
        "[global]\nstate_dir = \"{}\"\ncontrol_socket = \"{}\"\nlog_level = \"info\"\n\
         [[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
         advert_interval = \"100ms\"\nvips = [{}]\n",
        dir.join("state").display(),
        dir.join("ctl.sock").display(),
        vips.join(", ")
    );
    let path = dir.join("vrrpd.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// How many of the VIPs host `idx` holds.
fn held(lab: &Lab, idx: usize) -> usize {
    lab.host(idx)
        .ip(&["-o", "-4", "addr", "show", "dev", "eth0"])
        .lines()
        .filter(|l| l.contains("/32 "))
        .count()
}

/// One frame of the client's capture: time (s), and what it was.
#[derive(Debug)]
enum Frame {
    Advert { t: f64, src: String },
    Arp { t: f64, addr: String },
}

/// Reads `tcpdump -r` of `pcap`.
fn frames(lab: &Lab, pcap: &Path) -> Vec<Frame> {
    let text = lab
        .host(CLIENT)
        .exec(&["tcpdump", "-nn", "-tt", "-r", pcap.to_str().unwrap()]);
    text.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let t: f64 = words.first()?.parse().ok()?;
            if l.contains("VRRPv3, Advertisement") {
                Some(Frame::Advert {
                    t,
                    src: words.get(2)?.to_string(),
                })
            } else if l.contains("ARP, Request who-has") {
                Some(Frame::Arp {
                    t,
                    addr: words.get(4)?.to_string(),
                })
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn two_thousand_vips_move_whole_and_leave_nothing_behind() {
    if !vrrp_testns::netns_available("two_thousand_vips_move_whole_and_leave_nothing_behind") {
        return;
    }
    let lab = Lab::new("mvip", Variant::V3_IPV4);
    let pcap = lab.host_dir(CLIENT).join("capture.pcap");
    // Immediate mode, or the frames of the last second stay in the ring
    // at SIGTERM; a 1,500-byte snap length, or each ring slot takes 256 KiB
    // and the buffer holds only 128 frames of a 10,000-frame burst.
    let tcpdump_log = lab.host_dir(CLIENT).join("tcpdump.log");
    let capture = lab.host(CLIENT).spawn(&[
        "sh",
        "-c",
        &format!(
            "exec tcpdump -i eth0 -nn --immediate-mode -U -s 1500 -B 32768 -w {} 'vrrp or arp' 2>{}",
            pcap.display(),
            tcpdump_log.display()
        ),
    ]);
    std::thread::sleep(Duration::from_millis(500));
    let c1 = config(&lab, H1, 200, N);
    let c2 = config(&lab, H2, 100, N);
    let mut h1 = lab.start(H1, &c1);
    check!(
        lab,
        wait_for(Duration::from_secs(10), || held(&lab, H1) == N).is_some(),
        "h1 holds {} of {N}",
        held(&lab, H1)
    );
    let mut h2 = lab.start(H2, &c2);
    std::thread::sleep(Duration::from_secs(1));
    check!(
        lab,
        held(&lab, H2) == 0,
        "h2 holds {} as Backup",
        held(&lab, H2)
    );

    // kill -9: h2 takes all of them; the crashed run's stay on h1 until it
    // starts again, cleans them up and preempts back.
    kill(h1.pid(), libc::SIGKILL);
    let _ = h1.child().wait();
    check!(
        lab,
        wait_for(Duration::from_secs(3), || held(&lab, H2) == N).is_some(),
        "after kill -9 h2 holds {} of {N}",
        held(&lab, H2)
    );
    check!(
        lab,
        held(&lab, H1) == N,
        "the crash left {}",
        held(&lab, H1)
    );
    let mut h1 = lab.start(H1, &c1);
    check!(
        lab,
        wait_for(Duration::from_secs(10), || held(&lab, H1) == N
            && held(&lab, H2) == 0)
        .is_some(),
        "preempt back: h1 {} and h2 {}",
        held(&lab, H1),
        held(&lab, H2)
    );

    // SIGTERM: h1 leaves nothing, h2 takes all of them.
    std::thread::sleep(Duration::from_millis(500));
    let sigterm = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    kill(h1.pid(), libc::SIGTERM);
    let status = h1.child().wait().unwrap();
    check!(lab, status.success(), "h1 exited with {status}");
    check!(
        lab,
        held(&lab, H1) == 0,
        "h1 left {} at stop",
        held(&lab, H1)
    );
    check!(
        lab,
        wait_for(Duration::from_secs(2), || held(&lab, H2) == N).is_some(),
        "after SIGTERM h2 holds {} of {N}",
        held(&lab, H2)
    );

    // Reload h2 with the first 1,000: exactly those stay.
    std::thread::sleep(Duration::from_secs(1));
    let before = transitions(&lab, H2);
    config(&lab, H2, 100, N / 2);
    kill(h2.pid(), libc::SIGHUP);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || held(&lab, H2) == N / 2).is_some(),
        "after the reload h2 holds {}",
        held(&lab, H2)
    );
    let left = lab
        .host(H2)
        .ip(&["-o", "-4", "addr", "show", "dev", "eth0"]);
    check!(
        lab,
        left.contains(&format!(" {}/32 ", vip(0)))
            && left.contains(&format!(" {}/32 ", vip(N / 2 - 1)))
            && !left.contains(&format!(" {}/32 ", vip(N / 2))),
        "the reload kept the wrong ones"
    );
    check!(
        lab,
        transitions(&lab, H2) == before,
        "the reload made h2 change state"
    );
    std::thread::sleep(Duration::from_secs(1));
    let h2_stop = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    kill(h2.pid(), libc::SIGTERM);
    let _ = h2.child().wait();
    check!(
        lab,
        held(&lab, H2) == 0,
        "h2 left {} at stop",
        held(&lab, H2)
    );
    // tcpdump flushes its file on SIGTERM (a kill would truncate it).
    let mut capture = capture;
    capture.signal(libc::SIGTERM);
    let _ = capture.child().wait();
    let tcpdump_said = std::fs::read_to_string(&tcpdump_log).unwrap_or_default();
    check!(
        lab,
        tcpdump_said.contains("\n0 packets dropped by kernel"),
        "the capture lost frames, so it cannot count them: {tcpdump_said}"
    );

    let frames = frames(&lab, &pcap);
    // Every VIP announced exactly REPEAT times in h2's takeover burst (the
    // second burst comes garp_master_delay = 5 s later, after the test).
    let mut garps: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &frames {
        if let Frame::Arp { t, addr } = f {
            if *t > sigterm {
                *garps.entry(addr.as_str()).or_default() += 1;
            }
        }
    }
    let wrong: Vec<_> = (0..N)
        .map(vip)
        .filter(|v| garps.get(v.as_str()).copied() != Some(REPEAT))
        .take(5)
        .collect();
    check!(
        lab,
        wrong.is_empty(),
        "announced other than {REPEAT} times in the takeover burst: {wrong:?} ({:?})",
        wrong
            .iter()
            .map(|v| garps.get(v.as_str()))
            .collect::<Vec<_>>()
    );
    // h2's adverts from its takeover to its stop, through the takeover of
    // 2,000 VIPs and the reload: no gap over the interval + 10 ms (Many
    // VIPs #7). The address worker installs off the loop; before it, the
    // install held the loop and the second advert came about 40 ms late.
    let times: Vec<f64> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Advert { t, src } if src == "198.18.0.2" && *t > sigterm + 0.2 => Some(*t),
            _ => None,
        })
        .collect();
    // They cover the whole time, from 0.2 s after the takeover to h2's
    // own stop (about 2 s, however long the test's steps took), and
    // none is late.
    check!(
        lab,
        times.len() >= 10
            && times[0] < sigterm + 0.2 + 0.11
            && *times.last().unwrap() > h2_stop - 0.11,
        "h2's adverts from {:?} to {:?} ({} of them) do not span {:.3}..{:.3}",
        times.first(),
        times.last(),
        times.len(),
        sigterm + 0.2,
        h2_stop
    );
    let longest = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    let gap_ms = (longest * 1e3).round() as u64;
    eprintln!(
        "h2: {} adverts, longest gap {:.1} ms",
        times.len(),
        longest * 1e3
    );
    check!(
        lab,
        gap_ms <= 110,
        "h2's adverts stopped for {:.1} ms",
        longest * 1e3
    );
}
