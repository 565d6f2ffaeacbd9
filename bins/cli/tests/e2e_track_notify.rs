//! End-to-end: a `track_tcp` health check and notify hooks on the real
//! `vrrpd` (v3/IPv4, 100 ms).
//!
//! h1 (priority 200) tracks a TCP service in its own namespace with weight
//! -150; h2 (100) does not. Stopping the service drops h1 to 50, so h2
//! preempts and takes the VIP. Both run an `active` hook (through a shell,
//! reading the environment) and an `any` hook (argv, keepalived's trailing
//! arguments) that append to files.

mod e2e_support;

use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, wait_for};

fn hooks(dir: &std::path::Path) -> String {
    let env_file = dir.join("active.txt");
    let any_file = dir.join("any.txt");
    format!(
        r#"
[instance.notify]
active = {{ command = "echo \"$VRRP_INSTANCE $VRRP_STATE $VRRP_PREVIOUS_STATE $VRRP_PRIORITY\" >> {env}", shell = true }}
any = ["/bin/sh", "-c", "echo \"$@\" >> {any}", "hook"]
"#,
        env = env_file.display(),
        any = any_file.display()
    )
}

fn read(path: std::path::PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn track_tcp_failover_and_notify_hooks() {
    if !vrrp_testns::netns_available("track_tcp_failover_and_notify_hooks") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let lab = Lab::new("tn", variant);
    let _ = CLIENT;
    // The service: a TCP listener on h1.
    let server = lab.host(H1).spawn(&[
        "python3",
        "-c",
        "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('198.18.0.1',8080))\ns.listen(64)\nwhile True:\n c,_=s.accept()\n c.close()",
    ]);
    let d1 = lab.host_dir(H1);
    let d2 = lab.host_dir(H2);
    let tracked = format!(
        "track_tcp = [\"svc\"]\n{}\n[track_tcp.svc]\naddress = \"198.18.0.1:8080\"\ninterval = \"100ms\"\ntimeout = \"100ms\"\nfall = 1\nrise = 1\nweight = -150\n",
        hooks(&d1)
    );
    let c1 = lab.write_config(H1, 200, &tracked);
    let c2 = lab.write_config(H2, 100, &hooks(&d2));
    // Let the listener come up before the tracker's first probe.
    std::thread::sleep(Duration::from_millis(300));
    let _h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(2), || read(d1.join("active.txt"))
            .contains("VI_1 MASTER BACKUP 200"))
        .is_some(),
        "active hook did not run with the right environment: {:?}",
        read(d1.join("active.txt"))
    );
    check!(
        lab,
        wait_for(Duration::from_secs(2), || read(d1.join("any.txt"))
            .contains("INSTANCE VI_1 MASTER 200"))
        .is_some(),
        "any hook did not get keepalived's arguments: {:?}",
        read(d1.join("any.txt"))
    );
    check!(
        lab,
        read(d2.join("any.txt")).contains("INSTANCE VI_1 BACKUP 100"),
        "h2's backup transition not reported: {:?}",
        read(d2.join("any.txt"))
    );
    check!(
        lab,
        !lab.has_vip(H2),
        "h2 holds the VIP while h1's service is up"
    );

    // Stop the service: h1 drops to 50 and h2 preempts.
    drop(server);
    let bound = Duration::from_millis(200) + variant.master_down(100) + Duration::from_millis(300);
    check!(
        lab,
        wait_for(bound, || lab.has_vip(H2) && !lab.has_vip(H1)).is_some(),
        "no failover after the tracked service stopped"
    );
    check!(
        lab,
        lab.log(H1).contains("tracker changed"),
        "tracker change not logged"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(2), || read(d2.join("active.txt"))
            .contains("VI_1 MASTER BACKUP 100"))
        .is_some(),
        "h2's active hook did not run: {:?}",
        read(d2.join("active.txt"))
    );
}
