//! `SMTP_CHECK`'s dialogue, as keepalived's check_smtp.c holds it: the
//! greeting must be a 220 line, `HELO name` must be answered 250, and
//! `QUIT` must be answered with a line (any). Each reply is its first line
//! only, so a multi-line reply (`220-…`) fails, as in keepalived.

/// keepalived's HELO name when `helo_name` is not given.
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// The longest line read: keepalived's `SMTP_BUFF_MAX`.
pub const MAX_LINE: usize = 512;

/// The reply code of `line`: exactly three digits, then a space or the
/// end of the line (`\r` ignored); `None` otherwise.
pub fn reply_code(line: &[u8]) -> Option<u16> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (digits, rest) = line.split_at_checked(3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !(rest.is_empty() || rest[0] == b' ') {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The first line in `buf` (without its `\n`), if a whole one is there.
pub fn first_line(buf: &[u8]) -> Option<&[u8]> {
    buf.iter().position(|&b| b == b'\n').map(|n| &buf[..n])
}

/// What `HELO` sends.
pub fn helo(name: &str) -> Vec<u8> {
    format!("HELO {name}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_are_read_as_keepalived_reads_them() {
        assert_eq!(reply_code(b"220 mail.test ESMTP\r"), Some(220));
        assert_eq!(reply_code(b"250"), Some(250));
        assert_eq!(reply_code(b"250\r"), Some(250));
        // A continuation line, four digits, letters: no code.
        assert_eq!(reply_code(b"220-mail.test"), None);
        assert_eq!(reply_code(b"2200 x"), None);
        assert_eq!(reply_code(b"22a x"), None);
        assert_eq!(reply_code(b"22"), None);
        assert_eq!(first_line(b"220 a\r\n250 b\r\n"), Some(&b"220 a\r"[..]));
        assert_eq!(first_line(b"220 a"), None);
        assert_eq!(helo("x.test"), b"HELO x.test\r\n");
    }
}
