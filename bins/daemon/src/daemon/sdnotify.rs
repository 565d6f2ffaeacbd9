//! The systemd notification protocol (`sd_notify(3)`): a datagram to
//! `$NOTIFY_SOCKET` when the daemon runs under `Type=notify`.

use std::os::unix::net::UnixDatagram;

/// Sends `state` (`READY=1`, `RELOADING=1`, `STOPPING=1`, ...) to the
/// service manager, if there is one; errors are logged and ignored.
pub(crate) fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let result = UnixDatagram::unbound().and_then(|sock| {
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(state.as_bytes(), &addr)
        } else {
            sock.send_to(state.as_bytes(), &path)
        }
    });
    if let Err(e) = result {
        tracing::debug!(error = %e, state, "sd_notify failed");
    }
}

/// The service manager's watchdog and status line, when vrrpd runs under
/// one (`NOTIFY_SOCKET`): the event loop calls [`Supervisor::tick`] every
/// [`Supervisor::period`], which sends `WATCHDOG=1` if `WatchdogSec` is
/// set (`WATCHDOG_USEC`, for this process per `WATCHDOG_PID`) and a
/// `STATUS=` line when it changed. Sent from the loop, a loop that stalls
/// stops the pings, and systemd restarts the daemon, whose next start
/// removes what the stalled one held.
#[derive(Debug)]
pub(crate) struct Supervisor {
    watchdog: Option<std::time::Duration>,
    status: String,
}

impl Supervisor {
    /// The supervisor of this process, if a service manager listens.
    pub(crate) fn from_env() -> Option<Supervisor> {
        std::env::var_os("NOTIFY_SOCKET")?;
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.parse::<u64>().ok())
            .filter(|&u| u > 0 && for_us)
            .map(std::time::Duration::from_micros);
        Some(Supervisor {
            watchdog,
            status: String::new(),
        })
    }

    /// How often to tick: half the watchdog timeout (as `sd_watchdog_enabled(3)`
    /// advises), at most a second.
    pub(crate) fn period(&self) -> std::time::Duration {
        let second = std::time::Duration::from_secs(1);
        self.watchdog.map_or(second, |w| (w / 2).min(second))
    }

    /// Pings the watchdog and reports `status` if it changed, in one
    /// message.
    pub(crate) fn tick(&mut self, status: String) {
        let mut message = String::new();
        if self.watchdog.is_some() {
            message.push_str("WATCHDOG=1\n");
        }
        if status != self.status {
            message.push_str("STATUS=");
            message.push_str(&status);
            self.status = status;
        }
        if !message.is_empty() {
            notify(message.trim_end());
        }
    }
}
