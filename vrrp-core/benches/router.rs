//! Cost of the election state machine on its two hot paths, and its memory.
//!
//! - `backup_receive`: a Backup handles one advertisement from the Active
//!   router (validation, Master_Down_Timer reset) and drains its (empty)
//!   output queue.
//! - `active_tick`: an Active router's Adver_Timer fires: one advertisement
//!   is emitted, checksum included, and drained.
//!
//! Target: below 200 ns each on one core. The memory of a router with one
//! VIP (`size_of` plus heap, counted by a wrapping allocator) is printed
//! first; target below 1 KiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use vrrp_core::router::{Config, State, VirtualRouter};
use vrrp_core::wire::{
    AddressList, Advertisement, ChecksumMode, MULTICAST_V4, Received, VersionFields,
};
use vrrp_core::{MaxAdverInt, Priority, Vrid};

/// Counts live heap bytes, to measure a router's footprint.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 20);
const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);

fn config(priority: u8) -> Config {
    let mut c = Config::new(
        Vrid::new(51).expect("non-zero"),
        LOCAL.into(),
        vec![VIP.into()],
    );
    c.priority = Priority::new(priority);
    c
}

fn footprint() {
    let before = LIVE.load(Ordering::Relaxed);
    let mut r = VirtualRouter::new(config(255)).expect("valid");
    let t0 = Instant::now();
    r.startup(t0);
    while r.poll_output().is_some() {}
    let heap = LIVE.load(Ordering::Relaxed) - before;
    let size = std::mem::size_of::<VirtualRouter>();
    println!(
        "VirtualRouter, 1 VIP, Active: size_of {size} B + heap {heap} B = {} B",
        size as isize + heap
    );
    black_box(r);
}

fn bench(c: &mut Criterion) {
    footprint();
    let t0 = Instant::now();

    let advert = Advertisement {
        vrid: Vrid::new(51).expect("non-zero"),
        priority: Priority::new(200),
        version_fields: VersionFields::V3 {
            max_adver_int: MaxAdverInt::new(100).expect("in range"),
        },
        addresses: AddressList::V4(vec![VIP]),
    };
    let bytes = advert
        .to_bytes(PEER.into(), MULTICAST_V4.into(), ChecksumMode::default())
        .expect("emit");
    let mut backup = VirtualRouter::new(config(100)).expect("valid");
    backup.startup(t0);
    while backup.poll_output().is_some() {}
    let mut now = t0;
    c.bench_function("router/backup_receive", |b| {
        b.iter(|| {
            now += Duration::from_micros(1);
            let rx = Received::from_ipv4_payload(PEER, MULTICAST_V4, 255, black_box(&bytes));
            let r = backup.handle_advertisement(now, &rx);
            while let Some(o) = backup.poll_output() {
                black_box(o);
            }
            black_box(r)
        })
    });
    assert_eq!(backup.state(), State::Backup);

    let mut active = VirtualRouter::new(config(255)).expect("valid");
    active.startup(t0);
    while active.poll_output().is_some() {}
    c.bench_function("router/active_tick", |b| {
        b.iter(|| {
            let due = active.poll_timeout().expect("Adver_Timer runs");
            active.handle_timeout(due);
            while let Some(o) = active.poll_output() {
                black_box(o);
            }
        })
    });
    assert_eq!(active.state(), State::Active);
    let _ = IpAddr::V4(LOCAL);
}

criterion_group!(benches, bench);
criterion_main!(benches);
