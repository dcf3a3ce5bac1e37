//! The access log: one JSON object per request, on its own line of the component's stdout (the
//! gateway's own error lines go to stderr). Pure; `gateway`, `upstream` and `edge_cache` fill a
//! [`Record`] in as the request is answered, and `respond` prints it as the answer's head goes
//! to the host.
//!
//! What a line may hold is chosen here and nowhere else: the object key, never the query string
//! (where presigned URLs carry signatures and credentials), and no header but the request id.

/// The header a request id arrives in and every answer carries.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest incoming id echoed; the usual ones (UUIDs, 32 hex digits, W3C trace ids) are shorter.
const MAX_ID_LEN: usize = 128;

/// What a request was for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    #[default]
    Object,
    Page,
    Health,
    /// A CORS preflight or any other method, answered without MinIO.
    Other,
    /// A path that is not a valid key (400).
    Invalid,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Object => "object",
            Route::Page => "page",
            Route::Health => "health",
            Route::Other => "other",
            Route::Invalid => "invalid",
        }
    }
}

/// One request's line, filled in as it is answered.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// When the request arrived, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub id: String,
    pub method: String,
    pub route: Route,
    pub key: Option<String>,
    pub status: u16,
    /// The answer's body length as its head declares it (0 for HEAD); `None` for a streamed body
    /// of unknown length.
    pub bytes: Option<u64>,
    /// MinIO's status, `None` when MinIO was not asked or gave no answer.
    pub upstream_status: Option<u16>,
    /// Time spent waiting for MinIO's answer heads, over every attempt and request.
    pub upstream_ns: Option<u64>,
    /// The edge cache's verdict (`hit`, `revalidated`, `stale`, `miss`) when it answered.
    pub cache: Option<&'static str>,
    /// Whether a request to MinIO was sent a second time (see `retry`).
    pub retried: bool,
}

impl Record {
    /// Adds one wait for MinIO: its status (`None`: no answer) and how long it took.
    pub fn upstream(&mut self, status: Option<u16>, elapsed_ns: u64) {
        self.upstream_status = status;
        self.upstream_ns = Some(self.upstream_ns.unwrap_or(0) + elapsed_ns);
    }

    /// The line, without its newline; `duration_ns` is from the request's arrival until its
    /// answer's head went to the host, with the body complete unless it streams.
    pub fn line(&self, duration_ns: u64) -> String {
        let time = rfc3339(self.time_ms);
        let fields = [
            ("time", Value::Str(&time)),
            ("id", Value::Str(&self.id)),
            ("method", Value::Str(&self.method)),
            ("route", Value::Str(self.route.name())),
            ("key", self.key.as_deref().map_or(Value::Null, Value::Str)),
            ("status", Value::Number(u64::from(self.status))),
            ("bytes", self.bytes.map_or(Value::Null, Value::Number)),
            ("ms", Value::Ms(duration_ns)),
            (
                "upstream_status",
                (self.upstream_status).map_or(Value::Null, |s| Value::Number(s.into())),
            ),
            (
                "upstream_ms",
                self.upstream_ns.map_or(Value::Null, Value::Ms),
            ),
            ("cache", self.cache.map_or(Value::Null, Value::Str)),
            ("retried", Value::Bool(self.retried)),
        ];
        let mut out = String::with_capacity(320);
        for (i, (name, value)) in fields.into_iter().enumerate() {
            out.push(if i == 0 { '{' } else { ',' });
            push_str(&mut out, name);
            out.push(':');
            match value {
                Value::Null => out.push_str("null"),
                Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::Ms(ns) => {
                    // The microseconds within the millisecond, padded to three digits.
                    let micros = (1_000 + ns / 1_000 % 1_000).to_string();
                    out.push_str(&(ns / 1_000_000).to_string());
                    out.push('.');
                    out.push_str(&micros[1..]);
                }
                Value::Str(s) => push_str(&mut out, s),
            }
        }
        out.push('}');
        out
    }
}

/// A field's value: the few JSON types a line holds.
enum Value<'a> {
    Null,
    Bool(bool),
    Number(u64),
    /// A duration in nanoseconds, written as milliseconds with three decimals.
    Ms(u64),
    Str(&'a str),
}

/// The client's `X-Request-Id` if it is well formed, so that it is safe in a header and a log
/// line and cannot be mistaken for something else: 1 to 128 of `A-Z a-z 0-9 - _ . : + = / @`.
pub fn incoming_id(value: Option<&str>) -> Option<&str> {
    value.filter(|v| {
        (1..=MAX_ID_LEN).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:+=/@".contains(&b))
    })
}

/// A new id: 128 random bits as 32 lowercase hex digits.
pub fn new_id(high: u64, low: u64) -> String {
    format!("{high:016x}{low:016x}")
}

/// A JSON string: quotes, backslashes and control characters escaped; the rest as it is.
fn push_str(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `2026-12-07T06:35:29.123Z` (UTC), from milliseconds since the Unix epoch.
fn rfc3339(unix_ms: u64) -> String {
    let days = (unix_ms / 86_400_000) as i64;
    let ms_of_day = unix_ms % 86_400_000;
    // Howard Hinnant's days-to-civil: eras of 400 years from 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            time_ms: 1_796_625_329_123,
            id: "abc-1".into(),
            method: "GET".into(),
            route: Route::Object,
            key: Some("animation.gif".into()),
            status: 200,
            bytes: Some(1234),
            ..Record::default()
        }
    }

    #[test]
    fn a_line_has_every_field_in_a_fixed_order() {
        let mut r = record();
        r.upstream(Some(200), 2_345_678);
        r.cache = Some("miss");
        assert_eq!(
            r.line(3_004_999),
            r#"{"time":"2026-12-07T06:35:29.123Z","id":"abc-1","method":"GET","route":"object","key":"animation.gif","status":200,"bytes":1234,"ms":3.004,"upstream_status":200,"upstream_ms":2.345,"cache":"miss","retried":false}"#
        );
    }

    #[test]
    fn what_did_not_happen_is_null() {
        let r = Record {
            route: Route::Health,
            key: None,
            bytes: None,
            ..record()
        };
        let line = r.line(0);
        assert!(line.contains(r#""route":"health","key":null,"status":200,"bytes":null,"ms":0.000,"upstream_status":null,"upstream_ms":null,"cache":null"#), "{line}");
    }

    #[test]
    fn upstream_waits_add_up_and_the_last_status_counts() {
        let mut r = record();
        r.upstream(None, 1_000_000);
        r.upstream(Some(503), 500_000);
        assert_eq!(
            (r.upstream_status, r.upstream_ns),
            (Some(503), Some(1_500_000))
        );
    }

    #[test]
    fn keys_and_methods_are_escaped() {
        let r = Record {
            key: Some("a\"b\\c\nd\u{1}é/ü".into()),
            method: "GE\"T".into(),
            ..record()
        };
        let line = r.line(0);
        assert!(line.contains(r#""method":"GE\"T""#), "{line}");
        assert!(
            line.contains(r#""key":"a\"b\\c\u000ad\u0001é/ü""#),
            "{line}"
        );
    }

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(rfc3339(1_709_164_800_001), "2024-02-29T00:00:00.001Z");
    }

    #[test]
    fn only_well_formed_ids_are_echoed() {
        let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(incoming_id(Some(uuid)), Some(uuid));
        assert_eq!(
            incoming_id(Some("trace:1/2@a+b=c_d.e")),
            Some("trace:1/2@a+b=c_d.e")
        );
        for bad in [
            "",
            "has space",
            "quote\"",
            "new\nline",
            "é",
            "a,b",
            &"x".repeat(129),
        ] {
            assert_eq!(incoming_id(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(incoming_id(Some(&"x".repeat(128))).map(str::len), Some(128));
        assert_eq!(incoming_id(None), None);
    }

    #[test]
    fn new_ids_are_32_hex_digits() {
        assert_eq!(new_id(0, 1), "00000000000000000000000000000001");
        assert_eq!(new_id(u64::MAX, 0xab), "ffffffffffffffff00000000000000ab");
    }
}
