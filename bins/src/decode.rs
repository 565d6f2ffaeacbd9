//! Decoding advertisements for `vrrpctl decode`.
