//! What the engine asks of its shell ([`Action`]), and the handles both
//! sides use to name instances and sockets.

use std::net::IpAddr;

use vrrp_core::router::Transmit;

use crate::config;
use crate::notify::Transition;

/// An instance's handle, given by the engine and never reused: a result
/// that comes back for an instance that is gone is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(pub(crate) u64);

/// A VRRP socket's handle, given by the shell (one per address family and
/// interface). The engine routes a datagram to the instances whose
/// [`Resolved::socket`] it came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub usize);

/// Which of an instance's addresses to install: its VIPs then its excluded
/// VIPs (keepalived's `virtual_ipaddress`, `virtual_ipaddress_excluded`),
/// in configuration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addresses {
    /// All of them (a takeover).
    All,
    /// The one at this index (one someone else removed while Active).
    One(usize),
}

/// One thing for the shell to do. Carry them out in the order
/// [`Engine::poll_action`](super::Engine::poll_action) returns them: a new
/// Active advertises first (at the Master_Down deadline, however many
/// VIPs follow), then installs its VIPs and announces them (RFC 9568
/// §6.4.2).
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Look the instance's interface, source address and VIP devices up
    /// (and create its macvlan), then report with
    /// [`Engine::handle_resolved`](super::Engine::handle_resolved).
    Resolve {
        /// The instance.
        instance: InstanceId,
        /// Its configuration.
        config: Box<config::Instance>,
    },
    /// Install the instance's addresses through the ledger, then report with
    /// [`Engine::handle_install_result`](super::Engine::handle_install_result),
    /// at once or later (the next actions need not wait; the instance's
    /// announcements wait for the report). Installs of one instance must
    /// be carried out in order with its removals.
    InstallAddresses {
        /// The instance.
        instance: InstanceId,
        /// Which.
        which: Addresses,
    },
    /// Confirm what the installs before it added (the ledger's settle
    /// step), after they ran.
    SettleAddresses,
    /// A reload changed only the instance's addresses (`vips`,
    /// `excluded_vips`): take `config`'s as its addresses from now on and,
    /// if it `holds` them, remove those that went and install the new ones
    /// in one batch each, then report with
    /// [`Engine::handle_install_result`](super::Engine::handle_install_result)
    /// (whether it holds them or not), at once or later.
    UpdateAddresses {
        /// The instance.
        instance: InstanceId,
        /// Its new configuration (only its addresses differ).
        config: Box<config::Instance>,
        /// Whether it holds its addresses now (Active).
        holds: bool,
    },
    /// Remove the instance's addresses that the ledger says we added.
    RemoveAddresses {
        /// The instance.
        instance: InstanceId,
    },
    /// Send an advertisement.
    SendAdvertisement {
        /// The instance.
        instance: InstanceId,
        /// What to send, and where.
        transmit: Transmit,
    },
    /// Send one gratuitous ARP (IPv4) or unsolicited NA (IPv6) for `address`.
    Announce {
        /// The instance.
        instance: InstanceId,
        /// The virtual address.
        address: IpAddr,
    },
    /// Run the notify hooks of a transition (keepalived's `notify_*`), without
    /// waiting for them; [`Engine::hooks`](super::Engine::hooks) gives them.
    Notify(Transition),
    /// Write a state to the notify FIFOs only, no hook (after a reload,
    /// keepalived's `fifo_write_vrrp_states_on_reload`).
    ReportState(Transition),
    /// Tell observers (`vrrpctl watch`, the metrics): nothing on the
    /// host changes.
    Publish(super::Event),
    /// The instance stopped or waits again: release what the shell holds
    /// for it (its macvlan, a socket no other instance uses).
    Release {
        /// The instance.
        instance: InstanceId,
        /// The interface whose deletion caused this: the kernel deleted a
        /// macvlan on it already.
        removed_link: Option<u32>,
    },
}

/// What the shell found on the host for an instance (the answer to
/// [`Action::Resolve`]).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The socket its adverts come in on.
    pub socket: SocketId,
    /// Its interface's index.
    pub ifindex: u32,
    /// Whether that interface is up now.
    pub link_up: bool,
    /// The address adverts are sent from (RFC 9568 §5.1.1.1, §5.1.2.1).
    pub primary: IpAddr,
    /// IPv4: the prefix length of `primary` on the interface, when known,
    /// so that the subnet's broadcast address is never taken for a peer.
    pub primary_prefix_len: Option<u8>,
    /// Every other interface it depends on: its macvlan's, its VIPs' devices.
    pub also_depends_on: Vec<u32>,
    /// The state of each `track_interface` now, by name.
    pub tracked_links: Vec<(String, bool)>,
    /// The value of each `track_file` now, by tracker name.
    pub tracked_files: Vec<(String, i64)>,
    /// Whether the configured source address is on the interface now
    /// (keepalived `track_src_ip`); true when it is not tracked.
    pub source_present: bool,
}

/// A change of one interface, from netlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Up (operationally).
    Up,
    /// Down.
    Down,
    /// Deleted.
    Removed,
}
