//! Pieces the three dumps share: keepalived's state names and numbers,
//! its address and command spellings, `%g`, and `ctime`-style times.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{self, AddressFamily, Exec, Instance, RunAs, VirtualAddress};
use crate::control::{InstanceStats, InstanceStatus};

/// An instance state as keepalived names and numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KaState {
    /// `INIT`, 0.
    Init,
    /// `BACKUP`, 1.
    Backup,
    /// `MASTER`, 2 (vrrpd's Active).
    Master,
    /// `FAULT`, 3.
    Fault,
}

impl KaState {
    /// From vrrpd's state name (`initialize`, `backup`, `active`,
    /// `fault`). Anything else is reported as FAULT: keepalived would
    /// print `unknown`, which makes exporters fail the whole scrape, and
    /// an instance in a state nobody knows is not serving.
    pub(super) fn from_vrrpd(state: &str) -> KaState {
        match state {
            "initialize" | "init" => KaState::Init,
            "backup" => KaState::Backup,
            "active" | "master" => KaState::Master,
            _ => KaState::Fault,
        }
    }

    /// keepalived's name.
    pub(super) fn name(self) -> &'static str {
        match self {
            KaState::Init => "INIT",
            KaState::Backup => "BACKUP",
            KaState::Master => "MASTER",
            KaState::Fault => "FAULT",
        }
    }

    /// keepalived's number (`VRRP_STATE_*`).
    pub(super) fn number(self) -> u8 {
        match self {
            KaState::Init => 0,
            KaState::Backup => 1,
            KaState::Master => 2,
            KaState::Fault => 3,
        }
    }
}

/// keepalived's fourteen per-instance counters, from vrrpd's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct KaCounters {
    pub(super) advert_rcvd: u64,
    pub(super) advert_sent: u64,
    pub(super) become_master: u64,
    pub(super) release_master: u64,
    pub(super) packet_len_err: u64,
    pub(super) advert_interval_err: u64,
    pub(super) ip_ttl_err: u64,
    pub(super) invalid_type_rcvd: u64,
    pub(super) addr_list_err: u64,
    pub(super) invalid_authtype: u64,
    pub(super) authtype_mismatch: u64,
    pub(super) auth_failure: u64,
    pub(super) pri_zero_rcvd: u64,
    pub(super) pri_zero_sent: u64,
}

impl KaCounters {
    /// Maps vrrpd's RFC 8347 counters onto keepalived's.
    ///
    /// `become_master` is the number of transitions into Active (the
    /// engine's transition count, or the router's `master_transitions`,
    /// whichever is larger: they count the same events).
    /// `release_master` is the number of transitions out of Active:
    /// every entry into Active ended with one, except the current stay.
    pub(super) fn of(status: &InstanceStatus, stats: &InstanceStats) -> KaCounters {
        let c = |name: &str| stats.counters.get(name).copied().unwrap_or(0);
        let become_master = stats
            .transitions
            .get("active")
            .copied()
            .unwrap_or(0)
            .max(c("master_transitions"));
        let active_now = KaState::from_vrrpd(&status.state) == KaState::Master;
        let release_master = become_master.saturating_sub(u64::from(active_now));
        KaCounters {
            advert_rcvd: c("advertisement_rcvd"),
            advert_sent: c("advertisement_sent"),
            become_master,
            release_master,
            packet_len_err: c("packet_length_errors"),
            advert_interval_err: c("interval_errors"),
            ip_ttl_err: c("ip_ttl_errors"),
            invalid_type_rcvd: c("invalid_type_pkts_rcvd"),
            addr_list_err: c("address_list_errors"),
            invalid_authtype: c("invalid_auth_type"),
            authtype_mismatch: c("auth_type_mismatch"),
            auth_failure: c("auth_failures"),
            pri_zero_rcvd: c("priority_zero_pkts_rcvd"),
            pri_zero_sent: c("priority_zero_pkts_sent"),
        }
    }
}

/// The interface the instance's adverts and addresses are on, as
/// keepalived's `vrrp->ifp` names it: the macvlan with `use_vmac`, else
/// the configured interface.
pub(super) fn ifp_name(inst: &Instance) -> String {
    inst.vmac_name().unwrap_or_else(|| inst.interface.clone())
}

/// `dev` of an address line: its own device, or the instance's
/// interface (keepalived writes a macvlan as `vrrp.51@eth0`).
fn address_device(v: &VirtualAddress, inst: &Instance) -> String {
    if let Some(dev) = &v.device {
        return dev.clone();
    }
    match inst.vmac_name() {
        Some(vmac) => format!("{vmac}@{}", inst.interface),
        None => inst.interface.clone(),
    }
}

/// keepalived's `format_ipaddress`: `<addr>[/<plen>][ brd <b>] dev <if>
/// scope <scope>[ label <l>]`, then for IPv6 its preferred lifetime
/// (vrrpd installs addresses with the kernel's default, forever), then
/// ` set` when the address is on the host.
pub(super) fn address_line(v: &VirtualAddress, device: &str, installed: bool) -> String {
    let mut out = v.address.to_string();
    let host = if v.address.is_ipv4() { 32 } else { 128 };
    if v.prefix_len != host {
        out.push_str(&format!("/{}", v.prefix_len));
    }
    if let Some(brd) = v.broadcast.filter(|_| v.address.is_ipv4()) {
        out.push_str(&format!(" brd {brd}"));
    }
    out.push_str(&format!(" dev {device}"));
    let scope = v.scope.map_or("global", config::AddressScope::as_str);
    out.push_str(&format!(" scope {scope}"));
    if let Some(label) = &v.label {
        out.push_str(&format!(" label {label}"));
    }
    if v.address.is_ipv6() {
        out.push_str(" preferred_lft forever");
    }
    if installed {
        out.push_str(" set");
    }
    out
}

/// The address lines of an instance: its advertised VIPs (at most 255,
/// keepalived's `vip`), then the excluded ones (`evip`, where keepalived
/// also moves VIPs past the 255th).
pub(super) fn instance_addresses(inst: &Instance, installed: bool) -> (Vec<String>, Vec<String>) {
    let line = |v: &VirtualAddress| address_line(v, &address_device(v, inst), installed);
    let vips = inst
        .vips
        .iter()
        .take(config::MAX_ADVERTISED_VIPS)
        .map(line)
        .collect();
    let evips = inst
        .vips
        .iter()
        .skip(config::MAX_ADVERTISED_VIPS)
        .chain(&inst.excluded_vips)
        .map(line)
        .collect();
    (vips, evips)
}

/// keepalived's `cmd_str`: every word in single quotes (the first one
/// not when it is a `<`/`>` redirection), separated by spaces, with the
/// program's real path as keepalived resolves it (`/bin/true` is
/// `/usr/bin/true` on a merged /usr); as configured if it cannot be
/// resolved.
pub(super) fn command(exec: &Exec) -> String {
    exec.to_argv()
        .iter()
        .enumerate()
        .map(|(i, word)| {
            if i == 0 && (word.starts_with('<') || word.starts_with('>')) {
                word.clone()
            } else if i == 0 && word.starts_with('/') {
                // keepalived prints the program's real path (`/bin/true`
                // is `'/usr/bin/true'` on a merged /usr). Dumps are
                // rendered off the event loop, so the look-up may block.
                let real = std::fs::canonicalize(word)
                    .map_or_else(|_| word.clone(), |p| p.to_string_lossy().into_owned());
                format!("'{real}'")
            } else {
                format!("'{word}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `uid:gid` of a command run as `run_as` (or the global `script_user`,
/// or the daemon's own user). Ids are printed as numbers when they were
/// configured as numbers or are the daemon's own; a user or group given
/// by name is printed by name, since looking it up could block on NSS;
/// the primary group of a named user is `-`.
pub(super) fn uid_gid(run_as: Option<&RunAs>, global: &config::Global) -> String {
    match run_as.or(global.script_user.as_ref()) {
        None => format!(
            "{}:{}",
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw()
        ),
        Some(r) => {
            let group = r.group.as_deref().unwrap_or("-");
            format!("{}:{group}", r.user)
        }
    }
}

/// C's `%g` (precision 6): at most six significant digits, trailing
/// zeros dropped, exponent form below 1e-4 and from 1e6.
pub(super) fn fmt_g(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Round to six significant digits first: the exponent is that of the
    // rounded value.
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        strip_zeros(&format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip_zeros(mantissa), exp.unsigned_abs())
    }
}

/// Drops the trailing zeros of a decimal fraction, and its point if
/// nothing is left after it.
fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Whole seconds of `d`, as keepalived prints its timers (`%u`).
pub(super) fn secs(d: Duration) -> u64 {
    d.as_secs()
}

/// `d` in seconds as a float (keepalived's `x / TIMER_HZ_DOUBLE`).
pub(super) fn secs_f(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// A time broken down as `struct tm` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tm {
    /// The year, e.g. 2026.
    pub(super) year: i64,
    /// Month, 0..=11.
    pub(super) month: u32,
    /// Day of the month, 1..=31.
    pub(super) day: u32,
    /// Hour, 0..=23.
    pub(super) hour: u32,
    /// Minute, 0..=59.
    pub(super) minute: u32,
    /// Second, 0..=60.
    pub(super) second: u32,
    /// Day of the week, 0 (Sunday)..=6.
    pub(super) weekday: u32,
}

impl Tm {
    /// `secs` since the epoch in UTC.
    pub(super) fn utc(secs: i64) -> Tm {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        Tm {
            year,
            month: small(month - 1),
            day: small(day),
            hour: small(rem / 3600),
            minute: small(rem % 3600 / 60),
            second: small(rem % 60),
            weekday: small((days + 4).rem_euclid(7)),
        }
    }

    /// `secs` since the epoch in local time (`localtime_r(3)`: `TZ`, else
    /// `/etc/localtime`); UTC if the C library cannot convert it.
    pub(super) fn local(secs: i64) -> Tm {
        let Some(t) = libc::time_t::try_from(secs).ok() else {
            return Tm::utc(secs);
        };
        // SAFETY: `libc::tm` is plain data, valid when zeroed.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are to live, properly aligned locals;
        // localtime_r writes only into `tm` and is thread-safe.
        let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
        if !ok {
            return Tm::utc(secs);
        }
        let small = |v: libc::c_int| u32::try_from(v).unwrap_or(0);
        Tm {
            year: i64::from(tm.tm_year) + 1900,
            month: small(tm.tm_mon),
            day: small(tm.tm_mday),
            hour: small(tm.tm_hour),
            minute: small(tm.tm_min),
            second: small(tm.tm_sec),
            weekday: small(tm.tm_wday),
        }
    }

    /// keepalived's `ctime_us_r`: `asctime` with microseconds after the
    /// seconds and no newline, `Tue Dec  8 01:44:33.301698 2026`.
    pub(super) fn ctime_us(&self, usec: u32) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let weekday = DAYS.get(self.weekday as usize).copied().unwrap_or("???");
        let month = MONTHS.get(self.month as usize).copied().unwrap_or("???");
        format!(
            "{weekday} {month}{:>3} {:02}:{:02}:{:02}.{usec:06} {}",
            self.day, self.hour, self.minute, self.second, self.year
        )
    }
}

/// A time from the engine (milliseconds since the epoch) as keepalived's
/// `timeval`: whole seconds and microseconds.
pub(super) fn timeval(unix_ms: u64) -> (i64, u32) {
    let secs = i64::try_from(unix_ms / 1000).unwrap_or(i64::MAX);
    let usec = u32::try_from(unix_ms % 1000 * 1000).unwrap_or(0);
    (secs, usec)
}

/// The instance's last transition as a `timeval`; the epoch when it has
/// none yet.
pub(super) fn last_transition(status: &InstanceStatus) -> (i64, u32) {
    status
        .last_transition
        .as_ref()
        .map_or((0, 0), |t| timeval(t.at_unix_ms))
}

/// `%ld.%06ld (<ctime_us>)` in local time, as the data dump prints times.
pub(super) fn data_time(secs: i64, usec: u32) -> String {
    format!("{secs}.{usec:06} ({})", Tm::local(secs).ctime_us(usec))
}

/// The default multicast group of `family`.
pub(super) fn default_group(family: AddressFamily) -> IpAddr {
    match family {
        AddressFamily::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18)),
        AddressFamily::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
    }
}

/// Master_Adver_Interval as the status reports it, or the configured
/// interval when the status has none.
pub(super) fn master_adver_interval(inst: &Instance, status: &InstanceStatus) -> Duration {
    match status.master_adver_interval_ms {
        0 => inst.advert_interval,
        ms => Duration::from_millis(ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_g_matches_c() {
        let cases = [
            (5.0, "5"),
            (1.0, "1"),
            (0.5, "0.5"),
            (0.01, "0.01"),
            (40.95, "40.95"),
            (1.0 / 3.0, "0.333333"),
            (100_000.0, "100000"),
            (1_000_000.0, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123_456_789.0, "1.23457e+08"),
            (999_999.5, "1e+06"),
            (0.0, "0"),
            (-2.5, "-2.5"),
        ];
        for (x, want) in cases {
            assert_eq!(fmt_g(x), want, "{x}");
        }
    }

    #[test]
    fn ctime_us_is_keepalived_s() {
        // From testdata/keepalived-dumps/keepalived.data (TZ was UTC).
        let tm = Tm::utc(1_796_694_273);
        assert_eq!(tm.ctime_us(301_698), "Tue Dec  8 01:44:33.301698 2026");
        assert_eq!(Tm::utc(0).ctime_us(0), "Thu Jan  1 00:00:00.000000 1970");
        assert_eq!(
            Tm::utc(951_827_696).ctime_us(5),
            "Tue Feb 29 12:34:56.000005 2000"
        );
        assert_eq!(Tm::utc(-1).ctime_us(0), "Wed Dec 31 23:59:59.000000 1969");
    }

    #[test]
    fn local_time_is_a_whole_offset_from_utc() {
        let t = 1_796_694_273;
        let (l, u) = (Tm::local(t), Tm::utc(t));
        assert_eq!((l.minute % 15, l.second), (u.minute % 15, u.second));
    }

    #[test]
    fn commands_are_quoted_word_by_word() {
        let real = |p: &str| std::fs::canonicalize(p).unwrap().display().to_string();
        let exec = Exec::Argv(vec!["/bin/true".into(), "a b".into()]);
        assert_eq!(command(&exec), format!("'{}' 'a b'", real("/bin/true")));
        let missing = Exec::Argv(vec!["/nonexistent/x".into()]);
        assert_eq!(command(&missing), "'/nonexistent/x'");
        let redirect = Exec::Argv(vec!["</dev/null".into()]);
        assert_eq!(command(&redirect), "</dev/null");
        let shell = Exec::Shell("exit 0".into());
        assert_eq!(
            command(&shell),
            format!("'{}' '-c' 'exit 0'", real("/bin/sh"))
        );
    }

    #[test]
    fn address_lines() {
        let mut v = VirtualAddress::host("198.18.1.10".parse().unwrap());
        assert_eq!(
            address_line(&v, "veth0", true),
            "198.18.1.10 dev veth0 scope global set"
        );
        v.prefix_len = 24;
        v.label = Some("veth0:1".into());
        v.broadcast = Some("198.18.1.255".parse().unwrap());
        v.scope = Some(config::AddressScope::Host);
        assert_eq!(
            address_line(&v, "veth0", false),
            "198.18.1.10/24 brd 198.18.1.255 dev veth0 scope host label veth0:1"
        );
        let v6 = VirtualAddress::host("fd00:198:18::1".parse().unwrap());
        assert_eq!(
            address_line(&v6, "eth0", true),
            "fd00:198:18::1 dev eth0 scope global preferred_lft forever set"
        );
    }
}
