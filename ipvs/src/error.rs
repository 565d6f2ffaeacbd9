//! Errors: the kernel's errno with its extended acknowledgement, malformed
//! replies, socket failures and the ledger's file.

use std::io;
use std::path::PathBuf;

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call on the netlink socket failed.
    #[error("{op}: {source}")]
    Io {
        /// The call.
        op: &'static str,
        /// Its error.
        source: io::Error,
    },
    /// The kernel has no "IPVS" generic netlink family: the `ip_vs`
    /// module is not loaded (`modprobe ip_vs`) or not built.
    #[error("IPVS is not available in this kernel (modprobe ip_vs)")]
    NotAvailable,
    /// The kernel refused a request.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// A reply could not be decoded.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The ledger's file could not be read or written.
    #[error("IPVS ledger {path}: {source}")]
    Ledger {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The ledger's file is not a ledger.
    #[error("IPVS ledger {path}: {detail}")]
    LedgerCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, source: io::Error) -> Self {
        Error::Io { op, source }
    }

    pub(crate) fn malformed(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            detail: detail.into(),
        }
    }

    /// The kernel's refusal, if this is one.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Error::Kernel(k) => Some(k),
            _ => None,
        }
    }
}

/// The kernel's answer to a request it refused: its errno and, when it
/// sent one, the extended acknowledgement's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{request}: {}{}", io::Error::from_raw_os_error(*.errno), .message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
pub struct KernelError {
    /// The request, as ipvsadm would name it ("add service", ...).
    pub request: &'static str,
    /// The errno (positive).
    pub errno: i32,
    /// `NLMSGERR_ATTR_MSG`, if the kernel sent one.
    pub message: Option<String>,
}

impl KernelError {
    /// The service or destination exists already (`EEXIST`).
    pub fn is_exists(&self) -> bool {
        self.errno == libc::EEXIST
    }

    /// No such service (`ESRCH`), destination or scheduler (`ENOENT`).
    pub fn is_not_found(&self) -> bool {
        self.errno == libc::ESRCH || self.errno == libc::ENOENT
    }

    /// The caller lacks `CAP_NET_ADMIN` (`EPERM`).
    pub fn is_permission(&self) -> bool {
        self.errno == libc::EPERM
    }
}
