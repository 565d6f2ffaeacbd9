//! Builds the gratuitous ARP that announces an address and prints it; with
//! an interface, sends it there too.
//!
//! ```sh
//! cargo run -p vrrp-arp --example announce -- 198.18.0.5 00:00:5e:00:01:33
//! ip netns exec demo cargo run -p vrrp-arp --example announce -- 198.18.0.5 00:00:5e:00:01:33 eth0
//! ```
//!
//! Sending needs `CAP_NET_RAW`; send only on a link of your own.

use vrrp_arp::{AnnounceSocket, Announcement, ArpMessage, ArpOperation, MacAddr};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(ip), Some(mac)) = (args.next(), args.next()) else {
        eprintln!("usage: announce IPV4 MAC [INTERFACE]");
        std::process::exit(2);
    };
    let mac: MacAddr = mac.parse()?;
    let garp: Announcement = ArpMessage::gratuitous(ip.parse()?, mac, ArpOperation::Request).into();
    let mut frame = [0u8; 128];
    let len = garp.emit(&mut frame)?;
    let hex: Vec<String> = frame[..len].iter().map(|b| format!("{b:02x}")).collect();
    println!("{len}-byte frame: {}", hex.join(" "));
    if let Some(ifname) = args.next() {
        AnnounceSocket::open_by_name(&ifname)?.send(&garp)?;
        println!("sent on {ifname}");
    }
    Ok(())
}
