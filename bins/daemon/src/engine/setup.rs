//! [`SetupError`]: why an instance could not be set up, and whether it can
//! wait for the host to change.

use std::error::Error;
use std::fmt;

/// Why an instance could not be set up: what was being done, whether the
/// instance can wait for the host (keepalived keeps such an instance in
/// FAULT), and the underlying error, if there is one.
#[derive(Debug)]
pub struct SetupError {
    what: String,
    waits: bool,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl SetupError {
    /// Something it needs on the host is not there (yet): its interface,
    /// an address to send from, a VIP's device, its socket. The instance
    /// waits and is tried again.
    pub(crate) fn waiting(
        what: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        SetupError {
            what: what.into(),
            waits: true,
            source: Some(source.into()),
        }
    }

    /// As [`waiting`](Self::waiting), where `what` says it all.
    pub(crate) fn waiting_for(what: impl Into<String>) -> Self {
        SetupError {
            what: what.into(),
            waits: true,
            source: None,
        }
    }

    /// The configuration itself cannot run.
    pub(crate) fn invalid(
        what: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        SetupError {
            what: what.into(),
            waits: false,
            source: Some(source.into()),
        }
    }

    /// As [`invalid`](Self::invalid), where `what` says it all.
    pub(crate) fn invalid_because(what: impl Into<String>) -> Self {
        SetupError {
            what: what.into(),
            waits: false,
            source: None,
        }
    }

    /// Whether the host may still provide what is missing, so the instance
    /// waits in Fault and is tried again; `false` when the configuration
    /// itself cannot run.
    pub fn waits(&self) -> bool {
        self.waits
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl Error for SetupError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_chains_the_source_and_source_is_typed() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such device");
        let e = SetupError::waiting("VRRP socket on eth9", io);
        assert!(e.waits());
        assert_eq!(e.to_string(), "VRRP socket on eth9: no such device");
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<std::io::Error>().is_some());

        let e = SetupError::invalid_because("VRID 0");
        assert!(!e.waits());
        assert_eq!(e.to_string(), "VRID 0");
        assert!(e.source().is_none());
    }
}
