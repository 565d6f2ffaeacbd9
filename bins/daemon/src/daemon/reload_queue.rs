//! The reloads of a running daemon: the one being looked up, those that
//! came meanwhile, and a reload's new addresses while it is applied (see
//! [`super::reload`]).

use std::collections::{HashMap, VecDeque};

use tokio::sync::oneshot;

use super::lookup::Specs;
use crate::config::Config;
use crate::control::Response;

/// Where a reload's outcome goes: `vrrpctl reload` waits for it; SIGHUP
/// and [`super::Reloader`] do not.
pub(crate) type ReloadReply = Option<oneshot::Sender<Response>>;

/// The reloads of a running daemon.
#[derive(Debug, Default)]
pub(crate) struct Reloads {
    /// The one being looked up, by where its answer goes.
    pub(super) in_flight: Option<ReloadReply>,
    /// Those that came meanwhile, in order.
    pub(super) queued: VecDeque<(Config, ReloadReply)>,
    /// The new addresses (and those that could not be resolved) of each
    /// instance that keeps running with new ones, by name, while the
    /// reload is applied.
    pub(crate) specs: HashMap<String, Specs>,
}
