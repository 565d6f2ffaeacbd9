//! `vrrpctl genhash URL`: the MD5 digest of a page's body, as keepalived's
//! `genhash` prints it, for an `HTTP_GET` or `SSL_GET` `url { digest ... }`.
//! The request and the client are the checker's own (for `https://`, TLS
//! without certificate verification, as `SSL_GET`); the address is an IP
//! (no DNS).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use vrrpd::config::lvs::{Connect, UrlCheck};
use vrrpd::daemon::http_get::{self, HttpGetError};
use vrrpd::lvs::http::{request, response_digest};

/// Why no digest came out.
#[derive(Debug, thiserror::Error)]
pub enum GenhashError {
    /// Not `http[s]://IP[:PORT][/PATH]`.
    #[error(
        "`{0}` is not http://IP[:PORT]/PATH or https://IP[:PORT]/PATH (an IP address, no name)"
    )]
    Url(String),
    /// No runtime for the request.
    #[error("{0}")]
    Runtime(std::io::Error),
    /// Connecting, the handshake, writing or reading failed.
    #[error("{0}")]
    Get(#[from] HttpGetError),
    /// No complete header came back.
    #[error("no data received from the web server")]
    NoData,
}

/// A page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The server.
    pub addr: SocketAddr,
    /// The path and query.
    pub path: String,
    /// `https://`: over TLS, as `SSL_GET`.
    pub tls: bool,
}

/// Splits `http[s]://IP[:PORT][/PATH]` into a [`Target`] (port 80 or 443
/// by default).
pub fn parse_url(url: &str) -> Result<Target, GenhashError> {
    let bad = || GenhashError::Url(url.to_string());
    let (rest, tls) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => return Err(bad()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let addr = authority
        .parse::<SocketAddr>()
        .or_else(|_| {
            let ip = authority.trim_start_matches('[').trim_end_matches(']');
            ip.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, if tls { 443 } else { 80 }))
        })
        .map_err(|_| bad())?;
    Ok(Target { addr, path, tls })
}

/// Fetches `url` (with `host` as the Host header, else `IP:PORT`; sent as
/// SNI too when `sni`) and returns the digest of its body; each step
/// within `timeout`.
pub fn genhash(
    url: &str,
    host: Option<&str>,
    sni: bool,
    timeout: Duration,
) -> Result<String, GenhashError> {
    let target = parse_url(url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(GenhashError::Runtime)?;
    let connect = Connect {
        addr: target.addr,
        bind: None,
        timeout,
        fwmark: None,
    };
    let (host, tls) = http_get::host_and_tls(host, target.addr, target.tls, sni);
    let request = page_request(&target, &host);
    let response = runtime.block_on(http_get::get(&connect, tls.as_ref(), request.as_bytes()))?;
    response_digest(&response).ok_or(GenhashError::NoData)
}

/// [`genhash`] over a stream that is already open.
pub async fn genhash_over<S>(
    stream: S,
    target: &Target,
    host: Option<&str>,
    sni: bool,
    timeout: Duration,
) -> Result<String, GenhashError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (host, tls) = http_get::host_and_tls(host, target.addr, target.tls, sni);
    let request = page_request(target, &host);
    let response = http_get::exchange(
        stream,
        target.addr,
        tls.as_ref(),
        request.as_bytes(),
        timeout,
    )
    .await?;
    response_digest(&response).ok_or(GenhashError::NoData)
}

fn page_request(target: &Target, host: &str) -> String {
    let check = UrlCheck {
        path: target.path.clone(),
        digest: None,
        status: vec![(100, 599)],
        virtualhost: None,
    };
    request(&check, host, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn urls_are_an_ip_a_port_and_a_path() {
        let t = parse_url("http://198.18.0.21:8080/health?x=1").unwrap();
        assert_eq!(
            (t.addr, t.path.as_str(), t.tls),
            ("198.18.0.21:8080".parse().unwrap(), "/health?x=1", false)
        );
        let t = parse_url("http://198.18.0.21").unwrap();
        assert_eq!((t.addr.port(), t.path.as_str()), (80, "/"));
        let t = parse_url("https://198.18.0.21/x").unwrap();
        assert_eq!((t.addr.port(), t.path.as_str(), t.tls), (443, "/x", true));
        let t = parse_url("http://[fd00:198:18::1]/").unwrap();
        assert_eq!(t.addr, "[fd00:198:18::1]:80".parse().unwrap());
        assert!(parse_url("ftp://198.18.0.21/").is_err());
        assert!(parse_url("http://example.invalid/").is_err());
    }

    #[tokio::test]
    async fn the_digest_of_a_served_page_is_its_bodys_md5() {
        // The server is the other end of an in-memory pipe.
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let served = tokio::spawn(async move {
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && server.read(&mut byte).await.unwrap() == 1 {
                req.push(byte[0]);
            }
            server
                .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                .await
                .unwrap();
            String::from_utf8_lossy(&req).to_string()
        });
        let target = parse_url("http://198.18.0.21/x").unwrap();
        let got = genhash_over(client, &target, Some("www"), false, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(got, "5d41402abc4b2a76b9719d911017c592");
        let req = served.await.unwrap();
        assert!(
            req.starts_with("GET /x HTTP/1.0\r\n") && req.contains("Host: www\r\n"),
            "{req}"
        );
    }
}
