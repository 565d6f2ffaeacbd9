//! The IPVS connection synchronisation daemon (keepalived's
//! `lvs_sync_daemon`, `ipvsadm --start-daemon`): a master multicasts its
//! connection table, a backup builds the same one, so connections
//! survive a director failover.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::attr::{AttrWriter, attrs, get_be16, get_string, get_u8, get_u16, get_u32};
use crate::constants::*;
use crate::error::{Error, Result};

/// A sync daemon's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncRole {
    /// Sends the connection table (the Active director).
    Master,
    /// Receives it (a Backup director).
    Backup,
}

impl SyncRole {
    pub(crate) fn state(self) -> u32 {
        match self {
            SyncRole::Master => STATE_MASTER,
            SyncRole::Backup => STATE_BACKUP,
        }
    }
}

/// A sync daemon's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncDaemon {
    /// Master or backup.
    pub role: SyncRole,
    /// The interface it multicasts on (`mcast_ifn`).
    pub interface: String,
    /// The sync id: a backup takes only its master's (`id`, 0..=255).
    pub sync_id: u32,
    /// The largest payload per datagram (`maxlen`), if not the kernel's.
    pub max_len: Option<u16>,
    /// The multicast group (`group`), if not 224.0.0.81.
    pub group: Option<IpAddr>,
    /// The UDP port (`port`), if not 8848.
    pub port: Option<u16>,
    /// The multicast TTL (`ttl`), if not 1.
    pub ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon in `role` on `interface` with `sync_id`, the kernel's
    /// defaults for the rest.
    pub fn new(role: SyncRole, interface: impl Into<String>, sync_id: u32) -> SyncDaemon {
        SyncDaemon {
            role,
            interface: interface.into(),
            sync_id,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    pub(crate) fn emit(&self, w: &mut AttrWriter) {
        w.u32(DAEMON_ATTR_STATE, self.role.state())
            .string(DAEMON_ATTR_MCAST_IFN, &self.interface)
            .u32(DAEMON_ATTR_SYNC_ID, self.sync_id);
        if let Some(len) = self.max_len {
            w.u16(DAEMON_ATTR_SYNC_MAXLEN, len);
        }
        match self.group {
            Some(IpAddr::V4(g)) => {
                w.bytes(DAEMON_ATTR_MCAST_GROUP, &g.octets());
            }
            Some(IpAddr::V6(g)) => {
                w.bytes(DAEMON_ATTR_MCAST_GROUP6, &g.octets());
            }
            None => {}
        }
        if let Some(port) = self.port {
            w.be16(DAEMON_ATTR_MCAST_PORT, port);
        }
        if let Some(ttl) = self.ttl {
            w.u8(DAEMON_ATTR_MCAST_TTL, ttl);
        }
    }

    /// Parses the contents of a nested `IPVS_CMD_ATTR_DAEMON`.
    pub(crate) fn parse(payload: &[u8]) -> Result<SyncDaemon> {
        const WHAT: &str = "IPVS sync daemon";
        let mut role = None;
        let mut d = SyncDaemon::new(SyncRole::Master, "", 0);
        for attr in attrs(payload, WHAT) {
            let (kind, v) = attr?;
            match kind {
                DAEMON_ATTR_STATE => {
                    role = match get_u32(v, WHAT)? {
                        STATE_MASTER => Some(SyncRole::Master),
                        STATE_BACKUP => Some(SyncRole::Backup),
                        other => return Err(Error::malformed(WHAT, format!("state {other}"))),
                    }
                }
                DAEMON_ATTR_MCAST_IFN => d.interface = get_string(v, WHAT)?,
                DAEMON_ATTR_SYNC_ID => d.sync_id = get_u32(v, WHAT)?,
                DAEMON_ATTR_SYNC_MAXLEN => d.max_len = Some(get_u16(v, WHAT)?),
                DAEMON_ATTR_MCAST_GROUP => {
                    let o: [u8; 4] = v
                        .try_into()
                        .map_err(|_| Error::malformed(WHAT, "group length"))?;
                    d.group = Some(IpAddr::from(o));
                }
                DAEMON_ATTR_MCAST_GROUP6 => {
                    let o: [u8; 16] = v
                        .try_into()
                        .map_err(|_| Error::malformed(WHAT, "group length"))?;
                    d.group = Some(IpAddr::from(o));
                }
                DAEMON_ATTR_MCAST_PORT => d.port = Some(get_be16(v, WHAT)?),
                DAEMON_ATTR_MCAST_TTL => d.ttl = Some(get_u8(v, WHAT)?),
                _ => {}
            }
        }
        d.role = role.ok_or_else(|| Error::malformed(WHAT, "no state"))?;
        Ok(d)
    }
}
