//! The advertisement receive path: validation against the local
//! configuration (RFC 9568 §7.1, RFC 3768 §7.1), then what a Backup
//! (§6.4.2) or an Active router (§6.4.3) does with what it accepted.

use std::net::IpAddr;
use std::time::Instant;

use super::{Discard, Output, Reason, State, Timer, UnicastChecksum, VirtualRouter};
use crate::wire::{Auth, ChecksumStatus, Packet, Received};
use crate::{Centiseconds, Priority, Version};

impl VirtualRouter {
    /// A received advertisement (RFC 9568 §7.1, then §6.4.2 or §6.4.3).
    ///
    /// Every discard is counted in [`stats`](Self::stats), except
    /// [`Discard::NotListening`]: in Initialize and Fault nothing is heard.
    pub fn handle_advertisement(&mut self, now: Instant, rx: &Received<'_>) -> Result<(), Discard> {
        if !matches!(self.state, State::Backup | State::Active) {
            return Err(Discard::NotListening(self.state));
        }
        let packet = match self.validate(rx) {
            Ok(p) => p,
            Err(discard) => {
                self.stats.count_discard(&discard);
                return Err(discard);
            }
        };
        self.stats.advertisement_rcvd += 1;
        let priority = packet.priority();
        if priority.is_shutdown() {
            self.stats.priority_zero_pkts_rcvd += 1;
        }
        let interval = packet.interval();
        let src = rx.src();
        match self.state {
            State::Backup => self.backup_receives(now, src, priority, interval),
            State::Active => self.active_receives(now, src, priority, interval),
            State::Initialize | State::Fault => {}
        }
        Ok(())
    }

    /// RFC 9568 §7.1 and RFC 3768 §7.1: every check that needs the local
    /// configuration, after the codec's own.
    fn validate<'a>(&mut self, rx: &Received<'a>) -> Result<Packet<&'a [u8]>, Discard> {
        if rx.family() != self.config.family() {
            return Err(Discard::FamilyMismatch);
        }
        // TTL 255 proves a multicast advert came from the link; unicast
        // ones may cross routers (keepalived's `unicast_ttl`), and
        // keepalived does not check theirs either.
        let validated = if self.config.unicast_peers.is_empty() {
            rx.validate()?
        } else {
            let legacy_group = (self.config.unicast_checksum != UnicastChecksum::Standard)
                .then(|| self.multicast_group());
            rx.validate_unicast(legacy_group)?
        };
        let legacy_checksum = validated.checksum == ChecksumStatus::ValidWithGroupDestination;
        let packet = validated.packet;
        let local_version = self.config.version;
        if packet.version() != local_version {
            return Err(Discard::VersionMismatch {
                received: packet.version(),
                local: local_version,
            });
        }
        if packet.vrid() != self.config.vrid {
            return Err(Discard::VridMismatch {
                received: packet.vrid(),
                local: self.config.vrid,
            });
        }
        let src = rx.src();
        if src == self.config.primary_address {
            return Err(Discard::OwnAddress(src));
        }
        if let IpAddr::V4(v4) = src {
            if v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] >= 240
                || self.is_subnet_broadcast(v4)
            {
                return Err(Discard::BogusSource(src));
            }
        }
        if let IpAddr::V6(v6) = src {
            if !v6.is_unicast_link_local() {
                return Err(Discard::NotLinkLocal(src));
            }
        }
        if !self.config.unicast_peers.is_empty() && !self.config.unicast_peers.contains(&src) {
            return Err(Discard::NotAPeer(src));
        }
        if local_version == Version::V2 {
            let local = self.config.auth;
            let received = packet.auth().unwrap_or_default();
            if received.auth_type() != local.auth_type() {
                return Err(Discard::AuthTypeMismatch {
                    received: received.auth_type(),
                    local: local.auth_type(),
                });
            }
            if let (Auth::SimpleText(theirs), Auth::SimpleText(ours)) = (received, local) {
                if theirs != ours {
                    return Err(Discard::AuthFailure);
                }
            }
            if packet.interval() != self.config.advert_interval {
                return Err(Discard::IntervalMismatch {
                    received: packet.interval(),
                    local: self.config.advert_interval,
                });
            }
        }
        if local_version == Version::V3 && packet.address_count() == 0 {
            return Err(Discard::NoAddresses);
        }
        // keepalived's skip_check_adv_addr: a Backup trusts the list of
        // the Active router it already accepted.
        let known = self.config.skip_address_check
            && self.state == State::Backup
            && self.active_router == Some(src);
        if !known && !self.address_list_matches(&packet) {
            // VRRPv3 logs and counts but processes (RFC 9568 §7.1); VRRPv2
            // drops unless the sender is the owner (RFC 3768 §7.1).
            if local_version == Version::V2 && !packet.priority().is_owner() {
                return Err(Discard::AddressListMismatch);
            }
            self.stats.address_list_errors += 1;
        }
        // keepalived's default: a peer that sums unicast adverts the old
        // way is answered the old way (it accepts nothing else).
        if legacy_checksum && !self.legacy_checksum {
            self.legacy_checksum = true;
            self.outputs
                .push_back(Output::LegacyChecksumAdopted { from: src });
        }
        Ok(packet)
    }

    /// Whether `a` is the broadcast address of the primary address's
    /// subnet (for prefixes up to /30: /31 and /32 have none).
    fn is_subnet_broadcast(&self, a: std::net::Ipv4Addr) -> bool {
        let (IpAddr::V4(primary), Some(len)) =
            (self.config.primary_address, self.config.primary_prefix_len)
        else {
            return false;
        };
        if len > 30 {
            return false;
        }
        let host_bits = u32::MAX >> len;
        u32::from(a) == u32::from(primary) | host_bits
    }

    /// Whether the advertised addresses are the configured ones, in any
    /// order. IPv6 link-local entries are ignored: RFC 9568 puts the virtual
    /// link-local address first, FRR leaves it out.
    fn address_list_matches(&self, packet: &Packet<&[u8]>) -> bool {
        let counts = |a: &IpAddr| !matches!(a, IpAddr::V6(v6) if v6.is_unicast_link_local());
        let local = &self.template.addresses;
        packet.addresses().filter(counts).all(|a| local.contains(a))
            && local
                .iter()
                .filter(counts)
                .all(|a| packet.addresses().any(|b| b == a))
    }

    /// RFC 9568 §6.4.2, "If an ADVERTISEMENT is received".
    fn backup_receives(
        &mut self,
        now: Instant,
        src: IpAddr,
        priority: Priority,
        interval: Centiseconds,
    ) {
        if priority.is_shutdown() {
            // The Active router is leaving: take over after Skew_Time.
            self.timers.set(Timer::MasterDown, now + self.skew_time());
            return;
        }
        let delaying = self.timers.is_running(Timer::PreemptDelay);
        if !self.config.preempt || priority >= self.priority || delaying {
            self.learn_interval(interval);
            self.active_router = Some(src);
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
        }
        // Otherwise preempt: ignore it, and Master_Down_Timer fires.
    }

    /// RFC 9568 §6.4.3, "If an ADVERTISEMENT is received".
    fn active_receives(
        &mut self,
        now: Instant,
        src: IpAddr,
        priority: Priority,
        interval: Centiseconds,
    ) {
        if priority.is_shutdown() {
            self.answer_now(now);
            return;
        }
        let reason = if priority > self.priority {
            Reason::HigherPriority {
                from: src,
                priority,
            }
        } else if priority == self.priority && ip_greater(src, self.config.primary_address) {
            Reason::HigherAddress { from: src }
        } else {
            if self.config.answer_lower_priority {
                self.answer_now(now);
            }
            let share = self.config.advert_interval.as_duration() / SHUTDOWN_ANSWER_SHARE;
            if self.last_lower_heard.is_none_or(|last| now >= last + share) {
                self.last_lower_heard = Some(now);
                self.outputs.push_back(super::Output::LowerPriorityHeard {
                    from: src,
                    priority,
                });
            }
            return;
        };
        if self.config.advertise_before_yielding {
            self.send_advertisement(self.priority);
        }
        self.learn_interval(interval);
        self.active_router = Some(src);
        self.become_backup(now, reason);
    }

    /// Another router is leaving (priority 0), or one of lower priority
    /// believes it is Active (see [`Config::answer_lower_priority`](super::Config::answer_lower_priority)): tell
    /// them we are here, by sending an advertisement and resetting
    /// Adver_Timer (RFC 9568 §6.4.3). Answers are coalesced to one per [`SHUTDOWN_ANSWER_SHARE`]
    /// of the advertisement interval: a leaving Active sends priority 0
    /// once, and that advert is always answered at once, but a flood of
    /// them gets one answer per share instead of one per packet. A
    /// coalesced answer is the next advert, pulled in to the end of the
    /// share, so every priority-0 advert is still answered within it.
    fn answer_now(&mut self, now: Instant) {
        let interval = self.config.advert_interval.as_duration();
        let share = interval / SHUTDOWN_ANSWER_SHARE;
        match self.last_shutdown_answer.map(|last| last + share) {
            Some(next) if next > now => {
                if self.timers.get(Timer::Adver).is_none_or(|at| at > next) {
                    self.timers.set(Timer::Adver, next);
                    self.last_shutdown_answer = Some(next);
                }
            }
            _ => {
                self.send_advertisement(self.priority);
                self.timers.set(Timer::Adver, now + interval);
                self.last_shutdown_answer = Some(now);
            }
        }
    }

    /// VRRPv3: Master_Adver_Interval is the Active router's (RFC 9568
    /// §6.4.2). VRRPv2 intervals must match, so there is nothing to learn.
    fn learn_interval(&mut self, interval: Centiseconds) {
        if self.config.version == Version::V3 {
            self.master_adver_interval = interval;
        }
    }
}

/// Priority-0 advertisements are answered at most once per this fraction
/// of the advertisement interval (100 ms at the default 1 s).
pub(crate) const SHUTDOWN_ANSWER_SHARE: u32 = 10;

/// Whether `a` is greater than `b` as an unsigned number in network byte
/// order, the tie-break of RFC 9568 §6.4.3. Different families never tie.
fn ip_greater(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets() > b.octets(),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets() > b.octets(),
        _ => false,
    }
}
