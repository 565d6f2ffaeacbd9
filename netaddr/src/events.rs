//! Link and address notifications: a socket subscribed to `RTNLGRP_LINK`,
//! `RTNLGRP_IPV4_IFADDR` and `RTNLGRP_IPV6_IFADDR`, decoded into [`Event`]s.
//!
//! This is how a daemon learns that its link went down (go to Fault) or that
//! an operator deleted a virtual address while it was Active (add it back).
//!
//! Latency: an administrative change (`ip link set X down`) and address
//! changes are announced at once. Carrier changes go through the kernel's
//! link watch, which runs them at once for stacked devices (veth, macvlan,
//! VLAN: `iflink` differs from the index) but at most once a second for a
//! device that is its own lower link, such as a physical NIC: its loss of
//! carrier can reach us up to about a second late. No userspace can do
//! better through rtnetlink; keepalived has the same bound.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use netlink_packet_core::Parseable;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::rule::RuleMessage;
use serde::Serialize;

use crate::address::AddressInfo;
use crate::error::{Error, Result};
use crate::handle::{Handle, RTM_DELADDR, RTM_DELLINK, RTM_NEWADDR, RTM_NEWLINK};
use crate::link::{IfIndex, Link};
use crate::route::{PROTOCOL_KEEPALIVED, RouteSpec};
use crate::rule::RuleSpec;
use crate::socket::{Datagram, NLMSG_OVERRUN, RtSocket, frames};

/// `RTNLGRP_LINK` from `<linux/rtnetlink.h>`.
const RTNLGRP_LINK: u32 = 1;
/// `RTNLGRP_IPV4_IFADDR`.
const RTNLGRP_IPV4_IFADDR: u32 = 5;
/// `RTNLGRP_IPV6_IFADDR`.
const RTNLGRP_IPV6_IFADDR: u32 = 9;
/// `RTNLGRP_IPV4_ROUTE`, `RTNLGRP_IPV4_RULE`, `RTNLGRP_IPV6_ROUTE`,
/// `RTNLGRP_IPV6_RULE`: joined by [`EventStream::watch_routing`].
const ROUTING_GROUPS: [u32; 4] = [7, 8, 11, 19];
const RTM_DELROUTE: u16 = 25;
const RTM_DELRULE: u16 = 33;

/// The socket's receive buffer: room for bursts (a link with many
/// addresses going away) before the kernel drops notifications.
const RECEIVE_BUFFER_BYTES: usize = 1 << 20;

/// A change the kernel announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The link became able to carry traffic ([`Link::is_up`]), or is seen
    /// for the first time up.
    LinkUp(Link),
    /// The link stopped being able to carry traffic, or is seen for the
    /// first time down.
    LinkDown(Link),
    /// Something else about the link changed (MTU, name, MAC, ...).
    LinkChanged(Link),
    /// The link was deleted.
    LinkRemoved(Link),
    /// Someone (maybe us) added an address.
    AddressAdded {
        /// The interface name, when known.
        ifname: Option<String>,
        /// The address.
        #[serde(flatten)]
        address: AddressInfo,
    },
    /// Someone (maybe us) removed an address.
    AddressRemoved {
        /// The interface name, when known.
        ifname: Option<String>,
        /// The address.
        #[serde(flatten)]
        address: AddressInfo,
    },
    /// A route marked `proto keepalived` (18) was deleted (only after
    /// [`EventStream::watch_routing`]).
    RouteRemoved(RouteSpec),
    /// A rule marked `proto keepalived` was deleted (only after
    /// [`EventStream::watch_routing`]).
    RuleRemoved(RuleSpec),
    /// Notifications were lost (the socket overran, `ENOBUFS`). Re-read the
    /// state you care about with a dump ([`Handle::links`],
    /// [`Handle::addresses`]); the link table of this stream has been
    /// re-read already.
    Resync,
}

/// What the stream remembers of a link, to report transitions.
#[derive(Debug, Clone)]
struct Known {
    name: String,
    up: bool,
}

/// A subscription to link and address notifications.
///
/// Blocking ([`EventStream::recv`], [`EventStream::recv_timeout`]) or
/// non-blocking ([`EventStream::try_recv`]); for an event loop, poll
/// [`EventStream::as_fd`] for readability and drain with `try_recv` until
/// it returns `None`. Like [`Handle`], it watches the network namespace of
/// the thread that subscribes.
pub struct EventStream {
    sock: RtSocket,
    pending: VecDeque<Event>,
    decoder: EventDecoder,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("pending", &self.pending.len())
            .field("links", &self.decoder.links.len())
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// Subscribes, then reads the current links, so that the first
    /// [`Event::LinkUp`]/[`Event::LinkDown`] of a known link is a real
    /// transition.
    pub fn subscribe() -> Result<EventStream> {
        let sock =
            RtSocket::open_multicast(&[RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR])?;
        sock.set_receive_buffer(RECEIVE_BUFFER_BYTES)?;
        let mut stream = EventStream {
            sock,
            pending: VecDeque::new(),
            decoder: EventDecoder::default(),
        };
        stream.reload_links()?;
        Ok(stream)
    }

    /// Also reports routes and rules marked `proto keepalived` that are
    /// deleted ([`Event::RouteRemoved`], [`Event::RuleRemoved`]). Off by
    /// default: a router with a full BGP table changes routes all the
    /// time, and every change wakes the stream up.
    pub fn watch_routing(&mut self) -> Result<()> {
        for group in ROUTING_GROUPS {
            self.sock.join(group)?;
        }
        Ok(())
    }

    fn reload_links(&mut self) -> Result<()> {
        self.decoder.reset(Handle::new()?.links()?);
        Ok(())
    }

    /// The name of an interface as last seen by this stream.
    pub fn ifname(&self, index: IfIndex) -> Option<&str> {
        self.decoder.ifname(index)
    }

    /// The next event, without blocking: `Ok(None)` if none is queued.
    pub fn try_recv(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            match self.sock.recv(true)? {
                Datagram::WouldBlock => return Ok(None),
                Datagram::Overrun | Datagram::Truncated => return self.resync().map(Some),
                Datagram::Data(len) => {
                    let overrun = self
                        .decoder
                        .decode(self.sock.datagram(len), &mut self.pending)?;
                    if overrun {
                        let event = self.resync()?;
                        self.pending.push_back(event);
                    }
                }
            }
        }
    }

    /// The next event, waiting as long as it takes.
    pub fn recv(&mut self) -> Result<Event> {
        loop {
            if let Some(event) = self.try_recv()? {
                return Ok(event);
            }
            self.wait(None)?;
        }
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` if none came.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.try_recv()? {
                return Ok(Some(event));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.wait(Some(left))?;
        }
    }

    /// Waits until the socket is readable or `timeout` passes.
    fn wait(&self, timeout: Option<Duration>) -> Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Round up so a sub-millisecond remainder does not spin.
        let ms = timeout.map_or(-1, |t| {
            i32::try_from(t.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
        });
        // SAFETY: `pfd` is a valid pollfd for the duration of the call, and
        // we pass a count of 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::io("poll", err));
            }
        }
        Ok(())
    }

    fn resync(&mut self) -> Result<Event> {
        self.pending.clear();
        self.reload_links()?;
        Ok(Event::Resync)
    }
}

/// The sans-IO half of [`EventStream`]: turns notification datagrams into
/// events, remembering each link's name and up state to report transitions.
#[derive(Debug, Default)]
pub(crate) struct EventDecoder {
    links: HashMap<IfIndex, Known>,
}

impl EventDecoder {
    /// Forgets what it knew and starts from `links`.
    pub(crate) fn reset(&mut self, links: Vec<Link>) {
        self.links = links
            .into_iter()
            .map(|l| {
                (
                    l.index,
                    Known {
                        up: l.is_up(),
                        name: l.name,
                    },
                )
            })
            .collect();
    }

    /// The last known name of an interface.
    pub(crate) fn ifname(&self, index: IfIndex) -> Option<&str> {
        self.links.get(&index).map(|k| k.name.as_str())
    }

    /// Appends the events of one datagram to `out`; `Ok(true)` if the
    /// kernel reported an overrun in it. A malformed message ends the
    /// datagram with an error; the events before it are still appended.
    pub(crate) fn decode(&mut self, datagram: &[u8], out: &mut VecDeque<Event>) -> Result<bool> {
        for frame in frames(datagram) {
            let frame = frame?;
            let event = match decode_frame(frame.msg_type, frame.payload)? {
                None => continue,
                Some(Decoded::Overrun) => return Ok(true),
                Some(Decoded::Link(msg_type, link)) => self.track_link(msg_type, link),
                Some(Decoded::Route(route)) => Event::RouteRemoved(route),
                Some(Decoded::Rule(rule)) => Event::RuleRemoved(rule),
                Some(Decoded::Address(msg_type, address)) => {
                    let ifname = self.ifname(address.ifindex).map(str::to_string);
                    if msg_type == RTM_DELADDR {
                        Event::AddressRemoved { ifname, address }
                    } else {
                        Event::AddressAdded { ifname, address }
                    }
                }
            };
            out.push_back(event);
        }
        Ok(false)
    }

    /// Turns a link message into an event, updating the link table.
    fn track_link(&mut self, msg_type: u16, link: Link) -> Event {
        if msg_type == RTM_DELLINK {
            self.links.remove(&link.index);
            return Event::LinkRemoved(link);
        }
        let up = link.is_up();
        let known = Known {
            name: link.name.clone(),
            up,
        };
        match self.links.insert(link.index, known) {
            Some(before) if before.up == up => Event::LinkChanged(link),
            _ if up => Event::LinkUp(link),
            _ => Event::LinkDown(link),
        }
    }
}

/// Decodes one notification; `Ok(None)` for messages we do not follow.
fn decode_frame(msg_type: u16, payload: &[u8]) -> Result<Option<Decoded>> {
    match msg_type {
        RTM_NEWLINK | RTM_DELLINK => {
            // Bridges announce port changes with AF_BRIDGE link messages on
            // the same group; those are not the link itself changing.
            if payload.first() != Some(&(libc::AF_UNSPEC as u8)) {
                return Ok(None);
            }
            let msg = LinkMessage::parse(payload)
                .map_err(|e| Error::malformed("link notification", e))?;
            Ok(Some(Decoded::Link(msg_type, Link::from_message(&msg)?)))
        }
        RTM_NEWADDR | RTM_DELADDR => {
            let msg = AddressMessage::parse(payload)
                .map_err(|e| Error::malformed("address notification", e))?;
            Ok(AddressInfo::from_message(&msg)?.map(|info| Decoded::Address(msg_type, info)))
        }
        RTM_DELROUTE => {
            let msg = RouteMessage::parse(payload)
                .map_err(|e| Error::malformed("route notification", e))?;
            Ok(RouteSpec::from_message(&msg)
                .filter(|r| r.protocol == PROTOCOL_KEEPALIVED)
                .map(Decoded::Route))
        }
        RTM_DELRULE => {
            let msg = RuleMessage::parse(payload)
                .map_err(|e| Error::malformed("rule notification", e))?;
            Ok(RuleSpec::from_message(&msg)
                .filter(|r| r.protocol == PROTOCOL_KEEPALIVED)
                .map(Decoded::Rule))
        }
        NLMSG_OVERRUN => Ok(Some(Decoded::Overrun)),
        _ => Ok(None),
    }
}

enum Decoded {
    Link(u16, Link),
    Address(u16, AddressInfo),
    Route(RouteSpec),
    Rule(RuleSpec),
    Overrun,
}

impl AsFd for EventStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for EventStream {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_fd().as_raw_fd()
    }
}
