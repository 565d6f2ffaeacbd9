//! End-to-end: `track_file` paths a local user planted cannot stall the
//! real `vrrpd` or redirect its writes (v3/IPv4, 100 ms).
//!
//! h1 (priority 200) tracks a FIFO with no writer, a symlink to
//! `/dev/zero`, and a file whose `init_overwrite` path is a symlink to a
//! file it must not touch. Before the fix the FIFO blocked the single
//! event-loop thread in `read`: h1 stopped advertising and h2 took over.
//! Now h1 stays Active, the symlink's target is untouched, and the FIFO
//! replaced by a regular file is read as usual.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, wait_for};

#[test]
fn planted_track_files_do_not_stall_the_daemon_or_redirect_writes() {
    if !vrrp_testns::netns_available(
        "planted_track_files_do_not_stall_the_daemon_or_redirect_writes",
    ) {
        return;
    }
    let variant = Variant::V3_IPV4;
    let lab = Lab::new("pf", variant);
    let d1 = lab.host_dir(H1);
    let fifo = d1.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let zero = d1.join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let precious = d1.join("precious");
    std::fs::write(&precious, "precious\n").unwrap();
    let planted = d1.join("planted");
    std::os::unix::fs::symlink(&precious, &planted).unwrap();
    let tracked = format!(
        r#"track_file = ["fifo", "zero", "planted"]

[track_file.fifo]
path = "{fifo}"
weight = 1

[track_file.zero]
path = "{zero}"
weight = 1

[track_file.planted]
path = "{planted}"
weight = 1
init_value = 0
init_overwrite = true
"#,
        fifo = fifo.display(),
        zero = zero.display(),
        planted = planted.display(),
    );
    let c1 = lab.write_config(H1, 200, &tracked);
    let c2 = lab.write_config(H2, 100, "");
    let _h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active: a planted file stalled it"
    );
    // Well past Master_Down_Interval: h1 keeps advertising, h2 stays Backup.
    std::thread::sleep(variant.master_down(100) * 4);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "h1 stalled and h2 took over"
    );
    check!(
        lab,
        std::fs::read_to_string(&precious).unwrap() == "precious\n",
        "init_overwrite wrote through a planted symlink"
    );
    check!(
        lab,
        lab.log(H1).contains("not a regular file"),
        "the refused FIFO or device is not logged"
    );
    // The FIFO replaced by a regular file of -150: h1 drops to 50 and h2
    // preempts, so the tracker still works.
    std::fs::remove_file(&fifo).unwrap();
    std::fs::write(&fifo, "-150\n").unwrap();
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H2)
            && !lab.has_vip(H1))
        .is_some(),
        "the track_file is no longer read"
    );
}
