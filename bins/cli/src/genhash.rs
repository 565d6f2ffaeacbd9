//! `vrrpctl genhash URL`: the MD5 digest of a page's body, as keepalived's
//! `genhash` prints it, for an `HTTP_GET` `url { digest ... }`. The
//! request is the checker's own; the address is an IP (no DNS).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use vrrpd::config::lvs::UrlCheck;
use vrrpd::lvs::http::{MAX_RESPONSE, request, response_digest};

/// Why no digest came out.
#[derive(Debug, thiserror::Error)]
pub enum GenhashError {
    /// Not `http://IP[:PORT][/PATH]`.
    #[error("`{0}` is not http://IP[:PORT]/PATH (an IP address, no name)")]
    Url(String),
    /// Connecting, writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The response is over [`MAX_RESPONSE`] bytes.
    #[error("the response is larger than {MAX_RESPONSE} bytes")]
    TooLarge,
    /// No complete header came back.
    #[error("no data received from the web server")]
    NoData,
}

/// Splits `http://IP[:PORT][/PATH]` into the address and the path.
pub fn parse_url(url: &str) -> Result<(SocketAddr, String), GenhashError> {
    let bad = || GenhashError::Url(url.to_string());
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let addr = authority
        .parse::<SocketAddr>()
        .or_else(|_| {
            let ip = authority.trim_start_matches('[').trim_end_matches(']');
            ip.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 80))
        })
        .map_err(|_| bad())?;
    Ok((addr, path))
}

/// Fetches `url` (with `host` as the Host header, else `IP:PORT`) and
/// returns the digest of its body; each step within `timeout`.
pub fn genhash(url: &str, host: Option<&str>, timeout: Duration) -> Result<String, GenhashError> {
    let (addr, path) = parse_url(url)?;
    let check = UrlCheck {
        path,
        digest: None,
        status: vec![(100, 599)],
        virtualhost: None,
    };
    let host = host.map_or_else(|| addr.to_string(), str::to_string);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(request(&check, &host, false).as_bytes())?;
    let mut response = Vec::new();
    let read = (&mut stream)
        .take(MAX_RESPONSE as u64 + 1)
        .read_to_end(&mut response)?;
    if read > MAX_RESPONSE {
        return Err(GenhashError::TooLarge);
    }
    response_digest(&response).ok_or(GenhashError::NoData)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_an_ip_a_port_and_a_path() {
        let (a, p) = parse_url("http://198.18.0.21:8080/health?x=1").unwrap();
        assert_eq!(
            (a, p.as_str()),
            ("198.18.0.21:8080".parse().unwrap(), "/health?x=1")
        );
        let (a, p) = parse_url("http://198.18.0.21").unwrap();
        assert_eq!((a.port(), p.as_str()), (80, "/"));
        let (a, _) = parse_url("http://[fd00:198:18::1]/").unwrap();
        assert_eq!(a, "[fd00:198:18::1]:80".parse().unwrap());
        assert!(parse_url("https://198.18.0.21/").is_err());
        assert!(parse_url("http://example.invalid/").is_err());
    }

    #[test]
    fn the_digest_of_a_served_page_is_its_bodys_md5() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                .unwrap();
            req
        });
        let got = genhash(
            &format!("http://{addr}/x"),
            Some("www"),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(got, "5d41402abc4b2a76b9719d911017c592");
        let req = server.join().unwrap();
        assert!(
            req.starts_with("GET /x HTTP/1.0\r\n") && req.contains("Host: www\r\n"),
            "{req}"
        );
    }
}
