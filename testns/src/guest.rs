//! The IPVS guest. The host kernel has no IPVS; Debian's
//! (`linux-image-amd64`) has it as modules. virtme-ng (`vng`) boots that
//! kernel under qemu (TCG: KVM fails on these hosts) with the host's
//! filesystem, so our test binaries, ipvsadm and keepalived run inside
//! it, and so do network namespaces. A boot takes 20–70 s: a test group
//! boots it once and runs all its guest tests in that one boot.
//!
//! The pattern: a host-side test calls [`run_in_ipvs_guest`] with its
//! own test binary and `--ignored`; the guest-only tests are
//! `#[ignore]`d, so a plain `cargo test` runs them only that way, and
//! each starts with [`assert_in_ipvs_guest`].

use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` inside the guest by [`run_in_ipvs_guest`].
pub const IN_GUEST_ENV: &str = "VRRP_IPVS_GUEST";

/// Whether this process runs inside the IPVS guest.
pub fn in_ipvs_guest() -> bool {
    std::env::var(IN_GUEST_ENV).as_deref() == Ok("1")
}

/// Panics unless inside the IPVS guest: a guest-only test run on the host
/// (`cargo test -- --ignored`) fails instead of touching the host's IPVS.
pub fn assert_in_ipvs_guest() {
    assert!(
        in_ipvs_guest(),
        "this test runs only inside the IPVS guest, which the host-side test of its group boots"
    );
}

/// The kernel to boot: the newest `/boot/vmlinuz-*-amd64`.
pub fn guest_kernel() -> Option<PathBuf> {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-") && n.ends_with("-amd64"))
        })
        .collect();
    kernels.sort();
    kernels.pop()
}

/// Whether the IPVS guest can boot here: root, `vng`, qemu, busybox and
/// a kernel. Says why not on stderr and returns `false`; with `CI=true`
/// it panics instead (the test command installs all of them).
pub fn ipvs_guest_available(test: &str) -> bool {
    let reason = if !super::netns_available(test) {
        Some("needs root".to_string())
    } else if !super::have_program("vng") {
        Some("virtme-ng (`vng`, PyPI virtme-ng) is not installed".to_string())
    } else if !super::have_program("qemu-system-x86_64") {
        Some("qemu-system-x86 is not installed".to_string())
    } else if !super::have_program("busybox") {
        Some("busybox (busybox-static) is not installed".to_string())
    } else if guest_kernel().is_none() {
        Some("no /boot/vmlinuz-*-amd64 (linux-image-amd64)".to_string())
    } else {
        None
    };
    match reason {
        None => true,
        Some(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: needs the IPVS guest but cannot boot it: {why} (CI=true)")
        }
        Some(why) => {
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

/// Boots the guest, loads `ip_vs`, runs `script` (`sh -c`) as root with
/// [`IN_GUEST_ENV`] and the host's `CI` set, and returns its output and
/// exit status. After `timeout` the guest is killed and this fails.
pub fn run_in_ipvs_guest(script: &str, timeout: Duration) -> io::Result<Output> {
    let kernel = guest_kernel()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no /boot/vmlinuz-*-amd64"))?;
    let ci = std::env::var("CI").unwrap_or_default();
    let inner = format!("modprobe ip_vs && export {IN_GUEST_ENV}=1 CI='{ci}' && {script}");
    let n = super::COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("vrrp-guest-{}-{n}", std::process::id()));
    let out_path = base.with_extension("out");
    let err_path = base.with_extension("err");
    let mut child = Command::new("vng")
        .arg("-r")
        .arg(&kernel)
        .args(["--user", "root", "--disable-kvm", "--memory", "1G"])
        .args(["--cpus", "2", "--exec", &inner])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .process_group(0)
        .spawn()?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > timeout {
            // SAFETY: kill takes plain integers; the group is the vng
            // process we spawned as its own group leader (and qemu).
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = std::fs::read(&out_path).unwrap_or_default();
    let stderr = std::fs::read(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the IPVS guest did not finish within {timeout:?}; its output:\n{}\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            ),
        )),
    }
}

/// Runs the calling test binary's `#[ignore]`d tests inside one boot of
/// the guest (one at a time) and panics, with their output, unless all
/// of them pass. `min_tests` guards against a filter that runs none.
pub fn run_ignored_tests_in_ipvs_guest(min_tests: usize, timeout: Duration) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let script = format!(
        "{} --ignored --test-threads=1 --nocapture 2>&1",
        exe.display()
    );
    let out = run_in_ipvs_guest(&script, timeout).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the guest's tests failed: {}",
        out.status
    );
    let passed = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .sum::<usize>();
    assert!(
        passed >= min_tests,
        "only {passed} guest tests passed, expected at least {min_tests}"
    );
}
