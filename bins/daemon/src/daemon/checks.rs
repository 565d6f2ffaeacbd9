//! The checkers' I/O: a TCP connect, an HTTP GET, a script. Each runs as
//! a task on the loop's runtime, bounded in time (and, for HTTP, in the
//! bytes it reads), and ends in a [`CheckOutcome`]; none blocks the loop.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::config::Global;
use crate::config::lvs::{CheckKind, Connect, HttpCheck, MiscCheck, UrlCheck};
use crate::lvs::CheckOutcome;
use crate::process::Job;

/// The most of an HTTP response a check reads; a longer one fails.
pub(crate) const MAX_RESPONSE: usize = 1 << 20;

/// Runs one check of `kind` to its outcome; `what` names it in logs.
pub(crate) async fn run(kind: CheckKind, global: Global, what: String) -> CheckOutcome {
    let result = match &kind {
        CheckKind::Tcp(c) => connect(c).await.map(|_| CheckOutcome::Up),
        CheckKind::Http(h) => http(h).await.map(|()| CheckOutcome::Up),
        CheckKind::Misc(m) => Ok(misc(m, &global).await),
    };
    match result {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::debug!(check = %what, error = %e, "check failed");
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

/// keepalived's request, byte for byte.
pub(crate) fn request(url: &UrlCheck, host: &str, http_1_1: bool) -> String {
    format!(
        "GET {} HTTP/1.{}\r\nUser-Agent: KeepAliveClient\r\n{}Host: {host}\r\n\r\n",
        url.path,
        u8::from(http_1_1),
        if http_1_1 {
            "Connection: close\r\n"
        } else {
            ""
        }
    )
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

/// Why a response fails a url.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum HttpFailure {
    /// No `\r\n\r\n` after the headers.
    #[error("no complete header received")]
    NoHeader,
    /// The status line has no three-digit code.
    #[error("no status code in the status line")]
    NoStatus,
    /// A status the url does not accept.
    #[error("status {0} not accepted")]
    Status(u16),
    /// The body's digest differs.
    #[error("digest {got} is not the expected {want}")]
    Digest {
        /// What the body hashed to.
        got: String,
        /// What the url wants.
        want: String,
    },
}

/// Judges a whole response against `url`: its status, then its digest.
pub(crate) fn judge(url: &UrlCheck, response: &[u8]) -> Result<(), HttpFailure> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(HttpFailure::NoHeader)?;
    let head = String::from_utf8_lossy(&response[..end]);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .filter(|c| c.len() == 3)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or(HttpFailure::NoStatus)?;
    if !url.accepts(status) {
        return Err(HttpFailure::Status(status));
    }
    if let Some(want) = &url.digest {
        let got = digest(body(&head, &response[end + 4..]));
        if &got != want {
            return Err(HttpFailure::Digest {
                got,
                want: want.clone(),
            });
        }
    }
    Ok(())
}

/// The body, cut to `Content-Length` when the header gives one.
fn body<'a>(head: &str, rest: &'a [u8]) -> &'a [u8] {
    let length = head.lines().find_map(|l| {
        l.strip_prefix("Content-Length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    match length {
        Some(n) if n < rest.len() => &rest[..n],
        _ => rest,
    }
}

/// keepalived's (and genhash's) digest: MD5, lowercase hex.
pub(crate) fn digest(body: &[u8]) -> String {
    Md5::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn url(digest: Option<&str>) -> UrlCheck {
        UrlCheck {
            path: "/".into(),
            digest: digest.map(str::to_string),
            status: vec![(200, 299)],
            virtualhost: None,
        }
    }

    #[test]
    fn the_request_is_keepaliveds() {
        assert_eq!(
            request(&url(None), "www", false),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www\r\n\r\n"
        );
        assert!(request(&url(None), "www", true).contains("HTTP/1.1\r\n"));
        assert!(request(&url(None), "www", true).contains("Connection: close\r\n"));
    }

    #[test]
    fn status_and_digest_decide() {
        let ok = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more";
        assert_eq!(judge(&url(None), ok), Ok(()));
        // MD5("hello"): the body cut to Content-Length.
        let hello = "5d41402abc4b2a76b9719d911017c592";
        assert_eq!(judge(&url(Some(hello)), ok), Ok(()));
        assert!(matches!(
            judge(&url(Some(&"0".repeat(32))), ok),
            Err(HttpFailure::Digest { .. })
        ));
        assert_eq!(
            judge(&url(None), b"HTTP/1.1 503 Busy\r\n\r\n"),
            Err(HttpFailure::Status(503))
        );
        assert_eq!(
            judge(&url(None), b"HTTP/1.1 200 OK\r\n"),
            Err(HttpFailure::NoHeader)
        );
        assert_eq!(
            judge(&url(None), b"garbage\r\n\r\n"),
            Err(HttpFailure::NoStatus)
        );
        assert_eq!(digest(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
