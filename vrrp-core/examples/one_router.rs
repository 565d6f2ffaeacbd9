//! One virtual router driven by hand, in virtual time: no sockets, no
//! clock, just the sans-IO contract (`handle_*` in, `poll_output` and
//! `poll_timeout` out).
//!
//! ```sh
//! cargo run -p vrrp-core --example one_router
//! ```
//!
//! The router starts as Backup, hears nothing, and becomes Active when its
//! Master_Down_Timer fires (RFC 9568 §6.4.2): it installs its VIP, sends
//! an advertisement and announces the VIP, in that order. A peer's
//! priority-0 advertisement would make a Backup take over after
//! Skew_Time instead.

use std::time::{Duration, Instant};

use vrrp_core::Vrid;
use vrrp_core::router::{Config, Output, VirtualRouter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vrid = Vrid::new(51).ok_or("VRID 51 is valid")?;
    let mut router = VirtualRouter::new(Config::new(
        vrid,
        "198.18.0.1".parse()?,
        vec!["198.18.0.100".parse()?],
    ))?;
    // Virtual time: any Instant works as the origin.
    let t0 = Instant::now();
    router.startup(t0);
    drain(&mut router, t0, t0);
    // Jump from deadline to deadline, as an event loop's timer would.
    for _ in 0..3 {
        let Some(deadline) = router.poll_timeout() else {
            break;
        };
        router.handle_timeout(deadline);
        drain(&mut router, t0, deadline);
    }
    println!("state now: {}", router.state());
    router.shutdown(t0 + Duration::from_secs(10));
    drain(&mut router, t0, t0 + Duration::from_secs(10));
    Ok(())
}

/// Prints every output the router queued, in order, as a driver would
/// carry them out.
fn drain(router: &mut VirtualRouter, t0: Instant, now: Instant) {
    let at = now.duration_since(t0);
    while let Some(output) = router.poll_output() {
        match output {
            Output::SendAdvertisement(tx) => println!(
                "{at:>8.3?}  send {} bytes from {} to {} (priority {})",
                tx.payload.len(),
                tx.src,
                tx.dst,
                tx.priority.get()
            ),
            Output::StateChanged { from, to, reason } => {
                println!("{at:>8.3?}  {from} -> {to} ({})", reason.as_str());
            }
            other => println!("{at:>8.3?}  {other:?}"),
        }
    }
}
