//! keepalived's top-level `net_namespace NAME` on the real `vrrpd`, side by
//! side with keepalived 2.2.7 on the same file: started in the client's
//! namespace, each daemon runs in h1's (`ip netns` name) and puts the VIP
//! there, not where it was started. A namespace that does not exist stops
//! vrrpd before it does anything. Only test namespaces are involved.

mod e2e_support;
mod interop_support;

use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use e2e_support::{CLIENT, H1, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, keepalived_version, start_keepalived_from};
use vrrp_testns::ChildGuard;

fn conf(namespace: &str) -> String {
    format!(
        "net_namespace {namespace}\nglobal_defs {{\n    router_id h1\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    \
         priority 100\n    version 3\n    advert_int 0.1\n    virtual_ipaddress {{\n        \
         198.18.0.100/24\n    }}\n}}\n"
    )
}

/// vrrpd with `path`, started in the client's namespace, logging to h1's
/// log.
fn start_vrrpd(lab: &Lab, path: &Path) -> ChildGuard {
    let log = File::options()
        .create(true)
        .append(true)
        .open(lab.log_path(H1))
        .unwrap();
    let child = lab
        .host(CLIENT)
        .command(env!("CARGO_BIN_EXE_vrrpd"))
        .arg("--keepalived-config")
        .arg(path)
        .arg("--state-dir")
        .arg(lab.state_dir(H1))
        .arg("--control-socket")
        .arg(lab.control_socket(H1))
        .env("VRRPD_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn vrrpd");
    ChildGuard::new(child)
}

fn client_has_vip(lab: &Lab) -> bool {
    lab.host(CLIENT)
        .ip(&["-o", "addr", "show"])
        .contains("198.18.0.100/")
}

/// Whether the daemon put the VIP in h1 (and not in the client's
/// namespace) and took it away at SIGTERM.
fn moves_in_h1(lab: &Lab, mut child: ChildGuard) -> (bool, bool) {
    let in_h1 =
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some() && !client_has_vip(lab);
    kill(child.pid(), libc::SIGTERM);
    let _ = child.child().wait();
    let gone =
        wait_for(Duration::from_secs(3), || !lab.has_vip(H1)).is_some() && !client_has_vip(lab);
    (in_h1, gone)
}

#[test]
fn net_namespace_runs_the_daemon_in_the_named_namespace_as_keepalived_does() {
    if !vrrp_testns::netns_available(
        "net_namespace_runs_the_daemon_in_the_named_namespace_as_keepalived_does",
    ) {
        return;
    }
    eprintln!("compared with {}", keepalived_version());
    let lab = Lab::new("nn", Variant::V3_IPV4);
    let h1 = lab.host(H1).name().to_string();
    let path = lab.host_dir(H1).join("vrrpd-keepalived.conf");
    std::fs::write(&path, conf(&h1)).unwrap();
    let ours = moves_in_h1(&lab, start_vrrpd(&lab, &path));
    let theirs = moves_in_h1(&lab, start_keepalived_from(&lab, CLIENT, H1, &conf(&h1)));
    eprintln!("VIP in h1 only, gone at SIGTERM: vrrpd {ours:?}, keepalived {theirs:?}");
    if ours != (true, true) || theirs != (true, true) {
        lab.dump_logs();
        eprintln!("----- keepalived -----\n{}", keepalived_log(&lab, H1));
    }
    assert_eq!(theirs, (true, true), "keepalived did not run in h1");
    assert_eq!(ours, (true, true), "vrrpd did not run in h1");
    assert!(
        lab.log(H1).contains("running in network namespace"),
        "not logged"
    );

    // A namespace that does not exist: vrrpd stops, nothing is added.
    let missing = format!("vrrpd-missing-{}", std::process::id());
    std::fs::write(&path, conf(&missing)).unwrap();
    let mut child = start_vrrpd(&lab, &path);
    let exited = wait_for(Duration::from_secs(5), || {
        matches!(child.child().try_wait(), Ok(Some(_)))
    });
    let status = child.child().try_wait().ok().flatten();
    assert!(exited.is_some(), "vrrpd kept running without its namespace");
    assert!(!status.is_some_and(|s| s.success()), "{status:?}");
    assert!(!client_has_vip(&lab) && !lab.has_vip(H1), "a VIP was added");
}
