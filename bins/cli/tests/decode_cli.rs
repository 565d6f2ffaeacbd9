//! `vrrpctl decode` on hex input (argument and stdin), on damaged captures,
//! and its exit status: 0 only if every VRRP packet parsed and verified.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use vrrpd_cli::decode::{DecodeArgs, DecodeError, decode_pcap, run};

/// keepalived's VRRPv3 advert (VRID 51, priority 150, 50 cs, 198.18.0.100)
/// in its IPv4 packet, from testdata/keepalived/keepalived-v3-ipv4.pcap.
const V3_IP: &str = "45c0002000010000ff701487c6120001e0000012313396010032cb7fc6120064";
/// The VRRP message alone, checksummed with the pseudo-header for
/// 198.18.0.1 > 224.0.0.18.
const V3_MSG: &str = "313396010032cb7fc6120064";
/// The same message checksummed without the pseudo-header (Cisco style).
const V3_MSG_LEGACY: &str = "3133960100327222c6120064";

fn vrrpctl(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn whole_ip_packet_as_argument() {
    let out = vrrpctl(&["decode", V3_IP], "");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = &json_lines(&out)[0];
    assert_eq!(v["src"], "198.18.0.1");
    assert_eq!(v["ttl"], 255);
    assert_eq!(v["vrid"], 51);
    assert_eq!(
        v["interval"],
        serde_json::json!({"value": 50, "unit": "cs", "ms": 500})
    );
    assert_eq!(v["reserved_bits"], 0);
    assert_eq!(
        v["checksum"],
        serde_json::json!({"value": "0xcb7f", "status": "valid"})
    );
    assert!(v.get("errors").is_none());
}

#[test]
fn bare_message_with_src_and_dst() {
    let out = vrrpctl(
        &[
            "decode",
            V3_MSG,
            "--src",
            "198.18.0.1",
            "--dst",
            "224.0.0.18",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = &json_lines(&out)[0];
    assert_eq!(v["checksum"]["status"], "valid");
    assert!(
        v.get("ttl").is_none(),
        "the TTL of a bare message is unknown"
    );
}

#[test]
fn legacy_checksum_without_pseudo_header_is_accepted_and_named() {
    let out = vrrpctl(
        &[
            "decode",
            V3_MSG_LEGACY,
            "--src",
            "198.18.0.1",
            "--dst",
            "224.0.0.18",
            "--ttl",
            "255",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = &json_lines(&out)[0];
    assert_eq!(v["checksum"]["status"], "valid-without-pseudo-header");
    assert_eq!(v["ok"], true);
}

#[test]
fn old_unicast_checksum_is_accepted_and_named() {
    // keepalived <= 1.3.6 (and `old_unicast_checksum`) sums a unicast
    // advert as if it went to 224.0.0.18.
    let out = vrrpctl(
        &[
            "decode",
            V3_MSG,
            "--src",
            "198.18.0.1",
            "--dst",
            "198.18.0.2",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = &json_lines(&out)[0];
    assert_eq!(v["checksum"]["status"], "valid-with-group-destination");
}

#[test]
fn wrong_source_fails_the_checksum_and_exits_1() {
    // The pseudo-header binds the checksum to 198.18.0.1; TTL 64 is wrong too.
    let out = vrrpctl(
        &[
            "decode",
            V3_MSG,
            "--src",
            "198.18.0.2",
            "--dst",
            "224.0.0.18",
            "--ttl",
            "64",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out)[0];
    assert_eq!(v["ok"], false);
    assert_eq!(v["vrid"], 51, "fields are still shown");
    assert_eq!(v["checksum"]["status"], "invalid");
    assert_eq!(v["checksum"]["expected"], "0xcb7e");
    let codes: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["bad_ttl", "bad_checksum"]);
}

#[test]
fn stdin_takes_one_packet_per_line() {
    let input = format!(
        "# keepalived, then a TCP packet, then not hex\n\n{V3_IP}\n\
         45000028000100004006000000c612000100c6120002{}\nxyz\n",
        "00".repeat(20)
    );
    let out = vrrpctl(&["decode"], &input);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["ok"].as_bool()),
        (Some(3), Some(true))
    );
    assert_eq!(lines[1]["line"], 4);
    assert_eq!(lines[1]["errors"][0]["code"], "not_vrrp");
    assert_eq!(
        lines[1]["errors"][0]["message"],
        "IP protocol 6, not VRRP (112)"
    );
    assert_eq!(lines[2]["line"], 5);
    assert_eq!(lines[2]["errors"][0]["code"], "bad_hex");
}

#[test]
fn malformed_vrrp_is_a_precise_error() {
    // Version 4 in the VRRP header.
    let bad = V3_MSG.replacen("31", "41", 1);
    let out = vrrpctl(
        &["decode", &bad, "--src", "198.18.0.1", "--dst", "224.0.0.18"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out)[0];
    assert_eq!(v["errors"][0]["code"], "bad_version");
    assert_eq!(v["errors"][0]["message"], "VRRP version 4, expected 2 or 3");
    assert!(v.get("vrid").is_none());
}

#[test]
fn usage_errors_exit_nonzero_with_a_message() {
    let out = vrrpctl(
        &["decode", V3_MSG, "--src", "198.18.0.1", "--dst", "ff02::12"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not of the same address family"));
    let out = vrrpctl(&["decode"], "\n# nothing\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no packet given"));
    // clap refuses hex together with --pcap (its usage errors exit 2).
    let out = vrrpctl(&["decode", V3_IP, "--pcap", "x.pcap"], "");
    assert_eq!(out.status.code(), Some(2));
    let out = vrrpctl(&["decode", "--pcap", "/nonexistent/x.pcap"], "");
    assert_eq!(out.status.code(), Some(1));
}

fn keepalived_v3_ipv4() -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/keepalived/keepalived-v3-ipv4.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

#[test]
fn a_corrupted_advert_in_a_capture_is_reported_and_exits_1() {
    let mut file = keepalived_v3_ipv4();
    // The priority byte of the first advert (VRRP header "31 33 96 01").
    let at = file
        .windows(4)
        .position(|w| w == [0x31, 0x33, 0x96, 0x01])
        .unwrap();
    file[at + 2] = 0x97;
    let decoded = decode_pcap(&file).unwrap();
    assert!(!decoded.all_ok());
    assert_eq!(decoded.summary.invalid, 1);
    assert_eq!(decoded.summary.valid, decoded.summary.vrrp - 1);
    let bad = &decoded.reports[0];
    assert_eq!(bad.errors[0].code, "bad_checksum");
    assert_eq!(bad.advertisement.as_ref().unwrap().priority, 0x97);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.pcap");
    std::fs::write(&path, &file).unwrap();
    let out = vrrpctl(&["decode", "--pcap", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out)[0]["checksum"]["status"], "invalid");
}

#[test]
fn a_truncated_capture_decodes_what_it_can_and_fails() {
    let file = keepalived_v3_ipv4();
    let cut = &file[..file.len() - 3];
    let decoded = decode_pcap(cut).unwrap();
    assert!(
        decoded
            .summary
            .error
            .as_deref()
            .unwrap()
            .contains("truncated")
    );
    assert!(!decoded.all_ok());
    assert!(decoded.reports.iter().all(|r| r.ok));

    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    std::fs::write(&path, cut).unwrap();
    let args = DecodeArgs {
        pcap: Some(path),
        ..DecodeArgs::default()
    };
    assert!(!run(&args, &b""[..], &mut stdout, &mut stderr).unwrap());
    let summary: Value = serde_json::from_slice(&stderr).unwrap();
    assert!(
        summary["summary"]["error"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );
}

#[test]
fn only_ethernet_captures_are_accepted() {
    let mut file = keepalived_v3_ipv4();
    file[20] = 113; // LINKTYPE_LINUX_SLL
    assert!(matches!(
        decode_pcap(&file),
        Err(DecodeError::LinkType(113))
    ));
    assert!(matches!(
        decode_pcap(b"not a pcap file at all.."),
        Err(DecodeError::Pcap(_))
    ));
}
