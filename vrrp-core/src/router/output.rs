//! What a virtual router asks its driver to do ([`Output`]).

use std::net::IpAddr;

use super::State;
use crate::Priority;

/// One action for the driver, drained with
/// [`poll_output`](super::VirtualRouter::poll_output) after every input.
///
/// The queue is ordered and the order matters. On becoming Active:
/// [`SendAdvertisement`](Output::SendAdvertisement), then
/// [`InstallAddresses`](Output::InstallAddresses), then
/// [`Announce`](Output::Announce), then
/// [`StateChanged`](Output::StateChanged) (RFC 9568 §6.4.2). On leaving
/// Active: the priority-0 advertisement if any, then
/// [`RemoveAddresses`](Output::RemoveAddresses), then the state change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Add the virtual addresses to the interface.
    InstallAddresses,
    /// Send this advertisement.
    SendAdvertisement(Transmit),
    /// Announce the virtual addresses: gratuitous ARP for IPv4, unsolicited
    /// Neighbor Advertisements for IPv6 (RFC 9568 §6.4.2). Repeats and
    /// refreshes follow the driver's announcement policy.
    Announce,
    /// Remove the virtual addresses from the interface.
    RemoveAddresses,
    /// An Active router heard an advertisement of lower priority: another
    /// router believes it is Active (after a partition, say). keepalived
    /// then announces its addresses again (`garp_lower_prio_repeat`) and
    /// runs `notify_master_rx_lower_pri`. At most one per tenth of the
    /// advertisement interval, however many arrive.
    LowerPriorityHeard {
        /// Its source.
        from: std::net::IpAddr,
        /// Its priority.
        priority: crate::Priority,
    },
    /// A unicast peer's advert carried keepalived ≤ 1.3.6's checksum
    /// (the multicast group in the pseudo-header) and
    /// [`UnicastChecksum::DetectLegacy`](super::UnicastChecksum::DetectLegacy)
    /// is set: from now on this router sums its own adverts that way too.
    /// Reported once.
    LegacyChecksumAdopted {
        /// The peer whose advert showed it.
        from: IpAddr,
    },
    /// The state changed.
    StateChanged {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// Why.
        reason: Reason,
    },
}

/// An advertisement ready to send: the VRRP message with its checksum, to be
/// sent in an IP packet from `src` to `dst` with TTL (hop limit) 255.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The source address the checksum was computed with: the router's
    /// primary address.
    pub src: IpAddr,
    /// The multicast group (224.0.0.18 or ff02::12) or a unicast peer.
    pub dst: IpAddr,
    /// The priority carried; [`Priority::SHUTDOWN`] when leaving.
    pub priority: Priority,
    /// The VRRP message, checksum included.
    pub payload: Vec<u8>,
}

/// Why a state changed, as logs and `vrrpctl` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Start-up of a non-owner: Backup first (RFC 9568 §6.4.1).
    Startup,
    /// Start-up of the address owner, priority 255: Active at once.
    Owner,
    /// No advertisement from an Active router for Master_Down_Interval, or
    /// Skew_Time after a priority-0 release (RFC 9568 §6.4.2).
    MasterDown,
    /// An advertisement with a higher priority arrived (RFC 9568 §6.4.3).
    HigherPriority {
        /// The sender.
        from: IpAddr,
        /// Its priority.
        priority: Priority,
    },
    /// An advertisement with the same priority from a higher primary address
    /// arrived (RFC 9568 §6.4.3).
    HigherAddress {
        /// The sender.
        from: IpAddr,
    },
    /// [`shutdown`](super::VirtualRouter::shutdown) was called.
    Shutdown,
    /// The interface went down.
    LinkDown,
    /// A fault was raised by a tracker or the driver.
    Fault,
    /// The virtual addresses could not be installed.
    AddressFailure,
    /// Another member of the sync group failed.
    SyncGroupFault,
    /// Every fault cleared.
    Recovered,
    /// The sync group moved this member with another one.
    SyncGroup,
}

impl Reason {
    /// A stable snake_case name for logs, JSON and notify scripts.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Startup => "startup",
            Reason::Owner => "owner",
            Reason::MasterDown => "master_down",
            Reason::HigherPriority { .. } => "higher_priority",
            Reason::HigherAddress { .. } => "higher_address",
            Reason::Shutdown => "shutdown",
            Reason::LinkDown => "link_down",
            Reason::Fault => "fault",
            Reason::AddressFailure => "address_failure",
            Reason::SyncGroupFault => "sync_group_fault",
            Reason::Recovered => "recovered",
            Reason::SyncGroup => "sync_group",
        }
    }
}
