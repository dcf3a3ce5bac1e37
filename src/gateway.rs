//! Routing: which answer a request gets. The upstream call is `upstream`, the answers are
//! `respond`, and the opt-in cache in front of MinIO is `edge_cache`.

use spin_sdk::http::{HeaderMap, Method, Request};
use spin_sdk::wasip3::http::types::Response;

use crate::headers::HeaderList;
use crate::key::{self, Route};
use crate::{edge_cache, instance, page, respond, upstream};

pub async fn serve(request: Request) -> Response {
    let head_only = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            return respond::text(
                405,
                "method not allowed\n",
                &[("allow", "GET, HEAD")],
                false,
            )
            .await
        }
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let route = match key::route(path) {
        Ok(route) => route,
        Err(err) => {
            return respond::text(400, &format!("{}\n", err.message()), &[], head_only).await
        }
    };
    let instance = instance::get().await;
    let settings = &instance.settings;
    match route {
        Route::Index => match &settings.index_object {
            Ok(index_object) => {
                let html = page::index_html(index_object);
                respond::bytes(200, &page::PAGE_HEADERS, html.as_bytes(), head_only).await
            }
            Err(err) => respond::not_configured(err, head_only).await,
        },
        Route::Object(key) => {
            let request_headers = header_list(request.headers());
            if let Some(response) =
                edge_cache::serve(&instance, &request_headers, &key, head_only).await
            {
                return response;
            }
            let config = match &settings.config {
                Ok(config) => config,
                Err(err) => return respond::not_configured(err, head_only).await,
            };
            match upstream::fetch_object(&request_headers, config, &key, head_only).await {
                Ok(upstream) => respond::relay(upstream, &key, head_only).await,
                Err(reason) => respond::upstream_unavailable(&reason, head_only).await,
            }
        }
    }
}

fn header_list(headers: &HeaderMap) -> HeaderList {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect()
}
