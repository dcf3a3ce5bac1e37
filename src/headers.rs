//! Which headers cross the gateway, in each direction, and what an upstream status becomes.
//!
//! Everything is an allow-list: a header MinIO adds later (or an `x-amz-*` one that reveals
//! internals) does not leak to clients by default.

/// Conditional and range headers that S3 understands and RFC 9110 semantics depend on.
pub const FORWARDED_REQUEST_HEADERS: [&str; 4] = ["range", "if-range", "if-none-match", "if-modified-since"];

/// Representation metadata passed back to the client unchanged (Content-Type gets a fallback).
pub const PASSED_RESPONSE_HEADERS: [&str; 7] = [
    "content-type",
    "content-length",
    "content-range",
    "etag",
    "last-modified",
    "cache-control",
    "accept-ranges",
];

/// Added to every response: browsers must not guess a type the gateway did not send.
pub const NOSNIFF: (&str, &str) = ("x-content-type-options", "nosniff");

pub type HeaderList = Vec<(String, Vec<u8>)>;

/// What the gateway does with an upstream status.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Outcome {
    /// 200, 206, 304, 412: the client gets the same status with the allowed headers.
    PassThrough,
    /// 416 keeps its status but never MinIO's XML body.
    RangeNotSatisfiable,
    /// Missing or forbidden objects look the same, so the bucket's contents cannot be probed.
    NotFound,
    /// MinIO refused the key itself.
    BadRequest,
    /// Anything else means the store is unhealthy or misconfigured.
    BadGateway,
}

pub fn classify(status: u16) -> Outcome {
    match status {
        200 | 206 | 304 | 412 => Outcome::PassThrough,
        416 => Outcome::RangeNotSatisfiable,
        403 | 404 => Outcome::NotFound,
        400 => Outcome::BadRequest,
        _ => Outcome::BadGateway,
    }
}

/// Whether a response with this status may carry a body (RFC 9110 §6.4.1).
pub fn status_has_body(status: u16) -> bool {
    !(status == 204 || status == 304 || (100..200).contains(&status))
}

/// The client's headers that go to MinIO.
pub fn forwarded_request_headers(incoming: &[(String, Vec<u8>)]) -> HeaderList {
    incoming
        .iter()
        .filter(|(name, _)| FORWARDED_REQUEST_HEADERS.iter().any(|f| name.eq_ignore_ascii_case(f)))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect()
}

/// The headers the client gets for a passed-through upstream response.
pub fn response_headers(status: u16, upstream: &[(String, Vec<u8>)], key: &str) -> HeaderList {
    let mut out: HeaderList = Vec::with_capacity(PASSED_RESPONSE_HEADERS.len() + 1);
    let mut content_type = None;
    for (name, value) in upstream {
        let name = name.to_ascii_lowercase();
        if !PASSED_RESPONSE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        // A 304 describes a cached representation; its length/type headers would describe an empty body.
        if status == 304 && matches!(name.as_str(), "content-length" | "content-type" | "content-range") {
            continue;
        }
        if name == "content-type" {
            content_type = Some(value.clone());
            continue;
        }
        out.push((name, value.clone()));
    }
    if status != 304 {
        out.push(("content-type".into(), effective_content_type(content_type.as_deref(), key).into_bytes()));
    }
    out.push((NOSNIFF.0.into(), NOSNIFF.1.into()));
    out
}

/// MinIO answers `application/octet-stream` for objects uploaded without a type; the key's
/// extension is a better guess than that, and nosniff makes the guess binding.
pub fn effective_content_type(upstream: Option<&[u8]>, key: &str) -> String {
    match upstream.and_then(|v| std::str::from_utf8(v).ok()).map(str::trim) {
        Some(t) if !t.is_empty() && !t.eq_ignore_ascii_case("application/octet-stream") => t.to_string(),
        _ => content_type_for_key(key).to_string(),
    }
}

pub fn content_type_for_key(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    let ext = match name.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => return "application/octet-stream",
    };
    match ext.as_str() {
        "gif" => "image/gif",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// Pulls one element's text out of an S3 error body, e.g. `Code` for the log line or
/// `ActualObjectSize` for a 416's `Content-Range`. Only plain alphanumeric values are returned:
/// messages can echo request details, and nothing else is needed.
pub fn s3_error_field<'a>(body: &'a [u8], element: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(body).ok()?;
    let open = format!("<{element}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{element}>"))?;
    let value = &text[start..start + len];
    (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric())).then_some(value)
}

/// RFC 9110 §15.5.17: a 416 says how long the representation is, so a client can retry sensibly.
pub fn unsatisfied_content_range(error_body: &[u8]) -> Option<String> {
    let size = s3_error_field(error_body, "ActualObjectSize")?;
    size.bytes().all(|b| b.is_ascii_digit()).then(|| format!("bytes */{size}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(&str, &str)]) -> HeaderList {
        pairs.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect()
    }

    fn get<'a>(headers: &'a HeaderList, name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| std::str::from_utf8(v).unwrap())
    }

    #[test]
    fn only_range_and_conditionals_are_forwarded() {
        let incoming = list(&[
            ("Range", "bytes=0-9"),
            ("If-None-Match", "\"abc\""),
            ("if-modified-since", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("If-Range", "\"abc\""),
            ("Authorization", "Bearer x"),
            ("Cookie", "a=b"),
            ("X-Amz-Security-Token", "t"),
            ("Host", "evil"),
        ]);
        let out = forwarded_request_headers(&incoming);
        let names: Vec<_> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["range", "if-none-match", "if-modified-since", "if-range"]);
        assert_eq!(get(&out, "range"), Some("bytes=0-9"));
    }

    #[test]
    fn response_keeps_allowed_headers_and_drops_internal_ones() {
        let upstream = list(&[
            ("Content-Type", "image/gif"),
            ("Content-Length", "1234"),
            ("ETag", "\"e\""),
            ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("Accept-Ranges", "bytes"),
            ("Cache-Control", "max-age=60"),
            ("Server", "MinIO"),
            ("X-Amz-Request-Id", "123"),
            ("X-Amz-Meta-Owner", "alice"),
            ("Set-Cookie", "s=1"),
        ]);
        let out = response_headers(200, &upstream, "a.gif");
        for name in ["content-type", "content-length", "etag", "last-modified", "accept-ranges", "cache-control"] {
            assert!(get(&out, name).is_some(), "{name} missing");
        }
        for name in ["server", "x-amz-request-id", "x-amz-meta-owner", "set-cookie"] {
            assert!(get(&out, name).is_none(), "{name} leaked");
        }
        assert_eq!(get(&out, "x-content-type-options"), Some("nosniff"));
    }

    #[test]
    fn partial_content_keeps_content_range() {
        let out = response_headers(206, &list(&[("Content-Range", "bytes 10-99/500")]), "a.gif");
        assert_eq!(get(&out, "content-range"), Some("bytes 10-99/500"));
    }

    #[test]
    fn not_modified_drops_body_metadata() {
        let upstream = list(&[("ETag", "\"e\""), ("Content-Type", "image/gif"), ("Content-Length", "9")]);
        let out = response_headers(304, &upstream, "a.gif");
        assert_eq!(get(&out, "etag"), Some("\"e\""));
        assert_eq!(get(&out, "content-length"), None);
        assert_eq!(get(&out, "content-type"), None);
    }

    #[test]
    fn octet_stream_falls_back_to_the_extension() {
        assert_eq!(effective_content_type(Some(b"application/octet-stream"), "x/cat.GIF"), "image/gif");
        assert_eq!(effective_content_type(None, "cat.png"), "image/png");
        assert_eq!(effective_content_type(Some(b"image/webp"), "cat.gif"), "image/webp");
        assert_eq!(effective_content_type(None, "README"), "application/octet-stream");
        assert_eq!(effective_content_type(None, "dir.gif/readme"), "application/octet-stream");
    }

    #[test]
    fn statuses_map_to_gateway_outcomes() {
        assert_eq!(classify(200), Outcome::PassThrough);
        assert_eq!(classify(206), Outcome::PassThrough);
        assert_eq!(classify(304), Outcome::PassThrough);
        assert_eq!(classify(416), Outcome::RangeNotSatisfiable);
        assert_eq!(classify(404), Outcome::NotFound);
        assert_eq!(classify(403), Outcome::NotFound);
        assert_eq!(classify(400), Outcome::BadRequest);
        for status in [301, 401, 500, 502, 503] {
            assert_eq!(classify(status), Outcome::BadGateway, "{status}");
        }
        assert!(!status_has_body(304));
        assert!(status_has_body(206));
    }

    #[test]
    fn s3_error_fields_are_extracted_only_when_plain() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>x</Message></Error>";
        assert_eq!(s3_error_field(body, "Code"), Some("NoSuchKey"));
        assert_eq!(s3_error_field(b"<Error><Code>a b</Code></Error>", "Code"), None);
        assert_eq!(s3_error_field(b"not xml", "Code"), None);
    }

    #[test]
    fn unsatisfiable_ranges_report_the_object_size() {
        let body = b"<Error><Code>InvalidRange</Code><ActualObjectSize>54192</ActualObjectSize></Error>";
        assert_eq!(unsatisfied_content_range(body).as_deref(), Some("bytes */54192"));
        assert_eq!(unsatisfied_content_range(b"<Error><ActualObjectSize>12x</ActualObjectSize></Error>"), None);
        assert_eq!(unsatisfied_content_range(b""), None);
    }
}
