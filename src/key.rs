//! Turning a request path into an object key, and an object key into an S3 path.
//!
//! Validation happens on the *decoded* key so that `%2e%2e` cannot smuggle a `..` segment past it.

/// What a request path asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: the page that shows the configured object.
    Index,
    /// [`HEALTH_KEY`]: the probes' answer, from the settings alone.
    Health,
    /// Any other path: an object key, decoded and validated.
    Object(String),
}

/// The key the health check takes from the bucket's key space: compared after decoding, so no
/// escape reaches an object of that name. Under `/.well-known/` (RFC 8615, paths reserved for
/// site metadata), where an object is unlikely; not under `/.well-known/spin/`, which Spin
/// answers itself (the whole prefix, `health` and `info` and a 404 for the rest) without
/// instantiating the component, so it would prove nothing about the gateway.
pub const HEALTH_KEY: &str = ".well-known/gif-gateway/health";

/// Why a path is not a valid object key. Each maps to a 400 with [`KeyError::message`]. The
/// escapes and UTF-8 are this URL's business; what a key may be is S3's (`s3_request`), shared
/// with the seeder.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum KeyError {
    BadPercentEscape,
    NotUtf8,
    Invalid(s3_request::KeyError),
}

impl KeyError {
    pub fn message(self) -> String {
        let why = match self {
            KeyError::BadPercentEscape => "malformed percent-encoding",
            KeyError::NotUtf8 => "not valid UTF-8",
            KeyError::Invalid(why) => why.message(),
        };
        format!("invalid object key: {why}")
    }
}

/// Maps the request's path (with or without a query string) to a [`Route`].
pub fn route(path_with_query: &str) -> Result<Route, KeyError> {
    // The query string never selects an object: S3 sub-resources (`?acl`, `?list-type`) stay unreachable.
    let path = path_with_query.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() || path == "/" {
        return Ok(Route::Index);
    }
    let raw = path.strip_prefix('/').unwrap_or(path);
    let key = String::from_utf8(percent_decode(raw)?).map_err(|_| KeyError::NotUtf8)?;
    validate_key(&key)?;
    if key == HEALTH_KEY {
        return Ok(Route::Health);
    }
    Ok(Route::Object(key))
}

/// Checks a decoded object key.
pub fn validate_key(key: &str) -> Result<(), KeyError> {
    s3_request::check_object_key(key).map_err(KeyError::Invalid)
}

fn percent_decode(input: &str) -> Result<Vec<u8>, KeyError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(KeyError::BadPercentEscape),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Encodes a key for an S3 path (and for links to it): see [`s3_request::uri_encode`].
pub fn encode_key(key: &str) -> String {
    s3_request::uri_encode(key, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_request::KeyError::{ControlCharacter, DotSegment, EmptySegment, TooLong};
    use s3_request::MAX_KEY_BYTES;
    use KeyError::Invalid;

    fn object(path: &str) -> Result<String, KeyError> {
        match route(path)? {
            Route::Object(key) => Ok(key),
            other => panic!("{path} routed to {other:?}"),
        }
    }

    #[test]
    fn the_health_key_is_shadowed_however_it_is_written() {
        for path in [
            "/.well-known/gif-gateway/health",
            "/.well-known/gif-gateway/health?x=1",
            "/%2Ewell-known/gif-gateway/%68ealth",
        ] {
            assert_eq!(route(path), Ok(Route::Health), "{path}");
        }
        for path in [
            "/.well-known/gif-gateway/health/x",
            "/.well-known/gif-gateway/Health",
            "/.well-known/spin/health",
            "/well-known/gif-gateway/health",
        ] {
            assert!(matches!(route(path), Ok(Route::Object(_))), "{path}");
        }
    }

    #[test]
    fn root_is_the_index_page() {
        assert_eq!(route("/"), Ok(Route::Index));
        assert_eq!(route("/?x=1"), Ok(Route::Index));
        assert_eq!(route(""), Ok(Route::Index));
    }

    #[test]
    fn keys_are_percent_decoded() {
        assert_eq!(object("/animation.gif"), Ok("animation.gif".into()));
        assert_eq!(object("/my%20cat.gif"), Ok("my cat.gif".into()));
        assert_eq!(
            object("/a+b.gif"),
            Ok("a+b.gif".into()),
            "'+' is literal in a path"
        );
        assert_eq!(object("/100%25.gif"), Ok("100%.gif".into()));
        assert_eq!(object("/caf%C3%A9/%E7%8C%AB.gif"), Ok("café/猫.gif".into()));
        assert_eq!(
            object("/dir/file.gif?download=1"),
            Ok("dir/file.gif".into())
        );
    }

    #[test]
    fn invalid_keys_are_rejected() {
        assert_eq!(object("/a/../b"), Err(Invalid(DotSegment)));
        assert_eq!(object("/.."), Err(Invalid(DotSegment)));
        assert_eq!(object("/%2e%2e/secret"), Err(Invalid(DotSegment)));
        assert_eq!(object("/./a"), Err(Invalid(DotSegment)));
        assert_eq!(object("/a//b"), Err(Invalid(EmptySegment)));
        assert_eq!(object("/a/"), Err(Invalid(EmptySegment)));
        assert_eq!(object("//a"), Err(Invalid(EmptySegment)));
        assert_eq!(object("/a%00b"), Err(Invalid(ControlCharacter)));
        assert_eq!(object("/a%0Ab"), Err(Invalid(ControlCharacter)));
        assert_eq!(object("/a%7Fb"), Err(Invalid(ControlCharacter)));
        assert_eq!(
            object("/a%C2%85b"),
            Err(Invalid(ControlCharacter)),
            "C1 controls too"
        );
        assert_eq!(object("/a%zzb"), Err(KeyError::BadPercentEscape));
        assert_eq!(object("/a%4"), Err(KeyError::BadPercentEscape));
        assert_eq!(object("/%C3%28"), Err(KeyError::NotUtf8));
    }

    #[test]
    fn messages_name_the_reason() {
        assert_eq!(
            object("/a/../b").unwrap_err().message(),
            "invalid object key: '.' or '..' segment"
        );
        assert_eq!(
            object("/a%zz").unwrap_err().message(),
            "invalid object key: malformed percent-encoding"
        );
    }

    #[test]
    fn key_length_limit_is_in_bytes() {
        let at_limit = "a".repeat(MAX_KEY_BYTES);
        assert_eq!(object(&format!("/{at_limit}")), Ok(at_limit));
        assert_eq!(
            object(&format!("/{}", "a".repeat(MAX_KEY_BYTES + 1))),
            Err(Invalid(TooLong))
        );
        // 342 three-byte characters are 1026 bytes but only 342 chars.
        let wide = "猫".repeat(342);
        assert_eq!(
            object(&format!("/{}", encode_key(&wide))),
            Err(Invalid(TooLong))
        );
    }

    #[test]
    fn encoding_round_trips_through_route() {
        for key in [
            "a b",
            "a+b",
            "100%",
            "日本/語.gif",
            "x=y&z",
            "#hash",
            "q?mark",
        ] {
            assert_eq!(
                object(&format!("/{}", encode_key(key))),
                Ok(key.to_string())
            );
        }
    }
}
