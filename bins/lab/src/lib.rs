//! `vrrp-lab`: a throwaway lab of network namespaces for the failover
//! demonstration (`vrrp-lab demo`) and the benchmarks side by side with
//! keepalived (`vrrp-lab bench`).
//!
//! Network safety: everything happens inside namespaces this module creates
//! (named `vl<pid>…`), linked by veth pairs and bridges, with addresses in
//! 198.18.0.0/15 only. Nothing is added to the root namespace. Namespaces,
//! the daemons started in them and the capture threads are removed by Drop
//! guards, also when a step fails, on Ctrl-C and on a panic.
//!
//! All figures come from packet captures taken in the client namespace
//! (an AF_PACKET socket with kernel receive timestamps, CLOCK_REALTIME).

pub mod bench;
pub mod capture;
pub mod daemon;
pub mod demo;
pub mod ns;
pub mod probe;
pub mod scale;
pub mod scenario;
pub mod soak;
pub mod stats;
pub mod vips;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a lab step failed. A plain message: the lab is a tool for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LabError(pub String);

impl LabError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> LabError {
        LabError(msg.into())
    }
}

impl From<std::io::Error> for LabError {
    fn from(e: std::io::Error) -> LabError {
        LabError(e.to_string())
    }
}

/// The lab's result type.
pub type Result<T> = std::result::Result<T, LabError>;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs SIGINT and SIGTERM handlers that only set a flag; every waiting
/// loop of the lab checks it ([`check_interrupted`]) and returns an error,
/// so the Drop guards clean up on the way out.
pub fn install_signal_handlers() {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores into an atomic, which is
        // async-signal-safe; signal() has no other preconditions.
        unsafe { libc::signal(sig, handler as libc::sighandler_t) };
    }
}

/// Whether Ctrl-C (or SIGTERM) was received.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// An error once Ctrl-C (or SIGTERM) was received.
pub fn check_interrupted() -> Result<()> {
    if interrupted() {
        Err(LabError::new("interrupted"))
    } else {
        Ok(())
    }
}

/// Sleeps for `d`, waking early with an error when interrupted.
pub fn sleep(d: Duration) -> Result<()> {
    let end = std::time::Instant::now() + d;
    loop {
        check_interrupted()?;
        let now = std::time::Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep((end - now).min(Duration::from_millis(5)));
    }
}

/// Whether the lab runs as root; it needs CAP_NET_ADMIN to make namespaces.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The error printed when the lab is started without root.
pub fn require_root() -> Result<()> {
    if is_root() {
        Ok(())
    } else {
        Err(LabError::new(
            "vrrp-lab must run as root: it creates network namespaces, veth links and a bridge \
             (needs CAP_NET_ADMIN). Try: sudo -E cargo run --release --bin vrrp-lab -- demo",
        ))
    }
}

/// Wall-clock time in nanoseconds since the Unix epoch, the clock the
/// kernel stamps captured packets with.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Nanoseconds as milliseconds, for reports.
pub fn ns_to_ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}
