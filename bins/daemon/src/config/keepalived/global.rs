//! `global_defs`: the global settings, and the instance defaults that
//! keepalived takes from there (VRRP version, gratuitous ARP timing,
//! multicast groups, advert checks), resolved once every instance is read.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::args::Ctx;
use super::keywords::{self, ignore};
use super::parser::Stmt;
use crate::config::diagnostics::Pos;
use crate::config::model::{Config, Hook, NotifyFifo, RunAs, Version};

/// `global_defs` settings that act as instance defaults.
#[derive(Debug, Default)]
pub(super) struct Defaults {
    pub(super) version: Option<Version>,
    pub(super) garp_delay: Option<Option<Duration>>,
    pub(super) garp_repeat: Option<u32>,
    pub(super) garp_refresh: Option<Option<Duration>>,
    pub(super) garp_refresh_repeat: Option<u32>,
    pub(super) garp_lower_prio_repeat: Option<u32>,
    pub(super) notify_priority_changes: bool,
    pub(super) garp_lower_prio_delay: Option<Option<Duration>>,
    /// `garp_group` pacing, by interface.
    pub(super) garp_groups: std::collections::BTreeMap<String, super::garp::GarpPacing>,
    /// Where `interface_up_down_delays` was written.
    pub(super) link_delays_at: Option<Pos>,
    /// `vrrp_garp_extra_if`: the instances' default `garp_extra_if`.
    pub(super) garp_extra_if: Option<Option<Duration>>,
    pub(super) garp_interval: Option<Duration>,
    pub(super) gna_interval: Option<Duration>,
    pub(super) check_unicast_src: bool,
    pub(super) skip_check_adv_addr: bool,
    pub(super) lower_prio_no_advert: bool,
    pub(super) higher_prio_send_advert: bool,
    pub(super) down_timer_adverts: Option<u8>,
    /// `notify_fifo` then `vrrp_notify_fifo`.
    pub(super) fifos: [FifoSlot; 2],
    pub(super) mcast_group4: Option<IpAddr>,
    pub(super) mcast_group6: Option<IpAddr>,
    /// `default_interface`: the device of a `static_ipaddress` without
    /// `dev` (keepalived: eth0 unless set).
    pub(super) default_interface: Option<String>,
    /// `vrrp_strict`: every instance's `strict_mode` unless it sets one.
    pub(super) strict: bool,
    /// `vmac_prefix`: the start of a macvlan's name when `use_vmac` gives
    /// none.
    pub(super) vmac_prefix: Option<String>,
}

/// A notify FIFO as global_defs writes it: the path (with its owner)
/// and the script, each on its own line.
#[derive(Debug, Default)]
pub(super) struct FifoSlot {
    path: Option<(PathBuf, Option<RunAs>)>,
    script: Option<Box<Hook>>,
    script_pos: Option<Pos>,
}

const GLOBAL_KEYS: &[&str] = &[
    "router_id",
    "lvs_id",
    "metrics_listen",
    "vrrp_version",
    "script_user",
    "enable_script_security",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_extra_if",
    "vrrp_vmac_garp_intvl",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_notify_priority_changes",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_down_timer_adverts",
    "vrrp_startup_delay",
    "default_interface",
    "vrrp_strict",
    "log_unknown_vrids",
    "disable_local_igmp",
    "net_namespace",
    "fifo_write_vrrp_states_on_reload",
    "vmac_prefix",
    "nftables",
    "nftables_priority",
    "nftables_counters",
    "nftables_ifindex",
    "vrrp_iptables",
    "vrrp_ipsets",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "lvs_timeouts",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
];

pub(super) fn read_global(ctx: &mut Ctx<'_>, s: &Stmt, config: &mut Config, d: &mut Defaults) {
    let key = s.key.text.as_str();
    match key {
        "router_id" => config.global.router_id = ctx.single(s).map(|w| w.text.clone()),
        // keepalived 1.x's name of router_id, still in its sample file;
        // 2.2.7 no longer knows it. router_id only names the host in
        // hooks and logs, so reading it is harmless and what was meant.
        "lvs_id" => {
            if let Some(w) = ctx.single(s) {
                ctx.warn(
                    s.key.pos,
                    "`lvs_id` is keepalived 1.x's name of `router_id`; read as `router_id` (keepalived 2.2.7 ignores it as unknown)",
                    Some(format!("write `router_id {}`", w.text)),
                );
                config.global.router_id = Some(w.text.clone());
            }
        }
        // vrrpd's own: keepalived 2.2.7 warns of an unknown keyword and
        // goes on, so one file can serve both daemons.
        "metrics_listen" => {
            if let Some(w) = ctx.single(s) {
                match w.text.parse::<std::net::SocketAddr>() {
                    Ok(addr) => config.global.metrics_listen = Some(addr),
                    Err(_) => ctx.error(
                        w.pos,
                        format!("`metrics_listen {}` is not an address:port", w.text),
                        Some("write `metrics_listen 127.0.0.1:9650` or `[::1]:9650`".into()),
                    ),
                }
            }
        }
        "vrrp_version" => {
            if let Some(w) = ctx.single(s) {
                d.version = match ctx.int(&s.key.text, w, 2..=3) {
                    Some(2) => Some(Version::V2),
                    Some(_) => Some(Version::V3),
                    None => d.version,
                };
            }
        }
        "script_user" => {
            ctx.no_block(s);
            if ctx.arity(s, 1, 2) {
                config.global.script_user = Some(RunAs {
                    user: s.args[0].text.clone(),
                    group: s.args.get(1).map(|g| g.text.clone()),
                });
            }
        }
        "enable_script_security" => {
            ctx.no_block(s);
            config.global.script_security = true;
        }
        "vrrp_garp_master_delay" | "vrrp_garp_master_refresh" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 0..=86_400) {
                    let v = Some((n > 0).then(|| Duration::from_secs(n as u64)));
                    if key == "vrrp_garp_master_delay" {
                        d.garp_delay = v;
                    } else {
                        d.garp_refresh = v;
                    }
                }
            }
        }
        "vrrp_garp_extra_if" | "vrrp_vmac_garp_intvl" => {
            if let Some(v) = super::garp::read_garp_extra_if(ctx, s, 1) {
                d.garp_extra_if = Some(v);
            }
        }
        "vrrp_notify_priority_changes" => d.notify_priority_changes = ctx.flag(s),
        "vrrp_garp_lower_prio_repeat" => {
            if let Some(w) = ctx.single(s) {
                d.garp_lower_prio_repeat = ctx.int(&s.key.text, w, 0..=255).map(|n| n as u32);
            }
        }
        "vrrp_garp_lower_prio_delay" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 0..=86_400) {
                    d.garp_lower_prio_delay = Some((n > 0).then(|| Duration::from_secs(n as u64)));
                }
            }
        }
        "vrrp_garp_master_repeat" | "vrrp_garp_master_refresh_repeat" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 1..=255) {
                    if key == "vrrp_garp_master_repeat" {
                        d.garp_repeat = Some(n as u32);
                    } else {
                        d.garp_refresh_repeat = Some(n as u32);
                    }
                }
            }
        }
        "vrrp_garp_interval" | "vrrp_gna_interval" => {
            if let Some(w) = ctx.single(s) {
                // 0, in a widely copied global_defs, means no gap between
                // packets: keepalived's default.
                let v = ctx.seconds(&s.key.text, w, Duration::ZERO, crate::config::duration::MAX);
                if key == "vrrp_garp_interval" {
                    d.garp_interval = v;
                } else {
                    d.gna_interval = v;
                }
            }
        }
        "vrrp_min_garp" => {
            if ctx.flag(s) {
                d.garp_repeat = Some(1);
                d.garp_delay = Some(None);
            }
        }
        "vrrp_check_unicast_src" => {
            ctx.no_block(s);
            d.check_unicast_src = true;
        }
        "vrrp_skip_check_adv_addr" => {
            // keepalived's handler sets it whatever follows.
            ctx.bare(s);
            d.skip_check_adv_addr = true;
        }
        "vrrp_lower_prio_no_advert" => d.lower_prio_no_advert = ctx.flag(s),
        "vrrp_higher_prio_send_advert" => d.higher_prio_send_advert = ctx.flag(s),
        "fifo_write_vrrp_states_on_reload" => {
            ctx.bare(s);
            config.global.fifo_states_on_reload = true;
        }
        "log_unknown_vrids" => {
            ctx.bare(s);
            config.global.log_unknown_vrids = true;
        }
        "net_namespace" => ctx.warn(
            s.key.pos,
            "keepalived reads `net_namespace` only at the top level (in global_defs it is an unknown keyword): ignored",
            Some("move it before global_defs".into()),
        ),
        "disable_local_igmp" => {
            ctx.bare(s);
            config.global.disable_local_igmp = true;
        }
        "vmac_prefix" => {
            if let Some(w) = ctx.single(s) {
                if d.vmac_prefix.is_some() {
                    ctx.warn(
                        w.pos,
                        "vmac_prefix is given already: ignored, as keepalived ignores it",
                        None,
                    );
                } else {
                    d.vmac_prefix = Some(w.text.clone());
                }
            }
        }
        "vrrp_strict" => {
            ctx.bare(s);
            d.strict = true;
        }
        "nftables" => {
            ctx.no_block(s);
            ctx.arity(s, 0, 1);
            if let Some(w) = s.args.first() {
                if w.text.len() > crate::config::Firewall::MAX_TABLE_LEN {
                    ctx.error(
                        w.pos,
                        format!(
                            "nftables table name `{}` is longer than {} bytes",
                            w.text,
                            crate::config::Firewall::MAX_TABLE_LEN
                        ),
                        None,
                    );
                } else {
                    config.global.firewall.table = w.text.clone();
                }
            }
        }
        "nftables_priority" => {
            if let Some(w) = ctx.single(s) {
                match w.text.parse::<i32>() {
                    Ok(p) => config.global.firewall.priority = p,
                    Err(_) => ctx.error(
                        w.pos,
                        format!("`nftables_priority {}`: not a number", w.text),
                        None,
                    ),
                }
            }
        }
        "nftables_counters" => {
            ctx.bare(s);
            config.global.firewall.counters = true;
        }
        "nftables_ifindex" => {
            // vrrpd always matches link-local VIPs with the interface index.
            ctx.bare(s);
        }
        "vrrp_iptables" | "vrrp_ipsets" => {
            ctx.no_block(s);
            ctx.warn(
                s.key.pos,
                format!(
                    "`{key}`: vrrpd filters with nftables (table `ip {}`), as keepalived does when iptables is nftables-based",
                    config.global.firewall.table
                ),
                None,
            );
        }
        "default_interface" => {
            if let Some(w) = ctx.single(s) {
                d.default_interface = Some(w.text.clone());
            }
        }
        "vrrp_startup_delay" => {
            if let Some(w) = ctx.single(s) {
                if let Some(delay) = ctx.seconds(
                    &s.key.text,
                    w,
                    Duration::from_millis(1),
                    crate::config::duration::MAX,
                ) {
                    config.global.startup_delay = delay;
                }
            }
        }
        "startup_script" | "shutdown_script" => {
            let startup = key == "startup_script";
            let slot = if startup {
                &mut config.global.startup_script
            } else {
                &mut config.global.shutdown_script
            };
            if slot.is_some() {
                ctx.warn(
                    s.key.pos,
                    format!("`{key}` is already set; this one is ignored (as keepalived)"),
                    None,
                );
            } else if let Some((exec, run_as)) = ctx.command_as(s) {
                *slot = Some(Box::new(crate::config::model::Hook { exec, run_as }));
            }
        }
        "startup_script_timeout" | "shutdown_script_timeout" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 1..=1000) {
                    let t = Duration::from_secs(n as u64);
                    if key == "startup_script_timeout" {
                        config.global.startup_script_timeout = t;
                    } else {
                        config.global.shutdown_script_timeout = t;
                    }
                }
            }
        }
        "lvs_timeouts" => read_lvs_timeouts(ctx, s, &mut config.global),
        "notify_fifo" | "vrrp_notify_fifo" => {
            let slot = &mut d.fifos[usize::from(key == "vrrp_notify_fifo")];
            if slot.path.is_some() {
                ctx.warn(
                    s.key.pos,
                    format!("`{key}` is already set; this one is ignored (as keepalived)"),
                    None,
                );
            } else if ctx.arity(s, 1, 3) {
                ctx.no_block(s);
                let owner = s.args.get(1).map(|u| RunAs {
                    user: u.text.clone(),
                    group: s.args.get(2).map(|g| g.text.clone()),
                });
                slot.path = Some((PathBuf::from(&s.args[0].text), owner));
            }
        }
        "notify_fifo_script" | "vrrp_notify_fifo_script" => {
            let slot = &mut d.fifos[usize::from(key == "vrrp_notify_fifo_script")];
            if slot.script.is_some() {
                ctx.warn(
                    s.key.pos,
                    format!("`{key}` is already set; this one is ignored (as keepalived)"),
                    None,
                );
            } else if let Some((exec, run_as)) = ctx.command_as(s) {
                slot.script = Some(Box::new(Hook { exec, run_as }));
                slot.script_pos = Some(s.key.pos);
            }
        }
        "vrrp_down_timer_adverts" => {
            if let Some(w) = ctx.single(s) {
                d.down_timer_adverts = ctx.int(&s.key.text, w, 1..=100).map(|n| n as u8);
            }
        }
        "vrrp_mcast_group4" | "vrrp_mcast_group6" => {
            if let Some(w) = ctx.single(s) {
                let v6 = key == "vrrp_mcast_group6";
                match crate::config::address::parse_ip(&w.text) {
                    Ok(ip) if ip.is_ipv6() == v6 && crate::config::model::is_vrrp_group(ip) => {
                        if v6 {
                            d.mcast_group6 = Some(ip);
                        } else {
                            d.mcast_group4 = Some(ip);
                        }
                    }
                    Ok(_) => ctx.warn(
                        w.pos,
                        format!(
                            "`{key} {}` is not an IPv{} {}multicast address; ignored, as keepalived skips it",
                            w.text,
                            if v6 { 6 } else { 4 },
                            if v6 { "link-local " } else { "" }
                        ),
                        None,
                    ),
                    Err(e) => ctx.error(w.pos, format!("`{key}`: {e}"), None),
                }
            }
        }
        _ => ignore(ctx, s, keywords::GLOBAL, "global_defs", GLOBAL_KEYS),
    }
}

/// Turns the notify FIFO lines of global_defs into the configuration's
/// FIFOs; a script without its FIFO is warned about.
pub(super) fn finish_fifos(ctx: &mut Ctx<'_>, defaults: &mut Defaults, config: &mut Config) {
    for slot in std::mem::take(&mut defaults.fifos) {
        let FifoSlot {
            path,
            script,
            script_pos,
        } = slot;
        match path {
            Some((path, owner)) => config.global.notify_fifos.push(NotifyFifo {
                path,
                owner,
                script,
            }),
            None => {
                if let Some(pos) = script_pos {
                    ctx.warn(
                        pos,
                        "a notify FIFO script without its `notify_fifo` has no effect (as in keepalived)",
                        None,
                    );
                }
            }
        }
    }
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`, seconds up to 31 days; what
/// keepalived refuses (a missing, bad or unknown value) is an error.
fn read_lvs_timeouts(ctx: &mut Ctx<'_>, s: &Stmt, global: &mut crate::config::Global) {
    ctx.no_block(s);
    if s.args.is_empty() {
        ctx.error(
            s.key.pos,
            "`lvs_timeouts` needs at least one of tcp, tcpfin, udp with seconds",
            None,
        );
        return;
    }
    let mut t = global.lvs_timeouts.unwrap_or_default();
    let max = crate::config::Global::MAX_LVS_TIMEOUT.as_secs() as i64;
    let mut words = s.args.iter();
    while let Some(w) = words.next() {
        let slot = match w.text.as_str() {
            "tcp" => &mut t.tcp,
            "tcpfin" => &mut t.tcp_fin,
            "udp" => &mut t.udp,
            other => {
                ctx.error(
                    w.pos,
                    format!("`lvs_timeouts` option `{other}` is not tcp, tcpfin or udp"),
                    None,
                );
                return;
            }
        };
        let Some(v) = words.next() else {
            ctx.error(
                w.pos,
                format!("`lvs_timeouts {}` has no value", w.text),
                None,
            );
            return;
        };
        if let Some(n) = ctx.int("lvs_timeouts", v, 0..=max) {
            *slot = Duration::from_secs(n as u64);
        }
    }
    global.lvs_timeouts = Some(t);
}
