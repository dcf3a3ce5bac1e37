//! Benchmark-only Spin component (not part of the gateway). One `.wasm`, four behaviours, picked
//! by the WASI environment variable `BENCH_MODE` that `bench/bench.py` writes into the manifest it
//! generates, so that the rows differ only in what the code does:
//!
//! - `hello`: a fixed text answer, written the way spin-sdk's `IntoResponse` path writes it. The
//!   smallest thing Spin can serve: its cost and peak RSS are the baseline of the breakdown.
//! - `variables`: the same, after reading the gateway's seven Spin variables.
//! - `proxy` (the floor): one `spin_sdk::http::send` of the presigned URL in `FLOOR_URL`, and the
//!   response, with its complete body, handed back to spin-sdk. No signing, no Spin variables,
//!   no header mapping: the least any Spin proxy in front of MinIO does per request.
//! - `kv`: the GIF from Spin's default key-value store (fetched once through `FLOOR_URL` and
//!   stored on a miss): what a cache hit in a Spin key-value store costs at least, no MinIO.
//!
//! The mode comes from the environment and not from Spin variables so that the floor pays no
//! variable lookup.

/// The gateway's variables (see `spin.toml`), looked up in `variables` mode.
pub const GATEWAY_VARIABLES: [&str; 7] = [
    "s3_endpoint",
    "s3_bucket",
    "s3_region",
    "s3_access_key",
    "s3_secret_key",
    "index_object",
    "s3_timeout_ms",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Hello,
    Variables,
    Proxy,
    KeyValue,
}

impl Mode {
    pub fn parse(value: Option<&str>) -> Option<Mode> {
        match value? {
            "hello" => Some(Mode::Hello),
            "variables" => Some(Mode::Variables),
            "proxy" => Some(Mode::Proxy),
            "kv" => Some(Mode::KeyValue),
            _ => None,
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod component {
    use super::{Mode, GATEWAY_VARIABLES};
    use spin_sdk::http::{Request, Response};

    const HELLO: &[u8] = b"hello, world\n";

    /// A handler returning a whole `Response`: spin-sdk then sets the response and writes the body
    /// (`ResponseOutparam::set_with_body`), the way most Spin components answer.
    #[spin_sdk::http_component]
    async fn handle(_request: Request) -> Response {
        match Mode::parse(std::env::var("BENCH_MODE").ok().as_deref()) {
            Some(Mode::Hello) => text(200, HELLO),
            Some(Mode::Variables) => {
                let found = GATEWAY_VARIABLES
                    .iter()
                    .filter(|name| spin_sdk::variables::get(name).is_ok())
                    .count();
                if found == GATEWAY_VARIABLES.len() {
                    text(200, HELLO)
                } else {
                    text(500, b"variables missing\n")
                }
            }
            Some(Mode::Proxy) => match std::env::var("FLOOR_URL") {
                Ok(url) => match spin_sdk::http::send::<_, Response>(Request::get(url)).await {
                    Ok(response) => response,
                    Err(err) => text(502, format!("upstream: {err}\n").as_bytes()),
                },
                Err(_) => text(500, b"FLOOR_URL is not set\n"),
            },
            Some(Mode::KeyValue) => from_store().await,
            None => text(500, b"BENCH_MODE must be hello, variables, proxy or kv\n"),
        }
    }

    /// Key of the one entry `kv` mode serves.
    const KV_KEY: &str = "floor-proxy/animation.gif";

    async fn from_store() -> Response {
        let store = match spin_sdk::key_value::Store::open_default() {
            Ok(store) => store,
            Err(err) => return text(500, format!("store: {err}\n").as_bytes()),
        };
        let body = match store.get(KV_KEY) {
            Ok(Some(body)) => body,
            Ok(None) => {
                let Ok(url) = std::env::var("FLOOR_URL") else {
                    return text(500, b"FLOOR_URL is not set\n");
                };
                match spin_sdk::http::send::<_, Response>(Request::get(url)).await {
                    Ok(response) if response.status() == &200 => {
                        let body = response.body().to_vec();
                        if let Err(err) = store.set(KV_KEY, &body) {
                            return text(500, format!("store: {err}\n").as_bytes());
                        }
                        body
                    }
                    Ok(response) => {
                        return text(502, format!("upstream: {}\n", response.status()).as_bytes())
                    }
                    Err(err) => return text(502, format!("upstream: {err}\n").as_bytes()),
                }
            }
            Err(err) => return text(500, format!("store: {err}\n").as_bytes()),
        };
        Response::builder()
            .status(200)
            .header("content-type", "image/gif")
            .body(body)
            .build()
    }

    fn text(status: u16, body: &[u8]) -> Response {
        Response::builder()
            .status(status)
            .header("content-type", "text/plain")
            .body(body.to_vec())
            .build()
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
        assert_eq!(Mode::parse(Some("kv")), Some(Mode::KeyValue));
        assert_eq!(Mode::parse(Some("Proxy")), None);
        assert_eq!(Mode::parse(None), None);
    }
}
