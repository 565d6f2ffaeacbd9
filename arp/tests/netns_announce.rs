//! End to end on a real (namespaced) LAN: host `a` announces a VIP with a
//! new MAC; host `b` captures with our listener and with tcpdump; host `c`
//! had the VIP cached at an old MAC and must switch to the new one.
//!
//! Linux only updates *existing* neighbour entries from gratuitous ARP
//! (`arp_accept=0`) and from unsolicited NAs, so `c` is primed with a stale
//! entry first.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use vrrp_arp::{
    AnnounceListener, AnnounceSocket, Announcement, AnnouncementPolicy, AnnouncementSchedule,
    ArpMessage, ArpOperation, LinkLocalError, MacAddr, NeighborAdvert, PacketType,
    ReceivedAnnouncement, SocketError, SocketOp, interface_index, link_local_address,
};
use vrrp_testns::{ChildGuard, Lan, Netns, have_program, netns_available};

const OLD_MAC: &str = "02:00:00:00:00:01";
const VIP4: &str = "198.18.0.100";
const VIP6: &str = "fd00:198:18::100";
/// Generous for a loaded 2-core CI machine; only bounds a failure.
const PATIENCE: Duration = Duration::from_secs(5);

/// A LAN of three hosts, with `c` holding a stale entry for `vip` at OLD_MAC.
fn lan(tag: &str, vip: &str) -> Lan {
    let mut lan = Lan::new(tag);
    let v6 = vip.contains(':');
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        let addr = if v6 {
            format!("fd00:198:18::{}/64", i + 1)
        } else {
            format!("198.18.0.{}/24", i + 1)
        };
        lan.add_host(name, &[&addr]);
    }
    let family = if v6 { "-6" } else { "-4" };
    lan.hosts[2].ip(&[
        family, "neigh", "replace", vip, "lladdr", OLD_MAC, "dev", "eth0", "nud", "stale",
    ]);
    assert!(neighbour(&lan.hosts[2], vip).contains(OLD_MAC));
    lan
}

fn neighbour(ns: &Netns, ip: &str) -> String {
    ns.ip(&["neigh", "show", ip, "dev", "eth0"])
}

/// Waits until `c`'s entry for `ip` shows `mac`, and returns the entry.
fn wait_for_neighbour(ns: &Netns, ip: &str, mac: MacAddr) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let entry = neighbour(ns, ip);
        if entry.contains(&mac.to_string()) || Instant::now() > deadline {
            return entry;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Starts our listener on `ns`'s eth0 on its own thread; returns once it is
/// open, with a handle yielding the first `count` announcements.
fn listen(ns: &Netns, count: usize) -> thread::JoinHandle<Vec<ReceivedAnnouncement>> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let path = format!("/run/netns/{}", ns.name());
    let handle = thread::spawn(move || {
        enter(&path);
        let listener = AnnounceListener::open_by_name("eth0").expect("open listener");
        listener.set_read_timeout(Some(PATIENCE)).unwrap();
        ready_tx.send(()).unwrap();
        (0..count)
            .map(|_| listener.recv_announcement().expect("announcement in time"))
            .collect()
    });
    ready_rx.recv_timeout(PATIENCE).expect("listener ready");
    handle
}

/// Moves this thread into the namespace at `path` (what `Netns::run_in`
/// does, but for a thread that must outlive the call).
fn enter(path: &str) {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path).expect("open netns");
    // SAFETY: setns on a valid namespace fd changes only this thread's
    // network namespace; the thread is ours.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// tcpdump on `ns`'s eth0, printing matching frames with their link-layer
/// header; returns once it is capturing.
fn tcpdump(ns: &Netns, count: usize, filter: &str) -> ChildGuard {
    let count = count.to_string();
    let mut child: Child = ns
        .command("tcpdump")
        .args(["-i", "eth0", "-nn", "-e", "-vv", "-l", "-c", &count, filter])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcpdump");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("listening on"));
    assert!(listening, "tcpdump did not start");
    // Keep draining stderr so tcpdump never blocks on it.
    thread::spawn(move || lines.for_each(drop));
    ChildGuard::new(child)
}

/// Waits for tcpdump to exit after its `-c` frames and returns what it printed.
fn tcpdump_output(mut guard: ChildGuard) -> String {
    let deadline = Instant::now() + PATIENCE;
    let child = guard.child();
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "tcpdump saw too few frames");
        thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// Drives an AnnouncementSchedule in real time from inside `ns`, sending
/// what `frame_for` builds; returns how many frames went out.
fn announce(
    ns: &Netns,
    policy: AnnouncementPolicy,
    vip: IpAddr,
    frame_for: impl Fn(IpAddr) -> Vec<u8> + Send + 'static,
) -> usize {
    ns.run_in(move || {
        let socket = AnnounceSocket::open_by_name("eth0").expect("open socket");
        let mut schedule = AnnouncementSchedule::new(policy);
        schedule.start(Instant::now(), [vip]);
        let mut sent = 0;
        while let Some(at) = schedule.poll_timeout() {
            thread::sleep(at.saturating_duration_since(Instant::now()));
            while let Some(due) = schedule.poll_due(Instant::now()) {
                socket.send_frame(&frame_for(due.addr)).expect("send");
                sent += 1;
            }
        }
        sent
    })
}

fn burst_of(count: u32) -> AnnouncementPolicy {
    AnnouncementPolicy::default()
        .with_repeat(count)
        .with_second_burst_delay(Duration::ZERO)
        .with_packet_interval(Duration::from_millis(10))
}

fn gratuitous_arp_moves_the_neighbour_entry(test: &str, operation: ArpOperation) {
    if !netns_available(test) {
        return;
    }
    assert!(
        have_program("tcpdump"),
        "{test}: needs tcpdump (apt-get install tcpdump)"
    );
    let lan = lan("ga", VIP4);
    let new_mac = MacAddr::vrrp_v4(51);
    let listener = listen(&lan.hosts[1], 3);
    let capture = tcpdump(&lan.hosts[1], 3, "arp");

    let sent = announce(
        &lan.hosts[0],
        burst_of(3),
        VIP4.parse().unwrap(),
        move |ip| {
            let IpAddr::V4(ip) = ip else { unreachable!() };
            ArpMessage::gratuitous(ip, new_mac, operation).to_frame()
        },
    );
    assert_eq!(sent, 3);

    let seen = listener.join().unwrap();
    let expected = ArpMessage::gratuitous(VIP4.parse().unwrap(), new_mac, operation);
    for r in &seen {
        assert_eq!(r.announcement, Announcement::Arp(expected));
        assert_eq!(r.packet_type, PacketType::Broadcast);
    }
    let dump = tcpdump_output(capture);
    let line = match operation {
        ArpOperation::Request => format!("Request who-has {VIP4} tell {VIP4}"),
        ArpOperation::Reply => format!("Reply {VIP4} is-at {new_mac}"),
    };
    assert_eq!(dump.matches(&line).count(), 3, "tcpdump printed:\n{dump}");
    // Padded to the Ethernet minimum: 60 bytes on the wire, 46 of ARP.
    assert_eq!(dump.matches("length 60").count(), 3, "{dump}");

    let entry = wait_for_neighbour(&lan.hosts[2], VIP4, new_mac);
    assert!(
        entry.contains(&format!("lladdr {new_mac}")),
        "c still has: {entry}"
    );
}

#[test]
fn gratuitous_arp_request_moves_the_neighbour_entry() {
    gratuitous_arp_moves_the_neighbour_entry(
        "gratuitous_arp_request_moves_the_neighbour_entry",
        ArpOperation::Request,
    );
}

#[test]
fn gratuitous_arp_reply_moves_the_neighbour_entry() {
    gratuitous_arp_moves_the_neighbour_entry(
        "gratuitous_arp_reply_moves_the_neighbour_entry",
        ArpOperation::Reply,
    );
}

/// The sender's usable link-local address, waiting out DAD after link up.
fn wait_for_link_local(ns: &Netns) -> std::net::Ipv6Addr {
    ns.run_in(|| {
        let ifindex = interface_index("eth0").unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            match link_local_address(ifindex) {
                Ok(addr) => return addr,
                Err(LinkLocalError::Tentative { .. }) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("link-local of eth0: {e}"),
            }
        }
    })
}

#[test]
fn unsolicited_na_moves_the_neighbour_entry() {
    let test = "unsolicited_na_moves_the_neighbour_entry";
    if !netns_available(test) {
        return;
    }
    assert!(
        have_program("tcpdump"),
        "{test}: needs tcpdump (apt-get install tcpdump)"
    );
    let lan = lan("na", VIP6);
    let new_mac = MacAddr::vrrp_v6(51);
    let source = wait_for_link_local(&lan.hosts[0]);
    assert!(source.is_unicast_link_local());
    let listener = listen(&lan.hosts[1], 2);
    let capture = tcpdump(&lan.hosts[1], 2, "icmp6 and ip6[40] == 136");

    let sent = announce(
        &lan.hosts[0],
        burst_of(2),
        VIP6.parse().unwrap(),
        move |ip| {
            let IpAddr::V6(ip) = ip else { unreachable!() };
            NeighborAdvert::unsolicited(ip, new_mac, source, true).to_frame()
        },
    );
    assert_eq!(sent, 2);

    let expected = NeighborAdvert::unsolicited(VIP6.parse().unwrap(), new_mac, source, true);
    for r in listener.join().unwrap() {
        assert_eq!(r.announcement, Announcement::NeighborAdvert(expected));
        assert_eq!(r.packet_type, PacketType::Multicast);
    }
    let dump = tcpdump_output(capture);
    assert_eq!(dump.matches("[icmp6 sum ok]").count(), 2, "{dump}");
    assert_eq!(dump.matches("hlim 255").count(), 2, "{dump}");
    assert_eq!(
        dump.matches("Flags [router, override]").count(),
        2,
        "{dump}"
    );
    assert_eq!(
        dump.matches(&format!("{source} > ff02::1")).count(),
        2,
        "{dump}"
    );
    assert_eq!(dump.matches(&format!("tgt is {VIP6}")).count(), 2, "{dump}");

    let entry = wait_for_neighbour(&lan.hosts[2], VIP6, new_mac);
    assert!(
        entry.contains(&format!("lladdr {new_mac}")),
        "c still has: {entry}"
    );
    assert!(entry.contains("router"), "R flag not learnt: {entry}");
}

#[test]
fn listener_filter_drops_other_traffic() {
    if !netns_available("listener_filter_drops_other_traffic") {
        return;
    }
    let mut lan = Lan::new("lf");
    lan.add_host("a", &["198.18.0.1/24"]);
    lan.add_host("b", &["198.18.0.2/24"]);
    let (ready_tx, ready_rx) = mpsc::channel();
    let path = format!("/run/netns/{}", lan.hosts[1].name());
    let receiver = thread::spawn(move || {
        enter(&path);
        let listener = AnnounceListener::open_by_name("eth0").unwrap();
        listener.set_read_timeout(Some(PATIENCE)).unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 1514];
        let (frame, _) = listener.recv_frame(&mut buf).unwrap();
        frame.to_vec()
    });
    ready_rx.recv_timeout(PATIENCE).unwrap();
    let garp = ArpMessage::gratuitous(
        VIP4.parse().unwrap(),
        MacAddr([2, 0, 0, 0, 0, 9]),
        ArpOperation::Request,
    );
    lan.hosts[0].run_in(move || {
        let socket = AnnounceSocket::open_by_name("eth0").unwrap();
        // A broadcast IPv4 frame (not an announcement) first, then the GARP.
        let mut ipv4 = garp.to_frame();
        ipv4[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        socket.send_frame(&ipv4).unwrap();
        socket.send(&Announcement::Arp(garp)).unwrap();
    });
    let first = receiver.join().unwrap();
    assert_eq!(Announcement::parse(&first), Ok(Announcement::Arp(garp)));
}

#[test]
fn socket_errors_are_typed_and_keep_the_errno() {
    if !netns_available("socket_errors_are_typed_and_keep_the_errno") {
        return;
    }
    let mut lan = Lan::new("se");
    lan.add_host("a", &["198.18.0.1/24"]);
    let ns = &lan.hosts[0];
    let link = ns.ip(&["link", "show", "eth0"]);
    let (mac, lo_err, missing, short, timeout) = ns.run_in(|| {
        let socket = AnnounceSocket::open_by_name("eth0").unwrap();
        let listener = AnnounceListener::open(socket.ifindex()).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut buf = [0u8; 64];
        (
            socket.interface_mac().unwrap(),
            AnnounceSocket::open_by_name("lo").unwrap_err(),
            AnnounceSocket::open(9999).unwrap_err(),
            socket.send_frame(&[0u8; 13]).unwrap_err(),
            // Nothing is announced on this quiet LAN, so this times out.
            listener
                .recv_frame(&mut buf)
                .map(|(f, _)| f.len())
                .unwrap_err(),
        )
    });
    assert!(link.contains(&format!("link/ether {mac}")), "{link}");
    assert!(
        matches!(
            lo_err,
            SocketError::NotEthernet {
                hardware_type: 772,
                ..
            }
        ),
        "{lo_err}"
    );
    assert!(
        matches!(
            missing,
            SocketError::Io {
                op: SocketOp::Bind,
                ifindex: 9999,
                ..
            }
        ),
        "{missing}"
    );
    assert_eq!(missing.raw_os_error(), Some(libc::ENODEV));
    assert!(matches!(short, SocketError::FrameTooShort(13)));
    assert!(timeout.is_would_block(), "{timeout}");
}
