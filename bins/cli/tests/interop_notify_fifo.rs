//! keepalived's `notify_fifo` and `notify_fifo_script`: vrrpd writes the
//! lines keepalived 2.2.7 writes, in the same order, for the same
//! keepalived.conf (start, become Master, stop), and runs the reader
//! script with the FIFO's path as its last argument, ending it at stop.

mod e2e_support;
mod interop_support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use e2e_support::{H1, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, keepalived_version, start_keepalived};

/// One run of `start` on `conf` in host 1: Master, then SIGTERM; the lines
/// its FIFO reader saw.
fn lines_of(lab: &Lab, tag: &str, start: impl FnOnce() -> vrrp_testns::ChildGuard) -> String {
    let out = lab.host_dir(H1).join("fifo.out");
    let _ = std::fs::remove_file(&out);
    let mut daemon = start();
    check!(
        lab,
        wait_for(Duration::from_secs(8), || lab.has_vip(H1)).is_some(),
        "{tag} never became Master"
    );
    std::thread::sleep(Duration::from_millis(300));
    kill(daemon.pid(), libc::SIGTERM);
    let _ = daemon.child().wait();
    // The reader ends with the FIFO's last writer; give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::read_to_string(&out).unwrap_or_default()
}

#[test]
fn notify_fifo_lines_are_keepalived_s() {
    if !vrrp_testns::netns_available("notify_fifo_lines_are_keepalived_s") {
        return;
    }
    eprintln!("keepalived: {}", keepalived_version());
    let lab = Lab::new("nf", Variant::V3_IPV4);
    let dir = lab.host_dir(H1);
    let reader = dir.join("reader.sh");
    std::fs::write(
        &reader,
        format!(
            "#!/bin/sh\nexec cat \"$1\" >> {}\n",
            dir.join("fifo.out").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fifo = dir.join("notify.fifo");
    let conf = format!(
        "global_defs {{\n    notify_fifo {fifo}\n    notify_fifo_script {reader}\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    \
         priority 200\n    version 3\n    advert_int 0.1\n    virtual_ipaddress {{\n        198.18.0.100/24\n    }}\n}}\n",
        fifo = fifo.display(),
        reader = reader.display(),
    );
    let keepalived = lines_of(&lab, "keepalived", || start_keepalived(&lab, H1, &conf));
    // keepalived 2.2.7 leaves the FIFO it made (it closes its FIFOs only
    // when vrrp_notify_fifo is set); vrrpd makes its own and removes it.
    let _ = std::fs::remove_file(&fifo);
    let path = dir.join("keepalived.conf");
    let vrrpd = lines_of(&lab, "vrrpd", || lab.start_keepalived_conf(H1, &path));
    eprintln!("keepalived wrote:\n{keepalived}vrrpd wrote:\n{vrrpd}");
    if !keepalived.contains("INSTANCE \"VI_1\" MASTER") {
        eprintln!("{}", keepalived_log(&lab, H1));
    }
    check!(
        lab,
        keepalived.contains("INSTANCE \"VI_1\" MASTER 200"),
        "keepalived's reader saw no MASTER line: {keepalived:?}"
    );
    check!(
        lab,
        vrrpd == keepalived,
        "vrrpd's FIFO lines differ from keepalived's:\n{vrrpd}\nvs\n{keepalived}"
    );
    check!(lab, !fifo.exists(), "vrrpd left the FIFO it made");
}
