//! A deterministic simulated LAN of `VirtualRouter`s, in the style of
//! quinn's `Pair` and neqo's simulator: virtual time, seeded loss, delay,
//! duplication and partitions, and scripted events. Every advertisement goes
//! through the real codec (emitted bytes are validated by each receiver).

#![allow(dead_code, missing_docs, unreachable_pub)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use vrrp_core::router::{Config, Output, Reason, State, VirtualRouter};
use vrrp_core::wire::Received;
use vrrp_core::{Priority, Vrid};

/// SplitMix64: tiny, seedable, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn duration(&mut self, max: Duration) -> Duration {
        Duration::from_nanos(self.range(0, max.as_nanos() as u64))
    }
}

/// How the LAN mistreats packets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impairment {
    /// Probability that a copy is lost.
    pub loss: f64,
    /// Probability that a delivered copy arrives twice.
    pub duplicate: f64,
    /// Each copy is delayed uniformly in `0..=max_delay`.
    pub max_delay: Duration,
}

/// One host on the LAN.
pub struct Node {
    pub config: Config,
    /// `None` while crashed.
    pub router: Option<VirtualRouter>,
    /// Whether the host currently has the VIPs installed.
    pub holds: bool,
    /// Hosts in different partitions do not hear each other.
    pub partition: u8,
    pub link_up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub node: usize,
    pub from: State,
    pub to: State,
    pub reason: Reason,
}

/// A scripted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The host dies: no shutdown, its addresses vanish with it.
    Crash(usize),
    /// A crashed (or shut down) host starts again.
    Restart(usize),
    /// Graceful stop: priority-0 advertisement, addresses removed.
    Shutdown(usize),
    LinkDown(usize),
    LinkUp(usize),
    SetPriority(usize, u8),
    /// Moves a host into partition `p`.
    Partition(usize, u8),
    /// Everyone back into partition 0.
    Heal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Deliver {
        to: usize,
        from: usize,
        src: IpAddr,
        dst: IpAddr,
        payload: Vec<u8>,
    },
    Script(Event),
}

pub struct Lan {
    pub t0: Instant,
    pub now: Instant,
    pub nodes: Vec<Node>,
    pub impairment: Impairment,
    pub rng: Rng,
    pub transitions: Vec<Transition>,
    /// When each advertisement was sent: (time, node, priority).
    pub sent: Vec<(Instant, usize, Priority)>,
    /// First `Announce` of each takeover: (time, node).
    pub announces: Vec<(Instant, usize)>,
    queue: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// The last delivery time per (from, to): one segment keeps each
    /// sender's packets in order.
    fifo: std::collections::HashMap<(usize, usize), Instant>,
    pending: Vec<Option<Pending>>,
    seq: u64,
}

impl Lan {
    pub fn new(seed: u64, impairment: Impairment) -> Lan {
        let t0 = Instant::now();
        Lan {
            t0,
            now: t0,
            nodes: Vec::new(),
            impairment,
            rng: Rng::new(seed),
            transitions: Vec::new(),
            sent: Vec::new(),
            announces: Vec::new(),
            queue: BinaryHeap::new(),
            fifo: std::collections::HashMap::new(),
            pending: Vec::new(),
            seq: 0,
        }
    }

    /// The primary address of host `i`: 198.18.0.(10 + i) or fe80::(10 + i).
    pub fn address(i: usize, v6: bool) -> IpAddr {
        let host = 10 + i as u8;
        if v6 {
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(host)))
        } else {
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, host))
        }
    }

    /// The VIP: 198.18.0.100 or fd00:198:18::100.
    pub fn vip(v6: bool) -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x100))
        } else {
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 100))
        }
    }

    /// A config for host `i` (primary address filled in).
    pub fn config(i: usize, vrid: u8, priority: u8, v6: bool) -> Config {
        let mut c = Config::new(
            Vrid::new(vrid).unwrap(),
            Lan::address(i, v6),
            vec![Lan::vip(v6)],
        );
        c.priority = Priority::new(priority);
        c
    }

    /// Adds a host, not yet started.
    pub fn add(&mut self, config: Config) -> usize {
        self.nodes.push(Node {
            router: None,
            config,
            holds: false,
            partition: 0,
            link_up: true,
        });
        self.nodes.len() - 1
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// Schedules `event` at `t0 + at`.
    pub fn at(&mut self, at: Duration, event: Event) {
        let when = self.t0 + at;
        self.push(when, Pending::Script(event));
    }

    fn push(&mut self, when: Instant, p: Pending) {
        self.seq += 1;
        self.pending.push(Some(p));
        self.queue
            .push(Reverse((when, self.seq, self.pending.len() - 1)));
    }

    /// Runs until `t0 + until`.
    pub fn run_until(&mut self, until: Duration) {
        let end = self.t0 + until;
        loop {
            let timer = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.router.as_ref()?.poll_timeout().map(|t| (t, i)))
                .min();
            let event = self.queue.peek().map(|Reverse((t, _, _))| *t);
            let next = match (timer, event) {
                (Some((t, _)), Some(e)) => t.min(e),
                (Some((t, _)), None) => t,
                (None, Some(e)) => e,
                (None, None) => break,
            };
            if next > end {
                break;
            }
            self.now = next.max(self.now);
            if event == Some(next) {
                let Reverse((_, _, idx)) = self.queue.pop().unwrap();
                if let Some(p) = self.pending[idx].take() {
                    self.process(p);
                }
            } else if let Some((_, i)) = timer {
                let now = self.now;
                if let Some(r) = self.nodes[i].router.as_mut() {
                    r.handle_timeout(now);
                }
                self.drain(i);
            }
        }
        self.now = end.max(self.now);
    }

    fn process(&mut self, p: Pending) {
        let now = self.now;
        match p {
            Pending::Deliver {
                to,
                from,
                src,
                dst,
                payload,
            } => {
                // A partition or link change after sending also cuts copies
                // in flight.
                if !self.connected(from, to) {
                    return;
                }
                if let Some(r) = self.nodes[to].router.as_mut() {
                    let rx = match (src, dst) {
                        (IpAddr::V4(s), IpAddr::V4(d)) => {
                            Received::from_ipv4_payload(s, d, 255, &payload)
                        }
                        (IpAddr::V6(s), IpAddr::V6(d)) => {
                            Received::from_ipv6_payload(s, d, 255, &payload)
                        }
                        _ => unreachable!("the router emits one family"),
                    };
                    let _ = r.handle_advertisement(now, &rx);
                }
                self.drain(to);
            }
            Pending::Script(e) => self.apply(e),
        }
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        let (na, nb) = (&self.nodes[a], &self.nodes[b]);
        na.partition == nb.partition && na.link_up && nb.link_up
    }

    /// Applies a scripted event now.
    pub fn apply(&mut self, e: Event) {
        let now = self.now;
        match e {
            Event::Crash(i) => {
                self.nodes[i].router = None;
                self.nodes[i].holds = false;
            }
            Event::Restart(i) => {
                if self.nodes[i].router.is_none() {
                    let mut r = VirtualRouter::new(self.nodes[i].config.clone()).unwrap();
                    r.set_link_up(now, self.nodes[i].link_up);
                    r.startup(now);
                    self.nodes[i].router = Some(r);
                    self.drain(i);
                }
            }
            Event::Shutdown(i) => {
                if let Some(r) = self.nodes[i].router.as_mut() {
                    r.shutdown(now);
                }
                self.drain(i);
                self.nodes[i].router = None;
            }
            Event::LinkDown(i) | Event::LinkUp(i) => {
                let up = matches!(e, Event::LinkUp(_));
                self.nodes[i].link_up = up;
                if let Some(r) = self.nodes[i].router.as_mut() {
                    r.set_link_up(now, up);
                }
                self.drain(i);
            }
            Event::SetPriority(i, p) => {
                if let Some(r) = self.nodes[i].router.as_mut() {
                    r.set_priority(now, Priority::new(p));
                }
                self.drain(i);
            }
            Event::Partition(i, p) => self.nodes[i].partition = p,
            Event::Heal => self.nodes.iter_mut().for_each(|n| n.partition = 0),
        }
    }

    /// Starts every host now.
    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.apply(Event::Restart(i));
        }
    }

    fn drain(&mut self, i: usize) {
        let now = self.now;
        while let Some(o) = self.nodes[i].router.as_mut().and_then(|r| r.poll_output()) {
            match o {
                Output::InstallAddresses => self.nodes[i].holds = true,
                Output::RemoveAddresses => self.nodes[i].holds = false,
                Output::Announce => self.announces.push((now, i)),
                Output::StateChanged { from, to, reason } => self.transitions.push(Transition {
                    at: now,
                    node: i,
                    from,
                    to,
                    reason,
                }),
                Output::SendAdvertisement(tx) => {
                    self.sent.push((now, i, tx.priority));
                    for to in 0..self.nodes.len() {
                        if to == i || !self.connected(i, to) {
                            continue;
                        }
                        if self.rng.chance(self.impairment.loss) {
                            continue;
                        }
                        let copies = if self.rng.chance(self.impairment.duplicate) {
                            2
                        } else {
                            1
                        };
                        for _ in 0..copies {
                            let delay = self.rng.duration(self.impairment.max_delay);
                            let last = self.fifo.entry((i, to)).or_insert(now);
                            let at = (now + delay).max(*last);
                            *last = at;
                            self.push(
                                at,
                                Pending::Deliver {
                                    to,
                                    from: i,
                                    src: tx.src,
                                    dst: tx.dst,
                                    payload: tx.payload.clone(),
                                },
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The running hosts in Active.
    pub fn actives(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.state(i) == Some(State::Active))
            .collect()
    }

    pub fn state(&self, i: usize) -> Option<State> {
        self.nodes[i].router.as_ref().map(|r| r.state())
    }

    /// The host that should be Active among those able to serve: highest
    /// effective priority, ties to the highest primary address.
    pub fn expected_active(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].link_up && self.nodes[i].router.is_some())
            .max_by_key(|&i| {
                let r = self.nodes[i].router.as_ref().unwrap();
                let addr = match r.config().primary_address {
                    IpAddr::V4(a) => u128::from(u32::from(a)),
                    IpAddr::V6(a) => u128::from(a),
                };
                (r.priority(), addr)
            })
    }

    /// Panics with `seed` unless no host holds the VIPs outside Active.
    pub fn assert_vips_only_on_active(&self, seed: u64) {
        for (i, n) in self.nodes.iter().enumerate() {
            let active = self.state(i) == Some(State::Active);
            assert_eq!(
                n.holds,
                active,
                "seed {seed}: host {i} holds={} in state {:?}",
                n.holds,
                self.state(i)
            );
        }
    }

    /// The first transition of `node` into Active at or after `after`.
    pub fn first_active_after(&self, node: usize, after: Instant) -> Option<Instant> {
        self.transitions
            .iter()
            .find(|t| t.node == node && t.to == State::Active && t.at >= after)
            .map(|t| t.at)
    }

    /// The first transition of any host other than `except` into Active at
    /// or after `after`.
    pub fn takeover_after(&self, except: usize, after: Instant) -> Option<(Instant, usize)> {
        self.transitions
            .iter()
            .find(|t| t.node != except && t.to == State::Active && t.at >= after)
            .map(|t| (t.at, t.node))
    }

    /// The last advertisement `node` sent at or before `before`.
    pub fn last_sent_by(&self, node: usize, before: Instant) -> Option<Instant> {
        self.sent
            .iter()
            .rev()
            .find(|(t, n, _)| *n == node && *t <= before)
            .map(|(t, _, _)| *t)
    }
}
