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

/// Added to every object response: an object opened as a document (an `.svg` or `.html` a
/// bucket writer uploaded) runs no script, loads nothing and gets an opaque origin, so it cannot
/// act on the gateway's origin. Embedding it with `<img>` is unaffected.
pub const OBJECT_CSP: (&str, &str) = (
    "content-security-policy",
    "default-src 'none'; style-src 'unsafe-inline'; sandbox",
);

pub type HeaderList = Vec<(String, Vec<u8>)>;

/// A header list from name/value pairs.
pub fn list(pairs: &[(&str, &str)]) -> HeaderList {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect()
}

/// The first value of a header (names compared case-insensitively), if it is UTF-8. A plain
/// scan, not `HeaderMap::get`, which would link http's table of standard headers (the size budget).
pub fn value<'a>(list: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

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

/// A request's `If-Range`, which the gateway checks itself (see `plan_request_headers`).
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct IfRange {
    pub validator: String,
}

impl IfRange {
    /// Whether MinIO's partial answer is of the representation the client named. MinIO has
    /// checked `If-Match`/`If-Unmodified-Since` already; this also holds a date to the exact
    /// match RFC 9110 asks for, where `If-Unmodified-Since` also passes older objects.
    pub fn matches(&self, response_headers: &[(String, Vec<u8>)]) -> bool {
        let value = |name: &str| {
            response_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| std::str::from_utf8(v).ok())
        };
        if_range_matches(&self.validator, value("etag"), value("last-modified"))
    }

    /// The request again for the whole object: without the range and the precondition that
    /// stood for `If-Range`.
    pub fn whole(forwarded: &[(String, Vec<u8>)]) -> HeaderList {
        forwarded
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "range" | "if-match" | "if-unmodified-since"))
            .cloned()
            .collect()
    }
}

/// The client's headers that go to MinIO, and the `If-Range` the gateway must check.
///
/// MinIO ignores `If-Range` and answers a stale validator with a part of the *new* object,
/// which RFC 9110 §13.1.5 forbids. Fetching the whole object and cutting the range out here
/// would let a client that asks for one byte cost MinIO the whole object. So the validator goes
/// with the `Range` as a precondition MinIO does evaluate, `If-Match` for an entity tag and
/// `If-Unmodified-Since` for a date: a current validator gets its 206 straight from MinIO, and a
/// 412 (or a 206 of another representation, see `IfRange::matches`) means the client's copy is
/// stale, and the gateway asks once more for the whole object. A weak tag never matches
/// (strong comparison), so then the range is not sent at all.
pub fn plan_request_headers(incoming: &[(String, Vec<u8>)]) -> (HeaderList, Option<IfRange>) {
    let find = |wanted: &str| {
        incoming
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .and_then(|(_, v)| String::from_utf8(v.clone()).ok())
    };
    let if_range = match (find("range"), find("if-range")) {
        (Some(_), Some(validator)) => Some(validator.trim().to_string()),
        _ => None,
    };
    // RFC 9110 §13.1.3: with If-None-Match, If-Modified-Since is ignored. Forwarding both lets a
    // replica that still has an old copy answer 304 by date to a client whose ETag is stale.
    let has_if_none_match = find("if-none-match").is_some();
    let weak = if_range.as_deref().is_some_and(|v| v.starts_with("W/"));
    let mut forwarded: HeaderList = incoming
        .iter()
        .filter(|(name, _)| {
            FORWARDED_REQUEST_HEADERS
                .iter()
                .any(|f| name.eq_ignore_ascii_case(f))
        })
        // If-Range alone means nothing; with Range it becomes a precondition below.
        .filter(|(name, _)| !name.eq_ignore_ascii_case("if-range"))
        .filter(|(name, _)| !(weak && name.eq_ignore_ascii_case("range")))
        .filter(|(name, _)| !(has_if_none_match && name.eq_ignore_ascii_case("if-modified-since")))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    match if_range {
        Some(validator) if !weak => {
            let precondition = if validator.starts_with('"') {
                "if-match"
            } else {
                "if-unmodified-since"
            };
            forwarded.push((precondition.into(), validator.clone().into_bytes()));
            (forwarded, Some(IfRange { validator }))
        }
        _ => (forwarded, None),
    }
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
    // RFC 9110 §14.1.1: positions are 1*DIGIT, with nothing inside or around them. MinIO ignores
    // anything else (a whole 200), so a cache hit must too, or hit and miss would differ.
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
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

/// What a client's `Range` does to a whole representation the gateway holds (an edge-cache entry).
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

/// Cuts the client's `Range` out of a whole response of `length` bytes with these headers, as
/// MinIO would have: a range it cannot parse is ignored (the whole object), one that misses the
/// object is a 416. Used for edge-cache hits.
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
    out.push((OBJECT_CSP.0.into(), OBJECT_CSP.1.into()));
    out
}

/// The `Cache-Control` an object's answer gets from `default_cache_control`: only for 200, 206
/// and 304, and only when MinIO sent none, so an object's own metadata always wins.
pub fn default_cache_control<'a>(
    status: u16,
    list: &[(String, Vec<u8>)],
    default: Option<&'a str>,
) -> Option<&'a str> {
    default.filter(|_| matches!(status, 200 | 206 | 304) && value(list, "cache-control").is_none())
}

/// A 403 whose S3 error code says MinIO refused the gateway's own credentials (unknown or expired
/// access key, a session token it no longer accepts, a wrong secret) rather than this object:
/// the gateway is broken for every key, so the client gets a 502, not the 404 a forbidden object
/// gets. MinIO answers an expired session token with `InvalidAccessKeyId`
/// (`checkClaimsFromToken`); AWS says `ExpiredToken`.
pub fn credentials_rejected(status: u16, code: &str) -> bool {
    status == 403
        && matches!(
            code,
            "InvalidAccessKeyId"
                | "InvalidTokenId"
                | "InvalidToken"
                | "ExpiredToken"
                | "TokenRefreshRequired"
                | "SignatureDoesNotMatch"
        )
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
            ["range", "if-none-match", "if-match"],
            "If-Range becomes If-Match; If-Modified-Since yields to If-None-Match"
        );
        let plain =
            forwarded_request_headers(&list(&[("Range", "bytes=0-9"), ("If-None-Match", "\"a\"")]));
        assert_eq!(get(&plain, "range"), Some("bytes=0-9"));
        assert_eq!(plain.len(), 2);
    }

    #[test]
    fn if_modified_since_is_dropped_when_if_none_match_decides() {
        let both = plan_request_headers(&list(&[
            ("If-None-Match", "\"a\""),
            ("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]))
        .0;
        assert_eq!(get(&both, "if-none-match"), Some("\"a\""));
        assert_eq!(get(&both, "if-modified-since"), None);
        let alone = plan_request_headers(&list(&[(
            "If-Modified-Since",
            "Sun, 06 Nov 1994 08:49:37 GMT",
        )]))
        .0;
        assert!(get(&alone, "if-modified-since").is_some());
    }

    #[test]
    fn if_range_goes_to_minio_as_a_precondition_with_the_range() {
        let plan = |pairs: &[(&str, &str)]| plan_request_headers(&list(pairs));
        let (forwarded, if_range) = plan(&[("Range", "bytes=5-"), ("If-Range", "\"e\"")]);
        assert_eq!(
            forwarded,
            list(&[("range", "bytes=5-"), ("if-match", "\"e\"")])
        );
        assert_eq!(if_range.unwrap().validator, "\"e\"");

        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        let (forwarded, if_range) = plan(&[("Range", "bytes=5-"), ("If-Range", date)]);
        assert_eq!(
            forwarded,
            list(&[("range", "bytes=5-"), ("if-unmodified-since", date)])
        );
        assert!(if_range.is_some());

        let (forwarded, if_range) = plan(&[("Range", "bytes=5-"), ("If-Range", "W/\"e\"")]);
        assert!(
            forwarded.is_empty() && if_range.is_none(),
            "a weak validator never matches: the whole object, without the range"
        );

        let (forwarded, if_range) = plan(&[("If-Range", "\"e\"")]);
        assert!(
            forwarded.is_empty() && if_range.is_none(),
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
            // Not 1*DIGIT: MinIO ignores these, so the gateway and its cache must too.
            "bytes=+8-",
            "bytes=-+5",
            "bytes= 4-",
            "bytes=4 -9",
            "bytes=4- 9",
            "bytes=0x10-",
            "bytes=-99999999999999999999999",
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
    fn if_range_matches_only_the_named_representation() {
        let partial = list(&[
            ("etag", "\"e\""),
            ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ]);
        let by = |validator: &str| IfRange {
            validator: validator.into(),
        };
        assert!(by("\"e\"").matches(&partial));
        assert!(by("Wed, 21 Oct 2015 07:28:00 GMT").matches(&partial));
        assert!(!by("\"stale\"").matches(&partial));
        assert!(
            !by("Thu, 22 Oct 2015 07:28:00 GMT").matches(&partial),
            "If-Unmodified-Since passes an older object; If-Range needs the exact date"
        );
        let forwarded = list(&[
            ("range", "bytes=0-0"),
            ("if-match", "\"e\""),
            ("if-unmodified-since", "x"),
            ("if-none-match", "\"n\""),
        ]);
        assert_eq!(
            IfRange::whole(&forwarded),
            list(&[("if-none-match", "\"n\"")])
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
        assert_eq!(get(&out, "content-security-policy"), Some(OBJECT_CSP.1));
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
    fn the_default_cache_control_fills_in_only_for_objects_without_one() {
        let default = Some("public, max-age=60");
        let none = list(&[("etag", "\"e\"")]);
        let own = list(&[("Cache-Control", "no-cache")]);
        for status in [200, 206, 304] {
            assert_eq!(default_cache_control(status, &none, default), default);
            assert_eq!(
                default_cache_control(status, &own, default),
                None,
                "MinIO's wins"
            );
        }
        assert_eq!(default_cache_control(200, &none, None), None);
        for status in [204, 404, 416, 502] {
            assert_eq!(
                default_cache_control(status, &none, default),
                None,
                "{status}"
            );
        }
    }

    #[test]
    fn statuses_map_to_gateway_outcomes() {
        assert_eq!(classify(200), Outcome::PassThrough);
        assert_eq!(classify(206), Outcome::PassThrough);
        assert_eq!(classify(304), Outcome::PassThrough);
        assert_eq!(classify(416), Outcome::RangeNotSatisfiable);
        assert_eq!(classify(404), Outcome::NotFound);
        assert_eq!(classify(403), Outcome::NotFound);
        assert!(
            !credentials_rejected(403, "AccessDenied"),
            "a forbidden object stays a 404"
        );
        for code in [
            "InvalidAccessKeyId",
            "InvalidTokenId",
            "ExpiredToken",
            "SignatureDoesNotMatch",
        ] {
            assert!(credentials_rejected(403, code), "{code}");
            assert!(!credentials_rejected(400, code), "{code}");
        }
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
