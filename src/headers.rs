//! Which headers cross the gateway, in each direction, and what an upstream status becomes.
//!
//! Everything is an allow-list: a header MinIO adds later (or an `x-amz-*` one that reveals
//! internals) does not leak to clients by default.

/// Conditional and range headers that S3 understands and RFC 9110 semantics depend on.
pub const FORWARDED_REQUEST_HEADERS: [&str; 4] =
    ["range", "if-range", "if-none-match", "if-modified-since"];

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

/// A `Range` that the gateway applies itself because it came with `If-Range`.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct DeferredRange {
    pub range: String,
    pub if_range: String,
}

/// The client's headers that go to MinIO, plus a range the gateway must apply itself.
///
/// MinIO ignores `If-Range` and answers a stale validator with a partial body of the *new*
/// object, which RFC 9110 §13.1.5 forbids. So a `Range` that comes with `If-Range` is not
/// forwarded: the gateway fetches the whole object (still one request) and cuts the range out
/// only if the validator matches the response's.
pub fn plan_request_headers(incoming: &[(String, Vec<u8>)]) -> (HeaderList, Option<DeferredRange>) {
    let find = |wanted: &str| {
        incoming
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .and_then(|(_, v)| String::from_utf8(v.clone()).ok())
    };
    let deferred = match (find("range"), find("if-range")) {
        (Some(range), Some(if_range)) => Some(DeferredRange { range, if_range }),
        _ => None,
    };
    let forwarded = incoming
        .iter()
        .filter(|(name, _)| {
            FORWARDED_REQUEST_HEADERS
                .iter()
                .any(|f| name.eq_ignore_ascii_case(f))
        })
        // If-Range alone means nothing; with Range it is handled by the gateway.
        .filter(|(name, _)| !name.eq_ignore_ascii_case("if-range"))
        .filter(|(name, _)| deferred.is_none() || !name.eq_ignore_ascii_case("range"))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    (forwarded, deferred)
}

/// A single byte range as a client wrote it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RangeSpec {
    /// `bytes=first-` or `bytes=first-last`
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last n bytes
    Suffix(u64),
}

/// Parses a single-range `Range` value. Multiple ranges and other units give `None`, and the
/// server may then ignore the header and send the whole representation (RFC 9110 §14.2).
pub fn parse_range(value: &str) -> Option<RangeSpec> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, false) => Some(RangeSpec::Suffix(number(last)?)),
        (false, true) => Some(RangeSpec::From {
            first: number(first)?,
            last: None,
        }),
        (false, false) => {
            let (first, last) = (number(first)?, number(last)?);
            (first <= last).then_some(RangeSpec::From {
                first,
                last: Some(last),
            })
        }
        (true, true) => None,
    }
}

/// The inclusive byte positions a range selects in a representation of `length` bytes, or
/// `None` when it is unsatisfiable (→ 416).
pub fn resolve_range(spec: RangeSpec, length: u64) -> Option<(u64, u64)> {
    match spec {
        RangeSpec::From { first, last } if first < length => {
            Some((first, last.map_or(length - 1, |l| l.min(length - 1))))
        }
        RangeSpec::Suffix(n) if n > 0 && length > 0 => Some((length.saturating_sub(n), length - 1)),
        _ => None,
    }
}

/// RFC 9110 §13.1.5: an entity-tag validator matches only by strong comparison; a date matches
/// only if it is exactly the representation's Last-Modified.
pub fn if_range_matches(if_range: &str, etag: Option<&str>, last_modified: Option<&str>) -> bool {
    let validator = if_range.trim();
    if validator.starts_with("W/") {
        return false;
    }
    if validator.starts_with('"') {
        return etag.is_some_and(|e| !e.starts_with("W/") && e == validator);
    }
    last_modified.is_some_and(|lm| lm.trim() == validator)
}

/// What a deferred range does to a full (200) upstream response.
#[derive(Debug, PartialEq, Eq)]
pub enum DeferredOutcome {
    /// Validator stale or range ignorable: send the whole object unchanged.
    Full,
    /// Send bytes `first..=last` as a 206 with these headers.
    Partial {
        first: u64,
        last: u64,
        headers: HeaderList,
    },
    /// Validator matched but the range is outside the object.
    Unsatisfiable { content_range: String },
}

/// Decides a deferred range against the headers of a 200 response (as built by
/// [`response_headers`]).
pub fn apply_deferred_range(deferred: &DeferredRange, headers: &HeaderList) -> DeferredOutcome {
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    };
    let Some(length) = value("content-length").and_then(|v| v.trim().parse::<u64>().ok()) else {
        return DeferredOutcome::Full;
    };
    if !if_range_matches(&deferred.if_range, value("etag"), value("last-modified")) {
        return DeferredOutcome::Full;
    }
    cut_range(&deferred.range, headers, length)
}

/// Cuts the client's `Range` out of a whole response of `length` bytes with these headers, as
/// MinIO would have: a range it cannot parse is ignored (the whole object), one that misses the
/// object is a 416. Used for ranges the gateway applies itself and for edge-cache hits.
pub fn cut_range(range: &str, headers: &HeaderList, length: u64) -> DeferredOutcome {
    let Some(spec) = parse_range(range) else {
        return DeferredOutcome::Full;
    };
    match resolve_range(spec, length) {
        Some((first, last)) => {
            let mut partial: HeaderList = headers
                .iter()
                .filter(|(n, _)| n != "content-length")
                .cloned()
                .collect();
            partial.push((
                "content-length".into(),
                (last - first + 1).to_string().into_bytes(),
            ));
            partial.push((
                "content-range".into(),
                format!("bytes {first}-{last}/{length}").into_bytes(),
            ));
            DeferredOutcome::Partial {
                first,
                last,
                headers: partial,
            }
        }
        None => DeferredOutcome::Unsatisfiable {
            content_range: format!("bytes */{length}"),
        },
    }
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
        if status == 304
            && matches!(
                name.as_str(),
                "content-length" | "content-type" | "content-range"
            )
        {
            continue;
        }
        if name == "content-type" {
            content_type = Some(value.clone());
            continue;
        }
        out.push((name, value.clone()));
    }
    if status != 304 {
        out.push((
            "content-type".into(),
            effective_content_type(content_type.as_deref(), key).into_bytes(),
        ));
    }
    out.push((NOSNIFF.0.into(), NOSNIFF.1.into()));
    out
}

/// MinIO answers `application/octet-stream` for objects uploaded without a type; the key's
/// extension is a better guess than that, and nosniff makes the guess binding.
pub fn effective_content_type(upstream: Option<&[u8]>, key: &str) -> String {
    match upstream
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::trim)
    {
        Some(t) if !t.is_empty() && !t.eq_ignore_ascii_case("application/octet-stream") => {
            t.to_string()
        }
        _ => s3_request::content_type_for(key)
            .unwrap_or("application/octet-stream")
            .to_string(),
    }
}

/// RFC 9110 §15.5.17: a 416 says how long the representation is, so a client can retry sensibly.
pub fn unsatisfied_content_range(error_body: &[u8]) -> Option<String> {
    let size = s3_request::error_token(error_body, "ActualObjectSize")?;
    size.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| format!("bytes */{size}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(&str, &str)]) -> HeaderList {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn get<'a>(headers: &'a HeaderList, name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| std::str::from_utf8(v).unwrap())
    }

    #[test]
    fn only_range_and_conditionals_are_forwarded() {
        let forwarded_request_headers = |h: &HeaderList| plan_request_headers(h).0;
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
        assert_eq!(
            names,
            ["if-none-match", "if-modified-since"],
            "Range with If-Range is applied by the gateway"
        );
        let plain =
            forwarded_request_headers(&list(&[("Range", "bytes=0-9"), ("If-None-Match", "\"a\"")]));
        assert_eq!(get(&plain, "range"), Some("bytes=0-9"));
        assert_eq!(plain.len(), 2);
    }

    #[test]
    fn if_range_defers_the_range_to_the_gateway() {
        let (forwarded, deferred) =
            plan_request_headers(&list(&[("Range", "bytes=5-"), ("If-Range", "\"e\"")]));
        assert!(forwarded.is_empty());
        assert_eq!(
            deferred,
            Some(DeferredRange {
                range: "bytes=5-".into(),
                if_range: "\"e\"".into()
            })
        );
        let (forwarded, deferred) = plan_request_headers(&list(&[("If-Range", "\"e\"")]));
        assert!(
            forwarded.is_empty() && deferred.is_none(),
            "If-Range without Range is meaningless"
        );
    }

    #[test]
    fn ranges_parse_and_resolve_per_rfc_9110() {
        assert_eq!(
            parse_range("bytes=10-99"),
            Some(RangeSpec::From {
                first: 10,
                last: Some(99)
            })
        );
        assert_eq!(
            parse_range("bytes=10-"),
            Some(RangeSpec::From {
                first: 10,
                last: None
            })
        );
        assert_eq!(parse_range("bytes=-5"), Some(RangeSpec::Suffix(5)));
        for ignored in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=9-1",
            "bytes=-",
            "bytes=a-b",
            "0-1",
        ] {
            assert_eq!(parse_range(ignored), None, "{ignored}");
        }
        let spec = |v| parse_range(v).unwrap();
        assert_eq!(resolve_range(spec("bytes=10-99"), 1000), Some((10, 99)));
        assert_eq!(resolve_range(spec("bytes=10-5000"), 1000), Some((10, 999)));
        assert_eq!(resolve_range(spec("bytes=990-"), 1000), Some((990, 999)));
        assert_eq!(resolve_range(spec("bytes=-10"), 1000), Some((990, 999)));
        assert_eq!(resolve_range(spec("bytes=-5000"), 1000), Some((0, 999)));
        assert_eq!(resolve_range(spec("bytes=1000-"), 1000), None);
        assert_eq!(resolve_range(spec("bytes=-0"), 1000), None);
        assert_eq!(resolve_range(spec("bytes=0-"), 0), None);
    }

    #[test]
    fn deferred_ranges_are_cut_only_for_a_matching_validator() {
        let full = response_headers(
            200,
            &list(&[
                ("ETag", "\"e\""),
                ("Content-Length", "1000"),
                ("Content-Type", "image/gif"),
            ]),
            "a.gif",
        );
        let deferred = |range: &str, if_range: &str| DeferredRange {
            range: range.into(),
            if_range: if_range.into(),
        };
        match apply_deferred_range(&deferred("bytes=10-99", "\"e\""), &full) {
            DeferredOutcome::Partial {
                first,
                last,
                headers,
            } => {
                assert_eq!((first, last), (10, 99));
                assert_eq!(get(&headers, "content-length"), Some("90"));
                assert_eq!(get(&headers, "content-range"), Some("bytes 10-99/1000"));
                assert_eq!(get(&headers, "content-type"), Some("image/gif"));
                assert_eq!(
                    headers
                        .iter()
                        .filter(|(n, _)| n == "content-length")
                        .count(),
                    1
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            apply_deferred_range(&deferred("bytes=10-99", "\"stale\""), &full),
            DeferredOutcome::Full
        );
        assert_eq!(
            apply_deferred_range(&deferred("bytes=0-1,4-5", "\"e\""), &full),
            DeferredOutcome::Full
        );
        assert_eq!(
            apply_deferred_range(&deferred("bytes=5000-", "\"e\""), &full),
            DeferredOutcome::Unsatisfiable {
                content_range: "bytes */1000".into()
            }
        );
    }

    #[test]
    fn if_range_uses_strong_comparison() {
        let lm = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert!(if_range_matches("\"abc\"", Some("\"abc\""), None));
        assert!(!if_range_matches("\"abc\"", Some("\"abd\""), None));
        assert!(!if_range_matches("W/\"abc\"", Some("W/\"abc\""), None));
        assert!(!if_range_matches("\"abc\"", Some("W/\"abc\""), None));
        assert!(if_range_matches(lm, None, Some(lm)));
        assert!(!if_range_matches(
            "Wed, 21 Oct 2015 07:28:01 GMT",
            None,
            Some(lm)
        ));
        assert!(!if_range_matches(lm, Some("\"abc\""), None));
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
        for name in [
            "content-type",
            "content-length",
            "etag",
            "last-modified",
            "accept-ranges",
            "cache-control",
        ] {
            assert!(get(&out, name).is_some(), "{name} missing");
        }
        for name in [
            "server",
            "x-amz-request-id",
            "x-amz-meta-owner",
            "set-cookie",
        ] {
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
        let upstream = list(&[
            ("ETag", "\"e\""),
            ("Content-Type", "image/gif"),
            ("Content-Length", "9"),
        ]);
        let out = response_headers(304, &upstream, "a.gif");
        assert_eq!(get(&out, "etag"), Some("\"e\""));
        assert_eq!(get(&out, "content-length"), None);
        assert_eq!(get(&out, "content-type"), None);
    }

    #[test]
    fn octet_stream_falls_back_to_the_extension() {
        assert_eq!(
            effective_content_type(Some(b"application/octet-stream"), "x/cat.GIF"),
            "image/gif"
        );
        assert_eq!(effective_content_type(None, "cat.png"), "image/png");
        assert_eq!(
            effective_content_type(Some(b"image/webp"), "cat.gif"),
            "image/webp"
        );
        assert_eq!(
            effective_content_type(None, "README"),
            "application/octet-stream"
        );
        assert_eq!(
            effective_content_type(None, "dir.gif/readme"),
            "application/octet-stream"
        );
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
    fn unsatisfiable_ranges_report_the_object_size() {
        let body =
            b"<Error><Code>InvalidRange</Code><ActualObjectSize>54192</ActualObjectSize></Error>";
        assert_eq!(
            unsatisfied_content_range(body).as_deref(),
            Some("bytes */54192")
        );
        assert_eq!(
            unsatisfied_content_range(b"<Error><ActualObjectSize>12x</ActualObjectSize></Error>"),
            None
        );
        assert_eq!(unsatisfied_content_range(b""), None);
    }
}
