//! The HTTP side of the metrics endpoint: `GET /metrics` on a TCP
//! listener, one request per connection, every read and write bounded in
//! size and time, and at most [`MAX_CONNECTIONS`] scrapes at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{Format, ProcessStats, Snapshot, Timings, encode};
use crate::control::{Incoming, Request, Response};

/// The largest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request, or to read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the daemon's loop may take to answer one question.
const LOOP_TIMEOUT: Duration = Duration::from_secs(2);
/// Scrapes served at once; more wait to be accepted.
pub(crate) const MAX_CONNECTIONS: usize = 8;

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("metrics endpoint on {addr}: {source}")]
pub struct MetricsError {
    /// The address it was to listen on.
    pub addr: SocketAddr,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// Listens on `addr` and serves scrapes until the returned handle is
/// aborted, asking the loop on `requests` for its state and reading
/// `timings`.
pub async fn serve(
    addr: SocketAddr,
    requests: mpsc::Sender<Incoming>,
    timings: Timings,
) -> Result<tokio::task::JoinHandle<()>, MetricsError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError { addr, source })?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    Ok(tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let requests = requests.clone();
            let timings = timings.clone();
            tokio::spawn(async move {
                if let Err(e) = handle(stream, &requests, &timings).await {
                    tracing::debug!("metrics connection: {e}");
                }
                drop(permit);
            });
        }
    }))
}

/// What a request to the metrics endpoint asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsRequest {
    /// `GET /metrics` (or `HEAD`), in this format.
    Metrics(Format),
    /// Another path: 404.
    NotFound,
    /// Another method: 405.
    NotAllowed,
}

/// Why a request head is not HTTP/1.x (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadRequest {
    /// The request line lacks a method, a target or a version.
    #[error("no request line")]
    NoRequestLine,
    /// The version is not HTTP/1.0 or 1.1.
    #[error("not HTTP/1.x")]
    NotHttp1,
}

/// Parses an HTTP/1.x request head (what a scraper sends, up to the blank
/// line): the path and method it asks for, and from its `Accept` header
/// the format.
pub fn parse_request_head(head: &str) -> Result<MetricsRequest, BadRequest> {
    let mut lines = head.split("\r\n");
    let mut request = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version)) =
        (request.next(), request.next(), request.next())
    else {
        return Err(BadRequest::NoRequestLine);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(BadRequest::NotHttp1);
    }
    if method != "GET" && method != "HEAD" {
        return Ok(MetricsRequest::NotAllowed);
    }
    let path = target.split('?').next().unwrap_or(target);
    if path != "/metrics" {
        return Ok(MetricsRequest::NotFound);
    }
    let accept = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("accept"))
        .map_or("", |(_, v)| v.trim());
    Ok(MetricsRequest::Metrics(Format::from_accept(accept)))
}

/// Reads the head: up to `\r\n\r\n`, at most [`MAX_HEAD`] bytes.
async fn read_head(stream: &mut TcpStream) -> Result<String, String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() >= MAX_HEAD {
            return Err("request head too long".into());
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before the request ended".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buf).map_err(|_| "request head is not UTF-8".into())
}

async fn handle(
    mut stream: TcpStream,
    requests: &mpsc::Sender<Incoming>,
    timings: &Timings,
) -> Result<(), String> {
    let head = tokio::time::timeout(CLIENT_TIMEOUT, read_head(&mut stream))
        .await
        .map_err(|_| "request timed out".to_string())??;
    let (status, content_type, body) = match parse_request_head(&head) {
        Err(e) => (
            "400 Bad Request",
            "text/plain",
            format!("bad request: {e}\n"),
        ),
        Ok(MetricsRequest::NotAllowed) => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_string(),
        ),
        Ok(MetricsRequest::NotFound) => {
            ("404 Not Found", "text/plain", "try /metrics\n".to_string())
        }
        Ok(MetricsRequest::Metrics(format)) => match snapshot(requests).await {
            Ok(snapshot) => (
                "200 OK",
                format.content_type(),
                encode(&snapshot, timings, format),
            ),
            Err(e) => ("503 Service Unavailable", "text/plain", format!("{e}\n")),
        },
    };
    let head_only = head.starts_with("HEAD ");
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(&body);
    }
    tokio::time::timeout(CLIENT_TIMEOUT, stream.write_all(out.as_bytes()))
        .await
        .map_err(|_| "client stopped reading".to_string())?
        .map_err(|e| e.to_string())?;
    let _ = stream.shutdown().await;
    Ok(())
}

/// Asks the loop one question.
async fn ask(requests: &mpsc::Sender<Incoming>, request: Request) -> Result<Response, String> {
    let (reply, answer) = oneshot::channel();
    requests
        .send(Incoming { request, reply })
        .await
        .map_err(|_| "the daemon is stopping".to_string())?;
    tokio::time::timeout(LOOP_TIMEOUT, answer)
        .await
        .map_err(|_| "the daemon did not answer in time".to_string())?
        .map_err(|_| "the daemon dropped the request".to_string())
}

/// The state of the daemon now, from its loop, and of the process.
async fn snapshot(requests: &mpsc::Sender<Incoming>) -> Result<Snapshot, String> {
    let mut snapshot = Snapshot::default();
    match ask(requests, Request::Status).await? {
        Response::Status { instances } => snapshot.status = instances,
        other => return Err(format!("unexpected answer to status: {other:?}")),
    }
    match ask(requests, Request::Stats).await? {
        Response::Stats { global, instances } => {
            snapshot.global_discards = global;
            snapshot.stats = instances;
        }
        other => return Err(format!("unexpected answer to stats: {other:?}")),
    }
    match ask(requests, Request::Lvs).await? {
        Response::Lvs { virtual_servers } => snapshot.virtual_servers = virtual_servers,
        other => return Err(format!("unexpected answer to lvs: {other:?}")),
    }
    // Small bounded reads of /proc, off the loop's thread.
    snapshot.process = tokio::task::spawn_blocking(ProcessStats::read)
        .await
        .ok()
        .flatten();
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_parsed_for_path_method_and_format() {
        let get = |extra: &str| format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{extra}\r\n");
        assert_eq!(
            parse_request_head(&get("")),
            Ok(MetricsRequest::Metrics(Format::Prometheus))
        );
        assert_eq!(
            parse_request_head(&get(
                "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n"
            )),
            Ok(MetricsRequest::Metrics(Format::OpenMetrics))
        );
        assert_eq!(
            parse_request_head("GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Ok(MetricsRequest::Metrics(Format::Prometheus))
        );
        assert_eq!(
            parse_request_head("GET / HTTP/1.1\r\n\r\n"),
            Ok(MetricsRequest::NotFound)
        );
        assert_eq!(
            parse_request_head("POST /metrics HTTP/1.1\r\n\r\n"),
            Ok(MetricsRequest::NotAllowed)
        );
        assert_eq!(
            parse_request_head("garbage"),
            Err(BadRequest::NoRequestLine)
        );
        assert_eq!(
            parse_request_head("GET /metrics SMTP\r\n\r\n"),
            Err(BadRequest::NotHttp1)
        );
    }
}
