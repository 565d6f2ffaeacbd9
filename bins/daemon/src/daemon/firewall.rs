//! keepalived's VRRP packet filter, for a non-owner in non-accept mode
//! (`no_accept`, or `vrrp_strict`'s default): while it is Active its VIPs
//! are in the set `vips` of the nftables tables `ip NAME` and `ip6 NAME`,
//! whose input and output chains drop packets to and from them (RFC 9568
//! §6.4.3: an Active router not in Accept_Mode does not accept them).
//! IPv6 neighbour discovery passes, and a link-local VIP is matched with
//! its interface. The layout is keepalived 2.2.7's (`vrrp_nftables.c`),
//! so tools that read its table keep working.
//!
//! The tables are made with the `nft` program, run by the address worker
//! (off the event loop) with a time bound. vrrpd creates them when first
//! needed and records that in `nftables-tables.json` in the state
//! directory first; it deletes only tables it recorded: at a stop, and at
//! the next start after a crash. A table of that name that someone else
//! made is left alone (and the filter is off for that family, with an
//! error in the log); keepalived deletes such a table.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracing::{debug, error, info, warn};
use vrrp_netaddr::{Family, IfIndex};

use crate::config::Firewall;

/// How long one `nft` run may take before it is killed.
const NFT_TIMEOUT: Duration = Duration::from_secs(2);

/// At most this much of `nft`'s error output goes into a log line.
const NFT_STDERR_MAX: u64 = 4096;

/// The record of the tables vrrpd created, in the state directory.
pub(crate) const TABLES_FILE: &str = "nftables-tables.json";

/// Why an `nft` run failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NftError {
    /// `nft` could not be started.
    #[error("cannot run nft: {0}")]
    Spawn(#[source] std::io::Error),
    /// It ran past [`NFT_TIMEOUT`] and was killed.
    #[error("nft did not finish within {0:?}")]
    Timeout(Duration),
    /// It refused the commands.
    #[error("nft failed: {0}")]
    Refused(String),
}

/// An address in the filter: a VIP, with its interface when it is an
/// IPv6 link-local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Element {
    /// The VIP.
    pub(crate) address: IpAddr,
    /// Its interface (IPv6 link-local VIPs only).
    pub(crate) ifindex: Option<IfIndex>,
}

impl Element {
    /// The element for `address` on `ifindex`.
    pub(crate) fn new(address: IpAddr, ifindex: IfIndex) -> Element {
        let link_local = matches!(address, IpAddr::V6(a) if a.is_unicast_link_local());
        Element {
            address,
            ifindex: link_local.then_some(ifindex),
        }
    }

    fn family(&self) -> Family {
        Family::of(self.address)
    }

    /// The set it goes in, and its text there.
    fn set_and_text(&self) -> (&'static str, String) {
        match self.ifindex {
            Some(i) => ("vips_link_local", format!("{} . {}", self.address, i.get())),
            None => ("vips", self.address.to_string()),
        }
    }
}

/// What state a family's table is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// Not made yet.
    Absent,
    /// Made by us.
    Ours,
    /// Cannot be made (someone else's table has the name, or nft fails):
    /// the filter is off for this family.
    Unusable,
}

/// The filter's state: which tables are ours and which elements we put in.
#[derive(Debug)]
pub(crate) struct NftFilter {
    settings: Firewall,
    record: PathBuf,
    v4: Table,
    v6: Table,
    /// Whether the IPv6 table has its link-local set and rules.
    link_local: bool,
    elements: HashSet<Element>,
}

impl NftFilter {
    /// A filter with `settings`, recording its tables in `state_dir`.
    /// Deletes the tables a previous run recorded (a crash) first.
    pub(crate) fn open(settings: &Firewall, state_dir: &Path) -> NftFilter {
        let record = state_dir.join(TABLES_FILE);
        let filter = NftFilter {
            settings: settings.clone(),
            record,
            v4: Table::Absent,
            v6: Table::Absent,
            link_local: false,
            elements: HashSet::new(),
        };
        filter.delete_recorded();
        filter
    }

    /// Puts `elements` in the filter (before the VIPs go on the host).
    pub(crate) fn add(&mut self, elements: &[Element]) {
        let fresh: Vec<Element> = elements
            .iter()
            .filter(|e| !self.elements.contains(e))
            .copied()
            .collect();
        let mut script = String::new();
        let mut added = Vec::new();
        let mut link_local_made = false;
        for family in [Family::Ipv4, Family::Ipv6] {
            let of: Vec<&Element> = fresh.iter().filter(|e| e.family() == family).collect();
            if of.is_empty() || !self.ensure_table(family) {
                continue;
            }
            let needs_link_local = of.iter().any(|e| e.ifindex.is_some());
            if needs_link_local && !self.link_local {
                script.push_str(&self.link_local_script());
                link_local_made = true;
            }
            for set in ["vips", "vips_link_local"] {
                let texts: Vec<String> = of
                    .iter()
                    .map(|e| e.set_and_text())
                    .filter(|(s, _)| *s == set)
                    .map(|(_, t)| t)
                    .collect();
                if !texts.is_empty() {
                    script.push_str(&format!(
                        "add element {} {} {set} {{ {} }}\n",
                        family_word(family),
                        self.settings.table,
                        texts.join(", ")
                    ));
                }
            }
            added.extend(of.into_iter().copied());
        }
        if script.is_empty() {
            return;
        }
        match run_nft(&script) {
            Ok(()) => {
                debug!(count = added.len(), "VIPs in the no_accept filter");
                self.elements.extend(added);
                self.link_local |= link_local_made;
            }
            Err(e) => {
                error!(error = %e, "cannot add VIPs to the no_accept filter: packets to them are accepted")
            }
        }
    }

    /// Takes `elements` out of the filter (after the VIPs left the host).
    pub(crate) fn remove(&mut self, elements: &[Element]) {
        let ours: Vec<Element> = elements
            .iter()
            .filter(|e| self.elements.contains(e))
            .copied()
            .collect();
        if ours.is_empty() {
            return;
        }
        let mut script = String::new();
        for e in &ours {
            let (set, text) = e.set_and_text();
            script.push_str(&format!(
                "delete element {} {} {set} {{ {text} }}\n",
                family_word(e.family()),
                self.settings.table
            ));
        }
        match run_nft(&script) {
            Ok(()) => {}
            Err(e) => warn!(error = %e, "cannot take VIPs out of the no_accept filter"),
        }
        for e in ours {
            self.elements.remove(&e);
        }
    }

    /// Deletes the tables we made (a clean stop).
    pub(crate) fn clear(&mut self) {
        self.elements.clear();
        self.delete_recorded();
        self.v4 = Table::Absent;
        self.v6 = Table::Absent;
        self.link_local = false;
    }

    /// Makes `family`'s table if it is not there yet; whether it is usable.
    fn ensure_table(&mut self, family: Family) -> bool {
        let state = match family {
            Family::Ipv4 => self.v4,
            Family::Ipv6 => self.v6,
        };
        let next = match state {
            Table::Ours => return true,
            Table::Unusable => return false,
            Table::Absent => self.create(family),
        };
        match family {
            Family::Ipv4 => self.v4 = next,
            Family::Ipv6 => self.v6 = next,
        }
        next == Table::Ours
    }

    fn create(&self, family: Family) -> Table {
        let word = family_word(family);
        let mut recorded = self.recorded();
        if !recorded.iter().any(|(f, _)| f == word) {
            recorded.push((word.to_string(), self.settings.table.clone()));
            if let Err(e) = self.write_record(&recorded) {
                error!(path = %self.record.display(), error = %e,
                    "cannot record the nftables table: the no_accept filter is off");
                return Table::Unusable;
            }
        }
        match run_nft(&self.table_script(family)) {
            Ok(()) => {
                info!(table = %format!("{word} {}", self.settings.table), "no_accept filter table created");
                Table::Ours
            }
            Err(e) => {
                error!(table = %format!("{word} {}", self.settings.table), error = %e,
                    "cannot create the no_accept filter (is the table someone else's?): packets to the VIPs are accepted");
                // Not ours: never delete it.
                recorded.retain(|(f, _)| f != word);
                let _ = self.write_record(&recorded);
                Table::Unusable
            }
        }
    }

    /// keepalived 2.2.7's layout for `family`.
    fn table_script(&self, family: Family) -> String {
        let t = &self.settings.table;
        let p = self.settings.priority;
        let counter = if self.settings.counters {
            "counter "
        } else {
            ""
        };
        let mut s = String::new();
        match family {
            Family::Ipv4 => {
                s.push_str(&format!("create table ip {t}\n"));
                s.push_str(&format!("add set ip {t} vips {{ type ipv4_addr; }}\n"));
                for (chain, hook) in [("in", "input"), ("out", "output")] {
                    s.push_str(&format!(
                        "add chain ip {t} {chain} {{ type filter hook {hook} priority {p}; policy accept; }}\n"
                    ));
                }
                s.push_str(&format!(
                    "add rule ip {t} in ip daddr @vips {counter}drop\n"
                ));
                s.push_str(&format!(
                    "add rule ip {t} out ip saddr @vips {counter}drop\n"
                ));
            }
            Family::Ipv6 => {
                s.push_str(&format!("create table ip6 {t}\n"));
                s.push_str(&format!("add set ip6 {t} vips {{ type ipv6_addr; }}\n"));
                s.push_str(&format!(
                    "add set ip6 {t} neighbor-discovery {{ type icmpv6_type; flags constant; elements = {{ nd-neighbor-solicit, nd-neighbor-advert }}; }}\n"
                ));
                for (chain, hook) in [("in", "input"), ("out", "output")] {
                    s.push_str(&format!(
                        "add chain ip6 {t} {chain} {{ type filter hook {hook} priority {p}; policy accept; }}\n"
                    ));
                    s.push_str(&format!("add chain ip6 {t} {chain}_link_local\n"));
                }
                for (chain, dir) in [("in", "daddr"), ("out", "saddr")] {
                    s.push_str(&format!(
                        "add rule ip6 {t} {chain} icmpv6 type @neighbor-discovery accept\n"
                    ));
                    s.push_str(&format!(
                        "add rule ip6 {t} {chain} ip6 {dir} fe80::/10 goto {chain}_link_local\n"
                    ));
                    s.push_str(&format!(
                        "add rule ip6 {t} {chain} ip6 {dir} @vips {counter}drop\n"
                    ));
                }
            }
        }
        s
    }

    /// The set for link-local VIPs and its rules, made when the first one
    /// comes (as keepalived makes them).
    fn link_local_script(&self) -> String {
        let t = &self.settings.table;
        let counter = if self.settings.counters {
            "counter "
        } else {
            ""
        };
        let mut s =
            format!("add set ip6 {t} vips_link_local {{ type ipv6_addr . iface_index; }}\n");
        for (chain, dir, iface) in [("in", "daddr", "iif"), ("out", "saddr", "oif")] {
            s.push_str(&format!(
                "add rule ip6 {t} {chain}_link_local ip6 {dir} . meta {iface} @vips_link_local {counter}drop\n"
            ));
        }
        s
    }

    /// The tables recorded as ours: (family word, name).
    fn recorded(&self) -> Vec<(String, String)> {
        let mut text = String::new();
        let read = std::fs::File::open(&self.record)
            .and_then(|f| f.take(64 * 1024).read_to_string(&mut text));
        match read {
            Ok(_) => serde_json::from_str(&text).unwrap_or_else(|e| {
                warn!(path = %self.record.display(), error = %e, "unreadable nftables record: ignored");
                Vec::new()
            }),
            Err(_) => Vec::new(),
        }
    }

    fn write_record(&self, tables: &[(String, String)]) -> std::io::Result<()> {
        if tables.is_empty() {
            return match std::fs::remove_file(&self.record) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let tmp = self.record.with_extension("json.tmp");
        let json = serde_json::to_vec(tables).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, &self.record)
    }

    /// Deletes every table the record names, then the record.
    fn delete_recorded(&self) {
        let recorded = self.recorded();
        if recorded.is_empty() {
            return;
        }
        for (family, name) in &recorded {
            match run_nft(&format!("delete table {family} {name}\n")) {
                Ok(()) => {
                    info!(table = %format!("{family} {name}"), "no_accept filter table deleted")
                }
                // Already gone (a reboot, or deleted by hand).
                Err(NftError::Refused(msg)) if msg.contains("No such file") => {}
                Err(e) => warn!(table = %format!("{family} {name}"), error = %e,
                    "cannot delete the no_accept filter table"),
            }
        }
        if let Err(e) = self.write_record(&[]) {
            warn!(path = %self.record.display(), error = %e, "cannot remove the nftables record");
        }
    }
}

fn family_word(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ip",
        Family::Ipv6 => "ip6",
    }
}

/// Where `nft` is: on `PATH`, else `/usr/sbin/nft`.
fn nft_program() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("nft"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nft"))
}

/// Runs `nft -f -` with `script` on its input, within [`NFT_TIMEOUT`].
fn run_nft(script: &str) -> Result<(), NftError> {
    let mut child = Command::new(nft_program())
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A script is a few hundred bytes: it fits the pipe.
        let _ = stdin.write_all(script.as_bytes());
    }
    let deadline = Instant::now() + NFT_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(NftError::Timeout(NFT_TIMEOUT));
            }
            Err(e) => return Err(NftError::Spawn(e)),
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut err = String::new();
    if let Some(stderr) = child.stderr.take() {
        let _ = stderr.take(NFT_STDERR_MAX).read_to_string(&mut err);
    }
    Err(NftError::Refused(err.trim().replace('\n', " | ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_vips_are_matched_with_their_interface() {
        let i = IfIndex::new(3).unwrap();
        let ll = Element::new("fe80::1".parse().unwrap(), i);
        assert_eq!(ll.set_and_text(), ("vips_link_local", "fe80::1 . 3".into()));
        let global = Element::new("fd00:198:18::100".parse().unwrap(), i);
        assert_eq!(global.set_and_text(), ("vips", "fd00:198:18::100".into()));
        let v4 = Element::new("198.18.0.100".parse().unwrap(), i);
        assert_eq!(v4.ifindex, None);
    }

    #[test]
    fn the_tables_follow_keepalived_and_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let filter = NftFilter {
            settings: Firewall {
                table: "vrrp".into(),
                priority: -5,
                counters: true,
            },
            record: dir.path().join(TABLES_FILE),
            v4: Table::Absent,
            v6: Table::Absent,
            link_local: false,
            elements: HashSet::new(),
        };
        let v4 = filter.table_script(Family::Ipv4);
        assert!(v4.starts_with("create table ip vrrp\n"), "{v4}");
        assert!(v4.contains("hook input priority -5; policy accept;"));
        assert!(v4.contains("add rule ip vrrp in ip daddr @vips counter drop"));
        assert!(v4.contains("add rule ip vrrp out ip saddr @vips counter drop"));
        let v6 = filter.table_script(Family::Ipv6);
        assert!(v6.contains("icmpv6 type @neighbor-discovery accept"));
        assert!(v6.contains("ip6 daddr fe80::/10 goto in_link_local"));
        let ll = filter.link_local_script();
        assert!(ll.contains("ip6 daddr . meta iif @vips_link_local counter drop"));
        filter
            .write_record(&[("ip".into(), "vrrp".into())])
            .unwrap();
        assert_eq!(
            filter.recorded(),
            vec![("ip".to_string(), "vrrp".to_string())]
        );
        filter.write_record(&[]).unwrap();
        assert!(!filter.record.exists());
    }
}
