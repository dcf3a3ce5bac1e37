//! The gateway's answers to the client: MinIO's answer relayed, bodies held whole or streamed,
//! and the gateway's own short texts.

use std::cell::RefCell;

use spin_sdk::wasip3::clocks::monotonic_clock;
use spin_sdk::wasip3::http::types::{ErrorCode, Fields, Response, Trailers};
use spin_sdk::wasip3::wit_bindgen::{self, FutureReader, StreamReader};
use spin_sdk::wasip3::wit_stream;

use crate::access_log::{Record, REQUEST_ID_HEADER};
use crate::body::{self, BodyPlan};
use crate::config::ConfigError;
use crate::headers::{self, HeaderList, Outcome};
use crate::upstream::{self, Body, Upstream};

/// How one request is answered, whichever answer it gets: without a body for HEAD, with the
/// headers its Origin earns (`cors`), and with `default_cache_control` where the object has no
/// Cache-Control of its own. They are added to the answer here, when it is made, and never to an
/// edge-cache entry: one origin's headers cannot reach another's request, and the edge cache
/// keeps to what MinIO says. `log` is the request's access-log line, filled in on the way and
/// printed as its head goes to the host.
pub struct Reply<'a> {
    pub head_only: bool,
    pub extra: HeaderList,
    pub default_cache_control: Option<&'a str>,
    pub log: RefCell<Record>,
    /// `access_log`: whether the line is printed (the id is sent either way).
    pub log_enabled: bool,
    /// The monotonic clock when the request arrived.
    pub started_ns: u64,
}

/// Turns MinIO's answer into the client's: pass-through with the allowed headers, 416 with its
/// Content-Range, or one of the gateway's short texts.
pub async fn relay(upstream: Upstream, key: &str, reply: &Reply<'_>) -> Response {
    let status = upstream.status;
    match headers::classify(status) {
        Outcome::PassThrough => {
            let headers = headers::response_headers(status, &upstream.headers, key);
            object(upstream, status, headers, reply).await
        }
        Outcome::RangeNotSatisfiable => {
            let error = upstream::read_error_body(upstream).await;
            range_not_satisfiable(headers::unsatisfied_content_range(&error), &[], reply).await
        }
        outcome => {
            let error = upstream::read_error_body(upstream).await;
            let code = s3_request::error_token(&error, "Code").unwrap_or("-");
            if headers::credentials_rejected(status, code) {
                eprintln!("gif-gateway: object store refused the gateway's credentials: {status} ({code}); check s3_access_key, s3_secret_key and s3_session_token (an expired or revoked session token is answered so)");
                return text(
                    502,
                    "object store refused the gateway's credentials\n",
                    &[],
                    reply,
                )
                .await;
            }
            eprintln!("gif-gateway: object store answered {status} ({code})");
            match outcome {
                Outcome::NotFound => text(404, "not found\n", &[], reply).await,
                Outcome::BadRequest => text(400, "invalid object key\n", &[], reply).await,
                _ => text(502, "object store error\n", &[], reply).await,
            }
        }
    }
}

/// An object's body: held whole when small (see `body`), streamed by the host when large.
async fn object(
    upstream: Upstream,
    status: u16,
    headers: HeaderList,
    reply: &Reply<'_>,
) -> Response {
    let length = body::content_length(&headers);
    match body::plan(length, !reply.head_only && headers::status_has_body(status)) {
        BodyPlan::Empty => complete(status, &headers, Vec::new(), reply).await,
        BodyPlan::Complete(length) => {
            match upstream::read_exactly(&mut upstream.body(), length).await {
                Ok(bytes) => complete(status, &headers, bytes, reply).await,
                Err(reason) => {
                    // Nothing has been sent yet, so the client can still get a clean error.
                    eprintln!("gif-gateway: reading the object failed: {reason}");
                    text(502, "object store error\n", &[], reply).await
                }
            }
        }
        BodyPlan::Stream => {
            // The host streams MinIO's body to the client by itself, with flat memory: the
            // component never touches the bytes. A transfer MinIO breaks off ends short of its
            // Content-Length, so the client sees an aborted response, not a short file.
            let Body { contents, trailers } = upstream.body();
            build(status, &headers, reply, Some(contents), trailers)
        }
    }
}

/// A response whose body is all in memory (empty for HEAD, 304 and the like).
pub async fn complete(
    status: u16,
    headers: &[(String, Vec<u8>)],
    bytes: Vec<u8>,
    reply: &Reply<'_>,
) -> Response {
    if bytes.is_empty() {
        return build(status, headers, reply, None, upstream::no_trailers());
    }
    let (mut writer, contents) = wit_stream::new::<u8>();
    let response = build(
        status,
        headers,
        reply,
        Some(contents),
        upstream::no_trailers(),
    );
    wit_bindgen::spawn(async move {
        let _ = writer.write_all(bytes).await;
    });
    // Lets the writer put its bytes on offer before the host gets the head (see `body`). Measured
    // without it too: neither way avoids every stall at -c1 (docs/benchmark.md).
    wit_bindgen::yield_async().await;
    response
}

fn build(
    status: u16,
    headers: &[(String, Vec<u8>)],
    reply: &Reply<'_>,
    contents: Option<StreamReader<u8>>,
    trailers: FutureReader<Result<Option<Trailers>, ErrorCode>>,
) -> Response {
    let mut record = reply.log.take();
    let default = headers::default_cache_control(status, headers, reply.default_cache_control);
    let mut all = [headers, &reply.extra].concat();
    all.extend(default.map(|v| ("cache-control".to_string(), v.as_bytes().to_vec())));
    all.push((REQUEST_ID_HEADER.into(), record.id.as_bytes().to_vec()));
    let fields = Fields::from_list(&all).unwrap_or_else(|err| {
        eprintln!("gif-gateway: dropping response headers the host refused: {err:?}");
        Fields::new()
    });
    record.status = status;
    record.bytes = match contents {
        Some(_) => body::content_length(headers),
        None => Some(0),
    };
    let (response, _sent) = Response::new(fields, contents, trailers);
    let _ = response.set_status_code(status);
    // Logged as the head goes to the host: neither host says reliably when, or whether, a body
    // it streams on by itself has reached the client (Spin 4.0 never resolves `_sent` for a
    // client that leaves mid-body; wasmtime 44 resolves it before the body has gone).
    if reply.log_enabled {
        print_line(record.line(monotonic_clock::now().saturating_sub(reply.started_ns)));
    }
    response
}

/// Writes an access-log line and its newline to stdout in one write. Not `println!`: std's
/// `Stdout` puts a line buffer, and 3 KB of code, in front of the same descriptor.
fn print_line(line: String) {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let mut bytes = line.into_bytes();
    bytes.push(b'\n');
    // SAFETY: descriptor 1 is stdout for the whole life of the instance; ManuallyDrop never
    // closes it.
    let mut stdout = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) });
    let _ = stdout.write_all(&bytes);
}

pub async fn range_not_satisfiable(
    content_range: Option<String>,
    extra: &[(&str, &str)],
    reply: &Reply<'_>,
) -> Response {
    let mut list: Vec<(&str, &str)> = content_range
        .iter()
        .map(|v| ("content-range", v.as_str()))
        .collect();
    list.extend_from_slice(extra);
    text(416, "range not satisfiable\n", &list, reply).await
}

pub async fn not_configured(err: &ConfigError, reply: &Reply<'_>) -> Response {
    eprintln!("gif-gateway: configuration error: {err}");
    text(500, "gateway is not configured\n", &[], reply).await
}

pub async fn upstream_unavailable(reason: &str, reply: &Reply<'_>) -> Response {
    eprintln!("gif-gateway: object store request failed: {reason}");
    text(502, "object store unavailable\n", &[], reply).await
}

/// One of the gateway's own short plain-text answers.
pub async fn text(status: u16, text: &str, extra: &[(&str, &str)], reply: &Reply<'_>) -> Response {
    let mut list = vec![
        ("content-type", "text/plain; charset=utf-8"),
        headers::NOSNIFF,
        ("cache-control", "no-store"),
    ];
    list.extend_from_slice(extra);
    bytes(status, &list, text.as_bytes(), reply).await
}

/// A fixed set of headers and a body the gateway made, with its Content-Length.
pub async fn bytes(
    status: u16,
    fixed: &[(&str, &str)],
    body: &[u8],
    reply: &Reply<'_>,
) -> Response {
    let mut list: HeaderList = fixed
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    list.push(("content-length".into(), body.len().to_string().into_bytes()));
    complete(
        status,
        &list,
        if reply.head_only {
            Vec::new()
        } else {
            body.to_vec()
        },
        reply,
    )
    .await
}
