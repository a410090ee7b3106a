//! A real Matrix homeserver for tests: Synapse (PyPI matrix-synapse, installed by `make test`
//! into a venv kept between runs), on 127.0.0.1 at a free port, with a generated config,
//! registration by token, and rate limits loose enough for bursts of test traffic.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "postgres.rs"]
mod postgres;
use postgres::Postgres;

pub struct Synapse {
    child: Option<Child>,
    /// Its database server when it stores on PostgreSQL rather than SQLite (the load
    /// benchmark's `SYNAPSE_DB=postgres`); stopped after Synapse, when the handle drops.
    postgres: Option<Postgres>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The name in its users' ids: "localhost", or for a federating server its federation
    /// address, "127.0.0.1:<port>", so that no other server has to look anything up.
    pub server_name: String,
    /// A registration token anyone may use any number of times.
    pub token: String,
    admin_token: String,
}

/// The venv `make test` installs Synapse into.
fn venv() -> PathBuf {
    match std::env::var_os("CAMPAIGN_SAFE_SYNAPSE_VENV") {
        Some(path) => PathBuf::from(path),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache")
                });
            cache.join("campaign-safe").join("synapse-1.163.2")
        }
    }
}

fn python() -> PathBuf {
    let python = venv().join("bin").join("python");
    assert!(
        python.exists(),
        "Synapse is not installed at {}: run `make test`, which installs it",
        venv().display()
    );
    python
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Rewrites the generated config for tests: loopback only, client API only, no key servers,
/// registration by token, generous rate limits, no presence.
const CONFIGURE: &str = r#"
import sys, yaml
path, port = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    config = yaml.safe_load(f)
config["listeners"] = [{
    "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
    "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
}]
config["trusted_key_servers"] = []
config["suppress_key_server_warning"] = True
config["enable_registration"] = True
config["registration_requires_token"] = True
config["presence"] = {"enabled": False}
loose = {"per_second": 1000, "burst_count": 1000}
for key in ["rc_message", "rc_registration", "rc_joins", "rc_invites", "rc_3pid_validation",
            "rc_registration_token_validity", "rc_key_requests", "rc_admin_redaction",
            "rc_media_create", "rc_delayed_event_mgmt"]:
    config[key] = loose
config["rc_login"] = {"address": loose, "account": loose, "failed_attempts": loose}
config["rc_joins"] = {"local": loose, "remote": loose}
config["rc_invites"] = {"per_room": loose, "per_user": loose, "per_issuer": loose}
if len(sys.argv) > 3:
    # Federation (issue 27): a TLS listener with a certificate made here, checked by
    # nobody; nothing blocked as a destination (the default blocks loopback; these servers
    # listen on nothing else); every key fetched from its own server.
    import datetime, ipaddress, os
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    federation_port = int(sys.argv[3])
    folder = os.path.dirname(path)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256()))
    with open(os.path.join(folder, "tls.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(folder, "tls.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    config["listeners"].append({
        "port": federation_port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": True,
        "x_forwarded": False, "resources": [{"names": ["federation"], "compress": False}],
    })
    config["tls_certificate_path"] = os.path.join(folder, "tls.crt")
    config["tls_private_key_path"] = os.path.join(folder, "tls.key")
    config["federation_verify_certificates"] = False
    config["ip_range_blacklist"] = []
    config["rc_federation"] = {"window_size": 1000, "sleep_limit": 1000, "sleep_delay": 1,
                               "reject_limit": 1000, "concurrent": 100}
import os
if os.environ.get("SYNAPSE_POSTGRES_SOCKET"):
    # PostgreSQL on a Unix socket of its own (see postgres.rs), instead of SQLite.
    config["database"] = {"name": "psycopg2", "args": {
        "user": "synapse", "dbname": "synapse",
        "host": os.environ["SYNAPSE_POSTGRES_SOCKET"], "cp_min": 5, "cp_max": 10}}
with open(path, "w") as f:
    yaml.safe_dump(config, f)
"#;

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Synapse {
    pub async fn start() -> Self {
        Self::start_named("localhost", None, None).await
    }

    /// A server that stores on PostgreSQL, as a party's would (the load benchmark's
    /// `SYNAPSE_DB=postgres`). Installs Synapse's PostgreSQL driver into its venv if missing.
    #[allow(dead_code)]
    pub async fn start_on_postgres() -> Self {
        let has_driver = Command::new(python())
            .args(["-c", "import psycopg2"])
            .status()
            .is_ok_and(|status| status.success());
        if !has_driver {
            eprintln!("Installing psycopg2-binary into {} (pip)", venv().display());
            run(
                Command::new(venv().join("bin").join("pip")).args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "psycopg2-binary==2.9.*",
                ]),
                "installing Synapse's PostgreSQL driver",
            );
        }
        Self::start_named("localhost", None, Some(Postgres::start())).await
    }

    /// Two servers that federate with each other over TLS on 127.0.0.1 (issue 27), started
    /// side by side.
    pub async fn start_federating_pair() -> (Self, Self) {
        let (a, b) = (free_port(), free_port());
        let name_a = format!("127.0.0.1:{a}");
        let name_b = format!("127.0.0.1:{b}");
        tokio::join!(
            Self::start_named(&name_a, Some(a), None),
            Self::start_named(&name_b, Some(b), None)
        )
    }

    async fn start_named(
        server_name: &str,
        federation_port: Option<u16>,
        postgres: Option<Postgres>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("synapse folder");
        let port = free_port();
        let config = dir.path().join("hs.yaml");
        run(
            Command::new(python())
                .args(["-m", "synapse.app.homeserver", "--server-name", server_name])
                .arg("--config-path")
                .arg(&config)
                .args(["--generate-config", "--report-stats=no", "--data-directory"])
                .arg(dir.path())
                .current_dir(dir.path()),
            "generating the Synapse config",
        );
        let mut configure = Command::new(python());
        configure
            .args(["-c", CONFIGURE])
            .arg(&config)
            .arg(port.to_string());
        if let Some(federation_port) = federation_port {
            configure.arg(federation_port.to_string());
        }
        if let Some(postgres) = &postgres {
            configure.env("SYNAPSE_POSTGRES_SOCKET", postgres.socket_dir());
        }
        run(&mut configure, "editing the Synapse config");
        let mut server = Self {
            child: None,
            postgres,
            dir,
            port,
            server_name: server_name.to_owned(),
            token: String::new(),
            admin_token: String::new(),
        };
        server.launch().await;
        server.set_up_registration().await;
        server
    }

    /// A server another process of this test started (at `port`, registering with `token`):
    /// this handle neither starts nor stops it.
    pub fn running_at(port: u16, token: &str) -> Self {
        Self {
            child: None,
            postgres: None,
            dir: tempfile::tempdir().expect("folder"),
            port,
            server_name: "localhost".to_owned(),
            token: token.to_owned(),
            admin_token: String::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("hs.yaml")
    }

    /// Starts the server and waits until it answers its health check.
    pub async fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("synapse-stdout.txt")).expect("log");
        let child = Command::new(python())
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.config())
            .current_dir(self.dir.path())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start Synapse");
        self.child = Some(child);
        let health = format!("{}/health", self.url());
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(response) = reqwest::get(&health).await {
                if response.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "Synapse exited ({status}) before it was healthy; see {}",
                    self.log_path().display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Synapse was not healthy within 90 s; see {}",
                self.log_path().display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("synapse-stdout.txt")
    }

    /// The server's process, while it runs (the load benchmark reads its CPU and memory).
    #[allow(dead_code)]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its PostgreSQL server's main process, if it stores on PostgreSQL.
    #[allow(dead_code)]
    pub fn database_pid(&self) -> Option<u32> {
        self.postgres.as_ref().and_then(Postgres::pid)
    }

    /// Stops the server (a crash or an outage, as far as clients can tell).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn set_up_registration(&mut self) {
        let register = venv().join("bin").join("register_new_matrix_user");
        run(
            Command::new(register)
                .args(["-c"])
                .arg(self.config())
                .args(["-u", "admin", "-p", "admin-password", "--admin"])
                .arg(self.url()),
            "registering the admin user",
        );
        let login = post(
            &format!("{}/_matrix/client/v3/login", self.url()),
            None,
            json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "admin"}, "password": "admin-password"}),
        )
        .await;
        self.admin_token = login["access_token"]
            .as_str()
            .expect("admin token")
            .to_owned();
        let token = post(
            &format!("{}/_synapse/admin/v1/registration_tokens/new", self.url()),
            Some(&self.admin_token),
            json!({}),
        )
        .await;
        self.token = token["token"].as_str().expect("token").to_owned();
    }

    /// Every byte the server has stored: its SQLite database and write-ahead log (the tests'
    /// servers store on SQLite; one on PostgreSQL gives nothing here).
    pub fn stored_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in ["homeserver.db", "homeserver.db-wal"] {
            if let Ok(mut more) = std::fs::read(self.dir.path().join(name)) {
                bytes.append(&mut more);
            }
        }
        bytes
    }
}

/// POSTs JSON and reads JSON back. (reqwest's own `json` feature is left off: a feature the
/// app's graph lacks would make cargo build the library twice for benchmarks.)
async fn post(url: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let text = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} answered {text}: {e}"))
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.stop();
    }
}
