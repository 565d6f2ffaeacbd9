//! The client against servers at the other end of an in-memory pipe
//! (no network): plain HTTP, TLS with and without SNI, a server that
//! closes without close_notify, oversized and stalled responses.

use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use tokio_rustls::TlsAcceptor;

use super::{HttpGetError, Tls, exchange};

const REQUEST: &[u8] = b"GET /x HTTP/1.0\r\nHost: www\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const TIMEOUT: Duration = Duration::from_secs(10);

fn addr() -> std::net::SocketAddr {
    "198.18.0.21:443".parse().unwrap()
}

/// A TLS acceptor with a fresh self-signed certificate for `www.example`.
fn acceptor() -> TlsAcceptor {
    let key = rcgen::generate_simple_self_signed(vec!["www.example".to_string()]).unwrap();
    let cert: CertificateDer<'static> = key.cert.der().clone();
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], der)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Reads the request head (up to the blank line).
async fn read_head<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    head
}

#[tokio::test]
async fn a_plain_request_gets_the_whole_response() {
    let (client, mut server) = duplex(64 * 1024);
    let served = tokio::spawn(async move {
        let head = read_head(&mut server).await;
        server.write_all(RESPONSE).await.unwrap();
        head
    });
    let got = exchange(client, addr(), None, REQUEST, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(got, RESPONSE);
    assert_eq!(served.await.unwrap(), REQUEST);
}

/// Serves one TLS request on `server`: the request head and the SNI the
/// client sent. With `notify`, the server closes with close_notify.
async fn serve_tls(server: DuplexStream, notify: bool) -> (Vec<u8>, Option<String>) {
    let mut tls = acceptor().accept(server).await.unwrap();
    let sni = tls.get_ref().1.server_name().map(str::to_string);
    let head = read_head(&mut tls).await;
    tls.write_all(RESPONSE).await.unwrap();
    tls.flush().await.unwrap();
    if notify {
        tls.shutdown().await.unwrap();
    }
    // Without close_notify: the TCP side simply goes away.
    drop(tls);
    (head, sni)
}

#[tokio::test]
async fn ssl_get_accepts_a_self_signed_certificate_and_sends_no_sni_by_default() {
    let (client, server) = duplex(64 * 1024);
    let served = tokio::spawn(serve_tls(server, true));
    let got = exchange(client, addr(), Some(&Tls::default()), REQUEST, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(got, RESPONSE);
    let (head, sni) = served.await.unwrap();
    assert_eq!(head, REQUEST);
    assert_eq!(sni, None, "an IP address as the name sends no SNI");
}

#[tokio::test]
async fn enable_sni_sends_the_virtualhost_as_the_server_name() {
    let (client, server) = duplex(64 * 1024);
    let served = tokio::spawn(serve_tls(server, true));
    let tls = Tls {
        sni: Some("www.example".into()),
    };
    let got = exchange(client, addr(), Some(&tls), REQUEST, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(got, RESPONSE);
    assert_eq!(served.await.unwrap().1.as_deref(), Some("www.example"));
}

#[tokio::test]
async fn a_tls_server_closing_without_close_notify_still_gives_its_response() {
    let (client, server) = duplex(64 * 1024);
    let served = tokio::spawn(serve_tls(server, false));
    let got = exchange(client, addr(), Some(&Tls::default()), REQUEST, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(got, RESPONSE);
    served.await.unwrap();
}

#[tokio::test]
async fn a_plain_http_server_fails_the_tls_handshake() {
    let (client, mut server) = duplex(64 * 1024);
    tokio::spawn(async move {
        // Answers the ClientHello with plain HTTP.
        let _ = server.write_all(RESPONSE).await;
        let mut sink = Vec::new();
        let _ = server.read_to_end(&mut sink).await;
    });
    let err = exchange(client, addr(), Some(&Tls::default()), REQUEST, TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, HttpGetError::Tls(_)), "{err}");
}

#[tokio::test]
async fn a_response_over_the_bound_is_refused() {
    let (client, mut server) = duplex(64 * 1024);
    tokio::spawn(async move {
        let _ = read_head(&mut server).await;
        let chunk = vec![b'x'; 64 * 1024];
        // Until the client gives up and drops its end.
        while server.write_all(&chunk).await.is_ok() {}
    });
    let err = exchange(client, addr(), None, REQUEST, TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, HttpGetError::TooLarge), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (client, mut server) = duplex(64 * 1024);
    let held = tokio::spawn(async move {
        let _ = read_head(&mut server).await;
        // Holds the connection open without answering.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(server);
    });
    let err = exchange(client, addr(), None, REQUEST, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, HttpGetError::TimedOut(_)), "{err}");
    held.abort();
}
