//! The command line of `garp`, which sends or watches gratuitous ARPs and
//! unsolicited Neighbor Advertisements.
//!
//! ```text
//! garp 198.18.0.5 dev veth0 [--count N] [--interval MS] [--reply] [--mac MAC]
//! garp fd00:198:18::5 dev veth0 [--router] [--source IPV6] [--mac MAC]
//! garp --listen dev veth0 [--json] [--count N] [--all]
//! ```

use std::net::Ipv6Addr;
use std::time::Duration;

use clap::Parser;
use vrrp_arp::MacAddr;

/// Announce an address's MAC with gratuitous ARP (IPv4) or an unsolicited
/// Neighbor Advertisement (IPv6), or print the announcements seen on a link.
#[derive(Debug, Parser)]
#[command(
    name = "garp",
    version = super::VERSION,
    override_usage = "garp ADDR dev IFACE [OPTIONS]\n       garp --listen dev IFACE [--json] [--count N] [--all]",
    after_help = "IPv4 sends ARP requests by default (as keepalived does); --reply sends replies, \
                  which some switches need. IPv6 sends NAs to ff02::1 with Override set, from the \
                  interface's link-local address. Needs CAP_NET_RAW."
)]
pub struct Cli {
    /// `ADDR dev IFACE` to announce ADDR, or `dev IFACE` with --listen.
    #[arg(value_name = "WORDS", required = true, num_args = 1..)]
    pub words: Vec<String>,

    /// Print announcements seen on IFACE instead of sending.
    #[arg(long)]
    pub listen: bool,

    /// With --listen: one JSON object per line.
    #[arg(long, requires = "listen")]
    pub json: bool,

    /// With --listen: also print ordinary ARP and solicited NAs.
    #[arg(long, requires = "listen")]
    pub all: bool,

    /// Packets to send [default: 5, keepalived's garp_master_repeat], or
    /// announcements to print before exiting with --listen [default: forever].
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u32>,

    /// Milliseconds between packets (keepalived's garp_interval / gna_interval).
    #[arg(long, value_name = "MS", value_parser = parse_millis, default_value = "0",
          conflicts_with = "listen")]
    pub interval: Duration,

    /// IPv4: send gratuitous ARP replies instead of requests.
    #[arg(long, conflicts_with = "listen")]
    pub reply: bool,

    /// The MAC to announce and send from [default: the interface's].
    #[arg(long, value_name = "MAC", conflicts_with = "listen")]
    pub mac: Option<MacAddr>,

    /// IPv6: set the Router flag (RFC 9568 §6.4.2 says a VRRP router does).
    #[arg(long, conflicts_with = "listen")]
    pub router: bool,

    /// IPv6: source address [default: the interface's link-local].
    #[arg(long, value_name = "IPV6", conflicts_with = "listen")]
    pub source: Option<Ipv6Addr>,
}

fn parse_millis(s: &str) -> Result<Duration, String> {
    s.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("{s:?} is not a whole number of milliseconds"))
}
