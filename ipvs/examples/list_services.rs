//! Prints the IPVS table of this network namespace, as `ipvsadm -Ln`
//! does. Needs `CAP_NET_ADMIN` and the `ip_vs` module.

use vrrp_ipvs::{Forwarding, Handle, ServiceKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut ipvs = Handle::new()?;
    let info = ipvs.info()?;
    let (major, minor, patch) = info.version;
    println!(
        "IP Virtual Server version {major}.{minor}.{patch} (size={})",
        info.connection_table_size
    );
    for svc in ipvs.services()? {
        let s = &svc.service;
        let key = match s.key {
            ServiceKey::Inet { protocol, addr } => format!("{protocol}  {addr}"),
            ServiceKey::Fwmark { mark, .. } => format!("FWM  {mark}"),
        };
        let persistent = s
            .persistence
            .map(|p| format!(" persistent {}", p.timeout.as_secs()))
            .unwrap_or_default();
        println!("{key} {}{persistent}", s.scheduler);
        for d in ipvs.destinations(&s.key)? {
            let how = match d.destination.forwarding {
                Forwarding::Masquerade => "Masq",
                Forwarding::DirectRouting => "Route",
                Forwarding::Tunnel { .. } => "Tunnel",
                Forwarding::Local => "Local",
                Forwarding::Bypass => "Bypass",
            };
            println!(
                "  -> {:<28} {how:<7} {:<6} {:<10} {}",
                d.destination.addr.to_string(),
                d.destination.weight,
                d.active_connections,
                d.inactive_connections
            );
        }
    }
    Ok(())
}
