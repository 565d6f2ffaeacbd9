//! Configuration: the native TOML format and keepalived.conf.
