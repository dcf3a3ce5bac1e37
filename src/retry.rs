//! When the gateway sends its request to MinIO a second time.
//!
//! It only ever sends GET and HEAD, which are idempotent, so a request whose connection broke
//! before any answer came back can be sent again without changing anything. That happens when a
//! MinIO pod goes away (a node drained, a rolling update): a pooled keep-alive connection to it
//! is closed or reset while the request is on it, or its Service address still routes to it for a
//! moment and the connection is refused. A second attempt, on a new connection, reaches a pod
//! that is still there. Timeouts are not retried: the configured timeout is the most a client
//! waits for a dead store, and a retry would double it.

use spin_sdk::wasip3::http::types::ErrorCode;

/// The first attempt and one more. A store that breaks two connections in a row is down, and the
/// client gets the 502 at once.
pub const ATTEMPTS: u32 = 2;

/// True for the failures that mean "this connection broke before an answer", as opposed to a
/// timeout, a name that does not resolve, TLS, or a request the host refused to send.
pub fn worth_retrying(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::ConnectionRefused
            | ErrorCode::ConnectionTerminated
            | ErrorCode::HttpResponseIncomplete
            // Spin reports a connection closed under a request it had written (hyper's
            // "connection closed before message completed") as a protocol error.
            | ErrorCode::HttpProtocolError
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_connections_are_retried() {
        for code in [
            ErrorCode::ConnectionRefused,
            ErrorCode::ConnectionTerminated,
            ErrorCode::HttpResponseIncomplete,
            ErrorCode::HttpProtocolError,
        ] {
            assert!(worth_retrying(&code), "{code:?}");
        }
    }

    #[test]
    fn timeouts_and_permanent_failures_are_not() {
        for code in [
            ErrorCode::ConnectionTimeout,
            ErrorCode::ConnectionReadTimeout,
            ErrorCode::HttpResponseTimeout,
            ErrorCode::DnsTimeout,
            ErrorCode::DestinationNotFound,
            ErrorCode::TlsCertificateError,
            ErrorCode::HttpRequestDenied,
            ErrorCode::HttpRequestUriInvalid,
            ErrorCode::InternalError(None),
        ] {
            assert!(!worth_retrying(&code), "{code:?}");
        }
    }
}
