//! Prepares MinIO for gif-gateway: a private bucket holding the GIF, a canned policy that
//! allows only `s3:GetObject` on it, and the component's user bound to that policy; when
//! configured, the read replicas' mirror user (list + get on the bucket) likewise.
//! Every step is idempotent; the binary in `main.rs` wires it to the environment.

pub mod admin;
pub mod config;
pub mod error;
pub mod madmin_crypto;
pub mod policy;
pub mod s3;
pub mod secret;
pub mod seed;
