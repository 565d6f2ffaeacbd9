//! Prints a [`Config`] as native TOML (`vrrpd convert`).
//!
//! The output loads back, with [`load_native`](super::load_native), to a
//! `Config` equal to the input. Settings at their default are left out,
//! except the ones a reader expects to see on every instance.

mod global;
mod lvs;

use std::fmt::Write as _;
use std::time::Duration;

use super::duration::format_native;
use super::exec::{Exec, RunAs};
use super::model::{
    Announce, Config, Hook, InitialState, Instance, Notify, Probe, Statics, SyncGroup, TrackRef,
    Tracking, UnicastChecksum, Version, VirtualAddress, Weight,
};

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML array of string literals.
fn q_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let parts: Vec<String> = items.into_iter().map(q).collect();
    format!("[{}]", parts.join(", "))
}

/// A duration as a TOML string.
fn d(value: Duration) -> String {
    q(&format_native(value))
}

/// A table key, quoted when it is not a bare key.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare { name.to_string() } else { q(name) }
}

/// Prints `config` as native TOML that loads back to an equal `Config`.
pub fn to_native_toml(config: &Config) -> String {
    let mut out = String::new();
    global::global(&mut out, &config.global);
    statics(&mut out, &config.statics);
    for (name, s) in &config.track_script {
        let _ = writeln!(out, "[track_script.{}]", key(name));
        match &s.exec {
            Exec::Argv(argv) => {
                let _ = writeln!(out, "command = {}", q_list(argv.iter().map(String::as_str)));
            }
            Exec::Shell(script) => {
                let _ = writeln!(out, "command = {}\nshell = true", q(script));
            }
        }
        probe(&mut out, &s.probe);
        weight_keys(&mut out, s.weight, Weight::default());
        run_as(&mut out, s.run_as.as_ref(), "user", "group");
        if s.init_fail {
            out.push_str("init_fail = true\n");
        }
        out.push('\n');
    }
    for (name, t) in &config.track_tcp {
        let _ = writeln!(
            out,
            "[track_tcp.{}]\naddress = {}",
            key(name),
            q(&t.target.to_string())
        );
        probe(&mut out, &t.probe);
        weight_keys(&mut out, t.weight, Weight::default());
        out.push('\n');
    }
    for (name, h) in &config.track_http {
        let _ = writeln!(
            out,
            "[track_http.{}]\naddress = {}\npath = {}",
            key(name),
            q(&h.target.to_string()),
            q(&h.path)
        );
        if h.expect_status != 200 {
            let _ = writeln!(out, "expect_status = {}", h.expect_status);
        }
        probe(&mut out, &h.probe);
        weight_keys(&mut out, h.weight, Weight::default());
        out.push('\n');
    }
    for (name, f) in &config.track_file {
        let _ = writeln!(
            out,
            "[track_file.{}]\npath = {}",
            key(name),
            q(&f.path.to_string_lossy())
        );
        weight_keys(&mut out, f.weight, Weight::new(1));
        if let Some(init) = f.init {
            let _ = writeln!(out, "init_value = {}", init.value);
            if init.overwrite {
                out.push_str("init_overwrite = true\n");
            }
        }
        out.push('\n');
    }
    for (name, t) in &config.track_process {
        let _ = writeln!(
            out,
            "[track_process.{}]\nprocess = {}",
            key(name),
            q(&t.process)
        );
        if !t.params.is_empty() {
            let _ = writeln!(
                out,
                "params = {}",
                q_list(t.params.iter().map(String::as_str))
            );
        }
        if let Some(m) = t.param_match {
            let _ = writeln!(out, "param_match = {}", q(m.as_str()));
        }
        if t.full_command && t.param_match.is_none() {
            out.push_str("full_command = true\n");
        }
        weight_keys(&mut out, t.weight, Weight::new(1));
        let default_quorum = if t.quorum_max == Some(0) { 0 } else { 1 };
        if t.quorum != default_quorum {
            let _ = writeln!(out, "quorum = {}", t.quorum);
        }
        if let Some(max) = t.quorum_max {
            let _ = writeln!(out, "quorum_max = {max}");
        }
        for (k, v) in [
            ("fork_delay", t.fork_delay),
            ("terminate_delay", t.terminate_delay),
        ] {
            if !v.is_zero() {
                let _ = writeln!(out, "{k} = {}", d(v));
            }
        }
        out.push('\n');
    }
    for inst in &config.instances {
        instance(&mut out, inst);
    }
    for g in &config.sync_groups {
        group(&mut out, g);
    }
    lvs::virtual_servers(&mut out, &config.virtual_servers);
    out
}

fn run_as(out: &mut String, r: Option<&RunAs>, user_key: &str, group_key: &str) {
    if let Some(r) = r {
        let _ = writeln!(out, "{user_key} = {}", q(&r.user));
        if let Some(g) = &r.group {
            let _ = writeln!(out, "{group_key} = {}", q(g));
        }
    }
}

fn probe(out: &mut String, p: &Probe) {
    let _ = writeln!(out, "interval = {}", d(p.interval));
    if p.timeout != p.interval {
        let _ = writeln!(out, "timeout = {}", d(p.timeout));
    }
    if p.rise != 1 {
        let _ = writeln!(out, "rise = {}", p.rise);
    }
    if p.fall != 1 {
        let _ = writeln!(out, "fall = {}", p.fall);
    }
}

fn weight_keys(out: &mut String, w: Weight, default: Weight) {
    if w != default {
        let _ = writeln!(out, "weight = {}", w.value);
        if w.reverse {
            out.push_str("reverse = true\n");
        }
    }
}

/// ` weight = N[, reverse = true]` for inline tables.
fn inline_weight(w: Weight) -> String {
    let mut s = format!(", weight = {}", w.value);
    if w.reverse {
        s.push_str(", reverse = true");
    }
    s
}

fn vip(v: &VirtualAddress) -> String {
    let addr = q(&v.to_string());
    if v.is_plain() {
        return addr;
    }
    let mut s = format!("{{ address = {addr}");
    if let Some(dev) = &v.device {
        let _ = write!(s, ", device = {}", q(dev));
    }
    if let Some(label) = &v.label {
        let _ = write!(s, ", label = {}", q(label));
    }
    if let Some(b) = v.broadcast {
        let _ = write!(s, ", broadcast = {}", q(&b.to_string()));
    }
    if let Some(scope) = v.scope {
        let _ = write!(s, ", scope = {}", q(scope.as_str()));
    }
    s.push_str(" }");
    s
}

fn vip_list(out: &mut String, k: &str, vips: &[VirtualAddress]) {
    if vips.len() == 1 {
        let _ = writeln!(out, "{k} = [{}]", vip(&vips[0]));
        return;
    }
    let _ = writeln!(out, "{k} = [");
    for v in vips {
        let _ = writeln!(out, "  {},", vip(v));
    }
    out.push_str("]\n");
}

/// `KEY = ["line", ...]`: routes or rules in keepalived's words.
fn lines<T: std::fmt::Display>(out: &mut String, k: &str, items: &[T]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{k} = [");
    for item in items {
        let _ = writeln!(out, "  {},", q(&item.to_string()));
    }
    out.push_str("]\n");
}

/// The `[static]` table.
fn statics(out: &mut String, s: &Statics) {
    if s.is_empty() {
        return;
    }
    out.push_str("[static]\n");
    if !s.addresses.is_empty() {
        let _ = writeln!(out, "addresses = [");
        for v in &s.addresses {
            // Each has its device, so each is a table.
            let mut entry = vip(v);
            if let Some(g) = s.address_track_groups.get(&v.address) {
                entry.truncate(entry.len() - 2);
                let _ = write!(entry, ", track_group = {} }}", q(g));
            }
            let _ = writeln!(out, "  {entry},");
        }
        out.push_str("]\n");
    }
    lines(out, "routes", &s.routes);
    lines(out, "rules", &s.rules);
    if !s.track_groups.is_empty() {
        let groups: Vec<String> = s
            .track_groups
            .iter()
            .map(|(name, members)| {
                format!(
                    "{} = {}",
                    key(name),
                    q_list(members.iter().map(String::as_str))
                )
            })
            .collect();
        let _ = writeln!(out, "track_groups = {{ {} }}", groups.join(", "));
    }
    out.push('\n');
}

fn refs(out: &mut String, k: &str, list: &[TrackRef]) {
    if list.is_empty() {
        return;
    }
    let items: Vec<String> = list
        .iter()
        .map(|r| match r.weight {
            None => q(&r.name),
            Some(w) => format!("{{ name = {}{} }}", q(&r.name), inline_weight(w)),
        })
        .collect();
    let _ = writeln!(out, "{k} = [{}]", items.join(", "));
}

fn tracking(out: &mut String, t: &Tracking) {
    if !t.interfaces.is_empty() {
        let items: Vec<String> = t
            .interfaces
            .iter()
            .map(|ti| {
                if ti.weight == Weight::default() {
                    q(&ti.interface)
                } else {
                    format!(
                        "{{ interface = {}{} }}",
                        q(&ti.interface),
                        inline_weight(ti.weight)
                    )
                }
            })
            .collect();
        let _ = writeln!(out, "track_interface = [{}]", items.join(", "));
    }
    refs(out, "track_script", &t.scripts);
    refs(out, "track_tcp", &t.tcp);
    refs(out, "track_http", &t.http);
    refs(out, "track_file", &t.files);
    refs(out, "track_process", &t.processes);
}

fn hook(h: &Hook) -> String {
    let command = match &h.exec {
        Exec::Argv(argv) => q_list(argv.iter().map(String::as_str)),
        Exec::Shell(script) => q(script),
    };
    let shell = matches!(h.exec, Exec::Shell(_));
    if h.run_as.is_none() && !shell {
        return command;
    }
    let mut s = format!("{{ command = {command}");
    if shell {
        s.push_str(", shell = true");
    }
    if let Some(r) = &h.run_as {
        let _ = write!(s, ", user = {}", q(&r.user));
        if let Some(g) = &r.group {
            let _ = write!(s, ", group = {}", q(g));
        }
    }
    s.push_str(" }");
    s
}

fn notify(out: &mut String, table: &str, n: &Notify) {
    if n.is_empty() && !n.report_deleted {
        return;
    }
    let _ = writeln!(out, "\n[{table}.notify]");
    for (k, h) in [
        ("active", &n.active),
        ("backup", &n.backup),
        ("fault", &n.fault),
        ("stop", &n.stop),
        ("any", &n.any),
        ("master_rx_lower_pri", &n.master_rx_lower_pri),
        ("deleted", &n.deleted),
    ] {
        if let Some(h) = h {
            let _ = writeln!(out, "{k} = {}", hook(h));
        }
    }
    if n.report_deleted && n.deleted.is_none() {
        out.push_str("report_deleted = true\n");
    }
}

fn announce(out: &mut String, a: &Announce) {
    let def = Announce::default();
    if *a == def {
        return;
    }
    let mut parts = Vec::new();
    if a.repeat != def.repeat {
        parts.push(format!("repeat = {}", a.repeat));
    }
    if a.delay != def.delay {
        parts.push(format!("delay = {}", d(a.delay.unwrap_or(Duration::ZERO))));
    }
    if a.refresh != def.refresh {
        parts.push(format!(
            "refresh = {}",
            d(a.refresh.unwrap_or(Duration::ZERO))
        ));
    }
    if a.refresh_repeat != def.refresh_repeat {
        parts.push(format!("refresh_repeat = {}", a.refresh_repeat));
    }
    if a.interval != def.interval {
        parts.push(format!("interval = {}", d(a.interval)));
    }
    if a.lower_prio_repeat != def.lower_prio_repeat {
        parts.push(format!("lower_prio_repeat = {}", a.lower_prio_repeat));
    }
    if a.lower_prio_delay != def.lower_prio_delay {
        parts.push(format!(
            "lower_prio_delay = {}",
            d(a.lower_prio_delay.unwrap_or(Duration::ZERO))
        ));
    }
    if let Some(e) = a.extra_interfaces {
        parts.push(format!("extra_interfaces = {}", d(e)));
    }
    let _ = writeln!(out, "announce = {{ {} }}", parts.join(", "));
}

fn instance(out: &mut String, i: &Instance) {
    let _ = writeln!(
        out,
        "[[instance]]\nname = {}\ninterface = {}",
        q(&i.name),
        q(&i.interface)
    );
    let _ = writeln!(out, "vrid = {}", i.vrid);
    let _ = writeln!(out, "version = {}", i.version.number());
    let _ = writeln!(out, "priority = {}", i.priority);
    let _ = writeln!(out, "advert_interval = {}", d(i.advert_interval));
    if i.initial_state == InitialState::Active {
        out.push_str("initial_state = \"active\"\n");
    }
    if !i.preempt {
        out.push_str("preempt = false\n");
    }
    if !i.preempt_delay.is_zero() {
        let _ = writeln!(out, "preempt_delay = {}", d(i.preempt_delay));
    }
    if !i.accept {
        out.push_str("accept = false\n");
    }
    vip_list(out, "vips", &i.vips);
    if !i.excluded_vips.is_empty() {
        vip_list(out, "excluded_vips", &i.excluded_vips);
    }
    lines(out, "routes", &i.virtual_routes);
    lines(out, "rules", &i.virtual_rules);
    if let Some(src) = &i.source_address {
        let _ = writeln!(out, "source_address = {}", q(&src.to_string()));
    }
    if i.track_source_address {
        out.push_str("track_source_address = true\n");
    }
    if !i.unicast_peers.is_empty() {
        let peers: Vec<String> = i.unicast_peers.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "unicast_peers = {}",
            q_list(peers.iter().map(String::as_str))
        );
    }
    if i.check_unicast_source {
        out.push_str("check_unicast_source = true\n");
    }
    if let Some(ttl) = i.unicast_ttl {
        let _ = writeln!(out, "unicast_ttl = {ttl}");
    }
    if let Some(g) = i.multicast_group {
        let _ = writeln!(out, "multicast_group = {}", q(&g.to_string()));
    }
    if i.skip_check_adv_addr {
        out.push_str("skip_check_adv_addr = true\n");
    }
    if i.lower_prio_no_advert {
        out.push_str("lower_prio_no_advert = true\n");
    }
    if i.higher_prio_send_advert {
        out.push_str("higher_prio_send_advert = true\n");
    }
    if i.notify_priority_changes {
        out.push_str("notify_priority_changes = true\n");
    }
    if let Some(n) = i.down_timer_adverts {
        let _ = writeln!(out, "down_timer_adverts = {n}");
    }
    if let Some(pw) = &i.auth_password {
        debug_assert_eq!(i.version, Version::V2);
        let _ = writeln!(out, "auth_password = {}", q(pw));
    }
    if let Some(v) = &i.vmac {
        if v.name.is_none() && !v.xmit_base {
            out.push_str("vmac = true\n");
        } else {
            let mut parts = Vec::new();
            if let Some(n) = &v.name {
                parts.push(format!("name = {}", q(n)));
            }
            if v.xmit_base {
                parts.push("xmit_base = true".to_string());
            }
            let _ = writeln!(out, "vmac = {{ {} }}", parts.join(", "));
        }
    }
    announce(out, &i.announce);
    if i.dont_track_primary {
        out.push_str("dont_track_primary = true\n");
    }
    if i.promote_secondaries {
        out.push_str("promote_secondaries = true\n");
    }
    if i.unicast_fault_no_peer {
        out.push_str("unicast_fault_no_peer = true\n");
    }
    if i.unicast_checksum != UnicastChecksum::DetectLegacy {
        let _ = writeln!(
            out,
            "unicast_checksum = {}",
            q(crate::config::unicast_checksum_name(i.unicast_checksum))
        );
    }
    tracking(out, &i.tracking);
    notify(out, "instance", &i.notify);
    out.push('\n');
}

fn group(out: &mut String, g: &SyncGroup) {
    let _ = writeln!(out, "[[sync_group]]\nname = {}", q(&g.name));
    let _ = writeln!(
        out,
        "instances = {}",
        q_list(g.instances.iter().map(String::as_str))
    );
    if g.tracking_weight {
        out.push_str("tracking_weight = true\n");
    }
    tracking(out, &g.tracking);
    notify(out, "sync_group", &g.notify);
    out.push('\n');
}
