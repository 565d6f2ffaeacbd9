//! The daemon: the I/O shell that runs the [`crate::engine`] for every
//! configured VRRP instance and carries out what it asks.
//!
//! [`Daemon`] takes a validated [`crate::config::Config`] and runs
//! until a shutdown future completes, on the current tokio runtime (a
//! current-thread runtime is enough and is what `vrrpd` uses):
//!
//! 1. the addresses a previous run left in its ledger (after a crash or a
//!    `kill -9`) are removed, and the macvlans it created are deleted and
//!    their parents' sysctls restored, before anything else;
//! 2. one raw socket per (address family, interface) is opened and joins
//!    the VRRP group (RFC 9568 §5.1.1.2, §5.1.2.2); an instance whose
//!    interface is missing waits for it in Fault, and one whose interface
//!    is deleted while running waits for it to come back;
//! 3. each instance's [`VirtualRouter`](vrrp_core::router::VirtualRouter)
//!    starts; its outputs become address changes (through the ledger, on
//!    the address worker thread, so the loop never waits for them),
//!    advertisements, gratuitous ARP / unsolicited NA and log lines;
//! 4. link events drive `set_link_up`; a VIP deleted by an operator while
//!    Active is added back;
//! 5. on shutdown every Active router sends priority 0 (RFC 9568 §6.4.3),
//!    removes its addresses, and the ledger is emptied.
//!
//! ```no_run
//! # async fn f(config: vrrpd::config::Config) -> Result<(), vrrpd::daemon::DaemonError> {
//! let daemon = vrrpd::Daemon::new(config);
//! daemon.run(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

mod address_worker;
mod announce;
mod checks;
mod datagrams;
mod event_loop;
mod events;
mod fifo;
mod firewall;
mod host;
pub mod http_get;
mod io;
mod ipvs_worker;
mod lifecycle;
mod lookup;
mod lvs_input;
mod lvs_shell;
mod memory;
mod observe;
mod reload;
mod reload_queue;
mod resolve;
mod routing;
mod routing_set;
mod sdnotify;
mod shell;
mod sockets;
mod timer;
mod update;
mod vips;
mod vmac_record;

use std::future::Future;
use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::config::Config;
use crate::dump::DumpKind;
pub use crate::engine::SetupError;

/// Why the daemon could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// rtnetlink could not be opened or answered with an error.
    #[error("netlink: {0}")]
    Netlink(#[source] Box<vrrp_netaddr::Error>),
    /// The address ledger could not be read or written.
    #[error("address ledger in {}: {source}", path.display())]
    Ledger {
        /// The state directory or ledger file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<vrrp_netaddr::Error>,
    },
    /// An instance could not be set up (interface, address, socket).
    #[error("instance {instance}: {source}")]
    Setup {
        /// The instance's name.
        instance: String,
        /// What went wrong.
        #[source]
        source: SetupError,
    },
    /// A socket or timer of the event loop failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The VRRP daemon, to run in-process; see the [module docs](self).
pub struct Daemon {
    config: Config,
    reloads: Option<mpsc::UnboundedReceiver<Config>>,
    dumps: Option<mpsc::UnboundedReceiver<DumpKind>>,
    loader: Option<ConfigLoader>,
    drop_capabilities: bool,
}

/// Reads the configuration again, for `vrrpctl reload`: the new
/// configuration, or the rendered diagnostics.
pub type ConfigLoader = Box<dyn Fn() -> Result<Config, String> + Send>;

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("config", &self.config)
            .field("reloadable", &self.loader.is_some())
            .field("drop_capabilities", &self.drop_capabilities)
            .finish_non_exhaustive()
    }
}

/// Hands a running [`Daemon`] new configurations to reload (what `vrrpd`
/// does on SIGHUP); cheap to clone.
#[derive(Debug, Clone)]
pub struct Reloader(mpsc::UnboundedSender<Config>);

impl Reloader {
    /// Asks the daemon to apply `config`: unchanged instances keep their
    /// state and addresses, changed ones restart. False once the daemon
    /// has stopped, and then the configuration was not applied.
    #[must_use = "false means the daemon has stopped and did not take the configuration"]
    pub fn reload(&self, config: Config) -> bool {
        self.0.send(config).is_ok()
    }
}

/// Asks a running [`Daemon`] for keepalived's dumps (what `vrrpd` does on
/// SIGUSR1, SIGUSR2 and SIGRTMIN+2); cheap to clone.
#[derive(Debug, Clone)]
pub struct Dumper(mpsc::UnboundedSender<DumpKind>);

impl Dumper {
    /// Asks for `kind`, written to the dump directory (`dump_dir`, else
    /// `$TMPDIR` if absolute, else `/tmp`) off the event loop. False once
    /// the daemon has stopped.
    #[must_use = "false means the daemon has stopped and writes nothing"]
    pub fn request(&self, kind: DumpKind) -> bool {
        self.0.send(kind).is_ok()
    }
}

impl Daemon {
    /// A daemon for `config` (from [`load_native`](crate::config::load_native)
    /// or [`load_keepalived`](crate::config::load_keepalived)).
    pub fn new(config: Config) -> Self {
        Daemon {
            config,
            reloads: None,
            dumps: None,
            loader: None,
            drop_capabilities: false,
        }
    }

    /// Once its sockets are open, drop every capability but CAP_NET_ADMIN
    /// and CAP_NET_RAW (and CAP_SETUID, CAP_SETGID and CAP_KILL when a
    /// script runs as another user) from the effective, permitted,
    /// inheritable and bounding sets; see [`crate::system`]. Capabilities
    /// belong to a thread: this is for a process that runs the daemon on
    /// its main thread in a current-thread runtime before starting other
    /// threads, as `vrrpd` does. Off by default for embedders.
    pub fn drop_capabilities_after_setup(&mut self, on: bool) {
        self.drop_capabilities = on;
    }

    /// How to read the configuration again when `vrrpctl reload` asks;
    /// without one that request is refused.
    pub fn set_config_loader(&mut self, loader: ConfigLoader) {
        self.loader = Some(loader);
    }

    /// A handle to reload the running daemon with; the daemon listens only
    /// to the last handle asked for.
    pub fn reloader(&mut self) -> Reloader {
        let (tx, rx) = mpsc::unbounded_channel();
        self.reloads = Some(rx);
        Reloader(tx)
    }

    /// A handle to ask the running daemon for keepalived's dumps with; the
    /// daemon listens only to the last handle asked for.
    pub fn dumper(&mut self) -> Dumper {
        let (tx, rx) = mpsc::unbounded_channel();
        self.dumps = Some(rx);
        Dumper(tx)
    }

    /// The configuration it runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs every instance until `shutdown` completes, then stops cleanly:
    /// priority-0 advertisements, virtual addresses removed, ledger emptied.
    /// Must be called inside a tokio runtime with I/O and time enabled.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
        event_loop::run(
            self.config,
            shutdown,
            self.reloads,
            self.dumps,
            self.loader,
            self.drop_capabilities,
        )
        .await
    }
}
