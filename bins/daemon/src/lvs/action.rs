//! What the LVS engine asks the shell to do, and what the shell tells it.

use std::net::SocketAddr;

use vrrp_ipvs::{Destination, Service, ServiceKey};

use crate::config::Hook;

/// A checker: its virtual server, real server and position, as indexes
/// into the configuration's `virtual_servers` the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckerId {
    /// Which configuration the indexes are of (one more at each
    /// [`reload`](super::LvsEngine::reload)); a result of an older one
    /// is ignored.
    pub generation: u32,
    /// The virtual server.
    pub virtual_server: usize,
    /// Its real server.
    pub real_server: usize,
    /// The checker of that real server.
    pub checker: usize,
}

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// It passed.
    Up,
    /// It passed and sets the real server's weight (`misc_dynamic`: the
    /// script's exit status minus 2).
    UpWithWeight(u32),
    /// It failed (refused, timed out, wrong status or digest, script exit
    /// status 1 or killed).
    Down,
}

/// A change of a real or virtual server, and why a hook runs
/// (keepalived passes a hook no arguments; this is for the log and the
/// notify FIFO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookReason {
    /// `notify_up` of a real server.
    RealServerUp {
        /// The service.
        service: ServiceKey,
        /// The real server.
        addr: SocketAddr,
    },
    /// `notify_down` of a real server.
    RealServerDown {
        /// The service.
        service: ServiceKey,
        /// The real server.
        addr: SocketAddr,
    },
    /// `quorum_up` of a virtual server.
    QuorumUp(ServiceKey),
    /// `quorum_down` of a virtual server.
    QuorumDown(ServiceKey),
}

/// One thing for the shell to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LvsAction {
    /// Add (or, when present and ours, edit) an IPVS service.
    AddService(Service),
    /// Change the settings of a service we added (a reload changed its
    /// scheduler, flags or persistence).
    UpdateService(Service),
    /// Remove a service we added.
    RemoveService(ServiceKey),
    /// Add a real server to a service.
    AddDestination(ServiceKey, Destination),
    /// Change a real server's weight (or other settings); add it if it
    /// is missing.
    UpdateDestination(ServiceKey, Destination),
    /// Remove a real server we added.
    RemoveDestination(ServiceKey, SocketAddr),
    /// Run checker `id` (its kind and target are in the configuration)
    /// and report with [`LvsEngine::handle_check_result`](super::LvsEngine::handle_check_result).
    RunCheck(CheckerId),
    /// A real server came up or went down, or a virtual server gained or
    /// lost its quorum (for the log and the notify FIFO; its hook, if
    /// any, follows as [`LvsAction::RunHook`]).
    Changed(HookReason),
    /// Run a hook.
    RunHook(Hook, HookReason),
}
