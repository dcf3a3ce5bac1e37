//! When the response head is handed to the host, and with how much of the body.
//!
//! Spin's HTTP server (3.6 and 4.0) does not set `TCP_NODELAY`. If the head goes out before any
//! body byte is ready, it is a segment of its own, and Nagle's algorithm then holds the body back
//! until the client acknowledges that segment, which a client waiting for the rest of the
//! response delays by about 40 ms. Under WASIp3 a body is a stream the host reads after it has
//! the head, so the gateway cannot hand both over at once; it makes the body ready as early as it
//! can: a small body is read from MinIO completely first and written in one piece, so the host
//! finds all of it on its first read. A large one is MinIO's own stream, handed to the host.

/// Bodies up to this size (the page, error texts, objects whose length MinIO states, any GIF a
/// page would show) are held completely before the head leaves. Larger ones stream, so the
/// component's memory stays flat whatever the object size.
pub const COMPLETE_LIMIT: u64 = 1 << 20;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum BodyPlan {
    /// No body (HEAD, 304): the head is the whole response.
    Empty,
    /// Read exactly this many bytes, then hand head and body over at once.
    Complete(u64),
    /// Unknown or too large to hold: the head goes with the first chunk, the rest streams.
    Stream,
}

/// `length` is what the body will hold if known (Content-Length, or the size of a range the
/// gateway cuts out itself).
pub fn plan(length: Option<u64>, has_body: bool) -> BodyPlan {
    match length {
        _ if !has_body => BodyPlan::Empty,
        Some(0) => BodyPlan::Empty,
        Some(n) if n <= COMPLETE_LIMIT => BodyPlan::Complete(n),
        _ => BodyPlan::Stream,
    }
}

/// The body length a header list announces, if it announces exactly one valid one.
pub fn content_length(headers: &[(String, Vec<u8>)]) -> Option<u64> {
    let mut values = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    let (_, value) = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let text = std::str::from_utf8(value).ok()?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_known_bodies_are_held_large_or_unknown_ones_stream() {
        assert_eq!(plan(Some(54_192), true), BodyPlan::Complete(54_192));
        assert_eq!(
            plan(Some(COMPLETE_LIMIT), true),
            BodyPlan::Complete(COMPLETE_LIMIT)
        );
        assert_eq!(plan(Some(COMPLETE_LIMIT + 1), true), BodyPlan::Stream);
        assert_eq!(plan(Some(100 << 20), true), BodyPlan::Stream);
        assert_eq!(plan(None, true), BodyPlan::Stream);
    }

    #[test]
    fn bodiless_responses_are_complete_at_once() {
        assert_eq!(plan(Some(54_192), false), BodyPlan::Empty);
        assert_eq!(plan(None, false), BodyPlan::Empty);
        assert_eq!(plan(Some(0), true), BodyPlan::Empty);
    }

    #[test]
    fn content_length_is_read_strictly() {
        let h = |v: &str| vec![("Content-Length".to_string(), v.as_bytes().to_vec())];
        assert_eq!(content_length(&h("54192")), Some(54_192));
        assert_eq!(content_length(&h(" 7 ")), Some(7));
        for bad in ["", "-1", "+5", "1e3", "12 34", "99999999999999999999999"] {
            assert_eq!(content_length(&h(bad)), None, "{bad:?}");
        }
        let mut two = h("5");
        two.extend(h("5"));
        assert_eq!(content_length(&two), None, "two values are ambiguous");
        assert_eq!(content_length(&[]), None);
    }
}
