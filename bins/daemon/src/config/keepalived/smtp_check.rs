//! keepalived's `SMTP_CHECK { helo_name NAME; host { ... } }`: each
//! (deprecated) `host` block, with its own `connect_ip`, `connect_port`,
//! `bindto`, `bind_port`, `connect_timeout` and `fwmark`, is a checker of
//! its own, with the block's timing but not its `connect_timeout`; the
//! block's own connection is checked too only if the block sets one of
//! those six, or has no `host` (keepalived's check_smtp.c).

use std::net::SocketAddr;
use std::time::Duration;

use super::args::Ctx;
use super::checkers::{RawChecker, RawConnect, RawKind, Timing, read_item};
use super::parser::Stmt;
use crate::config::lvs::{Connect, SmtpCheck};
use crate::lvs::smtp::DEFAULT_HELO;

/// What a `host` block takes.
const HOST_KEYS: &[&str] = &[
    "connect_ip",
    "connect_port",
    "bindto",
    "bind_port",
    "connect_timeout",
    "fwmark",
];

/// The checkers of one `SMTP_CHECK` block.
pub(super) fn read_smtp_check(ctx: &mut Ctx<'_>, s: &Stmt) -> Vec<RawChecker> {
    ctx.arity(s, 0, 0);
    let blank = || RawChecker {
        kind: RawKind::Smtp(Box::new(SmtpCheck {
            connect: Connect {
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                bind: None,
                timeout: Duration::ZERO,
                fwmark: None,
            },
            helo_name: DEFAULT_HELO.to_string(),
        })),
        timing: Timing::default(),
        connect: RawConnect::default(),
    };
    let mut base = blank();
    let mut helo_name = None;
    let mut hosts: Vec<RawChecker> = Vec::new();
    for item in ctx.block(s) {
        match item.key.text.as_str() {
            "helo_name" => {
                if let Some(w) = ctx.single(item) {
                    helo_name = Some(w.text.clone());
                }
            }
            "host" => {
                ctx.arity(item, 0, 0);
                let mut host = blank();
                for inner in ctx.block(item) {
                    if HOST_KEYS.contains(&inner.key.text.as_str()) {
                        read_item(ctx, inner, &mut host);
                    } else {
                        ctx.error(
                            inner.key.pos,
                            format!(
                                "unknown keyword `{}` in an SMTP_CHECK host block",
                                inner.key.text
                            ),
                            Some(format!("a host block takes {}", HOST_KEYS.join(", "))),
                        );
                    }
                }
                hosts.push(host);
            }
            _ => read_item(ctx, item, &mut base),
        }
    }
    if !hosts.is_empty() {
        ctx.warn(
            s.key.pos,
            "SMTP_CHECK host blocks are deprecated (keepalived): each runs as a checker of its own",
            Some("write one SMTP_CHECK per host instead".into()),
        );
    }
    let c = base.connect;
    let base_connects = c.ip.is_some()
        || c.port.is_some()
        || c.bind_ip.is_some()
        || c.bind_port.is_some()
        || c.fwmark.is_some()
        || base.timing.connect_timeout.is_some();
    let mut out = Vec::new();
    if base_connects || hosts.is_empty() {
        out.push(base.clone());
    }
    for mut host in hosts {
        // The block's timing, but the host's own connect_timeout (else
        // the real server's or virtual server's; keepalived 2.2.7 leaves
        // such a host at 0, and it always fails).
        let own_timeout = host.timing.connect_timeout;
        host.timing = base.timing;
        host.timing.connect_timeout = own_timeout;
        out.push(host);
    }
    if let Some(name) = helo_name {
        for c in &mut out {
            if let RawKind::Smtp(smtp) = &mut c.kind {
                smtp.helo_name = name.clone();
            }
        }
    }
    out
}
