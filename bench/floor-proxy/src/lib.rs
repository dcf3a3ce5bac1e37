//! Benchmark-only Spin component (not part of the gateway), WASIp3: spin-sdk 6's async
//! `#[http_service]`, so that Spin 4 reuses its instances as it will the gateway's. One `.wasm`,
//! several behaviours, picked by the WASI environment variable `BENCH_MODE` that `bench/gifbench`
//! writes into the manifest it generates, so that the rows differ only in what the code does:
//!
//! - `hello`: a fixed text answer. The smallest thing Spin can serve: its cost and peak RSS are
//!   the baseline of the breakdown and of the memory goal.
//! - `variables`: the same, after reading Spin variables (below).
//! - `proxy` (the floor): one `spin_sdk::http::send` of the presigned URL in `FLOOR_URL`, the
//!   upstream body read whole, then answered complete with the upstream's status and headers. No
//!   signing, no Spin variables, no header mapping: the least a Spin proxy in front of MinIO does
//!   per request and still answers without a stall (see `proxy`).
//! - `stream`: the same request, the upstream's response returned as it is, its body still a
//!   stream: what `proxy` avoids, for the benchmark to show what that costs.
//!
//! With `BENCH_VARIABLES` (comma-separated names; the bench package takes them from the gateway's
//! `spin.toml`, so the list cannot drift from what the gateway reads) any mode first reads those
//! Spin variables, one after the other, as a handler that needs each value before it can go on.
//! `variables` requires the list; `proxy` with it is the floor plus the gateway's lookups.
//!
//! The mode comes from the environment and not from Spin variables so that the floor pays no
//! variable lookup.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Hello,
    Variables,
    Proxy,
    Stream,
}

impl Mode {
    pub fn parse(value: Option<&str>) -> Option<Mode> {
        match value? {
            "hello" => Some(Mode::Hello),
            "variables" => Some(Mode::Variables),
            "proxy" => Some(Mode::Proxy),
            "stream" => Some(Mode::Stream),
            _ => None,
        }
    }
}

/// The names in `BENCH_VARIABLES`; an empty list counts as unset, so that `variables` mode cannot
/// pass for a lookup row while looking nothing up.
pub fn variable_names(value: Option<&str>) -> Option<Vec<&str>> {
    let names: Vec<&str> = value?
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty()).then_some(names)
}

#[cfg(target_arch = "wasm32")]
mod component {
    use super::{variable_names, Mode};
    use spin_sdk::http::body::IncomingBodyExt;
    use spin_sdk::http::{FullBody, HeaderMap, HeaderValue, IntoResponse, Request, StatusCode};
    use spin_sdk::wasip3::http::types::{ErrorCode, Response};

    /// Every branch converts its answer itself, so that they can build different body types.
    type Reply = Result<Response, ErrorCode>;

    const HELLO: &str = "hello, world\n";

    #[spin_sdk::http_service]
    async fn handle(_request: Request) -> Reply {
        let Some(mode) = Mode::parse(std::env::var("BENCH_MODE").ok().as_deref()) else {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "BENCH_MODE must be hello, variables, proxy or stream\n",
            );
        };
        let names = std::env::var("BENCH_VARIABLES").ok();
        match variable_names(names.as_deref()) {
            Some(names) => {
                for name in names {
                    if spin_sdk::variables::get(name).await.is_err() {
                        return text(StatusCode::INTERNAL_SERVER_ERROR, "variables missing\n");
                    }
                }
            }
            None if mode == Mode::Variables => {
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "BENCH_VARIABLES is not set\n",
                );
            }
            None => {}
        }
        match mode {
            Mode::Hello | Mode::Variables => text(StatusCode::OK, HELLO),
            Mode::Proxy => proxy(true).await,
            Mode::Stream => proxy(false).await,
        }
    }

    /// `whole`: the upstream body is read whole before the answer is returned, not handed on as
    /// the stream it arrives as. Spin (4.0.2 too) never sets `TCP_NODELAY`: returning the
    /// `Response` that `send` gave (spin-sdk then passes the upstream's body stream to the host
    /// unchanged) lets the host write the head before the first body byte is there, the head
    /// leaves as a segment of its own, and on a kept-alive connection the body then waits for the
    /// client's delayed ACK, about 40 ms per response. A body that is complete when the handler
    /// returns is much more likely to leave with the head (the host still reads it from the
    /// guest after the handler has returned, so it is a race, only a far better one). The gateway
    /// has to answer small objects that way for the same reason, so this is the floor it is
    /// measured against; the GIF is small enough that holding it costs nothing measurable.
    async fn proxy(whole: bool) -> Reply {
        let Ok(url) = std::env::var("FLOOR_URL") else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "FLOOR_URL is not set\n");
        };
        let response = match spin_sdk::http::get(url).await {
            Ok(response) => response,
            Err(err) => return text(StatusCode::BAD_GATEWAY, &format!("upstream: {err:?}\n")),
        };
        if !whole {
            return response.into_response();
        }
        let (parts, body) = response.into_parts();
        match body.bytes().await {
            Ok(bytes) => (parts.status, parts.headers, FullBody::new(bytes)).into_response(),
            Err(err) => text(
                StatusCode::BAD_GATEWAY,
                &format!("upstream body: {err:?}\n"),
            ),
        }
    }

    fn text(status: StatusCode, body: &str) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        (status, headers, body.to_owned()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_unknown_ones_do_not() {
        assert_eq!(Mode::parse(Some("hello")), Some(Mode::Hello));
        assert_eq!(Mode::parse(Some("variables")), Some(Mode::Variables));
        assert_eq!(Mode::parse(Some("proxy")), Some(Mode::Proxy));
        assert_eq!(Mode::parse(Some("stream")), Some(Mode::Stream));
        assert_eq!(Mode::parse(Some("kv")), None);
        assert_eq!(Mode::parse(Some("Proxy")), None);
        assert_eq!(Mode::parse(None), None);
    }

    #[test]
    fn variable_names_split_on_commas_and_an_empty_list_is_unset() {
        assert_eq!(
            variable_names(Some("s3_endpoint, s3_bucket,")),
            Some(vec!["s3_endpoint", "s3_bucket"])
        );
        assert_eq!(variable_names(Some(" , ")), None);
        assert_eq!(variable_names(None), None);
    }
}
