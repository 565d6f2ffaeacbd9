//! The election state machine of one virtual router (RFC 9568 §6, RFC 3768
//! §6), sans-IO in the quinn-proto style.
//!
//! A driver feeds a [`VirtualRouter`] with the current time and its inputs
//! ([`startup`](VirtualRouter::startup), received advertisements, timer
//! expiry, priority, link and fault changes, [`shutdown`](VirtualRouter::shutdown)),
//! then drains [`poll_output`](VirtualRouter::poll_output) to `None` and
//! sleeps until [`poll_timeout`](VirtualRouter::poll_timeout).
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::time::Instant;
//! use vrrp_core::router::{Config, Output, State, VirtualRouter};
//! use vrrp_core::{Priority, Vrid};
//!
//! let primary = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
//! let vip = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 100));
//! let mut config = Config::new(Vrid::new(51).unwrap(), primary, vec![vip]);
//! config.priority = Priority::OWNER;
//! let mut router = VirtualRouter::new(config)?;
//! router.startup(Instant::now());
//! assert!(matches!(router.poll_output(), Some(Output::SendAdvertisement(_))));
//! assert_eq!(router.poll_output(), Some(Output::InstallAddresses));
//! assert_eq!(router.poll_output(), Some(Output::Announce));
//! assert!(matches!(router.poll_output(), Some(Output::StateChanged { to: State::Active, .. })));
//! assert_eq!(router.poll_output(), None);
//! # Ok::<(), vrrp_core::router::ConfigError>(())
//! ```
//!
//! # Reading it against RFC 9568 §6.4
//!
//! | RFC 9568 | here |
//! |---|---|
//! | §6.4.1 Initialize, Startup event | [`VirtualRouter::startup`] |
//! | §6.4.2 Backup: Shutdown event | [`VirtualRouter::shutdown`] |
//! | §6.4.2 Backup: Master_Down_Timer fires | `handle_timeout` → `become_active` |
//! | §6.4.2 Backup: ADVERTISEMENT received | `backup_receives` |
//! | §6.4.3 Active: Adver_Timer fires | `handle_timeout` → `send_advertisement` |
//! | §6.4.3 Active: Shutdown event | [`VirtualRouter::shutdown`] |
//! | §6.4.3 Active: ADVERTISEMENT received | `active_receives` |
//! | §7.1 receive validation | `validate` |
//! | §6.1 Skew_Time, Master_Down_Interval | [`VirtualRouter::skew_time`], [`VirtualRouter::master_down_interval`] |

mod config;
mod discard;
mod output;
mod receive;
mod state;
mod stats;
mod timers;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use config::{Config, ConfigError, InitialState, UnicastChecksum};
pub use discard::Discard;
pub use output::{Output, Reason, Transmit};
pub use state::State;
pub use stats::Stats;
use timers::{Timer, Timers};

use crate::wire::{
    AddressFamily, AddressList, Advertisement, MULTICAST_V4, MULTICAST_V6, VersionFields,
};
use crate::{AdverIntSeconds, Centiseconds, MaxAdverInt, Priority, Version};

/// Why the router cannot serve right now; it is in [`State::Fault`] while
/// any of these holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Faults {
    link_down: bool,
    tracking: bool,
    sync_group: bool,
    addresses: bool,
}

impl Faults {
    fn any(self) -> bool {
        self.link_down || self.tracking || self.sync_group || self.addresses
    }
}

/// The first deadline after `now` on the grid `at + k × interval`, k ≥ 1.
///
/// The Active's schedule is absolute, so the rate does not drift: a late
/// wake-up does not push the next advert later. After a stall of more
/// than an interval the deadlines it missed are skipped, not sent in a
/// burst, and the grid keeps its phase: a stall costs only the adverts it
/// covered, never a fraction of one more.
fn next_on_grid(at: Instant, interval: Duration, now: Instant) -> Instant {
    let behind = now.saturating_duration_since(at).as_nanos();
    let steps = (behind / interval.as_nanos().max(1)).saturating_add(1);
    u32::try_from(steps)
        .ok()
        .and_then(|k| interval.checked_mul(k))
        .and_then(|d| at.checked_add(d))
        .unwrap_or(now + interval)
}

/// The addresses of a validated `config` as an advertisement carries them.
fn address_list(config: &Config) -> AddressList {
    let v4 = config.addresses.iter().filter_map(|a| match a {
        IpAddr::V4(a) => Some(*a),
        IpAddr::V6(_) => None,
    });
    let v6 = config.addresses.iter().filter_map(|a| match a {
        IpAddr::V6(a) => Some(*a),
        IpAddr::V4(_) => None,
    });
    // Validated: every address is of the config's family.
    match config.family() {
        AddressFamily::Ipv4 => AddressList::V4(v4.collect()),
        AddressFamily::Ipv6 => AddressList::V6(v6.collect()),
    }
}

/// One VRRP virtual router: one VRID on one interface for one address family.
#[derive(Debug, Clone)]
pub struct VirtualRouter {
    config: Config,
    /// The advertisement this router sends, with the configured priority;
    /// `send_advertisement` sets the priority of each copy.
    template: Advertisement,
    state: State,
    /// The effective priority: the configured one as changed by trackers.
    priority: Priority,
    /// Master_Adver_Interval (RFC 9568 §6.1): learned from the Active
    /// router's advertisements by a VRRPv3 Backup.
    master_adver_interval: Centiseconds,
    timers: Timers,
    faults: Faults,
    /// Between `startup` and `shutdown`.
    running: bool,
    /// The source of the last advertisement accepted from an Active router.
    active_router: Option<IpAddr>,
    /// When the last answer to a priority-0 (or lower-priority)
    /// advertisement went out, or is due (see `answer_now`).
    last_shutdown_answer: Option<Instant>,
    /// When [`Output::LowerPriorityHeard`] was last reported.
    last_lower_heard: Option<Instant>,
    /// Unicast VRRPv3/IPv4 adverts are summed with the multicast group as
    /// the pseudo-header destination (see [`UnicastChecksum`]).
    legacy_checksum: bool,
    outputs: VecDeque<Output>,
    stats: Stats,
}

impl VirtualRouter {
    /// A router in [`State::Initialize`], or why `config` is refused.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let version_fields = match config.version {
            Version::V2 => VersionFields::V2 {
                adver_int: u8::try_from(config.advert_interval.get() / 100)
                    .ok()
                    .and_then(AdverIntSeconds::new)
                    .ok_or(ConfigError::IntervalOutOfRange {
                        version: config.version,
                        interval: config.advert_interval,
                    })?,
                auth: config.auth,
            },
            Version::V3 => VersionFields::V3 {
                max_adver_int: MaxAdverInt::from_centiseconds(config.advert_interval).ok_or(
                    ConfigError::IntervalOutOfRange {
                        version: config.version,
                        interval: config.advert_interval,
                    },
                )?,
            },
        };
        let addresses = address_list(&config);
        let template = Advertisement {
            vrid: config.vrid,
            priority: config.priority,
            version_fields,
            addresses,
        };
        let legacy_checksum = config.unicast_checksum == UnicastChecksum::Legacy;
        Ok(VirtualRouter {
            priority: config.priority,
            master_adver_interval: config.advert_interval,
            template,
            config,
            state: State::Initialize,
            timers: Timers::default(),
            faults: Faults::default(),
            running: false,
            active_router: None,
            last_shutdown_answer: None,
            last_lower_heard: None,
            legacy_checksum,
            outputs: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The effective priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Whether the virtual addresses should be on the interface now: only
    /// in [`State::Active`].
    pub fn holds_addresses(&self) -> bool {
        self.state == State::Active
    }

    /// The source address of the last advertisement accepted from the
    /// Active router, while Backup; this router's own address while Active.
    pub fn active_router(&self) -> Option<IpAddr> {
        match self.state {
            State::Active => Some(self.config.primary_address),
            State::Backup => self.active_router,
            State::Initialize | State::Fault => None,
        }
    }

    /// Master_Adver_Interval (RFC 9568 §6.1): the Active router's interval
    /// as learned by a VRRPv3 Backup, else the configured one.
    pub fn master_adver_interval(&self) -> Centiseconds {
        self.master_adver_interval
    }

    /// Skew_Time (RFC 9568 §6.1, RFC 3768 §6.1) at the effective priority:
    /// `(256 − Priority) × Master_Adver_Interval / 256` for VRRPv3 and
    /// `(256 − Priority) / 256` seconds for VRRPv2.
    ///
    /// Computed in nanoseconds, not truncated to whole centiseconds: at a
    /// 1 cs interval the RFC's integer division would make it 0 and let
    /// routers of different priorities time out together.
    pub fn skew_time(&self) -> Duration {
        let base = match self.config.version {
            Version::V2 => Duration::from_secs(1),
            Version::V3 => self.master_adver_interval.as_duration(),
        };
        let factor = 256 - u32::from(self.priority.get());
        base * factor / 256
    }

    /// Master_Down_Interval (RFC 9568 §6.1):
    /// `3 × Master_Adver_Interval + Skew_Time`, with keepalived's
    /// `down_timer_adverts` in place of the 3 (see
    /// [`Config::down_timer_adverts`]).
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_interval.as_duration() * u32::from(self.config.down_timer_adverts)
            + self.skew_time()
    }

    /// The next output, in order; drain to `None` after every input.
    ///
    /// The queue holds memory only while it holds outputs: a drained queue
    /// is freed, as a router between inputs has nothing queued, and a
    /// daemon of 1,000 routers kept a quarter of a megabyte of empty
    /// queues.
    pub fn poll_output(&mut self) -> Option<Output> {
        let next = self.outputs.pop_front();
        if next.is_none() && self.outputs.capacity() > 0 {
            self.outputs = VecDeque::new();
        }
        next
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// When Master_Down_Timer fires, if it runs (RFC 9568 §6.2): the
    /// takeover deadline, which a driver may want to meet to the
    /// microsecond rather than within its usual wake-up latency. It is
    /// also covered by [`poll_timeout`](Self::poll_timeout).
    pub fn master_down_deadline(&self) -> Option<Instant> {
        self.timers.get(Timer::MasterDown)
    }

    /// The Startup event (RFC 9568 §6.4.1). The address owner becomes Active
    /// at once; any other router becomes Backup and waits
    /// Master_Down_Interval. With a fault raised it enters Fault instead.
    /// Does nothing if already started.
    pub fn startup(&mut self, now: Instant) {
        if self.running {
            return;
        }
        self.running = true;
        if self.faults.any() {
            self.enter_fault(now, self.fault_reason(), false);
        } else {
            self.enter_service(now, Reason::Startup);
        }
    }

    /// The Shutdown event (RFC 9568 §6.4.2, §6.4.3): an Active router sends
    /// an advertisement with priority 0 and removes its addresses; every
    /// state ends in Initialize with no timer running.
    pub fn shutdown(&mut self, now: Instant) {
        if !self.running {
            return;
        }
        self.running = false;
        let from = self.state;
        if from == State::Active {
            self.send_advertisement(Priority::SHUTDOWN);
            self.outputs.push_back(Output::RemoveAddresses);
        }
        self.timers.stop_all();
        let _ = now;
        self.change_state(State::Initialize, Reason::Shutdown);
    }

    /// Fires every expired timer. Safe to call early (nothing happens) or
    /// twice.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers.is_due(Timer::PreemptDelay, now) {
            self.timers.stop(Timer::PreemptDelay);
        }
        match self.state {
            State::Active => {
                if let Some(at) = self.timers.get(Timer::Adver).filter(|at| *at <= now) {
                    self.send_advertisement(self.priority);
                    let interval = self.config.advert_interval.as_duration();
                    self.timers
                        .set(Timer::Adver, next_on_grid(at, interval, now));
                }
            }
            State::Backup => {
                if self.timers.is_due(Timer::MasterDown, now) {
                    self.become_active(now, Reason::MasterDown);
                }
            }
            State::Initialize | State::Fault => {}
        }
    }

    /// Replaces the virtual addresses, as a reload that edits only them
    /// does (keepalived keeps the instance's state then, and so do we):
    /// the state, timers and counters stay, and the next advertisement
    /// carries the new list. Installing and removing the difference is the
    /// driver's. Refused, with nothing changed, if the list breaks a rule
    /// of [`Config::validate`].
    pub fn set_addresses(&mut self, addresses: Vec<IpAddr>) -> Result<(), ConfigError> {
        let mut config = self.config.clone();
        config.addresses = addresses;
        config.validate()?;
        self.template.addresses = address_list(&config);
        self.config = config;
        Ok(())
    }

    /// Sets the effective priority (tracking). 0 is reserved for shutdown
    /// and becomes 1; 255 is kept only for a configured owner and becomes
    /// 254 otherwise. The next advertisement carries it; a Backup uses it
    /// for Skew_Time and preemption from the next advertisement on.
    pub fn set_priority(&mut self, now: Instant, priority: Priority) {
        let _ = now;
        let p = match priority.get() {
            0 => 1,
            255 if !self.config.priority.is_owner() => 254,
            p => p,
        };
        self.priority = Priority::new(p);
    }

    /// The interface went down (`false`) or came back (`true`). Down is a
    /// fault: an Active router removes its addresses (no priority-0
    /// advertisement can leave a dead link) and the router enters Fault.
    pub fn set_link_up(&mut self, now: Instant, up: bool) {
        self.faults.link_down = !up;
        self.update_faults(now, Reason::LinkDown, false);
    }

    /// A tracker failed (`true`) or recovered (`false`). While failed the
    /// router is in Fault; an Active router first sends priority 0 so a
    /// Backup takes over after Skew_Time.
    pub fn set_fault(&mut self, now: Instant, fault: bool) {
        self.faults.tracking = fault;
        self.update_faults(now, Reason::Fault, true);
    }

    /// The driver could not install the virtual addresses after
    /// [`Output::InstallAddresses`] (`true`: the kernel refused one, the
    /// ledger could not record it), or wants to try again (`false`). A
    /// router must not claim addresses it does not hold: while failed it is
    /// in Fault, and an Active router first sends priority 0 so that a
    /// Backup takes over after Skew_Time (RFC 9568 §6.4.3).
    pub fn set_address_fault(&mut self, now: Instant, failed: bool) {
        self.faults.addresses = failed;
        self.update_faults(now, Reason::AddressFailure, true);
    }

    /// Another member of this router's sync group is in Fault (`true`) or
    /// no longer is; see [`SyncGroup`](crate::SyncGroup).
    pub fn set_sync_group_fault(&mut self, now: Instant, fault: bool) {
        self.faults.sync_group = fault;
        self.update_faults(now, Reason::SyncGroupFault, true);
    }

    /// Whether a fault of this router's own holds it: link down, a failed
    /// tracker or addresses it could not install (not the sync group's).
    pub fn has_own_fault(&self) -> bool {
        self.running && (self.faults.link_down || self.faults.tracking || self.faults.addresses)
    }

    /// Whether the sync group holds this router in Fault.
    pub fn sync_group_fault(&self) -> bool {
        self.faults.sync_group
    }

    /// Sync groups: a Backup becomes Active now because another member did.
    pub fn force_active(&mut self, now: Instant) {
        if self.state == State::Backup {
            self.become_active(now, Reason::SyncGroup);
        }
    }

    /// Sync groups: an Active router becomes Backup now because another
    /// member did.
    pub fn force_backup(&mut self, now: Instant) {
        if self.state == State::Active {
            self.become_backup(now, Reason::SyncGroup);
        }
    }

    /// Leaves Initialize or Fault: the owner becomes Active, any other
    /// router Backup (RFC 9568 §6.4.1).
    fn enter_service(&mut self, now: Instant, reason: Reason) {
        if self.config.priority.is_owner() && self.priority.is_owner() {
            let reason = if reason == Reason::Startup {
                Reason::Owner
            } else {
                reason
            };
            self.become_active(now, reason);
        } else {
            self.master_adver_interval = self.config.advert_interval;
            self.become_backup(now, reason);
        }
    }

    /// RFC 9568 §6.4.2 "If the Master_Down_Timer fires" (and §6.4.1 for the
    /// owner): advertisement, addresses, announcement, in that order.
    fn become_active(&mut self, now: Instant, reason: Reason) {
        self.timers.stop(Timer::MasterDown);
        self.timers.stop(Timer::PreemptDelay);
        // Advertise first: the Backups hear the new Active at the
        // Master_Down deadline however many addresses it then installs
        // (RFC 9568 §6.4.2 lists the advertisement first; keepalived sends
        // it first too).
        self.send_advertisement(self.priority);
        self.outputs.push_back(Output::InstallAddresses);
        self.outputs.push_back(Output::Announce);
        self.timers.set(
            Timer::Adver,
            now + self.config.advert_interval.as_duration(),
        );
        self.stats.master_transitions += 1;
        self.change_state(State::Active, reason);
    }

    /// Enters Backup: from Active the addresses go first. Master_Down_Timer
    /// starts, and so does the preempt delay if one is configured.
    fn become_backup(&mut self, now: Instant, reason: Reason) {
        if self.state == State::Active {
            self.outputs.push_back(Output::RemoveAddresses);
        }
        self.timers.stop(Timer::Adver);
        self.timers
            .set(Timer::MasterDown, now + self.master_down_interval());
        if self.config.preempt_delay > Duration::ZERO {
            self.timers
                .set(Timer::PreemptDelay, now + self.config.preempt_delay);
        }
        self.change_state(State::Backup, reason);
    }

    /// Enters Fault: an Active router releases (priority 0 if `release`)
    /// and removes its addresses; every timer stops.
    fn enter_fault(&mut self, now: Instant, reason: Reason, release: bool) {
        let _ = now;
        if self.state == State::Active {
            if release {
                self.send_advertisement(Priority::SHUTDOWN);
            }
            self.outputs.push_back(Output::RemoveAddresses);
        }
        self.timers.stop_all();
        self.active_router = None;
        self.change_state(State::Fault, reason);
    }

    fn fault_reason(&self) -> Reason {
        if self.faults.link_down {
            Reason::LinkDown
        } else if self.faults.tracking {
            Reason::Fault
        } else if self.faults.addresses {
            Reason::AddressFailure
        } else {
            Reason::SyncGroupFault
        }
    }

    fn update_faults(&mut self, now: Instant, reason: Reason, release: bool) {
        if !self.running {
            return;
        }
        match (self.faults.any(), self.state) {
            (true, State::Backup | State::Active) => self.enter_fault(now, reason, release),
            (false, State::Fault) => self.enter_service(now, Reason::Recovered),
            _ => {}
        }
    }

    /// Queues one advertisement per destination: the multicast group, or
    /// each unicast peer.
    fn send_advertisement(&mut self, priority: Priority) {
        self.template.priority = priority;
        let src = self.config.primary_address;
        let multicast = self.multicast_group();
        let peers = self.config.unicast_peers.len().max(1);
        for i in 0..peers {
            let dst = self
                .config
                .unicast_peers
                .get(i)
                .copied()
                .unwrap_or(multicast);
            // The config was validated: families agree and the counts fit,
            // so emitting cannot fail.
            // keepalived ≤ 1.3.6 summed unicast adverts as if sent to the
            // group (only VRRPv3 over IPv4 has a pseudo-header that differs).
            let summed_dst = if self.legacy_checksum { multicast } else { dst };
            let payload = self
                .template
                .to_bytes(src, summed_dst, self.config.checksum_mode);
            if let Ok(payload) = payload {
                self.outputs.push_back(Output::SendAdvertisement(Transmit {
                    src,
                    dst,
                    priority,
                    payload,
                }));
                self.stats.advertisement_sent += 1;
                if priority.is_shutdown() {
                    self.stats.priority_zero_pkts_sent += 1;
                }
            }
        }
    }

    /// Where multicast adverts go: the configured group or the RFC's.
    fn multicast_group(&self) -> IpAddr {
        self.config
            .multicast_group
            .unwrap_or(match self.config.family() {
                AddressFamily::Ipv4 => IpAddr::V4(MULTICAST_V4),
                AddressFamily::Ipv6 => IpAddr::V6(MULTICAST_V6),
            })
    }

    fn change_state(&mut self, to: State, reason: Reason) {
        let from = self.state;
        self.state = to;
        self.outputs
            .push_back(Output::StateChanged { from, to, reason });
    }
}
