//! The opt-in edge cache's glue: Spin's default key-value store in front of MinIO. Off unless the
//! `edge_cache` variable turns it on; the rules live in `cache`.
//!
//! A fresh entry is answered without MinIO (three variable lookups, one store read). A stale one
//! is revalidated with `If-None-Match`: a 304 keeps it, a 200 replaces it. A miss fills the
//! cache only from a plain GET; HEAD, ranges and conditionals on a miss go the uncached way.

use std::time::{SystemTime, UNIX_EPOCH};

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::key_value::Store;

use crate::cache::{self, Answer, Entry};
use crate::config::{self, Config};
use crate::gateway;
use crate::headers::{self, DeferredOutcome, HeaderList};

/// Which way the cache answered, for the client and the tests: `hit`, `revalidated` or `miss`.
const STATE_HEADER: &str = "x-edge-cache";

/// Answers the request from or through the cache and returns `None`, or hands `out` back when
/// the request should take the uncached way (cache off or unusable, or nothing to fill).
pub fn serve(
    request: &IncomingRequest,
    out: ResponseOutparam,
    key: &str,
    head_only: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<ResponseOutparam> {
    let settings = match config::edge_cache_from_lookup(lookup) {
        Ok(Some(settings)) => settings,
        Ok(None) => return Some(out),
        Err(err) => {
            gateway::not_configured(out, err, head_only);
            return None;
        }
    };
    let (endpoint, bucket) = match config::location_from_lookup(lookup) {
        Ok(location) => location,
        Err(err) => {
            gateway::not_configured(out, err, head_only);
            return None;
        }
    };
    let store = match Store::open_default() {
        Ok(store) => store,
        Err(err) => {
            // The manifest grants the store; without it the gateway still works, uncached.
            eprintln!("gif-gateway: edge cache is on but the default key-value store is unavailable: {err}");
            return Some(out);
        }
    };
    let identity = cache::identity(&endpoint.url(""), &bucket, key);
    let slot = cache::slot_key(&identity, &settings);
    let request_headers = request.headers().entries();
    let cached = store
        .get(&slot)
        .ok()
        .flatten()
        .and_then(|bytes| Entry::decode(&bytes))
        .filter(|entry| entry.identity == identity);
    let now = now_ms();
    match cached {
        Some(entry) if entry.is_fresh(now, &settings) => {
            answer(out, &entry, &request_headers, head_only, "hit");
            None
        }
        Some(entry) => revalidate(
            out,
            entry,
            &request_headers,
            &store,
            &slot,
            key,
            head_only,
            lookup,
        ),
        None => fill(
            out,
            &identity,
            &request_headers,
            &store,
            &slot,
            key,
            head_only,
            lookup,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn revalidate(
    out: ResponseOutparam,
    mut entry: Entry,
    request_headers: &HeaderList,
    store: &Store,
    slot: &str,
    key: &str,
    head_only: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<ResponseOutparam> {
    let config = match Config::from_lookup(lookup) {
        Ok(config) => config,
        Err(err) => {
            gateway::not_configured(out, err, head_only);
            return None;
        }
    };
    let etag = entry.etag().unwrap_or_default().as_bytes().to_vec();
    let upstream = match gateway::fetch(vec![("if-none-match".into(), etag)], &config, key, false) {
        Ok(upstream) => upstream,
        Err(reason) => {
            gateway::upstream_unavailable(out, &reason, head_only);
            return None;
        }
    };
    match upstream.status() {
        304 => {
            entry.checked_at_ms = now_ms();
            let _ = store.set(slot, &entry.encode());
            answer(out, &entry, request_headers, head_only, "revalidated");
            None
        }
        200 => {
            let response_headers =
                headers::response_headers(200, &upstream.headers().entries(), key);
            match read_entry(upstream, &entry.identity, response_headers) {
                Some(fresh) => {
                    let _ = store.set(slot, &fresh.encode());
                    answer(out, &fresh, request_headers, head_only, "miss");
                    None
                }
                None => {
                    // Changed into something the cache does not keep: forget it, go uncached.
                    let _ = store.delete(slot);
                    Some(out)
                }
            }
        }
        _ => {
            // Gone, forbidden or failing: the uncached way answers that, and the entry goes.
            let _ = store.delete(slot);
            Some(out)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fill(
    out: ResponseOutparam,
    identity: &str,
    request_headers: &HeaderList,
    store: &Store,
    slot: &str,
    key: &str,
    head_only: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<ResponseOutparam> {
    let (forwarded, deferred) = headers::plan_request_headers(request_headers);
    if head_only || !forwarded.is_empty() || deferred.is_some() {
        return Some(out);
    }
    let config = match Config::from_lookup(lookup) {
        Ok(config) => config,
        Err(err) => {
            gateway::not_configured(out, err, head_only);
            return None;
        }
    };
    let upstream = match gateway::fetch(Vec::new(), &config, key, false) {
        Ok(upstream) => upstream,
        Err(reason) => {
            gateway::upstream_unavailable(out, &reason, head_only);
            return None;
        }
    };
    let status = upstream.status();
    let response_headers = headers::response_headers(status, &upstream.headers().entries(), key);
    if !cache::cacheable(status, &response_headers) {
        gateway::respond_upstream(upstream, out, None, key, head_only);
        return None;
    }
    match read_entry(upstream, identity, response_headers) {
        Some(entry) => {
            let _ = store.set(slot, &entry.encode());
            answer(out, &entry, request_headers, head_only, "miss");
        }
        None => gateway::respond_text(out, 502, "object store error\n", &[], head_only),
    }
    None
}

/// Reads a cacheable 200's body into an entry; `None` if it is not cacheable or ends early.
fn read_entry(
    upstream: spin_sdk::http::IncomingResponse,
    identity: &str,
    response_headers: HeaderList,
) -> Option<Entry> {
    if !cache::cacheable(200, &response_headers) {
        return None;
    }
    let length = crate::body::content_length(&response_headers)?;
    let incoming_body = upstream.consume().ok()?;
    let body = {
        let input = incoming_body.stream().ok()?;
        gateway::read_exactly(&input, length).ok()?
    };
    Some(Entry {
        identity: identity.to_string(),
        checked_at_ms: now_ms(),
        headers: response_headers,
        body,
    })
}

fn answer(
    out: ResponseOutparam,
    entry: &Entry,
    request_headers: &HeaderList,
    head_only: bool,
    state: &str,
) {
    let with_state = |list: &HeaderList| {
        let mut list = list.clone();
        list.push((STATE_HEADER.into(), state.as_bytes().to_vec()));
        list
    };
    let empty: &[u8] = &[];
    match cache::answer(entry, request_headers) {
        Answer::NotModified(list) => gateway::respond_complete(out, 304, &with_state(&list), empty),
        Answer::Body(DeferredOutcome::Full) => gateway::respond_complete(
            out,
            200,
            &with_state(&entry.headers),
            if head_only { empty } else { &entry.body },
        ),
        Answer::Body(DeferredOutcome::Partial {
            first,
            last,
            headers,
        }) => gateway::respond_complete(
            out,
            206,
            &with_state(&headers),
            if head_only {
                empty
            } else {
                &entry.body[first as usize..=last as usize]
            },
        ),
        Answer::Body(DeferredOutcome::Unsatisfiable { content_range }) => gateway::respond_text(
            out,
            416,
            "range not satisfiable\n",
            &[("content-range", &content_range), (STATE_HEADER, state)],
            head_only,
        ),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
