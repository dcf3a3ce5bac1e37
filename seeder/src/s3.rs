//! SigV4-signed HTTP requests to MinIO (S3 API and admin API alike), path-style.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::Digest;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::config::Endpoint;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Response bodies we read are error documents, policies, user info and (in tests) the GIF.
const MAX_RESPONSE_BODY: u64 = 64 * 1024 * 1024;
/// A restarting MinIO answers 503 (XMinioServerNotInitialized) for a short while after
/// /minio/health/ready already says yes; retrying covers that window.
const RETRY_503_FOR: Duration = Duration::from_secs(20);
const RETRY_PAUSE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: Secret,
}

/// Who is signing: decides how an authentication failure is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Root,
    App,
    Mirror,
}

impl Role {
    fn describe(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::App => "app",
            Role::Mirror => "mirror",
        }
    }
}

pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    region: String,
    creds: Option<Credentials>,
    role: Role,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// `Code`/`Message` out of an S3 XML or admin JSON error document: the admin API's JSON errors
/// carry the same two fields as S3's XML ones.
pub type ApiError = s3_request::ErrorDocument;

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn api_error(&self) -> Option<ApiError> {
        parse_error_body(&self.body)
    }

    /// The error code, also for bodiless (HEAD) answers where only the status is known.
    pub fn error_code(&self) -> String {
        match self.api_error() {
            Some(e) if !e.code.is_empty() => e.code,
            _ => format!("HTTP {}", self.status),
        }
    }
}

/// CA certificates to trust for an https endpoint instead of the public web PKI roots
/// (MinIO in a cluster usually has a certificate from a private CA).
#[derive(Clone)]
pub struct TlsRoots(Arc<Vec<Certificate<'static>>>);

impl TlsRoots {
    /// All certificates of a PEM bundle; other PEM sections (keys) are ignored.
    pub fn from_pem(pem: &[u8]) -> std::result::Result<Self, String> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {}
                Err(e) => return Err(format!("is not valid PEM ({e})")),
            }
        }
        if certs.is_empty() {
            return Err("contains no PEM certificate".into());
        }
        Ok(TlsRoots(Arc::new(certs)))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsRoots({} certificate(s))", self.0.len())
    }
}

pub fn agent(timeout: Duration, roots: Option<&TlsRoots>) -> ureq::Agent {
    let mut tls = TlsConfig::builder();
    if let Some(roots) = roots {
        tls = tls.root_certs(RootCerts::Specific(roots.0.clone()));
    }
    let config = ureq::Agent::config_builder()
        .tls_config(tls.build())
        // Error statuses carry the S3/admin error document we want to read.
        .http_status_as_error(false)
        // A redirect would replay a signed request against another authority.
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
        .user_agent(concat!("gif-gateway-seeder/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

impl Client {
    /// `creds: None` sends unsigned (anonymous) requests. `agent` comes from [`agent`].
    pub fn new(
        endpoint: Endpoint,
        region: impl Into<String>,
        creds: Option<Credentials>,
        role: Role,
        agent: ureq::Agent,
    ) -> Self {
        Client {
            agent,
            endpoint,
            region: region.into(),
            creds,
            role,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `path_and_query` must already be encoded (see [`uri_encode`]); the signer is told
    /// not to encode again so the signature covers exactly the bytes on the wire.
    pub fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let started = Instant::now();
        loop {
            let resp = self.send_once(method, path_and_query, headers, body)?;
            let transient = resp.status == 503
                && matches!(
                    resp.error_code().as_str(),
                    "XMinioServerNotInitialized"
                        | "SlowDown"
                        | "SlowDownRead"
                        | "SlowDownWrite"
                        | "ServiceUnavailable"
                        | "HTTP 503"
                );
            if !transient || started.elapsed() >= RETRY_503_FOR {
                return Ok(resp);
            }
            std::thread::sleep(RETRY_PAUSE);
        }
    }

    fn send_once(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let url = format!("{}{}", self.endpoint.base_url(), path_and_query);
        let mut builder = http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder
            .body(())
            .map_err(|e| Error::new(format!("cannot build {method} request: {e}")))?;
        if let Some(creds) = &self.creds {
            self.sign(&mut request, creds, body)?;
        }

        let (parts, ()) = request.into_parts();
        // Methods that carry a payload always send Content-Length (MinIO wants it even when 0);
        // the others send none.
        let sent = if matches!(method, "PUT" | "POST") || !body.is_empty() {
            self.agent.run(http::Request::from_parts(parts, body))
        } else {
            self.agent.run(http::Request::from_parts(parts, ()))
        };
        let mut response =
            sent.map_err(|e| Error::new(format!("cannot reach MinIO at {}: {e}", self.endpoint)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE_BODY)
                .read_to_vec()
                .map_err(|e| {
                    Error::new(format!(
                        "reading MinIO's answer to {method} {path_and_query}: {e}"
                    ))
                })?
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn sign(
        &self,
        request: &mut http::Request<()>,
        creds: &Credentials,
        body: &[u8],
    ) -> Result<()> {
        let payload_sha256 = hex::encode(sha2::Sha256::digest(body));
        let url = request.uri().to_string();
        let header_pairs: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
            .collect();
        let signable = s3_request::Request {
            method: request.method().as_str(),
            url: &url,
            headers: &header_pairs,
            payload_sha256: &payload_sha256,
        };
        let signed = s3_request::sign(
            &signable,
            &creds.access_key,
            creds.secret_key.expose(),
            None,
            &self.region,
            SystemTime::now(),
        )
        .map_err(|e| Error::new(format!("cannot sign request: {e}")))?;
        for (name, value) in signed {
            let value = http::HeaderValue::from_str(&value)
                .map_err(|e| Error::new(format!("cannot sign request: {e}")))?;
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }

    /// Error for a response the caller did not expect. Authentication failures name the
    /// credentials instead of the operation: that is what the operator has to fix.
    pub fn unexpected(&self, resp: &Response, what: impl std::fmt::Display) -> Error {
        let api = resp.api_error();
        let code = resp.error_code();
        if resp.status == 403
            && matches!(
                code.as_str(),
                "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "XMinioAdminInvalidAccessKey"
            )
        {
            return Error::standalone(format!(
                "MinIO rejected the {} credentials ({code})",
                self.role.describe()
            ));
        }
        if code == "RequestTimeTooSkewed" {
            return Error::standalone(format!(
                "MinIO rejected the request signature: this machine's clock differs too much from MinIO's ({code})"
            ));
        }
        let answer = match api {
            Some(e) if !e.message.is_empty() => {
                format!("{} {code} ({})", resp.status, truncate(&e.message, 300))
            }
            Some(_) => format!("{} {code}", resp.status),
            // Bodiless answers (HEAD) only have the status.
            None => format!("HTTP {}", resp.status),
        };
        Error::new(format!("MinIO answered {answer}")).context(what)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

pub use s3_request::{object_path, uri_encode};

pub fn bucket_path(bucket: &str) -> String {
    format!("/{}", uri_encode(bucket, false))
}

/// `?a=b&c=d` with names and values encoded; an empty value yields the bare name (`?policy`).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&uri_encode(name, false));
        if !value.is_empty() {
            out.push('=');
            out.push_str(&uri_encode(value, false));
        }
    }
    out
}

/// Extracts `Code` and `Message` from an S3 XML error (read by s3-request, as the gateway does)
/// or a MinIO admin JSON error.
pub fn parse_error_body(body: &[u8]) -> Option<ApiError> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let code = v.get("Code")?.as_str()?.to_string();
        let message = v
            .get("Message")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
        return Some(ApiError { code, message });
    }
    s3_request::parse_error(text.as_bytes())
}

/// ETag of a single-part upload is the hex MD5 of the content; multipart ETags
/// (`<md5>-<parts>`) never match, which correctly forces a re-upload.
pub fn etag_matches(etag_header: &str, content_md5_hex: &str) -> bool {
    let etag = etag_header.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"').eq_ignore_ascii_case(content_md5_hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_s3_rules() {
        assert_eq!(uri_encode("animation.gif", true), "animation.gif");
        assert_eq!(uri_encode("a b+c/d~e_f-g", true), "a%20b%2Bc/d~e_f-g");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(uri_encode("ü*", true), "%C3%BC%2A");
        assert_eq!(uri_encode("=&?#%", false), "%3D%26%3F%23%25");
        assert_eq!(object_path("gifs", "dir/a b.gif"), "/gifs/dir/a%20b.gif");
        assert_eq!(bucket_path("gifs"), "/gifs");
    }

    #[test]
    fn query_strings() {
        assert_eq!(query(&[("policy", "")]), "?policy");
        assert_eq!(
            query(&[
                ("policyName", "p+1"),
                ("userOrGroup", "a/b"),
                ("isGroup", "false")
            ]),
            "?policyName=p%2B1&userOrGroup=a%2Fb&isGroup=false"
        );
        assert_eq!(query(&[]), "");
    }

    #[test]
    fn s3_xml_errors() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; so on</Message><Key>a</Key></Error>"#;
        assert_eq!(
            parse_error_body(body),
            Some(ApiError {
                code: "SignatureDoesNotMatch".into(),
                message: "The request signature we calculated does not match & so on".into()
            })
        );
    }

    #[test]
    fn admin_json_errors() {
        let body = br#"{"Code":"XMinioAdminNoSuchUser","Message":"The specified user does not exist.","Resource":"/minio/admin/v3/user-info"}"#;
        assert_eq!(
            parse_error_body(body),
            Some(ApiError {
                code: "XMinioAdminNoSuchUser".into(),
                message: "The specified user does not exist.".into()
            })
        );
    }

    #[test]
    fn unparseable_bodies() {
        assert_eq!(parse_error_body(b""), None);
        assert_eq!(parse_error_body(b"GIF89a"), None);
        assert_eq!(parse_error_body(&[0xff, 0xfe]), None);
        assert_eq!(parse_error_body(b"{\"x\":1}"), None);
        assert_eq!(parse_error_body(b"<Error></Error>"), None);
    }

    #[test]
    fn etag_comparison() {
        let md5 = "9e107d9d372bb6826bd81d3542a419d6";
        assert!(etag_matches("\"9e107d9d372bb6826bd81d3542a419d6\"", md5));
        assert!(etag_matches("9E107D9D372BB6826BD81D3542A419D6", md5));
        assert!(etag_matches("W/\"9e107d9d372bb6826bd81d3542a419d6\"", md5));
        assert!(!etag_matches("\"9e107d9d372bb6826bd81d3542a419d6-2\"", md5));
        assert!(!etag_matches("\"d41d8cd98f00b204e9800998ecf8427e\"", md5));
        assert!(!etag_matches("", md5));
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn client(role: Role) -> Client {
        Client::new(
            Endpoint::parse("http://127.0.0.1:1").unwrap(),
            "us-east-1",
            None,
            role,
            agent(Duration::from_secs(1), None),
        )
    }

    #[test]
    fn rejected_credentials_are_named() {
        let resp = response(
            403,
            "<Error><Code>InvalidAccessKeyId</Code><Message>x</Message></Error>",
        );
        assert_eq!(
            client(Role::Root)
                .unexpected(&resp, "create bucket gifs")
                .to_string(),
            "MinIO rejected the root credentials (InvalidAccessKeyId)"
        );
        assert_eq!(
            client(Role::App).unexpected(&resp, "x").to_string(),
            "MinIO rejected the app credentials (InvalidAccessKeyId)"
        );
    }

    #[test]
    fn other_errors_carry_context_code_and_message() {
        let resp = response(
            403,
            "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>",
        );
        assert_eq!(
            client(Role::Root)
                .unexpected(&resp, "create bucket gifs")
                .to_string(),
            "create bucket gifs: MinIO answered 403 AccessDenied (Access Denied.)"
        );
        let resp = response(404, "");
        assert_eq!(
            client(Role::Root).unexpected(&resp, "head").to_string(),
            "head: MinIO answered HTTP 404"
        );
    }

    #[test]
    fn ca_bundles() {
        assert_eq!(
            TlsRoots::from_pem(b"").unwrap_err(),
            "contains no PEM certificate"
        );
        assert_eq!(
            TlsRoots::from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .unwrap_err(),
            "contains no PEM certificate"
        );
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(TlsRoots::from_pem(pem).unwrap().len(), 1);
        assert!(format!("{:?}", TlsRoots::from_pem(pem).unwrap()).contains("1 certificate"));
    }

    /// Unsigned requests against a closed port fail with a message naming the endpoint.
    #[test]
    fn unreachable_endpoint_is_named() {
        let err = client(Role::Root)
            .send("GET", "/", &[], b"")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot reach MinIO at http://127.0.0.1:1: "),
            "{err}"
        );
    }
}
