//! The client of `HTTP_GET` and `SSL_GET` (and `vrrpctl genhash`): one
//! request over TCP, or over TLS as keepalived's `SSL_GET` does it, read
//! to the end within a time and a size bound.
//!
//! keepalived's `SSL_GET` does not verify the server's certificate
//! (OpenSSL's `SSL_VERIFY_NONE`: a health check asks whether the service
//! answers, not who it is), and sends SNI only with `enable_sni`. This
//! client does the same with rustls; the handshake's signatures are still
//! checked. rustls speaks TLS 1.2 and 1.3 only: a server limited to TLS
//! 1.0 or 1.1 fails the check.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

use crate::config::lvs::Connect;
use crate::lvs::http::MAX_RESPONSE;

/// Why a request got no complete response.
#[derive(Debug, thiserror::Error)]
pub enum HttpGetError {
    /// The TCP connection was refused, unreachable or timed out.
    #[error("connect to {addr}: {source}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake: {0}")]
    Tls(io::Error),
    /// A write or read failed.
    #[error("{0}")]
    Io(io::Error),
    /// A step took longer than `connect_timeout`.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// The response is over [`MAX_RESPONSE`] bytes.
    #[error("the response is larger than {MAX_RESPONSE} bytes")]
    TooLarge,
}

/// TLS as `SSL_GET` speaks it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// The name sent as SNI (`enable_sni` with a `virtualhost`); `None`
    /// sends none.
    pub sni: Option<String>,
}

/// The Host header and the TLS settings of a request to `addr`: the
/// `virtualhost` (else `IP:PORT`) as the Host; with `tls`, the same name
/// as SNI when `sni` (keepalived's `enable_sni`). HTTP_GET, SSL_GET and
/// `vrrpctl genhash` ask this one place.
pub fn host_and_tls(
    virtualhost: Option<&str>,
    addr: SocketAddr,
    tls: bool,
    sni: bool,
) -> (String, Option<Tls>) {
    let host = virtualhost.map_or_else(|| addr.to_string(), str::to_string);
    let tls = tls.then(|| Tls {
        sni: virtualhost.filter(|_| sni).map(str::to_string),
    });
    (host, tls)
}

/// Sends `request` to `connect` (over TLS when `tls` is set) and returns
/// the whole response; the connect, the handshake, the write and each
/// read each have `connect.timeout`.
pub async fn get(
    connect: &Connect,
    tls: Option<&Tls>,
    request: &[u8],
) -> Result<Vec<u8>, HttpGetError> {
    let stream = tcp_connect(connect).await?;
    exchange(stream, connect.addr, tls, request, connect.timeout).await
}

/// [`get`] over a stream that is already open (a test hands it one end of
/// an in-memory pipe); `addr` names the server when no SNI is sent.
pub async fn exchange<S>(
    stream: S,
    addr: SocketAddr,
    tls: Option<&Tls>,
    request: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, HttpGetError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tls {
        None => plain(stream, request, timeout).await,
        Some(tls) => {
            let name = match tls.sni.as_deref().map(ServerName::try_from) {
                Some(Ok(name)) => name.to_owned(),
                // An IP address as the name: rustls sends no SNI for it.
                _ => ServerName::IpAddress(addr.ip().into()),
            };
            let connector = TlsConnector::from(client_config()?);
            let stream = bounded(timeout, connector.connect(name, stream))
                .await?
                .map_err(HttpGetError::Tls)?;
            plain(stream, request, timeout).await
        }
    }
}

/// Connects within the timeout (from `bind`, with `fwmark`).
pub(crate) async fn tcp_connect(c: &Connect) -> Result<TcpStream, HttpGetError> {
    let failed = |source| HttpGetError::Connect {
        addr: c.addr,
        source,
    };
    let socket = match c.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(failed)?;
    if let Some(mark) = c.fwmark {
        socket2::SockRef::from(&socket)
            .set_mark(mark)
            .map_err(failed)?;
    }
    if let Some(bind) = c.bind {
        socket.bind(bind).map_err(failed)?;
    }
    bounded(c.timeout, socket.connect(c.addr))
        .await?
        .map_err(failed)
}

/// Connects as a `TCP_CHECK` does: success is the handshake.
pub async fn connect_only(c: &Connect) -> Result<(), HttpGetError> {
    tcp_connect(c).await.map(drop)
}

async fn bounded<T>(limit: Duration, f: impl Future<Output = T>) -> Result<T, HttpGetError> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| HttpGetError::TimedOut(limit))
}

/// Writes the request, then reads until the server closes: each step
/// within `timeout`, at most [`MAX_RESPONSE`] bytes.
async fn plain<S>(mut stream: S, request: &[u8], timeout: Duration) -> Result<Vec<u8>, HttpGetError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    bounded(timeout, stream.write_all(request))
        .await?
        .map_err(HttpGetError::Io)?;
    bounded(timeout, stream.flush())
        .await?
        .map_err(HttpGetError::Io)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match bounded(timeout, stream.read(&mut buf)).await? {
            Ok(n) => n,
            // A TLS server that closes without close_notify: what came
            // before is the response (keepalived reads it the same way).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(HttpGetError::Io(e)),
        };
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > MAX_RESPONSE {
            return Err(HttpGetError::TooLarge);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The one client configuration: ring's ciphers, TLS 1.2 and 1.3, no
/// client certificate, and any server certificate. Built once; if rustls
/// refused it, every `SSL_GET` fails with that reason.
fn client_config() -> Result<Arc<ClientConfig>, HttpGetError> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, rustls::Error>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            // ring is deprecated in rustls for its lack of post-quantum
            // key exchange; a health check carries nothing secret, and
            // ring builds with cc alone and is smaller than aws-lc.
            #[allow(deprecated)]
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = Arc::new(AnyCertificate(provider.signature_verification_algorithms));
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
        .map_err(|e| HttpGetError::Tls(io::Error::other(e)))
}

/// Accepts any certificate (keepalived's `SSL_VERIFY_NONE`) but checks
/// the handshake's signatures with it.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests;
