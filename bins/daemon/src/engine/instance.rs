//! One configured VRRP instance in the engine: its [`VirtualRouter`], its
//! trackers, its announcement schedule and what it counts. What it holds on
//! the host (interface, macvlan, socket, address specs) is the shell's.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_arp::{AnnouncementPolicy, AnnouncementSchedule};
use vrrp_core::Centiseconds;
use vrrp_core::router::{self, VirtualRouter};
use vrrp_core::wire::{Auth, Password};

use super::action::{InstanceId, Resolved, SocketId};
use super::counters::Extra;
use super::setup::SetupError;
use super::tracking::InstanceTracking;
use crate::config::{self, Config, Global};

/// A running instance.
#[derive(Debug)]
pub(crate) struct Instance {
    /// Its handle.
    pub(crate) id: InstanceId,
    /// The configuration it was built from (kept for reload diffs).
    pub(crate) config: config::Instance,
    /// The state machine.
    pub(crate) router: VirtualRouter,
    /// The socket its adverts come in on.
    pub(crate) socket: SocketId,
    /// Its interface's index.
    pub(crate) ifindex: u32,
    /// The other interfaces it depends on (macvlan, VIP devices).
    pub(crate) also_depends_on: Vec<u32>,
    /// When to send gratuitous ARPs / unsolicited NAs.
    pub(crate) schedule: AnnouncementSchedule,
    /// The announcements after hearing a lower priority while Active
    /// (keepalived's `garp_lower_prio_repeat`), while they run (boxed:
    /// rare, and 1,000 instances would carry them all).
    pub(crate) lower_schedule: Option<Box<AnnouncementSchedule>>,
    /// The interface's link state as last seen.
    pub(crate) link_up: bool,
    /// Its trackers.
    pub(crate) tracking: InstanceTracking,
    /// Counters for `vrrpctl stats` beyond the router's.
    pub(crate) extra: Extra,
    /// When to clear an address fault and try again, after the kernel or
    /// the ledger refused a VIP.
    pub(crate) address_retry: Option<Instant>,
    /// Failed installs in a row, for the retry back-off.
    pub(crate) address_failures: u32,
    /// Installs (and address updates) handed to the shell and not yet
    /// reported.
    pub(crate) installs_in_flight: u32,
    /// How many of those were undone by a removal queued after them: their
    /// reports (the first ones to come back) are ignored.
    pub(crate) installs_undone: u32,
    /// What to announce once no install is in flight: an address is
    /// announced only once it is on the host.
    pub(crate) announce_after_install: Vec<IpAddr>,
    /// How many of those are announced already (their part of the
    /// install reported progress).
    pub(crate) announce_started: usize,
    /// While a retried install is in flight, the router's latest advert,
    /// sent only if the install succeeds.
    pub(crate) held_advert: Option<router::Transmit>,
    /// Set when a reload removes the instance: its stop is reported as
    /// keepalived reports a deleted instance.
    pub(crate) removed_by_reload: bool,
    /// While Active with `garp_extra_if all N`: when to announce on the
    /// other interfaces of its addresses next.
    pub(crate) extra_interfaces_due: Option<Instant>,
    /// The effective priority last published ([`super::Event`]).
    pub(crate) published_priority: u8,
    /// While its router runs a timeout: the deadline that fired.
    pub(crate) timer_deadline: Option<Instant>,
}

impl Instance {
    /// Builds the router of `config` on what the shell `resolved`.
    /// `full` gives the global settings, sync groups and trackers (its
    /// instance list is not read).
    pub(crate) fn new(
        id: InstanceId,
        full: &Config,
        config: config::Instance,
        resolved: Resolved,
    ) -> Result<Self, SetupError> {
        let mut router_config = router_config(&full.global, &config, resolved.primary)?;
        router_config.primary_prefix_len = resolved.primary_prefix_len;
        let router =
            VirtualRouter::new(router_config).map_err(|e| SetupError::invalid("the router", e))?;
        let tracking = InstanceTracking::new(full, &config, &resolved);
        let schedule = AnnouncementSchedule::new(policy(&config.announce));
        let published_priority = router.priority().get();
        Ok(Instance {
            id,
            config,
            router,
            socket: resolved.socket,
            ifindex: resolved.ifindex,
            also_depends_on: resolved.also_depends_on,
            schedule,
            lower_schedule: None,
            link_up: resolved.link_up,
            tracking,
            extra: Extra::default(),
            address_retry: None,
            address_failures: 0,
            installs_in_flight: 0,
            installs_undone: 0,
            announce_after_install: Vec::new(),
            announce_started: 0,
            held_advert: None,
            removed_by_reload: false,
            extra_interfaces_due: None,
            published_priority,
            timer_deadline: None,
        })
    }

    /// Whether the instance depends on interface `ifindex`: its own, its
    /// macvlan's or a VIP's device.
    pub(crate) fn depends_on(&self, ifindex: u32) -> bool {
        self.ifindex == ifindex || self.also_depends_on.contains(&ifindex)
    }

    /// keepalived's `garp_extra_if all`: the first address on each
    /// interface other than the one the instance's addresses go on by
    /// default (its own, or its vmac), in configuration order.
    pub(crate) fn extra_interface_addresses(&self) -> Vec<IpAddr> {
        let own = match &self.config.vmac {
            Some(v) => v.name.as_deref().unwrap_or_default(),
            None => self.config.interface.as_str(),
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut first = Vec::new();
        for v in self.config.vips.iter().chain(&self.config.excluded_vips) {
            if let Some(dev) = v.device.as_deref().filter(|d| *d != own) {
                if !seen.contains(&dev) {
                    seen.push(dev);
                    first.push(v.address);
                }
            }
        }
        first
    }

    /// Starts or stops the `garp_extra_if` timer on a change to or from
    /// Active.
    pub(crate) fn schedule_extra_interfaces(&mut self, now: Instant, active: bool) {
        self.extra_interfaces_due = match self.config.announce.extra_interfaces {
            Some(every) if active && !self.extra_interface_addresses().is_empty() => {
                Some(now + every)
            }
            _ => None,
        };
    }

    /// The instance's name.
    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    /// The VRID.
    pub(crate) fn vrid(&self) -> u8 {
        self.config.vrid.get()
    }

    /// The addresses installed while Active, for the announcement schedule:
    /// VIPs then excluded VIPs.
    pub(crate) fn announced(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.config
            .vips
            .iter()
            .chain(&self.config.excluded_vips)
            .map(|v| v.address)
    }
}

/// The state machine's configuration for `config`, sending from `primary`.
pub(crate) fn router_config(
    global: &Global,
    config: &config::Instance,
    primary: IpAddr,
) -> Result<router::Config, SetupError> {
    let addresses = config.advertised_vips().collect();
    let advert_interval = Centiseconds::try_from(config.advert_interval)
        .map_err(|e| SetupError::invalid("advert_interval", e))?;
    let mut rc = router::Config::new(config.vrid, primary, addresses)
        .with_version(config.version)
        .with_priority(config.priority)
        .with_advert_interval(advert_interval)
        .with_preempt(config.preempt)
        .with_preempt_delay(config.preempt_delay)
        .with_accept_mode(config.accept)
        .with_initial_state(config.initial_state)
        .with_unicast_peers(config.unicast_peers.clone())
        .with_checksum_mode(global.v3_ipv4_checksum)
        .with_unicast_checksum(config.unicast_checksum)
        .with_skip_address_check(config.skip_check_adv_addr)
        .with_answer_lower_priority(!config.lower_prio_no_advert)
        .with_advertise_before_yielding(config.higher_prio_send_advert)
        .with_down_timer_adverts(config.down_timer_adverts.unwrap_or(3));
    if let Some(group) = config.multicast_group {
        rc = rc.with_multicast_group(group);
    }
    if let Some(pw) = &config.auth_password {
        rc = rc.with_auth(Auth::SimpleText(Password::new(pw.as_bytes()).ok_or_else(
            || SetupError::invalid_because("auth_password is longer than 8 bytes"),
        )?));
    }
    Ok(rc)
}

/// The arp crate's policy for the configuration's (keepalived's
/// `garp_master_*`).
fn policy(announce: &config::Announce) -> AnnouncementPolicy {
    AnnouncementPolicy::default()
        .with_repeat(announce.repeat)
        .with_second_burst_delay(announce.delay.unwrap_or(Duration::ZERO))
        .with_refresh(
            announce.refresh.unwrap_or(Duration::ZERO),
            announce.refresh_repeat,
        )
        .with_packet_interval(announce.interval)
}

/// When the instance next needs the loop: its router's timer or its next
/// announcement.
pub(crate) fn next_deadline(instance: &Instance) -> Option<Instant> {
    [
        instance.router.poll_timeout(),
        instance.schedule.poll_timeout(),
        instance
            .lower_schedule
            .as_ref()
            .and_then(|s| s.poll_timeout()),
        instance.extra_interfaces_due,
    ]
    .into_iter()
    .flatten()
    .min()
}

impl Instance {
    /// Announces every address again (keepalived's
    /// `garp_lower_prio_repeat` and `garp_lower_prio_delay`): the router
    /// heard a lower priority while Active, so clients may have learnt
    /// the addresses at the other router during a partition.
    pub(crate) fn announce_to_lower(&mut self, now: Instant) {
        let a = &self.config.announce;
        if a.lower_prio_repeat == 0 || self.router.state() != vrrp_core::router::State::Active {
            return;
        }
        let policy = AnnouncementPolicy::default()
            .with_repeat(a.lower_prio_repeat)
            .with_second_burst_delay(a.lower_prio_delay.unwrap_or(Duration::ZERO))
            .with_refresh(Duration::ZERO, 0)
            .with_packet_interval(a.interval);
        let addrs: Vec<IpAddr> = self.announced().collect();
        let mut schedule = AnnouncementSchedule::new(policy);
        schedule.start(now, addrs);
        self.lower_schedule = Some(Box::new(schedule));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use super::*;

    /// Parses a native configuration, or panics with its diagnostics.
    pub(crate) fn load(text: &str) -> Config {
        crate::config::check_native_str(text, Path::new("t.toml"))
            .map(|(c, _)| c)
            .unwrap_or_else(|d| panic!("{}", crate::config::render(&d)))
    }

    #[test]
    fn router_config_carries_units_and_modes() {
        let config = load(
            r#"
[global]
v3_ipv4_checksum = "message-only"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "250ms"
preempt = false
preempt_delay = "3s"
accept = false
vips = ["198.18.0.100/24"]
unicast_peers = ["198.18.0.2"]
"#,
        );
        let primary: IpAddr = "198.18.0.1".parse().unwrap();
        let rc = router_config(&config.global, &config.instances[0], primary).unwrap();
        assert_eq!(rc.vrid.get(), 51);
        assert_eq!(rc.priority.get(), 150);
        assert_eq!(rc.advert_interval, Centiseconds::new(25));
        assert!(!rc.preempt && !rc.accept_mode);
        assert_eq!(rc.preempt_delay, Duration::from_secs(3));
        assert_eq!(
            rc.addresses,
            vec!["198.18.0.100".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            rc.unicast_peers,
            vec!["198.18.0.2".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(rc.checksum_mode, vrrp_core::wire::ChecksumMode::MessageOnly);
        VirtualRouter::new(rc).expect("a valid router config");
    }

    #[test]
    fn v2_password_becomes_simple_text_auth() {
        let config = load(
            r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 1
version = 2
advert_interval = "1s"
auth_password = "s3cret"
vips = ["198.18.0.100"]
"#,
        );
        let rc = router_config(
            &config.global,
            &config.instances[0],
            "198.18.0.1".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(rc.version, vrrp_core::Version::V2);
        assert_eq!(rc.advert_interval, Centiseconds::new(100));
        assert!(matches!(rc.auth, Auth::SimpleText(p) if p.as_bytes().starts_with(b"s3cret")));
        VirtualRouter::new(rc).expect("a valid v2 router config");
    }

    /// More than 255 VIPs (Many VIPs #6): the first 255 are advertised and
    /// the router is built; before, the router refused the instance while
    /// `check` said OK.
    #[test]
    fn vips_past_255_are_not_advertised() {
        let vips: Vec<String> = (0..300)
            .map(|i| format!("\"198.18.{}.{}/32\"", 1 + i / 250, 1 + i % 250))
            .collect();
        let config = load(&format!(
            "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nvips = [{}]\n",
            vips.join(", ")
        ));
        let rc = router_config(
            &config.global,
            &config.instances[0],
            "198.18.0.1".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(rc.addresses.len(), 255);
        assert_eq!(rc.addresses[254], "198.18.2.5".parse::<IpAddr>().unwrap());
        VirtualRouter::new(rc).expect("a valid router config");
        let (_, warnings) = crate::config::check_native_str(
            &format!(
                "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nvips = [{}]\n",
                vips.join(", ")
            ),
            Path::new("t.toml"),
        )
        .unwrap();
        assert!(
            warnings.iter().any(|w| w.message.contains(
                "the first 255 are advertised, the other 45 are installed but not advertised"
            )),
            "{warnings:?}"
        );
    }
}
