//! keepalived's `startup_script`, `vrrp_startup_delay` and
//! `shutdown_script`: what runs before the instances start and after the
//! clean stop, each bounded in time.

use std::time::Duration;

use tracing::{info, warn};

use crate::config::{Global, Hook};
use crate::process::Job;

/// Runs `hook` (the startup or shutdown script, `what` says which) to its
/// end or `timeout`, when it kills it; failures are logged, never fatal:
/// keepalived starts and stops whatever its scripts did.
pub(super) async fn run_script(what: &str, hook: &Hook, timeout: Duration, global: &Global) {
    let job = Job::new(&hook.exec, timeout).configured(hook.run_as.as_ref(), global);
    let program = job.argv.first().cloned().unwrap_or_default();
    info!(script = %program, "running the {what} script");
    match job.run().await {
        Ok(status) if status.success() => {}
        Ok(status) => warn!(script = %program, "the {what} script failed: {status}"),
        Err(e) => warn!(script = %program, error = %e, "the {what} script did not run to its end"),
    }
}

/// Waits `delay` (keepalived's `vrrp_startup_delay`) unless `shutdown`
/// comes first: false then.
pub(super) async fn startup_delay(
    delay: Duration,
    shutdown: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> bool {
    if delay.is_zero() {
        return true;
    }
    info!(delay = ?delay, "delaying the start of the instances (vrrp_startup_delay)");
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = shutdown => false,
    }
}
