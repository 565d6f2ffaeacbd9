//! `keepalived.data` (SIGUSR1): configuration and state, in keepalived
//! 2.2.7's layout (`dump_global_data`, `dump_vrrp`, `dump_sync_group`,
//! `dump_vscript`).
//!
//! Sections written: `Global definitions` (always), `Static Addresses`,
//! `Static Routes`, `Static Rules`, `Static Track groups` (when
//! configured), `VRRP Topology` (when there are instances), `VRRP Sync
//! groups`, `VRRP Scripts` (when there are some).
//!
//! Left out, because vrrpd does not have the information without
//! reading the system (and exporters do not read them): `Gratuitous ARP
//! delays`, `VRRP Sockpool`, `VRRP Track files`, `VRRP Track processes`,
//! `Interfaces`; in the global section, keepalived's build details and
//! settings vrrpd does not have or keeps per instance (see [`global`]).
//! In an instance block, three lines keepalived prints are left out:
//! `Read timeout` outside FAULT and INIT (the engine does not report
//! the next timer), `Master priority` (the engine does not report the
//! Active router's priority) and `fd_in N, fd_out N` (socket numbers;
//! `No sockets allocated` is written for an instance that waits).

use std::fmt::Write as _;

use super::DumpInstance;
use super::format::{self, KaState};
use crate::config::{Config, Global, Hook, Notify, Tracking, Weight};

/// Appends one line.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        // Writing to a String cannot fail.
        let _ = writeln!($out, $($arg)*);
    }};
}

mod instance;

use instance::instance;

/// The text of `keepalived.data` for `instances` (in configuration
/// order) of `config`.
///
/// Times are local (`localtime_r`), as keepalived prints them. State
/// names are INIT, BACKUP, MASTER (vrrpd's Active) and FAULT only.
pub fn data(config: &Config, instances: &[DumpInstance]) -> String {
    let mut out = String::new();
    global(&mut out, &config.global);
    statics(&mut out, config);
    if !instances.is_empty() {
        put!(out, "------< VRRP Topology >------");
        for inst in instances {
            instance(&mut out, config, inst);
        }
    }
    if !config.sync_groups.is_empty() {
        put!(out, "------< VRRP Sync groups >------");
        for group in &config.sync_groups {
            sync_group(&mut out, config, group, instances);
        }
    }
    scripts(&mut out, config, instances);
    out
}

/// `------< Global definitions >------` with the keys of keepalived's
/// `dump_global_data` that mean something for vrrpd, in its order:
/// network namespace, router id, startup and shutdown scripts, LVS
/// timeouts, `Disable local IGMP`, notify FIFOs, `FIFO write vrrp states
/// on reload`, the nftables table, script security, the default script
/// user, `vrrp_startup_delay`, `log_unknown_vrids`.
///
/// Left out: build and process details (`Network namespace ipvs`,
/// SNMP, DBus, libnftnl version, realtime priorities, netlink buffer
/// sizes, `umask`), SMTP (vrrpd sends no mail), `Default interface`,
/// `Dynamic interfaces`, LVS flush settings, and the VRRP defaults
/// keepalived keeps globally and vrrpd folds into each instance
/// (multicast groups, gratuitous ARP settings, `Num adverts before down`,
/// default version, `check unicast_src`, `skip check advert addresses`,
/// strict mode, `notify priority changes`): the instance blocks show
/// their values.
fn global(out: &mut String, g: &Global) {
    put!(out, "------< Global definitions >------");
    put!(
        out,
        " Network namespace = {}",
        g.net_namespace.as_deref().unwrap_or("(default)")
    );
    if let Some(id) = &g.router_id {
        put!(out, " Router ID = {id}");
    }
    if let Some(h) = &g.startup_script {
        put!(
            out,
            " Startup script = {}, uid:gid {}, timeout {}",
            format::command(&h.exec),
            format::uid_gid(h.run_as.as_ref(), g),
            format::secs(g.startup_script_timeout)
        );
    }
    if let Some(h) = &g.shutdown_script {
        // keepalived has no comma before `timeout` here.
        put!(
            out,
            " Shutdown script = {}, uid:gid {} timeout {}",
            format::command(&h.exec),
            format::uid_gid(h.run_as.as_ref(), g),
            format::secs(g.shutdown_script_timeout)
        );
    }
    if let Some(t) = &g.lvs_timeouts {
        for (name, d) in [
            ("TCP", t.tcp),
            ("TCP FIN", t.tcp_fin),
            // keepalived 2.2.7 prints "TCP" here too, a typo.
            ("UDP", t.udp),
        ] {
            if !d.is_zero() {
                put!(out, " LVS {name} timeout = {}", format::secs(d));
            }
        }
    }
    put!(
        out,
        " Disable local IGMP = {}",
        if g.disable_local_igmp { "yes" } else { "no" }
    );
    for fifo in &g.notify_fifos {
        put!(
            out,
            " Global notify fifo = {}, uid:gid {}",
            fifo.path.display(),
            format::uid_gid(fifo.owner.as_ref(), g)
        );
        if let Some(h) = &fifo.script {
            put!(
                out,
                " Global notify fifo script = {}, uid:gid {}",
                format::command(&h.exec),
                format::uid_gid(h.run_as.as_ref(), g)
            );
        }
    }
    put!(
        out,
        " FIFO write vrrp states on reload = {}",
        g.fifo_states_on_reload
    );
    put!(out, " nftables table name = {}", g.firewall.table);
    put!(
        out,
        " nftables base chain priority = {}",
        g.firewall.priority
    );
    put!(
        out,
        " nftables with{} counters",
        if g.firewall.counters { "" } else { "out" }
    );
    put!(
        out,
        " Script security {}",
        if g.script_security {
            "enabled"
        } else {
            "disabled"
        }
    );
    put!(out, " Default script uid:gid {}", format::uid_gid(None, g));
    if !g.startup_delay.is_zero() {
        put!(
            out,
            " vrrp_startup_delay = {}",
            format::fmt_g(format::secs_f(g.startup_delay))
        );
    }
    if g.log_unknown_vrids {
        put!(out, " log_unknown_vrids");
    }
}

/// The static addresses, routes, rules and track groups.
fn statics(out: &mut String, config: &Config) {
    let s = &config.statics;
    if !s.addresses.is_empty() {
        put!(out, "------< Static Addresses >------");
        for a in &s.addresses {
            let dev = a.device.as_deref().unwrap_or("(none)");
            // Whether it is on the host now is not known here.
            put!(out, "     {}", format::address_line(a, dev, false));
        }
    }
    if !s.routes.is_empty() {
        put!(out, "------< Static Routes >------");
        for r in &s.routes {
            put!(out, "     {r}");
        }
    }
    if !s.rules.is_empty() {
        put!(out, "------< Static Rules >------");
        for r in &s.rules {
            put!(out, "     {r}");
        }
    }
    if !s.track_groups.is_empty() {
        put!(out, "------< Static Track groups >------");
        for (name, members) in &s.track_groups {
            put!(out, " Static Track Group = {name}");
            if !members.is_empty() {
                put!(out, "   VRRP member instances :");
                for m in members {
                    put!(out, "     {m}");
                }
            }
        }
    }
}

/// ` weight N[ reverse]`'s two parts.
pub(super) fn weight_text(w: Weight) -> String {
    format!("{}{}", w.value, if w.reverse { " reverse" } else { "" })
}

/// The tracker lists of an instance or a sync group: `Tracked
/// interfaces`, `Tracked scripts`, `Tracked files`, `Tracked processes`
/// (keepalived's spellings; sync groups say `Tracked process`), then
/// vrrpd's own TCP and HTTP checks, which keepalived does not have.
///
/// `own` is an instance's interface: keepalived ignores a
/// `track_interface` that names it ("since own interface"), so it is not
/// listed.
pub(super) fn tracked(
    out: &mut String,
    config: &Config,
    t: &Tracking,
    processes_key: &str,
    own: Option<&str>,
) {
    let interfaces: Vec<_> = t
        .interfaces
        .iter()
        .filter(|i| Some(i.interface.as_str()) != own)
        .collect();
    if !interfaces.is_empty() {
        put!(out, "   Tracked interfaces :");
        for i in interfaces {
            put!(out, "     {} weight {}", i.interface, weight_text(i.weight));
        }
    }
    let weight = |r: &crate::config::TrackRef, own: Option<Weight>| {
        weight_text(r.weight.or(own).unwrap_or_default())
    };
    if !t.scripts.is_empty() {
        put!(out, "   Tracked scripts :");
        for r in &t.scripts {
            let own = config.track_script.get(&r.name).map(|s| s.weight);
            put!(out, "     {} weight {}", r.name, weight(r, own));
        }
    }
    if !t.files.is_empty() {
        put!(out, "   Tracked files :");
        for r in &t.files {
            let own = config.track_file.get(&r.name).map(|s| s.weight);
            put!(out, "     {}, weight {}", r.name, weight(r, own));
        }
    }
    if !t.processes.is_empty() {
        put!(out, "   {processes_key} :");
        for r in &t.processes {
            let own = config.track_process.get(&r.name).map(|s| s.weight);
            put!(out, "     {}, weight {}", r.name, weight(r, own));
        }
    }
    if !t.tcp.is_empty() {
        put!(out, "   Tracked TCP checks :");
        for r in &t.tcp {
            let own = config.track_tcp.get(&r.name).map(|s| s.weight);
            put!(out, "     {}, weight {}", r.name, weight(r, own));
        }
    }
    if !t.http.is_empty() {
        put!(out, "   Tracked HTTP checks :");
        for r in &t.http {
            let own = config.track_http.get(&r.name).map(|s| s.weight);
            put!(out, "     {}, weight {}", r.name, weight(r, own));
        }
    }
}

/// `<Type> state transition script = <cmd>, uid:gid <u>:<g>` lines, in
/// keepalived's order.
pub(super) fn notify_scripts(out: &mut String, g: &Global, n: &Notify, with_instance_only: bool) {
    let hooks: [(&str, &Option<Box<Hook>>); 7] = [
        ("Backup", &n.backup),
        ("Master", &n.active),
        ("Fault", &n.fault),
        ("Stop", &n.stop),
        ("Deleted", &n.deleted),
        ("Generic", &n.any),
        ("Master rx lower pri", &n.master_rx_lower_pri),
    ];
    for (kind, hook) in hooks {
        if !with_instance_only && matches!(kind, "Deleted" | "Master rx lower pri") {
            continue;
        }
        if let Some(h) = hook {
            put!(
                out,
                "   {kind} state transition script = {}, uid:gid {}",
                format::command(&h.exec),
                format::uid_gid(h.run_as.as_ref(), g)
            );
        }
    }
}

/// One ` VRRP Sync Group = ` block. Its state is FAULT when a member is,
/// MASTER when all are, INIT when one is and none is in Fault, else
/// BACKUP; `num member fault` counts the members in Fault for a reason
/// of their own (not the group's).
fn sync_group(
    out: &mut String,
    config: &Config,
    group: &crate::config::SyncGroup,
    instances: &[DumpInstance],
) {
    let members: Vec<&DumpInstance> = group
        .instances
        .iter()
        .filter_map(|m| instances.iter().find(|d| &d.config.name == m))
        .collect();
    let states: Vec<KaState> = members
        .iter()
        .map(|d| KaState::from_vrrpd(&d.status.state))
        .collect();
    let state = if states.contains(&KaState::Fault) {
        KaState::Fault
    } else if !states.is_empty() && states.iter().all(|s| *s == KaState::Master) {
        KaState::Master
    } else if states.contains(&KaState::Init) {
        KaState::Init
    } else {
        KaState::Backup
    };
    let own_fault = members
        .iter()
        .filter(|d| {
            KaState::from_vrrpd(&d.status.state) == KaState::Fault
                && d.status
                    .last_transition
                    .as_ref()
                    .is_none_or(|t| t.reason != "sync_group_fault")
        })
        .count();
    let init = states.iter().filter(|s| **s == KaState::Init).count();
    put!(out, " VRRP Sync Group = {}, {}", group.name, state.name());
    put!(
        out,
        "   Num member fault {own_fault}, num member init {init}"
    );
    if !group.instances.is_empty() {
        put!(out, "   VRRP member instances :");
        for m in &group.instances {
            put!(out, "     {m}");
        }
    }
    if group.tracking_weight {
        put!(out, "   sync group tracking weight set");
    }
    put!(out, "   Using smtp notification = no");
    tracked(out, config, &group.tracking, "Tracked process", None);
    notify_scripts(out, &config.global, &group.notify, false);
}

/// `------< VRRP Scripts >------`: each script an instance tracks, with
/// its result as the instances report it (`Status = GOOD` when up).
///
/// `Result` is `rise` when up and 0 when down (keepalived counts
/// between); `Init state` is `unknown` once a result is known, as
/// keepalived prints it after the first run, and `INIT` (or
/// `INIT/FAILED` with `init_fail`) before; `State` is `idle` (vrrpd does
/// not report whether a run is in progress). `Tracking instances` lists
/// the instances that track the script themselves.
fn scripts(out: &mut String, config: &Config, instances: &[DumpInstance]) {
    let used: Vec<(&String, &crate::config::ScriptTracker)> = config
        .track_script
        .iter()
        .filter(|(name, _)| {
            // The instances come from the engine: the configuration it
            // holds has no instance list.
            instances
                .iter()
                .map(|d| &d.config.tracking)
                .chain(config.sync_groups.iter().map(|g| &g.tracking))
                .any(|t| t.scripts.iter().any(|r| &r.name == *name))
        })
        .collect();
    if used.is_empty() {
        return;
    }
    put!(out, "------< VRRP Scripts >------");
    for (name, script) in used {
        // The script's own result, before any `reverse`.
        let result = instances.iter().find_map(|d| {
            let reverse = d
                .config
                .tracking
                .scripts
                .iter()
                .find(|r| &r.name == name)
                .map(|r| r.weight.unwrap_or(script.weight).reverse)?;
            d.status
                .trackers
                .iter()
                .find(|t| t.kind == "track_script" && &t.name == name)
                .map(|t| t.up != reverse)
        });
        let up = result.unwrap_or(!script.init_fail);
        let rise = script.probe.rise;
        put!(out, " VRRP Script = {name}");
        put!(out, "   Command = {}", format::command(&script.exec));
        put!(
            out,
            "   Interval = {} sec",
            format::secs(script.probe.interval)
        );
        put!(
            out,
            "   Timeout = {} sec",
            format::secs(script.probe.timeout)
        );
        put!(out, "   Weight = {}", weight_text(script.weight));
        put!(out, "   Rise = {rise}");
        put!(out, "   Fall = {}", script.probe.fall);
        put!(out, "   Result = {}", if up { rise } else { 0 });
        put!(out, "   Insecure = no");
        let init = match (result, script.init_fail) {
            (Some(_), _) => "unknown",
            (None, false) => "INIT",
            (None, true) => "INIT/FAILED",
        };
        put!(out, "   Init state = {init}");
        put!(out, "   Status = {}", if up { "GOOD" } else { "BAD" });
        put!(
            out,
            "   Script uid:gid = {}",
            format::uid_gid(script.run_as.as_ref(), &config.global)
        );
        put!(out, "   VRRP instances :");
        let tracking: Vec<(&str, Weight)> = instances
            .iter()
            .map(|d| &d.config)
            .flat_map(|i| {
                i.tracking
                    .scripts
                    .iter()
                    .filter(|r| &r.name == name)
                    .map(move |r| (i.name.as_str(), r.weight.unwrap_or(script.weight)))
            })
            .collect();
        if !tracking.is_empty() {
            put!(out, "   Tracking instances :");
            for (iname, w) in tracking {
                put!(out, "     {iname}, weight {}", weight_text(w));
            }
        }
        put!(out, "   State = idle");
    }
}
