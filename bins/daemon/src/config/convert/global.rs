//! The `[global]` table for `vrrpd convert`: what differs from the
//! defaults.

use std::fmt::Write as _;

use super::{d, hook, key, q, run_as};
use crate::config::{ChecksumMode, Global, LogLevel};

pub(super) fn global(out: &mut String, g: &Global) {
    let defaults = Global::default();
    if *g == defaults {
        return;
    }
    out.push_str("[global]\n");
    if let Some(id) = &g.router_id {
        let _ = writeln!(out, "router_id = {}", q(id));
    }
    if g.state_dir != defaults.state_dir {
        let _ = writeln!(out, "state_dir = {}", q(&g.state_dir.to_string_lossy()));
    }
    if g.control_socket != defaults.control_socket {
        let _ = writeln!(
            out,
            "control_socket = {}",
            q(&g.control_socket.to_string_lossy())
        );
    }
    if let Some(dir) = &g.dump_dir {
        let _ = writeln!(out, "dump_dir = {}", q(&dir.to_string_lossy()));
    }
    if let Some(addr) = g.metrics_listen {
        let _ = writeln!(out, "metrics_listen = {}", q(&addr.to_string()));
    }
    if g.log_level != LogLevel::Info {
        let _ = writeln!(out, "log_level = {}", q(g.log_level.as_str()));
    }
    run_as(out, g.script_user.as_ref(), "script_user", "script_group");
    if g.script_security {
        out.push_str("script_security = true\n");
    }
    if g.v3_ipv4_checksum != ChecksumMode::PseudoHeader {
        let _ = writeln!(
            out,
            "v3_ipv4_checksum = {}",
            q(crate::config::checksum_mode_name(g.v3_ipv4_checksum))
        );
    }
    if !g.notify_fifos.is_empty() {
        let fifos: Vec<String> = g
            .notify_fifos
            .iter()
            .map(|f| {
                let mut s = format!("{{ path = {}", q(&f.path.to_string_lossy()));
                if let Some(r) = &f.owner {
                    let _ = write!(s, ", user = {}", q(&r.user));
                    if let Some(grp) = &r.group {
                        let _ = write!(s, ", group = {}", q(grp));
                    }
                }
                if let Some(h) = &f.script {
                    let _ = write!(s, ", script = {}", hook(h));
                }
                s.push_str(" }");
                s
            })
            .collect();
        let _ = writeln!(out, "notify_fifo = [{}]", fifos.join(", "));
    }
    if !g.startup_delay.is_zero() {
        let _ = writeln!(out, "startup_delay = {}", d(g.startup_delay));
    }
    if g.fifo_states_on_reload {
        out.push_str("fifo_states_on_reload = true\n");
    }
    if g.log_unknown_vrids {
        out.push_str("log_unknown_vrids = true\n");
    }
    if let Some(name) = &g.net_namespace {
        let _ = writeln!(out, "net_namespace = {}", q(name));
    }
    if g.disable_local_igmp {
        out.push_str("disable_local_igmp = true\n");
    }
    if !g.link_delays.is_empty() {
        let entries: Vec<String> = g
            .link_delays
            .iter()
            .map(|(name, l)| {
                format!(
                    "{} = {{ down = {}, up = {} }}",
                    key(name),
                    d(l.down),
                    d(l.up)
                )
            })
            .collect();
        let _ = writeln!(out, "link_delays = {{ {} }}", entries.join(", "));
    }
    if g.firewall != crate::config::Firewall::default() {
        let f = &g.firewall;
        let _ = writeln!(
            out,
            "firewall = {{ table = {}, priority = {}, counters = {} }}",
            q(&f.table),
            f.priority,
            f.counters
        );
    }
    if let Some(t) = &g.lvs_timeouts {
        let set: Vec<String> = [("tcp", t.tcp), ("tcp_fin", t.tcp_fin), ("udp", t.udp)]
            .into_iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| format!("{k} = {}", d(v)))
            .collect();
        let _ = writeln!(out, "lvs_timeouts = {{ {} }}", set.join(", "));
    }
    for (key, script, timeout) in [
        (
            "startup_script",
            &g.startup_script,
            g.startup_script_timeout,
        ),
        (
            "shutdown_script",
            &g.shutdown_script,
            g.shutdown_script_timeout,
        ),
    ] {
        if let Some(h) = script {
            let _ = writeln!(out, "{key} = {}", hook(h));
        }
        if timeout != Global::DEFAULT_SCRIPT_TIMEOUT {
            let _ = writeln!(out, "{key}_timeout = {}", d(timeout));
        }
    }
    out.push('\n');
}
