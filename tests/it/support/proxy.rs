//! A fault-injecting HTTP/1.1 proxy on the loopback interface, between `regionctl` (or any AWS
//! SDK client) and the emulator.
//!
//! Each request signed with SigV4 is, by a seeded draw, forwarded untouched or answered with one
//! of the faults a real AWS endpoint produces: throttling in the service's own error shape, a
//! 5xx, a connection closed before any answer, or a *lost response* (the emulator executes the
//! request, the client never hears back; the case that turns a blind retry into a duplicate).
//! Unsigned requests (the emulator's own `/regionctl/...` and `/moto-api/...` control endpoints)
//! always pass.
//!
//! Every decision is recorded per (service, operation, fault) so a test can assert that each
//! fault it relies on really happened: a proxy that never injected anything proves nothing.
//!
//! Dependency-free on purpose: std threads, one per client connection (the SDK keeps connections
//! alive and reuses them), and a small HTTP/1.1 parser that handles `Content-Length` and chunked
//! bodies and `Expect: 100-continue`. Upstream, each request gets its own connection with
//! `Connection: close`, and the answer is re-framed with a `Content-Length` for the client.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// What the proxy did with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Forwarded, and the emulator's answer relayed.
    Pass,
    /// Answered with the service's throttling error without forwarding.
    Throttle,
    /// Answered with HTTP 500 or 503 (the service's internal error shape) without forwarding.
    ServerError,
    /// Connection closed after reading the request, without forwarding or answering.
    Reset,
    /// Answered with the service's access-denied error without forwarding: a caller whose IAM
    /// policy lacks the operation ([`Faults::deny`]).
    Denied,
    /// Forwarded and executed by the emulator, the answer read in full, then the connection
    /// closed without relaying it.
    LostResponse,
}

impl Fault {
    pub const INJECTED: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Reset,
        Fault::LostResponse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Throttle => "throttle",
            Fault::ServerError => "5xx",
            Fault::Reset => "reset",
            Fault::Denied => "denied",
            Fault::LostResponse => "lost-response",
        }
    }
}

/// One request as the proxy classifies it.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The service of the SigV4 credential scope (`ec2`, `rds`, `eks`, ...), or `-` when the
    /// request is not signed.
    pub service: String,
    /// The query-protocol `Action` (EC2, RDS, ElastiCache, IAM), the JSON `X-Amz-Target`
    /// operation, or the name of a known REST operation; else `METHOD /path`.
    pub operation: String,
}

impl RequestInfo {
    pub fn signed(&self) -> bool {
        self.service != "-"
    }

    /// Whether the request creates something: the calls whose blind retry after a lost response
    /// would leave a duplicate behind (`Create*`, `Allocate*`, `Run*`, and the REST creates of
    /// EKS and Route 53).
    pub fn is_create(&self) -> bool {
        let op = self.operation.as_str();
        op.starts_with("Create") || op.starts_with("Allocate") || op.starts_with("Run")
    }
}

/// Probabilities (0.0 to 1.0, summing to at most 1.0) of each fault per signed request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub throttle: f64,
    pub server_error: f64,
    pub reset: f64,
    pub lost_response: f64,
    /// When set, only requests it accepts may get a fault; the others always pass.
    pub only: Option<fn(&RequestInfo) -> bool>,
    /// When set, every request it accepts is denied (before any drawn fault), as AWS answers a
    /// caller its policy does not allow.
    pub deny: Option<fn(&RequestInfo) -> bool>,
    /// Lost responses only on creates ([`RequestInfo::is_create`]); other requests drawn into
    /// the lost-response share pass.
    pub lost_only_creates: bool,
    /// When set, the first n requests that `only` accepts get a 5xx and every later one
    /// passes, whatever the probabilities: one step made to fail just often enough to outlast
    /// the SDK's own retries.
    pub fail_first: Option<u64>,
    /// Added before every answer (and before every fault), as a network would.
    pub latency: Duration,
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decision {
    pub service: String,
    pub operation: String,
    pub fault: Fault,
}

struct Shared {
    upstream_port: u16,
    faults: Faults,
    seed: u64,
    // One random stream per service, so the k-th request of a service always gets the same
    // decision for a given seed, whatever the interleaving with the other services.
    streams: Mutex<BTreeMap<String, u64>>,
    decisions: Mutex<Vec<Decision>>,
    stop: AtomicBool,
    // Alternates the variants of a fault (503/500, Throttling/PriorRequestNotComplete).
    variant: AtomicU64,
    // Requests counted against `Faults::fail_first`.
    failed_first: AtomicU64,
}

/// A running proxy; stops accepting connections when dropped.
pub struct FaultProxy {
    pub port: u16,
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `127.0.0.1:<upstream_port>`, injecting
    /// `faults` with decisions drawn from `seed`.
    pub fn start(upstream_port: u16, faults: Faults, seed: u64) -> FaultProxy {
        let sum = faults.throttle + faults.server_error + faults.reset + faults.lost_response;
        assert!(
            (0.0..=1.0).contains(&sum),
            "fault probabilities must sum to at most 1, got {sum}"
        );
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let shared = Arc::new(Shared {
            upstream_port,
            faults,
            seed,
            streams: Mutex::default(),
            decisions: Mutex::default(),
            stop: AtomicBool::new(false),
            variant: AtomicU64::new(0),
            failed_first: AtomicU64::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for conn in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let conn_shared = Arc::clone(&accept_shared);
                thread::spawn(move || serve(conn, &conn_shared));
            }
        });
        FaultProxy {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
        }
    }

    /// Decisions per (service, fault), unsigned requests left out.
    pub fn counts(&self) -> BTreeMap<(String, Fault), u64> {
        let mut out = BTreeMap::new();
        for d in lock(&self.shared.decisions).iter() {
            if d.service != "-" {
                *out.entry((d.service.clone(), d.fault)).or_insert(0) += 1;
            }
        }
        out
    }

    /// How many signed requests got `fault`.
    pub fn total(&self, fault: Fault) -> u64 {
        self.counts()
            .iter()
            .filter(|((_, f), _)| *f == fault)
            .map(|(_, n)| n)
            .sum()
    }

    /// How many requests of `service` got `fault`.
    pub fn count(&self, service: &str, fault: Fault) -> u64 {
        self.counts()
            .get(&(service.to_owned(), fault))
            .copied()
            .unwrap_or(0)
    }

    /// The operations that got `fault`, with how many times, e.g. `ec2 CreateVpc: 2`.
    pub fn operations(&self, fault: Fault) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for d in lock(&self.shared.decisions).iter() {
            if d.fault == fault {
                *out.entry(format!("{} {}", d.service, d.operation))
                    .or_insert(0) += 1;
            }
        }
        out
    }

    /// A table of the counts per service (rows) and fault (columns), for test output.
    pub fn report(&self) -> String {
        let counts = self.counts();
        let services: BTreeSet<&String> = counts.keys().map(|(s, _)| s).collect();
        let columns = [
            Fault::Pass,
            Fault::Throttle,
            Fault::ServerError,
            Fault::Reset,
            Fault::LostResponse,
            Fault::Denied,
        ];
        let mut out = format!("{:<12}", "service");
        for f in columns {
            out.push_str(&format!("{:>14}", f.name()));
        }
        out.push('\n');
        for s in services {
            out.push_str(&format!("{s:<12}"));
            for f in columns {
                let n = counts.get(&(s.clone(), f)).copied().unwrap_or(0);
                out.push_str(&format!("{n:>14}"));
            }
            out.push('\n');
        }
        out.push_str(&format!("{:<12}", "total"));
        for f in columns {
            out.push_str(&format!("{:>14}", self.total(f)));
        }
        out.push('\n');
        out
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn decide(&self, info: &RequestInfo) -> Fault {
        if !info.signed() {
            return Fault::Pass;
        }
        if self.faults.deny.is_some_and(|deny| deny(info)) {
            return Fault::Denied;
        }
        if let Some(only) = self.faults.only
            && !only(info)
        {
            return Fault::Pass;
        }
        if let Some(n) = self.faults.fail_first {
            return if self.failed_first.fetch_add(1, Ordering::SeqCst) < n {
                Fault::ServerError
            } else {
                Fault::Pass
            };
        }
        let draw = {
            let mut streams = lock(&self.streams);
            let state = streams
                .entry(info.service.clone())
                .or_insert_with(|| self.seed ^ fnv1a(info.service.as_bytes()));
            unit(splitmix64(state))
        };
        let f = &self.faults;
        let mut edge = f.throttle;
        if draw < edge {
            return Fault::Throttle;
        }
        edge += f.server_error;
        if draw < edge {
            return Fault::ServerError;
        }
        edge += f.reset;
        if draw < edge {
            return Fault::Reset;
        }
        edge += f.lost_response;
        if draw < edge && (!f.lost_only_creates || info.is_create()) {
            return Fault::LostResponse;
        }
        Fault::Pass
    }

    fn record(&self, info: &RequestInfo, fault: Fault) {
        lock(&self.decisions).push(Decision {
            service: info.service.clone(),
            operation: info.operation.clone(),
            fault,
        });
    }

    fn next_variant(&self) -> u64 {
        self.variant.fetch_add(1, Ordering::Relaxed)
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1

struct Request {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    fn wants_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        connection.contains("close")
            || (self.version == "HTTP/1.0" && !connection.contains("keep-alive"))
    }

    fn info(&self) -> RequestInfo {
        let path = self.target.split('?').next().unwrap_or("").to_owned();
        let service = self
            .header("authorization")
            .and_then(credential_service)
            .unwrap_or("-")
            .to_owned();
        let operation = form_action(&self.body)
            .or_else(|| {
                self.header("x-amz-target")
                    .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
            })
            .or_else(|| rest_operation(&service, &self.method, &path))
            .unwrap_or_else(|| format!("{} {path}", self.method));
        RequestInfo { service, operation }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The service of a SigV4 `Authorization` header:
/// `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, SignedHeaders=...`.
fn credential_service(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3)
}

/// The `Action` of a query-protocol (form-encoded) body.
fn form_action(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}

/// Names of the REST operations of EKS and Route 53 that create something.
fn rest_operation(service: &str, method: &str, path: &str) -> Option<String> {
    let path = path.trim_end_matches('/');
    let name = match (service, method) {
        ("eks", "POST") if path == "/clusters" => "CreateCluster",
        ("eks", "POST") if path.ends_with("/node-groups") => "CreateNodegroup",
        ("route53", "POST") if path.ends_with("/hostedzone") => "CreateHostedZone",
        ("route53", "POST") if path.ends_with("/healthcheck") => "CreateHealthCheck",
        ("route53", "POST") if path.ends_with("/rrset") => "ChangeResourceRecordSets",
        _ => return None,
    };
    Some(name.to_owned())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// A message's start line and headers.
type Head = (String, Vec<(String, String)>);

/// Reads a head (start line and headers); `None` on a clean end of stream before any byte.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut start = String::new();
    loop {
        start.clear();
        if reader.read_line(&mut start)? == 0 {
            return Ok(None);
        }
        // Tolerate stray CRLFs between messages (RFC 9112 §2.2).
        if !start.trim().is_empty() {
            break;
        }
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("end of stream inside the headers"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| invalid("header without a colon"))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    Ok(Some((start.trim_end().to_owned(), headers)))
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        if reader.read_line(&mut size_line)? == 0 {
            return Err(invalid("end of stream inside a chunked body"));
        }
        let size_text = size_line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn read_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> io::Result<Vec<u8>> {
    let chunked = header(headers, "transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(reader);
    }
    let length = match header(headers, "content-length") {
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| invalid("bad Content-Length"))?,
        None => 0,
    };
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_request(reader: &mut impl BufRead, writer: &mut TcpStream) -> io::Result<Option<Request>> {
    let Some((start, headers)) = read_head(reader)? else {
        return Ok(None);
    };
    let mut parts = start.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("bad request line"));
    };
    if header(&headers, "expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = read_body(reader, &headers)?;
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
        body,
    }))
}

/// A response ready to be written to the client, framed by `Content-Length`.
struct Response {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// HEAD answers keep the upstream's `Content-Length` and carry no body.
    head_only: bool,
}

impl Response {
    fn new(status: u16, reason: &str, headers: &[(&str, &str)], body: String) -> Response {
        Response {
            status_line: format!("HTTP/1.1 {status} {reason}"),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into_bytes(),
            head_only: false,
        }
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut head = format!("{}\r\n", self.status_line);
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.head_only {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if !self.head_only {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "expect",
    "proxy-connection",
];

/// Sends the request to the emulator on a fresh connection and reads the whole answer.
fn forward(upstream_port: u16, req: &Request) -> io::Result<Response> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream_port))?;
    up.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        if !HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    up.write_all(head.as_bytes())?;
    up.write_all(&req.body)?;
    up.flush()?;

    let mut reader = BufReader::new(up);
    let Some((status_line, headers)) = read_head(&mut reader)? else {
        return Err(invalid(
            "the emulator closed the connection without answering",
        ));
    };
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad status line from the emulator"))?;
    let head_only = req.method == "HEAD";
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    let body = if no_body {
        Vec::new()
    } else if header(&headers, "transfer-encoding").is_some()
        || header(&headers, "content-length").is_some()
    {
        read_body(&mut reader, &headers)?
    } else {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest)?;
        rest
    };
    let keep: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            let framing = k == "content-length" && !head_only;
            !framing && k != "connection" && k != "keep-alive" && k != "transfer-encoding"
        })
        .collect();
    Ok(Response {
        status_line: format!(
            "HTTP/1.1 {}",
            status_line.split_once(' ').map_or("", |(_, rest)| rest)
        ),
        headers: keep,
        body,
        head_only,
    })
}

fn serve(conn: TcpStream, shared: &Shared) {
    // A pooled connection the client no longer uses ends this thread eventually.
    let _ = conn.set_read_timeout(Some(Duration::from_secs(300)));
    let _ = conn.set_nodelay(true);
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = conn;
    loop {
        let req = match read_request(&mut reader, &mut writer) {
            Ok(Some(req)) => req,
            Ok(None) | Err(_) => return,
        };
        let info = req.info();
        let fault = shared.decide(&info);
        shared.record(&info, fault);
        if !shared.faults.latency.is_zero() {
            thread::sleep(shared.faults.latency);
        }
        let answer = match fault {
            Fault::Pass => match forward(shared.upstream_port, &req) {
                Ok(resp) => resp,
                Err(e) => Response::new(
                    502,
                    "Bad Gateway",
                    &[("Content-Type", "text/plain")],
                    format!("fault proxy: the emulator failed: {e}"),
                ),
            },
            Fault::Throttle => throttling(&info.service, shared.next_variant()),
            Fault::ServerError => server_error(&info.service, shared.next_variant()),
            Fault::Denied => denied(&info.service, shared.next_variant()),
            Fault::Reset => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Fault::LostResponse => {
                // The emulator acts on the request and answers; the client never hears of it.
                let _ = forward(shared.upstream_port, &req);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        };
        if answer.write_to(&mut writer).is_err() || req.wants_close() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Error shapes, as each protocol's SDK parser reads them (checked against aws-sdk-rust's
// generated `ec2_query_errors`, `rest_xml_wrapped_errors`, `rest_xml_unwrapped_errors` and
// `json_errors`), with codes from aws-runtime's THROTTLING_ERRORS list. SNS and CloudWatch
// (`monitoring`) speak the query protocol: the default XML shapes.

fn request_id(variant: u64) -> String {
    format!("fa017000-0000-4000-8000-{variant:012x}")
}

fn xml(status: u16, reason: &str, body: String, id: &str) -> Response {
    Response::new(
        status,
        reason,
        &[
            ("Content-Type", "text/xml;charset=UTF-8"),
            ("x-amzn-RequestId", id),
        ],
        body,
    )
}

/// EC2's query protocol: `<Response><Errors><Error>` with `RequestID`.
fn ec2_error(status: u16, reason: &str, code: &str, message: &str, id: &str) -> Response {
    xml(
        status,
        reason,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
             <Message>{message}</Message></Error></Errors><RequestID>{id}</RequestID></Response>"
        ),
        id,
    )
}

/// The AWS query protocol (RDS, ElastiCache, IAM) and Route 53's REST-XML: `<ErrorResponse>`.
fn wrapped_error(
    status: u16,
    reason: &str,
    kind: &str,
    code: &str,
    message: &str,
    id: &str,
) -> Response {
    xml(
        status,
        reason,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>{kind}</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>{id}</RequestId></ErrorResponse>"
        ),
        id,
    )
}

/// S3's REST-XML: a bare `<Error>`.
fn s3_error(status: u16, reason: &str, code: &str, message: &str, id: &str) -> Response {
    xml(
        status,
        reason,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{message}</Message><RequestId>{id}</RequestId>\
             <HostId>fault-proxy</HostId></Error>"
        ),
        id,
    )
}

/// REST-JSON (EKS) and the AWS JSON 1.1 protocol (KMS, ECR, CloudWatch Logs), which the SDK's
/// `json_errors` parser reads alike: the code in `x-amzn-ErrorType`, the message in the body.
fn json_error(status: u16, reason: &str, code: &str, message: &str, id: &str) -> Response {
    Response::new(
        status,
        reason,
        &[
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", id),
            ("x-amzn-ErrorType", code),
        ],
        format!("{{\"message\":\"{message}\"}}"),
    )
}

/// The access-denied answer of each protocol: EC2's `UnauthorizedOperation`, the query and
/// REST-XML services' `AccessDenied` (HTTP 403), the JSON services' `AccessDeniedException`.
fn denied(service: &str, variant: u64) -> Response {
    let id = request_id(variant);
    let message = "User is not authorized to perform this operation (fault proxy)";
    match service {
        "ec2" => ec2_error(403, "Forbidden", "UnauthorizedOperation", message, &id),
        "s3" => s3_error(403, "Forbidden", "AccessDenied", message, &id),
        "eks" | "kms" | "ecr" | "logs" | "tagging" => {
            json_error(400, "Bad Request", "AccessDeniedException", message, &id)
        }
        _ => wrapped_error(403, "Forbidden", "Sender", "AccessDenied", message, &id),
    }
}

/// The throttling code each service answers with (Route 53 alternates its two).
pub fn throttling_code(service: &str, variant: u64) -> &'static str {
    match service {
        "ec2" => "RequestLimitExceeded",
        "eks" => "ThrottlingException",
        // The Resource Groups Tagging API (signing name `tagging`) documents this one.
        "tagging" => "ThrottledException",
        "kms" | "ecr" | "logs" => "ThrottlingException",
        "s3" => "SlowDown",
        "route53" if !variant.is_multiple_of(2) => "PriorRequestNotComplete",
        _ => "Throttling",
    }
}

fn throttling(service: &str, variant: u64) -> Response {
    let id = request_id(variant);
    let code = throttling_code(service, variant);
    match service {
        "ec2" => ec2_error(
            503,
            "Service Unavailable",
            code,
            "Request limit exceeded.",
            &id,
        ),
        "eks" => json_error(429, "Too Many Requests", code, "Rate exceeded", &id),
        "tagging" => json_error(400, "Bad Request", code, "Rate exceeded", &id),
        // The AWS JSON 1.1 services answer throttling with HTTP 400.
        "kms" | "ecr" | "logs" => json_error(400, "Bad Request", code, "Rate exceeded", &id),
        "s3" => s3_error(
            503,
            "Slow Down",
            code,
            "Please reduce your request rate.",
            &id,
        ),
        "route53" if code == "PriorRequestNotComplete" => wrapped_error(
            400,
            "Bad Request",
            "Sender",
            code,
            "The request was rejected because Route 53 was still processing a prior request.",
            &id,
        ),
        // rds, elasticache, iam, route53 and anything else on the query protocol.
        _ => wrapped_error(400, "Bad Request", "Sender", code, "Rate exceeded", &id),
    }
}

fn server_error(service: &str, variant: u64) -> Response {
    let id = request_id(variant);
    let (status, reason) = if variant.is_multiple_of(2) {
        (500, "Internal Server Error")
    } else {
        (503, "Service Unavailable")
    };
    let message = "We encountered an internal error. Please try again.";
    match (service, status) {
        ("ec2", 500) => ec2_error(status, reason, "InternalError", message, &id),
        ("ec2", _) => ec2_error(status, reason, "Unavailable", message, &id),
        ("eks", 500) => json_error(status, reason, "ServerException", message, &id),
        ("eks", _) => json_error(status, reason, "ServiceUnavailableException", message, &id),
        ("tagging", _) => json_error(status, reason, "InternalServiceException", message, &id),
        ("kms", 500) => json_error(status, reason, "KMSInternalException", message, &id),
        ("ecr", 500) => json_error(status, reason, "ServerException", message, &id),
        ("kms" | "ecr" | "logs", _) => {
            json_error(status, reason, "ServiceUnavailableException", message, &id)
        }
        ("s3", 500) => s3_error(status, reason, "InternalError", message, &id),
        ("s3", _) => s3_error(status, reason, "ServiceUnavailable", message, &id),
        (_, 500) => wrapped_error(status, reason, "Receiver", "InternalFailure", message, &id),
        _ => wrapped_error(
            status,
            reason,
            "Receiver",
            "ServiceUnavailable",
            message,
            &id,
        ),
    }
}
