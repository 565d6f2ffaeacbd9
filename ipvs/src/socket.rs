//! The generic netlink socket: resolving the "IPVS" family, sending a
//! request and collecting its replies up to the acknowledgement or the end
//! of the dump, with the kernel's errno and extended ack.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NetlinkSerializable, ParseableParametrized,
};
use netlink_packet_generic::GenlMessage;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_sys::Socket;
use netlink_sys::protocols::NETLINK_GENERIC;

use crate::attr::{attrs, get_string};
use crate::error::{Error, KernelError, Result};
use crate::message::IpvsMessage;

/// The largest datagram read; the kernel's generic netlink dumps fill at
/// most a few pages per datagram.
const RECV_BUF_LEN: usize = 64 * 1024;
/// How long one reply may take before the request fails.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// `GENL_ID_CTRL`: the controller family's fixed id.
const GENL_ID_CTRL: u16 = 0x10;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSG_HEADER_LEN: usize = 16;

/// A `NETLINK_GENERIC` socket that knows the IPVS family's id.
pub(crate) struct GenlSocket {
    sock: Socket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for GenlSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenlSocket")
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

impl GenlSocket {
    /// Opens a socket in the calling thread's network namespace and looks
    /// the IPVS family up.
    pub(crate) fn open() -> Result<GenlSocket> {
        let mut sock = Socket::new(NETLINK_GENERIC).map_err(|e| Error::io("socket", e))?;
        sock.bind_auto().map_err(|e| Error::io("bind", e))?;
        // Both optional: kernels before 4.12 lack extended acks.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        set_receive_timeout(&sock, REPLY_TIMEOUT)?;
        let mut socket = GenlSocket {
            sock,
            family: GENL_ID_CTRL,
            seq: 0,
            buf: vec![0; RECV_BUF_LEN],
        };
        socket.family = socket.resolve_family()?;
        Ok(socket)
    }

    fn resolve_family(&mut self) -> Result<u16> {
        let ctrl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(
                crate::constants::IPVS_GENL_NAME.to_string(),
            )],
        });
        let replies = match self.exchange(ctrl, NLM_F_ACK, "resolve the IPVS family") {
            Ok(r) => r,
            Err(Error::Kernel(k)) if k.errno == libc::ENOENT => return Err(Error::NotAvailable),
            Err(e) => return Err(e),
        };
        for (_, payload) in replies {
            let msg = GenlMessage::<GenlCtrl>::parse_with_param(payload.as_slice(), GENL_ID_CTRL)
                .map_err(|e| {
                Error::malformed("generic netlink controller reply", e.to_string())
            })?;
            for nla in msg.payload.nlas {
                if let GenlCtrlAttrs::FamilyId(id) = nla {
                    return Ok(id);
                }
            }
        }
        Err(Error::NotAvailable)
    }

    /// Sends an IPVS request and waits for its acknowledgement.
    pub(crate) fn request(&mut self, msg: IpvsMessage, what: &'static str) -> Result<()> {
        let mut genl = GenlMessage::from_payload(msg);
        genl.set_resolved_family_id(self.family);
        self.exchange(genl, NLM_F_ACK, what).map(|_| ())
    }

    /// Sends an IPVS request and returns the attributes of every reply
    /// (`dump`: `NLM_F_DUMP`, up to `NLMSG_DONE`).
    pub(crate) fn query(
        &mut self,
        msg: IpvsMessage,
        dump: bool,
        what: &'static str,
    ) -> Result<Vec<Vec<u8>>> {
        let mut genl = GenlMessage::from_payload(msg);
        genl.set_resolved_family_id(self.family);
        let flags = if dump { NLM_F_DUMP } else { NLM_F_ACK };
        let replies = self.exchange(genl, flags, what)?;
        replies
            .into_iter()
            .map(|(_, payload)| {
                // Skip the 4-byte generic netlink header.
                payload
                    .get(4..)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| Error::malformed("IPVS reply", "no generic netlink header"))
            })
            .collect()
    }

    /// Sends `payload` with `flags` and collects each reply of its
    /// sequence number as (message type, payload after the netlink
    /// header), up to the ack, the error or `NLMSG_DONE`.
    fn exchange<T: NetlinkSerializable + std::fmt::Debug>(
        &mut self,
        payload: T,
        flags: u16,
        what: &'static str,
    ) -> Result<Vec<(u16, Vec<u8>)>> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
        msg.finalize();
        let mut out = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut out);
        self.sock.send(&out, 0).map_err(|e| Error::io("send", e))?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut replies = Vec::new();
        loop {
            let n = self.receive()?;
            for frame in frames(&self.buf[..n]) {
                let frame = frame?;
                if frame.seq != seq {
                    continue;
                }
                match frame.end(what)? {
                    Some(Ok(())) => return Ok(replies),
                    Some(Err(k)) => return Err(Error::Kernel(k)),
                    None => {
                        replies.push((frame.kind, frame.body.to_vec()));
                        if !dump && flags & NLM_F_ACK == 0 {
                            return Ok(replies);
                        }
                    }
                }
            }
        }
    }

    /// Reads one datagram from the kernel into the buffer.
    fn receive(&mut self) -> Result<usize> {
        loop {
            let mut window: &mut [u8] = &mut self.buf[..];
            match self.sock.recv_from(&mut window, libc::MSG_TRUNC) {
                Ok((n, from)) => {
                    if from.port_number() != 0 {
                        continue;
                    }
                    if n > RECV_BUF_LEN {
                        return Err(Error::malformed(
                            "netlink reply",
                            "datagram larger than the receive buffer",
                        ));
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(Error::io(
                        "recvfrom",
                        io::Error::new(io::ErrorKind::TimedOut, "no reply from the kernel"),
                    ));
                }
                Err(e) => return Err(Error::io("recvfrom", e)),
            }
        }
    }
}

fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// One netlink message of a datagram.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) seq: u32,
    pub(crate) body: &'a [u8],
}

impl Frame<'_> {
    /// Whether this frame ends its request: `Some(Ok)` for an ack or
    /// the end of a dump, `Some(Err)` for a refusal, `None` for a reply.
    pub(crate) fn end(&self, what: &'static str) -> Result<Option<Result<(), KernelError>>> {
        match self.kind {
            NLMSG_ERROR => Ok(Some(match parse_error(self.flags, self.body, what)? {
                None => Ok(()),
                Some(k) => Err(k),
            })),
            NLMSG_DONE => {
                let code = self
                    .body
                    .get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                Ok(Some(if code < 0 {
                    Err(KernelError {
                        request: what,
                        errno: code.saturating_neg(),
                        message: None,
                    })
                } else {
                    Ok(())
                }))
            }
            _ => Ok(None),
        }
    }
}

/// The messages of a datagram, in order; a bad length is an error (and
/// ends the walk).
pub(crate) fn frames(datagram: &[u8]) -> impl Iterator<Item = Result<Frame<'_>>> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        if rest.len() < NLMSG_HEADER_LEN {
            return None;
        }
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < NLMSG_HEADER_LEN || len > rest.len() {
            rest = &[];
            return Some(Err(Error::malformed(
                "netlink reply",
                format!("length {len}"),
            )));
        }
        let frame = Frame {
            kind: u16::from_ne_bytes([rest[4], rest[5]]),
            flags: u16::from_ne_bytes([rest[6], rest[7]]),
            seq: u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]),
            body: &rest[NLMSG_HEADER_LEN..len],
        };
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(Ok(frame))
    })
}

/// Decodes an `NLMSG_ERROR` body: `Ok(None)` for an ack, else the errno
/// and the extended ack's message.
fn parse_error(flags: u16, body: &[u8], what: &'static str) -> Result<Option<KernelError>> {
    let code = body
        .get(..4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| Error::malformed("NLMSG_ERROR", "shorter than its code"))?;
    if code == 0 {
        return Ok(None);
    }
    let mut message = None;
    if flags & NLM_F_ACK_TLVS != 0 {
        let echoed = &body[4..];
        let skip = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HEADER_LEN
        } else {
            echoed
                .get(..4)
                .map(|b| align(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize))
                .unwrap_or(echoed.len())
        };
        if let Some(tlvs) = echoed.get(skip..) {
            for attr in attrs(tlvs, "extended ack").flatten() {
                if attr.0 == NLMSGERR_ATTR_MSG {
                    message = get_string(attr.1, "extended ack").ok();
                }
            }
        }
    }
    Ok(Some(KernelError {
        request: what,
        errno: code.saturating_neg(),
        message,
    }))
}

/// Bounds every read: a kernel that does not answer fails the request
/// after `timeout` instead of blocking its caller.
fn set_receive_timeout(sock: &Socket, timeout: Duration) -> Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
    };
    // SAFETY: the fd is the socket's own and open for its lifetime; `tv`
    // is a valid timeval that outlives the call, and its size is given.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::io("SO_RCVTIMEO", io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_with_an_extended_ack_names_the_kernel_message() {
        // code -EEXIST, a capped echo of the request header, then
        // NLMSGERR_ATTR_MSG "exists".
        let mut body = Vec::new();
        body.extend_from_slice(&(-libc::EEXIST).to_ne_bytes());
        body.extend_from_slice(&[0u8; 16]);
        body.extend_from_slice(&11u16.to_ne_bytes());
        body.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        body.extend_from_slice(b"exists\0\0");
        let err = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &body, "add service")
            .unwrap()
            .unwrap();
        assert!(err.is_exists());
        assert_eq!(err.message.as_deref(), Some("exists"));
        assert!(err.to_string().starts_with("add service: "));
    }

    #[test]
    fn an_ack_is_no_error_and_a_short_body_is_malformed() {
        assert_eq!(parse_error(0, &0i32.to_ne_bytes(), "x").unwrap(), None);
        assert!(parse_error(0, &[1, 2], "x").is_err());
        // Flags claiming TLVs over a body too short for them: no panic.
        let err = parse_error(NLM_F_ACK_TLVS, &(-1i32).to_ne_bytes(), "x")
            .unwrap()
            .unwrap();
        assert_eq!(err.errno, 1);
    }
}
