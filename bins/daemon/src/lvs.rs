//! keepalived's LVS half as a sans-IO engine: IPVS services whose real
//! servers are health-checked and taken out of rotation when they fail.
//!
//! [`LvsEngine`] is to the checkers what [`crate::engine::Engine`] is to
//! the VRRP instances: results of checks and timeouts go in with the
//! time, and [`LvsAction`]s come out in order (IPVS changes, checks to
//! run, hooks to run). It has no clock, socket or process of its own; the
//! shell runs the checks (`daemon::lvs_shell`) and the IPVS changes
//! (through `vrrp_ipvs::IpvsLedger`, off the event loop).
//!
//! Semantics follow keepalived 2.2.7's checker process: a real server is
//! up while all its checkers are; a live one goes down after `retry + 1`
//! failures in a row (the first verdict after a start is immediate);
//! `inhibit_on_failure` keeps it with weight 0; `alpha` starts it down;
//! quorum and hysteresis switch to the sorry server; notify and quorum
//! hooks run on each change.

mod action;
mod checker;
pub mod dns;
mod engine;
pub mod http;
pub mod ping;
mod reload;
pub mod smtp;
#[cfg(test)]
mod tests;

pub use action::{CheckOutcome, CheckerId, HookReason, LvsAction};
pub use engine::{LvsEngine, RealServerCounters, RealServerStatus, VirtualServerStatus};
