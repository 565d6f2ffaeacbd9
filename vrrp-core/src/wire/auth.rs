//! VRRPv2 authentication (RFC 3768 §5.3.6 and §5.3.10).

use core::fmt;

/// The 8-byte Authentication Data field of a VRRPv2 advertisement.
pub const AUTH_DATA_LEN: usize = 8;

/// VRRPv2 authentication type 0: none.
pub const AUTH_TYPE_NONE: u8 = 0;
/// VRRPv2 authentication type 1: simple text password.
pub const AUTH_TYPE_SIMPLE_TEXT: u8 = 1;
/// VRRPv2 authentication type 2: IP Authentication Header. Defined by
/// RFC 2338, removed by RFC 3768; refused as unsupported.
pub const AUTH_TYPE_IP_AH: u8 = 2;

/// The authentication of a VRRPv2 advertisement. VRRPv3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Auth {
    /// Type 0. The 8 authentication bytes are sent as zeros and ignored on
    /// receive (RFC 3768 §5.3.10).
    #[default]
    None,
    /// Type 1: a cleartext password of up to 8 bytes (RFC 2338 §5.3.6.1),
    /// which keepalived still sends.
    SimpleText(Password),
}

impl Auth {
    /// The Auth Type byte on the wire: 0 or 1.
    pub const fn auth_type(&self) -> u8 {
        match self {
            Auth::None => AUTH_TYPE_NONE,
            Auth::SimpleText(_) => AUTH_TYPE_SIMPLE_TEXT,
        }
    }

    /// The 8 Authentication Data bytes to send.
    pub const fn data(&self) -> [u8; AUTH_DATA_LEN] {
        match self {
            Auth::None => [0; AUTH_DATA_LEN],
            Auth::SimpleText(p) => p.0,
        }
    }
}

/// A VRRPv2 simple-text password: up to 8 bytes, padded with zeros on the
/// wire. Equality compares all 8 wire bytes, as the receive check must.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Password([u8; AUTH_DATA_LEN]);

impl Password {
    /// The password `bytes`, zero-padded to 8; `None` if longer than 8.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let mut data = [0; AUTH_DATA_LEN];
        data.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Password(data))
    }

    /// The password exactly as the 8 wire bytes.
    pub const fn from_wire(data: [u8; AUTH_DATA_LEN]) -> Self {
        Password(data)
    }

    /// The 8 wire bytes, zero padding included.
    pub const fn as_wire(&self) -> &[u8; AUTH_DATA_LEN] {
        &self.0
    }

    /// The password without its trailing zero padding.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        &self.0[..len]
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A cleartext password that every host on the LAN sees; shown so that
        // mismatches can be diagnosed.
        write!(
            f,
            "Password({:?})",
            String::from_utf8_lossy(self.as_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_zero_padded_to_eight_bytes() {
        let p = Password::new(b"s3cret").unwrap();
        assert_eq!(p.as_wire(), b"s3cret\0\0");
        assert_eq!(p.as_bytes(), b"s3cret");
        assert_eq!(Password::new(b"12345678").unwrap().as_bytes(), b"12345678");
        assert_eq!(Password::new(b"123456789"), None);
        assert_eq!(Password::new(b"").unwrap().as_bytes(), b"");
        assert_eq!(format!("{p:?}"), "Password(\"s3cret\")");
        assert_eq!(Auth::SimpleText(p).data(), *b"s3cret\0\0");
        assert_eq!(Auth::None.data(), [0; 8]);
        assert_eq!(Auth::SimpleText(p).auth_type(), 1);
    }
}
