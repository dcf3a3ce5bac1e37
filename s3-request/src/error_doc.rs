//! Reading S3's XML error documents (`<Error><Code>…</Code><Message>…</Message>…</Error>`).
//!
//! Not an XML parser: S3 error bodies are flat, machine-written, and we only ever need one
//! element's text. A body we cannot read is simply "no detail", never an error of its own.

/// `Code` and `Message` of an S3 error, entities decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDocument {
    pub code: String,
    pub message: String,
}

/// The document's `Code` (required) and `Message` (empty when absent), or `None` for anything
/// that is not an XML error document.
pub fn parse_error(body: &[u8]) -> Option<ErrorDocument> {
    let text = std::str::from_utf8(body).ok()?.trim_start();
    if !text.starts_with('<') {
        return None;
    }
    Some(ErrorDocument {
        code: xml_unescape(element(text, "Code")?),
        message: element(text, "Message")
            .map(xml_unescape)
            .unwrap_or_default(),
    })
}

/// One element's text when it is a plain token (ASCII letters and digits): error codes, sizes.
/// Anything else is refused rather than decoded, so that what a caller logs or copies into a
/// header can never carry text S3 echoed from the request.
pub fn error_token<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    let value = element(std::str::from_utf8(body).ok()?, name)?;
    (!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(value)
}

/// The raw text between the first `<name>` and the `</name>` after it.
fn element<'a>(doc: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = doc.find(&open)? + open.len();
    let len = doc[start..].find(&format!("</{name}>"))?;
    Some(&doc[start..start + len])
}

/// The five predefined entities and the numeric forms MinIO writes for quotes. `&amp;` goes
/// last so that `&amp;lt;` stays the text `&lt;`.
fn xml_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_SUCH_KEY: &[u8] =
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
<Message>The specified key does not exist.</Message><Key>a &amp; b</Key></Error>";

    #[test]
    fn code_and_message_are_read_and_decoded() {
        assert_eq!(
            parse_error(NO_SUCH_KEY),
            Some(ErrorDocument {
                code: "NoSuchKey".into(),
                message: "The specified key does not exist.".into()
            })
        );
        let body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>a &amp; b &lt;c&gt; &amp;lt; &#34;d&#39;</Message></Error>";
        assert_eq!(parse_error(body).unwrap().message, "a & b <c> &lt; \"d'");
        assert_eq!(
            parse_error(b"  <Error><Code>X</Code></Error>"),
            Some(ErrorDocument {
                code: "X".into(),
                message: String::new()
            })
        );
    }

    #[test]
    fn other_bodies_have_no_error_document() {
        for body in [
            &b""[..],
            b"GIF89a",
            &[0xff, 0xfe],
            b"{\"Code\":\"X\"}",
            b"<Error></Error>",
            b"<Error><Code>unterminated",
        ] {
            assert_eq!(parse_error(body), None, "{body:?}");
        }
    }

    #[test]
    fn tokens_are_only_plain_values() {
        assert_eq!(error_token(NO_SUCH_KEY, "Code"), Some("NoSuchKey"));
        let range =
            b"<Error><Code>InvalidRange</Code><ActualObjectSize>54192</ActualObjectSize></Error>";
        assert_eq!(error_token(range, "ActualObjectSize"), Some("54192"));
        assert_eq!(error_token(NO_SUCH_KEY, "Message"), None, "has spaces");
        assert_eq!(error_token(NO_SUCH_KEY, "Key"), None, "has an entity");
        assert_eq!(error_token(b"<Error><Code></Code></Error>", "Code"), None);
        assert_eq!(error_token(b"not xml", "Code"), None);
        assert_eq!(error_token(&[0xff], "Code"), None);
    }
}
