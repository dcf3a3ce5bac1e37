//! Which bucket names and object keys MinIO accepts, checked before a request is made so that a
//! bad value gets a clear message instead of an S3 error code.

crate::message_error!(BucketError, KeyError);

/// S3 and MinIO reject longer keys.
pub const MAX_KEY_BYTES: usize = 1024;

/// Why a bucket name is not one MinIO creates (its strict S3 rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketError {
    Length,
    Characters,
    Ends,
    AdjacentPunctuation,
    IpAddress,
}

impl BucketError {
    pub fn message(self) -> &'static str {
        match self {
            BucketError::Length => "must be 3 to 63 characters long",
            BucketError::Characters => "may only contain lowercase letters, digits, '.' and '-'",
            BucketError::Ends => "must start and end with a letter or digit",
            BucketError::AdjacentPunctuation => "must not contain '..', '.-' or '-.'",
            BucketError::IpAddress => "must not be formatted as an IP address",
        }
    }
}

pub fn check_bucket_name(name: &str) -> Result<(), BucketError> {
    if !(3..=63).contains(&name.len()) {
        return Err(BucketError::Length);
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
    if !name.bytes().all(allowed) {
        return Err(BucketError::Characters);
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Err(BucketError::Ends);
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err(BucketError::AdjacentPunctuation);
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(BucketError::IpAddress);
    }
    Ok(())
}

/// Why a key cannot name an object. MinIO keeps objects as files under the bucket's directory,
/// so segments a filesystem path cannot hold are refused, and so are control characters (they
/// cannot round-trip through the XML listings and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Empty,
    TooLong,
    EmptySegment,
    DotSegment,
    ControlCharacter,
}

impl KeyError {
    /// A noun phrase, so that callers can say "invalid object key: …" or "OBJECT_KEY has …".
    pub fn message(self) -> &'static str {
        match self {
            KeyError::Empty => "empty",
            KeyError::TooLong => "longer than 1024 bytes",
            KeyError::EmptySegment => "empty path segment",
            KeyError::DotSegment => "'.' or '..' segment",
            KeyError::ControlCharacter => "control character",
        }
    }
}

/// Checks a key as stored (decoded, not percent-encoded). A leading or trailing `/` counts as an
/// empty segment.
pub fn check_object_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong);
    }
    if key.chars().any(char::is_control) {
        return Err(KeyError::ControlCharacter);
    }
    for segment in key.split('/') {
        match segment {
            "" => return Err(KeyError::EmptySegment),
            "." | ".." => return Err(KeyError::DotSegment),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_minio_rules() {
        for ok in ["gifs", "abc", "my-bucket.v2", "0bucket9", &"a".repeat(63)] {
            assert_eq!(check_bucket_name(ok), Ok(()), "{ok}");
        }
        use BucketError::*;
        for (bad, why) in [
            ("ab", Length),
            ("", Length),
            (&"a".repeat(64), Length),
            ("Gifs", Characters),
            ("gi_fs", Characters),
            ("gifs/x", Characters),
            ("-gifs", Ends),
            ("gifs-", Ends),
            (".gifs", Ends),
            ("gi..fs", AdjacentPunctuation),
            ("gi.-fs", AdjacentPunctuation),
            ("gi-.fs", AdjacentPunctuation),
            ("192.168.1.1", IpAddress),
        ] {
            assert_eq!(check_bucket_name(bad), Err(why), "{bad:?}");
        }
        assert_eq!(check_bucket_name("192.168.1"), Ok(()), "not an address");
    }

    #[test]
    fn object_keys_follow_minio_rules() {
        for ok in [
            "animation.gif",
            "a/b/c.gif",
            "with space+plus%.gif",
            "ünïcode/猫.gif",
            "...",
            ".hidden",
            &"a".repeat(MAX_KEY_BYTES),
        ] {
            assert_eq!(check_object_key(ok), Ok(()), "{ok}");
        }
        use KeyError::*;
        for (bad, why) in [
            ("", Empty),
            (&"a".repeat(MAX_KEY_BYTES + 1), TooLong),
            // 342 three-byte characters: 1026 bytes, 342 chars. The limit is in bytes.
            (&"猫".repeat(342), TooLong),
            ("/abs.gif", EmptySegment),
            ("dir/", EmptySegment),
            ("a//b", EmptySegment),
            ("a/../b", DotSegment),
            ("./a", DotSegment),
            ("..", DotSegment),
            ("a\0b", ControlCharacter),
            ("a\nb", ControlCharacter),
            ("a\u{7f}b", ControlCharacter),
            ("a\u{85}b", ControlCharacter),
        ] {
            assert_eq!(check_object_key(bad), Err(why), "{bad:?}");
        }
    }
}
