//! One VIP of a native configuration: `"198.18.0.100/24"` or a table
//! `{ address, device, label, broadcast, scope }` (an instance's `vips`
//! and `excluded_vips`, and `[static] addresses`).

use toml::de::DeValue;

use super::value::{Ctx, Val, get};
use crate::config::address::parse_prefixed;
use crate::config::model::{AddressScope, VirtualAddress};

const VIP_KEYS: &[&str] = &["address", "device", "label", "broadcast", "scope"];

fn address(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Option<VirtualAddress> {
    let s = ctx.string(key, v)?;
    match parse_prefixed(s) {
        Ok((address, prefix_len)) => Some(VirtualAddress {
            prefix_len,
            ..VirtualAddress::host(address)
        }),
        Err(e) => {
            ctx.error(
                v.span(),
                format!("`{key}`: {e}"),
                Some("write an address with an optional prefix, e.g. \"198.18.0.100/24\"".into()),
            );
            None
        }
    }
}

/// One VIP, a string or a table.
pub(super) fn read_vip(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Option<VirtualAddress> {
    read_vip_with(ctx, key, v, &[])
}

/// [`read_vip`] that also allows the table keys `extra` (read by the
/// caller).
pub(super) fn read_vip_with(
    ctx: &mut Ctx<'_, '_>,
    key: &str,
    v: &Val<'_>,
    extra: &[&str],
) -> Option<VirtualAddress> {
    let DeValue::Table(t) = v.get_ref() else {
        return address(ctx, key, v);
    };
    let allowed: Vec<&str> = VIP_KEYS.iter().chain(extra).copied().collect();
    ctx.deny_unknown(t, &format!("a `{key}` entry"), &allowed);
    let mut vip = match get(t, "address") {
        Some(a) => address(ctx, "address", a)?,
        None => {
            ctx.error(v.span(), format!("`{key}` entry has no `address`"), None);
            return None;
        }
    };
    vip.device = get(t, "device").and_then(|d| ctx.nonempty("device", d));
    vip.label = get(t, "label").and_then(|d| ctx.nonempty("label", d));
    if let Some(b) = get(t, "broadcast") {
        match ctx.ip("broadcast", b) {
            Some(std::net::IpAddr::V4(a)) if vip.address.is_ipv4() => vip.broadcast = Some(a),
            Some(_) => ctx.error(
                b.span(),
                "`broadcast` needs an IPv4 address on an IPv4 VIP",
                None,
            ),
            None => {}
        }
    }
    if let Some(s) = get(t, "scope") {
        if let Some(name) = ctx.string("scope", s) {
            match AddressScope::from_name(name) {
                Some(scope) => vip.scope = Some(scope),
                None => ctx.error(
                    s.span(),
                    format!("unknown scope `{name}`"),
                    Some("use global, site, link, host or nowhere".into()),
                ),
            }
        }
    }
    Some(vip)
}
