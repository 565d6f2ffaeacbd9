//! Ancillary data (control messages, `cmsg(3)`) for `recvmsg`/`sendmsg`,
//! read and written as plain bytes.
//!
//! The kernel copies control buffers in and out with `copy_{from,to}_user`,
//! so a user buffer needs no alignment; only the offsets inside it follow
//! the `CMSG_ALIGN` rule (a multiple of `sizeof(long)`). Working on byte
//! slices keeps every bounds check explicit: the only unsafe code is the
//! unaligned read and write of the fixed-size `cmsghdr` itself.

use std::mem::{offset_of, size_of};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Rounds `len` up to the kernel's control-message alignment, `sizeof(long)`.
const fn align(len: usize) -> usize {
    let a = size_of::<libc::c_long>();
    (len + a - 1) & !(a - 1)
}

/// Bytes from the start of a control message to its data (`CMSG_LEN(0)`).
const HEADER_LEN: usize = align(size_of::<libc::cmsghdr>());

/// `CMSG_SPACE(data_len)`: the room one control message takes in a buffer.
pub const fn space(data_len: usize) -> usize {
    HEADER_LEN + align(data_len)
}

/// `CMSG_LEN(data_len)`: the value of `cmsg_len` for `data_len` data bytes.
const fn cmsg_len(data_len: usize) -> usize {
    HEADER_LEN + data_len
}

/// Size of `struct in_pktinfo` (IPv4 `IP_PKTINFO`).
pub const IN_PKTINFO_LEN: usize = size_of::<libc::in_pktinfo>();
/// Size of `struct in6_pktinfo` (IPv6 `IPV6_PKTINFO`).
pub const IN6_PKTINFO_LEN: usize = size_of::<libc::in6_pktinfo>();
/// Size of the `int` carried by `IP_TTL` and `IPV6_HOPLIMIT` messages.
pub const INT_LEN: usize = size_of::<libc::c_int>();
/// Size of the `struct timespec` carried by `SCM_TIMESTAMPNS` messages.
pub const TIMESPEC_LEN: usize = size_of::<libc::timespec>();

/// One control message: its level (`IPPROTO_IP`, ...), type and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cmsg<'a> {
    /// `cmsg_level`.
    pub level: libc::c_int,
    /// `cmsg_type`.
    pub kind: libc::c_int,
    /// The data, `cmsg_len - CMSG_LEN(0)` bytes.
    pub data: &'a [u8],
}

/// Iterates over the control messages in the filled part of a buffer.
///
/// A header whose length is impossible (shorter than a header, or running
/// past the buffer) ends the iteration, as `CMSG_NXTHDR` does.
pub fn iter(buf: &[u8]) -> impl Iterator<Item = Cmsg<'_>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.len() < size_of::<libc::cmsghdr>() {
            return None;
        }
        // SAFETY: `rest` holds at least `size_of::<cmsghdr>()` bytes (checked
        // above); `read_unaligned` needs no alignment, and `cmsghdr` is a
        // plain C struct of integers, for which any bit pattern is valid.
        let header: libc::cmsghdr = unsafe { std::ptr::read_unaligned(rest.as_ptr().cast()) };
        // `cmsg_len` is `size_t` with glibc and `socklen_t` with musl.
        #[allow(clippy::unnecessary_cast)]
        let len = header.cmsg_len as usize;
        if len < HEADER_LEN || len > rest.len() {
            return None;
        }
        let msg = Cmsg {
            level: header.cmsg_level,
            kind: header.cmsg_type,
            data: &rest[HEADER_LEN..len],
        };
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(msg)
    })
}

/// Writes one control message at the start of `buf` and returns the bytes
/// used (`CMSG_SPACE(data.len())`), or `None` if `buf` is too small.
pub fn write(buf: &mut [u8], level: libc::c_int, kind: libc::c_int, data: &[u8]) -> Option<usize> {
    let used = space(data.len());
    let out = buf.get_mut(..used)?;
    out.fill(0);
    // SAFETY: `cmsghdr` is a plain C struct of integers (plus padding on
    // some libcs); all-zero is a valid value.
    let mut header: libc::cmsghdr = unsafe { std::mem::zeroed() };
    header.cmsg_len = cmsg_len(data.len()) as _;
    header.cmsg_level = level;
    header.cmsg_type = kind;
    // SAFETY: `out` holds `used ≥ HEADER_LEN ≥ size_of::<cmsghdr>()` bytes;
    // `write_unaligned` needs no alignment.
    unsafe { std::ptr::write_unaligned(out.as_mut_ptr().cast(), header) };
    out[HEADER_LEN..HEADER_LEN + data.len()].copy_from_slice(data);
    Some(used)
}

/// The fields of `struct in_pktinfo` this crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InPktinfo {
    /// `ipi_ifindex`: the interface the packet arrived on (or leaves by).
    pub ifindex: u32,
    /// `ipi_spec_dst`: on send, the source address to use.
    pub spec_dst: Ipv4Addr,
    /// `ipi_addr`: on receive, the destination address in the IP header.
    pub addr: Ipv4Addr,
}

impl InPktinfo {
    /// Reads an `IP_PKTINFO` message's data.
    pub fn decode(data: &[u8]) -> Option<Self> {
        if data.len() < IN_PKTINFO_LEN {
            return None;
        }
        let ifindex = read_int(data, offset_of!(libc::in_pktinfo, ipi_ifindex))?;
        Some(InPktinfo {
            ifindex: u32::try_from(ifindex).ok()?,
            spec_dst: read_v4(data, offset_of!(libc::in_pktinfo, ipi_spec_dst))?,
            addr: read_v4(data, offset_of!(libc::in_pktinfo, ipi_addr))?,
        })
    }

    /// The bytes of the `struct in_pktinfo`.
    pub fn encode(&self) -> [u8; IN_PKTINFO_LEN] {
        let mut out = [0; IN_PKTINFO_LEN];
        let ifindex = libc::c_int::try_from(self.ifindex).unwrap_or(0);
        put(
            &mut out,
            offset_of!(libc::in_pktinfo, ipi_ifindex),
            &ifindex.to_ne_bytes(),
        );
        put(
            &mut out,
            offset_of!(libc::in_pktinfo, ipi_spec_dst),
            &self.spec_dst.octets(),
        );
        put(
            &mut out,
            offset_of!(libc::in_pktinfo, ipi_addr),
            &self.addr.octets(),
        );
        out
    }
}

/// `struct in6_pktinfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct In6Pktinfo {
    /// `ipi6_addr`: the destination on receive, the source on send.
    pub addr: Ipv6Addr,
    /// `ipi6_ifindex`: the interface the packet arrived on (or leaves by).
    pub ifindex: u32,
}

impl In6Pktinfo {
    /// Reads an `IPV6_PKTINFO` message's data.
    pub fn decode(data: &[u8]) -> Option<Self> {
        if data.len() < IN6_PKTINFO_LEN {
            return None;
        }
        let at = offset_of!(libc::in6_pktinfo, ipi6_addr);
        let octets: [u8; 16] = data.get(at..at + 16)?.try_into().ok()?;
        let at = offset_of!(libc::in6_pktinfo, ipi6_ifindex);
        let ifindex = u32::from_ne_bytes(data.get(at..at + 4)?.try_into().ok()?);
        Some(In6Pktinfo {
            addr: Ipv6Addr::from(octets),
            ifindex,
        })
    }

    /// The bytes of the `struct in6_pktinfo`.
    pub fn encode(&self) -> [u8; IN6_PKTINFO_LEN] {
        let mut out = [0; IN6_PKTINFO_LEN];
        put(
            &mut out,
            offset_of!(libc::in6_pktinfo, ipi6_addr),
            &self.addr.octets(),
        );
        put(
            &mut out,
            offset_of!(libc::in6_pktinfo, ipi6_ifindex),
            &self.ifindex.to_ne_bytes(),
        );
        out
    }
}

/// Reads the `int` TTL or hop limit of an `IP_TTL` / `IPV6_HOPLIMIT`
/// message; `None` unless it is in 0..=255.
pub fn decode_hop_limit(data: &[u8]) -> Option<u8> {
    u8::try_from(read_int(data, 0)?).ok()
}

/// Reads the `struct timespec` of an `SCM_TIMESTAMPNS` message: when the
/// kernel received the packet, on the realtime clock. `None` for a short
/// message or a time before 1970 or past what [`SystemTime`] holds.
///
/// [`SystemTime`]: std::time::SystemTime
pub fn decode_timestamp(data: &[u8]) -> Option<std::time::SystemTime> {
    let sec_at = offset_of!(libc::timespec, tv_sec);
    let nsec_at = offset_of!(libc::timespec, tv_nsec);
    let sec_len = size_of::<libc::time_t>();
    let nsec_len = size_of::<libc::c_long>();
    if data.len() < TIMESPEC_LEN {
        return None;
    }
    let sec = libc::time_t::from_ne_bytes(data.get(sec_at..sec_at + sec_len)?.try_into().ok()?);
    let nsec = libc::c_long::from_ne_bytes(data.get(nsec_at..nsec_at + nsec_len)?.try_into().ok()?);
    let sec = u64::try_from(sec).ok()?;
    let nsec = u32::try_from(nsec).ok().filter(|n| *n < 1_000_000_000)?;
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::new(sec, nsec))
}

fn read_int(data: &[u8], at: usize) -> Option<libc::c_int> {
    let bytes = data.get(at..at + INT_LEN)?.try_into().ok()?;
    Some(libc::c_int::from_ne_bytes(bytes))
}

fn read_v4(data: &[u8], at: usize) -> Option<Ipv4Addr> {
    let octets: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(octets))
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_libc_macros() {
        for n in [0, 1, 4, 12, 20, 33] {
            let n32 = u32::try_from(n).unwrap();
            // SAFETY: CMSG_SPACE and CMSG_LEN are pure arithmetic.
            let (s, l) = unsafe { (libc::CMSG_SPACE(n32), libc::CMSG_LEN(n32)) };
            assert_eq!(space(n), s as usize, "CMSG_SPACE({n})");
            assert_eq!(cmsg_len(n), l as usize, "CMSG_LEN({n})");
        }
        assert_eq!(IN_PKTINFO_LEN, 12);
        assert_eq!(IN6_PKTINFO_LEN, 20);
    }

    #[test]
    fn written_messages_iterate_back() {
        let mut buf = [0xaa_u8; 128];
        let info = InPktinfo {
            ifindex: 7,
            spec_dst: Ipv4Addr::new(198, 18, 0, 1),
            addr: Ipv4Addr::new(224, 0, 0, 18),
        };
        let a = write(&mut buf, libc::IPPROTO_IP, libc::IP_PKTINFO, &info.encode()).unwrap();
        let b = write(
            &mut buf[a..],
            libc::IPPROTO_IP,
            libc::IP_TTL,
            &254_i32.to_ne_bytes(),
        )
        .unwrap();
        let msgs: Vec<_> = iter(&buf[..a + b]).collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            (msgs[0].level, msgs[0].kind),
            (libc::IPPROTO_IP, libc::IP_PKTINFO)
        );
        assert_eq!(InPktinfo::decode(msgs[0].data), Some(info));
        assert_eq!(msgs[1].kind, libc::IP_TTL);
        assert_eq!(decode_hop_limit(msgs[1].data), Some(254));
    }

    #[test]
    fn in6_pktinfo_round_trips() {
        let info = In6Pktinfo {
            addr: "fe80::1".parse().unwrap(),
            ifindex: 3,
        };
        assert_eq!(In6Pktinfo::decode(&info.encode()), Some(info));
        assert_eq!(In6Pktinfo::decode(&info.encode()[..19]), None);
    }

    #[test]
    fn malformed_headers_end_iteration_without_panic() {
        // Too short for a header.
        assert_eq!(iter(&[1, 2, 3]).count(), 0);
        // A header claiming more than the buffer holds.
        let mut buf = [0_u8; 64];
        let used = write(&mut buf, 1, 2, &[9; 8]).unwrap();
        assert_eq!(iter(&buf[..used - 1]).count(), 0);
        // A header claiming less than a header.
        let mut bad = buf;
        bad[..size_of::<usize>()].copy_from_slice(&1_usize.to_ne_bytes());
        assert_eq!(iter(&bad).count(), 0);
        // Every prefix of a valid buffer is handled.
        for cut in 0..=used {
            let _ = iter(&buf[..cut]).count();
        }
    }

    #[test]
    fn write_refuses_a_small_buffer() {
        let mut buf = [0_u8; 8];
        assert_eq!(write(&mut buf, 0, 0, &[1, 2, 3, 4]), None);
    }

    #[test]
    fn timestamps_decode_and_nonsense_is_refused() {
        let stamp = |sec: libc::time_t, nsec: libc::c_long| {
            let mut out = [0_u8; TIMESPEC_LEN];
            let sec_at = offset_of!(libc::timespec, tv_sec);
            let nsec_at = offset_of!(libc::timespec, tv_nsec);
            put(&mut out, sec_at, &sec.to_ne_bytes());
            put(&mut out, nsec_at, &nsec.to_ne_bytes());
            out
        };
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_796_000_000, 123_456_789);
        assert_eq!(
            decode_timestamp(&stamp(1_796_000_000, 123_456_789)),
            Some(t)
        );
        assert_eq!(decode_timestamp(&stamp(-1, 0)), None);
        assert_eq!(decode_timestamp(&stamp(5, 1_000_000_000)), None);
        assert_eq!(decode_timestamp(&stamp(5, -1)), None);
        assert_eq!(decode_timestamp(&stamp(5, 0)[..TIMESPEC_LEN - 1]), None);
    }

    #[test]
    fn hop_limit_out_of_range_is_refused() {
        assert_eq!(decode_hop_limit(&256_i32.to_ne_bytes()), None);
        assert_eq!(decode_hop_limit(&(-1_i32).to_ne_bytes()), None);
        assert_eq!(decode_hop_limit(&[1, 2]), None);
    }
}
