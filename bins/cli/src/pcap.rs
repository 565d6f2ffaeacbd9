//! A minimal reader for classic pcap files (Ethernet link type), enough to
//! decode captures of VRRP, ARP and NDP traffic. Untrusted input: every
//! malformed file yields a [`PcapError`], never a panic.

use std::time::Duration;

/// The pcap link type for Ethernet (`LINKTYPE_ETHERNET`).
pub const LINKTYPE_ETHERNET: u32 = 1;

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// Why a pcap file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcapError {
    /// The file is shorter than the 24-byte global header.
    #[error("file too short for a pcap header ({0} bytes)")]
    TooShort(usize),
    /// The magic number is not one of classic pcap's.
    #[error("not a pcap file (magic {0:#010x}); pcapng is not supported")]
    BadMagic(u32),
    /// A record header or body runs past the end of the file.
    #[error("record {index} at byte {offset} is truncated")]
    TruncatedRecord {
        /// The record's index, from 0.
        index: usize,
        /// Its byte offset in the file.
        offset: usize,
    },
}

/// A classic pcap file held in memory.
#[derive(Debug, Clone)]
pub struct Pcap<'a> {
    data: &'a [u8],
    big_endian: bool,
    nanos: bool,
    link_type: u32,
}

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The capture time, since the Unix epoch.
    pub timestamp: Duration,
    /// The captured bytes (possibly fewer than were on the wire).
    pub data: &'a [u8],
}

impl<'a> Pcap<'a> {
    /// Checks the global header.
    pub fn new(data: &'a [u8]) -> Result<Self, PcapError> {
        let header = data
            .get(..GLOBAL_HEADER_LEN)
            .ok_or(PcapError::TooShort(data.len()))?;
        let magic_le = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let (big_endian, nanos) = match magic_le {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            other => return Err(PcapError::BadMagic(other)),
        };
        let mut pcap = Pcap {
            data,
            big_endian,
            nanos,
            link_type: 0,
        };
        pcap.link_type = pcap.u32_at(header, 20);
        Ok(pcap)
    }

    /// The link type of every record ([`LINKTYPE_ETHERNET`] for Ethernet).
    pub fn link_type(&self) -> u32 {
        self.link_type
    }

    /// The records, in file order; a truncated record ends the iteration with an error.
    pub fn records(&self) -> Records<'a> {
        Records {
            pcap: self.clone(),
            offset: GLOBAL_HEADER_LEN,
            index: 0,
            done: false,
        }
    }

    fn u32_at(&self, bytes: &[u8], at: usize) -> u32 {
        let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
}

/// Iterator over the records of a [`Pcap`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    pcap: Pcap<'a>,
    offset: usize,
    index: usize,
    done: bool,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.offset >= self.pcap.data.len() {
            return None;
        }
        let truncated = PcapError::TruncatedRecord {
            index: self.index,
            offset: self.offset,
        };
        let Some(header) = self
            .pcap
            .data
            .get(self.offset..self.offset + RECORD_HEADER_LEN)
        else {
            self.done = true;
            return Some(Err(truncated));
        };
        let secs = self.pcap.u32_at(header, 0);
        let frac = self.pcap.u32_at(header, 4);
        let caplen = self.pcap.u32_at(header, 8) as usize;
        let start = self.offset + RECORD_HEADER_LEN;
        let Some(data) = start
            .checked_add(caplen)
            .and_then(|end| self.pcap.data.get(start..end))
        else {
            self.done = true;
            return Some(Err(truncated));
        };
        let sub = if self.pcap.nanos {
            Duration::from_nanos(u64::from(frac))
        } else {
            Duration::from_micros(u64::from(frac))
        };
        self.offset = start + caplen;
        self.index += 1;
        Some(Ok(Record {
            timestamp: Duration::from_secs(u64::from(secs)) + sub,
            data,
        }))
    }
}

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// An Ethernet II frame split into its parts (one 802.1Q tag is skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<'a> {
    /// Destination MAC.
    pub dst: [u8; 6],
    /// Source MAC.
    pub src: [u8; 6],
    /// EtherType of the payload.
    pub ethertype: u16,
    /// The payload after the Ethernet (and VLAN) header.
    pub payload: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    /// Splits a frame; `None` if it is shorter than its header.
    pub fn parse(frame: &'a [u8]) -> Option<Self> {
        let dst: [u8; 6] = frame.get(0..6)?.try_into().ok()?;
        let src: [u8; 6] = frame.get(6..12)?.try_into().ok()?;
        let mut ethertype = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
        let mut payload = frame.get(14..)?;
        if ethertype == 0x8100 {
            ethertype = u16::from_be_bytes(payload.get(2..4)?.try_into().ok()?);
            payload = payload.get(4..)?;
        }
        Some(EthernetFrame {
            dst,
            src,
            ethertype,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../testdata/keepalived/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn reads_every_record_of_a_keepalived_capture() {
        let bytes = capture("keepalived-v3-ipv6.pcap");
        let pcap = Pcap::new(&bytes).unwrap();
        assert_eq!(pcap.link_type(), LINKTYPE_ETHERNET);
        let records: Vec<_> = pcap.records().collect::<Result<_, _>>().unwrap();
        assert!(records.len() > 10);
        let ipv6 = records
            .iter()
            .filter_map(|r| EthernetFrame::parse(r.data))
            .filter(|f| f.ethertype == ETHERTYPE_IPV6)
            .count();
        assert_eq!(ipv6, records.len(), "the v6 capture holds only IPv6 frames");
        assert!(records.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    }

    #[test]
    fn truncation_is_an_error_at_every_length() {
        let bytes = capture("keepalived-v2-ipv4-auth.pcap");
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            match Pcap::new(cut) {
                Err(PcapError::TooShort(n)) => assert_eq!(n, len),
                Err(e) => panic!("unexpected {e}"),
                Ok(p) => {
                    let _ = p.records().count();
                }
            }
        }
        assert_eq!(Pcap::new(&[0u8; 24]).unwrap_err(), PcapError::BadMagic(0));
    }

    #[test]
    fn short_ethernet_frames_are_refused() {
        assert!(EthernetFrame::parse(&[0u8; 13]).is_none());
        let mut vlan = vec![0u8; 12];
        vlan.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x06, 0xaa]);
        let f = EthernetFrame::parse(&vlan).unwrap();
        assert_eq!(f.ethertype, ETHERTYPE_ARP);
        assert_eq!(f.payload, &[0xaa]);
    }
}
