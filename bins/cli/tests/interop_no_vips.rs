//! Interoperability with keepalived for a VRRPv2 instance without
//! `virtual_ipaddress`, as cloud set-ups run it: the notify script moves a
//! floating IP, and the adverts carry no address (count 0). Both daemons
//! read the same keepalived.conf but for the priority.
//!
//! keepalived (200) is Master and vrrpd (100) stays Backup; keepalived
//! stopped, vrrpd becomes Master and runs its hook; keepalived restarted at
//! 50 stays Backup under vrrpd's count-0 adverts.

mod e2e_support;
mod interop_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, keepalived_version, start_keepalived};

/// The keepalived.conf of host `idx`: no VIPs, a notify hook appending the
/// state to `notify.log` in the host's directory.
fn conf(lab: &Lab, idx: usize, priority: u8) -> String {
    let dir = lab.host_dir(idx);
    let hook = dir.join("notify.sh");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\necho \"$3\" >> {}\n",
            dir.join("notify.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "global_defs {{\n    router_id h{host}\n    vrrp_version 2\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    \
         priority {priority}\n    advert_int 1\n    notify {hook}\n}}\n",
        host = idx + 1,
        hook = hook.display(),
    )
}

fn states(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("notify.log")).unwrap_or_default()
}

fn dump(lab: &Lab) {
    lab.dump_logs();
    eprintln!(
        "----- keepalived log of h1 -----\n{}",
        keepalived_log(lab, H1)
    );
}

#[test]
fn interop_v2_instance_without_vips() {
    if !vrrp_testns::netns_available("interop_v2_instance_without_vips") {
        return;
    }
    eprintln!("peer is {}", keepalived_version());
    let v = Variant::V2_IPV4;
    let lab = Lab::new("nv", v);
    let (d1, d2) = (lab.host_dir(H1), lab.host_dir(H2));
    let mut k1 = start_keepalived(&lab, H1, &conf(&lab, H1, 200));
    let c2 = d2.join("vrrpd-keepalived.conf");
    std::fs::write(&c2, conf(&lab, H2, 100)).unwrap();
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    let settle = v.master_down(100) * 2;
    let ok = wait_for(settle, || states(&d1).contains("MASTER")).is_some();
    if !ok {
        dump(&lab);
    }
    assert!(ok, "keepalived never Master: {:?}", states(&d1));
    std::thread::sleep(settle);
    let ok = states(&d2).contains("BACKUP") && !states(&d2).contains("MASTER");
    if !ok {
        dump(&lab);
    }
    assert!(
        ok,
        "vrrpd did not stay Backup under count-0 adverts: {:?}",
        states(&d2)
    );
    assert!(
        lab.log(H2).contains("no virtual address"),
        "the missing VIPs are not warned about"
    );

    kill(k1.pid(), libc::SIGTERM);
    let _ = k1.child().wait();
    let ok = wait_for(Duration::from_secs(3), || states(&d2).contains("MASTER")).is_some();
    if !ok {
        dump(&lab);
    }
    assert!(ok, "vrrpd did not take over: {:?}", states(&d2));

    std::fs::remove_file(d1.join("notify.log")).ok();
    let _k1 = start_keepalived(&lab, H1, &conf(&lab, H1, 50));
    std::thread::sleep(settle + v.master_down(50));
    let ok = states(&d1).contains("BACKUP") && !states(&d1).contains("MASTER");
    if !ok {
        dump(&lab);
    }
    assert!(
        ok,
        "keepalived did not stay Backup under vrrpd's count-0 adverts: {:?}",
        states(&d1)
    );
}
