//! Fuzzes the keepalived.conf front-end,
//! `vrrpd::config::check_keepalived_str`: the lexer (comments, quoting,
//! `@ID` conditionals, `$VAR` definitions), the block parser, the keyword
//! mapping and validation. Includes are not followed, so the target never
//! reads the file system.
//!
//! Property: any bytes (read lossily as UTF-8, like `load_keepalived`)
//! yield `Ok` or diagnostics without panicking, and an accepted
//! configuration converts to native TOML that the native front-end
//! accepts. The corpus is replayed by `bins/daemon/tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../../bins/daemon/tests/support/config_oracle.rs"]
mod config_oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| config_oracle::keepalived(data));
