//! Daemon-wide settings ([`Global`]): paths, logging, the start-up and
//! shutdown scripts, notify FIFOs, the nftables filter, link delays, the
//! network namespace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{ChecksumMode, Hook, RunAs};

/// Daemon-wide settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// A name for this node, used in logs and passed to notify hooks as
    /// `VRRP_ROUTER_ID` (keepalived `router_id`). Default: none.
    pub router_id: Option<String>,
    /// Where the daemon keeps its state files (the VIP ledger). Default
    /// `/run/vrrpd`: it must survive a crash of the daemon, not a reboot
    /// (the addresses do not either). The ledger is not synced on the
    /// failover path, so a disk does no harm, but a tmpfs forgets it at
    /// a reboot as the kernel forgets the addresses.
    pub state_dir: PathBuf,
    /// The control socket `vrrpctl` talks to. Default `/run/vrrpd/vrrpd.sock`.
    pub control_socket: PathBuf,
    /// Where to serve Prometheus metrics (`GET /metrics`, see
    /// [`crate::metrics`]). Default: none, no endpoint. A vrrpd-only
    /// setting (`metrics_listen` in `[global]` or in keepalived.conf's
    /// `global_defs`, or `vrrpd --metrics-listen`).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Where SIGUSR1, SIGUSR2 and SIGRTMIN+2 write keepalived's
    /// `keepalived.data`, `keepalived.stats` and `keepalived.json`
    /// ([`crate::dump`]). Default: none, keepalived's choice: `$TMPDIR`
    /// if it is absolute, else `/tmp`.
    pub dump_dir: Option<PathBuf>,
    /// Log verbosity. Default [`LogLevel::Info`].
    pub log_level: LogLevel,
    /// Default user (and group) for hooks and scripts that name none.
    /// Default: none, so they run as the daemon's own user.
    pub script_user: Option<RunAs>,
    /// Refuse to run, as root, a script that a non-root user could modify
    /// (keepalived `enable_script_security`). Default `false`.
    pub script_security: bool,
    /// Which VRRPv3/IPv4 checksum form to send. Default
    /// [`ChecksumMode::PseudoHeader`].
    pub v3_ipv4_checksum: ChecksumMode,
    /// How long after start-up the instances start (keepalived's
    /// `vrrp_startup_delay`): at boot, time for the network to come up.
    /// Not on a reload. Default zero.
    pub startup_delay: Duration,
    /// Runs before anything else starts; the daemon waits for it, up to
    /// `startup_script_timeout`, then kills it (keepalived's
    /// `startup_script`). Default: none.
    pub startup_script: Option<Box<Hook>>,
    /// How long the startup script may run, 1..=1000 s. Default 10 s.
    pub startup_script_timeout: Duration,
    /// Runs once a clean stop has removed every address (keepalived's
    /// `shutdown_script`), up to `shutdown_script_timeout`. Default: none.
    pub shutdown_script: Option<Box<Hook>>,
    /// How long the shutdown script may run, 1..=1000 s. Default 10 s.
    pub shutdown_script_timeout: Duration,
    /// FIFOs every state change is written to, one line each, in
    /// keepalived's format (keepalived's `notify_fifo`,
    /// `vrrp_notify_fifo`). Default: none.
    pub notify_fifos: Vec<NotifyFifo>,
    /// IPVS's connection timeouts, set while the LVS half runs and put
    /// back at a clean stop (keepalived's `lvs_timeouts`; a zero field
    /// leaves that timeout as it is). Default: none.
    pub lvs_timeouts: Option<vrrp_ipvs::Timeouts>,
    /// The nftables filter that keeps a non-owner Active in non-accept
    /// mode from accepting packets to its VIPs (keepalived's `nftables`,
    /// `nftables_priority`, `nftables_counters`).
    pub firewall: Firewall,
    /// Log adverts for a VRID no instance here has (keepalived
    /// `log_unknown_vrids`), at a bounded rate. Default off: they are
    /// only counted.
    pub log_unknown_vrids: bool,
    /// After a reload, write each kept instance's state (Backup or Fault)
    /// and each sync group's to the notify FIFOs, as keepalived's
    /// `fifo_write_vrrp_states_on_reload` does. Default off.
    pub fifo_states_on_reload: bool,
    /// How long a link change waits before instances hear it, by
    /// interface name (keepalived `interface_up_down_delays`). A vmac
    /// follows its parent's. Default: none.
    pub link_delays: BTreeMap<String, LinkDelays>,
    /// Turn off IGMP reports for 224.0.0.0/24 in the daemon's network
    /// namespace while it runs, and back on at a clean stop (keepalived
    /// `disable_local_igmp`). Read at start only. Default off.
    pub disable_local_igmp: bool,
    /// Run inside this network namespace (`ip netns add NAME`), entered
    /// at start; a reload cannot change it (keepalived `net_namespace`).
    /// The default state directory and control socket then move under
    /// `/run/vrrpd/NAME`, so that one vrrpd per namespace can run.
    pub net_namespace: Option<String>,
}

/// keepalived's `interface_up_down_delays` for one interface: a change
/// takes effect only after its delay, and not at all if the link goes
/// back first. Each at most 255 s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkDelays {
    /// Before a link that went down counts as down.
    pub down: Duration,
    /// Before a link that came up counts as up.
    pub up: Duration,
}

/// keepalived's VRRP packet filter: tables `ip NAME` and `ip6 NAME` with a
/// set `vips` that input and output drop, holding the VIPs of each
/// non-owner instance in non-accept mode (`no_accept`, or `vrrp_strict`'s
/// default) while it is Active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firewall {
    /// The tables' name (keepalived `nftables NAME`). Default `keepalived`.
    pub table: String,
    /// The base chains' priority (`nftables_priority`). Default -1.
    pub priority: i32,
    /// A counter on each drop rule (`nftables_counters`). Default off.
    pub counters: bool,
}

impl Firewall {
    /// The longest table name nftables takes (`NFT_TABLE_MAXNAMELEN` - 1).
    pub const MAX_TABLE_LEN: usize = 31;
}

impl Default for Firewall {
    fn default() -> Self {
        Firewall {
            table: "keepalived".into(),
            priority: -1,
            counters: false,
        }
    }
}

/// A FIFO that state changes are written to, one line each, as keepalived
/// writes them: `INSTANCE "VI_1" MASTER 100` or `GROUP "G" BACKUP 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyFifo {
    /// Where it is; created (and removed at stop) if it does not exist.
    pub path: PathBuf,
    /// Who owns it when the daemon creates it; the daemon's user when
    /// `None`.
    pub owner: Option<RunAs>,
    /// Started at start-up with the FIFO's path as its last argument, to
    /// read it; stopped (SIGTERM) at stop (keepalived's
    /// `notify_fifo_script`).
    pub script: Option<Box<Hook>>,
}

impl Global {
    /// The default state directory.
    pub const DEFAULT_STATE_DIR: &'static str = "/run/vrrpd";
    /// The default control socket path.
    pub const DEFAULT_CONTROL_SOCKET: &'static str = "/run/vrrpd/vrrpd.sock";
    /// The default timeout of the startup and shutdown scripts (keepalived's).
    pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The longest IPVS connection timeout keepalived takes (31 days).
    pub const MAX_LVS_TIMEOUT: Duration = Duration::from_secs(86_400 * 31);

    /// Sets `net_namespace` to `name`, and moves the state directory and
    /// control socket that are at their defaults under `/run/vrrpd/NAME`.
    pub fn set_net_namespace(&mut self, name: &str) {
        let dir = PathBuf::from(Self::DEFAULT_STATE_DIR).join(name);
        if self.state_dir == Path::new(Self::DEFAULT_STATE_DIR) {
            self.state_dir = dir.clone();
        }
        if self.control_socket == Path::new(Self::DEFAULT_CONTROL_SOCKET) {
            self.control_socket = dir.join("vrrpd.sock");
        }
        self.net_namespace = Some(name.to_string());
    }
}

impl Default for Global {
    fn default() -> Self {
        Global {
            router_id: None,
            state_dir: PathBuf::from(Self::DEFAULT_STATE_DIR),
            control_socket: PathBuf::from(Self::DEFAULT_CONTROL_SOCKET),
            metrics_listen: None,
            dump_dir: None,
            log_level: LogLevel::Info,
            script_user: None,
            script_security: false,
            v3_ipv4_checksum: ChecksumMode::PseudoHeader,
            startup_delay: Duration::ZERO,
            startup_script: None,
            startup_script_timeout: Self::DEFAULT_SCRIPT_TIMEOUT,
            shutdown_script: None,
            shutdown_script_timeout: Self::DEFAULT_SCRIPT_TIMEOUT,
            notify_fifos: Vec::new(),
            lvs_timeouts: None,
            firewall: Firewall::default(),
            log_unknown_vrids: false,
            fifo_states_on_reload: false,
            link_delays: BTreeMap::new(),
            disable_local_igmp: false,
            net_namespace: None,
        }
    }
}

/// Log verbosity, least to most verbose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// State changes and other notable events (the default).
    Info,
    /// Per-packet and per-timer detail.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The spelling used in the configuration file (`"info"`...).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// Parses the configuration spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ]
        .into_iter()
        .find(|l| l.as_str() == name)
    }
}
