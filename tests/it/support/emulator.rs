//! The AWS API emulator for integration tests: moto's server with regionctl's extensions
//! (`tests/emulator/launch.py`), one per test, on a free loopback port.
//!
//! Starting fails the test loudly, with the command that fixes it, when Python or moto is
//! missing: a test that needs the emulator never silently passes without it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A running emulator; killed when dropped.
pub struct Emulator {
    child: Child,
    // Held open: the launcher exits when its stdin closes, so a test process that dies (even by
    // kill -9) never leaves a server behind.
    _stdin: ChildStdin,
    pub port: u16,
    pub endpoint: String,
}

/// The credentials the emulator accepts (any), as tests and the CLI pass them.
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

pub fn python() -> String {
    std::env::var("REGIONCTL_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

pub fn launcher() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/launch.py")
}

impl Emulator {
    /// Starts a fresh emulator and waits until it answers HTTP.
    pub fn start() -> Emulator {
        let mut child = Command::new(python())
            .arg(launcher())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} to start the AWS emulator: {e}\n\
                     install Python 3 and run: python3 -m pip install -r tests/emulator/requirements.txt",
                    python()
                )
            });
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut first = String::new();
        // The launcher prints `READY <port>` once it listens; anything else means it failed.
        let read = BufReader::new(stdout).read_line(&mut first);
        let port = first
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            panic!(
                "the AWS emulator did not start (read: {read:?}, first line: {first:?}).\n\
                 its stderr:\n{stderr}\n\
                 install it with: python3 -m pip install -r tests/emulator/requirements.txt"
            );
        };
        // Drain stderr in the background so a chatty server never blocks on a full pipe.
        if let Some(mut e) = child.stderr.take() {
            std::thread::spawn(move || {
                let mut sink = Vec::new();
                let _ = e.read_to_end(&mut sink);
            });
        }
        let emulator = Emulator {
            child,
            _stdin: stdin,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        emulator.wait_healthy();
        emulator
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.request("GET", "/regionctl/health", "") {
                Ok((200, _)) => return,
                other if Instant::now() > deadline => {
                    panic!(
                        "the AWS emulator on port {} never became healthy: {other:?}",
                        self.port
                    )
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// A minimal HTTP/1.1 request to the emulator's control endpoints (no client library needed).
    pub fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Forgets every resource (moto's own reset).
    #[allow(dead_code)] // benches/apply.rs resets between runs; no test needs it
    pub fn reset(&self) {
        let (status, body) = self
            .request("POST", "/moto-api/reset", "")
            .expect("reset request");
        assert_eq!(status, 200, "moto reset failed: {body}");
    }

    /// Makes resources of `kind` (a regionctl kind name) created from now on report a pending
    /// status for `describes` reads before they are ready, and deletions take as many reads.
    pub fn set_delay(&self, kind: &str, describes: u32) {
        let (status, body) = self
            .request(
                "POST",
                "/regionctl/delay",
                &format!(r#"{{"kind":"{kind}","describes":{describes}}}"#),
            )
            .expect("delay request");
        assert_eq!(status, 200, "setting the emulator delay failed: {body}");
    }

    /// Makes the Resource Groups Tagging API's GetResources leave out the RDS and ElastiCache
    /// groups regionctl reads their tags from (`true`), as AWS's eventually consistent index does
    /// for a while after they are created or retagged; `false` answers them again.
    pub fn set_tagging_lag(&self, lagging: bool) {
        let (status, body) = self
            .request(
                "POST",
                "/regionctl/tagging",
                &format!(r#"{{"lagging":{lagging}}}"#),
            )
            .expect("tagging request");
        assert_eq!(status, 200, "setting the tagging index lag failed: {body}");
    }

    /// The environment a `regionctl` process needs to reach this emulator and nothing else.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            // Never ask a real instance metadata service or read the developer's profiles.
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", "/nonexistent/regionctl-test".to_owned()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/regionctl-test".to_owned(),
            ),
            ("REGIONCTL_POLL_INTERVAL_MS", "20".to_owned()),
        ]
    }

    /// Runs a boto3 script against this emulator, the way a user with the AWS CLI would act
    /// behind regionctl's back. `client(service, region)` is defined for the script; returns what
    /// it prints.
    pub fn boto3(&self, script: &str) -> String {
        let prelude = "import boto3, json, os\n\
                       def client(service, region):\n    \
                           return boto3.client(service, region_name=region, \
                           endpoint_url=os.environ['AWS_ENDPOINT_URL'])\n";
        let mut command = Command::new(python());
        command.arg("-c").arg(format!("{prelude}{script}"));
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command.envs(self.env());
        let out = command
            .output()
            .expect("the emulator's Python (REGIONCTL_PYTHON) can be started");
        assert!(
            out.status.success(),
            "boto3 script failed (boto3 is in tests/emulator/requirements.txt):\n{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A provider reaching this emulator through the real SDK, with dummy credentials and waits
    /// shortened to 20 ms per poll.
    pub async fn provider(&self, stack: &str) -> regionctl::provider::Provider {
        self.provider_at(&self.endpoint, stack).await
    }

    /// A provider that sends to `endpoint` (a fault proxy in front of this emulator).
    pub async fn provider_at(&self, endpoint: &str, stack: &str) -> regionctl::provider::Provider {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                ACCESS_KEY,
                SECRET_KEY,
                None,
                None,
                "regionctl-tests",
            ))
            .load()
            .await;
        let clients = regionctl::provider::Clients::from_config(config);
        let mut provider = regionctl::provider::Provider::new(clients, stack);
        provider.wait.fixed_delay = Some(Duration::from_millis(20));
        // Generous but bounded: a wait that never ends fails the test in about a minute.
        provider.wait.limit_factor = 0.02;
        provider
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
