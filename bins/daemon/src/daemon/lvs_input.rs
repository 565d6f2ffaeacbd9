//! What the LVS half's check tasks and IPVS worker report to the event
//! loop (a module of its own so that the worker and the shell that owns
//! it both use it without importing each other).

use std::net::IpAddr;

use crate::lvs::{CheckOutcome, CheckerId};

/// What the LVS half's tasks and worker report to the loop.
#[derive(Debug)]
pub(crate) enum LvsInput {
    /// A check's result.
    Checked(CheckerId, CheckOutcome),
    /// The host's addresses at start (for `ha_suspend`), from the worker.
    Addresses(Vec<IpAddr>),
}
