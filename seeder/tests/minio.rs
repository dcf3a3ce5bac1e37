//! End-to-end tests of the `seeder` binary against a real MinIO server.
//!
//! Each test that needs MinIO starts its own on free loopback ports with a temporary data
//! directory and kills it on drop. The server binary comes from `MINIO_BIN`, else
//! `<workspace>/.tools/bin/minio` (built by `scripts/install-tools.sh minio`); when it is
//! missing these tests fail, because skipping would hide that nothing was checked.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use seeder::config::Endpoint;
use seeder::s3::{bucket_path, object_path, query, Client, Credentials, Response, Role, TlsRoots};
use seeder::secret::Secret;

const ROOT_USER: &str = "seeder-root";
const ROOT_PASSWORD: &str = "Root-Pa55word-4-tests";
const APP_KEY: &str = "gif-gateway";
const APP_SECRET: &str = "App-Secret-Key-4-tests";
const BUCKET: &str = "gifs";
const KEY: &str = "animation.gif";
const POLICY: &str = "gif-gateway-read";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn minio_bin() -> PathBuf {
    let bin = std::env::var_os("MINIO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".tools/bin/minio"));
    assert!(
        bin.is_file(),
        "MinIO server binary not found at {} — build it with `scripts/install-tools.sh minio` \
         or point MINIO_BIN at one. These tests need a real MinIO and do not skip.",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local addr").port()
}

/// A MinIO server for one test; killed (and its data dir removed) on drop.
struct Minio {
    child: Child,
    endpoint: String,
    log: PathBuf,
    /// PEM of the CA that signed the server certificate, when serving https.
    ca_pem: Option<String>,
    _dir: tempfile::TempDir,
}

/// A private CA and a server certificate for 127.0.0.1 signed by it, as MinIO expects
/// them in its certs dir.
fn write_tls_material(certs_dir: &Path) -> String {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "seeder test CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA cert");
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("server params")
        .signed_by(&server_key, &ca, &ca_key)
        .expect("server cert");
    std::fs::create_dir_all(certs_dir).expect("certs dir");
    std::fs::write(certs_dir.join("public.crt"), server.pem()).expect("public.crt");
    std::fs::write(certs_dir.join("private.key"), server_key.serialize_pem()).expect("private.key");
    ca.pem()
}

impl Minio {
    fn start() -> Minio {
        Self::start_with(false)
    }

    fn start_with(tls: bool) -> Minio {
        let bin = minio_bin();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        let certs_dir = dir.path().join("certs");
        let ca_pem = tls.then(|| write_tls_material(&certs_dir));
        let log = dir.path().join("minio.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let port = free_port();
        let console_port = free_port();
        let child = Command::new(bin)
            .args(["server", "--quiet", "--certs-dir"])
            .arg(&certs_dir)
            .arg("--address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--console-address")
            .arg(format!("127.0.0.1:{console_port}"))
            .arg(&data)
            .env("MINIO_ROOT_USER", ROOT_USER)
            .env("MINIO_ROOT_PASSWORD", ROOT_PASSWORD)
            // Keep the server strictly local: no update checks, no call-home, no console.
            .env("MINIO_UPDATE", "off")
            .env("MINIO_CALLHOME_ENABLE", "off")
            .env("MINIO_BROWSER", "off")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log fd"))
            .stderr(log_file)
            .spawn()
            .expect("spawn minio");
        let scheme = if tls { "https" } else { "http" };
        let mut minio = Minio {
            child,
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            log,
            ca_pem,
            _dir: dir,
        };
        minio.wait_ready();
        minio
    }

    fn wait_ready(&mut self) {
        let agent = seeder::s3::agent(Duration::from_secs(2), self.roots().as_ref());
        let url = format!("{}/minio/health/ready", self.endpoint);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("MinIO exited early ({status}):\n{}", self.log_text());
            }
            if matches!(agent.get(&url).call(), Ok(r) if r.status() == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "MinIO did not become ready within 60s:\n{}",
            self.log_text()
        );
    }

    fn roots(&self) -> Option<TlsRoots> {
        self.ca_pem
            .as_ref()
            .map(|pem| TlsRoots::from_pem(pem.as_bytes()).expect("CA PEM"))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn client(&self, creds: Option<(&str, &str)>) -> Client {
        let creds = creds.map(|(access_key, secret)| Credentials {
            access_key: access_key.to_string(),
            secret_key: Secret::new(secret),
        });
        Client::new(
            Endpoint::parse(&self.endpoint).expect("endpoint"),
            "us-east-1",
            creds,
            Role::Root,
            seeder::s3::agent(Duration::from_secs(30), self.roots().as_ref()),
        )
    }

    fn root(&self) -> Client {
        self.client(Some((ROOT_USER, ROOT_PASSWORD)))
    }
}

impl Drop for Minio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The GIF to seed: the project's real asset when present, else a tiny generated GIF.
fn gif_file(dir: &Path) -> PathBuf {
    let asset = workspace_root().join("assets/animation.gif");
    if asset.is_file() {
        return asset;
    }
    let path = dir.join("animation.gif");
    // 1x1 transparent GIF89a.
    let gif: &[u8] = &[
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
    ];
    std::fs::write(&path, gif).expect("write gif");
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }

    fn has_line_starting(&self, prefix: &str) -> bool {
        self.stdout.lines().any(|l| l.starts_with(prefix))
    }

    fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }

    fn assert_ok(&self) {
        assert_eq!(self.code, Some(0), "{}", self.describe());
        assert!(self.stderr.is_empty(), "{}", self.describe());
    }

    /// Exactly one stderr line, starting with `error: `.
    fn assert_one_error_line(&self) -> &str {
        assert_ne!(self.code, Some(0), "{}", self.describe());
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", self.describe());
        assert!(lines[0].starts_with("error: "), "{}", self.describe());
        lines[0]
    }

    fn assert_no_secret(&self, secrets: &[&str]) {
        for s in secrets {
            assert!(
                !self.stdout.contains(s) && !self.stderr.contains(s),
                "secret leaked:\n{}",
                self.describe()
            );
        }
    }
}

fn seeder(vars: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_seeder"))
        .env_clear()
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run seeder");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn base_vars<'a>(endpoint: &'a str, gif: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("MINIO_ENDPOINT", endpoint),
        ("MINIO_ROOT_USER", ROOT_USER),
        ("MINIO_ROOT_PASSWORD", ROOT_PASSWORD),
        ("OBJECT_FILE", gif),
        ("APP_ACCESS_KEY", APP_KEY),
        ("APP_SECRET_KEY", APP_SECRET),
        ("READY_TIMEOUT_SECS", "30"),
    ]
}

fn with(vars: &[(&'static str, &'static str)], base: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = base
        .iter()
        .filter(|(k, _)| !vars.iter().any(|(n, _)| n == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.extend(
        vars.iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    out
}

fn seeder_owned(vars: &[(String, String)]) -> Run {
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    seeder(&borrowed)
}

fn head_object(client: &Client) -> Response {
    client
        .send("HEAD", &object_path(BUCKET, KEY), &[], b"")
        .expect("HEAD object")
}

fn public_read_policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["*"]}},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::{bucket}/*"]}}]}}"#
    )
}

#[test]
fn seeds_once_then_changes_nothing_and_grants_read_only() {
    let minio = Minio::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let gif = gif_file(tmp.path());
    let gif_str = gif.display().to_string();
    let gif_bytes = std::fs::read(&gif).expect("read gif");
    let vars = base_vars(&minio.endpoint, &gif_str);

    let first = seeder(&vars);
    eprintln!("first run: {:?}", first.took);
    first.assert_ok();
    assert_eq!(
        first.lines(),
        vec![
            format!("minio {}: ready", minio.endpoint).as_str(),
            "bucket gifs: created",
            "bucket policy gifs: none",
            format!(
                "object gifs/animation.gif: uploaded ({} bytes, image/gif)",
                gif_bytes.len()
            )
            .as_str(),
            "policy gif-gateway-read: created",
            "user gif-gateway: created (policy gif-gateway-read)",
            "verified: app credentials can read animation.gif and cannot list",
            "seeded: 4 change(s)",
        ],
        "{}",
        first.describe()
    );
    first.assert_no_secret(&[ROOT_PASSWORD, APP_SECRET]);

    let root = minio.root();
    let before = head_object(&root);
    assert_eq!(before.status, 200);
    assert_eq!(before.header("content-type"), Some("image/gif"));

    // Second run, with the secrets supplied as files the way Kubernetes mounts them.
    let secrets = tempfile::tempdir().expect("secrets dir");
    let root_file = secrets.path().join("root-password");
    let app_file = secrets.path().join("app-secret");
    std::fs::write(&root_file, format!("{ROOT_PASSWORD}\n")).expect("write");
    std::fs::write(&app_file, format!("{APP_SECRET}\n")).expect("write");
    let root_file = root_file.display().to_string();
    let app_file = app_file.display().to_string();
    let mut second_vars: Vec<(&str, &str)> = vars
        .iter()
        .copied()
        .filter(|(k, _)| !matches!(*k, "MINIO_ROOT_PASSWORD" | "APP_SECRET_KEY"))
        .collect();
    second_vars.push(("MINIO_ROOT_PASSWORD_FILE", &root_file));
    second_vars.push(("APP_SECRET_KEY_FILE", &app_file));
    let second = seeder(&second_vars);
    eprintln!("second run: {:?}", second.took);
    second.assert_ok();
    assert_eq!(
        second.lines(),
        vec![
            format!("minio {}: ready", minio.endpoint).as_str(),
            "bucket gifs: exists",
            "bucket policy gifs: none",
            "object gifs/animation.gif: unchanged",
            "policy gif-gateway-read: unchanged",
            "user gif-gateway: unchanged",
            "verified: app credentials can read animation.gif and cannot list",
            "seeded: 0 change(s)",
        ],
        "{}",
        second.describe()
    );

    let after = head_object(&root);
    assert_eq!(
        after.header("etag"),
        before.header("etag"),
        "object was rewritten"
    );
    assert_eq!(
        after.header("last-modified"),
        before.header("last-modified"),
        "object was rewritten"
    );

    // Anonymous access: nothing.
    let anonymous = minio.client(None);
    let anon_get = anonymous
        .send("GET", &object_path(BUCKET, KEY), &[], b"")
        .expect("anon GET");
    assert_eq!(anon_get.status, 403, "anonymous GET must be denied");
    let anon_list = anonymous
        .send("GET", &bucket_path(BUCKET), &[], b"")
        .expect("anon LIST");
    assert_eq!(anon_list.status, 403, "anonymous LIST must be denied");

    // App credentials: read only that object.
    let app = minio.client(Some((APP_KEY, APP_SECRET)));
    let get = app
        .send("GET", &object_path(BUCKET, KEY), &[], b"")
        .expect("app GET");
    assert_eq!(get.status, 200, "app GET: {:?}", get.api_error());
    assert_eq!(get.body, gif_bytes, "served bytes differ from the file");
    assert_eq!(get.header("content-type"), Some("image/gif"));
    let put = app
        .send("PUT", &object_path(BUCKET, "other.gif"), &[], b"GIF89a")
        .expect("app PUT");
    assert_eq!(put.status, 403, "app PUT must be denied");
    let overwrite = app
        .send("PUT", &object_path(BUCKET, KEY), &[], b"GIF89a")
        .expect("app PUT");
    assert_eq!(overwrite.status, 403, "app overwrite must be denied");
    let delete = app
        .send("DELETE", &object_path(BUCKET, KEY), &[], b"")
        .expect("app DELETE");
    assert_eq!(delete.status, 403, "app DELETE must be denied");
    let list = app
        .send(
            "GET",
            &format!("{}{}", bucket_path(BUCKET), query(&[("list-type", "2")])),
            &[],
            b"",
        )
        .expect("app LIST");
    assert_eq!(list.status, 403, "app LIST must be denied");
    assert_eq!(list.error_code(), "AccessDenied");
    assert_eq!(
        head_object(&root).status,
        200,
        "the object must survive the denied DELETE"
    );
}

#[test]
fn repairs_drift_public_policy_secret_policy_and_object() {
    let minio = Minio::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let gif = gif_file(tmp.path());
    let gif_str = gif.display().to_string();
    let root = minio.root();
    let anonymous = minio.client(None);

    // Someone made the bucket public and put a different object there beforehand.
    let created = root
        .send("PUT", &bucket_path(BUCKET), &[], b"")
        .expect("create bucket");
    assert_eq!(created.status, 200, "{:?}", created.api_error());
    let policy_path = format!("{}{}", bucket_path(BUCKET), query(&[("policy", "")]));
    let public = root
        .send(
            "PUT",
            &policy_path,
            &[],
            public_read_policy(BUCKET).as_bytes(),
        )
        .expect("set public policy");
    assert_eq!(public.status, 204, "{:?}", public.api_error());
    let stale = root
        .send(
            "PUT",
            &object_path(BUCKET, KEY),
            &[("content-type", "image/gif")],
            b"GIF89a-stale",
        )
        .expect("stale object");
    assert_eq!(stale.status, 200);
    let anon = anonymous
        .send("GET", &object_path(BUCKET, KEY), &[], b"")
        .expect("anon GET");
    assert_eq!(anon.status, 200, "precondition: the bucket is public");

    let vars = base_vars(&minio.endpoint, &gif_str);
    let run = seeder(&vars);
    run.assert_ok();
    assert!(run.has_line("bucket gifs: exists"), "{}", run.describe());
    assert!(
        run.has_line("bucket policy gifs: removed"),
        "{}",
        run.describe()
    );
    assert!(
        run.has_line_starting("object gifs/animation.gif: replaced ("),
        "{}",
        run.describe()
    );
    assert!(run.has_line("seeded: 4 change(s)"), "{}", run.describe());
    let anon = anonymous
        .send("GET", &object_path(BUCKET, KEY), &[], b"")
        .expect("anon GET");
    assert_eq!(anon.status, 403, "anonymous access must be gone");
    let gone = root
        .send("GET", &policy_path, &[], b"")
        .expect("GET policy");
    assert_eq!(gone.error_code(), "NoSuchBucketPolicy");

    // The component's secret was rotated: the user is updated, only the new secret works.
    let rotated = with(&[("APP_SECRET_KEY", "Rotated-Secret-Key-2")], &vars);
    let run = seeder_owned(&rotated);
    run.assert_ok();
    assert!(
        run.has_line("user gif-gateway: updated (policy gif-gateway-read)"),
        "{}",
        run.describe()
    );
    assert!(run.has_line("seeded: 1 change(s)"), "{}", run.describe());
    run.assert_no_secret(&["Rotated-Secret-Key-2", ROOT_PASSWORD]);
    let old = minio.client(Some((APP_KEY, APP_SECRET)));
    assert_eq!(
        head_object(&old).status,
        403,
        "old secret must stop working"
    );
    let new = minio.client(Some((APP_KEY, "Rotated-Secret-Key-2")));
    assert_eq!(head_object(&new).status, 200, "new secret must work");

    // The canned policy was broadened by hand: it is put back to read-only, and the user
    // bound to an extra policy is bound to ours only again.
    let broad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}"#;
    let resp = root
        .send(
            "PUT",
            &format!(
                "/minio/admin/v3/add-canned-policy{}",
                query(&[("name", POLICY)])
            ),
            &[],
            broad.as_bytes(),
        )
        .expect("broaden policy");
    assert_eq!(resp.status, 200, "{:?}", resp.api_error());
    let resp = root
        .send(
            "PUT",
            &format!(
                "/minio/admin/v3/set-user-or-group-policy{}",
                query(&[
                    ("policyName", &format!("{POLICY},readwrite")),
                    ("userOrGroup", APP_KEY),
                    ("isGroup", "false")
                ])
            ),
            &[],
            b"",
        )
        .expect("attach extra policy");
    assert_eq!(resp.status, 200, "{:?}", resp.api_error());
    let run = seeder_owned(&rotated);
    run.assert_ok();
    assert!(
        run.has_line("policy gif-gateway-read: updated"),
        "{}",
        run.describe()
    );
    assert!(
        run.has_line("user gif-gateway: updated (policy gif-gateway-read)"),
        "{}",
        run.describe()
    );
    assert!(run.has_line("seeded: 2 change(s)"), "{}", run.describe());
    let put = new
        .send("PUT", &object_path(BUCKET, "x.gif"), &[], b"GIF89a")
        .expect("app PUT");
    assert_eq!(put.status, 403, "write access must be gone");

    let run = seeder_owned(&rotated);
    run.assert_ok();
    assert!(run.has_line("seeded: 0 change(s)"), "{}", run.describe());
}

#[test]
fn https_endpoint_with_private_ca() {
    let minio = Minio::start_with(true);
    let tmp = tempfile::tempdir().expect("tmp");
    let gif = gif_file(tmp.path());
    let gif_str = gif.display().to_string();
    let ca_file = tmp.path().join("ca.pem");
    std::fs::write(&ca_file, minio.ca_pem.as_deref().expect("CA")).expect("write CA");
    let ca_str = ca_file.display().to_string();
    let mut vars = base_vars(&minio.endpoint, &gif_str);

    // Without the CA the certificate cannot be trusted, and the error says why.
    let untrusted = with(&[("READY_TIMEOUT_SECS", "2")], &vars);
    let run = seeder_owned(&untrusted);
    let line = run.assert_one_error_line();
    assert!(
        line.starts_with(&format!(
            "error: MinIO at {} not ready after 2s (",
            minio.endpoint
        )) && line.to_lowercase().contains("certificate"),
        "{}",
        run.describe()
    );

    vars.push(("MINIO_CA_FILE", &ca_str));
    let first = seeder(&vars);
    first.assert_ok();
    assert!(
        first.has_line("seeded: 4 change(s)"),
        "{}",
        first.describe()
    );
    let second = seeder(&vars);
    second.assert_ok();
    assert!(
        second.has_line("seeded: 0 change(s)"),
        "{}",
        second.describe()
    );
    let app = minio.client(Some((APP_KEY, APP_SECRET)));
    assert_eq!(head_object(&app).status, 200);
}

#[test]
fn wrong_root_password_fails_with_one_clear_line() {
    let minio = Minio::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let gif = gif_file(tmp.path());
    let gif_str = gif.display().to_string();
    let wrong = "Wrong-Root-Password-42";
    let vars = with(
        &[("MINIO_ROOT_PASSWORD", wrong)],
        &base_vars(&minio.endpoint, &gif_str),
    );
    let run = seeder_owned(&vars);
    let line = run.assert_one_error_line();
    assert_eq!(
        line,
        "error: MinIO rejected the root credentials (SignatureDoesNotMatch)",
        "{}",
        run.describe()
    );
    run.assert_no_secret(&[wrong, ROOT_PASSWORD, APP_SECRET]);

    let vars = with(
        &[("MINIO_ROOT_USER", "nobody-here")],
        &base_vars(&minio.endpoint, &gif_str),
    );
    let run = seeder_owned(&vars);
    let line = run.assert_one_error_line();
    assert_eq!(
        line,
        "error: MinIO rejected the root credentials (InvalidAccessKeyId)",
        "{}",
        run.describe()
    );
    run.assert_no_secret(&[ROOT_PASSWORD, APP_SECRET]);

    // Nothing was created with the bad credentials.
    let root = minio.root();
    let bucket = root
        .send(
            "GET",
            &format!("{}{}", bucket_path(BUCKET), query(&[("location", "")])),
            &[],
            b"",
        )
        .expect("GET location");
    assert_eq!(bucket.error_code(), "NoSuchBucket");
}

#[test]
fn unreachable_endpoint_reports_readiness_timeout() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gif = gif_file(tmp.path());
    let gif_str = gif.display().to_string();
    // A port that was free a moment ago: nothing listens there.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let vars = with(
        &[("READY_TIMEOUT_SECS", "2")],
        &base_vars(&endpoint, &gif_str),
    );
    let run = seeder_owned(&vars);
    let line = run.assert_one_error_line().to_string();
    assert!(
        line.starts_with(&format!("error: MinIO at {endpoint} not ready after 2s (")),
        "{}",
        run.describe()
    );
    assert!(run.took < Duration::from_secs(10), "{}", run.describe());
    assert_eq!(run.code, Some(1));
    run.assert_no_secret(&[ROOT_PASSWORD, APP_SECRET]);
}

#[test]
fn missing_object_file_is_reported_before_contacting_minio() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let run = seeder(&base_vars(&endpoint, "/nonexistent/dir/animation.gif"));
    let line = run.assert_one_error_line();
    assert!(
        line.starts_with("error: OBJECT_FILE /nonexistent/dir/animation.gif: cannot read it ("),
        "{}",
        run.describe()
    );
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(run.took < Duration::from_secs(5), "{}", run.describe());
}

#[test]
fn invalid_input_is_reported_up_front_naming_the_variables() {
    let run = seeder(&[
        ("MINIO_ENDPOINT", "127.0.0.1:9000"),
        ("MINIO_ROOT_USER", ROOT_USER),
        ("MINIO_ROOT_PASSWORD", ROOT_PASSWORD),
        ("APP_ACCESS_KEY", "ab"),
        ("APP_SECRET_KEY", "tiny7"),
        ("BUCKET", "Not_A_Bucket"),
    ]);
    let line = run.assert_one_error_line();
    assert_eq!(run.code, Some(2));
    for expected in [
        "MINIO_ENDPOINT must start with http:// or https://",
        "APP_ACCESS_KEY must be at least 3 characters",
        "APP_SECRET_KEY must be at least 8 characters",
        "BUCKET \"Not_A_Bucket\"",
        "OBJECT_FILE is required",
    ] {
        assert!(line.contains(expected), "{expected:?} missing in {line}");
    }
    run.assert_no_secret(&["tiny7", ROOT_PASSWORD]);
}

const MIRROR_KEY: &str = "gif-minio-mirror";
const MIRROR_SECRET: &str = "Mirror-Secret-Key-4-tests";
const MIRROR_POLICY: &str = "gif-minio-mirror-read";

#[test]
fn mirror_user_lists_and_reads_only_and_is_idempotent() {
    let minio = Minio::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let gif = gif_file(tmp.path());
    let gif_str = gif.display().to_string();
    let gif_bytes = std::fs::read(&gif).expect("read gif");
    // As the chart passes them: files from the mirror Secret, like the app's.
    let secrets = tempfile::tempdir().expect("secrets dir");
    let key_file = secrets.path().join("accessKey");
    let secret_file = secrets.path().join("secretKey");
    std::fs::write(&key_file, format!("{MIRROR_KEY}\n")).expect("write");
    std::fs::write(&secret_file, format!("{MIRROR_SECRET}\n")).expect("write");
    let (key_file, secret_file) = (
        key_file.display().to_string(),
        secret_file.display().to_string(),
    );
    let mut vars = base_vars(&minio.endpoint, &gif_str);
    vars.push(("MIRROR_ACCESS_KEY_FILE", &key_file));
    vars.push(("MIRROR_SECRET_KEY_FILE", &secret_file));

    let first = seeder(&vars);
    first.assert_ok();
    assert_eq!(
        first.lines(),
        vec![
            format!("minio {}: ready", minio.endpoint).as_str(),
            "bucket gifs: created",
            "bucket policy gifs: none",
            format!(
                "object gifs/animation.gif: uploaded ({} bytes, image/gif)",
                gif_bytes.len()
            )
            .as_str(),
            "policy gif-gateway-read: created",
            "user gif-gateway: created (policy gif-gateway-read)",
            "policy gif-minio-mirror-read: created",
            "user gif-minio-mirror: created (policy gif-minio-mirror-read)",
            "verified: app credentials can read animation.gif and cannot list",
            "verified: mirror credentials can list gifs and read animation.gif",
            "seeded: 6 change(s)",
        ],
        "{}",
        first.describe()
    );
    first.assert_no_secret(&[ROOT_PASSWORD, APP_SECRET, MIRROR_SECRET]);

    let second = seeder(&vars);
    second.assert_ok();
    assert!(
        second.has_line("policy gif-minio-mirror-read: unchanged")
            && second.has_line("user gif-minio-mirror: unchanged")
            && second.has_line("seeded: 0 change(s)"),
        "{}",
        second.describe()
    );

    // What mc mirror and mc diff do on the primary: list, stat, get. Nothing more.
    let mirror = minio.client(Some((MIRROR_KEY, MIRROR_SECRET)));
    let list = mirror
        .send(
            "GET",
            &format!("{}{}", bucket_path(BUCKET), query(&[("list-type", "2")])),
            &[],
            b"",
        )
        .expect("mirror LIST");
    assert_eq!(list.status, 200, "mirror LIST: {:?}", list.api_error());
    assert!(String::from_utf8_lossy(&list.body).contains("<Key>animation.gif</Key>"));
    let location = mirror
        .send(
            "GET",
            &format!("{}{}", bucket_path(BUCKET), query(&[("location", "")])),
            &[],
            b"",
        )
        .expect("mirror GET location");
    assert_eq!(location.status, 200, "{:?}", location.api_error());
    let get = mirror
        .send("GET", &object_path(BUCKET, KEY), &[], b"")
        .expect("mirror GET");
    assert_eq!(get.status, 200);
    assert_eq!(get.body, gif_bytes);
    for (method, path, body) in [
        ("PUT", object_path(BUCKET, "other.gif"), &b"GIF89a"[..]),
        ("PUT", object_path(BUCKET, KEY), &b"GIF89a"[..]),
        ("DELETE", object_path(BUCKET, KEY), &b""[..]),
        ("PUT", bucket_path("another-bucket"), &b""[..]),
        (
            "GET",
            format!(
                "/minio/admin/v3/user-info{}",
                query(&[("accessKey", APP_KEY)])
            ),
            &b""[..],
        ),
    ] {
        let resp = mirror.send(method, &path, &[], body).expect("mirror write");
        assert_eq!(resp.status, 403, "mirror {method} {path} must be denied");
    }
    let root = minio.root();
    let other = root
        .send("PUT", &bucket_path("other"), &[], b"")
        .expect("create other bucket");
    assert_eq!(other.status, 200);
    let other_list = mirror
        .send("GET", &bucket_path("other"), &[], b"")
        .expect("mirror LIST other");
    assert_eq!(other_list.status, 403, "mirror must not list other buckets");
    assert_eq!(head_object(&root).status, 200, "the GIF survives");

    // Rotated secret: the user is updated and only the new one works.
    let rotated = "Rotated-Mirror-Secret-3";
    std::fs::write(&secret_file, rotated).expect("write");
    let run = seeder(&vars);
    run.assert_ok();
    assert!(
        run.has_line("user gif-minio-mirror: updated (policy gif-minio-mirror-read)")
            && run.has_line("seeded: 1 change(s)"),
        "{}",
        run.describe()
    );
    run.assert_no_secret(&[rotated, MIRROR_SECRET]);
    assert_eq!(
        head_object(&mirror).status,
        403,
        "old secret must stop working"
    );
    assert_eq!(
        head_object(&minio.client(Some((MIRROR_KEY, rotated)))).status,
        200
    );

    // The mirror policy broadened by hand is put back.
    let broad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}"#;
    let resp = root
        .send(
            "PUT",
            &format!(
                "/minio/admin/v3/add-canned-policy{}",
                query(&[("name", MIRROR_POLICY)])
            ),
            &[],
            broad.as_bytes(),
        )
        .expect("broaden policy");
    assert_eq!(resp.status, 200, "{:?}", resp.api_error());
    let run = seeder(&vars);
    run.assert_ok();
    assert!(
        run.has_line("policy gif-minio-mirror-read: updated")
            && run.has_line("seeded: 1 change(s)"),
        "{}",
        run.describe()
    );
    let put = minio
        .client(Some((MIRROR_KEY, rotated)))
        .send("PUT", &object_path(BUCKET, "x.gif"), &[], b"GIF89a")
        .expect("mirror PUT");
    assert_eq!(put.status, 403, "write access must be gone");
}

#[test]
fn a_mirror_key_without_its_secret_is_refused_up_front() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let mut vars = base_vars(&endpoint, "/nonexistent/animation.gif");
    vars.push(("MIRROR_ACCESS_KEY", MIRROR_KEY));
    let run = seeder(&vars);
    let line = run.assert_one_error_line();
    assert_eq!(run.code, Some(2));
    assert!(
        line.contains("MIRROR_SECRET_KEY (or MIRROR_SECRET_KEY_FILE) is required"),
        "{}",
        run.describe()
    );
}
