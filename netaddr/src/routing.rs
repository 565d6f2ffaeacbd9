//! [`Handle`]'s routes and rules: idempotent adds and deletes.

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};
use crate::handle::{AddOutcome, DeleteOutcome, Handle};
use crate::route::RouteSpec;
use crate::rule::RuleSpec;
use crate::socket::Failure;

impl Handle {
    /// Adds a route in front of any other to the same destination (`ip
    /// route prepend`, which is what keepalived's `virtual_routes` do).
    /// Idempotent: an identical route already there gives
    /// [`AddOutcome::AlreadyPresent`] and nothing changes.
    pub fn add_route(&mut self, spec: &RouteSpec) -> Result<AddOutcome> {
        spec.validate()?;
        let msg = RouteNetlinkMessage::NewRoute(spec.to_message());
        match self.sock.execute(msg, NLM_F_ACK | NLM_F_CREATE) {
            Ok(_) => Ok(AddOutcome::Added),
            Err(Failure::Kernel(k)) if k.errno == libc::EEXIST => Ok(AddOutcome::AlreadyPresent),
            Err(f) => Err(kernel_failure(f, format!("add route {spec}"))),
        }
    }

    /// Deletes the route `spec` describes, and no other route to the same
    /// destination (`ip route del` with every attribute of the add).
    /// Idempotent: an absent route gives [`DeleteOutcome::NotPresent`].
    pub fn delete_route(&mut self, spec: &RouteSpec) -> Result<DeleteOutcome> {
        let msg = RouteNetlinkMessage::DelRoute(spec.to_delete_message());
        match self.sock.execute(msg, NLM_F_ACK) {
            Ok(_) => Ok(DeleteOutcome::Removed),
            Err(Failure::Kernel(k)) if matches!(k.errno, libc::ESRCH | libc::ENOENT) => {
                Ok(DeleteOutcome::NotPresent)
            }
            Err(f) => Err(kernel_failure(f, format!("delete route {spec}"))),
        }
    }

    /// Adds a rule (`ip rule add`) unless an identical one exists, which
    /// gives [`AddOutcome::AlreadyPresent`]: that rule is someone else's.
    pub fn add_rule(&mut self, spec: &RuleSpec) -> Result<AddOutcome> {
        spec.validate()?;
        let msg = RouteNetlinkMessage::NewRule(spec.to_message());
        match self
            .sock
            .execute(msg, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
        {
            Ok(_) => Ok(AddOutcome::Added),
            Err(Failure::Kernel(k)) if k.errno == libc::EEXIST => Ok(AddOutcome::AlreadyPresent),
            Err(f) => Err(kernel_failure(f, format!("add rule {spec}"))),
        }
    }

    /// Deletes the rule `spec` describes (`ip rule del` with every
    /// attribute of the add). Idempotent: an absent rule gives
    /// [`DeleteOutcome::NotPresent`].
    pub fn delete_rule(&mut self, spec: &RuleSpec) -> Result<DeleteOutcome> {
        let msg = RouteNetlinkMessage::DelRule(spec.to_message());
        match self.sock.execute(msg, NLM_F_ACK) {
            Ok(_) => Ok(DeleteOutcome::Removed),
            Err(Failure::Kernel(k)) if matches!(k.errno, libc::ENOENT | libc::ESRCH) => {
                Ok(DeleteOutcome::NotPresent)
            }
            Err(f) => Err(kernel_failure(f, format!("delete rule {spec}"))),
        }
    }
}

fn kernel_failure(f: Failure, operation: String) -> Error {
    match f {
        Failure::Kernel(k) if k.errno == libc::ENODEV => Error::NoSuchInterface(operation),
        Failure::Kernel(source) => Error::Kernel { operation, source },
        Failure::Local(e) => e,
    }
}
