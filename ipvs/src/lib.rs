//! IPVS, the kernel's layer-4 load balancer (Linux Virtual Server), over
//! generic netlink: what `ipvsadm` does, as a library.
//!
//! - [`Handle`]: add, edit, delete, get and list virtual services
//!   ([`Service`], keyed by [`ServiceKey`]) and their real servers
//!   ([`Destination`]: NAT, DR or a tunnel with [`TunnelKind`]), read
//!   their counters ([`Stats`]), run the connection sync daemon
//!   ([`SyncDaemon`]) and set the connection timeouts.
//! - [`IpvsLedger`]: which services and real servers this process added,
//!   on disk, so that a stop or the start after a crash removes exactly
//!   those and never a service added with `ipvsadm`.
//!
//! Nothing here is async, and nothing of the netlink crates shows in the
//! API. The kernel's refusals keep their errno and extended ack
//! ([`KernelError`]). IPVS state belongs to a network namespace: a
//! [`Handle`] works in the namespace of the thread that opened it.
//!
//! ```no_run
//! use vrrp_ipvs::{Destination, Forwarding, Handle, Scheduler, Service, ServiceKey};
//!
//! let mut ipvs = Handle::new()?; // Error::NotAvailable without ip_vs
//! let key = ServiceKey::tcp("198.18.0.10:80".parse()?);
//! ipvs.add_service(&Service::new(key, Scheduler::Wlc))?;
//! let real = Destination::new("198.18.1.2:80".parse()?, Forwarding::Masquerade)
//!     .with_weight(3);
//! ipvs.add_destination(&key, &real)?;
//! for d in ipvs.destinations(&key)? {
//!     println!("{} weight {}", d.destination.addr, d.destination.weight);
//! }
//! ipvs.delete_service(&key)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attr;
mod constants;
mod destination;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod handle;
mod ledger;
mod message;
mod service;
mod socket;
mod stats;
mod sync_daemon;

pub use destination::{
    Destination, DestinationInfo, Forwarding, MAX_WEIGHT, TunnelChecksum, TunnelKind,
};
pub use error::{Error, KernelError, Result};
pub use handle::{Handle, Info, Timeouts};
pub use ledger::{AddOutcome, ClearReport, IpvsLedger, LEDGER_FILE, Release};
pub use service::{
    Family, Persistence, Protocol, Scheduler, Service, ServiceFlags, ServiceInfo, ServiceKey,
};
pub use stats::Stats;
pub use sync_daemon::{SyncDaemon, SyncRole};
