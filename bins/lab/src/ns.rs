//! The lab's network, on [`vrrp_testns`]'s namespaces (named `vl<pid>-…`,
//! removed on drop), and threads that work inside them.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub use vrrp_testns::Netns;

use super::{LabError, Result};

/// The prefix of the lab's namespace names (`vl<pid>-<tag><n>`).
const PREFIX: &str = "vl";

/// Creates the lab namespace `vl<pid>-<tag><n>`, loopback up.
pub fn netns(tag: &str) -> Result<Netns> {
    Ok(Netns::try_new(PREFIX, tag)?)
}

/// Deletes lab namespaces left behind by a `vrrp-lab` that was killed
/// before its guards could run (its pid no longer exists), with the
/// processes still inside them. Returns the names it removed.
pub fn sweep_stale() -> Vec<String> {
    vrrp_testns::sweep_stale(PREFIX)
}

/// The lab's network: a switch namespace with one bridge per link, hosts
/// (two, `h1` and `h2`, unless built by [`Topology::with_hosts`]) with
/// `eth0..ethN` on the bridges, and a client with `eth0` on the first bridge.
///
/// Link `i` is 198.18.i.0/24: h1 is .1, h2 is .2 and the client 198.18.0.10.
#[derive(Debug)]
pub struct Topology {
    /// The hosts, h1, h2... Declared first so they drop before the switch.
    pub hosts: Vec<Netns>,
    /// The client, where captures and probes run.
    pub client: Netns,
    /// The namespace of the bridges.
    pub switch: Netns,
    /// The number of links (bridges) per host.
    pub links: usize,
}

/// The client's address on link 0.
pub const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);

impl Topology {
    /// Builds the lab with `links` bridges (1..=16).
    pub fn new(links: usize) -> Result<Topology> {
        Topology::with_hosts(2, links)
    }

    /// Builds the lab with `hosts` hosts (1..=9) `h1`, `h2`... and `links`
    /// bridges (1..=16). Host `h` is 198.18.i.h on link `i`, and its port
    /// on bridge `bri` in the switch namespace is `h<h>e<i>`.
    pub fn with_hosts(hosts: usize, links: usize) -> Result<Topology> {
        let hosts = hosts.clamp(1, 9);
        let links = links.clamp(1, 16);
        let switch = netns("sw")?;
        for i in 0..links {
            let br = format!("br{i}");
            switch.ip_checked(&["link", "add", &br, "type", "bridge", "forward_delay", "0"])?;
            switch.ip_checked(&["link", "set", &br, "type", "bridge", "mcast_snooping", "0"])?;
            switch.ip_checked(&["link", "set", &br, "up"])?;
        }
        let client = netns("client")?;
        let mut topo = Topology {
            hosts: Vec::new(),
            client,
            switch,
            links,
        };
        topo.client.try_veth_to("eth0", &topo.switch, "cport")?;
        topo.switch
            .ip_checked(&["link", "set", "cport", "master", "br0"])?;
        topo.client.add_addr(&format!("{CLIENT_ADDR}/24"), "eth0")?;
        for h in 1..=hosts as u8 {
            let host = netns(&format!("h{h}-"))?;
            for i in 0..links {
                let dev = format!("eth{i}");
                let port = format!("h{h}e{i}");
                host.try_veth_to(&dev, &topo.switch, &port)?;
                topo.switch
                    .ip_checked(&["link", "set", &port, "master", &format!("br{i}")])?;
                host.add_addr(&format!("198.18.{i}.{h}/24"), &dev)?;
            }
            topo.hosts.push(host);
        }
        Ok(topo)
    }

    /// Host `h` (1 to the number of hosts; clamped into that range).
    pub fn host(&self, h: usize) -> &Netns {
        &self.hosts[h.clamp(1, self.hosts.len().max(1)) - 1]
    }

    /// The address of host `h` on link 0.
    pub fn host_addr(h: usize) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, h.clamp(1, 2) as u8)
    }

    /// Sets every link of host `h` up or down.
    pub fn set_links(&self, h: usize, up: bool) -> Result<()> {
        for i in 0..self.links {
            self.host(h).ip_checked(&[
                "link",
                "set",
                &format!("eth{i}"),
                if up { "up" } else { "down" },
            ])?;
        }
        Ok(())
    }

    /// Forgets the client's neighbour entries, between repetitions.
    pub fn flush_client_neighbours(&self) {
        let _ = self.client.ip_checked(&["neigh", "flush", "dev", "eth0"]);
    }
}

/// A thread in a namespace that readies itself (`setup`: bind a socket,
/// subscribe), then works until it is dropped; [`NsThread::start`] returns
/// once it is ready, or with the error that kept it from being.
#[derive(Debug)]
pub struct NsThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<Result<()>>>>,
}

impl NsThread {
    /// Starts `setup` then `work` (which should return soon after its
    /// stop flag is set) on a thread called `name` in `ns`; `what` names
    /// it in the error if it is not ready within 5 s.
    pub fn start<S>(
        ns: &Netns,
        name: &str,
        what: &str,
        setup: impl FnOnce() -> Result<S> + Send + 'static,
        work: impl FnOnce(S, &AtomicBool) -> Result<()> + Send + 'static,
    ) -> Result<NsThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let st = stop.clone();
        let thread = ns.spawn_thread(name, move || match setup() {
            Ok(ready) => {
                let _ = tx.send(Ok(()));
                work(ready, &st)
            }
            Err(e) => {
                let _ = tx.send(Err(e.clone()));
                Err(e)
            }
        })?;
        let mut t = NsThread {
            stop,
            thread: Some(thread),
        };
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(t),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                t.stop_now();
                Err(LabError::new(format!("{what} did not start")))
            }
        }
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        self.stop_now();
    }
}
