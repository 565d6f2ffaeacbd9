//! Secondary and alias IP addresses, link state and events, and macvlan
//! virtual-MAC interfaces, over rtnetlink.
//!
//! The seed use case: give a NIC an extra IP without a new NIC — a
//! secondary address (`ip addr add 198.18.0.5/24 dev eth0`) or an alias
//! with a label (`... label eth0:1`, what `ifconfig eth0:1` shows) — list
//! it, remove it, and know when the link goes up or down.
//!
//! - [`Handle`]: one blocking rtnetlink socket. Resolve interfaces
//!   ([`Handle::link_by_name`]), add, replace, delete and list addresses
//!   (idempotently: [`AddOutcome`], [`DeleteOutcome`]), create macvlans.
//! - [`EventStream`]: link up/down and address added/removed notifications,
//!   with an fd for an event loop.
//! - [`AddressLedger`]: which addresses this process added, on disk, so
//!   cleanup removes exactly those.
//! - [`RouteSpec`], [`RuleSpec`] and [`RoutingLedger`]: routes and policy
//!   rules, added and deleted idempotently, and which of them we added.
//! - [`sysctl`]: the per-interface settings a virtual-MAC interface needs.
//!
//! Nothing here is async and nothing of `netlink-packet-route` shows in the
//! API. Errors keep the kernel's errno and extended acknowledgement
//! ([`KernelError`]).
//!
//! Kernel facts this crate is built around:
//! - An address label is at most 15 bytes ([`Label::MAX_LEN`]); the kernel
//!   answers a longer one with `ERANGE`. [`Label::new`] refuses it first.
//! - IPv4 requests carry the address in both `IFA_LOCAL` and `IFA_ADDRESS`.
//! - `RTM_GETADDR` dumps are filtered by interface only on sockets with
//!   strict checking; [`Handle::addresses`] filters the result itself too.
//! - Deleting the primary IPv4 address of a subnet deletes its secondaries
//!   unless `promote_secondaries` is on ([`sysctl::enable_promote_secondaries`]).
//! - Handles and event streams live in the network namespace of the thread
//!   that opens them.
//!
//! ```no_run
//! use vrrp_netaddr::{AddressSpec, Handle, Label};
//!
//! let mut handle = Handle::new()?;
//! let eth0 = handle.link_by_name("eth0")?;
//! let spec = AddressSpec::new(eth0.index, "198.18.0.5/24".parse()?)
//!     .with_label(Label::new("eth0:1")?);
//! println!("{:?}", handle.add_address(&spec)?); // Added, or AlreadyPresent
//! for addr in handle.addresses(Some(eth0.index))? {
//!     println!("{} {:?}", addr.prefix, addr.label);
//! }
//! handle.delete_address(eth0.index, spec.prefix)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ack;
mod address;
mod error;
mod events;
mod handle;
mod label;
mod ledger;
mod link;
mod macvlan;
mod macvlan_mode;
mod prefix;
mod route;
mod route_kind;
mod routing;
mod rule;
mod socket;
pub mod sysctl;
mod tlv;

#[cfg(test)]
mod captured;

pub use address::{AddressFlags, AddressInfo, AddressSpec, Scope, ScopeParseError};
pub use error::{Error, KernelError, Result};
pub use events::{Event, EventStream};
pub use handle::{AddOutcome, DeleteOutcome, Handle};
pub use label::{Label, LabelError};
pub use ledger::{
    AddressLedger, Claim, CleanupReport, JOURNAL_FILE, LEDGER_FILE, LedgerEntry, PROGRESS_EVERY,
    ROUTING_LEDGER_FILE, Release, Routing, RoutingEntry, RoutingLedger,
};
pub use link::{IfIndex, Link, LinkFlags, MAX_IFNAME_LEN, OperState, validate_ifname};
pub use macvlan::MacvlanSpec;
pub use macvlan_mode::{MacvlanMode, MacvlanModeParseError};
pub use prefix::{Family, IpPrefix, PrefixError};
pub use route::{PROTOCOL_KEEPALIVED, RouteSpec, TABLE_MAIN};
pub use route_kind::{RouteKind, RouteKindParseError, RouteMetricKind, RouteMetricValue};
pub use rule::{Range, RuleAction, RuleSpec};
pub use vrrp_core::{MacAddr, ParseMacError};
