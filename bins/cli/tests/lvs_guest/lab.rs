//! The LVS lab: the VRRP lab plus three real servers serving a page
//! that names them (HTTP, and HTTPS on r3), the directors'
//! keepalived.conf, and what the client and `ipvsadm` see.

use std::path::PathBuf;
use std::time::Duration;

use crate::e2e_support::{CLIENT, H1, H2, Lab, Variant, wait_for};
use vrrp_testns::ChildGuard;

pub(crate) const VIP: &str = "198.18.0.100";
/// The MD5 of r3's page ("r3"), as `genhash` prints it.
pub(crate) const R3_DIGEST: &str = "9d3e622df914d8de7f747b7b8b143c52";
pub(crate) const SIGKILL: i32 = 9;
pub(crate) const SIGTERM: i32 = 15;

/// The lab plus three real servers (198.18.0.21, .22 and .23, hosts 3
/// to 5) whose replies to the client go back through whichever director
/// holds the VIP (NAT).
pub(crate) fn lvs_lab(tag: &str) -> Lab {
    let mut lab = Lab::new(tag, Variant::V3_IPV4);
    for (name, addr) in [
        ("r1", "198.18.0.21/24"),
        ("r2", "198.18.0.22/24"),
        ("r3", "198.18.0.23/24"),
    ] {
        let idx = lab.lan.add_host(name, &[addr]);
        lab.host(idx)
            .ip(&["route", "add", "198.18.0.10/32", "via", VIP]);
    }
    for d in [H1, H2] {
        lab.host(d)
            .exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    }
    lab
}

/// An HTTP server on port 8080 of real server `idx` whose page names it.
pub(crate) fn serve(lab: &Lab, idx: usize, name: &str) -> ChildGuard {
    serve_on(lab, idx, name, 8080)
}

/// The directory of real server `idx`'s page, which names it.
pub(crate) fn www(lab: &Lab, idx: usize, name: &str) -> PathBuf {
    let root = lab.host_dir(idx).join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), name).unwrap();
    root
}

/// Waits until something listens on `port` of host `idx`.
pub(crate) fn wait_listening(lab: &Lab, idx: usize, port: u16, what: &str) {
    let probe = format!("import socket; socket.create_connection(('127.0.0.1', {port}), 1)");
    let up = wait_for(Duration::from_secs(20), || {
        lab.host(idx)
            .exec_try(&["python3", "-c", &probe])
            .status
            .success()
    });
    assert!(up.is_some(), "{what} did not start");
}

/// An HTTP server on `port` of real server `idx` whose page names it.
pub(crate) fn serve_on(lab: &Lab, idx: usize, name: &str, port: u16) -> ChildGuard {
    let root = www(lab, idx, name);
    let server = lab.host(idx).spawn(&[
        "python3",
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        "0.0.0.0",
        "--directory",
        root.to_str().unwrap(),
    ]);
    wait_listening(lab, idx, port, &format!("the HTTP server of {name}"));
    server
}

/// An HTTPS server on port 8443 of real server `idx` (a fresh self-signed
/// certificate) serving the same page; it writes each TLS server name a
/// client sends (SNI) to `sni.log` in the host's directory.
pub(crate) fn serve_tls(lab: &Lab, idx: usize, name: &str) -> ChildGuard {
    let root = www(lab, idx, name);
    let dir = lab.host_dir(idx);
    let (cert, key, sni) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("sni.log"),
    );
    if !cert.exists() {
        lab.host(idx).exec(&[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]);
    }
    let script = format!(
        "import functools, http.server, ssl\n\
         ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         ctx.load_cert_chain({cert:?}, {key:?})\n\
         def named(sock, name, _ctx):\n    open({sni:?}, 'a').write(f'{{name}}\\n')\n\
         ctx.sni_callback = named\n\
         handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory={root:?})\n\
         srv = http.server.ThreadingHTTPServer(('0.0.0.0', 8443), handler)\n\
         srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n\
         srv.serve_forever()\n"
    );
    let server = lab.host(idx).spawn(&["python3", "-c", &script]);
    wait_listening(lab, idx, 8443, &format!("the HTTPS server of {name}"));
    server
}

pub(crate) fn write_conf(lab: &Lab) -> PathBuf {
    write_conf_for(lab, H1, 200, "")
}

/// Director `idx`'s keepalived.conf: the VRRP instance at `priority`, and
/// the virtual server with `extra` inside it.
pub(crate) fn write_conf_for(lab: &Lab, idx: usize, priority: u8, extra: &str) -> PathBuf {
    let path = lab.host_dir(idx).join("keepalived.conf");
    let text = format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
{extra}
    real_server 198.18.0.21 8080 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}
    real_server 198.18.0.22 8080 {{
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 198.18.0.23 8080 {{
        SSL_GET {{
            url {{
                path /
                digest {R3_DIGEST}
            }}
            connect_port 8443
            connect_timeout 1
            delay_before_retry 1
            enable_sni
            virtualhost r3.example
        }}
    }}
}}
"
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn table(lab: &Lab) -> String {
    table_of(lab, H1)
}

pub(crate) fn table_of(lab: &Lab, idx: usize) -> String {
    lab.host(idx).exec(&["ipvsadm", "-Ln"])
}

/// `vrrpctl lvs --json` of director `idx`.
pub(crate) fn lvs_json(lab: &Lab, idx: usize) -> String {
    lab.host(idx).exec(&[
        env!("CARGO_BIN_EXE_vrrpctl"),
        "--socket",
        lab.control_socket(idx).to_str().unwrap(),
        "lvs",
        "--json",
    ])
}

/// What the client gets from the VIP, or why not (python's error).
pub(crate) fn fetch(lab: &Lab) -> String {
    let out = lab.host(CLIENT).exec_try(&[
        "python3",
        "-c",
        &format!("import urllib.request; print(urllib.request.urlopen('http://{VIP}/', timeout=2).read().decode())"),
    ]);
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        format!("failed: {}", err.lines().last().unwrap_or_default())
    }
}

/// Fetches through the VIP until both r1 and r2 answered (30 s at most):
/// how long it took, and every answer seen.
pub(crate) fn reaches_both(lab: &Lab) -> (Option<Duration>, std::collections::BTreeSet<String>) {
    reaches_all(lab, &["r1", "r2"])
}

/// Fetches through the VIP until each of `names` answered (30 s at most).
pub(crate) fn reaches_all(
    lab: &Lab,
    names: &[&str],
) -> (Option<Duration>, std::collections::BTreeSet<String>) {
    let mut seen = std::collections::BTreeSet::new();
    let reached = wait_for(Duration::from_secs(30), || {
        seen.insert(fetch(lab));
        names.iter().all(|n| seen.contains(*n))
    });
    (reached, seen)
}

/// IPVS's count of connections to the first service of director `idx`,
/// once it is at least `min` (the kernel folds its counters in every 2 s).
pub(crate) fn connections_at_least(lab: &Lab, idx: usize, min: u64) -> Option<u64> {
    let mut seen = 0;
    wait_for(Duration::from_secs(10), || {
        let json: serde_json::Value = serde_json::from_str(&lvs_json(lab, idx)).unwrap();
        seen = json["virtual_servers"][0]["counters"]["connections"]
            .as_u64()
            .unwrap_or(0);
        seen >= min
    })
    .map(|_| seen)
}

/// A UDP echo server on `port` of host `idx`.
pub(crate) fn serve_udp_echo(lab: &Lab, idx: usize, port: u16) -> ChildGuard {
    let server = lab.host(idx).spawn(&[
        "python3",
        "-c",
        &format!(
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', {port}))\nwhile True:\n    d, a = s.recvfrom(2048)\n    s.sendto(d, a)\n"
        ),
    ]);
    let probe = format!(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(1)\ns.sendto(b'x', ('127.0.0.1', {port}))\ns.recv(16)\n"
    );
    let up = wait_for(Duration::from_secs(20), || {
        lab.host(idx)
            .exec_try(&["python3", "-c", &probe])
            .status
            .success()
    });
    assert!(
        up.is_some(),
        "the UDP echo server on port {port} did not start"
    );
    server
}

/// A DNS server on UDP `port` of host `idx` for `DNS_CHECK`: it answers
/// every query with its ID and question, response code 0 (NOERROR) for
/// `ok.test` and 3 (NXDOMAIN) for any other name.
pub(crate) fn serve_dns(lab: &Lab, idx: usize, port: u16) -> ChildGuard {
    let script = format!(
        "import socket\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.bind(('0.0.0.0', {port}))\n\
         while True:\n\
         \x20   q, a = s.recvfrom(512)\n\
         \x20   if len(q) < 12: continue\n\
         \x20   ok = b'\\x02ok\\x04test\\x00' == q[12:21]\n\
         \x20   flags = bytes([0x81, 0x80 if ok else 0x83])\n\
         \x20   s.sendto(q[:2] + flags + q[4:], a)\n"
    );
    let server = lab.host(idx).spawn(&["python3", "-c", &script]);
    let probe = format!(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(1)\n\
         s.sendto(b'\\x12\\x34\\x01\\x00\\x00\\x01' + bytes(6) + b'\\x02ok\\x04test\\x00\\x00\\x01\\x00\\x01', ('127.0.0.1', {port}))\n\
         r = s.recv(512)\nassert r[:4] == b'\\x12\\x34\\x81\\x80', r\n"
    );
    let up = wait_for(Duration::from_secs(20), || {
        lab.host(idx)
            .exec_try(&["python3", "-c", &probe])
            .status
            .success()
    });
    assert!(up.is_some(), "the DNS server on port {port} did not start");
    server
}

/// An SMTP server on TCP `port` of host `idx` for `SMTP_CHECK`: a 220
/// greeting, 250 to HELO, 221 to QUIT.
pub(crate) fn serve_smtp(lab: &Lab, idx: usize, port: u16) -> ChildGuard {
    let script = format!(
        "import socketserver\n\
         class H(socketserver.StreamRequestHandler):\n\
         \x20   def handle(self):\n\
         \x20       self.wfile.write(b'220 smtp.test ESMTP\\r\\n')\n\
         \x20       for line in self.rfile:\n\
         \x20           if line.upper().startswith(b'HELO'):\n\
         \x20               self.wfile.write(b'250 smtp.test\\r\\n')\n\
         \x20           elif line.upper().startswith(b'QUIT'):\n\
         \x20               self.wfile.write(b'221 bye\\r\\n')\n\
         \x20               return\n\
         socketserver.ThreadingTCPServer.allow_reuse_address = True\n\
         socketserver.ThreadingTCPServer(('0.0.0.0', {port}), H).serve_forever()\n"
    );
    let server = lab.host(idx).spawn(&["python3", "-c", &script]);
    let probe = format!(
        "import socket\ns = socket.create_connection(('127.0.0.1', {port}), 1)\n\
         assert s.recv(64).startswith(b'220')\n"
    );
    let up = wait_for(Duration::from_secs(20), || {
        lab.host(idx)
            .exec_try(&["python3", "-c", &probe])
            .status
            .success()
    });
    assert!(up.is_some(), "the SMTP server on port {port} did not start");
    server
}
