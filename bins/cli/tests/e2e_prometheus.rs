//! End-to-end: a real Prometheus (Debian's `prometheus` package) scrapes
//! the metrics endpoint of two vrrpd during a failover, in namespaces.
//! h1 (200) holds the VIP until its `track_file` (weight 0) says 1 and
//! puts it in Fault; h2 (100) takes over. Prometheus, in the client's
//! namespace, scrapes both every 200 ms and evaluates
//! docs/prometheus-rules.yml: its HTTP API must show h2's state change,
//! h2's takeover in the latency histogram, and VRRPTrackerDown firing.
//! `promtool check metrics` must accept what the endpoint serves.

mod e2e_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, wait_for};
use serde_json::Value;

const H1_METRICS: &str = "198.18.0.1:9650";
const H2_METRICS: &str = "198.18.0.2:9650";
const PROMETHEUS: &str = "198.18.0.10:9090";

/// The path of a Prometheus tool, or `None` to skip (a failure in CI).
fn tool(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin").join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{name} is not installed (Debian's prometheus package; the test command installs it)"
    );
    eprintln!("skipping: {name} is not installed");
    None
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// GET `path` from `addr` inside host `idx`'s namespace: the status line
/// and the body.
fn get(lab: &Lab, idx: usize, addr: &str, path: &str, accept: &str) -> Option<(String, String)> {
    let (addr, path, accept) = (addr.to_string(), path.to_string(), accept.to_string());
    lab.host(idx).run_in(move || {
        let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        Some((head.lines().next()?.to_string(), body.to_string()))
    })
}

/// Runs a PromQL query against the test's Prometheus: the result vector.
fn query(lab: &Lab, promql: &str) -> Vec<Value> {
    let path = format!("/api/v1/query?query={}", encode(promql));
    let Some((_, body)) = get(lab, CLIENT, PROMETHEUS, &path, "application/json") else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The single value of a query's result, if it has exactly one series.
fn scalar(lab: &Lab, promql: &str) -> Option<f64> {
    let r = query(lab, promql);
    if r.len() != 1 {
        return None;
    }
    r[0]["value"][1].as_str()?.parse().ok()
}

/// A native config: one instance, VRRPv3 at 100 ms, the metrics endpoint
/// on `metrics`, and `extra` in the instance.
fn write_config(lab: &Lab, idx: usize, priority: u8, metrics: &str, extra: &str) -> PathBuf {
    let dir = lab.host_dir(idx);
    let text = format!(
        r#"[global]
state_dir = "{state}"
control_socket = "{dir}/ctl.sock"
metrics_listen = "{metrics}"

[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
version = 3
priority = {priority}
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
{extra}
"#,
        state = dir.join("state").display(),
        dir = dir.display(),
    );
    let path = dir.join("vrrpd.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

#[test]
fn prometheus_sees_a_failover_and_fires_the_tracker_alert() {
    if !vrrp_testns::netns_available("prometheus_sees_a_failover_and_fires_the_tracker_alert") {
        return;
    }
    let (Some(prometheus), Some(promtool)) = (tool("prometheus"), tool("promtool")) else {
        return;
    };
    let lab = Lab::new("pm", Variant::V3_IPV4);
    let flag = lab.host_dir(H1).join("maintenance");
    std::fs::write(&flag, "0\n").unwrap();
    let tracked = format!(
        "track_file = [{{ name = \"maint\", weight = 0 }}]\n\n[track_file.maint]\npath = \"{}\"\n",
        flag.display()
    );
    let c1 = write_config(&lab, H1, 200, H1_METRICS, &tracked);
    let c2 = write_config(&lab, H2, 100, H2_METRICS, "");
    let _h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never took the VIP"
    );

    // What the endpoint serves passes promtool, in both formats.
    let (status, text) = get(&lab, H1, H1_METRICS, "/metrics", "text/plain").expect("scrape h1");
    check!(lab, status.contains("200"), "scrape: {status}");
    let mut lint = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    lint.stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let lint = lint.wait_with_output().unwrap();
    check!(
        lab,
        lint.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    let (_, open) = get(
        &lab,
        H1,
        H1_METRICS,
        "/metrics",
        "application/openmetrics-text;version=1.0.0",
    )
    .expect("scrape h1 as OpenMetrics");
    check!(lab, open.ends_with("# EOF\n"), "not OpenMetrics:\n{open}");

    // Prometheus in the client's namespace, with the example rules.
    let pdir = lab.host_dir(CLIENT);
    let config = pdir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n  evaluation_interval: 200ms\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: vrrp\n    static_configs:\n      - targets: [\"{H1_METRICS}\", \"{H2_METRICS}\"]\n",
            rules = docs().join("prometheus-rules.yml").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(pdir.join("prometheus.log")).unwrap();
    let _prom = {
        let mut c = lab.host(CLIENT).command(prometheus.to_str().unwrap());
        c.args([
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", pdir.join("data").display()),
            format!("--web.listen-address={PROMETHEUS}"),
            "--log.level=warn".to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
        vrrp_testns::ChildGuard::new(c.spawn().expect("start prometheus"))
    };
    let log_of_prometheus =
        || std::fs::read_to_string(pdir.join("prometheus.log")).unwrap_or_default();
    check!(
        lab,
        wait_for(Duration::from_secs(30), || scalar(
            &lab,
            "sum(up{job=\"vrrp\"})"
        ) == Some(2.0))
        .is_some(),
        "Prometheus never scraped both routers:\n{}",
        log_of_prometheus()
    );
    let active = |target: &str| {
        scalar(
            &lab,
            &format!("vrrp_instance_state{{instance=\"{target}\",state=\"active\",vrid=\"51\"}}"),
        )
    };
    check!(
        lab,
        active(H1_METRICS) == Some(1.0) && active(H2_METRICS) == Some(0.0),
        "before: h1 {:?}, h2 {:?}",
        active(H1_METRICS),
        active(H2_METRICS)
    );

    // The failover: h1's tracker puts it in Fault, h2 takes over.
    std::fs::write(&flag, "1\n").unwrap();
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H2)
            && !lab.has_vip(H1))
        .is_some(),
        "h2 did not take over"
    );
    let seen = wait_for(Duration::from_secs(20), || {
        active(H2_METRICS) == Some(1.0)
            && scalar(
                &lab,
                &format!("changes(vrrp_instance_state_code{{instance=\"{H2_METRICS}\"}}[1m])"),
            )
            .is_some_and(|n| n >= 1.0)
    });
    check!(
        lab,
        seen.is_some(),
        "Prometheus did not see h2 become Active: {:?}",
        query(&lab, "vrrp_instance_state_code")
    );
    check!(
        lab,
        scalar(
            &lab,
            &format!("vrrp_takeover_latency_seconds_count{{instance=\"{H2_METRICS}\"}}")
        ) == Some(1.0),
        "h2's takeover is not in the latency histogram: {:?}",
        query(&lab, "vrrp_takeover_latency_seconds_count")
    );
    // h1's last scrape may predate its Fault by up to one interval.
    let faulting = wait_for(Duration::from_secs(5), || {
        scalar(
            &lab,
            &format!("vrrp_tracker_faulting{{instance=\"{H1_METRICS}\",tracker=\"maint\"}}"),
        ) == Some(1.0)
    });
    check!(
        lab,
        faulting.is_some(),
        "h1's tracker is not shown faulting: {:?}\n{}",
        query(&lab, "vrrp_tracker_faulting"),
        get(&lab, H1, H1_METRICS, "/metrics", "text/plain")
            .map(|(_, b)| b)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("tracker") || l.contains("vrrp_instance_state"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let firing = wait_for(Duration::from_secs(20), || {
        let Some((_, body)) = get(
            &lab,
            CLIENT,
            PROMETHEUS,
            "/api/v1/alerts",
            "application/json",
        ) else {
            return false;
        };
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        v["data"]["alerts"].as_array().is_some_and(|alerts| {
            alerts.iter().any(|a| {
                a["labels"]["alertname"] == "VRRPTrackerDown"
                    && a["labels"]["tracker"] == "maint"
                    && a["state"] == "firing"
            })
        })
    });
    check!(
        lab,
        firing.is_some(),
        "VRRPTrackerDown never fired:\n{}",
        get(
            &lab,
            CLIENT,
            PROMETHEUS,
            "/api/v1/alerts",
            "application/json"
        )
        .map(|(_, b)| b)
        .unwrap_or_default()
    );
    eprintln!(
        "takeover latency sum on h2: {:?} s",
        scalar(
            &lab,
            &format!("vrrp_takeover_latency_seconds_sum{{instance=\"{H2_METRICS}\"}}")
        )
    );
}
