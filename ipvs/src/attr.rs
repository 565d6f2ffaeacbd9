//! Netlink attributes (TLVs) as IPVS uses them: a writer that nests, and
//! a checked reader over [`NlasIterator`]. Values are in host byte order
//! except ports (`__be16`) and the IPv4 persistence netmask (`__be32`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{NLA_F_NESTED, NLA_HEADER_SIZE, NLA_TYPE_MASK, NlaBuffer, NlasIterator};

use crate::constants::{AF_INET, AF_INET6};
use crate::error::{Error, Result};

/// Appends attributes to a message payload.
#[derive(Debug, Default)]
pub(crate) struct AttrWriter {
    buf: Vec<u8>,
}

impl AttrWriter {
    /// The encoded attributes.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// One attribute of `kind` with `value`, padded to 4 bytes.
    pub(crate) fn bytes(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = (NLA_HEADER_SIZE + value.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    pub(crate) fn u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.bytes(kind, &[v])
    }

    pub(crate) fn u16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.bytes(kind, &v.to_ne_bytes())
    }

    pub(crate) fn be16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.bytes(kind, &v.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.bytes(kind, &v.to_ne_bytes())
    }

    /// A NUL-terminated string.
    pub(crate) fn string(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.bytes(kind, &v)
    }

    /// An address as `union nf_inet_addr`: 16 bytes, IPv4 in the first 4.
    pub(crate) fn inet_addr(&mut self, kind: u16, addr: IpAddr) -> &mut Self {
        let mut v = [0u8; 16];
        match addr {
            IpAddr::V4(a) => v[..4].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => v.copy_from_slice(&a.octets()),
        }
        self.bytes(kind, &v)
    }

    /// A nested attribute whose contents `fill` writes.
    pub(crate) fn nested(&mut self, kind: u16, fill: impl FnOnce(&mut AttrWriter)) -> &mut Self {
        let mut inner = AttrWriter::default();
        fill(&mut inner);
        let inner = inner.finish();
        self.bytes(kind | NLA_F_NESTED, &inner)
    }
}

/// Each attribute of `payload` as (type without flags, value).
pub(crate) fn attrs<'a>(
    payload: &'a [u8],
    what: &'static str,
) -> impl Iterator<Item = Result<(u16, &'a [u8])>> + 'a {
    NlasIterator::new(payload).map(move |nla| {
        let nla: NlaBuffer<&[u8]> =
            nla.map_err(|e| Error::malformed(what, format!("attribute: {e}")))?;
        let kind = nla.kind() & NLA_TYPE_MASK;
        let len = usize::from(nla.length());
        // new_checked (inside the iterator) checked NLA_HEADER_SIZE <= len <= the rest.
        let inner: &'a [u8] = nla.into_inner();
        let value = inner.get(NLA_HEADER_SIZE..len).unwrap_or_default();
        Ok((kind, value))
    })
}

/// A value of exactly `N` bytes.
fn exact<const N: usize>(v: &[u8], what: &'static str) -> Result<[u8; N]> {
    v.get(..N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or_else(|| Error::malformed(what, format!("{} bytes, expected {N}", v.len())))
}

pub(crate) fn get_u8(v: &[u8], what: &'static str) -> Result<u8> {
    Ok(exact::<1>(v, what)?[0])
}

pub(crate) fn get_u16(v: &[u8], what: &'static str) -> Result<u16> {
    Ok(u16::from_ne_bytes(exact(v, what)?))
}

pub(crate) fn get_be16(v: &[u8], what: &'static str) -> Result<u16> {
    Ok(u16::from_be_bytes(exact(v, what)?))
}

pub(crate) fn get_u32(v: &[u8], what: &'static str) -> Result<u32> {
    Ok(u32::from_ne_bytes(exact(v, what)?))
}

/// A counter that is 32 bits in `IPVS_*_ATTR_STATS` and 64 in `STATS64`.
pub(crate) fn get_counter(v: &[u8], what: &'static str) -> Result<u64> {
    match v.len() {
        4 => Ok(u64::from(get_u32(v, what)?)),
        _ => Ok(u64::from_ne_bytes(exact(v, what)?)),
    }
}

/// A NUL-terminated (or unterminated) UTF-8 string.
pub(crate) fn get_string(v: &[u8], what: &'static str) -> Result<String> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    std::str::from_utf8(&v[..end])
        .map(str::to_string)
        .map_err(|_| Error::malformed(what, "not UTF-8".to_string()))
}

/// An `nf_inet_addr` of address family `af`.
pub(crate) fn get_inet_addr(v: &[u8], af: u16, what: &'static str) -> Result<IpAddr> {
    match af {
        AF_INET => Ok(IpAddr::V4(Ipv4Addr::from(exact::<4>(v, what)?))),
        AF_INET6 => Ok(IpAddr::V6(Ipv6Addr::from(exact::<16>(v, what)?))),
        other => Err(Error::malformed(what, format!("address family {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_padded_nested_attributes_the_reader_walks() {
        let mut w = AttrWriter::default();
        w.nested(1, |w| {
            w.u16(1, AF_INET).string(6, "wlc").be16(4, 80);
        })
        .u8(13, 2);
        let buf = w.finish();
        assert_eq!(buf.len() % 4, 0);
        let top: Vec<_> = attrs(&buf, "test").collect::<Result<_>>().unwrap();
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].0, 1, "the nested flag is masked off");
        let inner: Vec<_> = attrs(top[0].1, "test").collect::<Result<_>>().unwrap();
        assert_eq!(get_u16(inner[0].1, "af").unwrap(), AF_INET);
        assert_eq!(get_string(inner[1].1, "sched").unwrap(), "wlc");
        assert_eq!(inner[2].1, &[0, 80]);
        assert_eq!(get_be16(inner[2].1, "port").unwrap(), 80);
        assert_eq!(get_u8(top[1].1, "tun").unwrap(), 2);
    }

    #[test]
    fn short_values_are_errors_not_panics() {
        assert!(get_u32(&[1, 2], "x").is_err());
        assert!(get_inet_addr(&[1, 2, 3], AF_INET, "x").is_err());
        assert!(get_inet_addr(&[0; 16], 99, "x").is_err());
        assert!(attrs(&[8, 0, 1], "x").next().unwrap().is_err());
    }
}
