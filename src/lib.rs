//! A Spin component that serves objects from a private MinIO (S3) bucket.
//!
//! Each client request becomes one SigV4-signed GET or HEAD to MinIO (sent a second time only
//! if its connection broke before any answer, see `retry`); the body is streamed through, and
//! only bodies up to 1 MiB are held whole so that head and body reach the host together (see
//! `body`). The modules below (and the shared `s3-request` crate, which encodes keys and signs
//! requests) hold the pure logic and have native unit tests; `gateway` is the thin layer that
//! talks to the WASI HTTP host.

pub mod body;
pub mod cache;
pub mod config;
pub mod headers;
pub mod key;
pub mod page;
pub mod retry;

// The host glue exists only in the component; native builds carry the pure logic and its tests.
#[cfg(target_arch = "wasm32")]
mod gateway;

// The opt-in edge cache (Spin's key-value API); off unless the `edge_cache` variable turns it on.
#[cfg(target_arch = "wasm32")]
mod edge_cache;

// Not `async`: the handler blocks on wasi pollables itself and never awaits.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(
    request: spin_sdk::http::IncomingRequest,
    response_out: spin_sdk::http::ResponseOutparam,
) {
    gateway::serve(request, response_out);
}
