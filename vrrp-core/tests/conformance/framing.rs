//! Lengths and IP framing: the message length against the address
//! count, IHL and IP options, lying IP lengths, fragments and other
//! protocols.

use crate::{emit, fix_checksum, ipv4_packet, ipv6_packet, received, v3_v4, v3_v6};
use vrrp_core::wire::{AddressFamily, Advertisement, ChecksumMode, Packet, Received, WireError};

#[test]
fn receive_validation_length_must_cover_count_addresses() {
    for adv in [v3_v4(), v3_v6()] {
        let family = adv.family();
        let msg = emit(&adv, ChecksumMode::PseudoHeader);
        for len in 8..msg.len() {
            assert_eq!(
                Packet::new_checked(&msg[..len], family),
                Err(WireError::LengthMismatch {
                    count: msg[3],
                    needed: msg.len(),
                    len
                }),
                "{family} cut to {len}"
            );
        }
        let mut more = msg.clone();
        more[3] += 1;
        assert_eq!(
            Packet::new_checked(&more[..], family),
            Err(WireError::LengthMismatch {
                count: more[3],
                needed: msg.len() + family.address_len(),
                len: msg.len()
            })
        );
    }
    for len in 0..8 {
        let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
        assert_eq!(
            Packet::new_checked(&msg[..len], AddressFamily::Ipv4),
            Err(WireError::Truncated { len })
        );
    }
}

#[test]
fn receive_validation_extra_bytes_after_the_addresses_are_covered_by_the_checksum() {
    let mut msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    msg.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(
        received(&msg, AddressFamily::Ipv4, 255)
            .validate()
            .map(|v| v.checksum),
        Err(WireError::BadChecksum {
            found: u16::from_be_bytes([msg[6], msg[7]])
        })
    );
    fix_checksum(&mut msg, AddressFamily::Ipv4, ChecksumMode::PseudoHeader);
    let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
    assert_eq!(Advertisement::from_packet(&ok.packet), v3_v4());
}

#[test]
fn receive_validation_ihl_with_ip_options_is_honoured() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    for option_words in 0..=10usize {
        // NOP options, then the VRRP message right after IHL × 4 bytes.
        let ip = ipv4_packet(&msg, 255, &vec![1u8; option_words * 4]);
        let rx = Received::from_ipv4_packet(&ip).unwrap();
        assert_eq!(rx.payload(), &msg[..], "IHL {}", 5 + option_words);
        let ok = rx.validate().unwrap();
        assert_eq!(Advertisement::from_packet(&ok.packet), v3_v4());
    }
    let mut ip = ipv4_packet(&msg, 255, &[]);
    for ihl in 0..5u8 {
        ip[0] = 0x40 | ihl;
        assert_eq!(Received::from_ipv4_packet(&ip), Err(WireError::BadIhl(ihl)));
    }
    // IHL 15 says 60 header bytes, more than Total Length.
    ip[0] = 0x4f;
    assert_eq!(
        Received::from_ipv4_packet(&ip),
        Err(WireError::BadIpLength {
            claimed: ip.len(),
            header_len: 60,
            received: ip.len()
        })
    );
}

#[test]
fn receive_validation_lying_ip_lengths_are_refused() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    let ip = ipv4_packet(&msg, 255, &[]);
    // Total Length beyond the bytes received.
    let mut long = ip.clone();
    let claimed = ip.len() + 1;
    long[2..4].copy_from_slice(&u16::try_from(claimed).unwrap().to_be_bytes());
    assert_eq!(
        Received::from_ipv4_packet(&long),
        Err(WireError::BadIpLength {
            claimed,
            header_len: 20,
            received: ip.len()
        })
    );
    // Total Length shorter than the header.
    let mut short = ip.clone();
    short[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert!(matches!(
        Received::from_ipv4_packet(&short),
        Err(WireError::BadIpLength { claimed: 19, .. })
    ));
    // Total Length shorter than the buffer: the rest (Ethernet padding) is
    // not VRRP. Here it cuts the address list.
    let mut cut = ip.clone();
    cut[2..4].copy_from_slice(&u16::try_from(ip.len() - 4).unwrap().to_be_bytes());
    let rx = Received::from_ipv4_packet(&cut).unwrap();
    assert_eq!(rx.payload(), &msg[..msg.len() - 4]);
    assert!(matches!(
        rx.validate(),
        Err(WireError::LengthMismatch { .. })
    ));
    // Ethernet pads short frames with zeros: they are dropped.
    let mut padded = ip.clone();
    padded.extend_from_slice(&[0; 14]);
    let rx = Received::from_ipv4_packet(&padded).unwrap();
    assert_eq!(rx.payload(), &msg[..]);
    assert!(rx.validate().is_ok());
    for len in 0..20 {
        assert_eq!(
            Received::from_ipv4_packet(&ip[..len]),
            Err(WireError::IpTruncated { len, needed: 20 })
        );
    }

    let msg6 = emit(&v3_v6(), ChecksumMode::PseudoHeader);
    let ip6 = ipv6_packet(&msg6, 255);
    let mut padded = ip6.clone();
    padded.extend_from_slice(&[0; 6]);
    assert_eq!(
        Received::from_ipv6_packet(&padded).unwrap().payload(),
        &msg6[..]
    );
    assert_eq!(
        Received::from_ipv6_packet(&ip6[..ip6.len() - 1]),
        Err(WireError::BadIpLength {
            claimed: ip6.len(),
            header_len: 40,
            received: ip6.len() - 1
        })
    );
}

#[test]
fn receive_validation_fragments_and_other_protocols_are_refused() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    let ip = ipv4_packet(&msg, 255, &[]);
    for frag in [0x2000u16, 0x0001, 0x3fff] {
        let mut f = ip.clone();
        f[6..8].copy_from_slice(&frag.to_be_bytes());
        assert_eq!(Received::from_ipv4_packet(&f), Err(WireError::Fragmented));
    }
    // Don't Fragment is fine.
    let mut df = ip.clone();
    df[6] = 0x40;
    assert!(Received::from_ipv4_packet(&df).is_ok());
    let mut tcp = ip.clone();
    tcp[9] = 6;
    assert_eq!(Received::from_ipv4_packet(&tcp), Err(WireError::NotVrrp(6)));
    let mut icmp6 = ipv6_packet(&msg, 255);
    icmp6[6] = 58;
    assert_eq!(
        Received::from_ipv6_packet(&icmp6),
        Err(WireError::NotVrrp(58))
    );
    icmp6[6] = 44;
    assert_eq!(
        Received::from_ipv6_packet(&icmp6),
        Err(WireError::Fragmented)
    );
}
