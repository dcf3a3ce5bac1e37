//! The seeding steps. Each one looks before it writes, so a second run changes nothing,
//! and reports exactly one progress line.

use std::path::Path;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};

use s3_request::content_type_for;

use crate::admin::Admin;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::policy::{mirror_policy, read_only_policy, semantically_equal};
use crate::s3::{bucket_path, etag_matches, object_path, query, Client, Credentials, Role};

/// Covers the GIF upload on a slow link as well as the quick calls.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const READY_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// IAM changes reach every node of a distributed MinIO asynchronously; give the self-check
/// this long to see the new user before calling it a failure.
const IAM_PROPAGATION: Duration = Duration::from_secs(10);
/// Single-part PUT is the only upload path, and it keeps ETag == MD5 comparable.
const MAX_OBJECT_SIZE: u64 = 1 << 30;
/// Also recorded on upload, so "same object" still holds where MinIO's ETag is not the MD5
/// (e.g. with server-side encryption enabled).
const MD5_METADATA: &str = "x-amz-meta-seeder-md5";

pub struct LocalObject {
    pub data: Vec<u8>,
    pub md5_hex: String,
    pub content_type: &'static str,
}

impl LocalObject {
    pub fn load(file: &Path, key: &str) -> Result<Self> {
        let fail =
            |why: String| Error::standalone(format!("OBJECT_FILE {}: {why}", file.display()));
        let meta = std::fs::metadata(file).map_err(|e| fail(format!("cannot read it ({e})")))?;
        if !meta.is_file() {
            return Err(fail("is not a regular file".into()));
        }
        if meta.len() == 0 {
            return Err(fail("is empty".into()));
        }
        if meta.len() > MAX_OBJECT_SIZE {
            return Err(fail(format!("is larger than {MAX_OBJECT_SIZE} bytes")));
        }
        let data = std::fs::read(file).map_err(|e| fail(format!("cannot read it ({e})")))?;
        let md5_hex = hex::encode(Md5::digest(&data));
        let content_type = content_type_for(key)
            .or_else(|| content_type_for(&file.to_string_lossy()))
            .unwrap_or("application/octet-stream");
        Ok(LocalObject {
            data,
            md5_hex,
            content_type,
        })
    }
}

/// Runs all steps; `say` receives each progress line. Returns the number of steps that
/// changed something.
pub fn run(cfg: &Config, say: &mut dyn FnMut(&str)) -> Result<usize> {
    // Fail on a missing file before waiting on MinIO: it is the cheapest mistake to report.
    let object = LocalObject::load(&cfg.object_file, &cfg.object_key)?;
    wait_ready(cfg, say)?;

    let agent = crate::s3::agent(REQUEST_TIMEOUT, cfg.tls_roots.as_ref());
    let client = |creds: Option<Credentials>, role| {
        Client::new(
            cfg.endpoint.clone(),
            cfg.region.clone(),
            creds,
            role,
            agent.clone(),
        )
    };
    let root = client(
        Some(Credentials {
            access_key: cfg.root_user.clone(),
            secret_key: cfg.root_password.clone(),
        }),
        Role::Root,
    );
    let app = client(
        Some(Credentials {
            access_key: cfg.app_access_key.clone(),
            secret_key: cfg.app_secret_key.clone(),
        }),
        Role::App,
    );
    let anonymous = client(None, Role::App);
    let admin = Admin::new(&root, &cfg.root_password);

    let mut changes = 0;
    changes += usize::from(ensure_bucket(&root, cfg, say)?);
    changes += usize::from(remove_bucket_policy(&root, cfg, say)?);
    changes += usize::from(upload_object(&root, cfg, &object, say)?);
    let read_only = read_only_policy(&cfg.bucket);
    changes += usize::from(ensure_policy(&admin, &cfg.policy_name, &read_only, say)?);
    changes += usize::from(ensure_user(
        &admin,
        &app,
        &cfg.app_access_key,
        &cfg.app_secret_key,
        &cfg.policy_name,
        cfg,
        say,
    )?);
    // After the upload: a replica that can read the bucket with these credentials finds the
    // GIF already there.
    let mirror = cfg.mirror.as_ref().map(|m| {
        let c = client(
            Some(Credentials {
                access_key: m.access_key.clone(),
                secret_key: m.secret_key.clone(),
            }),
            Role::Mirror,
        );
        (m, c)
    });
    if let Some((m, mirror_client)) = &mirror {
        let document = mirror_policy(&cfg.bucket);
        changes += usize::from(ensure_policy(&admin, &m.policy_name, &document, say)?);
        changes += usize::from(ensure_user(
            &admin,
            mirror_client,
            &m.access_key,
            &m.secret_key,
            &m.policy_name,
            cfg,
            say,
        )?);
    }
    verify(&app, &anonymous, cfg, say)?;
    if let Some((_, mirror_client)) = &mirror {
        verify_mirror(mirror_client, cfg, say)?;
    }
    Ok(changes)
}

fn wait_ready(cfg: &Config, say: &mut dyn FnMut(&str)) -> Result<()> {
    let url = format!("{}/minio/health/ready", cfg.endpoint.base_url());
    let deadline = Instant::now() + cfg.ready_timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let probe = crate::s3::agent(
            READY_PROBE_TIMEOUT
                .min(remaining)
                .max(Duration::from_millis(200)),
            cfg.tls_roots.as_ref(),
        );
        let last_error = match probe.get(&url).call() {
            Ok(resp) if resp.status() == 200 => {
                say(&format!("minio {}: ready", cfg.endpoint));
                return Ok(());
            }
            Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
            Err(e) => e.to_string(),
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::standalone(format!(
                "MinIO at {} not ready after {}s ({last_error})",
                cfg.endpoint,
                cfg.ready_timeout.as_secs()
            )));
        }
        std::thread::sleep(READY_POLL_INTERVAL.min(remaining));
    }
}

fn ensure_bucket(root: &Client, cfg: &Config, say: &mut dyn FnMut(&str)) -> Result<bool> {
    let bucket = &cfg.bucket;
    let path = bucket_path(bucket);
    // GET ?location rather than HEAD: its error body tells missing bucket from bad credentials.
    let resp = root.send(
        "GET",
        &format!("{path}{}", query(&[("location", "")])),
        &[],
        b"",
    )?;
    match resp.status {
        200 => {
            say(&format!("bucket {bucket}: exists"));
            return Ok(false);
        }
        404 if resp.error_code() == "NoSuchBucket" => {}
        _ => return Err(root.unexpected(&resp, format!("check bucket {bucket}"))),
    }
    let body = if cfg.region == "us-east-1" {
        String::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
            cfg.region
        )
    };
    let resp = root.send("PUT", &path, &[], body.as_bytes())?;
    match resp.status {
        200 => {
            say(&format!("bucket {bucket}: created"));
            Ok(true)
        }
        // Someone (a parallel run) created it between our look and our write.
        409 if resp.error_code() == "BucketAlreadyOwnedByYou" => {
            say(&format!("bucket {bucket}: exists"));
            Ok(false)
        }
        _ => Err(root.unexpected(&resp, format!("create bucket {bucket}"))),
    }
}

/// A bucket policy is the only way MinIO grants anonymous access; the bucket must have none.
fn remove_bucket_policy(root: &Client, cfg: &Config, say: &mut dyn FnMut(&str)) -> Result<bool> {
    let bucket = &cfg.bucket;
    let path = format!("{}{}", bucket_path(bucket), query(&[("policy", "")]));
    let resp = root.send("GET", &path, &[], b"")?;
    match resp.status {
        200 => {}
        404 if resp.error_code() == "NoSuchBucketPolicy" => {
            say(&format!("bucket policy {bucket}: none"));
            return Ok(false);
        }
        _ => return Err(root.unexpected(&resp, format!("read policy of bucket {bucket}"))),
    }
    let resp = root.send("DELETE", &path, &[], b"")?;
    match resp.status {
        200 | 204 => {
            say(&format!("bucket policy {bucket}: removed"));
            Ok(true)
        }
        _ => Err(root.unexpected(&resp, format!("remove policy of bucket {bucket}"))),
    }
}

fn upload_object(
    root: &Client,
    cfg: &Config,
    object: &LocalObject,
    say: &mut dyn FnMut(&str),
) -> Result<bool> {
    let name = format!("{}/{}", cfg.bucket, cfg.object_key);
    let path = object_path(&cfg.bucket, &cfg.object_key);
    let head = root.send("HEAD", &path, &[], b"")?;
    let exists = match head.status {
        200 => true,
        404 => false,
        _ => return Err(root.unexpected(&head, format!("check object {name}"))),
    };
    if exists && is_same_object(&head, object) {
        say(&format!("object {name}: unchanged"));
        return Ok(false);
    }
    let resp = root.send(
        "PUT",
        &path,
        &[
            ("content-type", object.content_type),
            (MD5_METADATA, &object.md5_hex),
        ],
        &object.data,
    )?;
    if resp.status != 200 {
        return Err(root.unexpected(&resp, format!("upload object {name}")));
    }
    say(&format!(
        "object {name}: {} ({} bytes, {})",
        if exists { "replaced" } else { "uploaded" },
        object.data.len(),
        object.content_type
    ));
    Ok(true)
}

pub fn is_same_object(head: &crate::s3::Response, object: &LocalObject) -> bool {
    let size_ok = head
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        == Some(object.data.len() as u64);
    let type_ok = head.header("content-type") == Some(object.content_type);
    let content_ok = head
        .header("etag")
        .is_some_and(|e| etag_matches(e, &object.md5_hex))
        || head
            .header(MD5_METADATA)
            .is_some_and(|m| m.eq_ignore_ascii_case(&object.md5_hex));
    size_ok && type_ok && content_ok
}

fn ensure_policy(
    admin: &Admin,
    name: &str,
    desired: &serde_json::Value,
    say: &mut dyn FnMut(&str),
) -> Result<bool> {
    let state = match admin.info_canned_policy(name)? {
        Some(existing) if semantically_equal(&existing, desired) => {
            say(&format!("policy {name}: unchanged"));
            return Ok(false);
        }
        Some(_) => "updated",
        None => "created",
    };
    admin.add_canned_policy(name, desired)?;
    say(&format!("policy {name}: {state}"));
    Ok(true)
}

/// `user` exists, enabled, with `secret`, bound to `policy` only; `as_user` signs as it.
fn ensure_user(
    admin: &Admin,
    as_user: &Client,
    user: &str,
    secret: &crate::secret::Secret,
    policy: &str,
    cfg: &Config,
    say: &mut dyn FnMut(&str),
) -> Result<bool> {
    let state = match admin.user_info(user)? {
        None => "created",
        Some(info) => {
            if let Some(groups) = info.member_of.as_ref().filter(|g| !g.is_empty()) {
                // Group policies would add to ours, and re-creating the user keeps memberships.
                return Err(Error::new(format!(
                    "user {user} is a member of group(s) {} whose policies also apply; \
                     remove it from them so it is bound to {} only",
                    groups.join(", "),
                    policy
                )));
            }
            // Checking the secret last: it is the only check that costs a request.
            if info.is_enabled() && info.has_only_policy(policy) && can_read(as_user, cfg)? {
                say(&format!("user {user}: unchanged"));
                return Ok(false);
            }
            "updated"
        }
    };
    admin.add_user(user, secret)?;
    admin.set_user_policy(user, policy)?;
    say(&format!("user {user}: {state} (policy {policy})"));
    Ok(true)
}

/// Whether these credentials, as given, can read the object right now (both users may).
fn can_read(client: &Client, cfg: &Config) -> Result<bool> {
    let resp = client.send("HEAD", &object_path(&cfg.bucket, &cfg.object_key), &[], b"")?;
    match resp.status {
        200 => Ok(true),
        // Wrong secret, disabled user or missing grant all look the same on a bodiless HEAD.
        403 | 400 => Ok(false),
        _ => Err(client.unexpected(
            &resp,
            format!("check access to {}/{}", cfg.bucket, cfg.object_key),
        )),
    }
}

/// A request with a user's new grants, repeated while MinIO still answers 403: a new user or
/// policy takes a moment to reach every node, for at most `IAM_PROPAGATION`.
fn send_after_propagation(
    client: &Client,
    method: &str,
    path: &str,
) -> Result<crate::s3::Response> {
    let started = Instant::now();
    loop {
        let resp = client.send(method, path, &[], b"")?;
        if resp.status != 403 || started.elapsed() >= IAM_PROPAGATION {
            return Ok(resp);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn verify(app: &Client, anonymous: &Client, cfg: &Config, say: &mut dyn FnMut(&str)) -> Result<()> {
    let (bucket, key) = (&cfg.bucket, &cfg.object_key);
    let object = object_path(bucket, key);
    let fail = |why: String| Error::standalone(format!("self-check failed: {why}"));

    let head = send_after_propagation(app, "HEAD", &object)?;
    if head.status != 200 {
        return Err(fail(format!(
            "app credentials cannot read {bucket}/{key} ({})",
            head.error_code()
        )));
    }

    let list = app.send(
        "GET",
        &format!("{}{}", bucket_path(bucket), query(&[("list-type", "2")])),
        &[],
        b"",
    )?;
    match list.status {
        403 => {}
        200 => return Err(fail(format!("app credentials can list bucket {bucket}"))),
        _ => return Err(app.unexpected(&list, format!("check that the app cannot list {bucket}"))),
    }

    let anon = anonymous.send("HEAD", &object, &[], b"")?;
    if anon.status != 403 {
        return Err(fail(format!(
            "anonymous HEAD of {bucket}/{key} answered {} instead of 403",
            anon.status
        )));
    }

    say(&format!(
        "verified: app credentials can read {key} and cannot list"
    ));
    Ok(())
}

/// The replicas' mirror needs exactly this: a listing of the bucket and its objects.
fn verify_mirror(mirror: &Client, cfg: &Config, say: &mut dyn FnMut(&str)) -> Result<()> {
    let (bucket, key) = (&cfg.bucket, &cfg.object_key);
    let fail = |why: String| Error::standalone(format!("self-check failed: {why}"));
    let list_path = format!("{}{}", bucket_path(bucket), query(&[("list-type", "2")]));
    let list = send_after_propagation(mirror, "GET", &list_path)?;
    if list.status != 200 {
        return Err(fail(format!(
            "mirror credentials cannot list bucket {bucket} ({})",
            list.error_code()
        )));
    }
    let head = mirror.send("HEAD", &object_path(bucket, key), &[], b"")?;
    if head.status != 200 {
        return Err(fail(format!(
            "mirror credentials cannot read {bucket}/{key} (HTTP {})",
            head.status
        )));
    }
    say(&format!(
        "verified: mirror credentials can list {bucket} and read {key}"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&'static str, &str)]) -> crate::s3::Response {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        crate::s3::Response {
            status: 200,
            headers: map,
            body: Vec::new(),
        }
    }

    #[test]
    fn same_object_detection() {
        let object = LocalObject {
            data: b"GIF89a-test".to_vec(),
            md5_hex: hex::encode(Md5::digest(b"GIF89a-test")),
            content_type: "image/gif",
        };
        let etag = format!("\"{}\"", object.md5_hex);
        let len = object.data.len().to_string();
        assert!(is_same_object(
            &head(&[
                ("content-length", &len),
                ("content-type", "image/gif"),
                ("etag", &etag)
            ]),
            &object
        ));
        // Encrypted objects: ETag is not the MD5, the recorded checksum decides.
        assert!(is_same_object(
            &head(&[
                ("content-length", &len),
                ("content-type", "image/gif"),
                ("etag", "\"0123\""),
                (MD5_METADATA, &object.md5_hex)
            ]),
            &object
        ));
        assert!(!is_same_object(
            &head(&[
                ("content-length", "3"),
                ("content-type", "image/gif"),
                ("etag", &etag)
            ]),
            &object
        ));
        assert!(!is_same_object(
            &head(&[
                ("content-length", &len),
                ("content-type", "application/octet-stream"),
                ("etag", &etag)
            ]),
            &object
        ));
        assert!(!is_same_object(
            &head(&[
                ("content-length", &len),
                ("content-type", "image/gif"),
                ("etag", "\"abc-2\"")
            ]),
            &object
        ));
    }

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let err = LocalObject::load(
            Path::new("/nonexistent/seeder/animation.gif"),
            "animation.gif",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.starts_with("OBJECT_FILE /nonexistent/seeder/animation.gif: cannot read it"),
            "{err}"
        );
    }
}
