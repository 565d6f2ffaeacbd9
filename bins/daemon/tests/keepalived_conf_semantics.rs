//! keepalived.conf semantics: defaults, keepalived's own adjustments (each
//! warned about), errors with positions, the line-level features.

use std::path::Path;
use std::time::Duration;

use vrrpd::config::{
    self, Config, Diagnostic, Exec, InitialState, KeepalivedOptions, Severity, Version,
};

fn opts() -> KeepalivedOptions {
    KeepalivedOptions {
        follow_includes: false,
        ..KeepalivedOptions::default()
    }
}

fn check_with(
    text: &str,
    o: &KeepalivedOptions,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    config::check_keepalived_str(text, Path::new("k.conf"), o)
}

fn ok(text: &str) -> (Config, Vec<Diagnostic>) {
    check_with(text, &opts()).unwrap_or_else(|d| panic!("rejected:\n{}", config::render(&d)))
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match check_with(text, &opts()) {
        Ok((_, w)) => panic!("accepted; warnings:\n{}", config::render(&w)),
        Err(d) => d,
    }
}

fn has(d: &[Diagnostic], severity: Severity, line: usize, column: usize, needle: &str) {
    assert!(
        d.iter().any(|x| x.severity == severity
            && x.line == line
            && x.column == column
            && x.message.contains(needle)),
        "no {severity} at {line}:{column} containing {needle:?} in:\n{}",
        config::render(d)
    );
}

/// An instance block with `body` inside.
fn inst(body: &str) -> String {
    format!(
        "vrrp_instance VI {{\n  interface eth0\n  virtual_router_id 7\n  virtual_ipaddress {{\n    198.18.0.1/24\n  }}\n{body}}}\n"
    )
}

#[test]
fn keepalived_defaults() {
    let (c, w) = ok(&inst(""));
    assert!(w.is_empty());
    let i = &c.instances[0];
    assert_eq!(i.version, Version::V2);
    assert_eq!(i.priority.get(), 100);
    assert_eq!(i.advert_interval, Duration::from_secs(1));
    assert_eq!(i.initial_state, InitialState::Backup);
    assert!(i.preempt && i.accept);
    assert_eq!(i.announce, config::Announce::default());
}

#[test]
fn bare_ipv4_is_a_host_prefix() {
    let (c, _) = ok(
        "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.18.0.9\n }\n}\n",
    );
    assert_eq!(c.instances[0].vips[0].prefix_len, 32);
}

#[test]
fn v2_fractional_interval_is_rounded_with_a_warning() {
    let (c, w) = ok(&inst("  advert_int 0.5\n"));
    assert_eq!(c.instances[0].advert_interval, Duration::from_secs(1));
    has(
        &w,
        Severity::Warning,
        7,
        14,
        "VRRPv2 cannot advertise every 500 ms; using 1000 ms",
    );
}

#[test]
fn v3_intervals_are_rounded_or_clamped_like_keepalived() {
    let (c, w) = ok(&inst("  version 3\n  advert_int 0.015\n"));
    assert_eq!(c.instances[0].advert_interval, Duration::from_millis(20));
    has(
        &w,
        Severity::Warning,
        8,
        14,
        "VRRPv3 cannot advertise every 15 ms",
    );
    let (c, _) = ok(&inst("  version 3\n  advert_int 50\n"));
    assert_eq!(
        c.instances[0].advert_interval,
        Duration::from_millis(40_950)
    );
    let (c, w) = ok(&inst("  version 3\n  advert_int 0.5\n"));
    assert_eq!(c.instances[0].advert_interval, Duration::from_millis(500));
    assert!(w.is_empty());
    let d = errors(&inst("  version 3\n  advert_int 0.005\n"));
    has(&d, Severity::Error, 8, 14, "outside 0.01..=255 s");
}

#[test]
fn ipv6_instances_use_v3() {
    let text = "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  fd00:198:18::1/64\n }\n}\n";
    let (c, w) = ok(text);
    assert_eq!(c.instances[0].version, Version::V3);
    assert!(w.is_empty());
    let (c, w) = ok(&text.replace(" interface eth0\n", " interface eth0\n version 2\n"));
    assert_eq!(c.instances[0].version, Version::V3);
    has(
        &w,
        Severity::Warning,
        3,
        10,
        "IPv6 instances always use VRRPv3",
    );
}

#[test]
fn global_vrrp_version_is_the_default() {
    let (c, _) = ok(&format!(
        "global_defs {{\n  vrrp_version 3\n}}\n{}",
        inst("")
    ));
    assert_eq!(c.instances[0].version, Version::V3);
}

#[test]
fn nopreempt_and_preempt_delay_with_state_master() {
    let (c, w) = ok(&inst("  state MASTER\n  nopreempt\n  preempt_delay 10\n"));
    let i = &c.instances[0];
    assert!(i.preempt);
    assert_eq!(i.preempt_delay, Duration::ZERO);
    has(
        &w,
        Severity::Warning,
        8,
        3,
        "nopreempt has no effect with `state MASTER`",
    );
    has(&w, Severity::Warning, 9, 17, "preempt_delay has no effect");
    let (c, w) = ok(&inst("  state BACKUP\n  nopreempt\n  preempt_delay 2.5\n"));
    assert!(!c.instances[0].preempt);
    assert_eq!(c.instances[0].preempt_delay, Duration::from_millis(2500));
    assert!(w.is_empty());
}

#[test]
fn authentication_forms() {
    let (c, w) = ok(&inst(
        "  authentication {\n    auth_type PASS\n    auth_pass 0123456789\n  }\n",
    ));
    assert_eq!(c.instances[0].auth_password.as_deref(), Some("01234567"));
    has(&w, Severity::Warning, 9, 15, "longer than 8 bytes");
    let (c, w) = ok(&inst(
        "  authentication {\n    auth_type AH\n    auth_pass x\n  }\n",
    ));
    assert_eq!(c.instances[0].auth_password, None);
    has(
        &w,
        Severity::Warning,
        8,
        15,
        "IPsec AH authentication is not supported",
    );
    let (c, w) = ok(&inst(
        "  version 3\n  authentication {\n    auth_type PASS\n    auth_pass x\n  }\n",
    ));
    assert_eq!(c.instances[0].auth_password, None);
    has(&w, Severity::Warning, 8, 3, "VRRPv3 has no authentication");
}

#[test]
fn virtual_ipaddress_options() {
    let (c, w) = ok(&inst(
        "  virtual_ipaddress_excluded {\n    198.18.0.9/24 brd 198.18.0.255 dev eth1 scope link label eth1:9 no_track\n  }\n",
    ));
    let v = &c.instances[0].excluded_vips[0];
    assert_eq!(v.device.as_deref(), Some("eth1"));
    assert_eq!(v.label.as_deref(), Some("eth1:9"));
    assert_eq!(v.broadcast, Some("198.18.0.255".parse().unwrap()));
    assert_eq!(v.scope, Some(config::AddressScope::Link));
    has(
        &w,
        Severity::Warning,
        8,
        69,
        "address option `no_track` is not supported",
    );
    let d = errors(&inst(
        "  virtual_ipaddress_excluded {\n    fd00::1 brd fd00::ff bogus\n    198.18.0.300\n  }\n",
    ));
    has(&d, Severity::Error, 8, 17, "not an IPv4 broadcast address");
    has(&d, Severity::Error, 8, 26, "unknown address option `bogus`");
    has(
        &d,
        Severity::Error,
        9,
        5,
        "`198.18.0.300` is not an IP address",
    );
}

#[test]
fn vip_families_must_match() {
    let d = errors(&inst("  virtual_ipaddress {\n    fd00:198:18::1\n  }\n"));
    has(
        &d,
        Severity::Error,
        8,
        5,
        "IPv6 address fd00:198:18::1 in an IPv4 instance",
    );
}

#[test]
fn unknown_keywords_are_errors_and_known_ones_warnings() {
    let d = errors(&inst("  virtual_router 5\n  use_vmac_addr\n"));
    has(
        &d,
        Severity::Error,
        7,
        3,
        "unknown keyword `virtual_router` in vrrp_instance",
    );
    assert_eq!(
        d.iter().find(|x| x.line == 7).unwrap().hint.as_deref(),
        Some("did you mean `virtual_router_id`?")
    );
    has(
        &d,
        Severity::Warning,
        8,
        3,
        "`use_vmac_addr` in vrrp_instance is not supported",
    );
}

#[test]
fn scripts_and_references() {
    let text = format!(
        "vrrp_script chk {{\n  script /usr/bin/pgrep nginx\n  user nobody nogroup\n  weight -20 reverse\n}}\n{}",
        inst("  track_script {\n    chk weight 5\n    missing\n  }\n")
    );
    let d = errors(&text);
    has(&d, Severity::Warning, 2, 25, "only the first word");
    has(
        &d,
        Severity::Error,
        14,
        5,
        "vrrp_script `missing` is not defined",
    );
    let text = text.replace("    missing\n", "");
    let (c, _) = ok(&text);
    let s = &c.track_script["chk"];
    assert_eq!(s.exec, Exec::Argv(vec!["/usr/bin/pgrep".into()]));
    assert_eq!(s.run_as.as_ref().unwrap().group.as_deref(), Some("nogroup"));
    assert!(s.weight.reverse && s.weight.value == -20);
    assert_eq!(c.instances[0].tracking.scripts[0].weight.unwrap().value, 5);
}

#[test]
fn script_interval_is_whole_seconds() {
    let d = errors("vrrp_script c {\n  script x\n  interval 1.5\n}\n");
    has(
        &d,
        Severity::Error,
        3,
        12,
        "`interval`: `1.5` is not an integer",
    );
}

#[test]
fn sync_group_members_lose_weights_like_keepalived() {
    let text = format!(
        "vrrp_script chk {{\n  script /bin/true\n  weight -20\n}}\nvrrp_sync_group G {{\n  group {{ VI B }}\n}}\n{}{}",
        inst("  track_script {\n    chk\n  }\n  track_interface {\n    eth1 weight -10\n  }\n"),
        "vrrp_instance B {\n  interface eth1\n  virtual_router_id 8\n  virtual_ipaddress { 198.18.1.1 }\n}\n"
    );
    let (c, w) = ok(&text);
    let t = &c.instances[0].tracking;
    assert!(t.scripts.is_empty());
    assert_eq!(t.interfaces[0].weight.value, 0);
    has(&w, Severity::Warning, 8, 1, "because it is in a sync group");
    // Said once: the dropped script is not also "defined but not tracked".
    assert!(
        !w.iter().any(|d| d.message.contains("defined but")),
        "{}",
        config::render(&w)
    );
    // sync_group_tracking_weight keeps them.
    let (c, _) = ok(&text.replace(
        "  group { VI B }\n",
        "  group { VI B }\n  sync_group_tracking_weight\n",
    ));
    assert_eq!(c.instances[0].tracking.scripts.len(), 1);
    assert_eq!(c.sync_groups[0].instances, ["VI", "B"]);
}

#[test]
fn owner_loses_weighted_trackers_like_keepalived() {
    let (c, w) = ok(&inst(
        "  priority 255\n  track_interface {\n    eth1 weight -10\n    eth2\n  }\n",
    ));
    assert_eq!(c.instances[0].tracking.interfaces.len(), 1);
    assert_eq!(c.instances[0].tracking.interfaces[0].interface, "eth2");
    has(&w, Severity::Warning, 1, 1, "address owner");
    // A weighted script dropped from an owner is said once, not also as
    // "defined but not tracked" (Hardening #10).
    let (c, w) = ok(&format!(
        "vrrp_script chk {{\n  script /bin/true\n  weight -20\n}}\n{}",
        inst("  priority 255\n  track_script {\n    chk\n  }\n")
    ));
    assert!(c.instances[0].tracking.scripts.is_empty());
    has(
        &w,
        Severity::Warning,
        5,
        1,
        "weighted track_script entries dropped",
    );
    assert!(
        !w.iter().any(|d| d.message.contains("defined but")),
        "{}",
        config::render(&w)
    );
}

#[test]
fn unicast_with_vmac_forces_xmit_base() {
    let (c, w) = ok(&inst(
        "  use_vmac vrrp7\n  unicast_peer {\n    198.18.0.2\n  }\n",
    ));
    assert!(c.instances[0].vmac.as_ref().unwrap().xmit_base);
    has(&w, Severity::Warning, 7, 12, "needs vmac_xmit_base");
}

#[test]
fn notify_scripts() {
    let (c, w) = ok(&inst(
        "  notify_master \"/bin/n master\" alice staff\n  notify_master /bin/other\n  notify /bin/all\n",
    ));
    let n = &c.instances[0].notify;
    let a = n.active.as_ref().unwrap();
    assert_eq!(a.exec, Exec::Argv(vec!["/bin/n".into(), "master".into()]));
    assert_eq!(a.run_as.as_ref().unwrap().user, "alice");
    assert_eq!(
        n.any.as_ref().unwrap().exec,
        Exec::Argv(vec!["/bin/all".into()])
    );
    has(&w, Severity::Warning, 8, 3, "already set");
}

#[test]
fn missing_interface_does_not_cascade() {
    let d = errors(
        "vrrp_sync_group G {\n  group {\n    A\n    B\n  }\n}\nvrrp_instance A {\n  virtual_router_id 1\n  virtual_ipaddress { 198.18.0.1 }\n}\nvrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  virtual_ipaddress { 198.18.0.2 }\n}\n",
    );
    has(&d, Severity::Error, 7, 1, "has no `interface`");
    assert_eq!(
        d.iter().filter(|x| x.is_error()).count(),
        1,
        "{}",
        config::render(&d)
    );
}

#[test]
fn block_errors_have_positions() {
    let d = errors("vrrp_instance A {\n  interface eth0\n");
    has(&d, Severity::Error, 1, 17, "never closed");
    let d = errors("global_defs {\n}\n}\n");
    has(&d, Severity::Error, 3, 1, "unexpected `}`");
    let d = errors(&inst("  priority \"100\n"));
    has(&d, Severity::Error, 7, 12, "unterminated \" quote");
}

#[test]
fn conditional_lines_and_parameters() {
    let text = "$IF=eth0\n@a $P=150\n@^a $P=90\nvrrp_instance I.$IF.x {\n  interface ${IF}\n  virtual_router_id 3\n  priority $P\n  virtual_ipaddress { 198.18.0.3 }\n}\n";
    let (c, _) = ok(text);
    assert_eq!(
        c.instances[0].name, "I.$IF.x",
        "`$NAME` needs whitespace after it"
    );
    assert_eq!(c.instances[0].interface, "eth0");
    assert_eq!(c.instances[0].priority.get(), 90);
    let a = KeepalivedOptions {
        config_id: Some("a".into()),
        ..opts()
    };
    let (c, _) = check_with(text, &a).unwrap();
    assert_eq!(c.instances[0].priority.get(), 150);
    // A bad value from a parameter is reported where the parameter is used.
    let d = errors(
        "$P=999\nvrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  priority $P\n  virtual_ipaddress { 198.18.0.1 }\n}\n",
    );
    has(
        &d,
        Severity::Error,
        5,
        12,
        "`priority` 999 is outside 1..=255",
    );
}

/// `@^a ! comment` on a host whose config-id is not `a` is an empty line,
/// as is a bare `@^a`. (The fuzz target found this panicking in the lexer;
/// the reproducers are in fuzz/corpus/keepalived_conf.)
#[test]
fn conditional_lines_with_nothing_after_the_id_are_empty() {
    let body = "  @^a ! only a comment for the hosts that are not a\n  @^a\n  @a   \n";
    for config_id in [None, Some("a".to_string()), Some("b".to_string())] {
        let o = KeepalivedOptions {
            config_id: config_id.clone(),
            ..opts()
        };
        let (c, w) = check_with(&format!("@^a\n{}", inst(body)), &o)
            .unwrap_or_else(|d| panic!("{config_id:?}: rejected:\n{}", config::render(&d)));
        assert!(w.is_empty(), "{config_id:?}: {}", config::render(&w));
        assert_eq!(c.instances.len(), 1);
        assert_eq!(c.instances[0].priority.get(), 100);
    }
}

#[test]
fn sequences_are_warned_not_expanded() {
    let (_, w) = ok(&format!(
        "~SEQ(N, 1, 3) vrrp_script s$N {{ script /bin/true }}\n{}",
        inst("")
    ));
    has(
        &w,
        Severity::Warning,
        1,
        1,
        "`~SEQ(N,` sequence and list blocks are not supported",
    );
}

#[test]
fn includes_disabled_cycles_and_checked_variants() {
    let (_, w) = ok(&format!(
        "include /etc/keepalived/conf.d/*.conf\n{}",
        inst("")
    ));
    has(
        &w,
        Severity::Warning,
        1,
        1,
        "not followed: includes are disabled",
    );

    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("k.conf");
    std::fs::write(&main, format!("include k.conf\n{}", inst(""))).unwrap();
    let d = config::load_keepalived(&main, &KeepalivedOptions::default()).unwrap_err();
    has(&d, Severity::Error, 1, 1, "include cycle");

    std::fs::write(
        &main,
        format!(
            "includea missing/*.conf\ninclude {{a,b}}.conf\n{}",
            inst("")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.conf"),
        "vrrp_script s {\n  script /bin/true\n}\n",
    )
    .unwrap();
    let d = config::load_keepalived(&main, &KeepalivedOptions::default()).unwrap_err();
    has(
        &d,
        Severity::Error,
        1,
        1,
        "include `missing/*.conf` matches no file",
    );
    has(
        &d,
        Severity::Warning,
        2,
        1,
        "included file `a.conf` does not exist",
    );
    // b.conf was read: its script is defined (and unused).
    has(
        &d,
        Severity::Warning,
        1,
        13,
        "vrrp_script `s` is defined but",
    );
}

/// Hardening #8: an include that exists but cannot be read stops the
/// load (before, vrrpd ran without part of its configuration); one that
/// matches nothing stays a warning, as in keepalived; a FIFO or a
/// directory is named as such, not "does not exist".
#[test]
fn unreadable_includes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("k.conf");
    let big = dir.path().join("big.conf");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let fifo = dir.path().join("fifo.conf");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    std::fs::create_dir(dir.path().join("sub.conf")).unwrap();
    std::fs::write(
        &main,
        format!(
            "include big.conf\ninclude fifo.conf\ninclude sub.conf\ninclude none/*.conf\n{}",
            inst("")
        ),
    )
    .unwrap();
    let d = config::load_keepalived(&main, &KeepalivedOptions::default()).unwrap_err();
    has(&d, Severity::Error, 1, 1, "cannot read included file");
    has(&d, Severity::Error, 2, 1, "is a FIFO, not a regular file");
    has(
        &d,
        Severity::Error,
        3,
        1,
        "is a directory, not a regular file",
    );
    has(
        &d,
        Severity::Warning,
        4,
        1,
        "include `none/*.conf` matches no file",
    );
    assert!(
        !d.iter().any(|x| x.message.contains("does not exist")),
        "{}",
        config::render(&d)
    );
}

/// Hardening #8: the first word of an included file that others cannot
/// read (`include /etc/shadow`) is not echoed in the error; the position
/// still says where to look.
#[test]
fn unknown_words_of_private_files_are_not_echoed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("k.conf");
    let secret = dir.path().join("secret.conf");
    std::fs::write(&secret, "root:$6$s3cr3t:19000:0:99999:7:::\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&main, format!("include secret.conf\n{}", inst(""))).unwrap();
    let d = config::load_keepalived(&main, &KeepalivedOptions::default()).unwrap_err();
    let rendered = config::render(&d);
    assert!(!rendered.contains("s3cr3t"), "{rendered}");
    assert!(
        d.iter().any(|x| x.file == secret
            && x.line == 1
            && x.message
                .contains("(not shown: the file is not readable by everyone)")),
        "{rendered}"
    );
    // A file everyone can read is quoted as before.
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let d = config::load_keepalived(&main, &KeepalivedOptions::default()).unwrap_err();
    assert!(config::render(&d).contains("s3cr3t"));
}

#[test]
fn garp_globals_and_min_garp() {
    let (c, _) = ok(&format!(
        "global_defs {{\n  vrrp_min_garp\n}}\n{}",
        inst("")
    ));
    let a = &c.instances[0].announce;
    assert_eq!((a.repeat, a.delay), (1, None));
}

/// What keepalived 2.2.7 runs from widely copied files, vrrpd runs too,
/// with a warning naming what keepalived does: `nopreempt 1` (its handler
/// ignores the argument), `lvs_id` (1.x's `router_id`), a zero
/// `vrrp_garp_interval` / `vrrp_gna_interval` (no gap, the default) and
/// `garp_master_delay` in global_defs (ignored, as keepalived does).
#[test]
fn keepalived_tolerance_of_common_files() {
    let text = format!(
        "global_defs {{\n  lvs_id LVS_MAIN\n  vrrp_garp_interval 0\n  vrrp_gna_interval 0\n  garp_master_delay 1\n}}\n{}",
        inst("  nopreempt 1\n  dont_track_primary yes\n")
    );
    let (c, w) = ok(&text);
    assert_eq!(c.global.router_id.as_deref(), Some("LVS_MAIN"));
    has(
        &w,
        Severity::Warning,
        2,
        3,
        "`lvs_id` is keepalived 1.x's name of `router_id`",
    );
    let i = &c.instances[0];
    assert!(
        !i.preempt,
        "nopreempt with an argument still turns preemption off"
    );
    assert!(i.dont_track_primary);
    has(
        &w,
        Severity::Warning,
        13,
        13,
        "`nopreempt` takes no value: `1` is ignored",
    );
    has(
        &w,
        Severity::Warning,
        14,
        22,
        "`dont_track_primary` takes no value",
    );
    // An instance keyword in global_defs: keepalived ignores it ("Unknown
    // keyword"), and so does vrrpd, with a hint to the vrrp_ form.
    has(
        &w,
        Severity::Warning,
        5,
        3,
        "is an instance keyword: keepalived ignores it here",
    );
    assert_eq!(i.announce.delay, Some(Duration::from_secs(5)));
    assert_eq!(i.announce.interval, Duration::ZERO);
    assert!(
        !w.iter().any(|d| d.message.contains("garp_interval")),
        "a zero interval is not worth a warning:\n{}",
        config::render(&w)
    );
}

/// keepalived 2.2.7 runs a VRRPv2 instance without `virtual_ipaddress`
/// ("at least one is sensible", a warning) and refuses a VRRPv3 one ("at
/// least one is required"); `keepalived -t` says both.
#[test]
fn instance_without_vips_runs_for_v2_and_is_refused_for_v3() {
    let v2 = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  version 2\n}\n";
    let (c, w) = ok(v2);
    assert!(c.instances[0].vips.is_empty());
    has(&w, Severity::Warning, 1, 1, "no virtual address");
    let v3 = v2.replace("version 2", "version 3");
    let d = errors(&v3);
    assert!(
        d.iter()
            .any(|x| x.is_error() && x.message.contains("VRRPv3 requires")),
        "{}",
        config::render(&d)
    );
}

#[test]
fn range_errors_name_their_keyword() {
    let d = errors(&inst("  advert_int 0\n"));
    has(&d, Severity::Error, 7, 14, "`advert_int` 0 s is outside");
    let d = errors(&inst("  garp_master_repeat 300\n"));
    has(
        &d,
        Severity::Error,
        7,
        22,
        "`garp_master_repeat` 300 is outside",
    );
}

#[test]
fn multicast_groups_unicast_ttl_and_skip_check_adv_addr() {
    // Global groups per family; an instance's mcast_dst_ip wins; the
    // global skip flag is every instance's default.
    let text = "global_defs {\n  vrrp_mcast_group4 224.0.0.50\n  vrrp_mcast_group6 ff02::50\n  vrrp_skip_check_adv_addr\n}\n"
        .to_string()
        + &inst("")
        + "vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 8\n  virtual_ipaddress {\n    fd00:198:18::1/64\n  }\n}\n"
        + "vrrp_instance OWN {\n  interface eth0\n  virtual_router_id 9\n  mcast_dst_ip 224.0.0.60\n  skip_check_adv_addr off\n  virtual_ipaddress {\n    198.18.0.2/24\n  }\n}\n"
        + "vrrp_instance UC {\n  interface eth0\n  virtual_router_id 10\n  unicast_ttl 64\n  unicast_peer {\n    198.18.0.9\n  }\n  virtual_ipaddress {\n    198.18.0.3/24\n  }\n}\n";
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let group = |i: usize| c.instances[i].multicast_group.map(|g| g.to_string());
    assert_eq!(group(0).as_deref(), Some("224.0.0.50"));
    assert_eq!(group(1).as_deref(), Some("ff02::50"));
    assert_eq!(group(2).as_deref(), Some("224.0.0.60"));
    assert!(c.instances[0].skip_check_adv_addr);
    assert!(!c.instances[2].skip_check_adv_addr);
    assert_eq!(c.instances[3].unicast_ttl, Some(64));
    assert_eq!(c.instances[0].unicast_ttl, None);
    // convert writes them, and the native file reads back the same.
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{}\n{toml}", config::render(&d)));
    assert_eq!(back.instances, c.instances);
}

#[test]
fn what_keepalived_skips_for_these_is_a_warning() {
    // A unicast group, a group of the other family, unicast_ttl without
    // peers: keepalived logs and goes on without them.
    let text = "global_defs {\n  vrrp_mcast_group4 198.18.0.50\n}\n".to_string()
        + &inst("  mcast_dst_ip ff02::12\n  unicast_ttl 64\n");
    let (c, w) = ok(&text);
    has(
        &w,
        Severity::Warning,
        2,
        21,
        "not an IPv4 multicast address",
    );
    has(
        &w,
        Severity::Warning,
        10,
        16,
        "not of the instance's address family",
    );
    has(&w, Severity::Warning, 11, 15, "without `unicast_peer`");
    assert_eq!(c.instances[0].multicast_group, None);
    assert_eq!(c.instances[0].unicast_ttl, None);
    // A TTL out of range is an error naming the keyword.
    let e = errors(&inst(
        "  unicast_ttl 256\n  unicast_peer {\n    198.18.0.9\n  }\n",
    ));
    assert!(
        e.iter().any(|d| d.message.contains("unicast_ttl")),
        "{}",
        config::render(&e)
    );
}

#[test]
fn lower_and_higher_priority_advert_keywords() {
    // Globals are defaults; an instance's own flag (with an optional
    // on/off) wins.
    let text =
        "global_defs {\n  vrrp_higher_prio_send_advert\n  vrrp_lower_prio_no_advert true\n}\n"
            .to_string()
            + &inst("  lower_prio_no_advert off\n")
            + "vrrp_instance B {\n  interface eth0\n  virtual_router_id 8\n  higher_prio_send_advert false\n  virtual_ipaddress {\n    198.18.0.2/24\n  }\n}\n";
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let (a, b) = (&c.instances[0], &c.instances[1]);
    assert!(!a.lower_prio_no_advert && a.higher_prio_send_advert);
    assert!(b.lower_prio_no_advert && !b.higher_prio_send_advert);
    let (plain, _) = ok(&inst(""));
    assert!(
        !plain.instances[0].lower_prio_no_advert,
        "keepalived answers by default"
    );
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml")).unwrap();
    assert_eq!(back.instances, c.instances);
}

#[test]
fn startup_delay_and_the_startup_and_shutdown_scripts() {
    let text = "global_defs {\n  vrrp_startup_delay 2.5\n  startup_script \"/usr/local/bin/up --now\" nobody\n  startup_script_timeout 30\n  shutdown_script /usr/local/bin/down\n}\n"
        .to_string()
        + &inst("");
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let g = &c.global;
    assert_eq!(g.startup_delay, Duration::from_millis(2500));
    let up = g.startup_script.as_ref().unwrap();
    assert_eq!(
        up.exec,
        Exec::Argv(vec!["/usr/local/bin/up".into(), "--now".into()])
    );
    assert_eq!(up.run_as.as_ref().map(|r| r.user.as_str()), Some("nobody"));
    assert_eq!(g.startup_script_timeout, Duration::from_secs(30));
    assert!(g.shutdown_script.is_some());
    assert_eq!(g.shutdown_script_timeout, Duration::from_secs(10));
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml")).unwrap();
    assert_eq!(back.global, c.global, "{toml}");
    // keepalived bounds the timeouts to 1..=1000 s.
    let e = errors(&("global_defs {\n  startup_script_timeout 0\n}\n".to_string() + &inst("")));
    assert!(
        e.iter()
            .any(|d| d.message.contains("startup_script_timeout"))
    );
}

#[test]
fn notify_fifos_and_their_scripts() {
    let text = "global_defs {\n  notify_fifo /run/k.fifo root\n  notify_fifo_script \"/usr/local/bin/reader --log\"\n  vrrp_notify_fifo /run/v.fifo\n  vrrp_notify_fifo_script /usr/local/bin/other nobody\n}\n"
        .to_string()
        + &inst("");
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let f = &c.global.notify_fifos;
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].path, Path::new("/run/k.fifo"));
    assert_eq!(f[0].owner.as_ref().map(|r| r.user.as_str()), Some("root"));
    assert_eq!(
        f[0].script.as_ref().map(|h| h.exec.clone()),
        Some(Exec::Argv(vec![
            "/usr/local/bin/reader".into(),
            "--log".into()
        ]))
    );
    assert_eq!(f[1].path, Path::new("/run/v.fifo"));
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml")).unwrap();
    assert_eq!(back.global, c.global, "{toml}");
    // A script without its FIFO does nothing, as in keepalived.
    let (c, w) =
        ok(&("global_defs {\n  vrrp_notify_fifo_script /bin/true\n}\n".to_string() + &inst("")));
    assert!(c.global.notify_fifos.is_empty());
    has(&w, Severity::Warning, 2, 3, "has no effect");
}

#[test]
fn vrrp_track_process_and_its_references() {
    let text = "vrrp_track_process haproxy {\n  process /usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg\n  param_match partial\n  weight -30\n  quorum 2\n  quorum_max 4\n  delay 1.5\n  fork_delay 0.5\n}\nvrrp_track_process nginx {\n  process nginx\n}\n"
        .to_string()
        + &inst("  track_process {\n    haproxy\n    nginx weight 0\n  }\n");
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let h = &c.track_process["haproxy"];
    assert_eq!(h.process, "/usr/sbin/haproxy");
    assert_eq!(h.params, ["-f", "/etc/haproxy/haproxy.cfg"]);
    assert_eq!(h.param_match, Some(config::ParamMatch::Partial));
    assert!(h.full_command);
    assert_eq!((h.weight.value, h.quorum, h.quorum_max), (-30, 2, Some(4)));
    assert_eq!(h.fork_delay, Duration::from_millis(500));
    assert_eq!(h.terminate_delay, Duration::from_millis(1500));
    let n = &c.track_process["nginx"];
    assert!(!n.full_command && n.param_match.is_none() && n.weight.value == 1);
    let refs = &c.instances[0].tracking.processes;
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[1].weight.map(|w| w.value), Some(0));
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{}\n{toml}", config::render(&d)));
    assert_eq!(back.track_process, c.track_process, "{toml}");
    assert_eq!(back.instances, c.instances);
    // A reference to a process tracker that does not exist is an error.
    let e = errors(&inst("  track_process {\n    nope\n  }\n"));
    assert!(
        e.iter().any(|d| d.message.contains("nope")),
        "{}",
        config::render(&e)
    );
}

#[test]
fn garp_lower_prio_settings_and_their_defaults() {
    // Without them, keepalived takes the global garp_master settings (not
    // the instance's own): 5 and 5 s unless global_defs says otherwise.
    let (c, w) = ok(&inst("  garp_master_repeat 2\n"));
    assert!(w.is_empty(), "{}", config::render(&w));
    let a = &c.instances[0].announce;
    assert_eq!(
        (a.lower_prio_repeat, a.lower_prio_delay),
        (5, Some(Duration::from_secs(5)))
    );
    let text = "global_defs {\n  vrrp_garp_master_repeat 3\n  vrrp_garp_master_delay 0\n}\n"
        .to_string()
        + &inst("");
    let (c, _) = ok(&text);
    let a = &c.instances[0].announce;
    assert_eq!((a.lower_prio_repeat, a.lower_prio_delay), (3, None));
    let text = "global_defs {\n  vrrp_garp_lower_prio_repeat 1\n  vrrp_garp_lower_prio_delay 7\n}\n"
        .to_string()
        + &inst(
            "  garp_lower_prio_repeat 0\n  notify_master_rx_lower_pri /usr/local/bin/reclaim\n",
        );
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let i = &c.instances[0];
    assert_eq!(i.announce.lower_prio_repeat, 0);
    assert_eq!(i.announce.lower_prio_delay, Some(Duration::from_secs(7)));
    assert!(i.notify.master_rx_lower_pri.is_some());
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml")).unwrap();
    assert_eq!(back.instances, c.instances, "{toml}");
}

#[test]
fn notify_priority_changes_from_the_instance_its_group_or_global_defs() {
    let member = |name: &str, vrid: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  interface eth0\n  virtual_router_id {vrid}\n{extra}  virtual_ipaddress {{\n    198.18.0.{vrid}/24\n  }}\n}}\n"
        )
    };
    let text = "global_defs {\n  vrrp_notify_priority_changes\n}\n".to_string()
        + &member("A", 1, "")
        + &member("B", 2, "  notify_priority_changes off\n")
        + &member("C", 3, "")
        + &member("D", 4, "  notify_priority_changes\n")
        + "vrrp_sync_group G {\n  group {\n    C\n    D\n  }\n  notify_priority_changes false\n}\n";
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let on: Vec<bool> = c
        .instances
        .iter()
        .map(|i| i.notify_priority_changes)
        .collect();
    assert_eq!(on, [true, false, false, true]);
    let toml = config::to_native_toml(&c);
    let (back, _) = config::check_native_str(&toml, Path::new("c.toml")).unwrap();
    assert_eq!(back.instances, c.instances, "{toml}");
}

#[test]
fn vrrp_strict_is_applied_as_keepalived_applies_it() {
    let strict = |body: &str| format!("global_defs {{\n  vrrp_strict\n}}\n{}", inst(body));
    // Non-owners default to no_accept; an owner keeps accept.
    let (c, _) = ok(&strict(""));
    assert!(!c.instances[0].accept);
    assert!(c.instances[0].lower_prio_no_advert);
    let (c, _) = ok(&strict("  priority 255\n"));
    assert!(c.instances[0].accept);
    // What RFC 3768 does not allow is reset, with a warning each.
    let (c, w) = ok(&strict(
        "  state MASTER\n  accept\n  higher_prio_send_advert\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n",
    ));
    let i = &c.instances[0];
    assert_eq!(i.initial_state, InitialState::Backup);
    assert!(!i.accept, "accept on VRRPv2 is reset");
    assert!(!i.higher_prio_send_advert);
    assert!(i.auth_password.is_none());
    for needle in [
        "must be the address owner",
        "does not comply with RFC 3768",
        "higher_prio_send_advert is not allowed",
        "authentication is not allowed",
    ] {
        assert!(
            w.iter().any(|d| d.message.contains(needle)),
            "no warning {needle:?} in:\n{}",
            config::render(&w)
        );
    }
    let (c, w) = ok(&strict("  preempt_delay 5\n  garp_lower_prio_repeat 2\n"));
    assert!(c.instances[0].preempt_delay.is_zero());
    assert_eq!(c.instances[0].announce.lower_prio_repeat, 0);
    assert!(
        w.iter()
            .any(|d| d.message.contains("preempt_delay is not allowed"))
    );
    assert!(w.iter().any(|d| d.message.contains("no repeated GARPs")));
    // VRRPv3 keeps an explicit accept; strict_mode off overrides vrrp_strict.
    let (c, _) = ok(&strict("  version 3\n  accept\n"));
    assert!(c.instances[0].accept);
    let (c, _) = ok(&strict("  strict_mode off\n"));
    assert!(c.instances[0].accept);
    let (c, _) = ok(&inst("  strict_mode\n"));
    assert!(!c.instances[0].accept);
    // Refused: unicast peers, no VIP.
    let d = errors(&strict("  unicast_peer {\n    198.18.0.2\n  }\n"));
    assert!(
        d.iter()
            .any(|x| x.message.contains("does not allow unicast peers"))
    );
    let no_vip = "global_defs {\n  vrrp_strict\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 7\n}\n";
    let d = errors(no_vip);
    assert!(d.iter().any(|x| x.message.contains("at least one VIP")));
}

#[test]
fn nftables_settings_are_read() {
    let (c, w) = ok(&format!(
        "global_defs {{\n  nftables vrrp_filter\n  nftables_priority -10\n  nftables_counters\n  nftables_ifindex\n}}\n{}",
        inst("")
    ));
    let f = &c.global.firewall;
    assert_eq!(
        (f.table.as_str(), f.priority, f.counters),
        ("vrrp_filter", -10, true)
    );
    assert!(w.is_empty(), "{}", config::render(&w));
    let (_, w) = ok(&format!(
        "global_defs {{\n  vrrp_iptables\n}}\n{}",
        inst("")
    ));
    assert!(w[0].message.contains("filters with nftables"));
    let d = errors(&format!(
        "global_defs {{\n  nftables a_name_that_is_much_too_long_for_nft\n}}\n{}",
        inst("")
    ));
    assert!(d[0].message.contains("longer than 31"));
}

#[test]
fn small_instance_keywords_are_read() {
    let (c, w) = ok(&format!(
        "global_defs {{\n  vmac_prefix vm\n  log_unknown_vrids\n}}\n{}",
        inst("  use_vmac\n  promote_secondaries\n  unicast_fault_no_peer\n")
    ));
    let i = &c.instances[0];
    assert_eq!(i.vmac.as_ref().unwrap().name.as_deref(), Some("vm.7"));
    assert!(!i.promote_secondaries, "set on the vmac anyway");
    assert!(
        w.iter()
            .any(|d| d.message.contains("promote_secondaries is set on the vmac"))
    );
    assert!(i.unicast_fault_no_peer);
    assert!(c.global.log_unknown_vrids);
    let (c, _) = ok(&inst("  promote_secondaries\n"));
    assert!(c.instances[0].promote_secondaries);
    // A long prefix is cut so that the name fits IFNAMSIZ.
    let (c, _) = ok(&format!(
        "global_defs {{\n  vmac_prefix averyveryverylongprefix\n}}\n{}",
        inst("  use_vmac\n")
    ));
    let name = c.instances[0].vmac.as_ref().unwrap().name.clone().unwrap();
    assert_eq!(name, "averyveryvery.7");
}

#[test]
fn track_group_ties_static_routes_to_instances() {
    let text = format!(
        "track_group G {{\n  group {{\n    VI\n  }}\n}}\nstatic_routes {{\n  198.18.9.0/24 via 198.18.0.254 dev eth1 track_group G\n}}\n{}",
        inst("")
    );
    let (c, _) = ok(&text);
    assert_eq!(c.statics.track_groups["G"], vec!["VI".to_string()]);
    assert_eq!(c.statics.links_tracked_by("VI"), vec!["eth1".to_string()]);
    assert!(c.statics.links_tracked_by("other").is_empty());
    // Used before it is defined (keepalived: "not found"), without a dev,
    // or on a virtual route: refused.
    let d = errors(&format!(
        "static_routes {{\n  198.18.9.0/24 dev eth1 track_group G\n}}\ntrack_group G {{\n  group {{\n    VI\n  }}\n}}\n{}",
        inst("")
    ));
    assert!(d.iter().any(|x| x.message.contains("not defined before")));
    let d = errors(&format!(
        "track_group G {{\n  group {{\n    VI\n  }}\n}}\nstatic_routes {{\n  198.18.9.0/24 via 198.18.0.254 track_group G\n}}\n{}",
        inst("")
    ));
    assert!(
        d.iter()
            .any(|x| x.message.contains("needs a tracked route with `dev`"))
    );
    let d = errors(&format!(
        "track_group G {{\n  group {{\n    VI\n  }}\n}}\n{}",
        inst("  virtual_routes {\n    198.18.9.0/24 dev eth0 track_group G\n  }\n")
    ));
    assert!(d.iter().any(|x| x.message.contains("static_routes only")));
}

#[test]
fn old_unicast_checksum_modes_are_read_and_converted() {
    use vrrpd::config::UnicastChecksum;
    let (c, w) = ok(&inst(""));
    assert!(w.is_empty());
    assert_eq!(
        c.instances[0].unicast_checksum,
        UnicastChecksum::DetectLegacy,
        "keepalived's default detects the old form"
    );
    for (line, form, native) in [
        (
            "  old_unicast_checksum\n",
            UnicastChecksum::Legacy,
            "legacy",
        ),
        (
            "  old_unicast_checksum never\n",
            UnicastChecksum::Standard,
            "standard",
        ),
    ] {
        let (c, w) = ok(&inst(line));
        assert!(w.is_empty(), "{}", config::render(&w));
        assert_eq!(c.instances[0].unicast_checksum, form);
        let toml = config::to_native_toml(&c);
        assert!(
            toml.contains(&format!("unicast_checksum = \"{native}\"")),
            "{toml}"
        );
        let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
        assert_eq!(again.instances[0].unicast_checksum, form);
    }
    let d = errors(&inst("  old_unicast_checksum always\n"));
    has(&d, Severity::Error, 7, 24, "is not a mode");
}

#[test]
fn garp_extra_if_is_read_with_keepalived_defaults_and_converted() {
    let secs = |text: &str| {
        let (c, w) = ok(text);
        (c.instances[0].announce.extra_interfaces, w, c)
    };
    let (e, w, _) = secs(&inst(""));
    assert_eq!(e, None);
    assert!(w.is_empty());
    let (e, w, c) = secs(&inst("  garp_extra_if all 100\n"));
    assert_eq!(e, Some(Duration::from_secs(100)));
    assert!(w.is_empty(), "{}", config::render(&w));
    let toml = config::to_native_toml(&c);
    assert!(toml.contains("extra_interfaces = \"100s\""), "{toml}");
    let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
    assert_eq!(
        again.instances[0].announce.extra_interfaces,
        Some(Duration::from_secs(100))
    );
    // The global default, overridden by an instance's own (its `all`
    // included, as keepalived reads it).
    let global = "global_defs {\n  vrrp_garp_extra_if 60 all\n}\n";
    let (e, _, _) = secs(&format!("{global}{}", inst("")));
    assert_eq!(e, Some(Duration::from_secs(60)));
    let (e, w, _) = secs(&format!("{global}{}", inst("  garp_extra_if 30\n")));
    assert_eq!(
        e, None,
        "without `all` only VMACs of VIPs, which vrrpd has none of"
    );
    has(&w, Severity::Warning, 10, 3, "without `all`");
    let (e, _, _) = secs(&format!("{global}{}", inst("  garp_extra_if 0\n")));
    assert_eq!(e, None, "0 turns it off");
    // The deprecated names.
    let (e, w, _) = secs(&inst("  vmac_garp_intvl all 5\n"));
    assert_eq!(e, Some(Duration::from_secs(5)));
    has(&w, Severity::Warning, 7, 3, "deprecated");
    // A time is required; the global one is at least 1 s.
    let d = errors(&inst("  garp_extra_if all\n"));
    has(&d, Severity::Error, 7, 3, "needs a time");
    let d = errors(&format!(
        "global_defs {{\n  vrrp_garp_extra_if all 0\n}}\n{}",
        inst("")
    ));
    has(&d, Severity::Error, 2, 26, "outside 1..=86400");
}

#[test]
fn track_src_ip_needs_a_configured_source_address() {
    let (c, w) = ok(&inst("  unicast_src_ip 198.18.0.11\n  track_src_ip\n"));
    assert!(w.is_empty(), "{}", config::render(&w));
    assert!(c.instances[0].track_source_address);
    let toml = config::to_native_toml(&c);
    assert!(toml.contains("track_source_address = true"), "{toml}");
    let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
    assert!(again.instances[0].track_source_address);
    // Without one keepalived drops it silently; vrrpd says so.
    let (c, w) = ok(&inst("  track_src_ip\n"));
    assert!(!c.instances[0].track_source_address);
    has(&w, Severity::Warning, 7, 3, "has no effect");
    let native = "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\n\
                  vips = [\"198.18.0.100/24\"]\ntrack_source_address = true\n";
    let d = config::check_native_str(native, Path::new("t.toml")).unwrap_err();
    assert!(
        d.iter()
            .any(|x| x.is_error() && x.message.contains("needs `source_address`")),
        "{}",
        config::render(&d)
    );
}

#[test]
fn interface_up_down_delays_are_read_limited_and_converted() {
    let text = format!(
        "interface_up_down_delays {{\n  eth0 1.5 0.25\n  eth1 3\n}}\n{}",
        inst("  advert_int 1\n")
    );
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    let d = &c.global.link_delays;
    assert_eq!(d["eth0"].down, Duration::from_millis(1_500));
    assert_eq!(d["eth0"].up, Duration::from_millis(250));
    // Without an up delay keepalived 2.2.7's parser sets 0.
    assert_eq!(d["eth1"].up, Duration::ZERO);
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
    assert_eq!(again.global.link_delays, c.global.link_delays, "{toml}");
    // At least (down_timer_adverts - 1) advert intervals is cut, as
    // keepalived cuts it.
    let text = format!(
        "interface_up_down_delays {{\n  eth0 5\n}}\n{}",
        inst("  advert_int 1\n")
    );
    let (c, w) = ok(&text);
    assert_eq!(
        c.global.link_delays["eth0"].down,
        Duration::from_secs(2) - Duration::from_secs(1) / 256
    );
    has(&w, Severity::Warning, 1, 1, "is cut to");
    let d = errors("interface_up_down_delays {\n  eth0 300\n}\n");
    has(&d, Severity::Error, 2, 8, "outside 0..=255 s");
}

#[test]
fn garp_group_paces_the_instances_of_its_interfaces() {
    let text = format!(
        "global_defs {{\n  vrrp_garp_interval 0.002\n}}\ngarp_group {{\n  garp_interval 0.01\n  \
         interfaces {{\n    eth0\n    eth9\n  }}\n}}\n{}",
        inst("")
    );
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    assert_eq!(c.instances[0].announce.interval, Duration::from_millis(10));
    // An interface outside every group keeps the global pause.
    let text = text.replace("    eth0\n", "");
    let (c, _) = ok(&text);
    assert_eq!(c.instances[0].announce.interval, Duration::from_millis(2));
    let (_, w) = ok(&format!(
        "garp_group {{\n  interface eth0\n}}\n{}",
        inst("")
    ));
    has(&w, Severity::Warning, 1, 1, "has no effect");
}

#[test]
fn disable_local_igmp_is_read_and_converted() {
    let (c, w) = ok(&format!(
        "global_defs {{\n  disable_local_igmp\n}}\n{}",
        inst("")
    ));
    assert!(w.is_empty(), "{}", config::render(&w));
    assert!(c.global.disable_local_igmp);
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
    assert!(again.global.disable_local_igmp, "{toml}");
}

#[test]
fn net_namespace_is_read_at_the_top_level_and_moves_the_default_paths() {
    let (c, w) = ok(&format!("net_namespace blue\n{}", inst("")));
    assert!(w.is_empty(), "{}", config::render(&w));
    assert_eq!(c.global.net_namespace.as_deref(), Some("blue"));
    assert_eq!(c.global.state_dir, Path::new("/run/vrrpd/blue"));
    assert_eq!(
        c.global.control_socket,
        Path::new("/run/vrrpd/blue/vrrpd.sock")
    );
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
    assert_eq!(again.global, c.global, "{toml}");
    // keepalived knows it only at the top level.
    let (c, w) = ok(&format!(
        "global_defs {{\n  net_namespace blue\n}}\n{}",
        inst("")
    ));
    assert_eq!(c.global.net_namespace, None);
    has(&w, Severity::Warning, 2, 3, "only at the top level");
    let d = errors(&format!("net_namespace ../x\n{}", inst("")));
    has(&d, Severity::Error, 1, 15, "is not a namespace name");
}

#[test]
fn track_group_on_a_static_address_tracks_its_interface() {
    let text = format!(
        "track_group G {{\n  group {{\n    VI\n  }}\n}}\nstatic_ipaddress {{\n  198.18.72.1/24 dev eth1 track_group G\n  198.18.73.1/24 dev eth2\n}}\n{}",
        inst("")
    );
    let (c, w) = ok(&text);
    assert!(w.is_empty(), "{}", config::render(&w));
    assert_eq!(c.statics.links_tracked_by("VI"), vec!["eth1".to_string()]);
    let toml = config::to_native_toml(&c);
    assert!(toml.contains("track_group = \"G\""), "{toml}");
    let (again, _) = config::check_native_str(&toml, Path::new("converted.toml")).unwrap();
    assert_eq!(again.statics, c.statics, "{toml}");
    // Not defined before: keepalived's "track_group G not found".
    let d = errors(&format!(
        "static_ipaddress {{\n  198.18.72.1/24 dev eth1 track_group G\n}}\n{}",
        inst("")
    ));
    has(
        &d,
        Severity::Error,
        2,
        3,
        "is not defined before it is used",
    );
}
