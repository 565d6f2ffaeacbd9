//! Typed errors. A refused request keeps the kernel's errno and its extended
//! acknowledgement (the message and the offending attribute), so "Numerical
//! result out of range" comes out as "... at attribute IFA_LABEL (label)".

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::label::LabelError;
use crate::prefix::PrefixError;

/// Everything that can go wrong in this crate.
///
/// `Display` describes this layer only; the cause (the kernel's errno and
/// extended ack, an I/O error) is the [`std::error::Error::source`]. Print
/// the whole chain, as the `vip` binary does, to show both.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a request; `operation` says what was asked.
    #[error("{operation}")]
    Kernel {
        /// What was asked, e.g. `add 198.18.0.5/24 on veth0 (index 3)`.
        operation: String,
        /// The errno and extended acknowledgement.
        #[source]
        source: KernelError,
    },
    /// A socket call failed.
    #[error("netlink socket: {context}")]
    Io {
        /// Which call failed.
        context: &'static str,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// A reply or notification from the kernel could not be decoded.
    #[error("malformed netlink message ({context}): {detail}")]
    Malformed {
        /// What was being decoded.
        context: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// A dump kept being interrupted by concurrent changes (NLM_F_DUMP_INTR)
    /// and never came back consistent.
    #[error("{what} dump was interrupted by concurrent changes {attempts} times in a row")]
    DumpInterrupted {
        /// What was dumped.
        what: &'static str,
        /// How many times it was tried.
        attempts: u32,
    },
    /// No interface has this name or index.
    #[error("no such interface: {0}")]
    NoSuchInterface(String),
    /// A change of a pipelined batch got no answer (its ack was lost or
    /// the reply could not be read): whether the kernel made it is
    /// unknown.
    #[error("no answer to a change of a netlink batch: {0}")]
    Unanswered(&'static str),
    /// An interface name the kernel would refuse.
    #[error("invalid interface name {name:?}: {reason}")]
    InvalidInterfaceName {
        /// The name given.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// An address label the kernel would refuse.
    #[error(transparent)]
    InvalidLabel(#[from] LabelError),
    /// An address with a prefix length that does not parse.
    #[error(transparent)]
    InvalidPrefix(#[from] PrefixError),
    /// A combination of address settings that makes no sense, such as a
    /// broadcast address on IPv6 or `nodad` on IPv4.
    #[error("invalid address request for {prefix}: {reason}")]
    InvalidAddressSpec {
        /// The address concerned.
        prefix: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A route or rule the kernel would refuse or misread, such as a
    /// destination with host bits set or a gateway of the other family.
    #[error("invalid {what}: {reason}")]
    InvalidRouteSpec {
        /// The route or rule concerned.
        what: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A link of that name exists but is not the one asked for.
    #[error("interface {name} already exists and differs: {detail}")]
    LinkExists {
        /// The interface name.
        name: String,
        /// How it differs.
        detail: String,
    },
    /// The ownership ledger could not be read, parsed or written.
    #[error("address ledger {}: {detail}", path.display())]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
        /// The underlying I/O error, if any.
        #[source]
        source: Option<io::Error>,
    },
    /// A `/proc/sys` knob could not be read or written.
    #[error("sysctl {}: {detail}", path.display())]
    Sysctl {
        /// The `/proc/sys/...` file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
        /// The underlying I/O error, if any.
        #[source]
        source: Option<io::Error>,
    },
}

impl Error {
    /// The kernel errno (positive, e.g. `libc::EEXIST`) if the kernel refused
    /// the request or a socket call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { source, .. } => Some(source.errno),
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    pub(crate) fn io(context: &'static str, source: io::Error) -> Error {
        Error::Io { context, source }
    }

    pub(crate) fn malformed(context: &'static str, detail: impl fmt::Display) -> Error {
        Error::Malformed {
            context,
            detail: detail.to_string(),
        }
    }
}

/// A negative acknowledgement from the kernel: the errno plus what the
/// extended acknowledgement (`NETLINK_EXT_ACK`) said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The errno, positive (`libc::ERANGE` is 34).
    pub errno: i32,
    /// The kernel's own message (`NLMSGERR_ATTR_MSG`), e.g.
    /// "ipv4: Address already assigned".
    pub message: Option<String>,
    /// The attribute the kernel pointed at (`NLMSGERR_ATTR_OFFS`), named
    /// from the request we sent, e.g. "IFA_LABEL (label)".
    pub attribute: Option<String>,
    /// An attribute the kernel said was missing (`NLMSGERR_ATTR_MISS_TYPE`).
    pub missing_attribute: Option<u32>,
    /// The limits of the policy the attribute failed (`NLMSGERR_ATTR_POLICY`),
    /// e.g. "max length 15".
    pub policy: Option<String>,
}

impl KernelError {
    /// A bare errno without extended acknowledgement.
    pub fn from_errno(errno: i32) -> KernelError {
        KernelError {
            errno,
            message: None,
            attribute: None,
            missing_attribute: None,
            policy: None,
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", io::Error::from_raw_os_error(self.errno))?;
        if let Some(msg) = &self.message {
            write!(f, "; kernel says: {msg:?}")?;
        }
        if let Some(attr) = &self.attribute {
            write!(f, "; at attribute {attr}")?;
        }
        if let Some(policy) = &self.policy {
            write!(f, " ({policy})")?;
        }
        if let Some(missing) = self.missing_attribute {
            write!(f, "; missing attribute type {missing}")?;
        }
        Ok(())
    }
}

impl std::error::Error for KernelError {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
