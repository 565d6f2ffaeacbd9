//! A bounds-checked walk over netlink attributes (type-length-value), used
//! where we need positions as well as values: extended acks and their
//! offsets. Untrusted input never panics here.

use crate::error::{Error, Result};

/// Attribute header length.
pub(crate) const TLV_HEADER_LEN: usize = 4;
/// Netlink aligns attributes and messages to 4 bytes.
pub(crate) const ALIGN: usize = 4;

pub(crate) fn align(len: usize) -> usize {
    len.div_ceil(ALIGN) * ALIGN
}

/// One attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    /// The type with the NESTED and BYTEORDER bits masked off.
    pub(crate) kind: u16,
    /// Where the attribute header starts, relative to the walked slice.
    pub(crate) offset: usize,
    /// The declared length including the header (unaligned).
    pub(crate) len: usize,
    /// The value.
    pub(crate) value: &'a [u8],
}

/// Iterates over the attributes in `buf`; yields an error (once) for an
/// attribute whose length field is impossible.
pub(crate) fn tlvs(buf: &[u8]) -> TlvIter<'_> {
    TlvIter {
        buf,
        pos: 0,
        failed: false,
    }
}

/// See [`tlvs`].
pub(crate) struct TlvIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let header = rest.get(..TLV_HEADER_LEN).and_then(|h| {
            let len = usize::from(u16::from_ne_bytes([h[0], h[1]]));
            let kind = u16::from_ne_bytes([h[2], h[3]]) & 0x3fff;
            (len >= TLV_HEADER_LEN && len <= rest.len()).then_some((len, kind))
        });
        let Some((len, kind)) = header else {
            self.failed = true;
            return Some(Err(Error::malformed(
                "netlink attribute",
                format!(
                    "bad attribute length at byte {} of {}",
                    self.pos,
                    self.buf.len()
                ),
            )));
        };
        let tlv = Tlv {
            kind,
            offset: self.pos,
            len,
            value: &rest[TLV_HEADER_LEN..len],
        };
        self.pos += align(len);
        Some(Ok(tlv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_aligned_attributes() {
        // IFA_LABEL "ab" (len 7, padded to 8), then IFA_FLAGS u32.
        let buf = [7, 0, 3, 0, b'a', b'b', 0, 0, 8, 0, 8, 0, 1, 0, 0, 0];
        let all: Vec<_> = tlvs(&buf).collect::<Result<_>>().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].kind, all[0].offset, all[0].value),
            (3, 0, &b"ab\0"[..])
        );
        assert_eq!(
            (all[1].kind, all[1].offset, all[1].value),
            (8, 8, &[1, 0, 0, 0][..])
        );
    }

    #[test]
    fn masks_nested_flag() {
        let buf = [4, 0, 0x12, 0x80];
        assert_eq!(tlvs(&buf).next().unwrap().unwrap().kind, 0x12);
    }

    #[test]
    fn lying_lengths_are_errors_not_panics() {
        for buf in [&[2u8, 0, 1, 0][..], &[9, 0, 1, 0, 0, 0, 0, 0], &[1, 0, 0]] {
            let mut it = tlvs(buf);
            assert!(it.next().unwrap().is_err(), "{buf:?}");
            assert!(it.next().is_none());
        }
    }
}
