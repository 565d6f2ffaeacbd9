//! Fuzzes vrrpd's native TOML configuration front-end,
//! `vrrpd::config::check_native_str`: lexing, mapping and validation.
//!
//! Property: any text, valid or not, yields `Ok` or a list of diagnostics
//! without panicking, and a configuration that is accepted converts back
//! to native TOML that is accepted again. Input that is not UTF-8 is read
//! lossily, as a configuration file would be by a text editor. The corpus
//! is replayed by `bins/daemon/tests/fuzz_corpus.rs` in a normal `cargo test`.
#![no_main]

#[path = "../../bins/daemon/tests/support/config_oracle.rs"]
mod config_oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| config_oracle::native(data));
