//! Input: environment variables, secrets optionally read from `<NAME>_FILE`.
//!
//! Everything is validated before MinIO is contacted, and all problems are reported at once
//! (on one line) so a misconfigured Job fails on its first run with the full list.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::s3::TlsRoots;
use crate::secret::Secret;

pub const DEFAULT_BUCKET: &str = "gifs";
pub const DEFAULT_OBJECT_KEY: &str = "animation.gif";
pub const DEFAULT_POLICY_NAME: &str = "gif-gateway-read";
pub const DEFAULT_MIRROR_POLICY_NAME: &str = "gif-minio-mirror-read";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_READY_TIMEOUT_SECS: u64 = 60;

// MinIO's own limits (internal/auth/credentials.go): shorter keys are refused by add-user,
// and a server whose root keys are shorter does not start, so such input can never work.
const MIN_ACCESS_KEY_LEN: usize = 3;
const MIN_SECRET_KEY_LEN: usize = 8;

/// Scheme and authority of the MinIO server; requests use path-style URLs under it. Shared with
/// the gateway, so both send (and sign) the same Host for the same value.
pub use s3_request::Endpoint;

#[derive(Debug, Clone)]
pub struct Config {
    pub endpoint: Endpoint,
    pub root_user: String,
    pub root_password: Secret,
    pub bucket: String,
    pub object_key: String,
    pub object_file: PathBuf,
    pub app_access_key: String,
    pub app_secret_key: Secret,
    pub policy_name: String,
    /// The read replicas' user: list + get on the bucket. Optional: a MinIO without replicas
    /// (`make run`) needs none.
    pub mirror: Option<MirrorUser>,
    pub region: String,
    pub ready_timeout: Duration,
    /// From `MINIO_CA_FILE`; None trusts the public web PKI roots.
    pub tls_roots: Option<TlsRoots>,
}

#[derive(Debug, Clone)]
pub struct MirrorUser {
    pub access_key: String,
    pub secret_key: Secret,
    pub policy_name: String,
}

impl Config {
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// `lookup` stands in for the environment so the rules are testable without mutating it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut problems: Vec<String> = Vec::new();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let endpoint = match get("MINIO_ENDPOINT") {
            None => {
                problems.push("MINIO_ENDPOINT is required (e.g. http://127.0.0.1:9000)".into());
                None
            }
            Some(v) => match Endpoint::parse(&v) {
                Ok(e) => Some(e),
                Err(why) => {
                    problems.push(format!("MINIO_ENDPOINT {why}"));
                    None
                }
            },
        };

        let root_user = secret_input(&lookup, "MINIO_ROOT_USER", &mut problems);
        let root_password = secret_input(&lookup, "MINIO_ROOT_PASSWORD", &mut problems);
        let app_access_key = secret_input(&lookup, "APP_ACCESS_KEY", &mut problems);
        let app_secret_key = secret_input(&lookup, "APP_SECRET_KEY", &mut problems);
        let mirror_given = ["MIRROR_ACCESS_KEY", "MIRROR_SECRET_KEY"]
            .iter()
            .any(|n| get(n).is_some() || get(&format!("{n}_FILE")).is_some());
        let (mirror_access_key, mirror_secret_key) = if mirror_given {
            (
                secret_input(&lookup, "MIRROR_ACCESS_KEY", &mut problems),
                secret_input(&lookup, "MIRROR_SECRET_KEY", &mut problems),
            )
        } else {
            (None, None)
        };

        // MinIO refuses shorter secret keys; say so before anything is sent.
        let check_secret = |problems: &mut Vec<String>, name: &str, value: &Option<String>| {
            if value.as_ref().is_some_and(|v| v.len() < MIN_SECRET_KEY_LEN) {
                problems.push(format!(
                    "{name} must be at least {MIN_SECRET_KEY_LEN} characters (MinIO refuses shorter ones)"
                ));
            }
        };
        if let Some(u) = &root_user {
            if let Err(why) = check_access_key(u) {
                problems.push(format!("MINIO_ROOT_USER {why}"));
            }
        }
        check_secret(&mut problems, "MINIO_ROOT_PASSWORD", &root_password);
        if let Some(k) = &app_access_key {
            if let Err(why) = check_access_key(k) {
                problems.push(format!("APP_ACCESS_KEY {why}"));
            } else if root_user.as_deref() == Some(k.as_str()) {
                problems.push("APP_ACCESS_KEY must differ from MINIO_ROOT_USER".into());
            }
        }
        check_secret(&mut problems, "APP_SECRET_KEY", &app_secret_key);
        if let Some(k) = &mirror_access_key {
            if let Err(why) = check_access_key(k) {
                problems.push(format!("MIRROR_ACCESS_KEY {why}"));
            } else if root_user.as_deref() == Some(k.as_str()) {
                problems.push("MIRROR_ACCESS_KEY must differ from MINIO_ROOT_USER".into());
            } else if app_access_key.as_deref() == Some(k.as_str()) {
                // One user cannot be bound to both policies only.
                problems.push("MIRROR_ACCESS_KEY must differ from APP_ACCESS_KEY".into());
            }
        }
        check_secret(&mut problems, "MIRROR_SECRET_KEY", &mirror_secret_key);

        let bucket = get("BUCKET").unwrap_or_else(|| DEFAULT_BUCKET.into());
        if let Err(why) = s3_request::check_bucket_name(&bucket) {
            problems.push(format!("BUCKET {bucket:?} {why}"));
        }
        let object_key = get("OBJECT_KEY").unwrap_or_else(|| DEFAULT_OBJECT_KEY.into());
        if let Err(why) = s3_request::check_object_key(&object_key) {
            problems.push(format!(
                "OBJECT_KEY {object_key:?} is not a valid key: {why}"
            ));
        }
        let object_file = get("OBJECT_FILE").map(PathBuf::from);
        if object_file.is_none() {
            problems.push("OBJECT_FILE is required (path of the GIF to upload)".into());
        }

        let policy_name = get("APP_POLICY_NAME").unwrap_or_else(|| DEFAULT_POLICY_NAME.into());
        if policy_name.trim() != policy_name || policy_name.contains(',') {
            problems.push(format!(
                "APP_POLICY_NAME {policy_name:?} must not contain commas or leading/trailing spaces"
            ));
        }
        let mirror_policy_name =
            get("MIRROR_POLICY_NAME").unwrap_or_else(|| DEFAULT_MIRROR_POLICY_NAME.into());
        if mirror_policy_name.trim() != mirror_policy_name || mirror_policy_name.contains(',') {
            problems.push(format!(
                "MIRROR_POLICY_NAME {mirror_policy_name:?} must not contain commas or leading/trailing spaces"
            ));
        } else if mirror_given && mirror_policy_name == policy_name {
            // Each run would rewrite the one policy with the other's document.
            problems.push("MIRROR_POLICY_NAME must differ from APP_POLICY_NAME".into());
        }
        let region = get("MINIO_REGION").unwrap_or_else(|| DEFAULT_REGION.into());
        if region.chars().any(|c| c.is_whitespace() || c.is_control()) {
            problems.push(format!("MINIO_REGION {region:?} must not contain spaces"));
        }

        let ready_timeout = match get("READY_TIMEOUT_SECS") {
            None => Some(Duration::from_secs(DEFAULT_READY_TIMEOUT_SECS)),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if (1..=3600).contains(&n) => Some(Duration::from_secs(n)),
                _ => {
                    problems.push(format!(
                        "READY_TIMEOUT_SECS must be a whole number of seconds between 1 and 3600 (got {v:?})"
                    ));
                    None
                }
            },
        };

        let tls_roots = get("MINIO_CA_FILE").and_then(|path| {
            let loaded = std::fs::read(path.trim())
                .map_err(|e| format!("cannot read {path:?} ({e})"))
                .and_then(|pem| TlsRoots::from_pem(&pem).map_err(|why| format!("{path:?} {why}")));
            loaded
                .map_err(|why| problems.push(format!("MINIO_CA_FILE {why}")))
                .ok()
        });

        match (
            endpoint,
            root_user,
            root_password,
            object_file,
            app_access_key,
            app_secret_key,
            ready_timeout,
        ) {
            (
                Some(endpoint),
                Some(root_user),
                Some(root_password),
                Some(object_file),
                Some(app_access_key),
                Some(app_secret_key),
                Some(ready_timeout),
            ) if problems.is_empty() => Ok(Config {
                endpoint,
                root_user,
                root_password: Secret::new(root_password),
                bucket,
                object_key,
                object_file,
                app_access_key,
                app_secret_key: Secret::new(app_secret_key),
                policy_name,
                mirror: match (mirror_access_key, mirror_secret_key) {
                    (Some(access_key), Some(secret_key)) => Some(MirrorUser {
                        access_key,
                        secret_key: Secret::new(secret_key),
                        policy_name: mirror_policy_name,
                    }),
                    _ => None,
                },
                region,
                ready_timeout,
                tls_roots,
            }),
            _ => Err(Error::new(problems.join("; "))),
        }
    }
}

/// Reads `NAME` or the trimmed content of the file named by `NAME_FILE` (how Kubernetes
/// mounts Secrets). Messages name the variable and the file, never the value.
fn secret_input(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let direct = lookup(name).filter(|v| !v.is_empty());
    let file_var = format!("{name}_FILE");
    let file = lookup(&file_var).filter(|v| !v.trim().is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => {
            problems.push(format!("set only one of {name} and {file_var}"));
            None
        }
        (Some(v), None) => Some(v),
        (None, Some(path)) => match std::fs::read_to_string(path.trim()) {
            Ok(content) => {
                let value = content.trim().to_string();
                if value.is_empty() {
                    problems.push(format!("{file_var}: file {path:?} is empty"));
                    None
                } else {
                    Some(value)
                }
            }
            Err(e) => {
                problems.push(format!("{file_var}: cannot read {path:?} ({e})"));
                None
            }
        },
        (None, None) => {
            problems.push(format!("{name} (or {file_var}) is required"));
            None
        }
    }
}

fn check_access_key(key: &str) -> std::result::Result<(), String> {
    if key.len() < MIN_ACCESS_KEY_LEN {
        return Err(format!(
            "must be at least {MIN_ACCESS_KEY_LEN} characters (MinIO refuses shorter ones)"
        ));
    }
    if key.contains(['=', ',']) {
        return Err("must not contain '=' or ','".into());
    }
    if key.trim() != key || key.chars().any(char::is_control) {
        return Err("must not contain leading/trailing spaces or control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, String> {
        HashMap::from([
            ("MINIO_ENDPOINT", "http://127.0.0.1:9000".to_string()),
            ("MINIO_ROOT_USER", "minioadmin".to_string()),
            ("MINIO_ROOT_PASSWORD", "root-password-123".to_string()),
            ("OBJECT_FILE", "/tmp/a.gif".to_string()),
            ("APP_ACCESS_KEY", "gif-gateway".to_string()),
            ("APP_SECRET_KEY", "app-secret-456".to_string()),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<Config> {
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_apply() {
        let c = load(&base()).unwrap();
        assert_eq!(c.endpoint.base_url(), "http://127.0.0.1:9000");
        assert_eq!(c.bucket, "gifs");
        assert_eq!(c.object_key, "animation.gif");
        assert_eq!(c.policy_name, "gif-gateway-read");
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.ready_timeout, Duration::from_secs(60));
        assert_eq!(c.app_secret_key.expose(), "app-secret-456");
        assert!(c.tls_roots.is_none());
    }

    #[test]
    fn ca_file_problems_are_named() {
        let mut v = base();
        v.insert("MINIO_CA_FILE", "/nonexistent/ca.pem".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.starts_with("MINIO_CA_FILE cannot read \"/nonexistent/ca.pem\""),
            "{err}"
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let shown = format!("{:?}", load(&base()).unwrap());
        assert!(!shown.contains("root-password-123"), "{shown}");
        assert!(!shown.contains("app-secret-456"), "{shown}");
    }

    #[test]
    fn missing_variables_are_all_named() {
        let err = load(&HashMap::new()).unwrap_err().to_string();
        for name in [
            "MINIO_ENDPOINT",
            "MINIO_ROOT_USER",
            "MINIO_ROOT_PASSWORD",
            "APP_ACCESS_KEY",
            "APP_SECRET_KEY",
            "OBJECT_FILE",
        ] {
            assert!(err.contains(name), "{name} not in {err}");
        }
        assert!(!err.contains('\n'));
    }

    #[test]
    fn short_keys_are_rejected_without_echoing_them() {
        let mut v = base();
        v.insert("APP_SECRET_KEY", "x7y9z".into());
        v.insert("APP_ACCESS_KEY", "ab".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.contains("APP_SECRET_KEY must be at least 8 characters"),
            "{err}"
        );
        assert!(
            err.contains("APP_ACCESS_KEY must be at least 3 characters"),
            "{err}"
        );
        assert!(!err.contains("x7y9z"), "{err}");
    }

    #[test]
    fn app_key_must_differ_from_root() {
        let mut v = base();
        v.insert("APP_ACCESS_KEY", "minioadmin".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.contains("APP_ACCESS_KEY must differ from MINIO_ROOT_USER"),
            "{err}"
        );
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = std::env::temp_dir().join(format!("seeder-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "  from-a-file-789\n").unwrap();
        let mut v = base();
        v.remove("APP_SECRET_KEY");
        v.insert("APP_SECRET_KEY_FILE", path.display().to_string());
        assert_eq!(load(&v).unwrap().app_secret_key.expose(), "from-a-file-789");

        v.insert("APP_SECRET_KEY", "also-direct-123".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.contains("set only one of APP_SECRET_KEY and APP_SECRET_KEY_FILE"),
            "{err}"
        );

        v.remove("APP_SECRET_KEY");
        v.insert(
            "APP_SECRET_KEY_FILE",
            dir.join("absent").display().to_string(),
        );
        let err = load(&v).unwrap_err().to_string();
        assert!(err.starts_with("APP_SECRET_KEY_FILE: cannot read"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The forms themselves are tested in s3-request; this is that a default port is gone from
    /// what the seeder sends.
    #[test]
    fn default_ports_are_dropped() {
        let mut v = base();
        v.insert("MINIO_ENDPOINT", "http://127.0.0.1:80/".into());
        assert_eq!(load(&v).unwrap().endpoint.base_url(), "http://127.0.0.1");
    }

    #[test]
    fn bad_endpoint_is_named() {
        let mut v = base();
        v.insert("MINIO_ENDPOINT", "localhost:9000".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.starts_with("MINIO_ENDPOINT must start with http:// or https://"),
            "{err}"
        );
    }

    #[test]
    fn bad_bucket_and_key_are_named_with_the_reason() {
        let mut v = base();
        v.insert("BUCKET", "Bad_Bucket".into());
        v.insert("OBJECT_KEY", "a/../b.gif".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.contains("BUCKET \"Bad_Bucket\" may only contain lowercase letters"),
            "{err}"
        );
        assert!(
            err.contains("OBJECT_KEY \"a/../b.gif\" is not a valid key: '.' or '..' segment"),
            "{err}"
        );
    }

    #[test]
    fn mirror_user_is_optional_and_validated() {
        assert!(load(&base()).unwrap().mirror.is_none());

        let mut v = base();
        v.insert("MIRROR_ACCESS_KEY", "gif-minio-mirror".into());
        let err = load(&v).unwrap_err().to_string();
        assert!(
            err.contains("MIRROR_SECRET_KEY (or MIRROR_SECRET_KEY_FILE) is required"),
            "{err}"
        );

        v.insert("MIRROR_SECRET_KEY", "mirror-secret-789".into());
        let m = load(&v).unwrap().mirror.unwrap();
        assert_eq!(m.access_key, "gif-minio-mirror");
        assert_eq!(m.secret_key.expose(), "mirror-secret-789");
        assert_eq!(m.policy_name, "gif-minio-mirror-read");
        let shown = format!("{:?}", load(&v).unwrap());
        assert!(!shown.contains("mirror-secret-789"), "{shown}");

        for (var, value, expected) in [
            (
                "MIRROR_ACCESS_KEY",
                "gif-gateway",
                "MIRROR_ACCESS_KEY must differ from APP_ACCESS_KEY",
            ),
            (
                "MIRROR_ACCESS_KEY",
                "minioadmin",
                "MIRROR_ACCESS_KEY must differ from MINIO_ROOT_USER",
            ),
            (
                "MIRROR_SECRET_KEY",
                "short7",
                "MIRROR_SECRET_KEY must be at least 8 characters",
            ),
            (
                "MIRROR_POLICY_NAME",
                "gif-gateway-read",
                "MIRROR_POLICY_NAME must differ from APP_POLICY_NAME",
            ),
        ] {
            let mut bad = v.clone();
            bad.insert(var, value.into());
            let err = load(&bad).unwrap_err().to_string();
            assert!(err.contains(expected), "{var}={value}: {err}");
            assert!(!err.contains("short7"), "{err}");
        }
    }

    #[test]
    fn ready_timeout_parsing() {
        let mut v = base();
        v.insert("READY_TIMEOUT_SECS", "2".into());
        assert_eq!(load(&v).unwrap().ready_timeout, Duration::from_secs(2));
        for bad in ["0", "-1", "abc", "1.5", "99999"] {
            v.insert("READY_TIMEOUT_SECS", bad.into());
            assert!(
                load(&v)
                    .unwrap_err()
                    .to_string()
                    .starts_with("READY_TIMEOUT_SECS"),
                "{bad}"
            );
        }
    }
}
