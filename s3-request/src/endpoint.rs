//! Where the S3 server is: `http[s]://host[:port]`, parsed once for the gateway and the seeder.
//!
//! The point of owning this here is the Host header. SigV4 signs `host`, and aws-sigv4 derives it
//! from the URL's authority *minus* a default port (`:80` for http, `:443` for https). If the
//! client sent `Host: 127.0.0.1:80` while the signature covered `127.0.0.1`, MinIO would answer
//! `SignatureDoesNotMatch`. So the authority kept here is already in the signer's form, and it
//! is the one both the URL we sign and the request we send are built from.

use std::fmt;
use std::net::Ipv6Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed endpoint. Fields are private so that every `Endpoint` went through [`Endpoint::parse`]
/// and its authority is in the signer's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    authority: String,
}

/// Why a value is not an endpoint. Messages never repeat the value: it may carry a password
/// (`http://user:pass@host`), and the caller knows which variable it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointError {
    Scheme,
    UserInfo,
    NoHost,
    Host,
    Port,
    PathOrQuery,
}

impl EndpointError {
    pub fn message(self) -> &'static str {
        match self {
            EndpointError::Scheme => "must start with http:// or https://",
            EndpointError::UserInfo => {
                "must not contain user information (credentials have their own variables)"
            }
            EndpointError::NoHost => "has no host",
            EndpointError::Host => {
                "has an invalid host (letters, digits, '-', '.', '_', or an [IPv6] literal)"
            }
            EndpointError::Port => "has an invalid port (a number from 1 to 65535)",
            EndpointError::PathOrQuery => {
                "must be just scheme://host[:port], without a path, query or fragment"
            }
        }
    }
}

crate::message_error!(EndpointError);

impl Endpoint {
    /// Accepts `http://host[:port]` or `https://host[:port]` with an optional trailing slash;
    /// scheme and host are case-insensitive and come out lowercase.
    pub fn parse(value: &str) -> Result<Self, EndpointError> {
        let value = value.trim();
        let (scheme, rest) = value.split_once("://").ok_or(EndpointError::Scheme)?;
        let scheme = if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else {
            return Err(EndpointError::Scheme);
        };
        // Userinfo first: `http://u:p@h/x` should be refused for the password, not the path.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(EndpointError::UserInfo);
        }
        if !matches!(tail, "" | "/") {
            return Err(EndpointError::PathOrQuery);
        }
        let (host, port) = split_host_port(authority)?;
        let host = host.to_ascii_lowercase();
        let authority = match port {
            Some(port) if port != scheme.default_port() => format!("{host}:{port}"),
            _ => host,
        };
        Ok(Endpoint { scheme, authority })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `host[:port]` without a default port: what the request's authority (Host) is set to and
    /// what the signature covers.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `scheme://authority`, the base that paths from [`crate::object_path`] go after.
    pub fn base_url(&self) -> String {
        self.url("")
    }

    /// The URL to sign and to send; `path` must already be encoded.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme.as_str(), self.authority)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority)
    }
}

/// Splits `host[:port]` or `[v6]:port`, checking both halves.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), EndpointError> {
    if authority.is_empty() {
        return Err(EndpointError::NoHost);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']').ok_or(EndpointError::Host)?;
        // Zone ids (`%25eth0`) are not something a signer or a Host header agree on.
        inner.parse::<Ipv6Addr>().map_err(|_| EndpointError::Host)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(EndpointError::Host)?),
        };
        (&authority[..inner.len() + 2], port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(EndpointError::NoHost);
    }
    let plain_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    if !host.starts_with('[') && !host.bytes().all(plain_name) {
        return Err(EndpointError::Host);
    }
    let port = match port {
        None => None,
        Some(digits) => Some(parse_port(digits)?),
    };
    Ok((host, port))
}

fn parse_port(digits: &str) -> Result<u16, EndpointError> {
    // `u16::from_str` alone would take `+80`; an empty port (`host:`) is refused rather than
    // guessed, since it usually means a variable was left out of a template.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::Port);
    }
    match digits.parse::<u16>() {
        Ok(0) | Err(_) => Err(EndpointError::Port),
        Ok(port) => Ok(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(value: &str) -> String {
        Endpoint::parse(value).unwrap().base_url()
    }

    #[test]
    fn default_ports_are_dropped_per_scheme() {
        assert_eq!(base("http://127.0.0.1:80"), "http://127.0.0.1");
        assert_eq!(base("https://minio.example:443"), "https://minio.example");
        assert_eq!(base("http://[::1]:80"), "http://[::1]");
        assert_eq!(base("https://[::1]:443/"), "https://[::1]");
        // The other scheme's default is just a port.
        assert_eq!(base("http://minio:443"), "http://minio:443");
        assert_eq!(base("https://minio:80"), "https://minio:80");
        assert_eq!(base("http://127.0.0.1:080"), "http://127.0.0.1");
    }

    #[test]
    fn explicit_ports_and_hosts_are_kept() {
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(e.scheme(), Scheme::Http);
        assert_eq!(e.authority(), "127.0.0.1:9000");
        assert_eq!(base("https://minio:9000"), "https://minio:9000");
        assert_eq!(base("http://[::1]:9000"), "http://[::1]:9000");
        assert_eq!(base("http://[2001:DB8::1]"), "http://[2001:db8::1]");
        assert_eq!(
            base("http://minio.minio-ns.svc"),
            "http://minio.minio-ns.svc"
        );
        assert_eq!(base("http://my_minio:9000"), "http://my_minio:9000");
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:9000")
                .unwrap()
                .url("/gifs/a%20b"),
            "http://127.0.0.1:9000/gifs/a%20b"
        );
    }

    #[test]
    fn case_slash_and_spaces_are_normalised() {
        assert_eq!(
            base("HTTP://MinIO.Example:9000"),
            "http://minio.example:9000"
        );
        assert_eq!(base("HTTPS://MINIO:443"), "https://minio");
        assert_eq!(base("http://127.0.0.1:9000/"), "http://127.0.0.1:9000");
        assert_eq!(base("  http://minio:9000\n"), "http://minio:9000");
        assert_eq!(
            Endpoint::parse("https://m:9000").unwrap().to_string(),
            "https://m:9000"
        );
    }

    #[test]
    fn bad_endpoints_get_their_reason() {
        use EndpointError::*;
        for (value, why) in [
            ("minio:9000", Scheme),
            ("127.0.0.1:9000", Scheme),
            ("ftp://minio", Scheme),
            ("://minio", Scheme),
            ("not a url", Scheme),
            ("http://", NoHost),
            ("http:///", NoHost),
            ("http://:9000", NoHost),
            ("http://u:p@minio", UserInfo),
            ("http://u:p@minio/path", UserInfo),
            ("http://minio/bucket", PathOrQuery),
            ("http://minio:9000//", PathOrQuery),
            ("http://minio:9000?x=1", PathOrQuery),
            ("http://minio#frag", PathOrQuery),
            ("http://a b", Host),
            ("http://mín.io", Host),
            ("http://mi%6eio", Host),
            ("http://[::1", Host),
            ("http://[::1]x", Host),
            ("http://[not-v6]:9000", Host),
            ("http://[fe80::1%25eth0]:9000", Host),
            ("http://::1:9000", NoHost),
            ("http://minio:", Port),
            ("http://minio:0", Port),
            ("http://minio:65536", Port),
            ("http://minio:+80", Port),
            ("http://minio:9000:1", Port),
            ("http://[::1]:", Port),
        ] {
            assert_eq!(Endpoint::parse(value), Err(why), "{value:?}");
        }
    }

    #[test]
    fn messages_never_echo_the_value() {
        let err = Endpoint::parse("http://admin:pa55word@minio").unwrap_err();
        assert!(!err.to_string().contains("pa55word"));
        assert!(err
            .message()
            .starts_with("must not contain user information"));
    }
}
