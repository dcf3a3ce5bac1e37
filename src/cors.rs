//! CORS: which other origins' scripts may read the gateway's answers (the `cors_allowed_origins`
//! variable), and the headers a preflight and an actual response get. Pure; `gateway` picks the
//! headers for each request and `respond` adds them to the answer when it is made, never to what
//! the edge cache stores, so a cached entry cannot carry one origin's `Access-Control-Allow-Origin`
//! to another.
//!
//! Only GET and HEAD, and never `Access-Control-Allow-Credentials`: the gateway has no cookies or
//! logins of its own, so credentials would only let another origin's script send the user's
//! cookies along for nothing, and `*` with credentials is the mistake s3www makes by default.

use crate::headers::{self, HeaderList};

/// Who may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// `*`: every answer carries `Access-Control-Allow-Origin: *` whatever the request's Origin,
    /// so no answer varies with it and shared caches keep one copy, not one per origin.
    Any,
    /// These origins, as browsers serialize them (lower case, no default port).
    Origins(Vec<String>),
}

pub const ALLOW_METHODS: &str = "GET, HEAD";
/// The request headers the gateway acts on (`headers::FORWARDED_REQUEST_HEADERS`, and the
/// access log's request id): any other would be dropped, so the preflight does not invite it.
pub const ALLOW_HEADERS: &str = "Range, If-None-Match, If-Modified-Since, If-Range, X-Request-Id";
/// What a script needs beyond the CORS-safelisted response headers to use ranges, validators,
/// the edge cache's verdict and the request id.
pub const EXPOSE_HEADERS: &str =
    "ETag, Content-Length, Content-Range, Accept-Ranges, Last-Modified, X-Edge-Cache, X-Request-Id";
/// Chromium's cap (2 h); the answers themselves are checked by the browser every time anyway.
pub const MAX_AGE: &str = "7200";

const INVALID: &str = "must be empty (off), `*`, or a comma-separated list of origins like \
https://example.com or http://localhost:8080 (scheme://host[:port]: no path, no trailing slash)";

/// Parses `cors_allowed_origins`: empty (off), `*`, or origins separated by commas.
pub fn parse(value: &str) -> Result<Option<Cors>, &'static str> {
    let value = value.trim();
    match value {
        "" => Ok(None),
        "*" => Ok(Some(Cors::Any)),
        _ => value
            .split(',')
            .map(|origin| normalize_origin(origin.trim()).ok_or(INVALID))
            .collect::<Result<_, _>>()
            .map(|origins| Some(Cors::Origins(origins))),
    }
}

/// `scheme://host[:port]` with http or https, as the browser sends it in `Origin`: lower case and
/// without the scheme's default port (so `https://a.example:443` matches `https://a.example`).
fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.to_ascii_lowercase();
    let (scheme, default_port, rest) = if let Some(rest) = origin.strip_prefix("https://") {
        ("https://", 443, rest)
    } else {
        ("http://", 80, origin.strip_prefix("http://")?)
    };
    let bracketed = rest.starts_with('[');
    let host_end = if bracketed {
        rest.find(']')? + 1
    } else {
        rest.find(':').unwrap_or(rest.len())
    };
    let (host, port) = rest.split_at(host_end);
    let host_ok = host.bytes().enumerate().all(|(i, b)| match b {
        b'[' => i == 0,
        b']' => i == host.len() - 1,
        b':' => bracketed,
        b => b.is_ascii_alphanumeric() || b == b'-' || b == b'.',
    });
    if !host_ok || host.len() <= 2 * bracketed as usize {
        return None;
    }
    let port = match port.as_bytes() {
        [] => default_port,
        [b':', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            port[1..].parse::<u16>().ok().filter(|p| *p != 0)?
        }
        _ => return None,
    };
    Some(if port == default_port {
        format!("{scheme}{host}")
    } else {
        format!("{scheme}{host}:{port}")
    })
}

impl Cors {
    /// The `Access-Control-Allow-Origin` a request with this `Origin` gets, if any.
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<&str> {
        match self {
            Cors::Any => Some("*"),
            Cors::Origins(list) => {
                let origin = origin?.trim();
                list.iter()
                    .find(|o| o.eq_ignore_ascii_case(origin))
                    .map(String::as_str)
            }
        }
    }

    /// The headers an actual GET or HEAD answer gets: with a list, `Vary: Origin` on every one
    /// (whether the Origin matched is what changes the answer), and the allow and expose headers
    /// when it matched.
    pub fn response_headers(&self, origin: Option<&str>) -> HeaderList {
        let mut list = Vec::new();
        if matches!(self, Cors::Origins(_)) {
            list.push(("vary", "Origin"));
        }
        if let Some(allowed) = self.allow_origin(origin) {
            list.push(("access-control-allow-origin", allowed));
            list.push(("access-control-expose-headers", EXPOSE_HEADERS));
        }
        headers::list(&list)
    }

    /// The headers of a preflight's 204, or `None` when it is refused: an origin not allowed,
    /// or a method other than GET and HEAD (`Access-Control-Request-Method` is case-sensitive).
    pub fn preflight_headers(&self, origin: Option<&str>, method: &str) -> Option<HeaderList> {
        if !matches!(method.trim(), "GET" | "HEAD") {
            return None;
        }
        let allowed = self.allow_origin(Some(origin?))?;
        let mut list = vec![
            ("access-control-allow-origin", allowed),
            ("access-control-allow-methods", ALLOW_METHODS),
            ("access-control-allow-headers", ALLOW_HEADERS),
            ("access-control-max-age", MAX_AGE),
        ];
        if matches!(self, Cors::Origins(_)) {
            list.push(("vary", "Origin"));
        }
        Some(headers::list(&list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> Option<Cors> {
        Some(Cors::Origins(list.iter().map(|o| o.to_string()).collect()))
    }

    fn get<'a>(list: &'a HeaderList, name: &str) -> Option<&'a str> {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| std::str::from_utf8(v).unwrap())
    }

    #[test]
    fn off_by_default_star_or_a_list() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("  "), Ok(None));
        assert_eq!(parse("*"), Ok(Some(Cors::Any)));
        assert_eq!(
            parse("https://a.example, http://localhost:8080"),
            Ok(origins(&["https://a.example", "http://localhost:8080"]))
        );
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        assert_eq!(
            parse("HTTPS://A.Example"),
            Ok(origins(&["https://a.example"]))
        );
        assert_eq!(
            parse("https://a.example:443"),
            Ok(origins(&["https://a.example"]))
        );
        assert_eq!(
            parse("http://a.example:80"),
            Ok(origins(&["http://a.example"]))
        );
        assert_eq!(
            parse("http://a.example:443"),
            Ok(origins(&["http://a.example:443"]))
        );
        assert_eq!(
            parse("http://[::1]:3000"),
            Ok(origins(&["http://[::1]:3000"]))
        );
        assert_eq!(
            parse("http://10.0.0.1:08080"),
            Ok(origins(&["http://10.0.0.1:8080"]))
        );
    }

    #[test]
    fn anything_but_scheme_host_port_is_refused() {
        for bad in [
            "https://a.example/",
            "https://a.example/path",
            "https://a.example?x",
            "a.example",
            "ftp://a.example",
            "https://",
            "https://:8080",
            "https://a.example:",
            "https://a.example:0",
            "https://a.example:65536",
            "https://a.example:8o",
            "https://user@a.example",
            "https://*.a.example",
            "https://a.example,",
            "https://a.example,,https://b.example",
            "*, https://a.example",
            "https://[]",
            "https://[::1",
            "null",
        ] {
            assert_eq!(parse(bad), Err(INVALID), "{bad}");
        }
    }

    #[test]
    fn a_listed_origin_is_echoed_and_others_get_only_vary() {
        let cors = parse("https://a.example").unwrap().unwrap();
        let allowed = cors.response_headers(Some("https://a.example"));
        assert_eq!(
            get(&allowed, "access-control-allow-origin"),
            Some("https://a.example")
        );
        assert_eq!(
            get(&allowed, "access-control-expose-headers"),
            Some(EXPOSE_HEADERS)
        );
        assert_eq!(get(&allowed, "vary"), Some("Origin"));
        for other in [
            Some("https://b.example"),
            Some("https://a.example:8443"),
            Some("null"),
            None,
        ] {
            let list = cors.response_headers(other);
            assert_eq!(list, headers::list(&[("vary", "Origin")]), "{other:?}");
        }
    }

    #[test]
    fn star_allows_every_request_without_vary() {
        let cors = Cors::Any;
        for origin in [Some("https://b.example"), None] {
            let list = cors.response_headers(origin);
            assert_eq!(get(&list, "access-control-allow-origin"), Some("*"));
            assert_eq!(get(&list, "vary"), None);
        }
    }

    #[test]
    fn preflights_allow_get_and_head_only() {
        let cors = parse("https://a.example").unwrap().unwrap();
        let ok = cors
            .preflight_headers(Some("https://a.example"), "GET")
            .unwrap();
        assert_eq!(
            get(&ok, "access-control-allow-origin"),
            Some("https://a.example")
        );
        assert_eq!(get(&ok, "access-control-allow-methods"), Some("GET, HEAD"));
        assert_eq!(
            get(&ok, "access-control-allow-headers"),
            Some(ALLOW_HEADERS)
        );
        assert_eq!(get(&ok, "access-control-max-age"), Some(MAX_AGE));
        assert!(cors
            .preflight_headers(Some("https://a.example"), "HEAD")
            .is_some());
        for method in ["PUT", "POST", "DELETE", "get", ""] {
            assert!(
                cors.preflight_headers(Some("https://a.example"), method)
                    .is_none(),
                "{method}"
            );
        }
        assert!(cors
            .preflight_headers(Some("https://b.example"), "GET")
            .is_none());
        assert!(cors.preflight_headers(None, "GET").is_none());
        let star = Cors::Any
            .preflight_headers(Some("https://b.example"), "GET")
            .unwrap();
        assert_eq!(get(&star, "access-control-allow-origin"), Some("*"));
        assert!(Cors::Any.preflight_headers(None, "GET").is_none());
    }

    #[test]
    fn never_credentials_and_only_headers_the_gateway_honours() {
        for cors in [Cors::Any, parse("https://a.example").unwrap().unwrap()] {
            let mut all = cors.response_headers(Some("https://a.example"));
            all.extend(
                cors.preflight_headers(Some("https://a.example"), "GET")
                    .unwrap(),
            );
            assert!(all
                .iter()
                .all(|(n, _)| n != "access-control-allow-credentials"));
        }
        let allowed: Vec<String> = ALLOW_HEADERS.split(", ").map(str::to_lowercase).collect();
        let honoured = [
            &crate::headers::FORWARDED_REQUEST_HEADERS[..],
            &[crate::access_log::REQUEST_ID_HEADER],
        ]
        .concat();
        for name in &honoured {
            assert!(allowed.iter().any(|a| a == name), "{name}");
        }
        assert_eq!(allowed.len(), honoured.len());
    }
}
