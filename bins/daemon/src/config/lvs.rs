//! keepalived's LVS half in the configuration model: virtual servers
//! (IPVS services), their real servers and the checkers that take a dead
//! real server out of rotation. Defaults and inheritance are resolved by
//! the loaders (real server from its virtual server, checker from its
//! real server), so every value here is the one in effect.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use vrrp_ipvs::{Forwarding, Persistence, Protocol, Scheduler, ServiceFlags, ServiceKey};

use super::exec::Hook;

/// keepalived's `delay_loop` default.
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived's `connect_timeout` default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The delay before the first checks of a fresh start or reload
/// (keepalived's `BOOTSTRAP_DELAY`), to which a random part of `warmup`
/// is added.
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);

/// A `virtual_server` block: one IPVS service.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VirtualServer {
    /// Its address and port, or its firewall mark.
    pub key: ServiceKey,
    /// `lb_algo` / `lvs_sched` (default wlc).
    pub scheduler: Scheduler,
    /// `ops`, `flag-N`, `sh-*`, `mh-*`.
    pub flags: ServiceFlags,
    /// `persistence_timeout` and `persistence_granularity`.
    pub persistence: Option<Persistence>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `ha_suspend`: check only while the service address is on a local
    /// interface (keepalived watches the addresses, not the VRRP state).
    pub ha_suspend: bool,
    /// `quorum`: the total weight of live real servers it needs (≥ 1).
    pub quorum: u32,
    /// `hysteresis` around the quorum (< quorum).
    pub hysteresis: u32,
    /// `quorum_up`: run when the quorum is gained (also at a fresh start).
    pub quorum_up: Option<Hook>,
    /// `quorum_down`: run when it is lost.
    pub quorum_down: Option<Hook>,
    /// `sorry_server`: served (weight 1) while the quorum is lost.
    pub sorry_server: Option<SorryServer>,
    /// `omega`: at stop, run notify_down of live real servers and
    /// quorum_down.
    pub omega: bool,
    /// `virtualhost`: the Host of HTTP checks without their own.
    pub virtualhost: Option<String>,
    /// Its real servers, in file order; never empty.
    pub real_servers: Vec<RealServer>,
}

/// A `sorry_server`, with `sorry_server_inhibit` and
/// `sorry_server_lvs_method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SorryServer {
    /// Its address (a NAT sorry server without a port takes the
    /// service's).
    pub addr: SocketAddr,
    /// How packets reach it.
    pub forwarding: Forwarding,
    /// Kept in the table with weight 0 while not serving.
    pub inhibit: bool,
}

/// A `real_server` block.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealServer {
    /// Its address and port (the service's port when it had none).
    pub addr: SocketAddr,
    /// `lvs_method` (else the virtual server's `lb_kind`, else NAT).
    pub forwarding: Forwarding,
    /// `weight` (else the virtual server's, else 1).
    pub weight: u32,
    /// `uthreshold`.
    pub upper_threshold: u32,
    /// `lthreshold`.
    pub lower_threshold: u32,
    /// `inhibit_on_failure`: weight 0 instead of removal while down.
    pub inhibit_on_failure: bool,
    /// `alpha`: starts down, and is added only once every checker passed.
    pub alpha: bool,
    /// `notify_up`.
    pub notify_up: Option<Hook>,
    /// `notify_down`.
    pub notify_down: Option<Hook>,
    /// Its checkers. None: always up.
    pub checkers: Vec<Checker>,
}

/// One health check of a real server, with its timing resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checker {
    /// What it checks.
    pub kind: CheckKind,
    /// `delay_loop`: between checks.
    pub delay_loop: Duration,
    /// `retry` (`nb_get_retry`): failures tolerated before a live server
    /// goes down (so `retry + 1` in a row take it down).
    pub retry: u32,
    /// `delay_before_retry`.
    pub delay_before_retry: Duration,
    /// `warmup`: the first check comes after [`BOOTSTRAP_DELAY`] plus a
    /// random part of this (default: `delay_loop`).
    pub warmup: Duration,
    /// `alpha`: this checker starts failed.
    pub alpha: bool,
}

/// What a checker does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckKind {
    /// `TCP_CHECK`: a connect that completes within the timeout.
    Tcp(Connect),
    /// `HTTP_GET` and `SSL_GET`.
    Http(HttpCheck),
    /// `MISC_CHECK`: a script's exit status.
    Misc(MiscCheck),
    /// `UDP_CHECK`: a datagram, and no ICMP error (or the reply asked for)
    /// within the timeout.
    Udp(UdpCheck),
    /// `DNS_CHECK`: a DNS query answered without error within the timeout.
    Dns(DnsCheck),
    /// `PING_CHECK`: an ICMP (or ICMPv6) echo answered within the timeout.
    /// Only the address and the timeout of the [`Connect`] matter.
    Ping(Connect),
    /// `SMTP_CHECK`: a 220 greeting, `HELO` answered 250, `QUIT` answered.
    Smtp(SmtpCheck),
}

/// An `SMTP_CHECK` (each of keepalived's deprecated `host` blocks is a
/// checker of its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpCheck {
    /// Where it connects; `connect_timeout` bounds the connect and each
    /// read and write.
    pub connect: Connect,
    /// `helo_name`: what `HELO` says. Default keepalived's
    /// `smtpchecker.keepalived.org`.
    pub helo_name: String,
}

/// A `DNS_CHECK`: one query over UDP; it passes when the answer with the
/// query's ID has response code 0 (NOERROR), whatever its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsCheck {
    /// Where it sends (port 53 is not implied: the real server's port,
    /// or `connect_port`).
    pub connect: Connect,
    /// `type`: the query type. Default SOA.
    pub query_type: DnsType,
    /// `name`: the name asked for, without the final dot (`""` is the
    /// root). Default the root.
    pub name: String,
}

/// The query types `DNS_CHECK` asks for (RFC 1035 §3.2.2, RFC 3596).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DnsType {
    /// `A`, 1.
    A,
    /// `NS`, 2.
    Ns,
    /// `CNAME`, 5.
    Cname,
    /// `SOA`, 6 (keepalived's default).
    Soa,
    /// `MX`, 15.
    Mx,
    /// `TXT`, 16.
    Txt,
    /// `AAAA`, 28.
    Aaaa,
}

impl DnsType {
    /// Every type, in keepalived's order.
    pub const ALL: [DnsType; 7] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
    ];

    /// The name as written in the configuration (`A`, `NS`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DnsType::A => "A",
            DnsType::Ns => "NS",
            DnsType::Cname => "CNAME",
            DnsType::Soa => "SOA",
            DnsType::Mx => "MX",
            DnsType::Txt => "TXT",
            DnsType::Aaaa => "AAAA",
        }
    }

    /// The type for a name, case-insensitively.
    pub fn from_name(name: &str) -> Option<DnsType> {
        DnsType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }

    /// The QTYPE value.
    pub fn code(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Ns => 2,
            DnsType::Cname => 5,
            DnsType::Soa => 6,
            DnsType::Mx => 15,
            DnsType::Txt => 16,
            DnsType::Aaaa => 28,
        }
    }
}

/// Why `name` cannot be asked for: a label empty or longer than 63
/// bytes, or the whole longer than 253 (RFC 1035 §2.3.4).
pub fn dns_name_problem(name: &str) -> Option<String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.len() > 253 {
        return Some(format!("`{name}` is longer than 253 bytes"));
    }
    if trimmed.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Some(format!(
            "`{name}` has an empty label or one longer than 63 bytes"
        ));
    }
    None
}

/// A `UDP_CHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpCheck {
    /// Where it sends.
    pub connect: Connect,
    /// `payload`: the datagram (empty by default).
    pub payload: Vec<u8>,
    /// `require_reply`: a reply must come within the timeout (else only
    /// an ICMP error fails the check).
    pub require_reply: bool,
    /// `require_reply HEX`: what the reply starts with (`x` nibbles match
    /// anything), compared over the shorter of the two; its length must
    /// be within `reply_length`.
    pub reply: Option<HexPattern>,
    /// `min_reply_length` and `max_reply_length` (default 0..=255),
    /// checked when `reply` is set, as keepalived does.
    pub reply_length: (u16, u16),
}

/// Bytes with a mask of don't-care bits (keepalived's hex strings with
/// `x` nibbles).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexPattern {
    /// The bytes (0 where a nibble is a wildcard).
    pub bytes: Vec<u8>,
    /// The bits that are wildcards.
    pub mask: Vec<u8>,
}

impl HexPattern {
    /// Parses keepalived's hex strings: pairs of hex digits, spaces
    /// between octets allowed (a lone digit before a space is one octet),
    /// `x`/`X` for a wildcard nibble when `wildcards`. `None` if empty or
    /// not hex.
    pub fn parse(text: &str, wildcards: bool) -> Option<HexPattern> {
        let nibble = |c: char| -> Option<(u8, u8)> {
            match c {
                'x' | 'X' if wildcards => Some((0, 0x0f)),
                c => c.to_digit(16).map(|d| (d as u8, 0)),
            }
        };
        let mut out = HexPattern {
            bytes: Vec::new(),
            mask: Vec::new(),
        };
        let mut chars = text.chars().peekable();
        loop {
            while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
            let Some(c) = chars.next() else { break };
            let (mut value, mut mask) = nibble(c)?;
            if let Some(&c2) = chars.peek().filter(|c| **c != ' ' && **c != '\t') {
                chars.next();
                let (v2, m2) = nibble(c2)?;
                value = value << 4 | v2;
                mask = mask << 4 | m2;
            }
            out.bytes.push(value);
            out.mask.push(mask);
        }
        (!out.bytes.is_empty()).then_some(out)
    }
}

impl UdpCheck {
    /// Whether `reply` passes (keepalived's `check_udp_reply`).
    pub fn accepts(&self, reply: &[u8]) -> bool {
        let Some(want) = &self.reply else {
            return true;
        };
        let (min, max) = self.reply_length;
        if reply.len() < usize::from(min) || reply.len() > usize::from(max) {
            return false;
        }
        reply
            .iter()
            .zip(want.bytes.iter().zip(&want.mask))
            .all(|(got, (w, m))| (got ^ w) & !m == 0)
    }
}

/// Where and how a connecting checker connects (`connect_ip`,
/// `connect_port`, `bindto`, `bind_port`, `connect_timeout`, `fwmark`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connect {
    /// The address checked: the real server's unless `connect_ip` /
    /// `connect_port` say otherwise. keepalived takes the real server's
    /// address as written, so a real server without a port is checked on
    /// port 0 unless `connect_port` is set.
    pub addr: SocketAddr,
    /// `bindto` and `bind_port`.
    pub bind: Option<SocketAddr>,
    /// `connect_timeout`: bounds the connect, and each write and read.
    pub timeout: Duration,
    /// `fwmark` set on the check's socket (`SO_MARK`).
    pub fwmark: Option<u32>,
}

/// An `HTTP_GET` or `SSL_GET` checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCheck {
    /// Where it connects.
    pub connect: Connect,
    /// `SSL_GET`: over TLS (no peer verification, as keepalived).
    pub tls: bool,
    /// `http_protocol`: 1.0 (default) or 1.1 (adds `Connection: close`).
    pub http_1_1: bool,
    /// `enable_sni` (`SSL_GET`): send the virtualhost as the TLS server
    /// name.
    pub sni: bool,
    /// The Host header when a url has none (checker, real server or
    /// virtual server `virtualhost`); else `ip:port`.
    pub virtualhost: Option<String>,
    /// `url` blocks, each fetched on every check; all must pass.
    pub urls: Vec<UrlCheck>,
}

/// A `url` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlCheck {
    /// `path`.
    pub path: String,
    /// `digest`: the MD5 of the body, lowercase hex (`genhash`).
    pub digest: Option<String>,
    /// `status_code` ranges (default 200-299).
    pub status: Vec<(u16, u16)>,
    /// `virtualhost` of this url.
    pub virtualhost: Option<String>,
}

/// A `MISC_CHECK` checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiscCheck {
    /// `misc_path` and `user`.
    pub script: Hook,
    /// `misc_timeout` (else the virtual server's `delay_loop`).
    pub timeout: Duration,
    /// `misc_dynamic`: exit 2..=255 means up with weight `status - 2`.
    pub dynamic: bool,
}

impl UrlCheck {
    /// A `status_code` entry, `N` or `N-M`, within 100..=599; `None`
    /// otherwise (both configuration formats read it so).
    pub fn parse_status(text: &str) -> Option<(u16, u16)> {
        let (lo, hi) = match text.split_once('-') {
            Some((a, b)) => (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
            None => {
                let n = text.parse::<u16>().ok()?;
                (n, n)
            }
        };
        ((100..=599).contains(&lo) && (lo..=599).contains(&hi)).then_some((lo, hi))
    }

    /// A `digest`: 32 hex digits (an MD5, as genhash prints it), kept in
    /// lowercase; `None` otherwise.
    pub fn parse_digest(text: &str) -> Option<String> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| text.to_ascii_lowercase())
    }

    /// Whether `status` is one this url accepts.
    pub fn accepts(&self, status: u16) -> bool {
        self.status
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&status))
    }
}

impl VirtualServer {
    /// The address the service answers on, unless it is a fwmark service.
    pub fn address(&self) -> Option<IpAddr> {
        match self.key {
            ServiceKey::Inet { addr, .. } => Some(addr.ip()),
            ServiceKey::Fwmark { .. } => None,
        }
    }

    /// Whether a hook or MISC_CHECK script of it runs as a user of its
    /// own (`user`), which needs CAP_SETUID and CAP_SETGID.
    pub fn runs_as_someone(&self) -> bool {
        let hooks = [&self.quorum_up, &self.quorum_down]
            .into_iter()
            .chain(
                self.real_servers
                    .iter()
                    .flat_map(|r| [&r.notify_up, &r.notify_down]),
            )
            .flatten();
        let scripts = self
            .real_servers
            .iter()
            .flat_map(|r| &r.checkers)
            .filter_map(|c| match &c.kind {
                CheckKind::Misc(m) => Some(&m.script),
                _ => None,
            });
        hooks.chain(scripts).any(|h| h.run_as.is_some())
    }
}
