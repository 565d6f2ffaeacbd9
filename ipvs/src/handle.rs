//! [`Handle`]: the blocking IPVS API, one request at a time, as
//! `ipvsadm` does it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::attr::{attrs, get_u32};
use crate::constants::*;
use crate::destination::{Destination, DestinationInfo};
use crate::error::{Error, Result};
use crate::message::IpvsMessage;
use crate::service::{Service, ServiceInfo, ServiceKey};
use crate::socket::GenlSocket;
use crate::sync_daemon::{SyncDaemon, SyncRole};

/// The kernel's IPVS version and connection table size (`ipvsadm`'s
/// first line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Info {
    /// The version as `(major, minor, patch)`.
    pub version: (u8, u8, u8),
    /// Buckets of the connection hash table.
    pub connection_table_size: u32,
}

/// Connection timeouts (keepalived's `lvs_timeouts`, `ipvsadm
/// --set`). Zero leaves a timeout unchanged when set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: Duration,
    /// TCP connections after the client's FIN.
    pub tcp_fin: Duration,
    /// UDP.
    pub udp: Duration,
}

/// A generic netlink socket to IPVS in the network namespace of the thread
/// that opened it. Every call blocks until the kernel answers (at most 5 s
/// per reply).
#[derive(Debug)]
pub struct Handle {
    socket: GenlSocket,
}

impl Handle {
    /// Opens a socket and looks the IPVS family up:
    /// [`Error::NotAvailable`] when the `ip_vs` module is not loaded.
    pub fn new() -> Result<Handle> {
        Ok(Handle {
            socket: GenlSocket::open()?,
        })
    }

    /// The kernel's IPVS version and table size.
    pub fn info(&mut self) -> Result<Info> {
        let replies =
            self.socket
                .query(IpvsMessage::new(CMD_GET_INFO, |_| {}), false, "get info")?;
        let mut info = Info {
            version: (0, 0, 0),
            connection_table_size: 0,
        };
        for reply in &replies {
            for attr in attrs(reply, "IPVS info") {
                let (kind, v) = attr?;
                match kind {
                    INFO_ATTR_VERSION => {
                        let n = get_u32(v, "IPVS info")?;
                        info.version = ((n >> 16) as u8, (n >> 8) as u8, n as u8);
                    }
                    INFO_ATTR_CONN_TAB_SIZE => {
                        info.connection_table_size = get_u32(v, "IPVS info")?;
                    }
                    _ => {}
                }
            }
        }
        Ok(info)
    }

    /// Adds `service` (`ipvsadm -A`); `EEXIST` if it exists.
    pub fn add_service(&mut self, service: &Service) -> Result<()> {
        let msg = IpvsMessage::new(CMD_NEW_SERVICE, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| service.emit(w));
        });
        self.socket.request(msg, "add service")
    }

    /// Changes an existing service's scheduler, flags and persistence
    /// (`ipvsadm -E`).
    pub fn update_service(&mut self, service: &Service) -> Result<()> {
        let msg = IpvsMessage::new(CMD_SET_SERVICE, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| service.emit(w));
        });
        self.socket.request(msg, "edit service")
    }

    /// Deletes a service and its destinations (`ipvsadm -D`); `ESRCH` if
    /// there is none.
    pub fn delete_service(&mut self, key: &ServiceKey) -> Result<()> {
        let msg = IpvsMessage::new(CMD_DEL_SERVICE, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| key.emit(w));
        });
        self.socket.request(msg, "delete service")
    }

    /// The service `key`, or `None`.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Option<ServiceInfo>> {
        let msg = IpvsMessage::new(CMD_GET_SERVICE, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| key.emit(w));
        });
        match self.socket.query(msg, false, "get service") {
            Ok(replies) => replies
                .iter()
                .map(|r| parse_nested(r, CMD_ATTR_SERVICE, ServiceInfo::parse))
                .next()
                .transpose(),
            Err(Error::Kernel(k)) if k.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every service of this network namespace (`ipvsadm -Ln`).
    pub fn services(&mut self) -> Result<Vec<ServiceInfo>> {
        let msg = IpvsMessage::new(CMD_GET_SERVICE, |_| {});
        self.socket
            .query(msg, true, "list services")?
            .iter()
            .map(|r| parse_nested(r, CMD_ATTR_SERVICE, ServiceInfo::parse))
            .collect()
    }

    /// Adds a real server to `service` (`ipvsadm -a`); `EEXIST` if it is
    /// there.
    pub fn add_destination(&mut self, service: &ServiceKey, dest: &Destination) -> Result<()> {
        let msg = IpvsMessage::new(CMD_NEW_DEST, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| service.emit(w))
                .nested(CMD_ATTR_DEST, |w| dest.emit(w));
        });
        self.socket.request(msg, "add destination")
    }

    /// Changes a real server's forwarding, weight and thresholds
    /// (`ipvsadm -e`).
    pub fn update_destination(&mut self, service: &ServiceKey, dest: &Destination) -> Result<()> {
        let msg = IpvsMessage::new(CMD_SET_DEST, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| service.emit(w))
                .nested(CMD_ATTR_DEST, |w| dest.emit(w));
        });
        self.socket.request(msg, "edit destination")
    }

    /// Removes the real server at `addr` from `service` (`ipvsadm -d`);
    /// `ENOENT` if it is not there.
    pub fn delete_destination(
        &mut self,
        service: &ServiceKey,
        addr: std::net::SocketAddr,
    ) -> Result<()> {
        let msg = IpvsMessage::new(CMD_DEL_DEST, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| service.emit(w))
                .nested(CMD_ATTR_DEST, |w| Destination::emit_key(addr, w));
        });
        self.socket.request(msg, "delete destination")
    }

    /// The real servers of `service`.
    pub fn destinations(&mut self, service: &ServiceKey) -> Result<Vec<DestinationInfo>> {
        let msg = IpvsMessage::new(CMD_GET_DEST, |w| {
            w.nested(CMD_ATTR_SERVICE, |w| service.emit(w));
        });
        let family = service.family();
        self.socket
            .query(msg, true, "list destinations")?
            .iter()
            .map(|r| parse_nested(r, CMD_ATTR_DEST, |p| DestinationInfo::parse(p, family)))
            .collect()
    }

    /// Starts a sync daemon (`ipvsadm --start-daemon`).
    pub fn start_sync_daemon(&mut self, daemon: &SyncDaemon) -> Result<()> {
        let msg = IpvsMessage::new(CMD_NEW_DAEMON, |w| {
            w.nested(CMD_ATTR_DAEMON, |w| daemon.emit(w));
        });
        self.socket.request(msg, "start sync daemon")
    }

    /// Stops the sync daemon in `role` (`ipvsadm --stop-daemon`).
    pub fn stop_sync_daemon(&mut self, role: SyncRole) -> Result<()> {
        let msg = IpvsMessage::new(CMD_DEL_DAEMON, |w| {
            w.nested(CMD_ATTR_DAEMON, |w| {
                w.u32(DAEMON_ATTR_STATE, role.state());
            });
        });
        self.socket.request(msg, "stop sync daemon")
    }

    /// The sync daemons running (`ipvsadm -L --daemon`).
    pub fn sync_daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        let msg = IpvsMessage::new(CMD_GET_DAEMON, |_| {});
        self.socket
            .query(msg, true, "list sync daemons")?
            .iter()
            .map(|r| parse_nested(r, CMD_ATTR_DAEMON, SyncDaemon::parse))
            .collect()
    }

    /// Sets the connection timeouts (zero: unchanged).
    pub fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<()> {
        let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        let msg = IpvsMessage::new(CMD_SET_CONFIG, |w| {
            w.u32(CMD_ATTR_TIMEOUT_TCP, secs(timeouts.tcp))
                .u32(CMD_ATTR_TIMEOUT_TCP_FIN, secs(timeouts.tcp_fin))
                .u32(CMD_ATTR_TIMEOUT_UDP, secs(timeouts.udp));
        });
        self.socket.request(msg, "set timeouts")
    }

    /// The connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        let msg = IpvsMessage::new(CMD_GET_CONFIG, |_| {});
        let mut t = Timeouts::default();
        for reply in self.socket.query(msg, false, "get timeouts")? {
            for attr in attrs(&reply, "IPVS timeouts") {
                let (kind, v) = attr?;
                let secs = Duration::from_secs(u64::from(get_u32(v, "IPVS timeouts")?));
                match kind {
                    CMD_ATTR_TIMEOUT_TCP => t.tcp = secs,
                    CMD_ATTR_TIMEOUT_TCP_FIN => t.tcp_fin = secs,
                    CMD_ATTR_TIMEOUT_UDP => t.udp = secs,
                    _ => {}
                }
            }
        }
        Ok(t)
    }

    /// Deletes every service of this network namespace, also those others
    /// added (`ipvsadm -C`, keepalived's `lvs_flush`).
    pub fn flush(&mut self) -> Result<()> {
        self.socket
            .request(IpvsMessage::new(CMD_FLUSH, |_| {}), "flush")
    }
}

/// Finds the nested attribute `kind` in a reply and parses it.
fn parse_nested<T>(reply: &[u8], kind: u16, parse: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
    for attr in attrs(reply, "IPVS reply") {
        let (k, v) = attr?;
        if k == kind {
            return parse(v);
        }
    }
    Err(Error::malformed(
        "IPVS reply",
        format!("no attribute {kind}"),
    ))
}
