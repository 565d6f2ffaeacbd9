//! The blocking rtnetlink socket under [`crate::Handle`] and
//! [`crate::EventStream`]: framing of datagrams into messages, requests with
//! sequence numbers, and collection of replies up to the ACK or `NLMSG_DONE`.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::ack::{NLMSG_HEADER_LEN, parse_done, parse_error};
use crate::error::{Error, KernelError, Result};
use crate::tlv::align;

pub(crate) const NLMSG_NOOP: u16 = 1;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLMSG_OVERRUN: u16 = 4;

/// A dump changed while it was being read; its result may be inconsistent.
const NLM_F_DUMP_INTR: u16 = 0x10;

/// Large enough for any datagram the kernel builds for rtnetlink (dumps
/// use at most 32 KiB skbs).
const RECV_BUF_LEN: usize = 64 * 1024;

/// Changes per datagram in [`RtSocket::execute_all`]: their acks, one skb
/// each (under 1 KiB of receive buffer), must fit the socket's default
/// receive buffer (about 208 KiB) while the kernel queues them.
pub(crate) const PIPELINE: usize = 64;

/// One netlink message inside a datagram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    pub(crate) msg_type: u16,
    pub(crate) flags: u16,
    pub(crate) seq: u32,
    pub(crate) port: u32,
    pub(crate) payload: &'a [u8],
}

/// Splits a datagram into messages; yields one error and stops at a
/// length field that does not fit.
pub(crate) fn frames(buf: &[u8]) -> FrameIter<'_> {
    FrameIter { buf, failed: false }
}

/// See [`frames`].
pub(crate) struct FrameIter<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for FrameIter<'a> {
    type Item = Result<Frame<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let buf = self.buf;
        let field =
            |at: usize| u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let len = if buf.len() >= NLMSG_HEADER_LEN {
            field(0) as usize
        } else {
            0
        };
        if len < NLMSG_HEADER_LEN || len > buf.len() {
            self.failed = true;
            return Some(Err(Error::malformed(
                "netlink message",
                format!(
                    "length field {len} with {} bytes left in the datagram",
                    buf.len()
                ),
            )));
        }
        let frame = Frame {
            msg_type: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: field(8),
            port: field(12),
            payload: &buf[NLMSG_HEADER_LEN..len],
        };
        self.buf = &buf[align(len).min(buf.len())..];
        Some(Ok(frame))
    }
}

/// Serializes a request.
pub(crate) fn encode(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    nl.finalize();
    let mut buf = vec![0; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

/// A reply message (`RTM_NEWLINK`, `RTM_NEWADDR`, ...) to a request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) msg_type: u16,
    pub(crate) payload: Vec<u8>,
}

/// Everything a request got back before its ACK or `NLMSG_DONE`.
#[derive(Debug, Default)]
pub(crate) struct Response {
    pub(crate) replies: Vec<Reply>,
    /// A dump saw `NLM_F_DUMP_INTR`: retry it.
    pub(crate) interrupted: bool,
}

/// Why a request failed: the kernel said no, or something local broke.
#[derive(Debug)]
pub(crate) enum Failure {
    Kernel(KernelError),
    Local(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Local(e)
    }
}

/// A received datagram: its length, or that it was dropped.
pub(crate) enum Datagram {
    /// `len` bytes are in the buffer.
    Data(usize),
    /// It did not fit the buffer.
    Truncated,
    /// Non-blocking and nothing queued.
    WouldBlock,
    /// The socket's receive queue overflowed (`ENOBUFS`): messages were lost.
    Overrun,
}

/// A `NETLINK_ROUTE` socket.
pub(crate) struct RtSocket {
    sock: Socket,
    port: u32,
    seq: u32,
    buf: Vec<u8>,
}

impl RtSocket {
    /// A socket for requests: extended acks, capped acks, strict checking.
    pub(crate) fn open_request() -> Result<RtSocket> {
        let rt = RtSocket::open(&[])?;
        // Strict checking makes the kernel filter dumps by the header's
        // index; not fatal where unsupported (before 4.20): we filter anyway.
        optional_sockopt(
            rt.sock.set_netlink_get_strict_chk(true),
            "NETLINK_GET_STRICT_CHK",
        )?;
        Ok(rt)
    }

    /// A socket subscribed to multicast `groups` (`RTNLGRP_*` numbers).
    pub(crate) fn open_multicast(groups: &[u32]) -> Result<RtSocket> {
        RtSocket::open(groups)
    }

    fn open(groups: &[u32]) -> Result<RtSocket> {
        let mut sock =
            Socket::new(NETLINK_ROUTE).map_err(|e| Error::io("socket(AF_NETLINK)", e))?;
        optional_sockopt(sock.set_ext_ack(true), "NETLINK_EXT_ACK")?;
        optional_sockopt(sock.set_cap_ack(true), "NETLINK_CAP_ACK")?;
        let addr = sock.bind_auto().map_err(|e| Error::io("bind", e))?;
        for &group in groups {
            sock.add_membership(group)
                .map_err(|e| Error::io("NETLINK_ADD_MEMBERSHIP", e))?;
        }
        Ok(RtSocket {
            sock,
            port: addr.port_number(),
            seq: 0,
            buf: vec![0; RECV_BUF_LEN],
        })
    }

    /// Joins one more multicast group (`RTNLGRP_*`); joining twice is
    /// harmless.
    pub(crate) fn join(&mut self, group: u32) -> Result<()> {
        self.sock
            .add_membership(group)
            .map_err(|e| Error::io("NETLINK_ADD_MEMBERSHIP", e))
    }

    /// Sets the kernel receive buffer (`SO_RCVBUF`), in bytes.
    pub(crate) fn set_receive_buffer(&self, bytes: usize) -> Result<()> {
        self.sock
            .set_rx_buf_sz(bytes)
            .map_err(|e| Error::io("SO_RCVBUF", e))
    }

    /// The last datagram received, `len` bytes long.
    pub(crate) fn datagram(&self, len: usize) -> &[u8] {
        &self.buf[..len]
    }

    /// Receives one datagram sent by the kernel (others are dropped).
    pub(crate) fn recv(&mut self, dontwait: bool) -> Result<Datagram> {
        let flags = libc::MSG_TRUNC | if dontwait { libc::MSG_DONTWAIT } else { 0 };
        loop {
            let mut window: &mut [u8] = &mut self.buf[..];
            match self.sock.recv_from(&mut window, flags) {
                Ok((n, from)) => {
                    if from.port_number() != 0 {
                        // Unicast from another process, not the kernel.
                        continue;
                    }
                    if n > RECV_BUF_LEN {
                        return Ok(Datagram::Truncated);
                    }
                    return Ok(Datagram::Data(n));
                }
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EAGAIN) => return Ok(Datagram::WouldBlock),
                    Some(libc::ENOBUFS) => return Ok(Datagram::Overrun),
                    _ => return Err(Error::io("recvfrom", e)),
                },
            }
        }
    }

    /// Sends `msg` with `flags` (plus `NLM_F_REQUEST`) and collects the
    /// replies that carry its sequence number, up to the ACK (or error) or,
    /// for dumps, `NLMSG_DONE`. Stray messages are skipped.
    pub(crate) fn execute(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Response, Failure> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        let request = encode(msg, flags | netlink_packet_core::NLM_F_REQUEST, seq);
        self.send(&request)?;
        let mut response = Response::default();
        loop {
            let len = match self.recv(false)? {
                Datagram::Data(len) => len,
                Datagram::Truncated => {
                    return Err(Error::malformed(
                        "reply",
                        "datagram larger than the receive buffer",
                    )
                    .into());
                }
                Datagram::Overrun => {
                    return Err(
                        Error::io("recvfrom", io::Error::from_raw_os_error(libc::ENOBUFS)).into(),
                    );
                }
                Datagram::WouldBlock => continue,
            };
            let port = self.port;
            for frame in frames(self.datagram(len)) {
                let frame = frame?;
                if frame.seq != seq || frame.port != port {
                    continue;
                }
                match frame.msg_type {
                    NLMSG_NOOP => {}
                    NLMSG_ERROR => {
                        return match parse_error(frame.flags, frame.payload, &request)? {
                            None => Ok(response),
                            Some(err) => Err(Failure::Kernel(err)),
                        };
                    }
                    NLMSG_DONE => {
                        return match parse_done(frame.flags, frame.payload, &request)? {
                            None => Ok(response),
                            Some(err) => Err(Failure::Kernel(err)),
                        };
                    }
                    NLMSG_OVERRUN => {
                        return Err(Error::malformed("reply", "NLMSG_OVERRUN").into());
                    }
                    msg_type => {
                        response.interrupted |= frame.flags & NLM_F_DUMP_INTR != 0;
                        response.replies.push(Reply {
                            msg_type,
                            payload: frame.payload.to_vec(),
                        });
                    }
                }
            }
        }
    }

    /// Sends `requests` (each a message and its flags; `NLM_F_ACK` is
    /// added) [`PIPELINE`] to a datagram, and collects each one's ACK or
    /// error: the kernel applies the messages of a datagram in order and
    /// acks each, so a batch costs one `sendmsg` per [`PIPELINE`] changes
    /// instead of one round trip per change. The outcomes are in the order
    /// of `requests`. For changes only: a reply other than an ACK is
    /// skipped.
    pub(crate) fn execute_all(
        &mut self,
        requests: Vec<(RouteNetlinkMessage, u16)>,
    ) -> Vec<Result<(), Failure>> {
        let mut out = Vec::with_capacity(requests.len());
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let chunk: Vec<_> = requests.by_ref().take(PIPELINE).collect();
            self.execute_chunk(chunk, &mut out);
        }
        out
    }

    /// One datagram of [`execute_all`](Self::execute_all).
    fn execute_chunk(
        &mut self,
        chunk: Vec<(RouteNetlinkMessage, u16)>,
        out: &mut Vec<Result<(), Failure>>,
    ) {
        let flags = netlink_packet_core::NLM_F_REQUEST | netlink_packet_core::NLM_F_ACK;
        let mut encoded = Vec::with_capacity(chunk.len());
        let mut datagram = Vec::new();
        let first = self.seq.wrapping_add(1).max(1);
        for (msg, f) in chunk {
            self.seq = self.seq.wrapping_add(1).max(1);
            let request = encode(msg, f | flags, self.seq);
            datagram.extend_from_slice(&request);
            datagram.resize(align(datagram.len()), 0);
            encoded.push((self.seq, request));
        }
        let mut answers: Vec<Option<Result<(), Failure>>> = std::iter::repeat_with(|| None)
            .take(encoded.len())
            .collect();
        if let Err(e) = self.send(&datagram) {
            // Nothing was applied.
            out.push(Err(Failure::Local(e)));
            for _ in 1..encoded.len() {
                out.push(Err(Failure::Local(Error::io(
                    "sendto",
                    io::Error::other("the datagram with this change was not sent"),
                ))));
            }
            return;
        }
        let mut pending = encoded.len();
        let port = self.port;
        while pending > 0 {
            let len = match self.recv(false) {
                Ok(Datagram::Data(len)) => len,
                Ok(Datagram::WouldBlock) => continue,
                Ok(Datagram::Truncated) => break,
                Ok(Datagram::Overrun) | Err(_) => break,
            };
            let datagram = &self.buf[..len];
            for frame in frames(datagram) {
                let Ok(frame) = frame else { break };
                if frame.port != port || frame.msg_type != NLMSG_ERROR {
                    continue;
                }
                let k = frame.seq.wrapping_sub(first) as usize;
                let Some((seq, request)) = encoded.get(k) else {
                    continue;
                };
                if *seq != frame.seq || answers[k].is_some() {
                    continue;
                }
                answers[k] = Some(match parse_error(frame.flags, frame.payload, request) {
                    Ok(None) => Ok(()),
                    Ok(Some(err)) => Err(Failure::Kernel(err)),
                    Err(e) => Err(Failure::Local(e)),
                });
                pending -= 1;
            }
        }
        out.extend(answers.into_iter().map(|a| {
            a.unwrap_or(Err(Failure::Local(Error::Unanswered(
                "the ack never came or could not be read",
            ))))
        }));
    }

    fn send(&self, request: &[u8]) -> Result<()> {
        let kernel = SocketAddr::new(0, 0);
        loop {
            match self.sock.send_to(request, &kernel, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(Error::io("sendto", e)),
            }
        }
    }
}

#[cfg(test)]
impl RtSocket {
    /// Sends a request and returns the raw datagrams of the reply, up to
    /// and including the one with the ACK, error or `NLMSG_DONE`: used to
    /// capture kernel replies for the byte-level tests.
    pub(crate) fn transact_raw(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> (Vec<u8>, Vec<Vec<u8>>) {
        self.seq = self.seq.wrapping_add(1).max(1);
        let request = encode(msg, flags | netlink_packet_core::NLM_F_REQUEST, self.seq);
        self.send(&request).unwrap();
        let mut out = Vec::new();
        loop {
            let Datagram::Data(len) = self.recv(false).unwrap() else {
                panic!("no datagram")
            };
            let d = self.datagram(len).to_vec();
            let end = frames(&d)
                .map(|f| f.unwrap())
                .any(|f| f.seq == self.seq && matches!(f.msg_type, NLMSG_ERROR | NLMSG_DONE));
            out.push(d);
            if end {
                return (request, out);
            }
        }
    }
}

impl AsFd for RtSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// A socket option this crate can live without on older kernels.
fn optional_sockopt(r: io::Result<()>, what: &'static str) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(()),
        Err(e) => Err(Error::io(what, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(msg_type: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = NLMSG_HEADER_LEN + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&msg_type.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(align(len), 0);
        m
    }

    #[test]
    fn splits_multi_message_datagrams() {
        let mut d = message(20, 7, &[1, 2, 3]);
        d.extend(message(NLMSG_DONE, 7, &[0, 0, 0, 0]));
        let all: Vec<_> = frames(&d).collect::<Result<_>>().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].msg_type, all[0].seq, all[0].payload),
            (20, 7, &[1, 2, 3][..])
        );
        assert_eq!(all[1].msg_type, NLMSG_DONE);
    }

    #[test]
    fn lying_length_is_an_error() {
        let mut d = message(20, 1, &[0; 8]);
        d[0] = 200;
        let mut it = frames(&d);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert!(frames(&[1, 2, 3]).next().unwrap().is_err());
        let mut short = message(20, 1, &[]);
        short[0] = 8;
        assert!(frames(&short).next().unwrap().is_err());
    }

    #[test]
    fn encode_sets_header() {
        let msg = RouteNetlinkMessage::GetAddress(crate::address::dump_message(None));
        let bytes = encode(msg, 0x301, 42);
        let f = frames(&bytes).next().unwrap().unwrap();
        assert_eq!((f.msg_type, f.flags, f.seq), (22, 0x301, 42));
        assert_eq!(f.payload.len(), 8);
    }
}
