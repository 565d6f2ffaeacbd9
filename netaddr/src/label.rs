//! Address labels: the `eth0:1` of `ip addr add ... label eth0:1`, which is
//! what `ifconfig` lists as an alias interface. IPv4 only.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated IPv4 address label.
///
/// The kernel stores labels in `char[IFNAMSIZ]`, so a label is at most
/// [`Label::MAX_LEN`] = 15 bytes; a longer one is refused with `ERANGE`
/// ("Numerical result out of range"). We check before asking.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(String);

/// Why a label was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The label is empty.
    #[error("address label is empty")]
    Empty,
    /// The label is longer than the kernel's 15 bytes.
    #[error(
        "address label {label:?} is {len} bytes long; the kernel allows at most 15 (IFNAMSIZ - 1)"
    )]
    TooLong {
        /// The label given.
        label: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The label contains a NUL byte, which would cut it short.
    #[error("address label {0:?} contains a NUL byte")]
    ContainsNul(String),
}

impl Label {
    /// The longest label the kernel accepts, in bytes (`IFNAMSIZ - 1`).
    pub const MAX_LEN: usize = 15;

    /// Validates a label.
    pub fn new(label: impl Into<String>) -> Result<Label, LabelError> {
        let label = label.into();
        if label.is_empty() {
            return Err(LabelError::Empty);
        }
        if label.contains('\0') {
            return Err(LabelError::ContainsNul(label));
        }
        if label.len() > Label::MAX_LEN {
            let len = label.len();
            return Err(LabelError::TooLong { label, len });
        }
        Ok(Label(label))
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Label {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Label, LabelError> {
        Label::new(s)
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
        Label::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_bytes_is_the_limit() {
        assert_eq!(
            Label::new("veth0:123456789").unwrap().as_str(),
            "veth0:123456789"
        );
        let err = Label::new("veth0:1234567890").unwrap_err();
        assert_eq!(
            err,
            LabelError::TooLong {
                label: "veth0:1234567890".into(),
                len: 16
            }
        );
        assert!(err.to_string().contains("at most 15"));
    }

    #[test]
    fn length_counts_bytes_not_chars() {
        // 8 two-byte characters: 16 bytes.
        assert!(matches!(
            Label::new("éééééééé"),
            Err(LabelError::TooLong { len: 16, .. })
        ));
    }

    #[test]
    fn empty_and_nul_are_refused() {
        assert_eq!(Label::new(""), Err(LabelError::Empty));
        assert!(matches!(
            Label::new("a\0b"),
            Err(LabelError::ContainsNul(_))
        ));
    }
}
