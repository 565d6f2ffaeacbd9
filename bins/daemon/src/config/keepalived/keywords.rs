//! keepalived keywords vrrpd knows but does not act on.
//!
//! Each use gets a warning with its position, never a silent skip; a word
//! in none of these lists and not handled by the mapping is an error
//! (keepalived itself reports "Unknown keyword").

use super::args::Ctx;
use super::parser::Stmt;

/// Why a keyword is ignored; selects the hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ignored {
    /// keepalived's LVS/IPVS half: virtual and real servers, checkers.
    Lvs,
    /// Affects only keepalived's process, e-mail, SNMP or D-Bus plumbing;
    /// vrrpd has its own equivalents or none.
    NoEffect,
    /// A VRRP feature vrrpd does not implement (yet).
    Unsupported,
    /// An instance keyword written in global_defs, where keepalived does
    /// not know it and ignores it (its `vrrp_`-prefixed form is the
    /// global default).
    Misplaced,
}

impl Ignored {
    /// The hint shown with the warning.
    pub(crate) fn hint(self) -> &'static str {
        match self {
            Ignored::Lvs => {
                "vrrpd runs virtual_server blocks but not this part of keepalived's LVS half yet (docs/configuration.md lists what it does)"
            }
            Ignored::NoEffect => {
                "this setting has no equivalent in vrrpd and does not change VRRP behaviour"
            }
            Ignored::Unsupported => {
                "vrrpd does not implement this VRRP feature; the instance runs without it"
            }
            Ignored::Misplaced => {
                "for a default of every instance, use its vrrp_ form in global_defs (vrrp_garp_master_delay, ...)"
            }
        }
    }
}

/// Top-level blocks and statements.
pub(crate) const TOP: &[(&str, Ignored)] = &[
    ("virtual_server_group", Ignored::Lvs),
    // Client certificate for SSL_GET: vrrpd's presents none.
    ("SSL", Ignored::Lvs),
    ("bfd_instance", Ignored::Unsupported),
    ("linkbeat_interfaces", Ignored::Unsupported),
    ("net_namespace_ipvs", Ignored::Lvs),
    ("namespace_with_ipsets", Ignored::NoEffect),
    ("instance", Ignored::NoEffect),
    ("use_pid_dir", Ignored::NoEffect),
    ("linkbeat_use_polling", Ignored::Unsupported),
    ("child_wait_time", Ignored::NoEffect),
];

/// `global_defs` keywords.
pub(crate) const GLOBAL: &[(&str, Ignored)] = &[
    ("garp_master_delay", Ignored::Misplaced),
    ("garp_master_repeat", Ignored::Misplaced),
    ("garp_master_refresh", Ignored::Misplaced),
    ("garp_master_refresh_repeat", Ignored::Misplaced),
    ("notification_email", Ignored::NoEffect),
    ("notification_email_from", Ignored::NoEffect),
    ("smtp_server", Ignored::NoEffect),
    ("smtp_helo_name", Ignored::NoEffect),
    ("smtp_connect_timeout", Ignored::NoEffect),
    ("smtp_alert", Ignored::NoEffect),
    ("smtp_alert_vrrp", Ignored::NoEffect),
    ("smtp_alert_checker", Ignored::Lvs),
    ("no_email_faults", Ignored::NoEffect),
    ("checker_log_all_failures", Ignored::Lvs),
    ("tmp_config_directory", Ignored::NoEffect),
    ("config_save_dir", Ignored::NoEffect),
    ("process_names", Ignored::NoEffect),
    ("process_name", Ignored::NoEffect),
    ("vrrp_process_name", Ignored::NoEffect),
    ("checker_process_name", Ignored::Lvs),
    ("bfd_process_name", Ignored::NoEffect),
    ("lvs_sync_daemon", Ignored::Lvs),
    ("lvs_flush", Ignored::Lvs),
    ("lvs_flush_on_stop", Ignored::Lvs),
    ("lvs_netlink_cmd_rcv_bufs", Ignored::Lvs),
    ("lvs_netlink_cmd_rcv_bufs_force", Ignored::Lvs),
    ("lvs_netlink_monitor_rcv_bufs", Ignored::Lvs),
    ("lvs_netlink_monitor_rcv_bufs_force", Ignored::Lvs),
    ("lvs_notify_fifo", Ignored::Lvs),
    ("lvs_notify_fifo_script", Ignored::Lvs),
    ("nftables_ipvs", Ignored::Lvs),
    ("nftables_ipvs_priority", Ignored::Lvs),
    ("nftables_ipvs_start_fwmark", Ignored::Lvs),
    ("max_auto_priority", Ignored::NoEffect),
    ("min_auto_priority_delay", Ignored::NoEffect),
    ("vrrp_priority", Ignored::NoEffect),
    ("checker_priority", Ignored::Lvs),
    ("bfd_priority", Ignored::NoEffect),
    ("vrrp_no_swap", Ignored::NoEffect),
    ("checker_no_swap", Ignored::Lvs),
    ("bfd_no_swap", Ignored::NoEffect),
    ("vrrp_cpu_affinity", Ignored::NoEffect),
    ("checker_cpu_affinity", Ignored::Lvs),
    ("bfd_cpu_affinity", Ignored::NoEffect),
    ("vrrp_rt_priority", Ignored::NoEffect),
    ("checker_rt_priority", Ignored::Lvs),
    ("bfd_rt_priority", Ignored::NoEffect),
    ("vrrp_rlimit_rttime", Ignored::NoEffect),
    ("checker_rlimit_rttime", Ignored::Lvs),
    ("bfd_rlimit_rttime", Ignored::NoEffect),
    ("snmp_socket", Ignored::NoEffect),
    ("enable_snmp_vrrp", Ignored::NoEffect),
    ("enable_snmp_keepalived", Ignored::NoEffect),
    ("enable_snmp_checker", Ignored::Lvs),
    ("enable_snmp_rfc", Ignored::NoEffect),
    ("enable_snmp_rfcv2", Ignored::NoEffect),
    ("enable_snmp_rfcv3", Ignored::NoEffect),
    ("enable_traps", Ignored::NoEffect),
    ("enable_dbus", Ignored::NoEffect),
    ("dbus_service_name", Ignored::NoEffect),
    ("dynamic_interfaces", Ignored::NoEffect),
    ("vrrp_netlink_cmd_rcv_bufs", Ignored::NoEffect),
    ("vrrp_netlink_cmd_rcv_bufs_force", Ignored::NoEffect),
    ("vrrp_netlink_monitor_rcv_bufs", Ignored::NoEffect),
    ("vrrp_netlink_monitor_rcv_bufs_force", Ignored::NoEffect),
    ("process_monitor_rcv_bufs", Ignored::NoEffect),
    ("process_monitor_rcv_bufs_force", Ignored::NoEffect),
    ("vrrp_rx_bufs_policy", Ignored::NoEffect),
    ("vrrp_rx_bufs_multiplier", Ignored::NoEffect),
    ("rs_init_notifies", Ignored::Lvs),
    ("no_checker_emails", Ignored::Lvs),
    ("umask", Ignored::NoEffect),
    ("vmac_addr_prefix", Ignored::Unsupported),
    ("random_seed", Ignored::NoEffect),
    ("reload_check_config", Ignored::NoEffect),
    ("reload_time_file", Ignored::NoEffect),
    ("reload_repeat", Ignored::NoEffect),
    ("reload_file", Ignored::NoEffect),
    ("include_check", Ignored::NoEffect),
    ("data_use_instance", Ignored::NoEffect),
    ("linkbeat_use_polling", Ignored::Unsupported),
    ("net_namespace_ipvs", Ignored::Lvs),
    ("namespace_with_ipsets", Ignored::NoEffect),
    ("instance", Ignored::NoEffect),
    ("use_pid_dir", Ignored::NoEffect),
    ("child_wait_time", Ignored::NoEffect),
];

/// `vrrp_instance` keywords.
pub(crate) const INSTANCE: &[(&str, Ignored)] = &[
    ("vrf", Ignored::Unsupported),
    ("use_vmac_addr", Ignored::Unsupported),
    ("use_ipvlan", Ignored::Unsupported),
    ("track_bfd", Ignored::Unsupported),
    ("garp_extra_if_vmac", Ignored::Unsupported),
    ("kernel_rx_buf_size", Ignored::NoEffect),
    ("linkbeat_use_polling", Ignored::Unsupported),
    ("debug", Ignored::NoEffect),
    ("smtp_alert", Ignored::NoEffect),
];

/// `vrrp_sync_group` keywords.
pub(crate) const GROUP: &[(&str, Ignored)] = &[
    ("track_bfd", Ignored::Unsupported),
    // keepalived 2.2.7 knows it in vrrp_instance only ("Unknown keyword"
    // here, whatever its man page says).
    ("notify_deleted", Ignored::NoEffect),
    ("smtp_alert", Ignored::NoEffect),
];

/// The reason `word` is ignored in `table`, if listed.
pub(crate) fn ignored(table: &[(&str, Ignored)], word: &str) -> Option<Ignored> {
    table.iter().find(|(k, _)| *k == word).map(|(_, why)| *why)
}

/// Every keyword in a table, for the documentation test.
/// Warns about a known-but-ignored keyword, errors on an unknown one.
pub(super) fn ignore(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
    table: &[(&str, Ignored)],
    section: &str,
    supported: &[&str],
) {
    let key = s.key.text.as_str();
    match ignored(table, key) {
        Some(why) => {
            let servers = count_nested(s, "real_server");
            let what = if servers > 0 {
                format!(
                    "`{key}` in {section}, with its {servers} real_server block(s) and their checkers,"
                )
            } else {
                format!("`{key}` in {section}")
            };
            let message = match why {
                Ignored::Misplaced => format!(
                    "{what} is an instance keyword: keepalived ignores it here, and so does vrrpd"
                ),
                _ => format!("{what} is not supported by vrrpd and is ignored"),
            };
            ctx.warn(s.key.pos, message, Some(why.hint().into()));
        }
        None => {
            let hint = crate::config::native::suggest(key, supported)
                .map(|k| format!("did you mean `{k}`?"));
            ctx.error(
                s.key.pos,
                format!(
                    "unknown keyword {} in {section}",
                    ctx.sink.quote(s.key.pos, key)
                ),
                hint,
            );
        }
    }
}

/// How many `word` statements `s` contains, at any depth.
fn count_nested(s: &Stmt, word: &str) -> usize {
    s.block.as_ref().map_or(0, |b| {
        b.items
            .iter()
            .map(|i| usize::from(i.key.text == word) + count_nested(i, word))
            .sum()
    })
}

#[cfg(test)]
pub(crate) fn names<'a>(table: &'a [(&'a str, Ignored)]) -> impl Iterator<Item = &'a str> {
    table.iter().map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/configuration.md lists every ignored keyword.
    #[test]
    fn documentation_lists_every_ignored_keyword() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/configuration.md"
        ))
        .expect("docs/configuration.md");
        for table in [TOP, GLOBAL, INSTANCE, GROUP] {
            for k in names(table) {
                assert!(
                    doc.contains(&format!("`{k}`")),
                    "`{k}` is not in docs/configuration.md"
                );
            }
        }
    }

    #[test]
    fn no_keyword_is_listed_twice_in_a_table() {
        for table in [TOP, GLOBAL, INSTANCE, GROUP] {
            let mut seen = std::collections::HashSet::new();
            for k in names(table) {
                assert!(seen.insert(k), "`{k}` twice");
            }
        }
    }
}
