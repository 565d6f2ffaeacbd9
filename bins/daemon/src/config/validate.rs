//! Semantic checks shared by both front-ends: everything that needs more
//! than one key, or more than one object, to decide.
//!
//! Value-level checks (a number in range, an address that parses) happen
//! in the front-ends, where the raw text is at hand; by the time a
//! [`Config`] reaches this module each value is well-formed on its own.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::diagnostics::{Pos, Sink};
use super::locations::{Dialect, Field, Item, Locations, ObjectLocs, TrackerKind};
use super::model::{
    AddressFamily, Config, InitialState, Instance, MAX_ADVERTISED_VIPS, SyncGroup, TrackRef,
    Tracking, Version, VirtualAddress,
};
use super::unique;

/// The kernel's interface name limit (IFNAMSIZ - 1), which also bounds
/// address labels.
pub(crate) const IFNAME_MAX: usize = 15;
/// VRRPv2 simple-text passwords are 8 bytes on the wire (RFC 2338 §5.3.10).
pub(crate) const AUTH_PASSWORD_MAX: usize = 8;
/// keepalived's `preempt_delay` limit.
pub(crate) const PREEMPT_DELAY_MAX: Duration = Duration::from_secs(1000);
/// Tracking weight range for interfaces, scripts and checks.
pub(crate) const WEIGHT_MAX: i32 = 253;
/// Tracking weight range for references to track files.
pub(crate) const FILE_REF_WEIGHT_MAX: i32 = 254;

/// Checks an advertisement interval against the version's range; returns
/// the message and hint on failure.
pub(crate) fn check_advert_interval(version: Version, d: Duration) -> Result<(), (String, String)> {
    let ms = d.as_micros() as f64 / 1000.0;
    match version {
        Version::V2 => {
            if d.subsec_nanos() != 0 {
                Err((
                    format!("VRRPv2 advertisement interval must be whole seconds, not {ms} ms"),
                    "use a whole number of seconds such as \"1s\", or version 3 for sub-second intervals".into(),
                ))
            } else if !(1..=255).contains(&d.as_secs()) {
                Err((
                    format!(
                        "VRRPv2 advertisement interval {} s is outside 1..=255 s",
                        d.as_secs()
                    ),
                    "the VRRPv2 Adver Int field is 8 bits of seconds (RFC 3768 §5.3.7)".into(),
                ))
            } else {
                Ok(())
            }
        }
        Version::V3 => {
            if d < Duration::from_millis(10) || d > Duration::from_millis(40_950) {
                Err((
                    format!("VRRPv3 advertisement interval {ms} ms is outside 10 ms..=40.95 s"),
                    "the VRRPv3 Max Adver Int field is 12 bits of centiseconds (RFC 9568 §5.2.7)"
                        .into(),
                ))
            } else if d.as_micros() % 10_000 != 0 {
                Err((
                    format!("VRRPv3 advertisement interval {ms} ms is not a multiple of 10 ms"),
                    "VRRPv3 counts the interval in centiseconds (RFC 9568 §5.2.7)".into(),
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// Runs every cross-field and cross-object check.
pub(crate) fn validate(config: &Config, locs: &Locations, sink: &mut Sink) {
    for (i, inst) in config.instances.iter().enumerate() {
        let l = locs.instance(i);
        check_instance(inst, &l, locs.dialect, sink);
        check_tracking(config, &inst.tracking, &l, locs.dialect, sink);
        if inst.priority.is_owner() && has_weights(config, &inst.tracking) {
            sink.warn(
                l.field(Field::Priority),
                format!(
                    "instance `{}` is the address owner (priority 255); tracking weights never change its priority",
                    inst.name
                ),
                Some("use weight 0 (Fault on failure) or a priority below 255".into()),
            );
        }
    }
    unique::check_unique_instances(config, locs, sink);
    check_groups(config, locs, sink);
    check_unused_trackers(config, locs, sink);
}

fn check_instance(inst: &Instance, l: &ObjectLocs, dialect: Dialect, sink: &mut Sink) {
    check_ifname(
        &inst.interface,
        l.field(Field::Interface),
        "interface",
        sink,
    );
    if inst.vips.is_empty() {
        // keepalived 2.2.7 runs a VRRPv2/IPv4 instance without addresses
        // (clouds move a floating IP from a notify script); RFC 9568 §5.2.5
        // requires one for VRRPv3.
        if inst.version == Version::V2 {
            sink.warn(
                l.field(Field::Vips),
                format!(
                    "instance `{}` has no virtual address: it runs and advertises none (count 0), as keepalived does for VRRPv2",
                    inst.name
                ),
                Some("its notify hooks can move a floating address".into()),
            );
        } else {
            sink.error(
                l.field(Field::Vips),
                format!(
                    "instance `{}` has no virtual address, which VRRPv3 requires (RFC 9568 §5.2.5; keepalived refuses it too)",
                    inst.name
                ),
                Some(format!(
                    "add at least one address to `{}`, or use version 2",
                    Field::Vips.key(dialect)
                )),
            );
            return;
        }
    }
    if inst.vips.len() > MAX_ADVERTISED_VIPS {
        sink.warn(
            l.field(Field::Vips),
            format!(
                "instance `{}` has {} virtual addresses: the first {MAX_ADVERTISED_VIPS} are advertised, the other {} are installed but not advertised, as keepalived moves the excess to the excluded addresses",
                inst.name,
                inst.vips.len(),
                inst.vips.len() - MAX_ADVERTISED_VIPS
            ),
            Some(format!(
                "an advertisement carries at most {MAX_ADVERTISED_VIPS} addresses (a one-byte count); put the rest in `{}`",
                if dialect == Dialect::Native {
                    "excluded_vips"
                } else {
                    "virtual_ipaddress_excluded"
                }
            )),
        );
    }
    let family = inst.family();
    for (j, vip) in inst.vips.iter().enumerate() {
        if vip.family() != family {
            sink.error(
                l.item(Item::Vip(j)),
                format!(
                    "{} address {} in an {family} instance: all advertised addresses must share one family",
                    vip.family(),
                    vip.address
                ),
                Some("move it to another instance, or to the excluded (not advertised) addresses".into()),
            );
        }
    }
    if family == AddressFamily::Ipv6 && inst.version == Version::V2 {
        sink.error(
            l.field(Field::Version),
            format!(
                "instance `{}` has IPv6 addresses but uses VRRPv2, which is IPv4 only",
                inst.name
            ),
            Some("use version 3 (RFC 9568) for IPv6".into()),
        );
    }
    if let Err((msg, hint)) = check_advert_interval(inst.version, inst.advert_interval) {
        sink.error(l.field(Field::AdvertInterval), msg, Some(hint));
    }
    if inst.preempt_delay > PREEMPT_DELAY_MAX {
        sink.error(
            l.field(Field::PreemptDelay),
            format!(
                "preempt delay {:?} is longer than 1000 s",
                inst.preempt_delay
            ),
            None,
        );
    }
    if !inst.preempt && inst.initial_state == InitialState::Active {
        sink.error(
            l.field(Field::Preempt),
            "preemption cannot be disabled for an instance that starts as Active",
            Some(match dialect {
                Dialect::Native => {
                    "set initial_state = \"backup\" to keep a lower-priority Active in place".into()
                }
                Dialect::Keepalived => "use `state BACKUP` with nopreempt".into(),
            }),
        );
    }
    let all_vips = inst
        .vips
        .iter()
        .enumerate()
        .map(|(j, v)| (v, Item::Vip(j)))
        .chain(
            inst.excluded_vips
                .iter()
                .enumerate()
                .map(|(j, v)| (v, Item::ExcludedVip(j))),
        );
    for (vip, item) in all_vips {
        let pos = l.item(item);
        let dev = vip.device.as_deref().unwrap_or(&inst.interface);
        if let Some(d) = &vip.device {
            check_ifname(d, pos, "device", sink);
        }
        if let Some(label) = &vip.label {
            check_label(label, dev, vip, pos, sink);
        }
    }
    if let Some(src) = &inst.source_address {
        if AddressFamily::of(*src) != family {
            sink.error(
                l.field(Field::SourceAddress),
                format!(
                    "source address {src} is {} but the instance is {family}",
                    AddressFamily::of(*src)
                ),
                None,
            );
        }
    }
    let mut seen_peers = HashSet::new();
    for (j, peer) in inst.unicast_peers.iter().enumerate() {
        if AddressFamily::of(*peer) != family {
            sink.error(
                l.item(Item::Peer(j)),
                format!(
                    "unicast peer {peer} is {} but the instance is {family}",
                    AddressFamily::of(*peer)
                ),
                Some("unicast peers must have the family of the virtual addresses".into()),
            );
        }
        if !seen_peers.insert(*peer) {
            sink.warn(
                l.item(Item::Peer(j)),
                format!("unicast peer {peer} is listed twice"),
                None,
            );
        }
    }
    if let Some(pw) = &inst.auth_password {
        if inst.version == Version::V3 {
            sink.error(
                l.field(Field::Auth),
                "authentication is VRRPv2 only; RFC 9568 removed it from VRRPv3",
                Some("remove the password, or use version 2".into()),
            );
        }
        if pw.is_empty() || pw.len() > AUTH_PASSWORD_MAX {
            sink.error(
                l.field(Field::Auth),
                format!(
                    "authentication password is {} bytes; it must be 1..=8 bytes",
                    pw.len()
                ),
                Some("the VRRPv2 authentication data field is 8 bytes (RFC 2338 §5.3.10)".into()),
            );
        }
    }
    if let Some(name) = inst.vmac.as_ref().and_then(|v| v.name.as_ref()) {
        check_ifname(name, l.field(Field::Vmac), "virtual MAC interface", sink);
    }
    if let Some(group) = inst.multicast_group {
        if AddressFamily::of(group) != family {
            sink.error(
                l.header,
                format!("multicast group {group} is not of the instance's family ({family})"),
                None,
            );
        }
        if !inst.unicast_peers.is_empty() {
            sink.warn(
                l.header,
                "a multicast group has no effect on a unicast instance",
                None,
            );
        }
    }
    if inst.unicast_ttl.is_some() && inst.unicast_peers.is_empty() {
        sink.warn(
            l.header,
            "`unicast_ttl` has no effect without unicast peers (keepalived resets it)",
            None,
        );
    }
}

/// Checks an address label: length (error) and keepalived's
/// `<interface>:<anything>` convention (warning).
fn check_label(label: &str, dev: &str, vip: &VirtualAddress, pos: Pos, sink: &mut Sink) {
    if label.len() > IFNAME_MAX {
        sink.error(
            pos,
            format!(
                "label `{label}` is {} bytes; the kernel allows at most {IFNAME_MAX}",
                label.len()
            ),
            Some(format!("use a short label such as `{dev}:1`")),
        );
    } else if vip.family() == AddressFamily::Ipv6 {
        sink.warn(
            pos,
            format!(
                "label `{label}` on IPv6 address {}: the kernel has no IPv6 labels",
                vip.address
            ),
            None,
        );
    } else if !label.starts_with(dev) {
        sink.warn(
            pos,
            format!("label `{label}` does not start with the interface name `{dev}`"),
            Some(format!(
                "by convention labels are `<interface>:<anything>`, e.g. `{dev}:1`"
            )),
        );
    }
}

/// Errors for an interface name the kernel would refuse.
fn check_ifname(name: &str, pos: Pos, what: &str, sink: &mut Sink) {
    if name.is_empty()
        || name.len() > IFNAME_MAX
        || name.contains(['/', ':'])
        || name.contains(char::is_whitespace)
    {
        sink.error(
            pos,
            format!("{what} name `{name}` is not a valid interface name"),
            Some(format!(
                "interface names are 1..={IFNAME_MAX} bytes without `/`, `:` or spaces"
            )),
        );
    }
}

/// Whether a reference of `kind` can point at `name`.
fn defined(config: &Config, kind: TrackerKind, name: &str) -> bool {
    match kind {
        TrackerKind::Script => config.track_script.contains_key(name),
        TrackerKind::Tcp => config.track_tcp.contains_key(name),
        TrackerKind::Http => config.track_http.contains_key(name),
        TrackerKind::File => config.track_file.contains_key(name),
        TrackerKind::Process => config.track_process.contains_key(name),
    }
}

/// The references in `tracking`, with their kind and item.
fn refs(tracking: &Tracking) -> impl Iterator<Item = (TrackerKind, Item, &TrackRef)> {
    fn tag(
        kind: TrackerKind,
        mk: fn(usize) -> Item,
        v: &[TrackRef],
    ) -> impl Iterator<Item = (TrackerKind, Item, &TrackRef)> {
        v.iter().enumerate().map(move |(j, r)| (kind, mk(j), r))
    }
    tag(TrackerKind::Script, Item::TrackScript, &tracking.scripts)
        .chain(tag(TrackerKind::Tcp, Item::TrackTcp, &tracking.tcp))
        .chain(tag(TrackerKind::Http, Item::TrackHttp, &tracking.http))
        .chain(tag(TrackerKind::File, Item::TrackFile, &tracking.files))
        .chain(tag(
            TrackerKind::Process,
            Item::TrackProcess,
            &tracking.processes,
        ))
}

/// The weight a reference ends up with: its own, or its tracker's.
fn effective_weight(config: &Config, kind: TrackerKind, r: &TrackRef) -> i32 {
    if let Some(w) = r.weight {
        return w.value;
    }
    match kind {
        TrackerKind::Script => config
            .track_script
            .get(&r.name)
            .map_or(0, |t| t.weight.value),
        TrackerKind::Tcp => config.track_tcp.get(&r.name).map_or(0, |t| t.weight.value),
        TrackerKind::Http => config.track_http.get(&r.name).map_or(0, |t| t.weight.value),
        TrackerKind::File => config.track_file.get(&r.name).map_or(0, |t| t.weight.value),
        TrackerKind::Process => config
            .track_process
            .get(&r.name)
            .map_or(0, |t| t.weight.value),
    }
}

/// Whether any tracker in `tracking` changes priority rather than forcing
/// Fault.
pub(crate) fn has_weights(config: &Config, tracking: &Tracking) -> bool {
    tracking.interfaces.iter().any(|t| t.weight.value != 0)
        || refs(tracking).any(|(kind, _, r)| effective_weight(config, kind, r) != 0)
}

fn check_tracking(
    config: &Config,
    tracking: &Tracking,
    l: &ObjectLocs,
    dialect: Dialect,
    sink: &mut Sink,
) {
    for (j, t) in tracking.interfaces.iter().enumerate() {
        let pos = l.item(Item::TrackInterface(j));
        check_ifname(&t.interface, pos, "tracked interface", sink);
        if t.weight.value.abs() > WEIGHT_MAX {
            sink.error(
                pos,
                format!("weight {} is outside -253..=253", t.weight.value),
                None,
            );
        }
    }
    for (kind, item, r) in refs(tracking) {
        let pos = l.item(item);
        if !defined(config, kind, &r.name) {
            let known: Vec<&str> = match kind {
                TrackerKind::Script => config.track_script.keys().map(String::as_str).collect(),
                TrackerKind::Tcp => config.track_tcp.keys().map(String::as_str).collect(),
                TrackerKind::Http => config.track_http.keys().map(String::as_str).collect(),
                TrackerKind::File => config.track_file.keys().map(String::as_str).collect(),
                TrackerKind::Process => config.track_process.keys().map(String::as_str).collect(),
            };
            let hint = if known.is_empty() {
                format!("define it with `{} {}`", kind.key(dialect), r.name)
            } else {
                format!(
                    "defined {} trackers: {}",
                    kind.key(dialect),
                    known.join(", ")
                )
            };
            sink.error(
                pos,
                format!("{} `{}` is not defined", kind.key(dialect), r.name),
                Some(hint),
            );
        }
        if let Some(w) = r.weight {
            let max = if kind == TrackerKind::File {
                FILE_REF_WEIGHT_MAX
            } else {
                WEIGHT_MAX
            };
            if w.value.abs() > max {
                sink.error(
                    pos,
                    format!("weight {} is outside -{max}..={max}", w.value),
                    None,
                );
            }
        }
    }
}

fn check_groups(config: &Config, locs: &Locations, sink: &mut Sink) {
    // Instances by name, so that checking the members stays linear.
    let index: HashMap<&str, usize> = config
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| (inst.name.as_str(), i))
        .collect();
    let mut names: HashSet<&str> = HashSet::new();
    let mut member_of: HashMap<&str, &str> = HashMap::new();
    for (g, group) in config.sync_groups.iter().enumerate() {
        let l = locs.group(g);
        if !names.insert(&group.name) {
            sink.error(
                l.field(Field::Name),
                format!("duplicate sync group name `{}`", group.name),
                None,
            );
        }
        if group.instances.is_empty() {
            sink.error(
                l.header,
                format!("sync group `{}` has no member", group.name),
                None,
            );
        } else if group.instances.len() == 1 {
            sink.warn(
                l.header,
                format!(
                    "sync group `{}` has a single member, so it synchronises nothing",
                    group.name
                ),
                None,
            );
        }
        for (j, member) in group.instances.iter().enumerate() {
            let pos = l.item(Item::Member(j));
            if !index.contains_key(member.as_str()) {
                sink.error(
                    pos,
                    format!(
                        "sync group `{}` names unknown instance `{member}`",
                        group.name
                    ),
                    None,
                );
            } else if let Some(other) = member_of.insert(member, &group.name) {
                sink.error(
                    pos,
                    format!("instance `{member}` is already in sync group `{other}`"),
                    Some("an instance belongs to at most one sync group".into()),
                );
            }
        }
        check_tracking(config, &group.tracking, &l, locs.dialect, sink);
        check_member_weights(config, &index, group, locs, sink);
    }
}

/// Weighted tracking on members lets their priorities drift apart, which
/// defeats the group; keepalived refuses it unless
/// `sync_group_tracking_weight` is set.
fn check_member_weights(
    config: &Config,
    index: &HashMap<&str, usize>,
    group: &SyncGroup,
    locs: &Locations,
    sink: &mut Sink,
) {
    if group.tracking_weight {
        return;
    }
    for member in &group.instances {
        let Some(&i) = index.get(member.as_str()) else {
            continue;
        };
        if has_weights(config, &config.instances[i].tracking) {
            sink.error(
                locs.instance(i).header,
                format!(
                    "instance `{member}` is in sync group `{}` but has weighted trackers, so members' priorities could diverge",
                    group.name
                ),
                Some(format!(
                    "use weight 0 (Fault on failure), track on the group instead, or set `{}` on the group",
                    Field::TrackingWeight.key(locs.dialect)
                )),
            );
        }
    }
}

fn check_unused_trackers(config: &Config, locs: &Locations, sink: &mut Sink) {
    let mut used: HashSet<(TrackerKind, &str)> = HashSet::new();
    let all = config
        .instances
        .iter()
        .map(|i| &i.tracking)
        .chain(config.sync_groups.iter().map(|g| &g.tracking));
    for t in all {
        for (kind, _, r) in refs(t) {
            used.insert((kind, r.name.as_str()));
        }
    }
    let defs = config
        .track_script
        .keys()
        .map(|k| (TrackerKind::Script, k))
        .chain(config.track_tcp.keys().map(|k| (TrackerKind::Tcp, k)))
        .chain(config.track_http.keys().map(|k| (TrackerKind::Http, k)))
        .chain(config.track_file.keys().map(|k| (TrackerKind::File, k)))
        .chain(
            config
                .track_process
                .keys()
                .map(|k| (TrackerKind::Process, k)),
        );
    for (kind, name) in defs {
        let dropped = || locs.dropped_refs.contains(&(kind, name.clone()));
        if !used.contains(&(kind, name.as_str())) && !dropped() {
            sink.warn(
                locs.tracker(kind, name),
                format!(
                    "{} `{name}` is defined but no instance or group tracks it",
                    kind.key(locs.dialect)
                ),
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_intervals() {
        assert!(check_advert_interval(Version::V2, Duration::from_secs(1)).is_ok());
        assert!(check_advert_interval(Version::V2, Duration::from_secs(255)).is_ok());
        assert!(check_advert_interval(Version::V2, Duration::from_millis(100)).is_err());
        assert!(check_advert_interval(Version::V2, Duration::from_millis(1500)).is_err());
        assert!(check_advert_interval(Version::V2, Duration::from_secs(256)).is_err());
        assert!(check_advert_interval(Version::V2, Duration::ZERO).is_err());
    }

    #[test]
    fn v3_intervals() {
        assert!(check_advert_interval(Version::V3, Duration::from_millis(10)).is_ok());
        assert!(check_advert_interval(Version::V3, Duration::from_millis(40_950)).is_ok());
        assert!(check_advert_interval(Version::V3, Duration::from_millis(100)).is_ok());
        assert!(check_advert_interval(Version::V3, Duration::from_millis(5)).is_err());
        assert!(check_advert_interval(Version::V3, Duration::from_millis(15)).is_err());
        assert!(check_advert_interval(Version::V3, Duration::from_millis(40_960)).is_err());
        assert!(check_advert_interval(Version::V3, Duration::ZERO).is_err());
    }
}
