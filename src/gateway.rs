//! Glue between the WASI HTTP host and the pure modules: read the request, make the one
//! upstream call, stream the answer back.

use std::cell::RefCell;
use std::time::SystemTime;

use spin_sdk::http::{
    Fields, IncomingRequest, IncomingResponse, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{ErrorCode, RequestOptions};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

use crate::body::{self, BodyPlan};
use crate::config::{self, Config};
use crate::headers::{self, DeferredOutcome, HeaderList, Outcome};
use crate::key::{self, Route};
use crate::page;
use crate::retry;

/// Bytes moved per splice call: large enough to keep syscalls rare, small enough to keep the
/// component's memory flat however big the object is.
const SPLICE_CHUNK: u64 = 256 * 1024;
/// A stalled transfer mid-body is cut after this long; the client sees a truncated response.
const BETWEEN_BYTES_TIMEOUT_NS: u64 = 30_000_000_000;
/// Error bodies from MinIO are read only this far, to find the S3 error code for the log.
const ERROR_BODY_LIMIT: u64 = 4096;

pub fn serve(request: IncomingRequest, out: ResponseOutparam) {
    let head_only = match request.method() {
        Method::Get => false,
        Method::Head => true,
        _ => {
            return respond_text(
                out,
                405,
                "method not allowed\n",
                &[("allow", "GET, HEAD")],
                false,
            )
        }
    };
    let route = match key::route(&request.path_with_query().unwrap_or_default()) {
        Ok(route) => route,
        Err(err) => return respond_text(out, 400, &format!("{}\n", err.message()), &[], head_only),
    };
    // Each variable is looked up at most once per request, however many settings read it.
    let seen: RefCell<Vec<(&str, Option<String>)>> = RefCell::new(Vec::new());
    let lookup = |name: &str| {
        if let Some((_, value)) = seen.borrow().iter().find(|(n, _)| *n == name) {
            return value.clone();
        }
        let value = spin_sdk::variables::get(name).ok();
        let name = config::VARIABLE_NAMES.iter().find(|n| **n == name).copied();
        if let Some(name) = name {
            seen.borrow_mut().push((name, value.clone()));
        }
        value
    };
    match route {
        Route::Index => match config::index_object_from_lookup(lookup) {
            Ok(index_object) => respond_bytes(
                out,
                200,
                &page::PAGE_HEADERS,
                page::index_html(&index_object).as_bytes(),
                head_only,
            ),
            Err(err) => not_configured(out, err, head_only),
        },
        Route::Object(key) => {
            let Some(out) = crate::edge_cache::serve(&request, out, &key, head_only, &lookup)
            else {
                return;
            };
            match Config::from_lookup(lookup) {
                Ok(config) => proxy_object(&request, out, &config, &key, head_only),
                Err(err) => not_configured(out, err, head_only),
            }
        }
    }
}

pub(crate) fn not_configured(out: ResponseOutparam, err: config::ConfigError, head_only: bool) {
    eprintln!("gif-gateway: configuration error: {err}");
    respond_text(out, 500, "gateway is not configured\n", &[], head_only)
}

fn proxy_object(
    request: &IncomingRequest,
    out: ResponseOutparam,
    config: &Config,
    key: &str,
    head_only: bool,
) {
    let (forwarded, deferred) = headers::plan_request_headers(&request.headers().entries());
    match fetch(forwarded, config, key, head_only) {
        Ok(upstream) => respond_upstream(upstream, out, deferred, key, head_only),
        Err(reason) => upstream_unavailable(out, &reason, head_only),
    }
}

pub(crate) fn upstream_unavailable(out: ResponseOutparam, reason: &str, head_only: bool) {
    eprintln!("gif-gateway: object store request failed: {reason}");
    respond_text(out, 502, "object store unavailable\n", &[], head_only)
}

/// Turns MinIO's answer into the client's: pass-through with the allowed headers (and a deferred
/// range applied), 416 with its Content-Range, or one of the gateway's short error texts.
pub(crate) fn respond_upstream(
    upstream: IncomingResponse,
    out: ResponseOutparam,
    deferred: Option<headers::DeferredRange>,
    key: &str,
    head_only: bool,
) {
    let status = upstream.status();
    match headers::classify(status) {
        Outcome::PassThrough => {
            let headers = headers::response_headers(status, &upstream.headers().entries(), key);
            match deferred
                .filter(|_| status == 200)
                .map(|d| headers::apply_deferred_range(&d, &headers))
            {
                None | Some(DeferredOutcome::Full) => {
                    stream_response(upstream, out, status, &headers, None, head_only)
                }
                Some(DeferredOutcome::Partial {
                    first,
                    last,
                    headers,
                }) => stream_response(upstream, out, 206, &headers, Some((first, last)), head_only),
                Some(DeferredOutcome::Unsatisfiable { content_range }) => respond_text(
                    out,
                    416,
                    "range not satisfiable\n",
                    &[("content-range", &content_range)],
                    head_only,
                ),
            }
        }
        Outcome::RangeNotSatisfiable => {
            let content_range = headers::unsatisfied_content_range(&read_error_body(upstream));
            let extra: Vec<(&str, &str)> = content_range
                .iter()
                .map(|v| ("content-range", v.as_str()))
                .collect();
            respond_text(out, 416, "range not satisfiable\n", &extra, head_only)
        }
        outcome => {
            let body = read_error_body(upstream);
            let code = s3_request::error_token(&body, "Code").unwrap_or("-");
            eprintln!("gif-gateway: object store answered {status} ({code})");
            match outcome {
                Outcome::NotFound => respond_text(out, 404, "not found\n", &[], head_only),
                Outcome::BadRequest => {
                    respond_text(out, 400, "invalid object key\n", &[], head_only)
                }
                _ => respond_text(out, 502, "object store error\n", &[], head_only),
            }
        }
    }
}

/// Sends the signed request and waits for the response head; a request whose connection broke
/// before any answer is sent once more (see `retry`).
pub(crate) fn fetch(
    forwarded: HeaderList,
    config: &Config,
    key: &str,
    head_only: bool,
) -> Result<IncomingResponse, String> {
    let method = if head_only { "HEAD" } else { "GET" };
    // The path is signed as part of the URL and sent as the request's path: the same string.
    let path = s3_request::object_path(&config.bucket, key);
    let url = config.endpoint.url(&path);
    let request = s3_request::Request {
        method,
        url: &url,
        headers: &[],
        payload_sha256: s3_request::EMPTY_PAYLOAD_SHA256,
    };
    let signed = s3_request::sign(
        &request,
        &config.access_key,
        &config.secret_key,
        &config.region,
        SystemTime::now(),
    )
    .map_err(|e| format!("signing failed: {e}"))?;
    let mut list = forwarded;
    list.extend(
        signed
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.into_bytes())),
    );
    let mut attempt = 1;
    loop {
        match send(&list, config, &path, head_only)? {
            Ok(response) => return Ok(response),
            Err(code) if attempt < retry::ATTEMPTS && retry::worth_retrying(&code) => {
                eprintln!("gif-gateway: object store connection failed ({code:?}); sending the request again");
                attempt += 1;
            }
            Err(code) => return Err(format!("{code:?}")),
        }
    }
}

/// One attempt: `Err` if the request could not even be handed to the host, `Ok(Err(code))` if
/// the host sent it and got no response head back.
fn send(
    list: &HeaderList,
    config: &Config,
    path: &str,
    head_only: bool,
) -> Result<Result<IncomingResponse, ErrorCode>, String> {
    let fields = Fields::from_list(list).map_err(|e| format!("invalid header: {e:?}"))?;

    let outgoing = OutgoingRequest::new(fields);
    let scheme = match config.endpoint.scheme() {
        config::Scheme::Http => Scheme::Http,
        config::Scheme::Https => Scheme::Https,
    };
    let configured = outgoing
        .set_method(if head_only {
            &Method::Head
        } else {
            &Method::Get
        })
        .is_ok()
        && outgoing.set_scheme(Some(&scheme)).is_ok()
        && outgoing
            .set_authority(Some(config.endpoint.authority()))
            .is_ok()
        && outgoing.set_path_with_query(Some(path)).is_ok();
    if !configured {
        return Err("the host rejected the request line".into());
    }

    let options = RequestOptions::new();
    let timeout_ns = config.timeout_ms * 1_000_000;
    // Hosts may not support every timeout; an unsupported one is not a reason to fail the request.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(BETWEEN_BYTES_TIMEOUT_NS));

    let pending = match outgoing_handler::handle(outgoing, Some(options)) {
        Ok(pending) => pending,
        Err(code) => return Ok(Err(code)),
    };
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(result)) => Ok(result),
        Some(Err(())) | None => Err("response already taken".into()),
    }
}

/// Moves the response from MinIO to the client. `window` limits the body to the inclusive byte
/// range the gateway applies itself (see `plan_request_headers`). The head is handed to the host
/// together with the body if it is small, or with its first chunk (see `body`).
fn stream_response(
    upstream: IncomingResponse,
    out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    window: Option<(u64, u64)>,
    head_only: bool,
) {
    let length = match window {
        Some((first, last)) => Some(last - first + 1),
        None => body::content_length(headers),
    };
    let plan = body::plan(length, !head_only && headers::status_has_body(status));
    if plan == BodyPlan::Empty {
        return respond_complete(out, status, headers, &[]);
    }
    let Ok(incoming_body) = upstream.consume() else {
        return respond_text(out, 502, "object store error\n", &[], head_only);
    };
    let Ok(input) = incoming_body.stream() else {
        return respond_text(out, 502, "object store error\n", &[], head_only);
    };
    let mut to_skip = window.map_or(0, |(first, _)| first);
    while to_skip > 0 {
        match input.blocking_skip(to_skip) {
            Ok(skipped) => to_skip -= skipped,
            Err(_) => return respond_text(out, 502, "object store error\n", &[], head_only),
        }
    }
    match plan {
        BodyPlan::Empty => unreachable!("handled above"),
        BodyPlan::Complete(length) => match read_exactly(&input, length) {
            Ok(bytes) => respond_complete(out, status, headers, &bytes),
            Err(reason) => {
                // Nothing has been sent yet, so the client can still get a clean error.
                eprintln!("gif-gateway: reading the object failed: {reason}");
                respond_text(out, 502, "object store error\n", &[], head_only)
            }
        },
        BodyPlan::Stream => {
            let mut remaining = length.unwrap_or(u64::MAX);
            // Blocks until MinIO sends the first bytes: they travel with the head.
            let first = match input.blocking_read(SPLICE_CHUNK.min(remaining)) {
                Ok(first) => first,
                Err(StreamError::Closed) => Vec::new(),
                Err(StreamError::LastOperationFailed(e)) => {
                    eprintln!(
                        "gif-gateway: reading the object failed: {}",
                        e.to_debug_string()
                    );
                    return respond_text(out, 502, "object store error\n", &[], head_only);
                }
            };
            remaining -= first.len() as u64;
            let Some((response, body, output)) = new_response(status, headers) else {
                return;
            };
            let sent = write_ahead(&output, &first);
            out.set(response);
            if write_all(&output, &first[sent..]).is_err() {
                return;
            }
            while remaining > 0 {
                match output.blocking_splice(&input, SPLICE_CHUNK.min(remaining)) {
                    Ok(moved) => remaining -= moved,
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(e)) => {
                        // Dropping the body without finishing it tells the host the response is
                        // incomplete, so the client sees an aborted transfer rather than a short file.
                        eprintln!("gif-gateway: streaming aborted: {}", e.to_debug_string());
                        return;
                    }
                }
            }
            drop(output);
            drop(input);
            drop(incoming_body);
            let _ = OutgoingBody::finish(body, None);
        }
    }
}

/// Exactly `length` bytes of `input`; fewer (the upstream closed early) is an error.
pub(crate) fn read_exactly(input: &InputStream, length: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(length as usize);
    while (bytes.len() as u64) < length {
        match input.blocking_read(length - bytes.len() as u64) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => {
                return Err(format!(
                    "the body ended after {} of {length} bytes",
                    bytes.len()
                ))
            }
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
    }
    Ok(bytes)
}

/// Writes as much of `bytes` as the host takes without waiting, before the head is handed over:
/// that part leaves together with the head. Returns how many bytes were written.
fn write_ahead(output: &OutputStream, bytes: &[u8]) -> usize {
    // The host buffers what check-write allows even before the response is set (wasmtime's
    // default is one chunk of 1 MiB); waiting for more would wait for a reader that does not
    // exist yet.
    let allowed = output.check_write().unwrap_or(0).min(bytes.len() as u64) as usize;
    if allowed > 0 && output.write(&bytes[..allowed]).is_ok() {
        allowed
    } else {
        0
    }
}

/// Writes all of `bytes`, waiting for the host to take them.
fn write_all(output: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
    while !bytes.is_empty() {
        let allowed = output.check_write()?;
        if allowed == 0 {
            output.subscribe().block();
            continue;
        }
        let n = allowed.min(bytes.len() as u64) as usize;
        output.write(&bytes[..n])?;
        bytes = &bytes[n..];
    }
    Ok(())
}

/// Hands the host a response whose body is already complete (usually in the same write as the
/// head); falls back to writing after the head if the host would not buffer all of it.
pub(crate) fn respond_complete(
    out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    bytes: &[u8],
) {
    let Some((response, body, output)) = new_response(status, headers) else {
        return;
    };
    let sent = write_ahead(&output, bytes);
    if sent == bytes.len() {
        drop(output);
        let _ = OutgoingBody::finish(body, None);
        out.set(response);
        return;
    }
    out.set(response);
    if write_all(&output, &bytes[sent..]).is_ok() {
        drop(output);
        let _ = OutgoingBody::finish(body, None);
    }
}

/// The start of an error body: enough for S3's small XML documents, bounded so a misbehaving
/// upstream cannot make the component buffer much.
fn read_error_body(upstream: IncomingResponse) -> Vec<u8> {
    let Ok(body) = upstream.consume() else {
        return Vec::new();
    };
    let Ok(stream) = body.stream() else {
        return Vec::new();
    };
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < ERROR_BODY_LIMIT {
        match stream.blocking_read(ERROR_BODY_LIMIT - bytes.len() as u64) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(_) => break,
        }
    }
    bytes
}

fn new_response(
    status: u16,
    headers: &[(String, Vec<u8>)],
) -> Option<(OutgoingResponse, OutgoingBody, OutputStream)> {
    let fields = Fields::from_list(headers).ok()?;
    let response = OutgoingResponse::new(fields);
    response.set_status_code(status).ok()?;
    let body = response.body().ok()?;
    let output = body.write().ok()?;
    Some((response, body, output))
}

pub(crate) fn respond_text(
    out: ResponseOutparam,
    status: u16,
    text: &str,
    extra: &[(&str, &str)],
    head_only: bool,
) {
    let mut list = vec![
        ("content-type", "text/plain; charset=utf-8"),
        headers::NOSNIFF,
        ("cache-control", "no-store"),
    ];
    list.extend_from_slice(extra);
    respond_bytes(out, status, &list, text.as_bytes(), head_only);
}

fn respond_bytes(
    out: ResponseOutparam,
    status: u16,
    fixed: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) {
    let mut list: HeaderList = fixed
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    list.push(("content-length".into(), body.len().to_string().into_bytes()));
    respond_complete(out, status, &list, if head_only { &[] } else { body });
}
