//! The configurations the lab gives vrrpd and keepalived are ones our own
//! loaders accept without a single diagnostic, so the lab measures the
//! configuration it means to.

use std::path::Path;
use std::time::Duration;

use vrrp_lab::daemon::{HostConfig, keepalived_config, vrrpd_config};
use vrrp_lab::scale;
use vrrp_lab::scenario::single;
use vrrpd::config::{KeepalivedOptions, check_keepalived_str, check_native_str};

fn configs() -> Vec<HostConfig> {
    let mut v = Vec::new();
    for h in 1..=2 {
        v.push(single(h, 2, Duration::from_secs(1), 100 + h as u8));
        v.push(single(h, 3, Duration::from_millis(100), 100 + h as u8));
        v.push(single(h, 3, Duration::from_millis(10), 100 + h as u8));
    }
    v.push(single(1, 3, Duration::from_millis(100), 255));
    v.push(scale::config(1, 4, 250, Duration::from_millis(100)));
    v.push(scale::config(2, 2, 10, Duration::from_millis(100)));
    v
}

#[test]
fn lab_vrrpd_configs_load_without_diagnostics() {
    for host in configs() {
        let text = vrrpd_config(&host, Path::new("/tmp/vrrp-lab-x/h1"));
        match check_native_str(&text, Path::new("lab.toml")) {
            Ok((config, warnings)) => {
                assert!(warnings.is_empty(), "{warnings:?}\n{text}");
                assert_eq!(config.instances.len(), host.instances.len());
            }
            Err(diags) => panic!("{diags:?}\n{text}"),
        }
    }
}

#[test]
fn lab_keepalived_configs_load_without_errors() {
    let options = KeepalivedOptions {
        strict: true,
        config_id: None,
        follow_includes: false,
    };
    for host in configs() {
        let text = keepalived_config(&host);
        match check_keepalived_str(&text, Path::new("keepalived.conf"), &options) {
            Ok((config, _)) => assert_eq!(config.instances.len(), host.instances.len()),
            Err(diags) => panic!("{diags:?}\n{text}"),
        }
    }
}
