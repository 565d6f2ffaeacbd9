//! `garp`: announce where an address lives (gratuitous ARP for IPv4, an
//! unsolicited Neighbor Advertisement for IPv6), or watch such announcements.
//!
//! ```text
//! garp 198.18.0.5 dev veth0 [--count N] [--interval MS] [--reply] [--mac MAC]
//! garp fd00:198:18::5 dev veth0 [--router] [--source IPV6] [--mac MAC]
//! garp --listen dev veth0 [--json] [--count N] [--all]
//! ```

use std::io::Write;
use std::net::{IpAddr, Ipv6Addr};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser, error::ErrorKind};
use serde_json::json;
use vrrp_arp::{
    AnnounceListener, AnnounceSocket, Announcement, AnnouncementPolicy, AnnouncementSchedule,
    ArpMessage, ArpOperation, LinkLocalError, NeighborAdvert, PacketType, ReceivedAnnouncement,
    link_local_address,
};
use vrrpd_cli::args::garp::Cli;

/// How long to wait for a tentative link-local address to finish DAD
/// (about a second after link up with the kernel's defaults).
const DAD_PATIENCE: Duration = Duration::from_secs(3);

/// What the positional words asked for.
enum Target {
    Send { addr: IpAddr, iface: String },
    Listen { iface: String },
}

fn target(cli: &Cli) -> Result<Target, String> {
    let words: Vec<&str> = cli.words.iter().map(String::as_str).collect();
    match (cli.listen, words.as_slice()) {
        (true, ["dev", iface]) => Ok(Target::Listen {
            iface: iface.to_string(),
        }),
        (true, _) => Err("expected `--listen dev IFACE`".into()),
        (false, [addr, "dev", iface]) => {
            let addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv4 or IPv6 address"))?;
            Ok(Target::Send {
                addr,
                iface: iface.to_string(),
            })
        }
        (false, _) => Err("expected `ADDR dev IFACE`".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let target = match target(&cli) {
        Ok(t) => t,
        Err(msg) => Cli::command().error(ErrorKind::InvalidValue, msg).exit(),
    };
    let result = match target {
        Target::Send { addr, iface } => send(&cli, addr, &iface),
        Target::Listen { iface } => listen(&cli, &iface),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("garp: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn send(cli: &Cli, addr: IpAddr, iface: &str) -> Result<(), String> {
    let socket = AnnounceSocket::open_by_name(iface).map_err(|e| e.to_string())?;
    let mac = match cli.mac {
        Some(mac) => mac,
        None => socket.interface_mac().map_err(|e| e.to_string())?,
    };
    let (frame, what) = match addr {
        IpAddr::V4(ip) => {
            if cli.router || cli.source.is_some() {
                return Err("--router and --source apply to IPv6 only".into());
            }
            let (op, what) = if cli.reply {
                (ArpOperation::Reply, "gratuitous ARP reply")
            } else {
                (ArpOperation::Request, "gratuitous ARP request")
            };
            (ArpMessage::gratuitous(ip, mac, op).to_frame(), what)
        }
        IpAddr::V6(ip) => {
            if cli.reply {
                return Err("--reply applies to IPv4 only".into());
            }
            let source = match cli.source {
                Some(source) => source,
                None => wait_for_link_local(socket.ifindex(), iface)?,
            };
            let na = NeighborAdvert::unsolicited(ip, mac, source, cli.router);
            (na.to_frame(), "unsolicited neighbor advertisement")
        }
    };
    let defaults = AnnouncementPolicy::default();
    let policy = defaults
        .with_repeat(cli.count.unwrap_or(defaults.repeat))
        .with_second_burst_delay(Duration::ZERO)
        .with_refresh(Duration::ZERO, 0)
        .with_packet_interval(cli.interval);
    let mut schedule = AnnouncementSchedule::new(policy);
    schedule.start(Instant::now(), [addr]);
    let mut sent = 0u32;
    while let Some(at) = schedule.poll_timeout() {
        thread::sleep(at.saturating_duration_since(Instant::now()));
        while schedule.poll_due(Instant::now()).is_some() {
            socket.send_frame(&frame).map_err(|e| e.to_string())?;
            sent += 1;
        }
    }
    let plural = if sent == 1 { "" } else { "s" };
    println!("sent {sent} {what}{plural} for {addr} at {mac} on {iface}");
    Ok(())
}

fn wait_for_link_local(ifindex: u32, iface: &str) -> Result<Ipv6Addr, String> {
    let deadline = Instant::now() + DAD_PATIENCE;
    loop {
        match link_local_address(ifindex) {
            Ok(addr) => return Ok(addr),
            Err(LinkLocalError::Tentative { .. }) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(format!("{iface}: {e}; pass --source to choose one")),
        }
    }
}

fn listen(cli: &Cli, iface: &str) -> Result<(), String> {
    let listener = AnnounceListener::open_by_name(iface).map_err(|e| e.to_string())?;
    // Tells scripts (and tests) that nothing sent from now on is missed.
    eprintln!("garp: listening on {iface}");
    let mut stdout = std::io::stdout().lock();
    let mut printed = 0u32;
    while cli.count.is_none_or(|count| printed < count) {
        let received = listener.recv_announcement().map_err(|e| e.to_string())?;
        if !cli.all && !received.announcement.is_unsolicited() {
            continue;
        }
        let line = if cli.json {
            to_json(&received).to_string()
        } else {
            to_text(&received)
        };
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("stdout: {e}"))?;
        printed += 1;
    }
    Ok(())
}

fn packet_type(t: PacketType) -> String {
    match t {
        PacketType::Host => "host".into(),
        PacketType::Broadcast => "broadcast".into(),
        PacketType::Multicast => "multicast".into(),
        PacketType::OtherHost => "otherhost".into(),
        PacketType::Outgoing => "outgoing".into(),
        PacketType::Other(n) => format!("pkttype-{n}"),
    }
}

fn operation(op: ArpOperation) -> &'static str {
    match op {
        ArpOperation::Request => "request",
        ArpOperation::Reply => "reply",
    }
}

/// `arp-request 198.18.0.5 is-at 00:00:5e:00:01:33 target 198.18.0.5 eth-src … broadcast`
/// or `na fd00::5 is-at … from fe80::1 flags R-O eth-src … multicast`.
fn to_text(r: &ReceivedAnnouncement) -> String {
    let direction = packet_type(r.packet_type);
    match &r.announcement {
        Announcement::Arp(arp) => format!(
            "arp-{} {} is-at {} target {} eth-src {} {direction}",
            operation(arp.operation),
            arp.sender_ip,
            arp.sender_mac,
            arp.target_ip,
            arp.eth_src,
        ),
        Announcement::NeighborAdvert(na) => {
            let flag = |on, c| if on { c } else { '-' };
            let flags: String = [
                flag(na.router, 'R'),
                flag(na.solicited, 'S'),
                flag(na.override_flag, 'O'),
            ]
            .into_iter()
            .collect();
            let mac = na
                .target_mac
                .map_or("(none)".to_string(), |m| m.to_string());
            format!(
                "na {} is-at {mac} from {} flags {flags} eth-src {} {direction}",
                na.target, na.source, na.eth_src,
            )
        }
    }
}

fn to_json(r: &ReceivedAnnouncement) -> serde_json::Value {
    let direction = packet_type(r.packet_type);
    match &r.announcement {
        Announcement::Arp(arp) => json!({
            "type": "arp",
            "operation": operation(arp.operation),
            "ip": arp.sender_ip.to_string(),
            "mac": arp.sender_mac.to_string(),
            "target_ip": arp.target_ip.to_string(),
            "target_mac": arp.target_mac.to_string(),
            "gratuitous": arp.is_gratuitous(),
            "eth_src": arp.eth_src.to_string(),
            "eth_dst": arp.eth_dst.to_string(),
            "packet_type": direction,
        }),
        Announcement::NeighborAdvert(na) => json!({
            "type": "na",
            "ip": na.target.to_string(),
            "mac": na.target_mac.map(|m| m.to_string()),
            "source": na.source.to_string(),
            "destination": na.destination.to_string(),
            "router": na.router,
            "solicited": na.solicited,
            "override": na.override_flag,
            "eth_src": na.eth_src.to_string(),
            "eth_dst": na.eth_dst.to_string(),
            "packet_type": direction,
        }),
    }
}
