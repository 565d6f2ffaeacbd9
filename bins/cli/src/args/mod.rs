//! The command lines of the four binaries, as clap definitions.
//!
//! The binaries parse them. They live in the library, not in the binaries,
//! so that man pages and shell completions can be rendered from the same
//! definitions.

pub mod garp;
pub mod vip;
pub mod vrrpctl;
pub mod vrrpd;
