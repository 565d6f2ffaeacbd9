//! Adds a secondary (alias) address with a label, shows it, and removes
//! it again: what `use_vmac`-less keepalived does with a VIP.
//!
//! ```sh
//! ip netns add demo && ip -n demo link add eth0 type veth peer name eth1
//! ip -n demo link set eth0 up
//! ip netns exec demo cargo run -p vrrp-netaddr --example add_alias -- eth0 198.18.0.5/24
//! ```
//!
//! Needs `CAP_NET_ADMIN`; run it in a namespace of your own, as above.

use vrrp_netaddr::{AddressSpec, Handle, IpPrefix, Label};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(ifname), Some(prefix)) = (args.next(), args.next()) else {
        eprintln!("usage: add_alias INTERFACE ADDRESS/PREFIX");
        std::process::exit(2);
    };
    let prefix: IpPrefix = prefix.parse()?;
    let mut nl = Handle::new()?;
    let link = nl.link_by_name(&ifname)?;
    let mut spec = AddressSpec::new(link.index, prefix);
    if prefix.addr().is_ipv4() {
        // IPv4 labels are "<interface>:<suffix>", at most 15 bytes.
        if let Ok(label) = Label::new(format!("{ifname}:vip")) {
            spec = spec.with_label(label);
        }
    }
    println!("add {prefix} on {ifname}: {:?}", nl.add_address(&spec)?);
    for info in nl.addresses(Some(link.index))? {
        println!("  {info:?}");
    }
    println!(
        "delete {prefix}: {:?}",
        nl.delete_address(link.index, prefix)?
    );
    Ok(())
}
