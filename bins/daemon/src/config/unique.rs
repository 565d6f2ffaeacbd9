//! What must be unique across instances: their names, and each
//! (interface, VRID, family), checked in linear time with a bounded
//! report.

use std::collections::HashMap;
use std::net::IpAddr;

use super::diagnostics::Sink;
use super::locations::{Field, Locations};
use super::model::{AddressFamily, Config, Vrid};

pub(super) fn check_unique_instances(config: &Config, locs: &Locations, sink: &mut Sink) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, inst) in config.instances.iter().enumerate() {
        if let Some(&first) = names.get(inst.name.as_str()) {
            let p = locs.instance(first).field(Field::Name);
            sink.error(
                locs.instance(i).field(Field::Name),
                format!("duplicate instance name `{}`", inst.name),
                Some(format!("first defined at line {}", p.line)),
            );
        } else {
            names.insert(&inst.name, i);
        }
    }
    check_shared_vrids(config, locs, sink);
}

/// At most this many "both use VRID" errors are listed one by one; the
/// rest are counted in one more ("and 2,997 more").
const SHARED_VRID_ERRORS_LISTED: usize = 20;

/// Each (interface, VRID, family) belongs to one instance, except that
/// keepalived allows a shared VRID when the instances use unicast with
/// disjoint peers. Linear: each instance is compared with the first
/// earlier one it clashes with, found through an index, and each clash is
/// reported once.
fn check_shared_vrids(config: &Config, locs: &Locations, sink: &mut Sink) {
    /// The instances seen so far on one (interface, VRID, family).
    #[derive(Default)]
    struct Seen {
        /// The first multicast instance.
        multicast: Option<usize>,
        /// The first instance, of either kind.
        first: Option<usize>,
        /// Each unicast peer, with the first instance that lists it.
        peers: HashMap<IpAddr, usize>,
    }
    let mut seen: HashMap<(&str, Vrid, AddressFamily), Seen> = HashMap::new();
    let mut clashes = 0usize;
    for (i, a) in config.instances.iter().enumerate() {
        let entry = seen
            .entry((a.interface.as_str(), a.vrid, a.family()))
            .or_default();
        let clash = if a.is_unicast() {
            entry.multicast.or_else(|| {
                a.unicast_peers
                    .iter()
                    .find_map(|p| entry.peers.get(p).copied())
            })
        } else {
            entry.first
        };
        entry.first.get_or_insert(i);
        if a.is_unicast() {
            for p in &a.unicast_peers {
                entry.peers.entry(*p).or_insert(i);
            }
        } else {
            entry.multicast.get_or_insert(i);
        }
        let Some(b) = clash.map(|b| &config.instances[b]) else {
            continue;
        };
        clashes += 1;
        if clashes > SHARED_VRID_ERRORS_LISTED {
            continue;
        }
        sink.error(
            locs.instance(i).field(Field::Vrid),
            format!(
                "instances `{}` and `{}` both use VRID {} for {} on `{}`",
                b.name,
                a.name,
                a.vrid,
                a.family(),
                a.interface
            ),
            Some("each (interface, VRID, family) must be unique unless the instances use disjoint unicast peers".into()),
        );
    }
    if clashes > SHARED_VRID_ERRORS_LISTED {
        let last = config.instances.len().saturating_sub(1);
        sink.error(
            locs.instance(last).header,
            format!(
                "and {} more instances share an (interface, VRID, family) with an earlier one",
                clashes - SHARED_VRID_ERRORS_LISTED
            ),
            None,
        );
    }
}
