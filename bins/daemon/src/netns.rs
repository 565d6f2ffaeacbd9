//! keepalived's `net_namespace NAME`: the daemon runs inside the network
//! namespace that `ip netns add NAME` made (the file `/run/netns/NAME`).
//!
//! A namespace belongs to a thread: [`enter`] must run on the main thread
//! before any other thread starts, so that every later thread, socket and
//! script is inside it. The `vrrpd` binary does so right after reading the
//! configuration, and exits if it cannot: running in the namespace it was
//! started in instead would put the VIPs on the wrong host.

use std::fs::File;
use std::path::PathBuf;

/// Where `ip netns` keeps its namespaces.
pub const NETNS_DIR: &str = "/run/netns";

/// Why the namespace cannot be entered.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// The name is empty, `.`/`..`, longer than 255 bytes or contains `/`
    /// or NUL.
    #[error("net_namespace `{0}` is not a namespace name")]
    BadName(String),
    /// The namespace file cannot be opened (no such namespace, say).
    #[error("cannot open {path}: {source}")]
    Open {
        /// The namespace file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `setns(2)` refused (not a network namespace, no CAP_SYS_ADMIN).
    #[error("cannot enter {path}: {source}")]
    Enter {
        /// The namespace file.
        path: PathBuf,
        /// The error.
        source: nix::Error,
    },
}

/// Whether `name` can name a namespace file under [`NETNS_DIR`].
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
}

/// The file of namespace `name`.
pub fn path(name: &str) -> Result<PathBuf, NetnsError> {
    if !valid_name(name) {
        return Err(NetnsError::BadName(name.to_string()));
    }
    Ok(PathBuf::from(NETNS_DIR).join(name))
}

/// Moves the calling thread into network namespace `name` (see the
/// [module documentation](self) for when to call it).
pub fn enter(name: &str) -> Result<(), NetnsError> {
    let path = path(name)?;
    let file = File::open(&path).map_err(|source| NetnsError::Open {
        path: path.clone(),
        source,
    })?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|source| NetnsError::Enter { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_netns_directory() {
        assert_eq!(path("blue").unwrap(), PathBuf::from("/run/netns/blue"));
        for bad in ["", ".", "..", "a/b", "../etc", "a\0b"] {
            assert!(matches!(path(bad), Err(NetnsError::BadName(_))), "{bad:?}");
        }
        assert!(!valid_name(&"x".repeat(256)));
    }

    #[test]
    fn a_missing_namespace_is_an_open_error() {
        let err = enter("vrrpd-no-such-namespace-for-sure").unwrap_err();
        assert!(matches!(err, NetnsError::Open { .. }), "{err}");
    }
}
