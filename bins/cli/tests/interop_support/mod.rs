//! keepalived as a peer of vrrpd in the e2e lab: its configuration, its
//! start-up in a host namespace, and the version under test.

#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use vrrp_testns::ChildGuard;

use crate::e2e_support::{Lab, Variant};

/// The keepalived binary, or a failure that says how to get it.
pub fn keepalived() -> PathBuf {
    vrrp_testns::which("keepalived")
        .or_else(|| {
            let p = PathBuf::from("/usr/sbin/keepalived");
            p.exists().then_some(p)
        })
        .expect("keepalived is needed (apt-get install keepalived; the test command installs it)")
}

/// `keepalived --version`'s first line, printed by every interop test so
/// the output records what was tested.
pub fn keepalived_version() -> String {
    let out = Command::new(keepalived())
        .arg("--version")
        .output()
        .expect("run keepalived --version");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    text.lines().next().unwrap_or("unknown").trim().to_string()
}

/// A keepalived.conf for host `idx` of `lab`: one instance, VRID 51, the
/// lab's variant, `priority`, and `auth_pass` for VRRPv2.
pub fn keepalived_conf(lab: &Lab, idx: usize, priority: u8, auth_pass: Option<&str>) -> String {
    keepalived_conf_with(lab, idx, priority, auth_pass, "")
}

/// [`keepalived_conf`] with `extra` lines (`use_vmac`, say) added to the
/// instance.
pub fn keepalived_conf_with(
    lab: &Lab,
    idx: usize,
    priority: u8,
    auth_pass: Option<&str>,
    extra: &str,
) -> String {
    let v = lab.variant;
    let advert = if v.version == 2 {
        format!("{}", v.interval_dur.as_secs().max(1))
    } else {
        format!("{}", v.interval_dur.as_secs_f64())
    };
    let auth = match (v.version, auth_pass) {
        (2, Some(p)) => format!(
            "    authentication {{\n        auth_type PASS\n        auth_pass {p}\n    }}\n"
        ),
        _ => String::new(),
    };
    format!(
        "global_defs {{\n    router_id h{host}\n    vrrp_version {version}\n    vrrp_garp_master_delay 0\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    \
         priority {priority}\n    advert_int {advert}\n{auth}{extra}    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n",
        host = idx + 1,
        version = v.version,
        vip = v.vip_cidr(),
        extra = extra
            .lines()
            .map(|l| format!("    {}\n", l.trim()))
            .collect::<String>(),
    )
}

/// Writes `conf` for host `idx` and starts keepalived (VRRP only, in the
/// foreground, logging to the console) in its namespace.
pub fn start_keepalived(lab: &Lab, idx: usize, conf: &str) -> ChildGuard {
    start_keepalived_from(lab, idx, idx, conf)
}

/// [`start_keepalived`] for host `idx`'s files, started in host
/// `run_in`'s namespace (a `net_namespace` test moves it to `idx`'s).
pub fn start_keepalived_from(lab: &Lab, run_in: usize, idx: usize, conf: &str) -> ChildGuard {
    let dir = lab.host_dir(idx);
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, conf).unwrap();
    let log = File::options()
        .create(true)
        .append(true)
        .open(dir.join("keepalived.log"))
        .unwrap();
    let child = lab
        .host(run_in)
        .command(keepalived())
        .args(["--dont-fork", "--log-console", "--log-detail", "--vrrp"])
        .arg("--use-file")
        .arg(&path)
        .arg("--pid")
        .arg(dir.join("keepalived.pid"))
        .arg("--vrrp_pid")
        .arg(dir.join("keepalived-vrrp.pid"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn keepalived");
    ChildGuard::new(child)
}

/// keepalived's log in host `idx`.
pub fn keepalived_log(lab: &Lab, idx: usize) -> String {
    std::fs::read_to_string(lab.host_dir(idx).join("keepalived.log")).unwrap_or_default()
}

/// The variants interop runs.
pub const VARIANTS: [(&str, Variant); 3] = [
    ("v2ipv4", Variant::V2_IPV4),
    ("v3ipv4", Variant::V3_IPV4),
    ("v3ipv6", Variant::V3_IPV6),
];
