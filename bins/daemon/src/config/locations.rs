//! Where each part of a [`Config`](super::Config) came from, so the shared
//! semantic checks can point at the offending key in either file format.

use std::collections::{HashMap, HashSet};

use super::diagnostics::Pos;

/// Which file format a configuration was read from; decides the key names
/// diagnostics mention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// vrrpd's TOML.
    Native,
    /// keepalived.conf.
    Keepalived,
}

/// A setting of an instance or sync group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Name,
    Interface,
    Vrid,
    Version,
    Priority,
    AdvertInterval,
    Preempt,
    PreemptDelay,
    InitialState,
    SourceAddress,
    Auth,
    Vmac,
    Vips,
    TrackingWeight,
}

impl Field {
    /// The key that sets this field in `dialect`.
    pub(crate) fn key(self, dialect: Dialect) -> &'static str {
        let native = dialect == Dialect::Native;
        match self {
            Field::Name => "name",
            Field::Interface => "interface",
            Field::Vrid if native => "vrid",
            Field::Vrid => "virtual_router_id",
            Field::Version => "version",
            Field::Priority => "priority",
            Field::AdvertInterval if native => "advert_interval",
            Field::AdvertInterval => "advert_int",
            Field::Preempt if native => "preempt",
            Field::Preempt => "nopreempt",
            Field::PreemptDelay => "preempt_delay",
            Field::InitialState if native => "initial_state",
            Field::InitialState => "state",
            Field::SourceAddress if native => "source_address",
            Field::SourceAddress => "unicast_src_ip",
            Field::Auth if native => "auth_password",
            Field::Auth => "authentication",
            Field::Vmac if native => "vmac",
            Field::Vmac => "use_vmac",
            Field::Vips if native => "vips",
            Field::Vips => "virtual_ipaddress",
            Field::TrackingWeight if native => "tracking_weight",
            Field::TrackingWeight => "sync_group_tracking_weight",
        }
    }
}

/// One element of a list setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    Vip(usize),
    ExcludedVip(usize),
    Peer(usize),
    TrackInterface(usize),
    TrackScript(usize),
    TrackTcp(usize),
    TrackHttp(usize),
    TrackFile(usize),
    TrackProcess(usize),
    Member(usize),
}

/// Positions within one instance or sync group.
#[derive(Clone, Debug, Default)]
pub(crate) struct ObjectLocs {
    /// The start of the object (`[[instance]]`, `vrrp_instance`).
    pub(crate) header: Pos,
    fields: HashMap<Field, Pos>,
    items: HashMap<Item, Pos>,
}

impl ObjectLocs {
    /// Locations anchored at `header`.
    pub(crate) fn new(header: Pos) -> Self {
        ObjectLocs {
            header,
            ..Default::default()
        }
    }

    /// Records where `field` was set (the last setting wins).
    pub(crate) fn set_field(&mut self, field: Field, pos: Pos) {
        self.fields.insert(field, pos);
    }

    /// Records where `item` was written.
    pub(crate) fn set_item(&mut self, item: Item, pos: Pos) {
        self.items.insert(item, pos);
    }

    /// Where `field` was set, or the object's header when it was defaulted.
    pub(crate) fn field(&self, field: Field) -> Pos {
        self.fields.get(&field).copied().unwrap_or(self.header)
    }

    /// Whether `field` was written explicitly.
    pub(crate) fn has_field(&self, field: Field) -> bool {
        self.fields.contains_key(&field)
    }

    /// Where `item` was written, or the header.
    pub(crate) fn item(&self, item: Item) -> Pos {
        self.items.get(&item).copied().unwrap_or(self.header)
    }
}

pub(crate) use super::tracking::TrackerKind;

impl TrackerKind {
    /// The definition keyword in `dialect`.
    pub(crate) fn key(self, dialect: Dialect) -> &'static str {
        match (self, dialect) {
            (TrackerKind::Script, Dialect::Keepalived) => "vrrp_script",
            (TrackerKind::Script, Dialect::Native) => "track_script",
            (TrackerKind::Tcp, _) => "track_tcp",
            (TrackerKind::Http, _) => "track_http",
            (TrackerKind::File, _) => "track_file",
            (TrackerKind::Process, Dialect::Keepalived) => "vrrp_track_process",
            (TrackerKind::Process, Dialect::Native) => "track_process",
        }
    }
}

/// Positions for a whole configuration.
#[derive(Clone, Debug)]
pub(crate) struct Locations {
    /// The format read.
    pub(crate) dialect: Dialect,
    /// The start of the main file, for problems with no better place.
    pub(crate) origin: Pos,
    /// Parallel to `Config::instances`.
    pub(crate) instances: Vec<ObjectLocs>,
    /// Parallel to `Config::sync_groups`.
    pub(crate) groups: Vec<ObjectLocs>,
    /// Where each named tracker was defined.
    pub(crate) trackers: HashMap<(TrackerKind, String), Pos>,
    /// Trackers that an instance named but whose reference was dropped,
    /// as keepalived drops weighted ones on an address owner: referenced,
    /// so not "defined but not tracked".
    pub(crate) dropped_refs: HashSet<(TrackerKind, String)>,
}

impl Locations {
    /// Empty locations for a file in `dialect` starting at `origin`.
    pub(crate) fn new(dialect: Dialect, origin: Pos) -> Self {
        Locations {
            dialect,
            origin,
            instances: Vec::new(),
            groups: Vec::new(),
            trackers: HashMap::new(),
            dropped_refs: HashSet::new(),
        }
    }

    /// The locations of instance `i`, or an empty set at the origin.
    pub(crate) fn instance(&self, i: usize) -> ObjectLocs {
        self.instances
            .get(i)
            .cloned()
            .unwrap_or_else(|| ObjectLocs::new(self.origin))
    }

    /// The locations of sync group `i`, or an empty set at the origin.
    pub(crate) fn group(&self, i: usize) -> ObjectLocs {
        self.groups
            .get(i)
            .cloned()
            .unwrap_or_else(|| ObjectLocs::new(self.origin))
    }

    /// Where tracker `name` of `kind` was defined, or the origin.
    pub(crate) fn tracker(&self, kind: TrackerKind, name: &str) -> Pos {
        self.trackers
            .get(&(kind, name.to_string()))
            .copied()
            .unwrap_or(self.origin)
    }
}
