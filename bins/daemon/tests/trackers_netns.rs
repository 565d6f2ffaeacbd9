//! track_tcp and track_http against real servers, inside a network
//! namespace of the test's own (address 198.18.5.1 on its loopback).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use vrrp_testns::{Netns, netns_available};
use vrrpd::config::{Config, HostPort, HttpTracker, Probe, TcpTracker, Weight};
use vrrpd::track::{Observation, TrackerKind, TrackerUpdate, spawn_all};

const ADDR: &str = "198.18.5.1";

fn namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip(&["link", "set", "lo", "up"]);
    ns.ip(&["addr", "add", &format!("{ADDR}/32"), "dev", "lo"]);
    ns
}

fn probe() -> Probe {
    Probe {
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
        rise: 1,
        fall: 2,
    }
}

/// Runs the trackers of `config` for `kind`/`name` and returns the first
/// update, waiting at most 5 s.
async fn next_update(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<TrackerUpdate>,
) -> Option<TrackerUpdate> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .ok()
        .flatten()
}

#[test]
fn track_tcp_goes_down_when_the_server_stops_and_up_when_it_returns() {
    if !netns_available("track_tcp_goes_down_when_the_server_stops_and_up_when_it_returns") {
        return;
    }
    let ns = namespace("tcp");
    ns.run_in(|| {
        let listener = TcpListener::bind((ADDR, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = Config::default();
        config.track_tcp.insert(
            "svc".into(),
            TcpTracker {
                target: HostPort {
                    host: ADDR.into(),
                    port,
                },
                probe: probe(),
                weight: Weight::new(0),
            },
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let tasks = spawn_all(&config, &[(TrackerKind::Tcp, "svc".into())], &tx);
            assert_eq!(tasks.len(), 1);
            // Up from the start: nothing to report while the server runs.
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(rx.try_recv().is_err(), "no change while the server is up");
            drop(listener);
            let down = next_update(&mut rx).await.expect("down");
            assert_eq!(down.observation, Observation::Up(false), "{down:?}");
            let again = TcpListener::bind((ADDR, port)).unwrap();
            let up = next_update(&mut rx).await.expect("up");
            assert_eq!(up.observation, Observation::Up(true), "{up:?}");
            drop(again);
            for t in tasks {
                t.abort();
            }
        });
    });
}

#[test]
fn track_http_follows_the_status_code() {
    if !netns_available("track_http_follows_the_status_code") {
        return;
    }
    let ns = namespace("http");
    ns.run_in(|| {
        let listener = TcpListener::bind((ADDR, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let status = Arc::new(AtomicU16::new(200));
        let served = status.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf);
                let code = served.load(Ordering::Relaxed);
                let _ = write!(conn, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let mut config = Config::default();
        config.track_http.insert(
            "web".into(),
            HttpTracker {
                target: HostPort {
                    host: ADDR.into(),
                    port,
                },
                path: "/health".into(),
                expect_status: 200,
                probe: probe(),
                weight: Weight::new(-50),
            },
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let tasks = spawn_all(&config, &[(TrackerKind::Http, "web".into())], &tx);
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(rx.try_recv().is_err(), "200 is up: no change");
            status.store(503, Ordering::Relaxed);
            let down = next_update(&mut rx).await.expect("down");
            assert_eq!(down.observation, Observation::Up(false));
            assert!(down.detail.contains("503"), "{}", down.detail);
            status.store(200, Ordering::Relaxed);
            let up = next_update(&mut rx).await.expect("up");
            assert_eq!(up.observation, Observation::Up(true));
            for t in tasks {
                t.abort();
            }
        });
    });
}
