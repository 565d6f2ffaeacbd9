//! The checkers' I/O: a TCP connect, an HTTP GET (over TLS for
//! `SSL_GET`, see [`http_get`]), a script. Each runs as
//! a task on the loop's runtime, bounded in time (and, for HTTP, in the
//! bytes it reads), and ends in a [`CheckOutcome`]; none blocks the loop.

use std::sync::Arc;
use std::time::Duration;

use super::http_get;
use crate::config::Global;
use crate::config::lvs::{
    CheckKind, DnsCheck, HttpCheck, MiscCheck, SmtpCheck, UdpCheck, VirtualServer,
};
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
        CheckKind::Dns(d) => dns(d).await.map(|()| CheckOutcome::Up),
        CheckKind::Ping(c) => ping(c).await.map(|()| CheckOutcome::Up),
        CheckKind::Smtp(s) => smtp(s).await.map(|()| CheckOutcome::Up),
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
    let socket = connected_udp(c).await?;
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

/// A socket connected to `c`'s address, bound and marked as it says.
async fn connected_udp(c: &crate::config::lvs::Connect) -> Result<tokio::net::UdpSocket, String> {
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
    Ok(socket)
}

/// Sends the query and waits `connect_timeout` for its answer: response
/// code 0 passes, another fails, silence (or an ICMP error) fails;
/// datagrams that are not the answer are skipped (keepalived's
/// check_dns.c).
async fn dns(d: &DnsCheck) -> Result<(), String> {
    use crate::lvs::dns::{DnsVerdict, judge, query};
    let socket = connected_udp(&d.connect).await?;
    let id = random_id();
    socket
        .send(&query(id, d))
        .await
        .map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + d.connect.timeout;
    // A DNS message over UDP is at most 512 bytes (RFC 1035 §4.2.1);
    // more is cut, which the header check does not mind.
    let mut buf = [0u8; 512];
    loop {
        let n = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => return Err("no answer".into()),
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(n)) => n,
        };
        match judge(id, &buf[..n]) {
            DnsVerdict::Answered => return Ok(()),
            DnsVerdict::Error(rcode) => return Err(format!("response code {rcode}")),
            DnsVerdict::NotOurs => {}
        }
    }
}

/// Sends one echo request and waits `connect_timeout` for its reply: a
/// ping socket where this group may open one (`ping_group_range`, which
/// vrrpd leaves as it is), else a raw socket (CAP_NET_RAW). An ICMP error
/// about it or silence fails (keepalived's check_ping.c).
async fn ping(c: &crate::config::lvs::Connect) -> Result<(), String> {
    use crate::lvs::ping::{PingVerdict, echo_request, judge};
    use socket2::{Domain, Protocol, Socket, Type};
    let v6 = c.addr.is_ipv6();
    let (domain, protocol) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let (socket, raw) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(s) => (s, false),
        Err(_) => (
            Socket::new(domain, Type::RAW, Some(protocol)).map_err(|e| e.to_string())?,
            true,
        ),
    };
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    let target = std::net::SocketAddr::new(c.addr.ip(), 0);
    socket.connect(&target.into()).map_err(|e| e.to_string())?;
    let socket = tokio::net::UdpSocket::from_std(socket.into()).map_err(|e| e.to_string())?;
    let id = random_id();
    let seq = id.rotate_left(8);
    socket
        .send(&echo_request(id, seq, v6))
        .await
        .map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + c.timeout;
    let mut buf = [0u8; 1500];
    // A ping socket sets the identifier itself.
    let expect_id = raw.then_some(id);
    loop {
        let n = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => return Err("no echo reply".into()),
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(n)) => n,
        };
        match judge(&buf[..n], v6, raw && !v6, expect_id, seq) {
            PingVerdict::Reply => return Ok(()),
            PingVerdict::Unreachable => return Err("destination unreachable".into()),
            PingVerdict::NotOurs => {}
        }
    }
}

/// The SMTP dialogue (see [`crate::lvs::smtp`]): each connect, read and
/// write within `connect_timeout`, each reply line at most 512 bytes.
async fn smtp(s: &SmtpCheck) -> Result<(), String> {
    use crate::lvs::smtp::{helo, reply_code};
    let timeout = s.connect.timeout;
    let mut stream = http_get::tcp_connect(&s.connect)
        .await
        .map_err(|e| e.to_string())?;
    let line = read_line(&mut stream, timeout).await?;
    if reply_code(&line) != Some(220) {
        return Err(format!("greeting: {}", String::from_utf8_lossy(&line)));
    }
    write_all(&mut stream, &helo(&s.helo_name), timeout).await?;
    let line = read_line(&mut stream, timeout).await?;
    if reply_code(&line) != Some(250) {
        return Err(format!("HELO: {}", String::from_utf8_lossy(&line)));
    }
    write_all(&mut stream, b"QUIT\r\n", timeout).await?;
    read_line(&mut stream, timeout).await.map(drop)
}

/// Writes `bytes` within `timeout`.
async fn write_all(
    stream: &mut tokio::net::TcpStream,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    tokio::time::timeout(timeout, stream.write_all(bytes))
        .await
        .map_err(|_| "write: timed out".to_string())?
        .map_err(|e| e.to_string())
}

/// Reads until a whole line is there (each read within `timeout`) and
/// returns the first; what follows it is dropped, as keepalived does.
async fn read_line(
    stream: &mut tokio::net::TcpStream,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    use crate::lvs::smtp::{MAX_LINE, first_line};
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::with_capacity(MAX_LINE);
    let mut chunk = [0u8; MAX_LINE];
    loop {
        if let Some(line) = first_line(&buf) {
            return Ok(line.to_vec());
        }
        if buf.len() >= MAX_LINE {
            return Err(format!("no line within {MAX_LINE} bytes"));
        }
        let room = MAX_LINE - buf.len();
        let n = tokio::time::timeout(timeout, stream.read(&mut chunk[..room]))
            .await
            .map_err(|_| "read: timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
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

/// A DNS query or ICMP echo identifier, random enough that a stray
/// answer does not match (the standard library's hasher keys come from
/// the OS's randomness).
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish() as u16
}
