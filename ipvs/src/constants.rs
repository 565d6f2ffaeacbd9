//! The numbers of `<linux/ip_vs.h>`: commands, attributes and flags of
//! the "IPVS" generic netlink family.

pub(crate) const IPVS_GENL_NAME: &str = "IPVS";
pub(crate) const IPVS_GENL_VERSION: u8 = 1;

pub(crate) const CMD_NEW_SERVICE: u8 = 1;
pub(crate) const CMD_SET_SERVICE: u8 = 2;
pub(crate) const CMD_DEL_SERVICE: u8 = 3;
pub(crate) const CMD_GET_SERVICE: u8 = 4;
pub(crate) const CMD_NEW_DEST: u8 = 5;
pub(crate) const CMD_SET_DEST: u8 = 6;
pub(crate) const CMD_DEL_DEST: u8 = 7;
pub(crate) const CMD_GET_DEST: u8 = 8;
pub(crate) const CMD_NEW_DAEMON: u8 = 9;
pub(crate) const CMD_DEL_DAEMON: u8 = 10;
pub(crate) const CMD_GET_DAEMON: u8 = 11;
pub(crate) const CMD_SET_CONFIG: u8 = 12;
pub(crate) const CMD_GET_CONFIG: u8 = 13;
pub(crate) const CMD_GET_INFO: u8 = 15;
pub(crate) const CMD_FLUSH: u8 = 17;

pub(crate) const CMD_ATTR_SERVICE: u16 = 1;
pub(crate) const CMD_ATTR_DEST: u16 = 2;
pub(crate) const CMD_ATTR_DAEMON: u16 = 3;
pub(crate) const CMD_ATTR_TIMEOUT_TCP: u16 = 4;
pub(crate) const CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
pub(crate) const CMD_ATTR_TIMEOUT_UDP: u16 = 6;

pub(crate) const SVC_ATTR_AF: u16 = 1;
pub(crate) const SVC_ATTR_PROTOCOL: u16 = 2;
pub(crate) const SVC_ATTR_ADDR: u16 = 3;
pub(crate) const SVC_ATTR_PORT: u16 = 4;
pub(crate) const SVC_ATTR_FWMARK: u16 = 5;
pub(crate) const SVC_ATTR_SCHED_NAME: u16 = 6;
pub(crate) const SVC_ATTR_FLAGS: u16 = 7;
pub(crate) const SVC_ATTR_TIMEOUT: u16 = 8;
pub(crate) const SVC_ATTR_NETMASK: u16 = 9;
pub(crate) const SVC_ATTR_STATS: u16 = 10;
pub(crate) const SVC_ATTR_PE_NAME: u16 = 11;
pub(crate) const SVC_ATTR_STATS64: u16 = 12;

pub(crate) const DEST_ATTR_ADDR: u16 = 1;
pub(crate) const DEST_ATTR_PORT: u16 = 2;
pub(crate) const DEST_ATTR_FWD_METHOD: u16 = 3;
pub(crate) const DEST_ATTR_WEIGHT: u16 = 4;
pub(crate) const DEST_ATTR_U_THRESH: u16 = 5;
pub(crate) const DEST_ATTR_L_THRESH: u16 = 6;
pub(crate) const DEST_ATTR_ACTIVE_CONNS: u16 = 7;
pub(crate) const DEST_ATTR_INACT_CONNS: u16 = 8;
pub(crate) const DEST_ATTR_PERSIST_CONNS: u16 = 9;
pub(crate) const DEST_ATTR_STATS: u16 = 10;
pub(crate) const DEST_ATTR_ADDR_FAMILY: u16 = 11;
pub(crate) const DEST_ATTR_STATS64: u16 = 12;
pub(crate) const DEST_ATTR_TUN_TYPE: u16 = 13;
pub(crate) const DEST_ATTR_TUN_PORT: u16 = 14;
pub(crate) const DEST_ATTR_TUN_FLAGS: u16 = 15;

pub(crate) const DAEMON_ATTR_STATE: u16 = 1;
pub(crate) const DAEMON_ATTR_MCAST_IFN: u16 = 2;
pub(crate) const DAEMON_ATTR_SYNC_ID: u16 = 3;
pub(crate) const DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
pub(crate) const DAEMON_ATTR_MCAST_GROUP: u16 = 5;
pub(crate) const DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
pub(crate) const DAEMON_ATTR_MCAST_PORT: u16 = 7;
pub(crate) const DAEMON_ATTR_MCAST_TTL: u16 = 8;

pub(crate) const STATS_ATTR_CONNS: u16 = 1;
pub(crate) const STATS_ATTR_INPKTS: u16 = 2;
pub(crate) const STATS_ATTR_OUTPKTS: u16 = 3;
pub(crate) const STATS_ATTR_INBYTES: u16 = 4;
pub(crate) const STATS_ATTR_OUTBYTES: u16 = 5;
pub(crate) const STATS_ATTR_CPS: u16 = 6;
pub(crate) const STATS_ATTR_INPPS: u16 = 7;
pub(crate) const STATS_ATTR_OUTPPS: u16 = 8;
pub(crate) const STATS_ATTR_INBPS: u16 = 9;
pub(crate) const STATS_ATTR_OUTBPS: u16 = 10;

pub(crate) const INFO_ATTR_VERSION: u16 = 1;
pub(crate) const INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

/// `IP_VS_CONN_F_FWD_MASK` and the forwarding methods under it.
pub(crate) const FWD_MASK: u32 = 0x0007;
pub(crate) const FWD_MASQ: u32 = 0x0000;
pub(crate) const FWD_LOCALNODE: u32 = 0x0001;
pub(crate) const FWD_TUNNEL: u32 = 0x0002;
pub(crate) const FWD_DROUTE: u32 = 0x0003;
pub(crate) const FWD_BYPASS: u32 = 0x0004;

pub(crate) const TUNNEL_TYPE_IPIP: u8 = 0;
pub(crate) const TUNNEL_TYPE_GUE: u8 = 1;
pub(crate) const TUNNEL_TYPE_GRE: u8 = 2;

pub(crate) const AF_INET: u16 = libc::AF_INET as u16;
pub(crate) const AF_INET6: u16 = libc::AF_INET6 as u16;

/// `IP_VS_STATE_MASTER` and `IP_VS_STATE_BACKUP` (sync daemon roles).
pub(crate) const STATE_MASTER: u32 = 1;
pub(crate) const STATE_BACKUP: u32 = 2;
