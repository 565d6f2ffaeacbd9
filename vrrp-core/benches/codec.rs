//! Receive-path cost of a VRRPv3/IPv4 advertisement with 1 and 16 virtual
//! addresses.
//!
//! - `view`: what the state machine does on its hot path, without
//!   allocating: `Received::validate` (TTL, `Packet::new_checked`, checksum
//!   in both forms), then read every field and iterate the addresses.
//! - `repr`: `Packet::new_checked` + `verify_checksum` + the allocating
//!   `Advertisement::from_packet`.
//! - `emit`: `Advertisement::emit` into a stack buffer, checksum included.
//!
//! Target: the 1-VIP `view` at 50 ns or less (20 million adverts/s per core).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vrrp_core::wire::{
    AddressFamily, AddressList, Advertisement, ChecksumMode, Packet, Received, VersionFields,
};
use vrrp_core::{MaxAdverInt, Priority, Vrid};

const SRC: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const DST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

fn advertisement(vips: u8) -> Advertisement {
    Advertisement {
        vrid: Vrid::new(51).expect("non-zero"),
        priority: Priority::new(150),
        version_fields: VersionFields::V3 {
            max_adver_int: MaxAdverInt::new(100).expect("in range"),
        },
        addresses: AddressList::V4((0..vips).map(|i| Ipv4Addr::new(198, 18, 1, i)).collect()),
    }
}

/// Validates and reads everything, folding it into a number so nothing is
/// optimised away.
fn view(rx: &Received<'_>) -> u64 {
    let Ok(ok) = rx.validate() else {
        return 0;
    };
    let p = &ok.packet;
    let mut acc = u64::from(p.vrid().get())
        + u64::from(p.priority().get())
        + u64::from(p.interval().get())
        + u64::from(p.address_count())
        + u64::from(p.checksum())
        + u64::from(p.reserved_bits())
        + u64::from(p.version().number())
        + ok.checksum as u64;
    for addr in p.addresses() {
        if let IpAddr::V4(a) = addr {
            acc += u64::from(a.to_bits());
        }
    }
    acc
}

fn repr(msg: &[u8]) -> Option<Advertisement> {
    let p = Packet::new_checked(msg, AddressFamily::Ipv4).ok()?;
    p.verify_checksum(SRC.into(), DST.into())
        .is_valid()
        .then(|| Advertisement::from_packet(&p))
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("v3_ipv4");
    group.throughput(Throughput::Elements(1));
    for vips in [1u8, 16] {
        let adv = advertisement(vips);
        let msg = adv
            .to_bytes(SRC.into(), DST.into(), ChecksumMode::PseudoHeader)
            .expect("emits");
        let rx = Received::from_ipv4_payload(SRC, DST, 255, &msg);
        assert_ne!(view(&rx), 0, "the benchmarked advert is valid");
        group.bench_with_input(BenchmarkId::new("view", vips), &rx, |b, rx| {
            b.iter(|| view(black_box(rx)))
        });
        group.bench_with_input(BenchmarkId::new("repr", vips), &msg, |b, msg| {
            b.iter(|| repr(black_box(msg)))
        });
        group.bench_with_input(BenchmarkId::new("emit", vips), &adv, |b, adv| {
            let mut buf = [0u8; 128];
            b.iter(|| {
                black_box(adv).emit(&mut buf, SRC.into(), DST.into(), ChecksumMode::PseudoHeader)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
