//! `keepalived.stats` (SIGUSR2): the counters of each instance.

use std::fmt::Write as _;

use super::DumpInstance;
use super::format::KaCounters;

/// The text of `keepalived.stats`: one block per instance, in the order
/// given (configuration order), exactly as keepalived 2.2.7 prints it
/// (built with VRRP authentication, so `Type Mismatch` and `Failure` are
/// there). See `KaCounters::of` for how vrrpd's counters map onto
/// keepalived's.
pub fn stats(instances: &[DumpInstance]) -> String {
    let mut out = String::new();
    for inst in instances {
        let c = KaCounters::of(&inst.status, &inst.stats);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "VRRP Instance: {name}\n\
             \x20 Advertisements:\n\
             \x20   Received: {advert_rcvd}\n\
             \x20   Sent: {advert_sent}\n\
             \x20 Became master: {become_master}\n\
             \x20 Released master: {release_master}\n\
             \x20 Packet Errors:\n\
             \x20   Length: {packet_len_err}\n\
             \x20   TTL: {ip_ttl_err}\n\
             \x20   Invalid Type: {invalid_type_rcvd}\n\
             \x20   Advertisement Interval: {advert_interval_err}\n\
             \x20   Address List: {addr_list_err}\n\
             \x20 Authentication Errors:\n\
             \x20   Invalid Type: {invalid_authtype}\n\
             \x20   Type Mismatch: {authtype_mismatch}\n\
             \x20   Failure: {auth_failure}\n\
             \x20 Priority Zero:\n\
             \x20   Received: {pri_zero_rcvd}\n\
             \x20   Sent: {pri_zero_sent}\n",
            name = inst.config.name,
            advert_rcvd = c.advert_rcvd,
            advert_sent = c.advert_sent,
            become_master = c.become_master,
            release_master = c.release_master,
            packet_len_err = c.packet_len_err,
            ip_ttl_err = c.ip_ttl_err,
            invalid_type_rcvd = c.invalid_type_rcvd,
            advert_interval_err = c.advert_interval_err,
            addr_list_err = c.addr_list_err,
            invalid_authtype = c.invalid_authtype,
            authtype_mismatch = c.authtype_mismatch,
            auth_failure = c.auth_failure,
            pri_zero_rcvd = c.pri_zero_rcvd,
            pri_zero_sent = c.pri_zero_sent,
        );
    }
    out
}
