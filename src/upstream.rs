//! The one call to MinIO: sign the request, send it (once more if its connection broke before
//! any answer, see `retry`), wait at most `s3_timeout_ms` for the answer's head, and read its body.

use std::cell::RefCell;
use std::time::SystemTime;

use futures::future::{select, Either};
use spin_sdk::wasip3::clocks::monotonic_clock;
use spin_sdk::wasip3::http::client;
use spin_sdk::wasip3::http::types::{
    ErrorCode, Fields, Method, Request, RequestOptions, Response, Scheme, Trailers,
};
use spin_sdk::wasip3::wit_bindgen::{FutureReader, StreamReader, StreamResult};
use spin_sdk::wasip3::wit_future;

use crate::access_log::Record;
use crate::config::{self, Config};
use crate::headers::{self, HeaderList, IfRange};
use crate::retry;

/// A stalled transfer mid-body is cut after this long; the client sees a truncated response.
const BETWEEN_BYTES_TIMEOUT_NS: u64 = 30_000_000_000;
/// Error bodies from MinIO are read only this far, to find the S3 error code for the log.
const ERROR_BODY_LIMIT: usize = 4096;
/// Bytes asked for per read while reading a body whole.
const READ_CHUNK: usize = 256 * 1024;

/// MinIO's answer: its head, and its body still unread.
pub struct Upstream {
    pub status: u16,
    pub headers: HeaderList,
    response: Response,
}

/// A body being read: the stream and the future that says how it ended.
pub struct Body {
    pub contents: StreamReader<u8>,
    pub trailers: FutureReader<Result<Option<Trailers>, ErrorCode>>,
}

impl Upstream {
    pub fn body(self) -> Body {
        // The result future tells the host how the gateway dealt with the body; a dropped
        // writer reports success.
        let (_, handled) = wit_future::new(|| Ok(()));
        let (contents, trailers) = Response::consume_body(self.response, handled);
        Body { contents, trailers }
    }
}

/// Asks MinIO for an object with the client's range and conditionals, and once more for the
/// whole object when its `If-Range` named another representation (see
/// `headers::plan_request_headers`).
pub async fn fetch_object(
    request_headers: &[(String, Vec<u8>)],
    config: &Config,
    key: &str,
    head_only: bool,
    log: &RefCell<Record>,
) -> Result<Upstream, String> {
    let (forwarded, if_range) = headers::plan_request_headers(request_headers);
    let Some(if_range) = if_range else {
        return fetch(forwarded, config, key, head_only, log).await;
    };
    let whole = IfRange::whole(&forwarded);
    let upstream = fetch(forwarded, config, key, head_only, log).await?;
    match upstream.status {
        412 => {}
        206 if !if_range.matches(&upstream.headers) => {}
        _ => return Ok(upstream),
    }
    drop(upstream);
    fetch(whole, config, key, head_only, log).await
}

/// Sends the signed request and waits for the response head; `log` gets MinIO's status, the
/// wait and whether the request went out twice.
pub async fn fetch(
    forwarded: HeaderList,
    config: &Config,
    key: &str,
    head_only: bool,
    log: &RefCell<Record>,
) -> Result<Upstream, String> {
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
        config.session_token.as_deref(),
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
    let started = monotonic_clock::now();
    let mut attempt = 1;
    let result = loop {
        match send(&list, config, &path, head_only).await? {
            Err(code) if attempt < retry::ATTEMPTS && retry::worth_retrying(&code) => {
                eprintln!("gif-gateway: object store connection failed ({code:?}); sending the request again");
                log.borrow_mut().retried = true;
                attempt += 1;
            }
            result => break result,
        }
    };
    let status = result.as_ref().ok().map(Response::get_status_code);
    log.borrow_mut()
        .upstream(status, monotonic_clock::now().saturating_sub(started));
    let response = result.map_err(|code| format!("{code:?}"))?;
    Ok(Upstream {
        status: response.get_status_code(),
        headers: response.get_headers().copy_all(),
        response,
    })
}

/// One attempt: `Err` if the request could not even be built, `Ok(Err(code))` if it was sent
/// and no response head came back in time.
async fn send(
    list: &HeaderList,
    config: &Config,
    path: &str,
    head_only: bool,
) -> Result<Result<Response, ErrorCode>, String> {
    let fields = Fields::from_list(list).map_err(|e| format!("invalid header: {e:?}"))?;
    let options = RequestOptions::new();
    let timeout_ns = config.timeout_ms * 1_000_000;
    // Hosts may not support every timeout; an unsupported one is not a reason to fail the
    // request, and the race below bounds the wait either way.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(BETWEEN_BYTES_TIMEOUT_NS));
    let (request, _sent) = Request::new(fields, None, no_trailers(), Some(options));
    let scheme = match config.endpoint.scheme() {
        config::Scheme::Http => Scheme::Http,
        config::Scheme::Https => Scheme::Https,
    };
    let configured = request
        .set_method(if head_only {
            &Method::Head
        } else {
            &Method::Get
        })
        .is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request
            .set_authority(Some(config.endpoint.authority()))
            .is_ok()
        && request.set_path_with_query(Some(path)).is_ok();
    if !configured {
        return Err("the host rejected the request line".into());
    }
    // The host's own timeouts cover connecting and the first byte; the timer is the same bound
    // for a host that ignores them. Dropping the losing call cancels it.
    let call = std::pin::pin!(client::send(request));
    let timer = std::pin::pin!(monotonic_clock::wait_for(timeout_ns));
    Ok(match select(call, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(ErrorCode::ConnectionReadTimeout),
    })
}

/// The trailers future of a message without trailers.
pub fn no_trailers() -> FutureReader<Result<Option<Trailers>, ErrorCode>> {
    wit_future::new(|| Ok(None)).1
}

/// Reads exactly `length` bytes; fewer (the upstream closed early) is an error.
pub async fn read_exactly(body: &mut Body, length: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(length as usize);
    while (bytes.len() as u64) < length {
        if bytes.len() == bytes.capacity() {
            bytes.reserve((length as usize - bytes.len()).min(READ_CHUNK));
        }
        let (result, filled) = body.contents.read(bytes).await;
        bytes = filled;
        if result == StreamResult::Dropped && (bytes.len() as u64) < length {
            return Err(format!(
                "the body ended after {} of {length} bytes",
                bytes.len()
            ));
        }
    }
    Ok(bytes)
}

/// The start of an error body: enough for S3's small XML documents, bounded so a misbehaving
/// upstream cannot make the component buffer much.
pub async fn read_error_body(upstream: Upstream) -> Vec<u8> {
    let mut body = upstream.body();
    let mut bytes = Vec::with_capacity(ERROR_BODY_LIMIT);
    while bytes.len() < ERROR_BODY_LIMIT {
        let (result, filled) = body.contents.read(bytes).await;
        bytes = filled;
        if !matches!(result, StreamResult::Complete(n) if n > 0) {
            break;
        }
    }
    bytes
}
