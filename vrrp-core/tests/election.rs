//! The election state machine against the conformance checklist of
//! RFC 9568 §6–7 and RFC 3768 §6–7: one test per item, named after it,
//! grouped by topic in the modules below (files in `election/`).

#[path = "support/router.rs"]
mod support;

#[path = "election/active.rs"]
mod active;
#[path = "election/backup.rs"]
mod backup;
#[path = "election/configuration.rs"]
mod configuration;
#[path = "election/faults.rs"]
mod faults;
#[path = "election/priority.rs"]
mod priority;
#[path = "election/receive_validation.rs"]
mod receive_validation;
#[path = "election/timers.rs"]
mod timers;

use vrrp_core::wire::{Auth, Password};

/// A VRRPv2 simple-text password.
fn password(s: &str) -> Auth {
    Auth::SimpleText(Password::new(s.as_bytes()).unwrap())
}
