//! The "IPVS" generic netlink family's messages: a command and its
//! attributes, framed by netlink-packet-generic's `GenlMessage`.

use netlink_packet_core::{DecodeError, Emitable, ParseableParametrized};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::attr::AttrWriter;
use crate::constants::{IPVS_GENL_NAME, IPVS_GENL_VERSION};

/// One IPVS message: `cmd` (`IPVS_CMD_*`) and its encoded attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IpvsMessage {
    pub(crate) cmd: u8,
    pub(crate) attrs: Vec<u8>,
}

impl IpvsMessage {
    /// A request `cmd` whose attributes `fill` writes.
    pub(crate) fn new(cmd: u8, fill: impl FnOnce(&mut AttrWriter)) -> IpvsMessage {
        let mut w = AttrWriter::default();
        fill(&mut w);
        IpvsMessage {
            cmd,
            attrs: w.finish(),
        }
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.attrs.len()].copy_from_slice(&self.attrs);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(IpvsMessage {
            cmd: header.cmd,
            attrs: buf.to_vec(),
        })
    }
}
