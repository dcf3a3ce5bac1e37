//! Routing: which answer a request gets. The upstream call is `upstream`, the answers are
//! `respond`, and the opt-in cache in front of MinIO is `edge_cache`.

use std::cell::RefCell;
use std::hash::{BuildHasher, RandomState};

use spin_sdk::http::{HeaderMap, Method, Request};
use spin_sdk::wasip3::clocks::monotonic_clock;
use spin_sdk::wasip3::http::types::Response;

use crate::access_log::{self, Record, REQUEST_ID_HEADER};
use crate::headers::{self, HeaderList, NOSNIFF};
use crate::key::{self, Route};
use crate::respond::{self, Reply};
use crate::{edge_cache, instance, page, upstream};

pub async fn serve(request: Request) -> Response {
    let started_ns = monotonic_clock::now();
    let request_headers = header_list(request.headers());
    let header = |name: &str| headers::value(&request_headers, name);
    let mut reply = Reply {
        head_only: false,
        extra: Vec::new(),
        default_cache_control: None,
        log: RefCell::new(record(request.method(), header(REQUEST_ID_HEADER))),
        log_enabled: true,
        started_ns,
    };
    // Read before the method check: a preflight's answer depends on `cors_allowed_origins`.
    let instance = instance::get().await;
    let settings = &instance.settings;
    reply.log_enabled = settings.access_log != Ok(false);
    let origin = header("origin");
    reply.head_only = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        ref method => {
            let preflight = match (&settings.cors, header("access-control-request-method")) {
                (Ok(Some(cors)), Some(wanted)) if *method == Method::OPTIONS => {
                    cors.preflight_headers(origin, wanted)
                }
                _ => None,
            };
            reply.log.get_mut().route = access_log::Route::Other;
            return other_method(preflight, &reply).await;
        }
    };
    let cors_problem = match &settings.cors {
        Ok(Some(cors)) => {
            reply.extra = cors.response_headers(origin);
            None
        }
        Ok(None) => None,
        Err(err) => Some(err),
    };
    reply.default_cache_control =
        (settings.config.as_ref().ok()).and_then(|c| c.default_cache_control.as_deref());
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let route = match key::route(path) {
        Ok(route) => route,
        Err(err) => {
            reply.log.get_mut().route = access_log::Route::Invalid;
            return respond::text(400, &format!("{}\n", err.message()), &[], &reply).await;
        }
    };
    let log = reply.log.get_mut();
    match &route {
        Route::Index => log.route = access_log::Route::Page,
        Route::Health => log.route = access_log::Route::Health,
        Route::Object(key) => log.key = Some(key.clone()),
    }
    // The health check is every setting parsed, from the settings alone and never MinIO: a MinIO
    // outage must leave the pods ready, so that clients get a quick 502, not a refused connection.
    let health = matches!(route, Route::Health);
    if let Some(err) = cors_problem.or(settings.problem().filter(|_| health)) {
        return respond::not_configured(err, &reply).await;
    }
    match route {
        Route::Health => respond::text(200, "ok\n", &[], &reply).await,
        Route::Index => match &settings.index_object {
            Ok(index_object) => {
                let html = page::index_html(index_object);
                respond::bytes(200, &page::PAGE_HEADERS, html.as_bytes(), &reply).await
            }
            Err(err) => respond::not_configured(err, &reply).await,
        },
        Route::Object(key) => {
            if let Some(response) =
                edge_cache::serve(&instance, &request_headers, &key, &reply).await
            {
                return response;
            }
            let config = match &settings.config {
                Ok(config) => config,
                Err(err) => return respond::not_configured(err, &reply).await,
            };
            match upstream::fetch_object(
                &request_headers,
                config,
                &key,
                reply.head_only,
                &reply.log,
            )
            .await
            {
                Ok(upstream) => respond::relay(upstream, &key, &reply).await,
                Err(reason) => respond::upstream_unavailable(&reason, &reply).await,
            }
        }
    }
}

/// Any method but GET and HEAD. A CORS preflight the settings allow gets its 204 here, never
/// from MinIO; every other one (an origin or a method not allowed, CORS off or misconfigured)
/// gets the 405 any other method gets, without CORS headers.
async fn other_method(preflight: Option<HeaderList>, reply: &Reply<'_>) -> Response {
    match preflight {
        Some(mut list) => {
            list.push((NOSNIFF.0.into(), NOSNIFF.1.into()));
            respond::complete(204, &list, Vec::new(), reply).await
        }
        None => {
            respond::text(
                405,
                "method not allowed\n",
                &[("allow", "GET, HEAD")],
                reply,
            )
            .await
        }
    }
}

/// The start of a request's access-log line: a well-formed `X-Request-Id` is kept, any other
/// replaced by a new random one.
fn record(method: &Method, incoming_id: Option<&str>) -> Record {
    let id = access_log::incoming_id(incoming_id).map_or_else(
        || {
            // Each RandomState has keys of its own, from the host's random seed.
            let random = RandomState::new();
            access_log::new_id(random.hash_one(1u8), random.hash_one(2u8))
        },
        str::to_string,
    );
    Record {
        time_ms: crate::now_ms(),
        id,
        method: method.as_str().to_string(),
        ..Record::default()
    }
}

fn header_list(headers: &HeaderMap) -> HeaderList {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect()
}
