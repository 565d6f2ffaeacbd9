//! End-to-end faults (hardening issue): the host changes under a running
//! `vrrpd` and it copes without a restart.
//!
//! - an interface missing at start: the daemon runs, the instance waits in
//!   Fault and starts once the interface appears;
//! - the interface deleted and re-created (a veth pair rebuilt): the Backup
//!   takes over, the daemon rebuilds the instance and preempts back, and
//!   the stale socket is closed;
//! - the kernel refusing a VIP: logged, counted, Fault instead of a claim,
//!   retried, and the VIP arrives once the kernel accepts it;
//! - a reload that drops an interface's last instance closes its socket;
//! - an unusable state directory: a clear error at start, not a crash.

mod e2e_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, elected, transitions, wait_for};

fn vrrpctl_json(lab: &Lab, idx: usize, what: &str) -> serde_json::Value {
    let socket = lab.host_dir(idx).join("ctl.sock");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
        .arg("--socket")
        .arg(&socket)
        .args([what, "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// The instance `name` in `vrrpctl status|stats --json` of host `idx`.
fn instance(lab: &Lab, idx: usize, what: &str, name: &str) -> serde_json::Value {
    let v = vrrpctl_json(lab, idx, what);
    v["instances"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == name).cloned())
        .unwrap_or(serde_json::Value::Null)
}

/// Raw VRRP (protocol 112) sockets open in host `idx`'s namespace, IPv4
/// and IPv6: /proc/net/raw shows the protocol as the local "port" 0070.
fn vrrp_sockets(lab: &Lab, idx: usize) -> usize {
    ["/proc/net/raw", "/proc/net/raw6"]
        .iter()
        .map(|f| {
            lab.host(idx)
                .exec(&["cat", f])
                .lines()
                .skip(1)
                .filter(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|local| local.ends_with(":0070"))
                })
                .count()
        })
        .sum()
}

fn has_addr(lab: &Lab, idx: usize, dev: &str, addr: &str) -> bool {
    lab.host(idx)
        .ip(&["-o", "addr", "show", "dev", dev])
        .split_whitespace()
        .any(|w| w.split('/').next() == Some(addr))
}

/// A native config with the given instance tables, for host `idx`.
fn write(lab: &Lab, idx: usize, file: &str, instances: &str) -> PathBuf {
    let dir = lab.host_dir(idx);
    let text = format!(
        "[global]\nstate_dir = \"{}\"\ncontrol_socket = \"{}\"\nlog_level = \"debug\"\n{instances}",
        dir.join("state").display(),
        dir.join("ctl.sock").display(),
    );
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

fn instance_table(name: &str, interface: &str, vrid: u8, priority: u8, vip: &str) -> String {
    format!(
        "\n[[instance]]\nname = \"{name}\"\ninterface = \"{interface}\"\nvrid = {vrid}\n\
         priority = {priority}\nadvert_interval = \"100ms\"\nvips = [\"{vip}\"]\n"
    )
}

/// Adds `eth1` to host `idx`, on the LAN bridge, with `addr`.
fn add_eth1(lab: &Lab, idx: usize, addr: &str) {
    let port = format!("q{idx}");
    lab.host(idx).veth_to("eth1", &lab.lan.switch, &port);
    lab.lan.switch.ip(&["link", "set", &port, "master", "br0"]);
    lab.host(idx).ip(&["addr", "add", addr, "dev", "eth1"]);
}

fn running(child: &mut vrrp_testns::ChildGuard) -> bool {
    matches!(child.child().try_wait(), Ok(None))
}

#[test]
fn interface_missing_at_start_waits_then_starts() {
    if !vrrp_testns::netns_available("interface_missing_at_start_waits_then_starts") {
        return;
    }
    let lab = Lab::new("fm", Variant::V3_IPV4);
    let tables = instance_table("VI_1", "eth0", 51, 200, "198.18.0.100/24")
        + &instance_table("VI_2", "eth1", 52, 200, "198.18.1.100/24");
    let config = write(&lab, H1, "vrrpd.toml", &tables);
    let mut h1 = lab.start(H1, &config);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "VI_1 never became Active while VI_2 waited"
    );
    check!(
        lab,
        running(&mut h1),
        "vrrpd exited over a missing interface"
    );
    let vi2 = instance(&lab, H1, "status", "VI_2");
    check!(
        lab,
        vi2["state"] == "fault" && vi2["waiting"].as_str().is_some_and(|w| w.contains("eth1")),
        "VI_2 not reported as waiting for eth1: {vi2}"
    );

    add_eth1(&lab, H1, "198.18.1.1/24");
    let took = wait_for(Duration::from_secs(5), || {
        has_addr(&lab, H1, "eth1", "198.18.1.100")
    });
    check!(lab, took.is_some(), "VI_2 never started once eth1 appeared");
    eprintln!("VI_2 Active with its VIP {took:?} after eth1 appeared");
    let vi2 = instance(&lab, H1, "status", "VI_2");
    check!(
        lab,
        vi2["state"] == "active" && vi2["waiting"].is_null(),
        "VI_2 status after eth1 appeared: {vi2}"
    );
    check!(lab, running(&mut h1), "vrrpd exited");
}

#[test]
fn interface_deleted_and_recreated_recovers_without_restart() {
    if !vrrp_testns::netns_available("interface_deleted_and_recreated_recovers_without_restart") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (lab, mut h1, mut h2, _) = elected("fr", variant, "");
    check!(
        lab,
        vrrp_sockets(&lab, H1) == 1,
        "h1 should have one VRRP socket"
    );

    // The veth pair goes away (its bridge port with it): h2 takes over.
    let bound = variant.master_down(100) + Duration::from_millis(500);
    let took = lab.time_until_vip(H2, Duration::from_secs(5), || {
        lab.host(H1).ip(&["link", "del", "eth0"]);
    });
    check!(
        lab,
        took.is_some_and(|t| t <= bound),
        "h2 did not take over within {bound:?} after h1's eth0 was deleted: {took:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    check!(
        lab,
        running(&mut h1),
        "vrrpd on h1 exited when eth0 was deleted"
    );
    let vi1 = instance(&lab, H1, "status", "VI_1");
    check!(
        lab,
        vi1["state"] == "fault" && vi1["waiting"].as_str().is_some_and(|w| w.contains("eth0")),
        "h1's VI_1 not waiting for eth0: {vi1}"
    );
    check!(
        lab,
        vrrp_sockets(&lab, H1) == 0,
        "the socket bound to the deleted eth0 is still open"
    );

    // Re-created, with the same name and address but a new index.
    lab.host(H1).veth_to("eth0", &lab.lan.switch, "p0");
    lab.lan.switch.ip(&["link", "set", "p0", "master", "br0"]);
    lab.host(H1)
        .ip(&["addr", "add", "198.18.0.1/24", "dev", "eth0"]);
    let back = wait_for(Duration::from_secs(6), || {
        lab.has_vip(H1) && !lab.has_vip(H2)
    });
    check!(
        lab,
        back.is_some(),
        "h1 did not rebuild VI_1 and preempt back after eth0 came back"
    );
    eprintln!("h1 Active again {back:?} after eth0 was re-created");
    check!(
        lab,
        vrrp_sockets(&lab, H1) == 1,
        "h1 should have exactly one VRRP socket again"
    );
    let stats = instance(&lab, H1, "stats", "VI_1");
    check!(
        lab,
        stats["errors"]["interface_lost"] == 1,
        "interface_lost not counted: {stats}"
    );
    check!(lab, running(&mut h1) && running(&mut h2), "a daemon exited");
}

#[test]
fn kernel_refusing_a_vip_means_fault_and_retry() {
    if !vrrp_testns::netns_available("kernel_refusing_a_vip_means_fault_and_retry") {
        return;
    }
    let lab = Lab::new("fk", Variant::V3_IPV6);
    // h1's VIP lives on vip0, where IPv6 is off: the kernel refuses it
    // (EACCES) until it is turned back on.
    let h1ns = lab.host(H1);
    h1ns.ip(&[
        "link", "add", "vip0", "type", "veth", "peer", "name", "vip0p",
    ]);
    h1ns.exec(&["sysctl", "-qw", "net.ipv6.conf.vip0.disable_ipv6=1"]);
    h1ns.ip(&["link", "set", "vip0", "up"]);
    h1ns.ip(&["link", "set", "vip0p", "up"]);
    let vip = "fd00:198:18::100";
    let table = |priority: u8, dev: &str| {
        format!(
            "\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
             advert_interval = \"100ms\"\nvips = [{{ address = \"{vip}/64\"{dev} }}]\n"
        )
    };
    let c1 = write(&lab, H1, "vrrpd.toml", &table(200, ", device = \"vip0\""));
    let c2 = write(&lab, H2, "vrrpd.toml", &table(100, ""));
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H2)).is_some(),
        "h2 never became Active"
    );
    let mut h1 = lab.start(H1, &c1);
    let failed = wait_for(Duration::from_secs(5), || {
        instance(&lab, H1, "stats", "VI_1")["errors"]["address_install_failed"]
            .as_u64()
            .is_some_and(|n| n >= 1)
    });
    check!(lab, failed.is_some(), "h1's refused VIP was not counted");
    // The first attempt advertised first (at its Master_Down deadline) and
    // took it back with priority 0 when the kernel refused the VIP: h2 is
    // back after Skew_Time.
    check!(
        lab,
        wait_for(Duration::from_secs(2), || lab.has_vip(H2)).is_some(),
        "h2 did not take the VIP back"
    );
    std::thread::sleep(Duration::from_millis(300));
    let h2_transitions = transitions(&lab, H2);
    // While it cannot hold the VIP, h1 stays out of the way: its retries
    // install first and claim nothing, and h2 keeps serving without a
    // flap, across several retries.
    std::thread::sleep(Duration::from_secs(3));
    let vi1 = instance(&lab, H1, "status", "VI_1");
    check!(
        lab,
        vi1["state"] != "active" && vi1["holds_vips"] == false,
        "h1 claims a VIP the kernel refused: {vi1}"
    );
    check!(lab, !has_addr(&lab, H1, "vip0", vip), "VIP on h1's vip0?");
    check!(
        lab,
        lab.has_vip(H2) && transitions(&lab, H2) == h2_transitions,
        "h2 was disturbed by h1's failing attempts"
    );
    let attempts = instance(&lab, H1, "stats", "VI_1")["errors"]["address_install_failed"]
        .as_u64()
        .unwrap_or(0);
    check!(
        lab,
        attempts >= 2,
        "h1 did not retry: {attempts} attempt(s)"
    );
    check!(
        lab,
        lab.log(H1).contains("could not be installed"),
        "the refusal was not logged"
    );
    check!(lab, running(&mut h1), "vrrpd on h1 exited");

    // The kernel accepts it again: the next retry takes the VIP over.
    h1ns.exec(&["sysctl", "-qw", "net.ipv6.conf.vip0.disable_ipv6=0"]);
    let took = wait_for(Duration::from_secs(40), || has_addr(&lab, H1, "vip0", vip));
    check!(
        lab,
        took.is_some(),
        "h1 never took the VIP once the kernel accepted it"
    );
    eprintln!(
        "h1 holds the VIP {took:?} after the kernel accepted it ({attempts} failed attempts before)"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(3), || !lab.has_vip(H2)).is_some(),
        "the VIP stays on h2 too"
    );
}

#[test]
fn reload_closes_the_sockets_no_instance_uses() {
    if !vrrp_testns::netns_available("reload_closes_the_sockets_no_instance_uses") {
        return;
    }
    let lab = Lab::new("fs", Variant::V3_IPV4);
    add_eth1(&lab, H1, "198.18.1.1/24");
    let both = instance_table("VI_1", "eth0", 51, 200, "198.18.0.100/24")
        + &instance_table("VI_2", "eth1", 52, 200, "198.18.1.100/24");
    let config = write(&lab, H1, "vrrpd.toml", &both);
    let h1 = lab.start(H1, &config);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || {
            lab.has_vip(H1) && has_addr(&lab, H1, "eth1", "198.18.1.100")
        })
        .is_some(),
        "both instances should be Active"
    );
    check!(
        lab,
        vrrp_sockets(&lab, H1) == 2,
        "one socket per interface expected"
    );
    write(
        &lab,
        H1,
        "vrrpd.toml",
        &instance_table("VI_1", "eth0", 51, 200, "198.18.0.100/24"),
    );
    h1.signal(libc::SIGHUP);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || !has_addr(
            &lab,
            H1,
            "eth1",
            "198.18.1.100"
        ))
        .is_some(),
        "VI_2's VIP stayed after it was removed from the config"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(2), || vrrp_sockets(&lab, H1) == 1).is_some(),
        "eth1's socket is still open after the reload: {} sockets",
        vrrp_sockets(&lab, H1)
    );
    check!(lab, lab.has_vip(H1), "VI_1 lost its VIP over the reload");
}

#[test]
fn unusable_state_dir_is_a_clear_error_at_start() {
    if !vrrp_testns::netns_available("unusable_state_dir_is_a_clear_error_at_start") {
        return;
    }
    let lab = Lab::new("fd", Variant::V3_IPV4);
    let dir = lab.host_dir(H1);
    // A state directory under a regular file cannot be created, even by root.
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let state = blocker.join("state");
    let text = format!(
        "[global]\nstate_dir = \"{}\"\ncontrol_socket = \"{}\"\n{}",
        state.display(),
        dir.join("ctl.sock").display(),
        instance_table("VI_1", "eth0", 51, 200, "198.18.0.100/24")
    );
    let config = dir.join("vrrpd.toml");
    std::fs::write(&config, text).unwrap();
    let mut h1 = lab.start(H1, &config);
    let exited = wait_for(Duration::from_secs(5), || !running(&mut h1));
    check!(
        lab,
        exited.is_some(),
        "vrrpd kept running without a state directory"
    );
    let status = h1.child().wait().unwrap();
    check!(
        lab,
        !status.success(),
        "vrrpd exited 0 without a state directory"
    );
    let log = lab.log(H1);
    check!(
        lab,
        log.contains(&state.display().to_string()) || log.contains(&blocker.display().to_string()),
        "the error does not name the state directory: {log}"
    );
    check!(lab, !log.contains("panicked"), "vrrpd panicked: {log}");
    check!(lab, !lab.has_vip(H1), "a VIP was added without a ledger");
}

/// An IPv6 instance whose link-local address is still tentative (DAD
/// running, as at boot or right after a link flap) waits without holding
/// up the loop: the control socket answers at once and reports it
/// waiting, and it starts by itself once DAD ends. Before, start-up slept
/// in the loop for up to 4 s.
#[test]
fn tentative_link_local_at_start_waits_without_blocking() {
    if !vrrp_testns::netns_available("tentative_link_local_at_start_waits_without_blocking") {
        return;
    }
    let lab = Lab::new("fl", Variant::V3_IPV6);
    let host = lab.host(H1);
    // Two DAD probes a second apart: the new link-local address stays
    // tentative for about two seconds after the link comes back up.
    host.exec(&["sysctl", "-qw", "net.ipv6.conf.eth0.dad_transmits=2"]);
    host.ip(&["link", "set", "eth0", "down"]);
    host.ip(&["-6", "addr", "flush", "dev", "eth0", "scope", "link"]);
    host.ip(&["link", "set", "eth0", "up"]);
    let tentative = host.ip(&[
        "-6",
        "addr",
        "show",
        "dev",
        "eth0",
        "scope",
        "link",
        "tentative",
    ]);
    check!(
        lab,
        tentative.contains("fe80"),
        "no tentative link-local: {tentative}"
    );

    let config = write(
        &lab,
        H1,
        "vrrpd.toml",
        &instance_table("VI_6", "eth0", 61, 200, "fd00:198:18::61/64"),
    );
    let mut h1 = lab.start(H1, &config);
    let answered = wait_for(Duration::from_millis(1500), || {
        instance(&lab, H1, "status", "VI_6")["waiting"]
            .as_str()
            .is_some_and(|w| w.contains("link-local"))
    });
    check!(
        lab,
        answered.is_some(),
        "the control socket did not report VI_6 waiting for its link-local address within 1.5 s"
    );
    eprintln!("status reported VI_6 waiting {answered:?} after start");
    let took = wait_for(Duration::from_secs(8), || {
        has_addr(&lab, H1, "eth0", "fd00:198:18::61")
    });
    check!(lab, took.is_some(), "VI_6 never started once DAD ended");
    let vi6 = instance(&lab, H1, "status", "VI_6");
    check!(
        lab,
        vi6["state"] == "active" && vi6["waiting"].is_null(),
        "VI_6 status after DAD: {vi6}"
    );
    check!(lab, running(&mut h1), "vrrpd exited");
}
