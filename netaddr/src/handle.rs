//! [`Handle`]: one rtnetlink socket for queries and changes.

use netlink_packet_core::Parseable;
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{
    LinkAttribute, LinkExtentMask, LinkFlags as RouteLinkFlags, LinkMessage,
};
use serde::Serialize;

use crate::address::{AddressInfo, AddressSpec, delete_message, dump_message};
use crate::error::{Error, Result};
use crate::link::{IfIndex, Link, LinkFlags, validate_ifname};
use crate::macvlan::{MacvlanSpec, addr_gen_none_message, create_message, mode_message};
use crate::macvlan_mode::MacvlanMode;
use crate::prefix::IpPrefix;
use crate::socket::{Failure, Reply, Response, RtSocket};

pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_DELLINK: u16 = 17;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_DELADDR: u16 = 21;

/// How often a dump is retried when concurrent changes interrupt it.
const DUMP_ATTEMPTS: u32 = 5;

/// What an idempotent add did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddOutcome {
    /// The kernel did not have it; now it does.
    Added,
    /// It was already there (`EEXIST`); nothing changed.
    AlreadyPresent,
}

/// What an idempotent delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteOutcome {
    /// It was there; now it is gone.
    Removed,
    /// It was not there (`EADDRNOTAVAIL`, or `ENODEV` for a link); nothing changed.
    NotPresent,
}

/// A blocking rtnetlink handle: one socket, reused for every call.
///
/// It works in the network namespace of the thread that creates it: open it
/// from a thread that has `setns`'d into a namespace to manage that one.
pub struct Handle {
    pub(crate) sock: RtSocket,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    /// Opens the socket (with extended acks and strict dump checking).
    pub fn new() -> Result<Handle> {
        Ok(Handle {
            sock: RtSocket::open_request()?,
        })
    }

    /// The interface called `name`; [`Error::NoSuchInterface`] if none is.
    pub fn link_by_name(&mut self, name: &str) -> Result<Link> {
        validate_ifname(name)?;
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        self.get_link(msg, name)
    }

    /// The interface with index `index`; [`Error::NoSuchInterface`] if none.
    pub fn link_by_index(&mut self, index: IfIndex) -> Result<Link> {
        let mut msg = LinkMessage::default();
        msg.header.index = index.get();
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        self.get_link(msg, &format!("index {index}"))
    }

    fn get_link(&mut self, msg: LinkMessage, what: &str) -> Result<Link> {
        let response = self
            .sock
            .execute(RouteNetlinkMessage::GetLink(msg), NLM_F_ACK)
            .map_err(|f| match f {
                Failure::Kernel(k) if k.errno == libc::ENODEV => {
                    Error::NoSuchInterface(what.to_string())
                }
                f => failure(f, format!("look up interface {what}")),
            })?;
        links_from(&response.replies)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::malformed("RTM_GETLINK reply", format!("no link message for {what}"))
            })
    }

    /// Every interface.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let response = self.dump(RouteNetlinkMessage::GetLink(msg), "link")?;
        links_from(&response.replies)
    }

    /// The IPv4 and IPv6 addresses, of one interface or of all.
    ///
    /// The kernel filters an `RTM_GETADDR` dump by interface only when the
    /// socket has strict checking (which this one asks for, Linux 4.20+);
    /// the result is filtered here as well, so it is right either way.
    pub fn addresses(&mut self, ifindex: Option<IfIndex>) -> Result<Vec<AddressInfo>> {
        let response = self
            .dump(
                RouteNetlinkMessage::GetAddress(dump_message(ifindex)),
                "address",
            )
            .map_err(|e| match (e.errno(), ifindex) {
                // A strict-checking kernel refuses a dump filtered on a
                // missing interface.
                (Some(libc::ENODEV), Some(i)) => Error::NoSuchInterface(format!("index {i}")),
                _ => e,
            })?;
        let mut out = Vec::new();
        for reply in response
            .replies
            .iter()
            .filter(|r| r.msg_type == RTM_NEWADDR)
        {
            let msg = AddressMessage::parse(&reply.payload)
                .map_err(|e| Error::malformed("RTM_NEWADDR", e))?;
            if let Some(info) = AddressInfo::from_message(&msg)? {
                if ifindex.is_none_or(|i| i == info.ifindex) {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    /// The address `prefix` on `ifindex`, if it is configured.
    pub fn address(&mut self, ifindex: IfIndex, prefix: IpPrefix) -> Result<Option<AddressInfo>> {
        Ok(self
            .addresses(Some(ifindex))?
            .into_iter()
            .find(|a| a.matches(ifindex, prefix)))
    }

    /// Adds an address (`ip addr add`). Idempotent: if the kernel already
    /// has it (`EEXIST`) the result is [`AddOutcome::AlreadyPresent`] and
    /// nothing changes, even if the existing one has another label or flags.
    ///
    /// For IPv4 the kernel counts an address as present when the same
    /// address and prefix length are on the interface; for IPv6 when the
    /// same address is, whatever its prefix length.
    pub fn add_address(&mut self, spec: &AddressSpec) -> Result<AddOutcome> {
        spec.validate()?;
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        let answer = self
            .sock
            .execute(RouteNetlinkMessage::NewAddress(spec.to_message()), flags)
            .map(drop);
        self.add_outcome(answer, spec)
    }

    /// What the kernel's answer to an add of `spec` means.
    fn add_outcome(&self, answer: Result<(), Failure>, spec: &AddressSpec) -> Result<AddOutcome> {
        match answer {
            Ok(()) => Ok(AddOutcome::Added),
            Err(Failure::Kernel(k)) if k.errno == libc::EEXIST => Ok(AddOutcome::AlreadyPresent),
            Err(f) => Err(self.interface_failure(f, spec.ifindex, describe_add("add", spec))),
        }
    }

    /// [`add_address`](Self::add_address) for each of `specs`, many to a
    /// `sendmsg` (the kernel applies them in order and acks each one), as
    /// `ip -batch` would with one round trip each. The outcomes are in the
    /// order of `specs`.
    pub fn add_addresses(&mut self, specs: &[&AddressSpec]) -> Vec<Result<AddOutcome>> {
        let mut out: Vec<Option<Result<AddOutcome>>> = Vec::with_capacity(specs.len());
        let mut requests = Vec::new();
        for spec in specs {
            match spec.validate() {
                Ok(()) => {
                    out.push(None);
                    requests.push((
                        RouteNetlinkMessage::NewAddress(spec.to_message()),
                        NLM_F_CREATE | NLM_F_EXCL,
                    ));
                }
                Err(e) => out.push(Some(Err(e))),
            }
        }
        let mut answers = self.sock.execute_all(requests).into_iter();
        specs
            .iter()
            .zip(out)
            .map(|(spec, done)| match done {
                Some(r) => r,
                None => match answers.next() {
                    Some(answer) => self.add_outcome(answer, spec),
                    None => Err(Error::Unanswered("an add got no outcome")),
                },
            })
            .collect()
    }

    /// Adds an address, or updates the one already there: `ip addr replace`.
    ///
    /// What the kernel updates on an existing address differs by family:
    /// IPv6 takes the new flags (`nodad`, `noprefixroute`, ...); IPv4 only
    /// lifetimes and metric, keeping its label, scope and broadcast (delete
    /// and add to change those).
    pub fn replace_address(&mut self, spec: &AddressSpec) -> Result<()> {
        spec.validate()?;
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
        self.sock
            .execute(RouteNetlinkMessage::NewAddress(spec.to_message()), flags)
            .map(drop)
            .map_err(|f| self.interface_failure(f, spec.ifindex, describe_add("replace", spec)))
    }

    /// Removes an address (`ip addr del`): the address and prefix length
    /// must both match. Idempotent: an absent address gives
    /// [`DeleteOutcome::NotPresent`].
    ///
    /// Removing the *primary* IPv4 address of a subnet also removes the
    /// secondaries of that subnet, unless `promote_secondaries` is set on
    /// the interface (see [`crate::sysctl`]).
    pub fn delete_address(&mut self, ifindex: IfIndex, prefix: IpPrefix) -> Result<DeleteOutcome> {
        let msg = RouteNetlinkMessage::DelAddress(delete_message(ifindex, prefix));
        let answer = self.sock.execute(msg, NLM_F_ACK).map(drop);
        self.delete_outcome(answer, ifindex, prefix)
    }

    /// What the kernel's answer to a delete of `prefix` on `ifindex` means.
    fn delete_outcome(
        &self,
        answer: Result<(), Failure>,
        ifindex: IfIndex,
        prefix: IpPrefix,
    ) -> Result<DeleteOutcome> {
        match answer {
            Ok(()) => Ok(DeleteOutcome::Removed),
            Err(Failure::Kernel(k))
                if k.errno == libc::EADDRNOTAVAIL || k.errno == libc::ENOENT =>
            {
                Ok(DeleteOutcome::NotPresent)
            }
            Err(f) => Err(self.interface_failure(
                f,
                ifindex,
                format!("delete {prefix} from interface {ifindex}"),
            )),
        }
    }

    /// [`delete_address`](Self::delete_address) for each of `addresses`,
    /// many to a `sendmsg`, as [`add_addresses`](Self::add_addresses). The
    /// outcomes are in the order of `addresses`.
    pub fn delete_addresses(
        &mut self,
        addresses: &[(IfIndex, IpPrefix)],
    ) -> Vec<Result<DeleteOutcome>> {
        let requests = addresses
            .iter()
            .map(|&(ifindex, prefix)| {
                let msg = RouteNetlinkMessage::DelAddress(delete_message(ifindex, prefix));
                (msg, 0)
            })
            .collect();
        let answers = self.sock.execute_all(requests);
        addresses
            .iter()
            .zip(answers)
            .map(|(&(ifindex, prefix), answer)| self.delete_outcome(answer, ifindex, prefix))
            .collect()
    }

    /// Sets a link administratively up or down (`ip link set X up|down`).
    pub fn set_link_up(&mut self, index: IfIndex, up: bool) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index.get();
        msg.header.flags = if up {
            RouteLinkFlags::Up
        } else {
            RouteLinkFlags::empty()
        };
        msg.header.change_mask = RouteLinkFlags::Up;
        let state = if up { "up" } else { "down" };
        self.sock
            .execute(RouteNetlinkMessage::SetLink(msg), NLM_F_ACK)
            .map(drop)
            .map_err(|f| self.interface_failure(f, index, format!("set interface {index} {state}")))
    }

    /// Creates a macvlan interface (`ip link add NAME link PARENT address
    /// MAC type macvlan mode MODE`), the way keepalived's `use_vmac` does.
    ///
    /// Idempotent: if a macvlan of that name already exists on the same
    /// parent with the same MAC, the result is
    /// [`AddOutcome::AlreadyPresent`]; it is switched to the spec's mode if
    /// it has another one (a VRRP virtual MAC left in keepalived's private
    /// mode, say) and brought up if the spec says so. If something else has
    /// the name, it is [`Error::LinkExists`]. If a step after creation
    /// fails, the new link is deleted again.
    pub fn create_macvlan(&mut self, spec: &MacvlanSpec) -> Result<(AddOutcome, Link)> {
        validate_ifname(&spec.name)?;
        let what = format!(
            "create macvlan {} on interface {} with MAC {} mode {}",
            spec.name, spec.parent, spec.mac, spec.mode
        );
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        match self
            .sock
            .execute(RouteNetlinkMessage::NewLink(create_message(spec)), flags)
        {
            Ok(_) => {}
            Err(Failure::Kernel(k)) if k.errno == libc::EEXIST => {
                let mut existing = self.link_by_name(&spec.name)?;
                if let Some(detail) = spec.mismatch_but_mode(&existing) {
                    return Err(Error::LinkExists {
                        name: spec.name.clone(),
                        detail,
                    });
                }
                if existing.macvlan_mode != Some(spec.mode) {
                    self.set_macvlan_mode(existing.index, spec.mode)?;
                    existing = self.link_by_index(existing.index)?;
                }
                if spec.up && !existing.flags.contains(LinkFlags::UP) {
                    self.set_link_up(existing.index, true)?;
                    existing = self.link_by_index(existing.index)?;
                }
                return Ok((AddOutcome::AlreadyPresent, existing));
            }
            Err(f) => return Err(self.interface_failure(f, spec.parent, what)),
        }
        match self.finish_macvlan(spec) {
            Ok(link) => Ok((AddOutcome::Added, link)),
            Err(e) => {
                // Do not leave a half-configured link behind.
                if let Ok(link) = self.link_by_name(&spec.name) {
                    let _ = self.delete_link(link.index);
                }
                Err(e)
            }
        }
    }

    /// Switches the macvlan `index` to `mode` (`ip link set DEV type
    /// macvlan mode MODE`); the kernel allows it on a live link.
    pub fn set_macvlan_mode(&mut self, index: IfIndex, mode: MacvlanMode) -> Result<()> {
        self.sock
            .execute(
                RouteNetlinkMessage::NewLink(mode_message(index, mode)),
                NLM_F_ACK,
            )
            .map(drop)
            .map_err(|f| {
                self.interface_failure(
                    f,
                    index,
                    format!("set interface {index} macvlan mode {mode}"),
                )
            })
    }

    fn finish_macvlan(&mut self, spec: &MacvlanSpec) -> Result<Link> {
        let link = self.link_by_name(&spec.name)?;
        if spec.suppress_ipv6_link_local {
            self.sock
                .execute(
                    RouteNetlinkMessage::SetLink(addr_gen_none_message(link.index)),
                    NLM_F_ACK,
                )
                .map_err(|f| {
                    failure(
                        f,
                        format!("set IPv6 address generation mode none on {}", spec.name),
                    )
                })?;
        }
        if spec.up {
            self.set_link_up(link.index, true)?;
        }
        self.link_by_index(link.index)
    }

    /// Deletes a link (`ip link del`). Idempotent: a missing link gives
    /// [`DeleteOutcome::NotPresent`].
    pub fn delete_link(&mut self, index: IfIndex) -> Result<DeleteOutcome> {
        let mut msg = LinkMessage::default();
        msg.header.index = index.get();
        match self
            .sock
            .execute(RouteNetlinkMessage::DelLink(msg), NLM_F_ACK)
        {
            Ok(_) => Ok(DeleteOutcome::Removed),
            Err(Failure::Kernel(k)) if k.errno == libc::ENODEV => Ok(DeleteOutcome::NotPresent),
            Err(f) => Err(failure(f, format!("delete interface {index}"))),
        }
    }

    fn dump(&mut self, msg: RouteNetlinkMessage, what: &'static str) -> Result<Response> {
        for _ in 0..DUMP_ATTEMPTS {
            let response = self
                .sock
                .execute(msg.clone(), NLM_F_DUMP)
                .map_err(|f| failure(f, format!("{what} dump")))?;
            if !response.interrupted {
                return Ok(response);
            }
        }
        Err(Error::DumpInterrupted {
            what,
            attempts: DUMP_ATTEMPTS,
        })
    }

    /// Maps `ENODEV` to [`Error::NoSuchInterface`], the rest to [`Error::Kernel`].
    fn interface_failure(&self, f: Failure, ifindex: IfIndex, operation: String) -> Error {
        match f {
            Failure::Kernel(k) if k.errno == libc::ENODEV => {
                Error::NoSuchInterface(format!("index {ifindex}"))
            }
            f => failure(f, operation),
        }
    }
}

fn failure(f: Failure, operation: String) -> Error {
    match f {
        Failure::Kernel(source) => Error::Kernel { operation, source },
        Failure::Local(e) => e,
    }
}

fn describe_add(verb: &str, spec: &AddressSpec) -> String {
    let mut s = format!("{verb} {}", spec.prefix);
    if let Some(label) = &spec.label {
        s.push_str(&format!(" label {label}"));
    }
    s.push_str(&format!(" on interface {}", spec.ifindex));
    s
}

pub(crate) fn links_from(replies: &[Reply]) -> Result<Vec<Link>> {
    let mut out = Vec::new();
    for reply in replies.iter().filter(|r| r.msg_type == RTM_NEWLINK) {
        let msg =
            LinkMessage::parse(&reply.payload).map_err(|e| Error::malformed("RTM_NEWLINK", e))?;
        out.push(Link::from_message(&msg)?);
    }
    Ok(out)
}
