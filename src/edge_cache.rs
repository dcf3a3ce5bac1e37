//! The opt-in edge cache's glue: Spin's default key-value store in front of MinIO. Off unless the
//! `edge_cache` variable turns it on; the rules live in `cache`.
//!
//! A fresh entry is answered without MinIO: from the instance's own copy when it has one (no host
//! call at all), else with one store read. A stale one, or any one a client asks `no-cache` for,
//! is revalidated with `If-None-Match`: a 304 keeps it, a 200 replaces it, and a failing MinIO
//! (no answer, or a 5xx) gets it served `stale` within `stale_if_error`. A miss fills the cache
//! only from a plain GET; HEAD, ranges and conditionals on a miss go the uncached way.

use std::cell::RefCell;
use std::rc::Rc;

use spin_sdk::key_value::Store;
use spin_sdk::wasip3::http::types::Response;

use crate::cache::{self, Answer, Entry, Memo};
use crate::config::Config;
use crate::headers::{self, DeferredOutcome, HeaderList};
use crate::instance::Instance;
use crate::now_ms;
use crate::respond::{self, Reply};
use crate::upstream::{self, Upstream};

/// Which way the cache answered, for the client and the tests: `hit`, `revalidated`, `stale` or
/// `miss`.
const STATE_HEADER: &str = "x-edge-cache";

/// The answer from or through the cache, or `None` when the request should take the uncached
/// way (cache off or unusable, or nothing to fill).
pub async fn serve(
    instance: &Instance,
    request_headers: &HeaderList,
    key: &str,
    reply: &Reply<'_>,
) -> Option<Response> {
    let settings = match &instance.settings.edge_cache {
        Ok(Some(settings)) => settings,
        Ok(None) => return None,
        Err(err) => return Some(respond::not_configured(err, reply).await),
    };
    let store = instance.store.as_ref()?;
    let config = match &instance.settings.config {
        Ok(config) => config,
        Err(err) => return Some(respond::not_configured(err, reply).await),
    };
    let identity = cache::identity(&config.endpoint.url(""), &config.bucket, key);
    let slot = cache::slot_key(&identity, settings);
    let revalidate = cache::client_wants_revalidation(request_headers);
    let fresh = |entry: &Entry| !revalidate && entry.is_fresh(now_ms(), settings);
    let memo = instance.memo.borrow().get(&slot);
    if let Some(entry) = memo.filter(|e| e.identity == identity && fresh(e)) {
        return Some(answer(&entry, request_headers, reply, "hit").await);
    }
    let cache = Slot {
        store,
        memo: &instance.memo,
        slot: &slot,
        config,
        key,
        settings,
    };
    let cached = store
        .get(&slot)
        .await
        .ok()
        .flatten()
        .and_then(|bytes| Entry::decode(&bytes))
        .filter(|entry| entry.identity == identity);
    match cached {
        Some(entry) if fresh(&entry) => {
            let entry = Rc::new(entry);
            cache.memo.borrow_mut().put(&slot, entry.clone());
            Some(answer(&entry, request_headers, reply, "hit").await)
        }
        Some(entry) => cache.revalidate(entry, request_headers, reply).await,
        None => cache.fill(&identity, request_headers, reply).await,
    }
}

/// One object's place in the store (and in the instance's copies), and how to ask MinIO for it.
struct Slot<'a> {
    store: &'a Store,
    memo: &'a RefCell<Memo>,
    slot: &'a str,
    config: &'a Config,
    key: &'a str,
    settings: &'a cache::Settings,
}

impl Slot<'_> {
    async fn keep(&self, entry: &Entry) {
        let _ = self.store.set(self.slot, &entry.encode()).await;
        self.memo
            .borrow_mut()
            .put(self.slot, Rc::new(entry.clone()));
    }

    async fn forget(&self) {
        self.memo.borrow_mut().remove(self.slot);
        let _ = self.store.delete(self.slot).await;
    }

    /// Checks a stale entry with MinIO and answers from that one response, whatever it says:
    /// a failing store gets one request per client request, never two.
    async fn revalidate(
        &self,
        mut entry: Entry,
        request_headers: &HeaderList,
        reply: &Reply<'_>,
    ) -> Option<Response> {
        let etag = entry.etag().unwrap_or_default().as_bytes().to_vec();
        let forwarded = vec![("if-none-match".into(), etag)];
        let result = upstream::fetch(forwarded, self.config, self.key, false, &reply.log).await;
        let failed = match &result {
            Err(reason) => Some(reason.clone()),
            Ok(upstream) if upstream.status >= 500 => Some(format!("status {}", upstream.status)),
            Ok(_) => None,
        };
        if let Some(reason) = failed.filter(|_| entry.may_serve_stale(now_ms(), self.settings)) {
            eprintln!("gif-gateway: object store failed ({reason}); serving a stale copy");
            return Some(answer(&entry, request_headers, reply, "stale").await);
        }
        let upstream = match result {
            Ok(upstream) => upstream,
            Err(reason) => return Some(respond::upstream_unavailable(&reason, reply).await),
        };
        match upstream.status {
            304 => {
                entry.refresh(&upstream.headers, self.key);
                entry.checked_at_ms = now_ms();
                if cache::cacheable(200, &entry.headers) {
                    self.keep(&entry).await;
                } else {
                    // Now marked no-store or private: answer this once, keep nothing.
                    self.forget().await;
                }
                Some(answer(&entry, request_headers, reply, "revalidated").await)
            }
            200 => {
                let response_headers = headers::response_headers(200, &upstream.headers, self.key);
                if !cache::cacheable(200, &response_headers) {
                    // Changed into something the cache does not keep: forget it, relay it.
                    self.forget().await;
                    return Some(respond::relay(upstream, self.key, reply).await);
                }
                Some(
                    match read_entry(upstream, &entry.identity, response_headers).await {
                        Some(fresh) => {
                            self.keep(&fresh).await;
                            answer(&fresh, request_headers, reply, "miss").await
                        }
                        None => respond::text(502, "object store error\n", &[], reply).await,
                    },
                )
            }
            status => {
                // Gone or forbidden: so is the entry. A failing store keeps it (stale, checked
                // again next time). Either way the client gets what MinIO said, as uncached.
                if matches!(status, 403 | 404) {
                    self.forget().await;
                }
                Some(respond::relay(upstream, self.key, reply).await)
            }
        }
    }

    async fn fill(
        &self,
        identity: &str,
        request_headers: &HeaderList,
        reply: &Reply<'_>,
    ) -> Option<Response> {
        let (forwarded, if_range) = headers::plan_request_headers(request_headers);
        if reply.head_only || !forwarded.is_empty() || if_range.is_some() {
            return None;
        }
        let upstream =
            match upstream::fetch(Vec::new(), self.config, self.key, false, &reply.log).await {
                Ok(upstream) => upstream,
                Err(reason) => return Some(respond::upstream_unavailable(&reason, reply).await),
            };
        let response_headers =
            headers::response_headers(upstream.status, &upstream.headers, self.key);
        if !cache::cacheable(upstream.status, &response_headers) {
            return Some(respond::relay(upstream, self.key, reply).await);
        }
        Some(
            match read_entry(upstream, identity, response_headers).await {
                Some(entry) => {
                    self.keep(&entry).await;
                    answer(&entry, request_headers, reply, "miss").await
                }
                None => respond::text(502, "object store error\n", &[], reply).await,
            },
        )
    }
}

/// Reads a cacheable 200's body into an entry; `None` if it is not cacheable or ends early.
async fn read_entry(
    upstream: Upstream,
    identity: &str,
    response_headers: HeaderList,
) -> Option<Entry> {
    if !cache::cacheable(200, &response_headers) {
        return None;
    }
    let length = crate::body::content_length(&response_headers)?;
    let body = upstream::read_exactly(&mut upstream.body(), length)
        .await
        .ok()?;
    Some(Entry {
        identity: identity.to_string(),
        checked_at_ms: now_ms(),
        headers: response_headers,
        body,
    })
}

async fn answer(
    entry: &Entry,
    request_headers: &HeaderList,
    reply: &Reply<'_>,
    state: &'static str,
) -> Response {
    reply.log.borrow_mut().cache = Some(state);
    let with_state = |list: &HeaderList| {
        let mut list = list.clone();
        list.push((STATE_HEADER.into(), state.as_bytes().to_vec()));
        list
    };
    let body = |bytes: &[u8]| {
        if reply.head_only {
            Vec::new()
        } else {
            bytes.to_vec()
        }
    };
    match cache::answer(entry, request_headers) {
        Answer::NotModified(list) => {
            respond::complete(304, &with_state(&list), Vec::new(), reply).await
        }
        Answer::Body(DeferredOutcome::Full) => {
            respond::complete(200, &with_state(&entry.headers), body(&entry.body), reply).await
        }
        Answer::Body(DeferredOutcome::Partial {
            first,
            last,
            headers,
        }) => {
            let part = &entry.body[first as usize..=last as usize];
            respond::complete(206, &with_state(&headers), body(part), reply).await
        }
        Answer::Body(DeferredOutcome::Unsatisfiable { content_range }) => {
            respond::range_not_satisfiable(Some(content_range), &[(STATE_HEADER, state)], reply)
                .await
        }
    }
}
