//! Instances waiting for the host: an interface that is missing at start
//! or was deleted while running (a veth pair re-created, a VLAN or bond
//! rebuilt), a device one of its VIPs lives on, an IPv6 link-local address
//! still tentative. Like keepalived, the daemon keeps running and reports
//! such an instance in Fault; it is resolved again from its configuration
//! as soon as what it needs is back (on a link event, or at the next
//! periodic retry), without a restart.

use std::time::Duration;

use super::action::InstanceId;
use super::counters::Extra;
use crate::config;

/// How often waiting instances are tried again when no event came.
pub(crate) const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// An instance that could not be resolved, or lost its interface.
#[derive(Debug)]
pub(crate) struct Waiting {
    /// Its handle.
    pub(crate) id: InstanceId,
    /// Its configuration.
    pub(crate) config: config::Instance,
    /// What it waits for.
    pub(crate) reason: String,
    /// Its counters, kept across the rebuild.
    pub(crate) extra: Extra,
    /// Whether a [`super::Action::Resolve`] for it is out.
    pub(crate) resolving: bool,
}
