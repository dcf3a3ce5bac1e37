//! The gateway's configuration, from its Spin variables.
//!
//! Under Spin 4 a WASIp3 component instance serves up to 128 requests (16 at a time) before it
//! is dropped, and an idle one goes after 1 s (`spin up --max-instance-reuse-count`,
//! `--idle-instance-timeout`; the shim has the same defaults). So the variables are read once
//! per instance (`Settings::from_lookup`) and every request after the first pays nothing for
//! them. That is safe because Spin resolves a variable's value from its providers when the app
//! starts (environment, `--variable`, a SpinApp's Secret via the shim's environment), so an
//! instance could not see a newer value per request anyway; a rotated secret reaches the gateway
//! when the app or the pod restarts, exactly as before, and an instance never outlives 128
//! requests or 1 s without one.
//!
//! The parsing and validation below are plain functions with native tests; a problem names the
//! variable and never its value.

use std::fmt;

/// One Spin variable: its name in `spin.toml` and its default, if it may be omitted.
pub struct Variable {
    pub name: &'static str,
    pub default: Option<&'static str>,
}

pub const S3_ENDPOINT: Variable = Variable {
    name: "s3_endpoint",
    default: None,
};
pub const S3_BUCKET: Variable = Variable {
    name: "s3_bucket",
    default: Some("gifs"),
};
pub const S3_REGION: Variable = Variable {
    name: "s3_region",
    default: Some("us-east-1"),
};
pub const S3_ACCESS_KEY: Variable = Variable {
    name: "s3_access_key",
    default: None,
};
pub const S3_SECRET_KEY: Variable = Variable {
    name: "s3_secret_key",
    default: None,
};
pub const INDEX_OBJECT: Variable = Variable {
    name: "index_object",
    default: Some("animation.gif"),
};
pub const S3_TIMEOUT_MS: Variable = Variable {
    name: "s3_timeout_ms",
    default: Some("1500"),
};
/// Temporary credentials' session token (STS), signed as `x-amz-security-token`; empty for
/// static keys.
pub const S3_SESSION_TOKEN: Variable = Variable {
    name: "s3_session_token",
    default: Some(""),
};
/// The `Cache-Control` browsers get for objects MinIO has none for; empty passes MinIO's alone.
pub const DEFAULT_CACHE_CONTROL: Variable = Variable {
    name: "default_cache_control",
    default: Some(""),
};

/// `on` or `off`: whether every request gets its line in the access log (`access_log`).
pub const ACCESS_LOG: Variable = Variable {
    name: "access_log",
    default: Some("on"),
};

/// Every variable the gateway reads.
pub const VARIABLE_NAMES: [&str; 12] = [
    S3_ENDPOINT.name,
    S3_BUCKET.name,
    S3_REGION.name,
    S3_ACCESS_KEY.name,
    S3_SECRET_KEY.name,
    S3_SESSION_TOKEN.name,
    INDEX_OBJECT.name,
    S3_TIMEOUT_MS.name,
    DEFAULT_CACHE_CONTROL.name,
    EDGE_CACHE.name,
    CORS_ALLOWED_ORIGINS.name,
    ACCESS_LOG.name,
];

/// `off`, or `ttl=<duration> [max=<size>]`: see `cache::parse_settings`.
pub const EDGE_CACHE: Variable = Variable {
    name: "edge_cache",
    default: Some("off"),
};

/// Empty (off), `*`, or a comma-separated list of origins: see `cors::parse`.
pub const CORS_ALLOWED_ORIGINS: Variable = Variable {
    name: "cors_allowed_origins",
    default: Some(""),
};

// The endpoint rules (and which authority is sent and signed) are shared with the seeder.
pub use s3_request::{Endpoint, Scheme};

/// What an object request needs: where MinIO is and how to sign for it.
pub struct Config {
    pub endpoint: Endpoint,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
    /// Bounds connecting and waiting for the first byte, so a dead store turns into a quick 502.
    pub timeout_ms: u64,
    pub default_cache_control: Option<String>,
}

// Hand-written so that a stray `{:?}` can never print the secret.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &"***")
            .field("secret_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("timeout_ms", &self.timeout_ms)
            .field("default_cache_control", &self.default_cache_control)
            .finish()
    }
}

/// A configuration problem, naming the variable but never its value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Spin variable '{}' {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Reads one variable: blank counts as unset, and unset falls back to the default if it has one.
fn get(lookup: &impl Fn(&str) -> Option<String>, var: &Variable) -> Result<String, ConfigError> {
    match lookup(var.name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        Some(value) => Ok(value),
        None => var.default.map(str::to_string).ok_or(ConfigError {
            variable: var.name,
            problem: "is required but not set",
        }),
    }
}

/// Where objects come from: the endpoint and the bucket (two lookups).
pub fn location_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(Endpoint, String), ConfigError> {
    let endpoint = Endpoint::parse(&get(&lookup, &S3_ENDPOINT)?).map_err(|e| ConfigError {
        variable: S3_ENDPOINT.name,
        problem: e.message(),
    })?;
    let bucket = get(&lookup, &S3_BUCKET)?;
    s3_request::check_bucket_name(&bucket).map_err(|e| ConfigError {
        variable: S3_BUCKET.name,
        problem: e.message(),
    })?;
    Ok((endpoint, bucket))
}

/// The edge cache's settings, `None` when it is off (one lookup).
pub fn edge_cache_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::cache::Settings>, ConfigError> {
    crate::cache::parse_settings(&get(&lookup, &EDGE_CACHE)?).map_err(|problem| ConfigError {
        variable: EDGE_CACHE.name,
        problem,
    })
}

/// Which origins' scripts may read the answers, `None` when CORS is off (one lookup).
pub fn cors_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::cors::Cors>, ConfigError> {
    crate::cors::parse(&get(&lookup, &CORS_ALLOWED_ORIGINS)?).map_err(|problem| ConfigError {
        variable: CORS_ALLOWED_ORIGINS.name,
        problem,
    })
}

/// Whether the access log is on. A bad value fails the health check but not the requests, which
/// are logged as by default: a typo must not silence the log.
pub fn access_log_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<bool, ConfigError> {
    match get(&lookup, &ACCESS_LOG)?.as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(ConfigError {
            variable: ACCESS_LOG.name,
            problem: "must be `on` or `off`",
        }),
    }
}

impl Config {
    /// Builds the configuration from a lookup that returns `None` for unset variables.
    /// Reads eight variables; `index_object` is not among them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let (endpoint, bucket) = location_from_lookup(&lookup)?;
        let timeout_ms = get(&lookup, &S3_TIMEOUT_MS)?
            .parse::<u64>()
            .ok()
            .filter(|ms| (100..=60_000).contains(ms))
            .ok_or(ConfigError {
                variable: S3_TIMEOUT_MS.name,
                problem: "must be milliseconds between 100 and 60000",
            })?;
        let default_cache_control =
            Some(get(&lookup, &DEFAULT_CACHE_CONTROL)?).filter(|v| !v.is_empty());
        // Sent as a header value as it is: printable ASCII only, so never a CR/LF.
        if default_cache_control
            .as_ref()
            .is_some_and(|v| v.len() > 256 || !v.bytes().all(|b| (b' '..=b'~').contains(&b)))
        {
            return Err(ConfigError {
                variable: DEFAULT_CACHE_CONTROL.name,
                problem: "must be a Cache-Control value of printable ASCII, at most 256 bytes",
            });
        }
        Ok(Config {
            endpoint,
            bucket,
            region: get(&lookup, &S3_REGION)?,
            access_key: get(&lookup, &S3_ACCESS_KEY)?,
            secret_key: get(&lookup, &S3_SECRET_KEY)?,
            session_token: Some(get(&lookup, &S3_SESSION_TOKEN)?).filter(|v| !v.is_empty()),
            timeout_ms,
            default_cache_control,
        })
    }
}

/// Everything the gateway reads from its variables, each route's part checked on its own: a bad
/// `edge_cache` or `index_object` fails only what uses it, as when they were read per request.
pub struct Settings {
    /// What an object request needs.
    pub config: Result<Config, ConfigError>,
    /// The object the page at `/` shows.
    pub index_object: Result<String, ConfigError>,
    /// The edge cache's settings, `None` when it is off.
    pub edge_cache: Result<Option<crate::cache::Settings>, ConfigError>,
    /// Who may read cross-origin, `None` when CORS is off. It shapes every answer, so a bad
    /// value fails every GET and HEAD.
    pub cors: Result<Option<crate::cors::Cors>, ConfigError>,
    /// Whether requests are logged.
    pub access_log: Result<bool, ConfigError>,
}

impl Settings {
    /// Reads every variable once (`VARIABLE_NAMES`): `lookup` returns `None` for unset ones.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Settings {
            config: Config::from_lookup(&lookup),
            index_object: index_object_from_lookup(&lookup),
            edge_cache: edge_cache_from_lookup(&lookup),
            cors: cors_from_lookup(&lookup),
            access_log: access_log_from_lookup(&lookup),
        }
    }

    /// The first problem of any part, for the health check: a gateway that would answer some
    /// route with 500 is not healthy, even if its page and its objects still work.
    pub fn problem(&self) -> Option<&ConfigError> {
        let parts = [
            self.config.as_ref().err(),
            self.index_object.as_ref().err(),
            self.edge_cache.as_ref().err(),
            self.cors.as_ref().err(),
            self.access_log.as_ref().err(),
        ];
        parts.into_iter().flatten().next()
    }
}

/// What the page at `/` needs: the object it shows. The three required variables are checked
/// for presence as well, so that a gateway that could not serve the image answers 500 for the
/// page too instead of a page with a broken image (`spin up` refuses to start without them, but
/// a plain WASI host has no manifest to check).
pub fn index_object_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    for required in [&S3_ENDPOINT, &S3_ACCESS_KEY, &S3_SECRET_KEY] {
        get(&lookup, required)?;
    }
    let index_object = get(&lookup, &INDEX_OBJECT)?;
    if crate::key::validate_key(&index_object).is_err() {
        return Err(ConfigError {
            variable: INDEX_OBJECT.name,
            problem: "is not a valid object key",
        });
    }
    Ok(index_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn index(vars: &[(&str, &str)]) -> Result<String, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        index_object_from_lookup(|name| map.get(name).cloned())
    }

    /// The names each route asks for, in order, when every variable is set.
    fn asked(read: impl Fn(&dyn Fn(&str) -> Option<String>)) -> Vec<String> {
        let names = std::cell::RefCell::new(Vec::new());
        read(&|name: &str| {
            names.borrow_mut().push(name.to_string());
            Some(match name {
                "s3_endpoint" => "http://127.0.0.1:9000".to_string(),
                "s3_bucket" => "gifs".to_string(),
                "s3_timeout_ms" => "1500".to_string(),
                _ => "value".to_string(),
            })
        });
        names.into_inner()
    }

    #[test]
    fn each_route_reads_only_the_variables_it_needs() {
        let object = asked(|l| assert!(Config::from_lookup(l).is_ok()));
        assert_eq!(
            object,
            [
                "s3_endpoint",
                "s3_bucket",
                "s3_timeout_ms",
                "default_cache_control",
                "s3_region",
                "s3_access_key",
                "s3_secret_key",
                "s3_session_token"
            ]
        );
        let page = asked(|l| assert_eq!(index_object_from_lookup(l).unwrap(), "value"));
        assert_eq!(
            page,
            [
                "s3_endpoint",
                "s3_access_key",
                "s3_secret_key",
                "index_object"
            ]
        );
    }

    /// The settings with the required variables and these.
    fn with(extra: &[(&'static str, &'static str)]) -> Settings {
        let mut vars: HashMap<&str, &str> = REQUIRED.iter().copied().collect();
        vars.extend(extra.iter().copied());
        Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn settings_check_each_part_on_its_own() {
        let all = with(&[]);
        assert!(all.config.is_ok());
        assert_eq!(all.index_object.unwrap(), "animation.gif");
        assert!(all.edge_cache.unwrap().is_none(), "off by default");

        let bad_cache = with(&[("edge_cache", "ttl=forever")]);
        assert_eq!(bad_cache.edge_cache.unwrap_err().variable, "edge_cache");
        assert!(bad_cache.config.is_ok() && bad_cache.index_object.is_ok());

        let bad_page = with(&[("index_object", "../x.gif")]);
        assert_eq!(bad_page.index_object.unwrap_err().variable, "index_object");
        assert!(bad_page.config.is_ok());

        let bad_timeout = with(&[("s3_timeout_ms", "5")]);
        assert_eq!(bad_timeout.config.unwrap_err().variable, "s3_timeout_ms");
        assert!(bad_timeout.index_object.is_ok());
    }

    #[test]
    fn cors_is_off_by_default_and_a_bad_list_names_the_variable() {
        let off = with(&[]);
        assert_eq!(off.cors, Ok(None));
        assert!(off.problem().is_none());
        assert_eq!(
            with(&[("cors_allowed_origins", "*")]).cors,
            Ok(Some(crate::cors::Cors::Any))
        );
        let bad = with(&[("cors_allowed_origins", "https://a.example/")]);
        let err = bad.cors.as_ref().unwrap_err();
        assert_eq!(err.variable, "cors_allowed_origins");
        assert!(err.to_string().contains("no trailing slash"), "{err}");
        assert_eq!(bad.problem(), Some(err));
        assert!(bad.config.is_ok() && bad.index_object.is_ok());
    }

    #[test]
    fn the_access_log_is_on_unless_turned_off() {
        assert_eq!(with(&[]).access_log, Ok(true));
        assert_eq!(with(&[("access_log", " off ")]).access_log, Ok(false));
        let bad = with(&[("access_log", "false")]);
        assert_eq!(bad.access_log.unwrap_err().variable, "access_log");
        assert!(bad.config.is_ok() && bad.cors.is_ok());
    }

    #[test]
    fn health_sees_a_problem_in_any_part() {
        for (name, value) in [
            ("s3_timeout_ms", "5"),
            ("index_object", "../x.gif"),
            ("edge_cache", "on"),
            ("cors_allowed_origins", "example.com"),
            ("access_log", "yes"),
        ] {
            assert_eq!(
                with(&[(name, value)]).problem().map(|e| e.variable),
                Some(name)
            );
        }
        let missing = Settings::from_lookup(|_| None);
        assert_eq!(missing.problem().map(|e| e.variable), Some("s3_endpoint"));
    }

    #[test]
    fn settings_read_only_the_gateways_variables() {
        let names = asked(|l| {
            Settings::from_lookup(l);
        });
        for name in &names {
            assert!(VARIABLE_NAMES.contains(&name.as_str()), "{name}");
        }
        for name in VARIABLE_NAMES {
            assert!(names.iter().any(|n| n == name), "{name} is never read");
        }
    }

    #[test]
    fn the_page_needs_the_required_variables_too() {
        assert_eq!(index(&REQUIRED[..2]).unwrap_err().variable, "s3_secret_key");
        assert_eq!(index(&REQUIRED[1..]).unwrap_err().variable, "s3_endpoint");
        let mut vars = REQUIRED.to_vec();
        vars.push(("index_object", "cats/tabby.gif"));
        assert_eq!(index(&vars).unwrap(), "cats/tabby.gif");
    }

    const REQUIRED: [(&str, &str); 3] = [
        ("s3_endpoint", "http://127.0.0.1:9000"),
        ("s3_access_key", "gateway"),
        ("s3_secret_key", "s3cr3t-value"),
    ];

    #[test]
    fn defaults_fill_optional_variables() {
        let c = config(&REQUIRED).unwrap();
        assert_eq!(c.endpoint.scheme(), Scheme::Http);
        assert_eq!(c.endpoint.authority(), "127.0.0.1:9000");
        assert_eq!(
            (c.bucket.as_str(), c.region.as_str()),
            ("gifs", "us-east-1")
        );
        assert_eq!(index(&REQUIRED).unwrap(), "animation.gif");
        assert_eq!(c.timeout_ms, 1500);
        assert_eq!((c.session_token, c.default_cache_control), (None, None));
        assert_eq!(
            c.endpoint
                .url(&s3_request::object_path(&c.bucket, "my cat.gif")),
            "http://127.0.0.1:9000/gifs/my%20cat.gif"
        );
    }

    #[test]
    fn missing_credentials_name_the_variable() {
        let err = config(&REQUIRED[..2]).unwrap_err();
        assert_eq!(
            err,
            ConfigError {
                variable: "s3_secret_key",
                problem: "is required but not set"
            }
        );
        let err = config(&[
            ("s3_endpoint", "http://m:9000"),
            ("s3_access_key", "a"),
            ("s3_secret_key", "  "),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "s3_secret_key", "blank counts as unset");
    }

    #[test]
    fn debug_output_hides_credentials() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("s3_session_token", "t0ken-value"));
        let shown = format!("{:?}", config(&vars).unwrap());
        assert!(
            !shown.contains("s3cr3t-value")
                && !shown.contains("gateway\"")
                && !shown.contains("t0ken-value"),
            "{shown}"
        );
    }

    #[test]
    fn session_token_and_default_cache_control_are_read() {
        let mut vars = REQUIRED.to_vec();
        vars.extend([
            ("s3_session_token", " t0ken "),
            (
                "default_cache_control",
                "public, max-age=31536000, immutable",
            ),
        ]);
        let c = config(&vars).unwrap();
        assert_eq!(c.session_token.as_deref(), Some("t0ken"));
        assert_eq!(
            c.default_cache_control.as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        for bad in ["max-age=60\r\nx-evil: 1", "caf\u{e9}", &"x".repeat(257)] {
            let mut vars = REQUIRED.to_vec();
            vars.push(("default_cache_control", bad));
            assert_eq!(
                config(&vars).unwrap_err().variable,
                "default_cache_control",
                "{bad:?}"
            );
        }
    }

    /// The rules themselves are tested in s3-request; this is that the variable is named with
    /// the reason, and that the default port is gone from the authority the gateway sends.
    #[test]
    fn endpoints_are_validated() {
        let with_endpoint = |value: &'static str| {
            config(&[
                ("s3_endpoint", value),
                ("s3_access_key", "a"),
                ("s3_secret_key", "b"),
            ])
        };
        assert_eq!(
            with_endpoint("http://127.0.0.1:80")
                .unwrap()
                .endpoint
                .authority(),
            "127.0.0.1"
        );
        assert_eq!(
            with_endpoint("https://MinIO.example:443/")
                .unwrap()
                .endpoint
                .url("/x"),
            "https://minio.example/x"
        );
        let err = with_endpoint("minio:9000").unwrap_err();
        assert_eq!(err.variable, "s3_endpoint");
        assert_eq!(
            err.to_string(),
            "Spin variable 's3_endpoint' must start with http:// or https://"
        );
        let err = with_endpoint("http://u:hunter2@minio").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn other_variables_are_validated() {
        let with = |extra: (&'static str, &'static str)| {
            let mut vars = REQUIRED.to_vec();
            vars.push(extra);
            config(&vars).err().map(|e| e.variable)
        };
        assert_eq!(with(("s3_bucket", "Bad_Bucket")), Some("s3_bucket"));
        assert_eq!(with(("s3_bucket", "10.0.0.1")), Some("s3_bucket"));
        assert_eq!(with(("s3_bucket", "my.gifs-2")), None);
        let mut vars = REQUIRED.to_vec();
        vars.push(("index_object", "../x.gif"));
        assert_eq!(index(&vars).unwrap_err().variable, "index_object");
        assert_eq!(with(("s3_timeout_ms", "5")), Some("s3_timeout_ms"));
        assert_eq!(with(("s3_timeout_ms", "abc")), Some("s3_timeout_ms"));
        assert_eq!(with(("s3_timeout_ms", "2500")), None);
    }
}
