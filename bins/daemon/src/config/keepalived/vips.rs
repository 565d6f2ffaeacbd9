//! `virtual_ipaddress`, `virtual_ipaddress_excluded` and
//! `static_ipaddress` lines.

use std::net::IpAddr;

use super::args::Ctx;
use super::parser::Stmt;
use crate::config::address::{parse_ip, parse_prefixed};
use crate::config::model::{AddressScope, VirtualAddress};

/// One `virtual_ipaddress`/`static_ipaddress` line:
/// `<IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] ...`.
/// `track_group`, taken only for a static address (keepalived's), goes
/// to `track_group`.
pub(super) fn read_vip(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
    mut track_group: Option<&mut Option<String>>,
) -> Option<VirtualAddress> {
    ctx.no_block(s);
    let (address, prefix_len) = match parse_prefixed(&s.key.text) {
        Ok(v) => v,
        Err(e) => {
            ctx.error(
                s.key.pos,
                format!("virtual address: {e}"),
                Some("write `198.18.0.100/24 dev eth0`".into()),
            );
            return None;
        }
    };
    let mut vip = VirtualAddress {
        prefix_len,
        ..VirtualAddress::host(address)
    };
    let mut args = s.args.iter();
    while let Some(opt) = args.next() {
        let mut value = |ctx: &mut Ctx<'_>| {
            let v = args.next();
            if v.is_none() {
                ctx.error(opt.pos, format!("`{}` needs a value", opt.text), None);
            }
            v
        };
        match opt.text.as_str() {
            "dev" => vip.device = value(ctx).map(|w| w.text.clone()),
            "label" => vip.label = value(ctx).map(|w| w.text.clone()),
            "brd" | "broadcast" => {
                if let Some(w) = value(ctx) {
                    match (parse_ip(&w.text), address) {
                        (Ok(IpAddr::V4(b)), IpAddr::V4(_)) => vip.broadcast = Some(b),
                        _ => ctx.error(
                            w.pos,
                            format!(
                                "`{}` is not an IPv4 broadcast address for {address}",
                                w.text
                            ),
                            None,
                        ),
                    }
                }
            }
            "scope" => {
                if let Some(w) = value(ctx) {
                    match AddressScope::from_name(&w.text) {
                        Some(sc) => vip.scope = Some(sc),
                        None => ctx.error(
                            w.pos,
                            format!("unknown scope `{}`", w.text),
                            Some("use site, link, host, nowhere or global".into()),
                        ),
                    }
                }
            }
            "track_group" if track_group.is_some() => {
                if let (Some(w), Some(slot)) = (value(ctx), track_group.as_deref_mut()) {
                    *slot = Some(w.text.clone());
                }
            }
            "peer" | "preferred_lft" | "track_group" => {
                let _ = value(ctx);
                ctx.warn(
                    opt.pos,
                    format!(
                        "address option `{}` is not supported and is ignored",
                        opt.text
                    ),
                    None,
                );
            }
            "home" | "-nodad" | "nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin"
            | "no_track" | "use_vmac" => {
                ctx.warn(
                    opt.pos,
                    format!(
                        "address option `{}` is not supported and is ignored",
                        opt.text
                    ),
                    None,
                );
            }
            other => ctx.error(
                opt.pos,
                format!("unknown address option `{other}`"),
                Some("supported: dev, label, brd, scope".into()),
            ),
        }
    }
    Some(vip)
}
