//! A Spin component that serves objects from a private MinIO (S3) bucket.
//!
//! Each client request becomes one SigV4-signed GET or HEAD to MinIO (sent a second time only
//! if its connection broke before any answer, see `retry`). Bodies up to 1 MiB are held whole so
//! that head and body reach the host together (see `body`); larger ones are streamed by the host
//! itself. The modules below (and the shared `s3-request` crate, which encodes keys and signs
//! requests) hold the pure logic and have native unit tests. The wasi:http glue is `gateway`
//! (routing), `upstream` (the call to MinIO), `respond` (the answers) and `edge_cache`; `instance`
//! keeps what a component instance reads once for all the requests it serves. Besides objects,
//! the component answers the health check (`key::HEALTH_KEY`) and CORS preflights (`cors`) itself,
//! and every request gets a line in the access log (`access_log`).

pub mod access_log;
pub mod body;
pub mod cache;
pub mod config;
pub mod cors;
pub mod headers;
pub mod key;
pub mod page;
pub mod retry;

#[cfg(target_arch = "wasm32")]
mod edge_cache;
#[cfg(target_arch = "wasm32")]
mod gateway;
#[cfg(target_arch = "wasm32")]
mod instance;
#[cfg(target_arch = "wasm32")]
mod respond;
#[cfg(target_arch = "wasm32")]
mod upstream;

/// The wall clock in milliseconds since the Unix epoch: edge-cache entries' age and the access
/// log's `time`.
#[cfg(target_arch = "wasm32")]
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// WASIp3: Spin 4 sends up to 16 requests at once to one instance and reuses it for 128.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_service]
async fn handle(request: spin_sdk::http::Request) -> spin_sdk::wasip3::http::types::Response {
    gateway::serve(request).await
}
