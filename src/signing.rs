//! SigV4 signing of the one request the gateway makes per client request.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;

/// SHA-256 of the empty payload: GET and HEAD carry no body, so there is nothing to hash.
pub const EMPTY_PAYLOAD_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The headers a request needs to be accepted by S3: `authorization`, `x-amz-date` and
/// `x-amz-content-sha256`. `host` is deliberately absent: the signer derives it from the URL's
/// authority, and the HTTP client sends that same authority.
pub fn sign_s3_request(
    method: &str,
    url: &str,
    headers_to_sign: &[(&str, &str)],
    access_key: &str,
    secret_key: &str,
    region: &str,
    time: SystemTime,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let identity = Credentials::new(access_key, secret_key, None, None, "spin-variables").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(s3_settings())
        .build()?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        headers_to_sign.iter().copied(),
        SignableBody::Precomputed(EMPTY_PAYLOAD_SHA256.to_string()),
    )?;
    let (instructions, _signature) = sign(request, &params)?.into_parts();
    let (headers, _query) = instructions.into_parts();
    Ok(headers.into_iter().map(|h| (h.name(), h.value().to_string())).collect())
}

/// S3 differs from other AWS services: the payload hash is a signed header, the path is encoded
/// once (we already encoded the key), and `..`/`//` inside a key are data, not path syntax.
fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap()
    }

    /// The GET Object example of the Amazon S3 SigV4 documentation ("Examples: Signature
    /// Calculations in AWS Signature Version 4"), signature published there.
    #[test]
    fn matches_the_published_s3_get_object_vector() {
        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let headers = sign_s3_request(
            "GET",
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[("range", "bytes=0-9")],
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
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
        assert_eq!(header(&headers, "x-amz-content-sha256"), EMPTY_PAYLOAD_SHA256);
        assert!(headers.iter().all(|(n, _)| *n != "host"), "host must come from the URL, not from us");
    }

    /// Path-style, with a port and a key that needs encoding. The expected signature was computed
    /// independently with botocore's S3SigV4Auth for the same inputs.
    #[test]
    fn path_style_keys_are_signed_as_sent() {
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
        let url = format!("http://127.0.0.1:9000/gifs/{}", crate::key::encode_key("dir/my cat+1%/猫.gif"));
        assert_eq!(url, "http://127.0.0.1:9000/gifs/dir/my%20cat%2B1%25/%E7%8C%AB.gif");
        let headers = sign_s3_request("GET", &url, &[], "gateway", "gateway-secret-key", "us-east-1", time).unwrap();
        let auth = header(&headers, "authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=gateway/20231114/us-east-1/s3/aws4_request, "));
        assert!(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
        assert_eq!(auth.rsplit("Signature=").next().unwrap(), BOTOCORE_PATH_STYLE_SIGNATURE);
    }

    const BOTOCORE_PATH_STYLE_SIGNATURE: &str = "11c0af25dee068b1d3a1c7d77ef95c24735351fe239e9080358b9bd1c953e2a1";
}
