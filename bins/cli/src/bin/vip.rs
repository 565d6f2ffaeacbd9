//! `vip`: give a NIC an extra IP without a new NIC — a secondary address or
//! an alias with a label — list it, remove it, and watch links and addresses.
//!
//! ```text
//! vip add 198.18.0.5/24 dev veth0 [label veth0:1] [--nodad] [--noprefixroute] [--scope S] [--broadcast B|+]
//! vip replace ...                        (same words as add)
//! vip del 198.18.0.5/24 dev veth0
//! vip list [dev veth0] [--json]
//! vip watch [--json] [--count N]
//! ```
//!
//! A thin shell over `vrrp-netaddr`: the library does the work.

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, error::ErrorKind};
use serde_json::Value;
use vrrp_netaddr::{
    AddOutcome, AddressFlags, AddressInfo, AddressSpec, DeleteOutcome, Event, EventStream, Handle,
    IfIndex, Label, Link,
};
use vrrpd_cli::args::vip::{AddArgs, Broadcast, Cli, Command, DelArgs, ListArgs, WatchArgs};

/// `dev IFACE [label LABEL]` keyword pairs, as `ip` takes them.
#[derive(Debug, Default)]
struct Words {
    dev: Option<String>,
    label: Option<String>,
}

fn parse_words(sub: &str, words: &[String], allowed: &[&str]) -> Words {
    let mut out = Words::default();
    for pair in words.chunks(2) {
        let [key, value] = pair else {
            usage(sub, format!("{:?} needs a value", pair[0]));
        };
        let slot = match key.as_str() {
            "dev" if allowed.contains(&"dev") => &mut out.dev,
            "label" if allowed.contains(&"label") => &mut out.label,
            other => usage(
                sub,
                format!("unexpected {other:?}; expected {}", allowed.join(" or ")),
            ),
        };
        if slot.replace(value.clone()).is_some() {
            usage(sub, format!("{key:?} given twice"));
        }
    }
    out
}

/// Exits with a usage error (status 2) in the style of clap's own, showing
/// the usage of subcommand `sub`.
fn usage(sub: &str, msg: String) -> ! {
    let mut cli = Cli::command();
    cli.build();
    match cli.find_subcommand_mut(sub) {
        Some(cmd) => cmd.error(ErrorKind::InvalidValue, msg).exit(),
        None => cli.error(ErrorKind::InvalidValue, msg).exit(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vip: error: {}", chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn run(command: Command) -> Result<()> {
    match command {
        Command::Add(args) => add(args, false),
        Command::Replace(args) => add(args, true),
        Command::Del(args) => del(args),
        Command::List(args) => list(args),
        Command::Watch(args) => watch(args),
    }
}

fn add(args: AddArgs, replace: bool) -> Result<()> {
    let sub = if replace { "replace" } else { "add" };
    let words = parse_words(sub, &args.words, &["dev", "label"]);
    let dev = words
        .dev
        .unwrap_or_else(|| usage(sub, "`dev IFACE` is required".into()));
    let mut handle = Handle::new()?;
    let link = handle.link_by_name(&dev)?;
    let mut spec = AddressSpec::new(link.index, args.address);
    if let Some(label) = words.label {
        spec = spec.with_label(Label::new(label)?);
    }
    if args.nodad {
        spec = spec.with_flags(AddressFlags::NODAD);
    }
    if args.noprefixroute {
        spec = spec.with_flags(AddressFlags::NOPREFIXROUTE);
    }
    if let Some(scope) = args.scope {
        spec = spec.with_scope(scope);
    }
    match args.broadcast {
        Some(Broadcast::Addr(b)) => spec = spec.with_broadcast(b),
        Some(Broadcast::Subnet) => match args.address.broadcast() {
            Some(b) => spec = spec.with_broadcast(b),
            None => usage(
                sub,
                format!("{} has no subnet broadcast address", args.address),
            ),
        },
        None => {}
    }
    let mut out = io::stdout().lock();
    if replace {
        handle.replace_address(&spec)?;
        writeln!(out, "replaced {} on {dev}", spec.prefix)?;
    } else {
        match handle.add_address(&spec)? {
            AddOutcome::Added => writeln!(out, "added {} on {dev}", spec.prefix)?,
            AddOutcome::AlreadyPresent => {
                writeln!(out, "{} already present on {dev}", spec.prefix)?
            }
        }
    }
    Ok(())
}

fn del(args: DelArgs) -> Result<()> {
    let words = parse_words("del", &args.words, &["dev"]);
    let dev = words
        .dev
        .unwrap_or_else(|| usage("del", "`dev IFACE` is required".into()));
    let mut handle = Handle::new()?;
    let link = handle.link_by_name(&dev)?;
    let mut out = io::stdout().lock();
    match handle.delete_address(link.index, args.address)? {
        DeleteOutcome::Removed => writeln!(out, "deleted {} from {dev}", args.address)?,
        DeleteOutcome::NotPresent => writeln!(out, "{} not present on {dev}", args.address)?,
    }
    Ok(())
}

fn list(args: ListArgs) -> Result<()> {
    let words = parse_words("list", &args.words, &["dev"]);
    let mut handle = Handle::new()?;
    let filter = words.dev.map(|d| handle.link_by_name(&d)).transpose()?;
    let names: HashMap<IfIndex, String> = match &filter {
        Some(link) => HashMap::from([(link.index, link.name.clone())]),
        None => handle
            .links()?
            .into_iter()
            .map(|l| (l.index, l.name))
            .collect(),
    };
    let addrs = handle.addresses(filter.map(|l| l.index))?;
    let mut out = io::stdout().lock();
    if args.json {
        let list: Vec<Value> = addrs
            .iter()
            .map(|a| with_ifname(a, names.get(&a.ifindex).map(String::as_str)))
            .collect::<Result<_, _>>()?;
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
    } else {
        for a in &addrs {
            writeln!(
                out,
                "{}",
                address_line(names.get(&a.ifindex).map(String::as_str), a)
            )?;
        }
    }
    Ok(())
}

fn with_ifname(a: &AddressInfo, ifname: Option<&str>) -> Result<Value, serde_json::Error> {
    let mut v = serde_json::to_value(a)?;
    if let Value::Object(map) = &mut v {
        map.insert(
            "ifname".into(),
            ifname.map_or(Value::Null, |n| Value::String(n.into())),
        );
    }
    Ok(v)
}

/// `veth0 inet 198.18.0.5/24 brd 198.18.0.255 scope global secondary label veth0:1`
fn address_line(ifname: Option<&str>, a: &AddressInfo) -> String {
    let dev = ifname.map_or_else(|| format!("if{}", a.ifindex), str::to_string);
    let mut line = format!("{dev} {} {}", a.family, a.prefix);
    if let Some(peer) = a.peer {
        line.push_str(&format!(" peer {peer}"));
    }
    if let Some(brd) = a.broadcast {
        line.push_str(&format!(" brd {brd}"));
    }
    line.push_str(&format!(" scope {}", a.scope));
    // Like `ip addr`, leave "permanent" (no lifetime, the usual case) unsaid.
    let flags = AddressFlags::from_bits(a.flags.bits() & !AddressFlags::PERMANENT.bits());
    if !flags.is_empty() {
        line.push_str(&format!(" {flags}"));
    }
    if let Some(label) = a.label.as_ref().filter(|l| Some(l.as_str()) != ifname) {
        line.push_str(&format!(" label {label}"));
    }
    line
}

fn watch(args: WatchArgs) -> Result<()> {
    let mut stream = EventStream::subscribe()?;
    let mut seen = 0;
    let mut out = io::stdout().lock();
    while args.count.is_none_or(|n| seen < n) {
        let event = stream.recv()?;
        if args.json {
            serde_json::to_writer(&mut out, &event)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", event_line(&event))?;
        }
        out.flush()?;
        seen += 1;
    }
    Ok(())
}

fn event_line(e: &Event) -> String {
    let link = |l: &Link, what: &str| {
        let mtu = l.mtu.map(|m| format!(" mtu {m}")).unwrap_or_default();
        format!(
            "link {} ({}) {what} state {}{mtu} <{}>",
            l.name, l.index, l.oper_state, l.flags
        )
    };
    match e {
        Event::LinkUp(l) => link(l, "up"),
        Event::LinkDown(l) => link(l, "down"),
        Event::LinkChanged(l) => link(l, "changed"),
        Event::LinkRemoved(l) => format!("link {} ({}) removed", l.name, l.index),
        Event::AddressAdded { ifname, address } => {
            format!("addr add {}", address_line(ifname.as_deref(), address))
        }
        Event::AddressRemoved { ifname, address } => {
            format!("addr del {}", address_line(ifname.as_deref(), address))
        }
        Event::Resync => "resync: events were lost; re-read the state".to_string(),
        _ => format!("{e:?}"),
    }
}

/// The error and its causes, joined by ": ".
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
        || e.downcast_ref::<serde_json::Error>()
            .and_then(|j| j.io_error_kind())
            .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
}
