//! The command lines of the four binaries, as clap definitions.
//!
//! The binaries parse them; `examples/gen-assets.rs` renders the man pages
//! and shell completions of the Debian package from the same definitions,
//! so they cannot drift apart.

use clap::CommandFactory;

pub mod garp;
pub mod vip;
pub mod vrrpctl;
pub mod vrrpd;

/// The git revision the binaries were built from: a short hash, with
/// `-dirty` when tracked files differed from it (as of the last commit,
/// checkout or `git add`), or `unknown` when they were not built in a git
/// checkout (from a crates.io package, say). Set by `build.rs`.
pub const GIT_REVISION: &str = env!("VRRPD_GIT_REVISION");

/// The cargo profile the binaries were built with (`release`, `ci`,
/// `dev`...). Set by `build.rs`.
pub const BUILD_PROFILE: &str = env!("VRRPD_BUILD_PROFILE");

/// What every binary prints after its name for `--version` and `-V`:
/// `0.1.0 (rev 1a2b3c4d, profile release)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rev ",
    env!("VRRPD_GIT_REVISION"),
    ", profile ",
    env!("VRRPD_BUILD_PROFILE"),
    ")"
);

/// The clap command of each binary, named as it is installed: `vrrpd`,
/// `vrrpctl`, `vip` and `garp`.
pub fn commands() -> [clap::Command; 4] {
    [
        vrrpd::Cli::command(),
        vrrpctl::Cli::command(),
        vip::Cli::command(),
        garp::Cli::command(),
    ]
}
