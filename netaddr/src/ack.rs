//! Decoding `NLMSG_ERROR` and `NLMSG_DONE` payloads: the errno and the
//! extended acknowledgement TLVs (`NETLINK_EXT_ACK`, `<linux/netlink.h>`),
//! and naming the attribute an `NLMSGERR_ATTR_OFFS` offset points at in
//! the request we sent.

use crate::error::{Error, KernelError, Result};
use crate::tlv::{align, tlvs};

/// Netlink message header length.
pub(crate) const NLMSG_HEADER_LEN: usize = 16;

/// The error message does not carry the request payload.
pub(crate) const NLM_F_CAPPED: u16 = 0x100;
/// Extended acknowledgement TLVs follow.
pub(crate) const NLM_F_ACK_TLVS: u16 = 0x200;

const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;
const NLMSGERR_ATTR_POLICY: u16 = 4;
const NLMSGERR_ATTR_MISS_TYPE: u16 = 5;

/// Decodes an `NLMSG_ERROR` payload (`struct nlmsgerr` then TLVs).
/// `Ok(None)` is a positive acknowledgement. `request` is the message we
/// sent, used to name the attribute an offset points at.
pub(crate) fn parse_error(
    flags: u16,
    payload: &[u8],
    request: &[u8],
) -> Result<Option<KernelError>> {
    let code = read_code(payload, "NLMSG_ERROR")?;
    if code == 0 {
        return Ok(None);
    }
    let tlv_bytes = if flags & NLM_F_ACK_TLVS != 0 {
        // After the code: the request's header, and its payload unless capped.
        let original = &payload[4..];
        let echoed = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HEADER_LEN
        } else {
            let len = original
                .get(..4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| Error::malformed("NLMSG_ERROR", "no echoed request header"))?;
            align(len.max(NLMSG_HEADER_LEN))
        };
        original.get(echoed..).ok_or_else(|| {
            Error::malformed(
                "NLMSG_ERROR",
                "extended ack flag set but the echoed request is cut short",
            )
        })?
    } else {
        &[]
    };
    Ok(Some(kernel_error(code, tlv_bytes, request)?))
}

/// Decodes an `NLMSG_DONE` payload: a dump's final status, `Ok(None)` when
/// it succeeded. Old kernels send an empty payload.
pub(crate) fn parse_done(
    flags: u16,
    payload: &[u8],
    request: &[u8],
) -> Result<Option<KernelError>> {
    if payload.is_empty() {
        return Ok(None);
    }
    let code = read_code(payload, "NLMSG_DONE")?;
    if code >= 0 {
        return Ok(None);
    }
    let tlv_bytes = if flags & NLM_F_ACK_TLVS != 0 {
        &payload[4..]
    } else {
        &[]
    };
    Ok(Some(kernel_error(code, tlv_bytes, request)?))
}

fn read_code(payload: &[u8], context: &'static str) -> Result<i32> {
    payload
        .get(..4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| {
            Error::malformed(
                context,
                format!("{} bytes, need 4 for the code", payload.len()),
            )
        })
}

fn kernel_error(code: i32, tlv_bytes: &[u8], request: &[u8]) -> Result<KernelError> {
    // The kernel sends -errno; take a positive code as it is.
    let errno = if code < 0 {
        code.checked_neg().unwrap_or(i32::MAX)
    } else {
        code
    };
    let mut err = KernelError::from_errno(errno);
    for tlv in tlvs(tlv_bytes) {
        let tlv = tlv?;
        match tlv.kind {
            NLMSGERR_ATTR_MSG => {
                let text = tlv.value.split(|&b| b == 0).next().unwrap_or_default();
                err.message = Some(String::from_utf8_lossy(text).into_owned());
            }
            NLMSGERR_ATTR_OFFS => {
                if let Some(offset) = read_u32(tlv.value) {
                    err.attribute = Some(
                        describe_offset(request, offset as usize)
                            .unwrap_or_else(|| format!("at byte {offset} of the request")),
                    );
                }
            }
            NLMSGERR_ATTR_POLICY => err.policy = describe_policy(tlv.value),
            NLMSGERR_ATTR_MISS_TYPE => err.missing_attribute = read_u32(tlv.value),
            _ => {}
        }
    }
    Ok(err)
}

/// Summarizes the limits in an `NLMSGERR_ATTR_POLICY` nest
/// (`NL_POLICY_TYPE_ATTR_*` from `<linux/netlink.h>`); `None` if it has none.
fn describe_policy(nest: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    for tlv in tlvs(nest).map_while(|t| t.ok()) {
        let signed = || {
            tlv.value
                .get(..8)
                .map(|b| i64::from_ne_bytes(b.try_into().unwrap_or_default()))
        };
        let unsigned = || {
            tlv.value
                .get(..8)
                .map(|b| u64::from_ne_bytes(b.try_into().unwrap_or_default()))
        };
        let part = match tlv.kind {
            2 => signed().map(|v| format!("min value {v}")),
            3 => signed().map(|v| format!("max value {v}")),
            4 => unsigned().map(|v| format!("min value {v}")),
            5 => unsigned().map(|v| format!("max value {v}")),
            6 => read_u32(tlv.value).map(|v| format!("min length {v}")),
            7 => read_u32(tlv.value).map(|v| format!("max length {v}")),
            _ => None,
        };
        parts.extend(part);
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn read_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

/// Where attribute names come from while walking a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Address,
    Link,
    LinkInfo,
    InfoData,
}

fn attribute_name(ctx: Context, kind: u16) -> String {
    let name = match (ctx, kind) {
        (Context::Address, 1) => "IFA_ADDRESS (address)",
        (Context::Address, 2) => "IFA_LOCAL (local address)",
        (Context::Address, 3) => "IFA_LABEL (label)",
        (Context::Address, 4) => "IFA_BROADCAST (broadcast)",
        (Context::Address, 8) => "IFA_FLAGS (flags)",
        (Context::Address, 9) => "IFA_RT_PRIORITY (metric)",
        (Context::Link, 1) => "IFLA_ADDRESS (MAC address)",
        (Context::Link, 3) => "IFLA_IFNAME (interface name)",
        (Context::Link, 4) => "IFLA_MTU (MTU)",
        (Context::Link, 5) => "IFLA_LINK (parent interface)",
        (Context::Link, 18) => "IFLA_LINKINFO (link info)",
        (Context::Link, 26) => "IFLA_AF_SPEC (per-family settings)",
        (Context::Link, 29) => "IFLA_EXT_MASK (dump filter)",
        (Context::LinkInfo, 1) => "IFLA_INFO_KIND (link kind)",
        (Context::LinkInfo, 2) => "IFLA_INFO_DATA (kind-specific settings)",
        (Context::InfoData, 1) => "IFLA_MACVLAN_MODE (macvlan mode)",
        (Context::InfoData, 2) => "IFLA_MACVLAN_FLAGS (macvlan flags)",
        _ => return format!("attribute type {kind}"),
    };
    name.to_string()
}

fn nested_context(ctx: Context, kind: u16) -> Option<Context> {
    match (ctx, kind) {
        (Context::Link, 18) => Some(Context::LinkInfo),
        (Context::LinkInfo, 2) => Some(Context::InfoData),
        _ => None,
    }
}

/// Names the attribute at byte `offset` of `request` (a whole netlink
/// message, header included), following nesting: e.g.
/// `IFLA_LINKINFO (link info) > IFLA_INFO_DATA (...) > IFLA_MACVLAN_MODE (macvlan mode)`.
pub(crate) fn describe_offset(request: &[u8], offset: usize) -> Option<String> {
    let msg_type = u16::from_ne_bytes(request.get(4..6)?.try_into().ok()?);
    let (ctx, fixed, header_name) = match msg_type {
        16..=19 => (Context::Link, 16, "ifinfomsg header"),
        20..=22 => (Context::Address, 8, "ifaddrmsg header"),
        _ => return None,
    };
    let attrs_start = NLMSG_HEADER_LEN + fixed;
    if offset < NLMSG_HEADER_LEN {
        return Some("netlink header".to_string());
    }
    if offset < attrs_start {
        return Some(format!("{header_name}, byte {}", offset - NLMSG_HEADER_LEN));
    }
    let mut path = Vec::new();
    walk(
        request.get(attrs_start..)?,
        offset - attrs_start,
        ctx,
        &mut path,
    );
    (!path.is_empty()).then(|| path.join(" > "))
}

fn walk(buf: &[u8], offset: usize, ctx: Context, path: &mut Vec<String>) {
    for tlv in tlvs(buf).map_while(|t| t.ok()) {
        if offset == tlv.offset {
            path.push(attribute_name(ctx, tlv.kind));
            return;
        }
        if offset > tlv.offset && offset < tlv.offset + tlv.len {
            path.push(attribute_name(ctx, tlv.kind));
            if let Some(inner) = nested_context(ctx, tlv.kind) {
                let value_start = tlv.offset + crate::tlv::TLV_HEADER_LEN;
                if offset >= value_start {
                    walk(tlv.value, offset - value_start, inner, path);
                }
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RTM_NEWADDR request: header, ifaddrmsg, IFA_LOCAL, IFA_LABEL.
    fn request() -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&44u32.to_ne_bytes());
        r.extend_from_slice(&20u16.to_ne_bytes());
        r.extend_from_slice(&[0; 10]);
        r.extend_from_slice(&[2, 24, 0, 0, 3, 0, 0, 0]);
        r.extend_from_slice(&[8, 0, 2, 0, 198, 18, 0, 5]);
        r.extend_from_slice(&[12, 0, 3, 0]);
        r.extend_from_slice(b"veth0:1\0");
        r
    }

    #[test]
    fn offsets_name_attributes() {
        let r = request();
        assert_eq!(
            describe_offset(&r, 24).as_deref(),
            Some("IFA_LOCAL (local address)")
        );
        assert_eq!(
            describe_offset(&r, 32).as_deref(),
            Some("IFA_LABEL (label)")
        );
        // Inside the label's value still names the label.
        assert_eq!(
            describe_offset(&r, 38).as_deref(),
            Some("IFA_LABEL (label)")
        );
        assert_eq!(
            describe_offset(&r, 17).as_deref(),
            Some("ifaddrmsg header, byte 1")
        );
        assert_eq!(describe_offset(&r, 4).as_deref(), Some("netlink header"));
        assert_eq!(describe_offset(&r, 400), None);
    }

    #[test]
    fn ack_is_none_and_short_payload_is_an_error() {
        assert_eq!(parse_error(0, &[0, 0, 0, 0], &[]).unwrap(), None);
        assert!(parse_error(0, &[0, 0], &[]).is_err());
        assert_eq!(parse_done(0, &[], &[]).unwrap(), None);
    }

    #[test]
    fn errno_without_tlvs() {
        let mut payload = (-17i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        let e = parse_error(NLM_F_CAPPED, &payload, &[]).unwrap().unwrap();
        assert_eq!(e, KernelError::from_errno(17));
    }

    #[test]
    fn tlvs_after_uncapped_request() {
        let r = request();
        let mut payload = (-34i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&r);
        payload.extend_from_slice(&[8, 0, 1, 0, b'b', b'a', b'd', 0]);
        payload.extend_from_slice(&[8, 0, 2, 0]);
        payload.extend_from_slice(&32u32.to_ne_bytes());
        let e = parse_error(NLM_F_ACK_TLVS, &payload, &r).unwrap().unwrap();
        assert_eq!(e.errno, 34);
        assert_eq!(e.message.as_deref(), Some("bad"));
        assert_eq!(e.attribute.as_deref(), Some("IFA_LABEL (label)"));
    }

    #[test]
    fn truncated_tlvs_are_errors() {
        let mut payload = (-22i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        payload.extend_from_slice(&[40, 0, 1, 0, b'x']);
        assert!(parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &payload, &[]).is_err());
        // The flag promises TLVs after an echoed request that is not there.
        let short = (-22i32).to_ne_bytes();
        assert!(parse_error(NLM_F_ACK_TLVS, &short, &[]).is_err());
    }
}
