//! Native TOML configuration: loading, every semantic check, positions.

use std::path::Path;
use std::time::Duration;

use vrrpd::config::{self, Config, Diagnostic, Exec, InitialState, Severity, Version};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/native")
        .join(name)
}

fn check(text: &str) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    config::check_native_str(text, Path::new("t.toml"))
}

/// The diagnostics of a configuration that must fail.
fn errors(text: &str) -> Vec<Diagnostic> {
    match check(text) {
        Ok((_, w)) => panic!(
            "expected errors, got none; warnings: {}",
            config::render(&w)
        ),
        Err(d) => d,
    }
}

/// The warnings of a configuration that must load.
fn warnings(text: &str) -> Vec<Diagnostic> {
    match check(text) {
        Ok((_, w)) => w,
        Err(d) => panic!("expected success:\n{}", config::render(&d)),
    }
}

/// Asserts one diagnostic of `severity` contains `needle` at `line:col`.
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

/// A minimal valid instance, to splice extra keys into.
fn instance(extra: &str) -> String {
    format!(
        "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"198.18.0.1/24\"]\n{extra}"
    )
}

#[test]
fn full_example_loads_without_diagnostics() {
    // Its content: a checkout makes the file world-readable, and a password
    // in a world-readable file is rightly warned about when loaded.
    let path = data("full.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (cfg, warnings) =
        config::check_native_str(&text, &path).unwrap_or_else(|d| panic!("{}", config::render(&d)));
    assert!(warnings.is_empty(), "{}", config::render(&warnings));
    assert_eq!(cfg.instances.len(), 3);
    assert_eq!(cfg.global.router_id.as_deref(), Some("lb1"));
    let web = cfg.instance("VI_WEB").unwrap();
    assert_eq!(web.vrid.get(), 51);
    assert_eq!(web.priority.get(), 150);
    assert_eq!(web.preempt_delay, Duration::from_secs(30));
    assert_eq!(web.vips[1].label.as_deref(), Some("eth0:web"));
    assert_eq!(web.announce.refresh, Some(Duration::from_secs(60)));
    assert_eq!(web.tracking.interfaces[1].weight.value, -10);
    assert_eq!(
        cfg.track_script["chk_api"].exec,
        Exec::Argv(vec![
            "/usr/bin/curl".into(),
            "-sf".into(),
            "--max-time".into(),
            "1".into(),
            "http://198.18.0.10:8080/health".into()
        ])
    );
    assert!(matches!(
        cfg.track_script["chk_pipeline"].exec,
        Exec::Shell(_)
    ));
    assert_eq!(
        cfg.track_script["chk_api"].probe.timeout,
        Duration::from_secs(3)
    );
    assert_eq!(cfg.track_http["backend"].path, "/healthz");
    assert_eq!(cfg.instance("VI_DB6").unwrap().version, Version::V3);
    assert_eq!(cfg.group_of("VI_DB").unwrap().name, "DB");
}

#[test]
fn defaults_of_a_minimal_instance() {
    let (cfg, w) = check(&instance("")).unwrap();
    assert!(w.is_empty());
    let i = &cfg.instances[0];
    assert_eq!(i.version, Version::V3);
    assert_eq!(i.priority.get(), 100);
    assert_eq!(i.advert_interval, Duration::from_secs(1));
    assert!(i.preempt && i.accept);
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(i.announce, config::Announce::default());
    assert_eq!(i.vips[0].prefix_len, 24);
}

#[test]
fn vrid_and_priority_ranges() {
    let d = errors(
        "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 0\npriority = 256\nvips = [\"198.18.0.1\"]\n",
    );
    has(&d, Severity::Error, 4, 8, "`vrid` = 0 is outside 1..=255");
    has(
        &d,
        Severity::Error,
        5,
        12,
        "`priority` = 256 is outside 1..=255",
    );
    let d = errors(
        "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = \"7\"\nvips = [\"198.18.0.1\"]\n",
    );
    has(
        &d,
        Severity::Error,
        4,
        8,
        "must be an integer, not a string",
    );
    assert!(d[0].hint.as_deref().unwrap().contains("without quotes"));
}

#[test]
fn v2_interval_must_be_whole_seconds() {
    let d = errors(&instance("version = 2\nadvert_interval = \"100ms\"\n"));
    has(&d, Severity::Error, 7, 19, "whole seconds");
    assert!(d[0].hint.as_deref().unwrap().contains("version 3"));
    let d = errors(&instance("version = 2\nadvert_interval = \"256s\"\n"));
    has(&d, Severity::Error, 7, 19, "outside 1..=255 s");
}

#[test]
fn v3_interval_range_and_step() {
    has(
        &errors(&instance("advert_interval = \"5ms\"\n")),
        Severity::Error,
        6,
        19,
        "10 ms..=40.95 s",
    );
    has(
        &errors(&instance("advert_interval = \"15ms\"\n")),
        Severity::Error,
        6,
        19,
        "not a multiple of 10 ms",
    );
    has(
        &errors(&instance("advert_interval = \"41s\"\n")),
        Severity::Error,
        6,
        19,
        "outside",
    );
    assert!(check(&instance("advert_interval = \"40.95s\"\n")).is_ok());
    assert!(check(&instance("advert_interval = \"10ms\"\n")).is_ok());
}

#[test]
fn durations_need_units() {
    let d = errors(&instance("advert_interval = 1\n"));
    has(&d, Severity::Error, 6, 19, "needs a unit");
    assert_eq!(d[0].hint.as_deref(), Some("write \"1s\" or \"1ms\""));
}

#[test]
fn vip_family_must_be_consistent() {
    let d = errors(
        "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"198.18.0.1\", \"fd00:198:18::1\"]\n",
    );
    has(
        &d,
        Severity::Error,
        5,
        23,
        "IPv6 address fd00:198:18::1 in an IPv4 instance",
    );
    let d = errors(
        "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nversion = 2\nvips = [\"fd00:198:18::1\"]\n",
    );
    has(&d, Severity::Error, 5, 11, "VRRPv2, which is IPv4 only");
    // Excluded addresses may mix families.
    assert!(check(&instance("excluded_vips = [\"fd00:198:18::9/64\"]\n")).is_ok());
}

#[test]
fn duplicate_names_and_vrids() {
    let two = format!("{}{}", instance(""), instance(""));
    let d = errors(&two);
    has(&d, Severity::Error, 7, 8, "duplicate instance name `A`");
    has(
        &d,
        Severity::Error,
        9,
        8,
        "both use VRID 1 for IPv4 on `eth0`",
    );
    // Another family on the same interface and VRID is fine.
    let ok = format!(
        "{}[[instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"fd00:198:18::1\"]\n",
        instance("")
    );
    assert!(check(&ok).is_ok());
    // So are unicast instances with disjoint peers (keepalived allows it).
    let uni = format!(
        "{}[[instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"198.18.0.2\"]\nunicast_peers = [\"198.18.0.20\"]\n",
        instance("unicast_peers = [\"198.18.0.10\"]\n")
    );
    assert!(check(&uni).is_ok());
    // Unicast instances sharing a peer clash, as does a multicast one.
    let shared = format!(
        "{}[[instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"198.18.0.2\"]\nunicast_peers = [\"198.18.0.20\", \"198.18.0.10\"]\n",
        instance("unicast_peers = [\"198.18.0.10\"]\n")
    );
    has(
        &errors(&shared),
        Severity::Error,
        10,
        8,
        "`A` and `B` both use VRID 1",
    );
    let mixed = format!(
        "{}[[instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"198.18.0.2\"]\n",
        instance("unicast_peers = [\"198.18.0.10\"]\n")
    );
    has(
        &errors(&mixed),
        Severity::Error,
        10,
        8,
        "`A` and `B` both use VRID 1",
    );
}

/// Hardening #6: 3,000 instances on one interface and VRID printed every
/// pair (4.5 million errors, 1.9 GiB). Each clash is now reported once,
/// and past the first 20 they are counted, not listed.
#[test]
fn many_instances_sharing_a_vrid_give_a_bounded_report() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!(
            "[[instance]]\nname = \"I{i}\"\ninterface = \"eth0\"\nvrid = 7\nvips = [\"198.18.0.1/24\"]\n"
        ));
    }
    let d = errors(&text);
    let clashes: Vec<_> = d
        .iter()
        .filter(|x| x.message.contains("both use VRID 7"))
        .collect();
    assert_eq!(clashes.len(), 20, "{}", config::render(&d));
    assert!(
        clashes
            .iter()
            .all(|x| x.message.starts_with("instances `I0` and"))
    );
    assert!(
        d.iter().any(|x| x.message
            == "and 2979 more instances share an (interface, VRID, family) with an earlier one"),
        "{}",
        config::render(&d)
    );
    assert!(d.len() < 30, "{} diagnostics", d.len());
}

#[test]
fn unicast_peer_family() {
    let d = errors(&instance(
        "unicast_peers = [\"198.18.0.2\", \"fd00:198:18::2\"]\nsource_address = \"fd00:198:18::1\"\n",
    ));
    has(
        &d,
        Severity::Error,
        6,
        32,
        "unicast peer fd00:198:18::2 is IPv6",
    );
    has(
        &d,
        Severity::Error,
        7,
        18,
        "source address fd00:198:18::1 is IPv6",
    );
}

#[test]
fn labels() {
    let d = errors(&instance(
        "excluded_vips = [{ address = \"198.18.0.9\", label = \"eth0:much-too-long\" }]\n",
    ));
    has(&d, Severity::Error, 6, 18, "at most 15");
    let w = warnings(&instance(
        "excluded_vips = [{ address = \"198.18.0.9\", label = \"vip1\" }]\n",
    ));
    has(
        &w,
        Severity::Warning,
        6,
        18,
        "does not start with the interface name `eth0`",
    );
    let w = warnings(&instance(
        "excluded_vips = [{ address = \"198.18.0.9\", device = \"eth1\", label = \"eth1:9\" }]\n",
    ));
    assert!(w.is_empty(), "{}", config::render(&w));
}

#[test]
fn authentication() {
    let d = errors(&instance("version = 2\nauth_password = \"123456789\"\n"));
    has(&d, Severity::Error, 7, 17, "9 bytes; it must be 1..=8");
    let d = errors(&instance("auth_password = \"pw\"\n"));
    has(&d, Severity::Error, 6, 17, "VRRPv2 only");
    assert!(check(&instance("version = 2\nauth_password = \"12345678\"\n")).is_ok());
}

#[test]
fn sync_group_membership() {
    let text = format!(
        "{}[[sync_group]]\nname = \"G\"\ninstances = [\"A\", \"NOPE\"]\n[[sync_group]]\nname = \"H\"\ninstances = [\"A\"]\n",
        instance("")
    );
    let d = errors(&text);
    has(&d, Severity::Error, 8, 19, "unknown instance `NOPE`");
    has(&d, Severity::Error, 11, 14, "already in sync group `G`");
    has(&d, Severity::Warning, 9, 1, "single member");
}

#[test]
fn weighted_trackers_in_a_group_need_tracking_weight() {
    let base = format!(
        "[track_script.c]\ncommand = [\"/bin/true\"]\nweight = -10\n{}[[sync_group]]\nname = \"G\"\ninstances = [\"A\"]\n",
        instance("track_script = [\"c\"]\n")
    );
    let d = errors(&base);
    has(&d, Severity::Error, 4, 1, "weighted trackers");
    assert!(check(&format!("{base}tracking_weight = true\n")).is_ok());
}

#[test]
fn tracker_references_must_exist() {
    let d = errors(&instance(
        "track_script = [\"missing\"]\ntrack_tcp = [{ name = \"db\", weight = 300 }]\n",
    ));
    has(
        &d,
        Severity::Error,
        6,
        17,
        "track_script `missing` is not defined",
    );
    has(&d, Severity::Error, 7, 14, "track_tcp `db` is not defined");
    has(
        &d,
        Severity::Error,
        7,
        14,
        "weight 300 is outside -253..=253",
    );
}

#[test]
fn unused_tracker_is_a_warning() {
    let w = warnings(&format!(
        "[track_tcp.db]\naddress = \"198.18.0.5:5432\"\n{}",
        instance("")
    ));
    has(
        &w,
        Severity::Warning,
        1,
        12,
        "defined but no instance or group tracks it",
    );
}

#[test]
fn unknown_keys_are_errors_with_suggestions() {
    let d = errors(&instance("priorty = 5\n[global]\nlog_lvl = \"info\"\n"));
    has(&d, Severity::Error, 6, 1, "unknown key `priorty`");
    assert_eq!(
        d.iter().find(|x| x.line == 6).unwrap().hint.as_deref(),
        Some("did you mean `priority`?")
    );
    has(
        &d,
        Severity::Error,
        8,
        1,
        "unknown key `log_lvl` in [global]",
    );
    let d = errors("[instanse]\n");
    has(&d, Severity::Error, 1, 2, "unknown key `instanse`");
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let d = errors(
        "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 0\npriority = 0\nversion = 4\nvips = [\"nope\"]\nbogus = 1\n",
    );
    assert!(d.len() >= 5, "{}", config::render(&d));
    let lines: Vec<usize> = d.iter().map(|x| x.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "sorted by position");
}

#[test]
fn initial_state_master_gets_a_hint() {
    let d = errors(&instance("initial_state = \"MASTER\"\n"));
    has(&d, Severity::Error, 6, 17, "unknown initial_state");
    assert!(d[0].hint.as_deref().unwrap().contains("\"active\""));
}

#[test]
fn no_preempt_with_active_start_is_refused() {
    let d = errors(&instance("initial_state = \"active\"\npreempt = false\n"));
    has(&d, Severity::Error, 7, 11, "preemption cannot be disabled");
}

#[test]
fn owner_with_weights_is_warned() {
    let w = warnings(&instance(
        "priority = 255\ntrack_interface = [{ interface = \"eth1\", weight = -10 }]\n",
    ));
    has(&w, Severity::Warning, 6, 12, "address owner");
}

#[test]
fn commands() {
    let d = errors(
        "[track_script.a]\ncommand = []\n[track_script.b]\ncommand = \"x 'y\"\n[track_script.c]\ncommand = [\"a\"]\nshell = true\n",
    );
    has(&d, Severity::Error, 2, 11, "needs at least a program");
    has(&d, Severity::Error, 4, 11, "unterminated ' quote");
    has(&d, Severity::Error, 6, 11, "one string");
    let d = errors("[track_script.a]\ninterval = \"1s\"\n");
    has(&d, Severity::Error, 1, 15, "has no `command`");
}

#[test]
fn http_tracker_forms() {
    let d = errors(
        "[track_http.a]\nurl = \"https://x/\"\n[track_http.b]\nurl = \"http://x/\"\naddress = \"x:80\"\n[track_http.c]\naddress = \"x\"\n",
    );
    has(&d, Severity::Error, 2, 7, "https is not supported");
    has(&d, Severity::Error, 5, 11, "not both");
    has(&d, Severity::Error, 7, 11, "missing `:port`");
    // Both forms refuse a path with whitespace, so whatever `convert`
    // prints (address + path) loads back (found by the config_toml fuzzer).
    let d = errors(
        "[track_http.a]\nurl = \"http://x/healthz \"\n[track_http.b]\naddress = \"x:80\"\npath = \"/a b\"\n",
    );
    has(&d, Severity::Error, 2, 7, "contain no spaces");
    has(&d, Severity::Error, 5, 8, "contain no spaces");
}

#[test]
fn toml_syntax_errors_have_positions() {
    let d = errors("[[instance]]\nname = \"A\nvrid = 1\n");
    assert!(
        d[0].message.starts_with("TOML syntax"),
        "{}",
        config::render(&d)
    );
    assert_eq!(d[0].line, 2);
}

#[test]
fn display_format() {
    let d = errors(&instance("priority = 0\n"));
    assert_eq!(
        d[0].to_string(),
        "t.toml:6:12: error: `priority` = 0 is outside 1..=255"
    );
}

#[test]
fn unreadable_file_is_one_error() {
    let d = config::load_native(Path::new("/nonexistent/vrrpd.toml")).unwrap_err();
    assert_eq!(d.len(), 1);
    assert!(
        d[0].to_string()
            .starts_with("/nonexistent/vrrpd.toml: error: cannot read")
    );
}

#[test]
fn round_trip_of_the_full_example() {
    let (cfg, _) = config::load_native(&data("full.toml")).unwrap();
    let printed = config::to_native_toml(&cfg);
    let (again, w) =
        check(&printed).unwrap_or_else(|d| panic!("{printed}\n{}", config::render(&d)));
    assert!(w.is_empty(), "{}", config::render(&w));
    assert_eq!(again, cfg, "{printed}");
}

#[test]
fn documentation_example_is_the_full_example() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md"),
    )
    .unwrap();
    let start = doc.find("### Complete example").expect("section");
    let block = &doc[start..];
    let open = block.find("```toml\n").expect("toml block") + "```toml\n".len();
    let close = block[open..].find("```").expect("end of block");
    let full = std::fs::read_to_string(data("full.toml")).unwrap();
    assert_eq!(
        &block[open..open + close],
        full,
        "docs/configuration.md and full.toml differ"
    );
}

#[test]
fn a_password_in_a_world_readable_file_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vrrpd.toml");
    std::fs::write(
        &path,
        "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\nversion = 2\n\
         advert_interval = \"1s\"\nauth_password = \"s3cret\"\nvips = [\"198.18.0.100/24\"]\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, w) = config::load_native(&path).unwrap();
    assert!(
        w.iter().any(|d| d.message.contains("readable by everyone")),
        "{}",
        config::render(&w)
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, w) = config::load_native(&path).unwrap();
    assert!(w.is_empty(), "{}", config::render(&w));
}
