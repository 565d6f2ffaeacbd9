//! `keepalived.json` (SIGRTMIN+2): state and counters of each instance on
//! one line, keys in keepalived 2.2.7's order (`vrrp_json.c`).

use super::DumpInstance;
use super::format::{self, KaCounters, KaState};
use crate::config::Config;

/// A JSON object written key by key, keepalived's `json_writer` style:
/// compact, keys in the order written.
struct Object {
    out: String,
    first: bool,
}

impl Object {
    fn new() -> Object {
        Object {
            out: String::from("{"),
            first: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_string(&mut self.out, key);
        self.out.push(':');
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        push_string(&mut self.out, value);
    }

    /// A number, already formatted.
    fn raw(&mut self, key: &str, value: &str) {
        self.key(key);
        self.out.push_str(value);
    }

    fn uint(&mut self, key: &str, value: u64) {
        self.raw(key, &value.to_string());
    }

    /// keepalived writes some flags as 0/1 (`jsonw_uint_field`).
    fn flag(&mut self, key: &str, value: bool) {
        self.uint(key, u64::from(value));
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.raw(key, if value { "true" } else { "false" });
    }

    /// `key` and an array of strings, left out when empty (as keepalived
    /// leaves out empty lists).
    fn strings(&mut self, key: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        self.key(key);
        self.out.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            push_string(&mut self.out, v);
        }
        self.out.push(']');
    }

    fn object(&mut self, key: &str, value: Object) {
        self.key(key);
        self.out.push_str(&value.finish());
    }

    fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// Appends `s` as a JSON string the way keepalived's `jsonw_puts` does:
/// `\t \n \r \f \b \" ` escaped and `/` as `\/`, no `\u` for anything
/// printable. Two deliberate differences keep the output valid JSON that
/// decodes to the right text: a backslash is `\\` (keepalived writes
/// `\n`, a bug), and other control characters are `\u00XX` (keepalived
/// writes them raw, which no JSON parser accepts).
pub(super) fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '/' => out.push_str("\\/"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The text of `keepalived.json`: an array with one
/// `{"data":{...},"stats":{...}}` per instance, in the order given, on
/// one line ending in a newline. keepalived writes no file at all when
/// there is no instance; this returns `[]` and a newline then, and the
/// caller decides.
///
/// What vrrpd does not have is written as keepalived writes it for an
/// instance without it: `strict_mode` 0 (vrrpd applies `vrrp_strict` as
/// settings), `smtp_alert` false (no SMTP), `master_priority` 0 (the
/// engine does not report the Active router's priority).
///
/// keepalived lists each tracked script (`track_script`) by its quoted
/// command; the commands are in the configuration, which this function
/// does not get, so it lists the scripts' names. [`render`](super::render)
/// has the configuration and lists the commands.
pub fn json(instances: &[DumpInstance]) -> String {
    json_with(None, instances)
}

/// [`json`], with the tracked scripts' commands from `config` when given.
pub(super) fn json_with(config: Option<&Config>, instances: &[DumpInstance]) -> String {
    let mut out = String::from("[");
    for (i, inst) in instances.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut both = Object::new();
        both.object("data", data(config, inst));
        both.object("stats", stats(inst));
        out.push_str(&both.finish());
    }
    out.push_str("]\n");
    out
}

fn data(config: Option<&Config>, inst: &DumpInstance) -> Object {
    let c = &inst.config;
    let s = &inst.status;
    let state = KaState::from_vrrpd(&s.state);
    let a = &c.announce;
    let mut o = Object::new();
    o.string("iname", &c.name);
    o.flag("dont_track_primary", c.dont_track_primary);
    o.flag("skip_check_adv_addr", c.skip_check_adv_addr);
    o.flag("strict_mode", false);
    o.string("vmac_ifname", &c.vmac_name().unwrap_or_default());
    o.string("ifp_ifname", &format::ifp_name(c));
    o.uint("master_priority", 0);
    let (secs, usec) = format::last_transition(s);
    o.raw("last_transition", &format!("{secs}.{usec:06}"));
    let delay = a.delay.map_or(0.0, format::secs_f);
    o.raw("garp_delay", &format::fmt_g(delay));
    o.uint("garp_refresh", a.refresh.map_or(0, format::secs));
    o.uint("garp_rep", u64::from(a.repeat));
    o.uint("garp_refresh_rep", u64::from(a.refresh_repeat));
    o.uint(
        "garp_lower_prio_delay",
        a.lower_prio_delay.map_or(0, format::secs),
    );
    o.uint("garp_lower_prio_rep", u64::from(a.lower_prio_repeat));
    o.flag("lower_prio_no_advert", c.lower_prio_no_advert);
    o.flag("higher_prio_send_advert", c.higher_prio_send_advert);
    o.uint("vrid", u64::from(c.vrid.get()));
    o.uint("base_priority", u64::from(c.priority.get()));
    o.uint("effective_priority", u64::from(s.effective_priority));
    o.bool("vipset", s.holds_vips);
    o.bool("promote_secondaries", c.promote_secondaries);
    o.raw(
        "adver_int",
        &format::fmt_g(format::secs_f(c.advert_interval)),
    );
    let mai = format::master_adver_interval(c, s);
    o.raw("master_adver_int", &format::fmt_g(format::secs_f(mai)));
    o.flag("accept", c.accept);
    o.bool("nopreempt", !c.preempt);
    o.uint("preempt_delay", format::secs(c.preempt_delay));
    o.uint("state", u64::from(state.number()));
    o.uint("wantstate", u64::from(state.number()));
    o.uint("version", u64::from(c.version.number()));
    o.bool("smtp_alert", false);
    o.bool(
        "notify_deleted",
        c.notify.report_deleted || c.notify.deleted.is_some(),
    );
    let n = &c.notify;
    for (key, hook) in [
        ("script_backup", &n.backup),
        ("script_master", &n.active),
        ("script_fault", &n.fault),
        ("script_stop", &n.stop),
        ("script_deleted", &n.deleted),
        ("script", &n.any),
        ("script_master_rx_lower_pri", &n.master_rx_lower_pri),
    ] {
        if let Some(h) = hook {
            o.string(key, &format::command(&h.exec));
        }
    }
    let (vips, evips) = format::instance_addresses(c, s.vips_installed);
    o.strings("vips", &vips);
    o.strings("evips", &evips);
    let routes: Vec<String> = c.virtual_routes.iter().map(ToString::to_string).collect();
    o.strings("vroutes", &routes);
    let rules: Vec<String> = c.virtual_rules.iter().map(ToString::to_string).collect();
    o.strings("vrules", &rules);
    let ifs: Vec<String> = c
        .tracking
        .interfaces
        .iter()
        // keepalived ignores a track_interface naming the instance's own.
        .filter(|t| t.interface != c.interface)
        .map(|t| t.interface.clone())
        .collect();
    o.strings("track_ifp", &ifs);
    let scripts: Vec<String> = c
        .tracking
        .scripts
        .iter()
        .map(|r| {
            config
                .and_then(|cfg| cfg.track_script.get(&r.name))
                .map_or_else(|| r.name.clone(), |t| format::command(&t.exec))
        })
        .collect();
    o.strings("track_script", &scripts);
    o.uint("auth_type", u64::from(c.auth_password.is_some()));
    if let Some(pass) = &c.auth_password {
        o.string("auth_data", pass);
    }
    o
}

fn stats(inst: &DumpInstance) -> Object {
    let c = KaCounters::of(&inst.status, &inst.stats);
    let mut o = Object::new();
    o.uint("advert_rcvd", c.advert_rcvd);
    o.uint("advert_sent", c.advert_sent);
    o.uint("become_master", c.become_master);
    o.uint("release_master", c.release_master);
    o.uint("packet_len_err", c.packet_len_err);
    o.uint("advert_interval_err", c.advert_interval_err);
    o.uint("ip_ttl_err", c.ip_ttl_err);
    o.uint("invalid_type_rcvd", c.invalid_type_rcvd);
    o.uint("addr_list_err", c.addr_list_err);
    o.uint("invalid_authtype", c.invalid_authtype);
    o.uint("authtype_mismatch", c.authtype_mismatch);
    o.uint("auth_failure", c.auth_failure);
    o.uint("pri_zero_rcvd", c.pri_zero_rcvd);
    o.uint("pri_zero_sent", c.pri_zero_sent);
    o
}
