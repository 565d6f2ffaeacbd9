//! Decoding VRRP advertisements for `vrrpctl decode`: from hex (a bare VRRP
//! message with its IP source and destination, or a whole IPv4 or IPv6
//! packet) or from a pcap capture (Ethernet link type), into one JSON object
//! per packet.
//!
//! A packet is judged as a receiving router would judge it, with the
//! codec-level checks of RFC 3768 §7.1 and RFC 9568 §7.1 (TTL 255, layout,
//! version, type, VRID, interval, authentication type, checksum in either
//! accepted form); what needs a local configuration is not checked. Fields
//! are reported whenever the message could be laid out, even if the TTL or
//! checksum is wrong.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;
use vrrp_core::Version;
use vrrp_core::wire::{
    Auth, ChecksumMode, ChecksumStatus, Packet, Received, TTL, VersionFields, WireError,
};

use crate::pcap::{
    ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetFrame, LINKTYPE_ETHERNET, Pcap,
    PcapError,
};

/// Arguments of `vrrpctl decode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct DecodeArgs {
    /// The packet in hex (spaces and colons are ignored, a leading 0x too):
    /// a whole IPv4 or IPv6 packet, or with --src/--dst the VRRP message
    /// alone. Without it (and without --pcap), each non-empty line of stdin
    /// is one packet; lines starting with '#' are skipped.
    #[arg(conflicts_with = "pcap")]
    pub hex: Option<String>,
    /// IP source of a bare VRRP message (the checksum needs it).
    #[arg(long, requires = "dst", conflicts_with = "pcap")]
    pub src: Option<IpAddr>,
    /// IP destination of a bare VRRP message.
    #[arg(long, requires = "src", conflicts_with = "pcap")]
    pub dst: Option<IpAddr>,
    /// TTL or hop limit a bare VRRP message arrived with; when absent the
    /// TTL is not checked.
    #[arg(long, requires = "src")]
    pub ttl: Option<u8>,
    /// A pcap file (Ethernet link type). Frames that are not VRRP are
    /// skipped and counted in a summary printed to stderr.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

/// Why decoding could not run at all (as opposed to a packet being bad,
/// which is reported in its [`PacketReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Reading the input failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The pcap file is unreadable.
    #[error(transparent)]
    Pcap(#[from] PcapError),
    /// The pcap file is not of Ethernet link type.
    #[error("pcap link type {0} is not supported, only Ethernet (1)")]
    LinkType(u32),
    /// --src and --dst are of different families.
    #[error("--src {src} and --dst {dst} are not of the same address family")]
    MixedFamilies {
        /// The source given.
        src: IpAddr,
        /// The destination given.
        dst: IpAddr,
    },
    /// Neither an argument nor a line on stdin held a packet.
    #[error("no packet given: pass hex, --pcap FILE, or lines of hex on stdin")]
    NoInput,
}

/// What `vrrpctl decode` prints for one packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PacketReport {
    /// The 1-based record number in a pcap file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<usize>,
    /// The capture time in a pcap file, seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// The 1-based line number on stdin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The IP source, when the IP layer could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    /// The IP destination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<IpAddr>,
    /// The IPv4 TTL or IPv6 hop limit, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    /// The VRRP fields, when the message could be laid out.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub advertisement: Option<AdvertisementReport>,
    /// The checksum and which form it matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumReport>,
    /// Whether a router would accept the packet (as far as the codec can
    /// tell without a configuration).
    pub ok: bool,
    /// Everything wrong with the packet, in the order found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorReport>,
}

/// The VRRP fields of a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvertisementReport {
    /// 2 or 3.
    pub version: u8,
    /// Always `advertisement`, the only VRRP message type.
    #[serde(rename = "type")]
    pub message_type: &'static str,
    /// The Virtual Router Identifier.
    pub vrid: u8,
    /// The sender's priority.
    pub priority: u8,
    /// The advertisement interval.
    pub interval: IntervalReport,
    /// VRRPv3's 4 reserved bits (ignored by receivers, shown for diagnosis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_bits: Option<u8>,
    /// The Count IPvX Addrs field.
    pub count: u8,
    /// The virtual addresses.
    pub addresses: Vec<IpAddr>,
    /// VRRPv2 authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthReport>,
}

/// An interval in its wire unit and in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntervalReport {
    /// The value on the wire.
    pub value: u16,
    /// Its unit: `cs` (VRRPv3) or `s` (VRRPv2).
    pub unit: &'static str,
    /// The interval in milliseconds.
    pub ms: u64,
}

/// VRRPv2 authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthReport {
    /// The Auth Type: 0 or 1.
    #[serde(rename = "type")]
    pub auth_type: u8,
    /// `none` or `simple-text`.
    pub name: &'static str,
    /// The simple-text password, without its zero padding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The checksum of a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecksumReport {
    /// The Checksum field, as `0x1234`.
    pub value: String,
    /// `valid`, `valid-without-pseudo-header`, `valid-with-group-destination`
    /// or `invalid`.
    pub status: &'static str,
    /// When invalid: the value the RFC form (pseudo-header for VRRPv3)
    /// would have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

/// One thing wrong with a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// A stable snake_case name ([`WireError::code`], or `bad_hex`).
    pub code: &'static str,
    /// A sentence saying what is wrong, with the offending values.
    pub message: String,
}

impl From<WireError> for ErrorReport {
    fn from(e: WireError) -> Self {
        ErrorReport {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl PacketReport {
    fn failed(error: ErrorReport) -> Self {
        PacketReport {
            frame: None,
            time: None,
            line: None,
            src: None,
            dst: None,
            ttl: None,
            advertisement: None,
            checksum: None,
            ok: false,
            errors: vec![error],
        }
    }
}

/// Decodes a whole IPv4 or IPv6 packet (told apart by the version nibble).
pub fn decode_ip_packet(packet: &[u8]) -> PacketReport {
    match Received::from_ip_packet(packet) {
        Ok(rx) => report(&rx, true),
        Err(e) => PacketReport::failed(e.into()),
    }
}

/// Decodes a bare VRRP message that went from `src` to `dst`; the TTL is
/// checked only if given.
pub fn decode_message(
    message: &[u8],
    src: IpAddr,
    dst: IpAddr,
    ttl: Option<u8>,
) -> Result<PacketReport, DecodeError> {
    let assumed = ttl.unwrap_or(TTL);
    let rx = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Received::from_ipv4_payload(s, d, assumed, message),
        (IpAddr::V6(s), IpAddr::V6(d)) => Received::from_ipv6_payload(s, d, assumed, message),
        _ => return Err(DecodeError::MixedFamilies { src, dst }),
    };
    Ok(report(&rx, ttl.is_some()))
}

/// The report for a received message: the same checks as
/// [`Received::validate`], but every problem is listed and the fields are
/// shown whenever the layout allows.
fn report(rx: &Received<'_>, ttl_known: bool) -> PacketReport {
    let mut errors = Vec::new();
    if ttl_known {
        if let Err(e) = rx.check_ttl() {
            errors.push(e.into());
        }
    }
    let (advertisement, checksum) = match rx.packet() {
        Ok(packet) => {
            let mut status = packet.verify_checksum(rx.src(), rx.dst());
            // A unicast advert summed as if sent to the group: keepalived
            // <= 1.3.6 and its `old_unicast_checksum`.
            let group = std::net::IpAddr::V4(vrrp_core::wire::MULTICAST_V4);
            if !status.is_valid()
                && !rx.dst().is_multicast()
                && packet.verify_checksum(rx.src(), group) == ChecksumStatus::Valid
            {
                status = ChecksumStatus::ValidWithGroupDestination;
            }
            if !status.is_valid() {
                errors.push(
                    WireError::BadChecksum {
                        found: packet.checksum(),
                    }
                    .into(),
                );
            }
            let checksum = ChecksumReport {
                value: format!("{:#06x}", packet.checksum()),
                status: status.as_str(),
                expected: (status == ChecksumStatus::Invalid)
                    .then(|| {
                        packet.compute_checksum(rx.src(), rx.dst(), ChecksumMode::PseudoHeader)
                    })
                    .flatten()
                    .map(|c| format!("{c:#06x}")),
            };
            (Some(advertisement_report(&packet)), Some(checksum))
        }
        Err(e) => {
            errors.push(e.into());
            (None, None)
        }
    };
    PacketReport {
        frame: None,
        time: None,
        line: None,
        src: Some(rx.src()),
        dst: Some(rx.dst()),
        ttl: ttl_known.then(|| rx.ttl_or_hop_limit()),
        advertisement,
        checksum,
        ok: errors.is_empty(),
        errors,
    }
}

fn advertisement_report(p: &Packet<&[u8]>) -> AdvertisementReport {
    let (interval, auth) = match p.version_fields() {
        VersionFields::V2 { adver_int, auth } => (
            IntervalReport {
                value: u16::from(adver_int.get()),
                unit: "s",
                ms: adver_int.as_centiseconds().as_millis(),
            },
            Some(match auth {
                Auth::None => AuthReport {
                    auth_type: auth.auth_type(),
                    name: "none",
                    password: None,
                },
                Auth::SimpleText(password) => AuthReport {
                    auth_type: auth.auth_type(),
                    name: "simple-text",
                    password: Some(String::from_utf8_lossy(password.as_bytes()).into_owned()),
                },
            }),
        ),
        VersionFields::V3 { max_adver_int } => (
            IntervalReport {
                value: max_adver_int.get(),
                unit: "cs",
                ms: max_adver_int.as_centiseconds().as_millis(),
            },
            None,
        ),
    };
    AdvertisementReport {
        version: p.version().number(),
        message_type: "advertisement",
        vrid: p.vrid().get(),
        priority: p.priority().get(),
        interval,
        reserved_bits: (p.version() == Version::V3).then(|| p.reserved_bits()),
        count: p.address_count(),
        addresses: p.addresses().collect(),
        auth,
    }
}

/// What a pcap file held, beyond the per-packet reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PcapSummary {
    /// Records read.
    pub frames: usize,
    /// VRRP packets among them (valid or not).
    pub vrrp: usize,
    /// VRRP packets a router would accept.
    pub valid: usize,
    /// VRRP packets with at least one error.
    pub invalid: usize,
    /// Frames that are not VRRP.
    pub skipped: usize,
    /// The skipped frames by kind (`arp`, `icmpv6 neighbor-solicitation`...).
    pub skipped_by_kind: BTreeMap<String, usize>,
    /// Why reading stopped early (a truncated record), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of decoding a pcap file.
#[derive(Debug, Clone, PartialEq)]
pub struct PcapDecoding {
    /// One report per VRRP packet, in file order.
    pub reports: Vec<PacketReport>,
    /// Counts, including the skipped frames.
    pub summary: PcapSummary,
}

impl PcapDecoding {
    /// Whether the file was read to the end and every VRRP packet in it is
    /// valid.
    pub fn all_ok(&self) -> bool {
        self.summary.error.is_none() && self.reports.iter().all(|r| r.ok)
    }
}

/// Decodes every VRRP packet of a pcap file held in memory.
pub fn decode_pcap(file: &[u8]) -> Result<PcapDecoding, DecodeError> {
    let pcap = Pcap::new(file)?;
    if pcap.link_type() != LINKTYPE_ETHERNET {
        return Err(DecodeError::LinkType(pcap.link_type()));
    }
    let mut reports = Vec::new();
    let mut summary = PcapSummary::default();
    for record in pcap.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                summary.error = Some(e.to_string());
                break;
            }
        };
        summary.frames += 1;
        match classify(record.data) {
            Frame::Vrrp(mut report) => {
                report.frame = Some(summary.frames);
                report.time = Some(record.timestamp.as_secs_f64());
                summary.vrrp += 1;
                if report.ok {
                    summary.valid += 1;
                } else {
                    summary.invalid += 1;
                }
                reports.push(*report);
            }
            Frame::Other(kind) => {
                summary.skipped += 1;
                *summary.skipped_by_kind.entry(kind).or_default() += 1;
            }
        }
    }
    Ok(PcapDecoding { reports, summary })
}

enum Frame {
    Vrrp(Box<PacketReport>),
    Other(String),
}

/// Sorts a captured Ethernet frame: VRRP (possibly malformed) or something
/// else, named for the summary.
fn classify(frame: &[u8]) -> Frame {
    let Some(eth) = EthernetFrame::parse(frame) else {
        return Frame::Other("short frame".into());
    };
    let received = match eth.ethertype {
        ETHERTYPE_IPV4 => Received::from_ipv4_packet(eth.payload),
        ETHERTYPE_IPV6 => Received::from_ipv6_packet(eth.payload),
        ETHERTYPE_ARP => return Frame::Other("arp".into()),
        other => return Frame::Other(format!("ethertype {other:#06x}")),
    };
    match received {
        Ok(rx) => Frame::Vrrp(Box::new(report(&rx, true))),
        Err(WireError::NotVrrp(protocol)) => {
            Frame::Other(protocol_name(eth.ethertype, protocol, eth.payload))
        }
        // Malformed IP is reported, not skipped: it may be VRRP.
        Err(e) => Frame::Vrrp(Box::new(PacketReport::failed(e.into()))),
    }
}

fn protocol_name(ethertype: u16, protocol: u8, ip: &[u8]) -> String {
    let family = if ethertype == ETHERTYPE_IPV6 {
        "ipv6"
    } else {
        "ipv4"
    };
    match protocol {
        1 => "icmp".into(),
        2 => "igmp".into(),
        6 => format!("{family} tcp"),
        17 => format!("{family} udp"),
        58 => {
            // The ICMPv6 type, when it directly follows the fixed header.
            let kind = match (ip.get(6), ip.get(40)) {
                (Some(58), Some(133)) => " router-solicitation",
                (Some(58), Some(134)) => " router-advertisement",
                (Some(58), Some(135)) => " neighbor-solicitation",
                (Some(58), Some(136)) => " neighbor-advertisement",
                (Some(58), Some(143)) => " mldv2-report",
                _ => "",
            };
            format!("icmpv6{kind}")
        }
        other => format!("{family} protocol {other}"),
    }
}

/// Parses hex: pairs of hex digits, with spaces, tabs, colons and a leading
/// `0x` ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let mut digits = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match c {
            ' ' | '\t' | ':' | '\r' | '\n' => {}
            c => match c.to_digit(16) {
                Some(d) => digits.push(d as u8),
                None => return Err(format!("not a hex digit: {c:?} at byte {i}")),
            },
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Runs `vrrpctl decode`: prints one JSON object per packet to `stdout`
/// (and, for a pcap, the [`PcapSummary`] as one JSON object to `stderr`).
/// Returns whether every packet was valid.
pub fn run(
    args: &DecodeArgs,
    stdin: impl BufRead,
    mut stdout: impl Write,
    mut stderr: impl Write,
) -> Result<bool, DecodeError> {
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| DecodeError::Io { what, source }
    };
    if let Some(path) = &args.pcap {
        let file = std::fs::read(path).map_err(io(&path.display().to_string()))?;
        let decoded = decode_pcap(&file)?;
        for report in &decoded.reports {
            print_json(&mut stdout, report).map_err(io("stdout"))?;
        }
        print_json(
            &mut stderr,
            &Summary {
                summary: &decoded.summary,
            },
        )
        .map_err(io("stderr"))?;
        return Ok(decoded.all_ok());
    }
    let inputs: Vec<(Option<usize>, String)> = match &args.hex {
        Some(hex) => vec![(None, hex.clone())],
        None => {
            let mut lines = Vec::new();
            for (i, line) in stdin.lines().enumerate() {
                let line = line.map_err(io("stdin"))?;
                let trimmed = line.trim();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    lines.push((Some(i + 1), trimmed.to_owned()));
                }
            }
            lines
        }
    };
    if inputs.is_empty() {
        return Err(DecodeError::NoInput);
    }
    let mut all_ok = true;
    for (line, text) in inputs {
        let mut report = match parse_hex(&text) {
            Ok(bytes) => match (args.src, args.dst) {
                (Some(src), Some(dst)) => decode_message(&bytes, src, dst, args.ttl)?,
                _ => decode_ip_packet(&bytes),
            },
            Err(message) => PacketReport::failed(ErrorReport {
                code: "bad_hex",
                message,
            }),
        };
        report.line = line;
        all_ok &= report.ok;
        print_json(&mut stdout, &report).map_err(io("stdout"))?;
    }
    Ok(all_ok)
}

/// The pcap summary, wrapped so it is recognisable: `{"summary": {...}}`.
#[derive(Serialize)]
struct Summary<'a> {
    summary: &'a PcapSummary,
}

fn print_json(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_separators_and_prefix() {
        assert_eq!(
            parse_hex("0x31 33:96\t01"),
            Ok(vec![0x31, 0x33, 0x96, 0x01])
        );
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert!(parse_hex("313").unwrap_err().contains("odd"));
        assert!(parse_hex("31zz").unwrap_err().contains("'z' at byte 2"));
    }
}
