//! The checkers' I/O: a TCP connect, an HTTP GET, a script. Each runs as
//! a task on the loop's runtime, bounded in time (and, for HTTP, in the
//! bytes it reads), and ends in a [`CheckOutcome`]; none blocks the loop.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::config::Global;
use crate::config::lvs::{CheckKind, Connect, HttpCheck, MiscCheck, VirtualServer};
use crate::lvs::http::{MAX_RESPONSE, judge, request};
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
        CheckKind::Tcp(c) => connect(c).await.map(|_| CheckOutcome::Up),
        CheckKind::Http(h) => http(h).await.map(|()| CheckOutcome::Up),
        CheckKind::Misc(m) => Ok(misc(m, &global).await),
    };
    match result {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::debug!(service = %vs.key, real_server = %rs.addr, error = %e, "check failed");
            CheckOutcome::Down
        }
    }
}

/// Connects within the timeout (from `bind`, with `fwmark`).
async fn connect(c: &Connect) -> io::Result<TcpStream> {
    let socket = match c.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(mark) = c.fwmark {
        socket2::SockRef::from(&socket).set_mark(mark)?;
    }
    if let Some(bind) = c.bind {
        socket.bind(bind)?;
    }
    tokio::time::timeout(c.timeout, socket.connect(c.addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
}

/// Each url in turn; all must pass.
async fn http(h: &HttpCheck) -> io::Result<()> {
    if h.tls {
        return Err(io::Error::other("SSL_GET is not supported yet"));
    }
    for url in &h.urls {
        let host = url
            .virtualhost
            .clone()
            .or_else(|| h.virtualhost.clone())
            .unwrap_or_else(|| h.connect.addr.to_string());
        let request = request(url, &host, h.http_1_1);
        let mut stream = connect(&h.connect).await?;
        bounded(h.connect.timeout, stream.write_all(request.as_bytes())).await?;
        let response = read_to_end(&mut stream, h.connect.timeout).await?;
        judge(url, &response).map_err(io::Error::other)?;
    }
    Ok(())
}

async fn bounded<T>(limit: Duration, f: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "timed out"))?
}

/// Reads until the server closes, each read within `timeout`, at most
/// [`MAX_RESPONSE`] bytes.
async fn read_to_end(stream: &mut TcpStream, timeout: Duration) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = bounded(timeout, stream.read(&mut buf)).await?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > MAX_RESPONSE {
            return Err(io::Error::other("response larger than 1 MiB"));
        }
        out.extend_from_slice(&buf[..n]);
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
