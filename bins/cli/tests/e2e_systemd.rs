//! End-to-end: vrrpd under a service manager (`Type=notify`), played by
//! the test: a datagram socket as `NOTIFY_SOCKET` and `WATCHDOG_USEC` set.
//! vrrpd sends READY=1, a STATUS= line that follows its state, WATCHDOG=1
//! from its event loop at half the watchdog interval, none while the
//! process is stopped (SIGSTOP: what systemd sees of a stalled loop), and
//! STOPPING=1 at SIGTERM.

mod e2e_support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use e2e_support::{H1, Lab, Variant, kill};

/// Every message that arrives on `socket` within `d`, with its time.
fn collect(socket: &UnixDatagram, d: Duration) -> Vec<(Instant, String)> {
    let end = Instant::now() + d;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        if let Ok(n) = socket.recv(&mut buf) {
            out.push((
                Instant::now(),
                String::from_utf8_lossy(&buf[..n]).into_owned(),
            ));
        }
    }
    out
}

fn count(messages: &[(Instant, String)], line: &str) -> usize {
    messages
        .iter()
        .filter(|(_, m)| m.lines().any(|l| l == line))
        .count()
}

#[test]
fn the_watchdog_is_pinged_from_the_loop_and_the_status_follows_the_state() {
    if !vrrp_testns::netns_available(
        "the_watchdog_is_pinged_from_the_loop_and_the_status_follows_the_state",
    ) {
        return;
    }
    let lab = Lab::new("sd", Variant::V3_IPV4);
    let notify = lab.host_dir(H1).join("notify.sock");
    let socket = UnixDatagram::bind(&notify).unwrap();
    let config = lab.write_config(H1, 100, "");
    let mut h1 = lab.start_args(
        H1,
        &["--config".as_ref(), config.as_os_str()],
        &[
            ("NOTIFY_SOCKET", notify.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let running = collect(&socket, Duration::from_secs(3));
    let texts: Vec<&str> = running.iter().map(|(_, m)| m.as_str()).collect();
    let pings = count(&running, "WATCHDOG=1");
    let ok = count(&running, "READY=1") == 1
        && (10..=20).contains(&pings)
        && texts
            .iter()
            .any(|m| m.contains("STATUS=0 active, 1 backup"))
        && texts
            .iter()
            .any(|m| m.contains("STATUS=1 active, 0 backup"));
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "{pings} pings in 3 s at 200 ms; messages: {texts:?}");
    // The gaps between pings stay near 200 ms.
    let times: Vec<Instant> = running
        .iter()
        .filter(|(_, m)| m.lines().any(|l| l == "WATCHDOG=1"))
        .map(|(t, _)| *t)
        .collect();
    let longest = times.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(longest < Duration::from_millis(350), "a gap of {longest:?}");

    // Stopped, as a stalled loop would be: no ping.
    kill(h1.pid(), libc::SIGSTOP);
    let stopped = collect(&socket, Duration::from_secs(1));
    kill(h1.pid(), libc::SIGCONT);
    assert_eq!(count(&stopped, "WATCHDOG=1"), 0, "{stopped:?}");
    let resumed = collect(&socket, Duration::from_secs(1));
    assert!(count(&resumed, "WATCHDOG=1") >= 3, "{resumed:?}");

    kill(h1.pid(), libc::SIGTERM);
    let stopping = collect(&socket, Duration::from_secs(2));
    let _ = h1.child().wait();
    assert_eq!(count(&stopping, "STOPPING=1"), 1, "{stopping:?}");
}
