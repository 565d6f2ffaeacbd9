//! HTTP_GET's protocol side, with no I/O: keepalived's request byte for
//! byte, and the judgement of a whole response (status, then the MD5
//! digest of the body as keepalived's `genhash` computes it). The shell
//! does the connecting and reading; `vrrpctl genhash` uses the same
//! functions.

use md5::{Digest, Md5};

use crate::config::lvs::UrlCheck;

/// The most of an HTTP response a check reads; a longer one fails.
pub const MAX_RESPONSE: usize = 1 << 20;

/// keepalived's request, byte for byte.
pub fn request(url: &UrlCheck, host: &str, http_1_1: bool) -> String {
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

/// Why a response fails a url.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HttpFailure {
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
pub fn judge(url: &UrlCheck, response: &[u8]) -> Result<(), HttpFailure> {
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
pub fn digest(body: &[u8]) -> String {
    Md5::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest `genhash` prints for a whole response: the MD5 of its body
/// (cut to `Content-Length`), whatever the status; `None` without a
/// complete header.
pub fn response_digest(response: &[u8]) -> Option<String> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&response[..end]);
    Some(digest(body(&head, &response[end + 4..])))
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
