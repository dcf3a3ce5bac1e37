//! How this project talks S3 to MinIO, in one place, so that the gateway (a wasm component) and
//! the seeder (a native binary) encode keys and sign requests identically.
//!
//! Requests are path-style (`/bucket/key`): virtual-host style would need per-bucket DNS that
//! MinIO deployments rarely have.
//!
//! Also here, so that the two callers cannot drift apart again: what an endpoint is and which
//! authority is sent and signed ([`Endpoint`]), which bucket names and keys MinIO takes
//! ([`check_bucket_name`], [`check_object_key`]), and reading S3 error documents
//! ([`parse_error`], [`error_token`]).

/// `Display` and `Error` for the rule errors here, which each describe themselves with a fixed
/// `message()` (fixed so that no message can repeat a value that might be a secret).
macro_rules! message_error {
    ($($name:ty),+) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.message())
            }
        }

        impl std::error::Error for $name {}
    )+};
}
pub(crate) use message_error;

mod endpoint;
mod error_doc;
mod names;

pub use endpoint::{Endpoint, EndpointError, Scheme};
pub use error_doc::{error_token, parse_error, ErrorDocument};
pub use names::{check_bucket_name, check_object_key, BucketError, KeyError, MAX_KEY_BYTES};

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign as sigv4_sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// SHA-256 of the empty payload, for GET and HEAD.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// S3-style percent-encoding: RFC 3986 unreserved characters stay, `/` stays when `keep_slash`,
/// every other byte becomes `%XX` (uppercase). This is also SigV4's canonical form, so with
/// [`PercentEncodingMode::Single`] the path we send and the path we sign are the same string.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
    out
}

/// `/bucket/key`, encoded for the wire and the signature alike.
pub fn object_path(bucket: &str, key: &str) -> String {
    format!("/{}/{}", uri_encode(bucket, false), uri_encode(key, true))
}

/// S3 differs from other AWS services: the payload hash is a signed header, the path is encoded
/// once (we already encoded it), and `..`/`//` inside a key are data, not path syntax.
pub fn signing_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

/// One request to sign. `url` must already be encoded (see [`uri_encode`]).
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// Headers to include in the signature (beyond `host`, which comes from the URL).
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body ([`EMPTY_PAYLOAD_SHA256`] for none).
    pub payload_sha256: &'a str,
}

/// The headers that make `request` acceptable to S3: `authorization`, `x-amz-date` and
/// `x-amz-content-sha256`, and `x-amz-security-token` (signed too) with temporary credentials'
/// session token. `host` is deliberately absent: the signer derives it from the URL's
/// authority, and HTTP clients send that same authority.
pub fn sign(
    request: &Request<'_>,
    access_key: &str,
    secret_key: &str,
    session_token: Option<&str>,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, Error> {
    let identity = Credentials::new(
        access_key,
        secret_key,
        session_token.map(str::to_string),
        None,
        "static",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(signing_settings())
        .build()?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Precomputed(request.payload_sha256.to_string()),
    )?;
    let (instructions, _signature) = sigv4_sign(signable, &params)?.into_parts();
    let (headers, _query) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| (h.name(), h.value().to_string()))
        .collect())
}

/// The media type for a key's extension, or `None` when the extension says nothing. No
/// script-capable document types: whatever the bucket holds, the gateway's origin must not
/// serve HTML on a guess.
pub fn content_type_for(key: &str) -> Option<&'static str> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "gif" => "image/gif",
        "png" => "image/png",
        "apng" => "image/apng",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    fn get<'a>(url: &'a str, headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request {
            method: "GET",
            url,
            headers,
            payload_sha256: EMPTY_PAYLOAD_SHA256,
        }
    }

    /// The GET Object example of the Amazon S3 SigV4 documentation ("Examples: Signature
    /// Calculations in AWS Signature Version 4"), signature published there.
    #[test]
    fn matches_the_published_s3_get_object_vector() {
        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let request = get(
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[("range", "bytes=0-9")],
        );
        let headers = sign(
            &request,
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            "us-east-1",
            time,
        )
        .unwrap();
        assert_eq!(
            header(&headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(header(&headers, "x-amz-date"), "20130524T000000Z");
        assert_eq!(
            header(&headers, "x-amz-content-sha256"),
            EMPTY_PAYLOAD_SHA256
        );
        assert!(
            headers.iter().all(|(n, _)| *n != "host"),
            "host must come from the URL, not from us"
        );
    }

    /// Path-style, with a port and a key that needs encoding. The expected signature was computed
    /// independently with botocore's S3SigV4Auth for the same inputs.
    #[test]
    fn path_style_keys_are_signed_as_sent() {
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
        let url = format!(
            "http://127.0.0.1:9000{}",
            object_path("gifs", "dir/my cat+1%/猫.gif")
        );
        assert_eq!(
            url,
            "http://127.0.0.1:9000/gifs/dir/my%20cat%2B1%25/%E7%8C%AB.gif"
        );
        let headers = sign(
            &get(&url, &[]),
            "gateway",
            "gateway-secret-key",
            None,
            "us-east-1",
            time,
        )
        .unwrap();
        let auth = header(&headers, "authorization");
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=gateway/20231114/us-east-1/s3/aws4_request, "
        ));
        assert!(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
        assert_eq!(
            auth.rsplit("Signature=").next().unwrap(),
            "11c0af25dee068b1d3a1c7d77ef95c24735351fe239e9080358b9bd1c953e2a1"
        );
    }

    /// Temporary credentials: the session token is sent as `x-amz-security-token` and signed.
    /// The expected signature was computed independently with botocore's S3SigV4Auth.
    #[test]
    fn a_session_token_is_sent_and_signed() {
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
        let headers = sign(
            &get("http://127.0.0.1:9000/gifs/animation.gif", &[]),
            "gateway",
            "secret-key-1",
            Some("session-token-1"),
            "us-east-1",
            time,
        )
        .unwrap();
        assert_eq!(header(&headers, "x-amz-security-token"), "session-token-1");
        let auth = header(&headers, "authorization");
        assert!(auth
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"));
        assert_eq!(
            auth.rsplit("Signature=").next().unwrap(),
            "cb778f382817171c0d877cc9c7d192f13d0b16e9795d4a17ba8f3e44d0214c26"
        );
    }

    fn authorization(url: &str, headers: &[(&str, &str)]) -> String {
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let signed = sign(
            &get(url, headers),
            "gateway",
            "secret-key-1",
            None,
            "us-east-1",
            time,
        )
        .unwrap();
        header(&signed, "authorization").to_string()
    }

    /// What the callers send as Host is `Endpoint::authority()`; what the signer signs is derived
    /// from the URL. Signing once with that Host given explicitly (the signer then takes it as
    /// is) and once without must agree, for every form, default ports of both schemes included.
    /// Had the authority kept `:80`, the two would differ, and so would MinIO's signature.
    #[test]
    fn the_sent_authority_is_the_signed_host() {
        for value in [
            "http://127.0.0.1:80",
            "http://127.0.0.1",
            "https://minio.example:443",
            "HTTPS://MinIO.Example:443/",
            "http://127.0.0.1:9000",
            "https://minio:8443",
            "http://minio:443",
            "http://[::1]:80",
            "http://[::1]:9000",
        ] {
            let endpoint = Endpoint::parse(value).unwrap();
            let url = endpoint.url(&object_path("gifs", "animation.gif"));
            assert_eq!(
                authorization(&url, &[]),
                authorization(&url, &[("host", endpoint.authority())]),
                "{value}"
            );
        }
    }

    /// The signer's own default-port rule, which `Endpoint` mirrors: were aws-sigv4 to start
    /// signing `:443`, this fails before MinIO does.
    #[test]
    fn the_signer_drops_default_ports_only() {
        let path = "/gifs/animation.gif";
        for (with_port, without) in [
            ("http://minio:80", "http://minio"),
            ("https://minio:443", "https://minio"),
        ] {
            assert_eq!(
                authorization(&format!("{with_port}{path}"), &[]),
                authorization(&format!("{without}{path}"), &[])
            );
        }
        assert_ne!(
            authorization(&format!("https://minio:80{path}"), &[]),
            authorization(&format!("https://minio{path}"), &[])
        );
    }

    #[test]
    fn encoding_follows_s3_rules() {
        assert_eq!(uri_encode("animation.gif", true), "animation.gif");
        assert_eq!(uri_encode("my cat+dog%.gif", true), "my%20cat%2Bdog%25.gif");
        assert_eq!(
            uri_encode("dir/sub dir/x~y_z-1.gif", true),
            "dir/sub%20dir/x~y_z-1.gif"
        );
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(uri_encode("café", true), "caf%C3%A9");
        assert_eq!(object_path("gifs", "a b/c"), "/gifs/a%20b/c");
    }

    #[test]
    fn content_types_come_from_the_last_segment() {
        assert_eq!(content_type_for("x/cat.GIF"), Some("image/gif"));
        assert_eq!(content_type_for("cat.jpeg"), Some("image/jpeg"));
        assert_eq!(content_type_for("dir.v2/ANIM.GIF"), Some("image/gif"));
        assert_eq!(content_type_for("archive.tar.zst"), None);
        assert_eq!(content_type_for("README"), None);
        assert_eq!(content_type_for("dir.gif/readme"), None);
        assert_eq!(
            content_type_for("page.html"),
            None,
            "never guess a script-capable type"
        );
    }
}
