//! End-to-end: the VRRPv3/IPv4 checksum compatibility knob
//! (`v3_ipv4_checksum`, RFC 9568 §5.2.8 vs. the message-only checksum some
//! older implementations send).
//!
//! - the setting picks what is **sent**: captured adverts carry the
//!   message-only or the pseudo-header checksum as configured;
//! - both forms are accepted on receive, so daemons on different settings
//!   (a rolling change, a mixed keepalived / FRR LAN) still elect one
//!   Active, with no checksum discards.

mod e2e_support;

use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, wait_for};

fn config(lab: &Lab, idx: usize, priority: u8, checksum: &str) -> std::path::PathBuf {
    let path = lab.write_config(idx, priority, "");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[global]\n",
        &format!("[global]\nv3_ipv4_checksum = \"{checksum}\"\n"),
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn stats(lab: &Lab, idx: usize) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
        .arg("--socket")
        .arg(lab.host_dir(idx).join("ctl.sock"))
        .args(["stats", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// One advert from `src` captured on the client's eth0, its checksum
/// verified both ways: (pseudo-header valid, message-only valid).
fn captured_checksums(lab: &Lab, src: &str) -> (bool, bool) {
    let out = lab.host(CLIENT).exec(&[
        "timeout", "3", "tcpdump", "-i", "eth0", "-c", "1", "-x", "-nn", "ip", "proto", "112",
        "and", "src", src,
    ]);
    let bytes: Vec<u8> = out
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .filter(|(off, _)| off.starts_with("0x"))
        .flat_map(|(_, hex)| {
            hex.split_whitespace()
                .flat_map(|w| {
                    (0..w.len())
                        .step_by(2)
                        .filter_map(move |i| u8::from_str_radix(w.get(i..i + 2)?, 16).ok())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(bytes.len() > 28, "no advert captured: {out}");
    let ihl = usize::from(bytes[0] & 0x0f) * 4;
    let (src, dst) = (&bytes[12..16], &bytes[16..20]);
    let vrrp = &bytes[ihl..];
    let sum = |parts: &[&[u8]]| -> bool {
        let mut acc: u32 = 0;
        for part in parts {
            for pair in part.chunks(2) {
                let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
                acc += u32::from(word);
            }
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc == 0xffff
    };
    let len = u16::try_from(vrrp.len()).unwrap().to_be_bytes();
    let pseudo = [&[0u8, 112][..], &len[..]].concat();
    (sum(&[src, dst, &pseudo, vrrp]), sum(&[vrrp]))
}

fn tcpdump_available() -> bool {
    if vrrp_testns::have_program("tcpdump") {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "tcpdump is missing in CI");
    eprintln!("skipped: no tcpdump");
    false
}

fn checksum_discards(lab: &Lab, idx: usize) -> u64 {
    let v = stats(lab, idx);
    let by_instance = v["instances"][0]["discards"]["bad_checksum"]
        .as_u64()
        .unwrap_or(0);
    by_instance + v["global"]["bad_checksum"].as_u64().unwrap_or(0)
}

#[test]
fn message_only_checksum_on_both_sides_elects() {
    if !vrrp_testns::netns_available("message_only_checksum_on_both_sides_elects")
        || !tcpdump_available()
    {
        return;
    }
    let lab = Lab::new("ck", Variant::V3_IPV4);
    let _h1 = lab.start(H1, &config(&lab, H1, 200, "message-only"));
    let _h2 = lab.start(H2, &config(&lab, H2, 100, "message-only"));
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    std::thread::sleep(Duration::from_millis(500));
    check!(lab, !lab.has_vip(H2), "h2 did not hear h1 on message-only");
    let (pseudo, message_only) = captured_checksums(&lab, "198.18.0.1");
    check!(
        lab,
        message_only && !pseudo,
        "h1's advert checksum is not message-only (pseudo {pseudo}, message-only {message_only})"
    );
    check!(
        lab,
        checksum_discards(&lab, H2) == 0,
        "h2 discarded adverts for their checksum"
    );
}

#[test]
fn mixed_checksum_settings_still_elect_one_active() {
    if !vrrp_testns::netns_available("mixed_checksum_settings_still_elect_one_active")
        || !tcpdump_available()
    {
        return;
    }
    let lab = Lab::new("cm", Variant::V3_IPV4);
    let h1 = lab.start(H1, &config(&lab, H1, 200, "pseudo-header"));
    let _h2 = lab.start(H2, &config(&lab, H2, 100, "message-only"));
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    std::thread::sleep(Duration::from_millis(500));
    check!(
        lab,
        !lab.has_vip(H2),
        "h2 on message-only did not accept h1's pseudo-header adverts"
    );
    let (pseudo, message_only) = captured_checksums(&lab, "198.18.0.1");
    check!(
        lab,
        pseudo && !message_only,
        "h1's advert checksum is not pseudo-header (pseudo {pseudo}, message-only {message_only})"
    );
    check!(
        lab,
        checksum_discards(&lab, H2) == 0,
        "h2 discarded h1's adverts"
    );
    // h2 takes over and sends the message-only form, which h1 (restarted
    // on pseudo-header) accepts: it preempts back.
    kill(h1.pid(), libc::SIGKILL);
    drop(h1);
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H2)).is_some(),
        "h2 never took over"
    );
    let (pseudo, message_only) = captured_checksums(&lab, "198.18.0.2");
    check!(
        lab,
        message_only && !pseudo,
        "h2's advert checksum is not message-only (pseudo {pseudo}, message-only {message_only})"
    );
    let _h1 = lab.start(H1, &config(&lab, H1, 200, "pseudo-header"));
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)
            && !lab.has_vip(H2))
        .is_some(),
        "h1 did not preempt back over h2's message-only adverts"
    );
    check!(
        lab,
        checksum_discards(&lab, H1) == 0,
        "h1 discarded h2's adverts"
    );
}
