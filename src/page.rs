//! The page `/` serves: the configured object as an image, nothing else.

/// Security headers for the page: it loads one same-origin image and runs no script.
pub const PAGE_HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/html; charset=utf-8"),
    (
        "content-security-policy",
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
    ),
    ("cache-control", "no-cache"),
    ("x-content-type-options", "nosniff"),
];

/// The empty data-URL icon stops browsers from asking for `/favicon.ico`, which would be a
/// pointless upstream request and a 404 in the console.
///
/// `index_object` was validated as a key; `encode_key` leaves only `[A-Za-z0-9-._~/%]`, which
/// needs no HTML escaping inside a quoted attribute.
pub fn index_html(index_object: &str) -> String {
    let src = crate::key::encode_key(index_object);
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>GIF gateway</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <style>html,body{{height:100%;margin:0}}body{{display:grid;place-items:center;background:#111}}\
         img{{max-width:100vw;max-height:100vh;image-rendering:pixelated}}</style>\n\
         </head>\n<body>\n<img id=\"gif\" src=\"/{src}\" alt=\"Animated GIF served from a private MinIO bucket\">\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_points_at_the_encoded_index_object() {
        let html = index_html("cats/my \"cat\" <1>.gif");
        assert!(
            html.contains("src=\"/cats/my%20%22cat%22%20%3C1%3E.gif\""),
            "{html}"
        );
        assert!(!html.contains("<1>"), "key must not inject markup");
        assert!(html.starts_with("<!doctype html>"));
    }
}
