//! The opt-in edge cache's rules: its settings, where an object lives in the key-value store, the
//! stored entry, freshness, an instance's own copies of entries (`Memo`), and how a request is
//! answered from an entry (RFC 9110 ranges and conditionals). Pure: `edge_cache` does the store
//! reads and writes and the requests to MinIO (through `upstream`); `gateway` offers it every
//! object request and takes the uncached way when it declines.
//!
//! The cache is direct-mapped: an object's identity (endpoint, bucket, key) hashes to one of a
//! fixed number of slots, and the slot holds at most one object of at most `MAX_OBJECT_BYTES`.
//! So the total size is bounded by `slots × MAX_OBJECT_BYTES` without an index to keep
//! consistent across concurrent instances, and a collision only evicts. Every entry carries the
//! full identity and is served only to a request with the same identity: keys never mix.

use crate::headers::{self, value as header, DeferredOutcome, HeaderList};

/// Larger objects are not cached (and Spin's key-value API documents values up to 1 MB).
pub const MAX_OBJECT_BYTES: u64 = 1_000_000;

/// What the `edge_cache` variable turns on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long an entry is served without asking MinIO; after that it is revalidated with
    /// `If-None-Match`.
    pub ttl_ms: u64,
    /// Upper bound of the bytes the cache holds; sets the number of slots.
    pub max_total_bytes: u64,
    /// How long past its ttl an entry may still be served while MinIO fails (an error, a 5xx or
    /// no answer in `s3_timeout_ms`), marked `stale`; 0 never serves one.
    pub stale_if_error_ms: u64,
}

impl Settings {
    pub fn slots(&self) -> u64 {
        (self.max_total_bytes / MAX_OBJECT_BYTES).max(1)
    }
}

/// Parses the `edge_cache` variable: `off` (or empty), or
/// `ttl=<duration> [max=<size>] [stale_if_error=<duration>]` with durations like `500ms`, `5s`,
/// `2m` and sizes like `64MiB`, `512KiB`, `1GiB` (default 64MiB; stale_if_error 0, never).
pub fn parse_settings(value: &str) -> Result<Option<Settings>, &'static str> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let mut ttl_ms = None;
    let mut max_total_bytes = 64 << 20;
    let mut stale_if_error_ms = 0;
    for part in value.split([' ', ',']).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("ttl", v)) => {
                ttl_ms = Some(parse_duration_ms(v).ok_or("ttl must be like 500ms, 5s or 2m")?)
            }
            Some(("max", v)) => {
                max_total_bytes = parse_size(v).ok_or("max must be like 512KiB, 64MiB or 1GiB")?
            }
            Some(("stale_if_error", v)) => {
                stale_if_error_ms = parse_duration_ms(v)
                    .filter(|ms| *ms <= 86_400_000)
                    .ok_or("stale_if_error must be a duration up to 24h, like 5m")?
            }
            _ => {
                return Err(
                    "must be `off` or `ttl=<duration> [max=<size>] [stale_if_error=<duration>]`",
                )
            }
        }
    }
    let ttl_ms = ttl_ms.ok_or("needs ttl=<duration>")?;
    if !(1..=86_400_000).contains(&ttl_ms) {
        return Err("ttl must be between 1ms and 24h");
    }
    if max_total_bytes < MAX_OBJECT_BYTES {
        return Err("max must be at least 1MB (one object)");
    }
    Ok(Some(Settings {
        ttl_ms,
        max_total_bytes,
        stale_if_error_ms,
    }))
}

fn parse_duration_ms(v: &str) -> Option<u64> {
    let split = v.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = v[..split].parse().ok()?;
    let unit = match &v[split..] {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(unit)
}

fn parse_size(v: &str) -> Option<u64> {
    let split = v.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = v[..split].parse().ok()?;
    let unit: u64 = match &v[split..] {
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// A client's `Cache-Control: no-cache` (a browser's reload, say): its answer comes from MinIO's
/// word on the entry, not from the entry's ttl (RFC 9111 §5.2.1.4).
pub fn client_wants_revalidation(request_headers: &[(String, Vec<u8>)]) -> bool {
    header(request_headers, "cache-control").is_some_and(|v| {
        v.split(',').any(|d| {
            d.split('=')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("no-cache")
        })
    })
}

/// Everything that decides which object a request names: the store's URL and the object path.
pub fn identity(endpoint_url: &str, bucket: &str, key: &str) -> String {
    format!("{endpoint_url}{}", s3_request::object_path(bucket, key))
}

/// The key-value key of the slot an identity maps to (FNV-1a: stable across builds and hosts).
pub fn slot_key(identity: &str, settings: &Settings) -> String {
    let hash = identity.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("gif-gateway/edge-cache/v1/{}", hash % settings.slots())
}

/// One cached object: the response headers the client gets for a 200 (as built by
/// `headers::response_headers`) and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub identity: String,
    /// When MinIO last confirmed this representation (ms since the Unix epoch).
    pub checked_at_ms: u64,
    pub headers: HeaderList,
    pub body: Vec<u8>,
}

const MAGIC: &[u8; 4] = b"GGC1";

impl Entry {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, self.identity.as_bytes());
        out.extend_from_slice(&self.checked_at_ms.to_be_bytes());
        out.extend_from_slice(&(self.headers.len() as u32).to_be_bytes());
        for (name, value) in &self.headers {
            put_bytes(&mut out, name.as_bytes());
            put_bytes(&mut out, value);
        }
        out.extend_from_slice(&self.body);
        out
    }

    /// `None` for anything that is not a complete entry of this format.
    pub fn decode(bytes: &[u8]) -> Option<Entry> {
        let mut rest = bytes.strip_prefix(MAGIC)?;
        let identity = String::from_utf8(take_bytes(&mut rest)?.to_vec()).ok()?;
        let checked_at_ms = u64::from_be_bytes(take(&mut rest, 8)?.try_into().ok()?);
        let count = u32::from_be_bytes(take(&mut rest, 4)?.try_into().ok()?);
        let mut headers = Vec::new();
        for _ in 0..count {
            let name = String::from_utf8(take_bytes(&mut rest)?.to_vec()).ok()?;
            headers.push((name, take_bytes(&mut rest)?.to_vec()));
        }
        let entry = Entry {
            identity,
            checked_at_ms,
            headers,
            body: rest.to_vec(),
        };
        // A body that does not match its own Content-Length is a torn or foreign value.
        (crate::body::content_length(&entry.headers) == Some(entry.body.len() as u64))
            .then_some(entry)
    }

    pub fn is_fresh(&self, now_ms: u64, settings: &Settings) -> bool {
        self.age_ms(now_ms).is_some_and(|age| age < settings.ttl_ms)
    }

    /// Whether a stale entry may answer for a MinIO that failed: within `stale_if_error` of the
    /// end of its ttl.
    pub fn may_serve_stale(&self, now_ms: u64, settings: &Settings) -> bool {
        self.age_ms(now_ms)
            .is_some_and(|age| age < settings.ttl_ms + settings.stale_if_error_ms)
    }

    /// `None` for an entry from the future (a clock that went back): never fresh, never served stale.
    fn age_ms(&self, now_ms: u64) -> Option<u64> {
        now_ms.checked_sub(self.checked_at_ms)
    }

    pub fn etag(&self) -> Option<&str> {
        header(&self.headers, "etag")
    }

    /// RFC 9111 §4.3.4: a 304 to a revalidation updates the stored headers with the ones it
    /// carries (a metadata-only change keeps the ETag: a new Cache-Control or Content-Type), all
    /// but the body's framing. `not_modified` is MinIO's raw 304 head; only headers the gateway
    /// passes at all are taken. Whether the entry may still be kept is `cacheable` of the result.
    pub fn refresh(&mut self, not_modified: &[(String, Vec<u8>)], key: &str) {
        for (name, value) in not_modified {
            let name = name.to_ascii_lowercase();
            if !headers::PASSED_RESPONSE_HEADERS.contains(&name.as_str())
                || matches!(name.as_str(), "content-length" | "content-range")
            {
                continue;
            }
            let value = if name == "content-type" {
                headers::effective_content_type(Some(value), key).into_bytes()
            } else {
                value.clone()
            };
            self.headers.retain(|(n, _)| *n != name);
            self.headers.push((name, value));
        }
    }
}

/// A component instance's own copies of the entries it read from or wrote to the store, so that
/// a hit on one needs no store read. Under Spin 4 an instance serves up to 128 requests, and
/// answering without any host call on the way is what lets a hit's head and body leave together
/// (a store read as the last step before answering stalls the response ~40 ms on a kept-alive
/// connection, see docs/benchmark.md). A copy is fresh under the same rule as its store entry, so
/// nothing is served longer than before. Bounded: past `MEMO_LIMIT` bytes it starts over.
#[derive(Default)]
pub struct Memo {
    entries: std::collections::HashMap<String, std::rc::Rc<Entry>>,
    bytes: usize,
}

/// The most bytes of bodies an instance keeps copies of.
pub const MEMO_LIMIT: usize = 4 << 20;

impl Memo {
    pub fn get(&self, slot: &str) -> Option<std::rc::Rc<Entry>> {
        self.entries.get(slot).cloned()
    }

    pub fn put(&mut self, slot: &str, entry: std::rc::Rc<Entry>) {
        self.remove(slot);
        if self.bytes + entry.body.len() > MEMO_LIMIT {
            self.entries.clear();
            self.bytes = 0;
        }
        self.bytes += entry.body.len();
        self.entries.insert(slot.to_string(), entry);
    }

    pub fn remove(&mut self, slot: &str) {
        if let Some(old) = self.entries.remove(slot) {
            self.bytes -= old.body.len();
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_bytes<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = u32::from_be_bytes(take(rest, 4)?.try_into().ok()?) as usize;
    take(rest, len)
}

/// Whether a 200 from MinIO may be stored: small enough, with a validator to revalidate it by,
/// and not marked for private caches only or not to be stored at all.
pub fn cacheable(status: u16, response_headers: &[(String, Vec<u8>)]) -> bool {
    let small =
        crate::body::content_length(response_headers).is_some_and(|n| n <= MAX_OBJECT_BYTES);
    let forbidden = header(response_headers, "cache-control").is_some_and(|cc| {
        cc.split(',')
            .map(|d| d.trim().to_ascii_lowercase())
            .any(|d| d == "no-store" || d == "private" || d.starts_with("private="))
    });
    status == 200 && small && !forbidden && header(response_headers, "etag").is_some()
}

/// What the client gets for a request answered from an entry: a 304, or the entry's body whole
/// or cut by the client's `Range` (the same outcomes as a range the gateway applies itself).
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// 304 with these headers, no body.
    NotModified(HeaderList),
    /// 200, 206 or 416, decided by `headers::cut_range`.
    Body(DeferredOutcome),
}

/// Answers a GET or HEAD from an entry, as MinIO would have for the same request headers, plus
/// `If-Range` (which MinIO ignores, see `headers::plan_request_headers`).
pub fn answer(entry: &Entry, request: &[(String, Vec<u8>)]) -> Answer {
    let etag = entry.etag();
    let last_modified = header(&entry.headers, "last-modified");
    if not_modified(request, etag, last_modified) {
        let kept = entry
            .headers
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.as_str(),
                    "content-length" | "content-type" | "content-range"
                )
            })
            .cloned()
            .collect();
        return Answer::NotModified(kept);
    }
    let Some(range) = header(request, "range") else {
        return Answer::Body(DeferredOutcome::Full);
    };
    if let Some(if_range) = header(request, "if-range") {
        if !headers::if_range_matches(if_range, etag, last_modified) {
            return Answer::Body(DeferredOutcome::Full);
        }
    }
    Answer::Body(headers::cut_range(
        range,
        &entry.headers,
        entry.body.len() as u64,
    ))
}

/// RFC 9110 §13.2.2: `If-None-Match` decides when present (weak comparison, `*` matches);
/// otherwise `If-Modified-Since` with a valid date not older than Last-Modified means 304.
pub fn not_modified(
    request: &[(String, Vec<u8>)],
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> bool {
    if let Some(inm) = header(request, "if-none-match") {
        let Some(etag) = etag else { return false };
        let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
        return inm
            .split(',')
            .any(|t| t.trim() == "*" || opaque(t) == opaque(etag));
    }
    match (
        header(request, "if-modified-since").and_then(http_date),
        last_modified.and_then(http_date),
    ) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// Seconds since the Unix epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only
/// date format MinIO sends; other formats are treated as invalid, so the header is ignored.
/// Every field is plain digits of its fixed width (a year is 4 digits, so 1..9999): a hostile
/// value cannot overflow the arithmetic below.
pub fn http_date(value: &str) -> Option<i64> {
    fn digits(text: &str, width: std::ops::RangeInclusive<usize>) -> Option<i64> {
        (width.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    }
    let parts: Vec<&str> = value.trim().split(' ').collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year) = (digits(day, 1..=2)?, digits(year, 4..=4)?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| digits(p, 2..=2))
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || year == 0 || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm, proleptic Gregorian calendar).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3_600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::headers::list;

    fn entry(body: &[u8]) -> Entry {
        Entry {
            identity: identity("http://127.0.0.1:9000", "gifs", "cat.gif"),
            checked_at_ms: 1_000,
            headers: list(&[
                ("content-length", &body.len().to_string()),
                ("etag", "\"abc\""),
                ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ("content-type", "image/gif"),
                ("x-content-type-options", "nosniff"),
            ]),
            body: body.to_vec(),
        }
    }

    const S: Settings = Settings {
        ttl_ms: 5_000,
        max_total_bytes: 64 << 20,
        stale_if_error_ms: 0,
    };

    #[test]
    fn settings_parse_and_reject_nonsense() {
        assert_eq!(parse_settings(""), Ok(None));
        assert_eq!(parse_settings("off"), Ok(None));
        assert_eq!(
            parse_settings("ttl=5s"),
            Ok(Some(Settings {
                ttl_ms: 5_000,
                max_total_bytes: 64 << 20,
                stale_if_error_ms: 0
            }))
        );
        assert_eq!(
            parse_settings("ttl=250ms max=8MiB"),
            Ok(Some(Settings {
                ttl_ms: 250,
                max_total_bytes: 8 << 20,
                stale_if_error_ms: 0
            }))
        );
        assert_eq!(
            parse_settings("ttl=5s stale_if_error=5m")
                .unwrap()
                .unwrap()
                .stale_if_error_ms,
            300_000
        );
        assert_eq!(
            parse_settings("ttl=2m,max=1GiB").unwrap().unwrap().slots(),
            (1u64 << 30) / MAX_OBJECT_BYTES
        );
        for bad in [
            "on",
            "ttl=5",
            "ttl=5x",
            "ttl=0s",
            "ttl=25h",
            "max=64MiB",
            "ttl=5s max=10KiB",
            "ttl=5s foo=1",
            "ttl=5s stale_if_error=5",
            "ttl=5s stale_if_error=25h",
        ] {
            assert!(parse_settings(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identities_differ_for_every_part_and_slots_stay_in_bounds() {
        let a = identity("http://127.0.0.1:9000", "gifs", "a.gif");
        for other in [
            identity("http://127.0.0.1:9001", "gifs", "a.gif"),
            identity("http://127.0.0.1:9000", "gifz", "a.gif"),
            identity("http://127.0.0.1:9000", "gifs", "b.gif"),
            identity("http://127.0.0.1:9000", "gifs", "a.gif/"),
        ] {
            assert_ne!(a, other);
        }
        let small = Settings {
            ttl_ms: 1,
            max_total_bytes: 4 * MAX_OBJECT_BYTES,
            stale_if_error_ms: 0,
        };
        for i in 0..100 {
            let key = slot_key(&identity("http://m", "gifs", &format!("{i}.gif")), &small);
            let n: u64 = key.rsplit('/').next().unwrap().parse().unwrap();
            assert!(n < 4, "{key}");
        }
        assert_eq!(slot_key(&a, &S), slot_key(&a, &S), "stable");
    }

    #[test]
    fn entries_round_trip_and_torn_ones_are_rejected() {
        let e = entry(b"GIF89a...");
        let bytes = e.encode();
        assert_eq!(Entry::decode(&bytes), Some(e.clone()));
        assert_eq!(Entry::decode(&bytes[..bytes.len() - 1]), None, "short body");
        assert_eq!(Entry::decode(&bytes[..10]), None);
        assert_eq!(Entry::decode(b"GGC2whatever"), None);
        assert_eq!(Entry::decode(&[]), None);
    }

    #[test]
    fn freshness_follows_the_ttl() {
        let e = entry(b"x");
        assert!(e.is_fresh(1_000, &S));
        assert!(e.is_fresh(5_999, &S));
        assert!(!e.is_fresh(6_000, &S));
        assert!(
            !e.is_fresh(999, &S),
            "a clock that went back does not make an entry fresh"
        );
    }

    #[test]
    fn stale_entries_serve_only_within_stale_if_error() {
        let e = entry(b"x");
        assert!(!e.may_serve_stale(6_000, &S), "off by default");
        let s = Settings {
            stale_if_error_ms: 10_000,
            ..S
        };
        assert!(e.may_serve_stale(15_999, &s));
        assert!(!e.may_serve_stale(16_000, &s));
        assert!(!e.may_serve_stale(999, &s));
    }

    #[test]
    fn a_client_no_cache_asks_for_revalidation() {
        for value in ["no-cache", "max-age=0, No-Cache", "no-cache=\"set-cookie\""] {
            assert!(
                client_wants_revalidation(&list(&[("Cache-Control", value)])),
                "{value}"
            );
        }
        for value in ["max-age=60", "no-store-ish", "private"] {
            assert!(
                !client_wants_revalidation(&list(&[("cache-control", value)])),
                "{value}"
            );
        }
        assert!(!client_wants_revalidation(&[]));
    }

    #[test]
    fn only_small_validated_shareable_200s_are_cacheable() {
        let ok = list(&[("content-length", "10"), ("etag", "\"e\"")]);
        assert!(cacheable(200, &ok));
        assert!(!cacheable(206, &ok));
        assert!(
            !cacheable(200, &list(&[("content-length", "10")])),
            "no validator"
        );
        assert!(!cacheable(
            200,
            &list(&[("content-length", "1000001"), ("etag", "\"e\"")])
        ));
        assert!(
            !cacheable(200, &list(&[("etag", "\"e\"")])),
            "unknown length"
        );
        for cc in [
            "no-store",
            "private",
            "max-age=60, Private",
            "private=\"set-cookie\"",
        ] {
            let mut h = ok.clone();
            h.push(("cache-control".into(), cc.as_bytes().to_vec()));
            assert!(!cacheable(200, &h), "{cc}");
        }
        let mut public = ok.clone();
        public.push(("cache-control".into(), b"public, max-age=60".to_vec()));
        assert!(cacheable(200, &public));
    }

    #[test]
    fn conditionals_are_answered_like_rfc_9110() {
        let e = entry(b"0123456789");
        let ask = |pairs: &[(&str, &str)]| answer(&e, &list(pairs));
        assert_eq!(ask(&[]), Answer::Body(DeferredOutcome::Full));
        let Answer::NotModified(h) = ask(&[("if-none-match", "\"zzz\", W/\"abc\"")]) else {
            panic!()
        };
        assert!(
            h.iter().any(|(n, _)| n == "etag") && !h.iter().any(|(n, _)| n == "content-length")
        );
        assert!(matches!(
            ask(&[("if-none-match", "*")]),
            Answer::NotModified(_)
        ));
        assert_eq!(
            ask(&[("if-none-match", "\"zzz\"")]),
            Answer::Body(DeferredOutcome::Full)
        );
        // If-None-Match decides even when If-Modified-Since would say 304.
        assert_eq!(
            ask(&[
                ("if-none-match", "\"zzz\""),
                ("if-modified-since", "Mon, 07 Nov 1994 00:00:00 GMT")
            ]),
            Answer::Body(DeferredOutcome::Full)
        );
        assert!(matches!(
            ask(&[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")]),
            Answer::NotModified(_)
        ));
        assert!(matches!(
            ask(&[("if-modified-since", "Mon, 07 Nov 1994 00:00:00 GMT")]),
            Answer::NotModified(_)
        ));
        assert_eq!(
            ask(&[("if-modified-since", "Sun, 06 Nov 1994 08:49:36 GMT")]),
            Answer::Body(DeferredOutcome::Full)
        );
        assert_eq!(
            ask(&[("if-modified-since", "yesterday")]),
            Answer::Body(DeferredOutcome::Full)
        );
    }

    #[test]
    fn ranges_are_cut_from_the_entry() {
        let e = entry(b"0123456789");
        let ask = |pairs: &[(&str, &str)]| answer(&e, &list(pairs));
        let Answer::Body(DeferredOutcome::Partial {
            first,
            last,
            headers,
        }) = ask(&[("range", "bytes=2-4")])
        else {
            panic!()
        };
        assert_eq!((first, last), (2, 4));
        let get = |n: &str| header(&headers, n).unwrap().to_string();
        assert_eq!(
            (get("content-length"), get("content-range")),
            ("3".into(), "bytes 2-4/10".into())
        );
        assert!(matches!(
            ask(&[("range", "bytes=-3")]),
            Answer::Body(DeferredOutcome::Partial {
                first: 7,
                last: 9,
                ..
            })
        ));
        assert_eq!(
            ask(&[("range", "bytes=10-")]),
            Answer::Body(DeferredOutcome::Unsatisfiable {
                content_range: "bytes */10".into()
            })
        );
        assert_eq!(
            ask(&[("range", "bytes=0-1,4-5")]),
            Answer::Body(DeferredOutcome::Full),
            "multiple ranges: whole body"
        );
        assert!(matches!(
            ask(&[("range", "bytes=0-0"), ("if-range", "\"abc\"")]),
            Answer::Body(DeferredOutcome::Partial { .. })
        ));
        assert_eq!(
            ask(&[("range", "bytes=0-0"), ("if-range", "\"old\"")]),
            Answer::Body(DeferredOutcome::Full)
        );
        assert_eq!(
            ask(&[("range", "bytes=0-0"), ("if-range", "W/\"abc\"")]),
            Answer::Body(DeferredOutcome::Full)
        );
    }

    #[test]
    fn a_304_refreshes_the_stored_headers_but_not_the_framing() {
        let mut e = entry(b"0123456789");
        let not_modified = list(&[
            ("ETag", "\"abc\""),
            ("Cache-Control", "no-store"),
            ("Content-Type", "image/webp"),
            ("Content-Length", "0"),
            ("X-Amz-Request-Id", "internal"),
        ]);
        e.refresh(&not_modified, "cat.gif");
        let value = |name: &str| header(&e.headers, name).map(str::to_string);
        assert_eq!(value("cache-control").as_deref(), Some("no-store"));
        assert_eq!(value("content-type").as_deref(), Some("image/webp"));
        assert_eq!(
            value("content-length").as_deref(),
            Some("10"),
            "the body is unchanged"
        );
        assert_eq!(value("x-amz-request-id"), None);
        assert_eq!(
            e.headers
                .iter()
                .filter(|(n, _)| n == "content-type")
                .count(),
            1
        );
        assert!(
            !cacheable(200, &e.headers),
            "no-store now: the entry must go"
        );
        assert_eq!(Entry::decode(&e.encode()), Some(e.clone()));
    }

    #[test]
    fn the_memo_is_bounded_and_replaces_per_slot() {
        use std::rc::Rc;
        let mut memo = Memo::default();
        let big = Rc::new(entry(&vec![7u8; MEMO_LIMIT / 2]));
        memo.put("a", big.clone());
        memo.put("a", big.clone());
        assert_eq!(memo.bytes, MEMO_LIMIT / 2, "a slot holds one copy");
        memo.put("b", big.clone());
        assert!(memo.get("a").is_some() && memo.get("b").is_some());
        memo.put("c", big.clone());
        assert!(memo.bytes <= MEMO_LIMIT);
        assert!(memo.get("c").is_some() && memo.get("a").is_none());
        memo.remove("c");
        assert_eq!((memo.bytes, memo.get("c")), (0, None));
    }

    #[test]
    fn http_dates_parse_to_epoch_seconds() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "",
            // Years outside 1..9999 and non-digits: rejected, never an overflow.
            "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Sun, 06 Nov 0000 08:49:37 GMT",
            "Sun, 06 Nov -001 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:+7 GMT",
        ] {
            assert_eq!(http_date(bad), None, "{bad}");
        }
    }
}
