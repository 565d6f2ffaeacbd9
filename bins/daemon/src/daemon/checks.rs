//! The checkers' I/O: a TCP connect, an HTTP GET (over TLS for
//! `SSL_GET`, see [`http_get`]), a script. Each runs as
//! a task on the loop's runtime, bounded in time (and, for HTTP, in the
//! bytes it reads), and ends in a [`CheckOutcome`]; none blocks the loop.

use std::sync::Arc;

use super::http_get;
use crate::config::Global;
use crate::config::lvs::{CheckKind, HttpCheck, MiscCheck, UdpCheck, VirtualServer};
use crate::lvs::http::{judge, request};
use crate::lvs::{CheckOutcome, CheckerId};
use crate::process::Job;

/// Runs checker `id` of `servers` to its outcome.
pub(crate) async fn run(
    servers: Arc<[VirtualServer]>,
    id: CheckerId,
    global: Arc<Global>,
) -> CheckOutcome {
    let Some((vs, rs, checker)) = servers.get(id.virtual_server).and_then(|vs| {
        let rs = vs.real_servers.get(id.real_server)?;
        Some((vs, rs, rs.checkers.get(id.checker)?))
    }) else {
        // The engine only asks for checkers of this same list.
        return CheckOutcome::Down;
    };
    let result = match &checker.kind {
        CheckKind::Tcp(c) => http_get::connect_only(c)
            .await
            .map(|()| CheckOutcome::Up)
            .map_err(|e| e.to_string()),
        CheckKind::Http(h) => http(h).await.map(|()| CheckOutcome::Up),
        CheckKind::Misc(m) => Ok(misc(m, &global).await),
        CheckKind::Udp(u) => udp(u).await.map(|()| CheckOutcome::Up),
    };
    match result {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::debug!(service = %vs.key, real_server = %rs.addr, error = %e, "check failed");
            CheckOutcome::Down
        }
    }
}

/// Each url in turn, on a connection of its own; all must pass.
async fn http(h: &HttpCheck) -> Result<(), String> {
    for url in &h.urls {
        let virtualhost = url.virtualhost.as_deref().or(h.virtualhost.as_deref());
        let (host, tls) = http_get::host_and_tls(virtualhost, h.connect.addr, h.tls, h.sni);
        let request = request(url, &host, h.http_1_1);
        let response = http_get::get(&h.connect, tls.as_ref(), request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        judge(url, &response).map_err(|e| format!("{}: {e}", url.path))?;
    }
    Ok(())
}

/// Sends the payload from a connected socket and waits `connect_timeout`:
/// an ICMP error (the kernel's `ECONNREFUSED` and kin on the connected
/// socket) fails; silence passes unless a reply is required; a reply must
/// match the pattern.
async fn udp(u: &UdpCheck) -> Result<(), String> {
    let c = &u.connect;
    let bind = c.bind.unwrap_or_else(|| match c.addr {
        std::net::SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        std::net::SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    });
    let socket = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(mark) = c.fwmark {
        socket2::SockRef::from(&socket)
            .set_mark(mark)
            .map_err(|e| e.to_string())?;
    }
    socket.connect(c.addr).await.map_err(|e| e.to_string())?;
    socket.send(&u.payload).await.map_err(|e| e.to_string())?;
    // One more byte than the longest reply passes, to see a longer one.
    let mut buf = vec![0u8; usize::from(u.reply_length.1) + 1];
    match tokio::time::timeout(c.timeout, socket.recv(&mut buf)).await {
        Err(_) if u.require_reply => Err("no reply".into()),
        Err(_) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(n)) if u.accepts(&buf[..n]) => Ok(()),
        Ok(Ok(n)) => Err(format!("the reply ({n} bytes) does not match")),
    }
}

/// Runs the script: exit 0 passes; with `misc_dynamic` 2..=255 passes
/// with weight `status - 2`; anything else, or the timeout, fails.
async fn misc(m: &MiscCheck, global: &Global) -> CheckOutcome {
    let job = Job::new(&m.script.exec, m.timeout).configured(m.script.run_as.as_ref(), global);
    match job.run().await {
        Ok(status) => match status.code() {
            Some(0) => CheckOutcome::Up,
            Some(code @ 2..=255) if m.dynamic => CheckOutcome::UpWithWeight(code as u32 - 2),
            _ => CheckOutcome::Down,
        },
        Err(e) => {
            tracing::warn!(script = %m.script.exec, error = %e, "MISC_CHECK script did not complete");
            CheckOutcome::Down
        }
    }
}
