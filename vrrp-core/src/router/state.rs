//! The states of a virtual router.

use core::fmt;

/// The state of a virtual router (RFC 9568 §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Not running: before [`startup`](super::VirtualRouter::startup) and
    /// after [`shutdown`](super::VirtualRouter::shutdown) (RFC 9568 §6.4.1).
    Initialize,
    /// Watching the Active router, ready to take over (RFC 9568 §6.4.2).
    Backup,
    /// Forwarding for the virtual addresses and advertising them: RFC 9568's
    /// name for what RFC 3768 and keepalived call *Master* (§6.4.3).
    Active,
    /// Started, but unable to serve: the link is down or a tracker failed
    /// (keepalived's FAULT). Holds no addresses, sends nothing, and returns
    /// to Backup when the fault clears.
    Fault,
}

impl State {
    /// A stable lower-case name: `initialize`, `backup`, `active`, `fault`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Initialize => "initialize",
            State::Backup => "backup",
            State::Active => "active",
            State::Fault => "fault",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
