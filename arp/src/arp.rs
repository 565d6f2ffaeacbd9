//! ARP messages for IPv4 over Ethernet (RFC 826), and the gratuitous form
//! that announces an address's new MAC.

use std::net::Ipv4Addr;

use pnet_packet::arp::{
    ArpHardwareTypes, ArpOperation as PnetArpOperation, ArpPacket, MutableArpPacket,
};
use pnet_packet::ethernet::{EtherType, EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::{MutablePacket, Packet};

use crate::error::{BufferTooSmall, ParseError};
use crate::frame::{ETHERNET_HEADER_LEN, ETHERNET_MIN_FRAME_LEN, from_pnet_mac, to_pnet_mac};
use vrrp_core::MacAddr;

/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// Length of an ARP body for IPv4 over Ethernet.
const ARP_LEN: usize = 28;

/// The ARP opcode (`ar$op`, RFC 826).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    /// Opcode 1. The form keepalived sends by default for gratuitous ARP.
    Request,
    /// Opcode 2. Some switches only learn from gratuitous replies.
    Reply,
}

impl ArpOperation {
    fn code(self) -> u16 {
        match self {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
        }
    }
}

/// One ARP message in an Ethernet frame, IPv4 over Ethernet only.
///
/// A checked, owned representation in the smoltcp style:
/// [`parse`](Self::parse) accepts any well-formed frame and
/// [`emit`](Self::emit) writes it back, padded to the 60-byte Ethernet minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpMessage {
    /// Ethernet destination.
    pub eth_dst: MacAddr,
    /// Ethernet source.
    pub eth_src: MacAddr,
    /// Request or reply.
    pub operation: ArpOperation,
    /// `ar$sha`: the link-layer address being announced.
    pub sender_mac: MacAddr,
    /// `ar$spa`.
    pub sender_ip: Ipv4Addr,
    /// `ar$tha`.
    pub target_mac: MacAddr,
    /// `ar$tpa`.
    pub target_ip: Ipv4Addr,
}

impl ArpMessage {
    /// Length of an emitted frame: 14 + 28 bytes padded to the 60-byte
    /// minimum (IEEE 802.3 without the FCS, which the NIC appends).
    pub const FRAME_LEN: usize = ETHERNET_MIN_FRAME_LEN;

    /// A gratuitous ARP announcing that `ip` is at `mac`, broadcast from `mac`.
    ///
    /// Both forms set SPA = TPA = `ip` (RFC 5227 §2.3, RFC 5944 §4.6):
    /// - [`ArpOperation::Request`]: THA is zero, as RFC 5227 §2.3 says for an
    ///   ARP Announcement. keepalived and iputils `arping -U` put
    ///   `ff:ff:ff:ff:ff:ff` there instead; receivers ignore THA in requests.
    /// - [`ArpOperation::Reply`]: THA = SHA = `mac`, as RFC 5944 §4.6 says.
    ///   Linux only treats a reply as gratuitous (and lets it override a
    ///   recently updated entry) when THA equals SHA (`arp_is_garp()`).
    pub fn gratuitous(ip: Ipv4Addr, mac: MacAddr, operation: ArpOperation) -> ArpMessage {
        let target_mac = match operation {
            ArpOperation::Request => MacAddr::ZERO,
            ArpOperation::Reply => mac,
        };
        ArpMessage {
            eth_dst: MacAddr::BROADCAST,
            eth_src: mac,
            operation,
            sender_mac: mac,
            sender_ip: ip,
            target_mac,
            target_ip: ip,
        }
    }

    /// Whether this announces the sender's own address (SPA = TPA), in either form.
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    /// Parses an Ethernet frame holding an ARP message; trailing padding is ignored.
    pub fn parse(frame: &[u8]) -> Result<ArpMessage, ParseError> {
        let eth = ethernet(frame)?;
        match eth.get_ethertype() {
            EtherTypes::Arp => ArpMessage::parse_body(&eth),
            other => Err(ParseError::UnsupportedEtherType(other.0)),
        }
    }

    /// Parses the ARP body of an Ethernet frame whose EtherType is ARP.
    pub(crate) fn parse_body(eth: &EthernetPacket<'_>) -> Result<ArpMessage, ParseError> {
        let body = eth.payload();
        let arp = ArpPacket::new(body).ok_or(ParseError::Truncated {
            layer: "ARP message",
            needed: ARP_LEN,
            available: body.len(),
        })?;
        // pnet reads fixed offsets, which are only right for Ethernet/IPv4.
        let (hardware, protocol) = (arp.get_hardware_type(), arp.get_protocol_type());
        let (hardware_len, protocol_len) = (arp.get_hw_addr_len(), arp.get_proto_addr_len());
        if hardware != ArpHardwareTypes::Ethernet
            || protocol != EtherTypes::Ipv4
            || hardware_len != 6
            || protocol_len != 4
        {
            return Err(ParseError::UnsupportedArpFormat {
                hardware: hardware.0,
                protocol: protocol.0,
                hardware_len,
                protocol_len,
            });
        }
        let operation = match arp.get_operation().0 {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => return Err(ParseError::UnknownArpOperation(other)),
        };
        Ok(ArpMessage {
            eth_dst: from_pnet_mac(eth.get_destination()),
            eth_src: from_pnet_mac(eth.get_source()),
            operation,
            sender_mac: from_pnet_mac(arp.get_sender_hw_addr()),
            sender_ip: arp.get_sender_proto_addr(),
            target_mac: from_pnet_mac(arp.get_target_hw_addr()),
            target_ip: arp.get_target_proto_addr(),
        })
    }

    /// Writes the frame into `buf`, zero-padded to [`Self::FRAME_LEN`], and
    /// returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let available = buf.len();
        let frame = buf.get_mut(..Self::FRAME_LEN).ok_or(BufferTooSmall {
            needed: Self::FRAME_LEN,
            available,
        })?;
        frame.fill(0);
        let mut eth = MutableEthernetPacket::new(frame).ok_or(BufferTooSmall {
            needed: Self::FRAME_LEN,
            available,
        })?;
        eth.set_destination(to_pnet_mac(self.eth_dst));
        eth.set_source(to_pnet_mac(self.eth_src));
        eth.set_ethertype(EtherType(ETHERTYPE_ARP));
        let mut arp = MutableArpPacket::new(eth.payload_mut()).ok_or(BufferTooSmall {
            needed: ETHERNET_HEADER_LEN + ARP_LEN,
            available,
        })?;
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(PnetArpOperation(self.operation.code()));
        arp.set_sender_hw_addr(to_pnet_mac(self.sender_mac));
        arp.set_sender_proto_addr(self.sender_ip);
        arp.set_target_hw_addr(to_pnet_mac(self.target_mac));
        arp.set_target_proto_addr(self.target_ip);
        Ok(Self::FRAME_LEN)
    }

    /// The emitted frame as a new vector of [`Self::FRAME_LEN`] bytes.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut frame = vec![0; Self::FRAME_LEN];
        let written = self
            .emit(&mut frame)
            .expect("the buffer is exactly FRAME_LEN bytes");
        frame.truncate(written);
        frame
    }
}

/// The Ethernet header view of `frame`, or a typed error if it is too short.
pub(crate) fn ethernet(frame: &[u8]) -> Result<EthernetPacket<'_>, ParseError> {
    EthernetPacket::new(frame).ok_or(ParseError::Truncated {
        layer: "Ethernet header",
        needed: ETHERNET_HEADER_LEN,
        available: frame.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36]);
    const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);

    /// Our request form for 198.18.0.100 from 76:ec:ab:a0:2d:36, as
    /// `tcpdump -nn -vv -XX` printed it (sent by `garp 198.18.0.100 dev eth0
    /// --mac 76:ec:ab:a0:2d:36 --count 1` across a veth between two namespaces):
    ///
    /// ```text
    /// ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 198.18.0.100 tell 198.18.0.100, length 46
    ///   0x0000:  ffff ffff ffff 76ec aba0 2d36 0806 0001  ......v...-6....
    ///   0x0010:  0800 0604 0001 76ec aba0 2d36 c612 0064  ......v...-6...d
    ///   0x0020:  0000 0000 0000 c612 0064 0000 0000 0000  .........d......
    ///   0x0030:  0000 0000 0000 0000 0000 0000            ............
    /// ```
    const REQUEST_FRAME: [u8; 60] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36, 0xc6, 0x12,
        0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x64, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// The reply form (`garp … --reply`), as `tcpdump -nn -vv -XX` printed it:
    ///
    /// ```text
    /// ARP, Ethernet (len 6), IPv4 (len 4), Reply 198.18.0.100 is-at 76:ec:ab:a0:2d:36, length 46
    ///   0x0000:  ffff ffff ffff 76ec aba0 2d36 0806 0001  ......v...-6....
    ///   0x0010:  0800 0604 0002 76ec aba0 2d36 c612 0064  ......v...-6...d
    ///   0x0020:  76ec aba0 2d36 c612 0064 0000 0000 0000  v...-6...d......
    ///   0x0030:  0000 0000 0000 0000 0000 0000            ............
    /// ```
    const REPLY_FRAME: [u8; 60] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36, 0xc6, 0x12,
        0x00, 0x64, 0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36, 0xc6, 0x12, 0x00, 0x64, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn gratuitous_request_is_byte_exact() {
        let frame = ArpMessage::gratuitous(VIP, MAC, ArpOperation::Request).to_frame();
        assert_eq!(frame, REQUEST_FRAME);
    }

    #[test]
    fn gratuitous_reply_is_byte_exact() {
        let frame = ArpMessage::gratuitous(VIP, MAC, ArpOperation::Reply).to_frame();
        assert_eq!(frame, REPLY_FRAME);
    }

    #[test]
    fn parse_reads_back_both_forms() {
        for (frame, op) in [
            (&REQUEST_FRAME, ArpOperation::Request),
            (&REPLY_FRAME, ArpOperation::Reply),
        ] {
            let msg = ArpMessage::parse(frame).unwrap();
            assert_eq!(msg, ArpMessage::gratuitous(VIP, MAC, op));
            assert!(msg.is_gratuitous());
        }
    }

    #[test]
    fn emit_refuses_a_short_buffer() {
        let mut buf = [0u8; 59];
        let err = ArpMessage::gratuitous(VIP, MAC, ArpOperation::Request)
            .emit(&mut buf)
            .unwrap_err();
        assert_eq!(
            err,
            BufferTooSmall {
                needed: 60,
                available: 59
            }
        );
    }

    #[test]
    fn unpadded_frames_parse_but_cut_ones_do_not() {
        // keepalived's frames are 42 bytes on the sending host; padding is optional.
        assert!(ArpMessage::parse(&REQUEST_FRAME[..42]).is_ok());
        assert_eq!(
            ArpMessage::parse(&REQUEST_FRAME[..41]),
            Err(ParseError::Truncated {
                layer: "ARP message",
                needed: 28,
                available: 27
            })
        );
        assert!(matches!(
            ArpMessage::parse(&REQUEST_FRAME[..13]),
            Err(ParseError::Truncated {
                layer: "Ethernet header",
                ..
            })
        ));
    }

    #[test]
    fn non_ipv4_ethernet_arp_and_unknown_opcodes_are_refused() {
        let mut frame = REQUEST_FRAME;
        frame[19] = 16; // ar$pln
        assert!(matches!(
            ArpMessage::parse(&frame),
            Err(ParseError::UnsupportedArpFormat {
                protocol_len: 16,
                ..
            })
        ));
        let mut frame = REQUEST_FRAME;
        frame[15] = 6; // ar$hrd = IEEE 802
        assert!(matches!(
            ArpMessage::parse(&frame),
            Err(ParseError::UnsupportedArpFormat { hardware: 6, .. })
        ));
        let mut frame = REQUEST_FRAME;
        frame[21] = 8; // InARP request
        assert_eq!(
            ArpMessage::parse(&frame),
            Err(ParseError::UnknownArpOperation(8))
        );
        let mut frame = REQUEST_FRAME;
        frame[13] = 0x00; // EtherType 0x0800
        assert_eq!(
            ArpMessage::parse(&frame),
            Err(ParseError::UnsupportedEtherType(0x0800))
        );
    }
}
