//! The router priority carried in every advertisement.

use core::fmt;

/// A VRRP router priority (RFC 3768 §5.3.4, RFC 9568 §5.2.4).
///
/// Every byte is a valid priority on the wire, but two have a meaning of their
/// own: [`Priority::OWNER`] (255, the router owns the virtual addresses) and
/// [`Priority::SHUTDOWN`] (0, the Active router is leaving). Backups use
/// 1..=254. Higher wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    /// Priority 0: the Active router stops participating, so a Backup should
    /// take over after Skew_Time rather than Master_Down_Interval.
    pub const SHUTDOWN: Priority = Priority(0);
    /// Priority 255: the router owns the virtual addresses and becomes Active
    /// at start-up without waiting.
    pub const OWNER: Priority = Priority(255);
    /// The default priority of a Backup router, 100.
    pub const DEFAULT: Priority = Priority(100);

    /// The priority `value`.
    pub const fn new(value: u8) -> Self {
        Priority(value)
    }

    /// The priority as a number.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether this is [`Priority::OWNER`] (255).
    pub const fn is_owner(self) -> bool {
        self.0 == Self::OWNER.0
    }

    /// Whether this is [`Priority::SHUTDOWN`] (0).
    pub const fn is_shutdown(self) -> bool {
        self.0 == Self::SHUTDOWN.0
    }
}

impl Default for Priority {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl From<u8> for Priority {
    fn from(value: u8) -> Self {
        Priority(value)
    }
}

impl From<Priority> for u8 {
    fn from(priority: Priority) -> u8 {
        priority.0
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_priorities_and_predicates() {
        assert!(Priority::OWNER.is_owner() && !Priority::OWNER.is_shutdown());
        assert!(Priority::SHUTDOWN.is_shutdown() && !Priority::SHUTDOWN.is_owner());
        assert_eq!(Priority::default().get(), 100);
        for n in 1..=254u8 {
            let p = Priority::new(n);
            assert!(!p.is_owner() && !p.is_shutdown());
        }
        assert!(Priority::OWNER > Priority::new(254));
        assert!(Priority::SHUTDOWN < Priority::new(1));
    }
}
