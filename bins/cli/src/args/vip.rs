//! The command line of `vip`, which adds, removes, lists and watches
//! secondary and alias addresses.
//!
//! ```text
//! vip add 198.18.0.5/24 dev veth0 [label veth0:1] [--nodad] [--noprefixroute] [--scope S] [--broadcast B|+]
//! vip replace ...                        (same words as add)
//! vip del 198.18.0.5/24 dev veth0
//! vip list [dev veth0] [--json]
//! vip watch [--json] [--count N]
//! ```

use std::net::Ipv4Addr;

use clap::{Args, Parser, Subcommand};
use vrrp_netaddr::{IpPrefix, Scope};

/// Add, remove and list secondary and alias IP addresses, and watch link
/// and address changes, over rtnetlink.
#[derive(Debug, Parser)]
#[command(
    name = "vip",
    version = super::VERSION,
    after_help = "Adding an address that is already there, or deleting one that is not, \
                  succeeds and says so. Changing addresses needs CAP_NET_ADMIN. \
                  Errors go to stderr with exit status 1 (2 for usage errors)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `vip`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add an address: a secondary address, or an alias when given a label.
    #[command(override_usage = "vip add ADDRESS dev IFACE [label LABEL] [OPTIONS]")]
    Add(AddArgs),
    /// Add an address, or update the one already there (`ip addr replace`).
    /// IPv6 takes the new flags; IPv4 keeps its label, scope and broadcast.
    #[command(override_usage = "vip replace ADDRESS dev IFACE [label LABEL] [OPTIONS]")]
    Replace(AddArgs),
    /// Delete an address (address and prefix length must both match).
    #[command(alias = "delete", override_usage = "vip del ADDRESS dev IFACE")]
    Del(DelArgs),
    /// List IPv4 and IPv6 addresses.
    #[command(alias = "show", override_usage = "vip list [dev IFACE] [--json]")]
    List(ListArgs),
    /// Print link and address events as they happen, one line each.
    Watch(WatchArgs),
}

/// Arguments of `vip add` and `vip replace`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Address with prefix length: 198.18.0.5/24, fd00:198:18::5/64. A bare
    /// address means /32 or /128.
    #[arg(value_name = "ADDRESS")]
    pub address: IpPrefix,

    /// `dev IFACE`, then optionally `label LABEL`: an IPv4 alias label such as
    /// veth0:1 (what ifconfig lists as an interface), at most 15 bytes.
    #[arg(value_names = ["dev", "IFACE", "label", "LABEL"], required = true, num_args = 2..=4)]
    pub words: Vec<String>,

    /// IPv6: skip Duplicate Address Detection, so the address is usable at once.
    #[arg(long)]
    pub nodad: bool,

    /// Do not add a route for the address's subnet.
    #[arg(long)]
    pub noprefixroute: bool,

    /// Scope: global (default), site, link, host, nowhere or a number.
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<Scope>,

    /// IPv4 broadcast address, or `+` for the subnet's (like `ip ... brd +`).
    #[arg(long, value_name = "ADDR|+", value_parser = parse_broadcast)]
    pub broadcast: Option<Broadcast>,
}

/// Arguments of `vip del`.
#[derive(Debug, Args)]
pub struct DelArgs {
    /// Address with prefix length, as it was added.
    #[arg(value_name = "ADDRESS")]
    pub address: IpPrefix,

    /// `dev IFACE`.
    #[arg(value_names = ["dev", "IFACE"], required = true, num_args = 2)]
    pub words: Vec<String>,
}

/// Arguments of `vip list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// `dev IFACE` to list one interface only.
    #[arg(value_names = ["dev", "IFACE"], num_args = 2)]
    pub words: Vec<String>,

    /// One JSON array of address objects: ifname, ifindex, family, address
    /// (with prefix length), peer, label, scope, flags, broadcast.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `vip watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// One JSON object per event, with an "event" field: link_up, link_down,
    /// link_changed, link_removed, address_added, address_removed, resync.
    #[arg(long)]
    pub json: bool,

    /// Exit after this many events [default: run until killed].
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// The `--broadcast` of `vip add`.
#[derive(Debug, Clone, Copy)]
pub enum Broadcast {
    /// `+`: the subnet's broadcast address.
    Subnet,
    /// This address.
    Addr(Ipv4Addr),
}

fn parse_broadcast(s: &str) -> Result<Broadcast, String> {
    if s == "+" {
        return Ok(Broadcast::Subnet);
    }
    s.parse()
        .map(Broadcast::Addr)
        .map_err(|_| format!("{s:?} is neither an IPv4 address nor +"))
}
