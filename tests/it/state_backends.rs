//! One conformance suite for every state backend: each test below is a function of a [`Store`]
//! (a backend plus raw access to what it stores, to plant what a crashed or foreign run leaves),
//! run once against the local backend (a directory under CARGO_TARGET_TMPDIR) and once against
//! S3 on the emulator (its own emulator and bucket per test).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::support::emulator::{ACCESS_KEY, Emulator, SECRET_KEY};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use regionctl::kind::Kind;
use regionctl::provider::Clients;
use regionctl::spec::model::BackendDef;
use regionctl::spec::value::Value;
use regionctl::state::lock::now_ms;
use regionctl::state::{Backend, LockInfo, State, StateError, StateResource};

const STACK: &str = "platform";
const ENV: &str = "eu-west-1";
const BUCKET: &str = "regionctl-state";
const PREFIX: &str = "stacks/platform";

/// Raw access to where a backend keeps its objects, below the backend's own checks.
enum Raw {
    Local(PathBuf),
    S3(aws_sdk_s3::Client),
}

struct Store {
    backend: Backend,
    raw: Raw,
    // Kept alive for the test's duration.
    _emulator: Option<Emulator>,
}

impl Store {
    fn local(name: &str) -> Store {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("state-backends")
            .join(name);
        if root.exists() {
            std::fs::remove_dir_all(&root).expect("remove a previous run's directory");
        }
        std::fs::create_dir_all(&root).expect("create the project directory");
        let clients = Clients::from_config(aws_config::SdkConfig::builder().build());
        let backend = Backend::for_project(&root, &BackendDef::Local, &clients);
        Store {
            backend,
            raw: Raw::Local(root.join(".regionctl/state")),
            _emulator: None,
        }
    }

    async fn s3() -> Store {
        let emulator = Emulator::start();
        let clients = clients(&emulator).await;
        let client = clients.s3(ENV);
        client
            .create_bucket()
            .bucket(BUCKET)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .expect("create the state bucket in the emulator");
        let backend = Backend::for_project(
            std::path::Path::new("/nonexistent"),
            &BackendDef::S3 {
                bucket: BUCKET.into(),
                key_prefix: format!("/{PREFIX}/"),
                region: ENV.into(),
            },
            &clients,
        );
        Store {
            backend,
            raw: Raw::S3(client),
            _emulator: Some(emulator),
        }
    }

    /// Writes an object (`eu-west-1.json`, `eu-west-1.lock` ...) as another program would.
    async fn put(&self, name: &str, bytes: &[u8]) {
        match &self.raw {
            Raw::Local(dir) => {
                std::fs::create_dir_all(dir).expect("create the state directory");
                std::fs::write(dir.join(name), bytes).expect("write a raw file");
            }
            Raw::S3(client) => {
                client
                    .put_object()
                    .bucket(BUCKET)
                    .key(format!("{PREFIX}/{name}"))
                    .body(ByteStream::from(bytes.to_vec()))
                    .send()
                    .await
                    .expect("put a raw object");
            }
        }
    }

    async fn get(&self, name: &str) -> Option<Vec<u8>> {
        match &self.raw {
            Raw::Local(dir) => std::fs::read(dir.join(name)).ok(),
            Raw::S3(client) => {
                let out = client
                    .get_object()
                    .bucket(BUCKET)
                    .key(format!("{PREFIX}/{name}"))
                    .send()
                    .await
                    .ok()?;
                Some(
                    out.body
                        .collect()
                        .await
                        .expect("read the object")
                        .into_bytes()
                        .to_vec(),
                )
            }
        }
    }

    /// What a write that died half-way leaves behind. Local: a temp file with garbage next to
    /// the state (the crash came before the rename). S3: nothing, because a PUT is
    /// all-or-nothing; a PUT that fails (here: its condition) must leave the old object.
    async fn interrupted_write(&self) {
        let garbage = b"{\"format_version\": 1, \"serial\": 99, \"resou";
        match &self.raw {
            Raw::Local(dir) => {
                std::fs::write(dir.join(format!("{ENV}.json.tmp-4242-0")), garbage)
                    .expect("leave a temp file");
            }
            Raw::S3(client) => {
                let err = client
                    .put_object()
                    .bucket(BUCKET)
                    .key(format!("{PREFIX}/{ENV}.json"))
                    .if_match("\"0123456789abcdef0123456789abcdef\"")
                    .body(ByteStream::from(garbage.to_vec()))
                    .send()
                    .await
                    .expect_err("a PUT with a wrong If-Match must fail");
                assert_eq!(
                    aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
                    Some("PreconditionFailed"),
                    "{err:?}"
                );
            }
        }
    }
}

async fn clients(emulator: &Emulator) -> Clients {
    clients_at(&emulator.endpoint).await
}

async fn clients_at(endpoint: &str) -> Clients {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            ACCESS_KEY,
            SECRET_KEY,
            None,
            None,
            "regionctl-tests",
        ))
        .load()
        .await;
    Clients::from_config(config)
}

fn vpc(id: &str) -> StateResource {
    StateResource {
        kind: Kind::Vpc,
        region: ENV.into(),
        id: id.into(),
        arn: None,
        attrs: [("cidr_block".to_owned(), Value::Str("10.0.0.0/16".into()))]
            .into_iter()
            .collect(),
        computed: [("id".to_owned(), Value::Str(id.into()))]
            .into_iter()
            .collect(),
        deps: BTreeSet::new(),
        protect: false,
        pending: None,
    }
}

fn addr(name: &str) -> regionctl::addr::InstanceAddr {
    format!("{ENV}/vpc.{name}")
        .parse()
        .expect("a valid address")
}

/// A lock as a run that died would have left it: this host, a pid that does not run.
fn crashed_lock(id: &str) -> LockInfo {
    LockInfo {
        id: id.into(),
        env: ENV.into(),
        operation: "apply".into(),
        holder: "ci@builder".into(),
        host: regionctl::state::lock::hostname(),
        pid: 999_999_999,
        created: "2025-03-04T05:06:07Z".into(),
        regionctl_version: "0.1.0".into(),
        ..LockInfo::default()
    }
}

/// A lock of a run on another host, whose lease runs for another hour: nothing can prove that
/// run gone.
fn remote_lock(id: &str) -> LockInfo {
    LockInfo {
        host: "builder-7".into(),
        pid: 4242,
        ..crashed_lock(id)
    }
    .leased(Duration::from_secs(3600))
}

async fn first_save_creates_serial_one_and_reads_back(s: &Store) {
    let b = &s.backend;
    assert!(b.read(ENV).await.expect("read").is_none());
    assert!(b.envs().await.expect("envs").is_empty());
    let mut session = b.lock(STACK, ENV, "import").await.expect("lock");
    assert_eq!(session.state.serial, 0);
    assert_eq!(session.state.stack, STACK);
    session.state.resources.insert(addr("main"), vpc("vpc-1"));
    session.save().await.expect("first save");
    assert_eq!(session.state.serial, 1);
    let written = session.state.clone();
    session.unlock().await.expect("unlock");
    let read = b.read(ENV).await.expect("read").expect("a state now");
    assert_eq!(read, written);
    assert_eq!(b.envs().await.expect("envs"), [ENV]);
    assert!(b.lock_info(ENV).await.expect("lock info").is_none());

    // The next run continues the same lineage, one serial up, twice in one session.
    let mut session = b.lock(STACK, ENV, "apply").await.expect("lock again");
    assert_eq!(session.state, written);
    session.state.resources.insert(addr("second"), vpc("vpc-2"));
    session.save().await.expect("second save");
    session.save().await.expect("third save");
    assert_eq!(session.state.serial, 3);
    session.unlock().await.expect("unlock");
    let read = b.read(ENV).await.expect("read").expect("state");
    assert_eq!(read.serial, 3);
    assert_eq!(read.lineage, written.lineage);
    assert_eq!(read.resources.len(), 2);
}

async fn a_held_lock_refuses_a_second_run_and_names_its_holder(s: &Store) {
    let b = &s.backend;
    let first = b.lock(STACK, ENV, "apply").await.expect("lock");
    let id = first.lock().id.clone();
    let err = b
        .lock(STACK, ENV, "plan")
        .await
        .expect_err("the second lock must fail");
    let StateError::Locked {
        lock, holder_dead, ..
    } = &err
    else {
        panic!("expected Locked, got {err:?}")
    };
    assert_eq!(lock.id, id);
    assert_eq!(lock.operation, "apply");
    assert_eq!(lock.pid, std::process::id());
    assert!(!holder_dead, "this process is alive");
    let text = err.to_string();
    assert!(
        text.contains(&format!("regionctl force-unlock {id}")),
        "{text}"
    );
    assert!(text.contains(&first.lock().holder), "{text}");
    assert_eq!(b.lock_info(ENV).await.expect("info").expect("held").id, id);
    // Other environments are independent.
    let other = b
        .lock(STACK, "us-east-1", "plan")
        .await
        .expect("another env");
    other.unlock().await.expect("unlock the other env");

    first.unlock().await.expect("unlock");
    assert!(b.lock_info(ENV).await.expect("info").is_none());
    let again = b.lock(STACK, ENV, "plan").await.expect("lock after unlock");
    assert_ne!(again.lock().id, id);
    again.unlock().await.expect("unlock");
}

/// A lock nothing can prove stale (another host, a lease not yet run out) is reported, never
/// taken over, and `force-unlock` removes it.
async fn a_stale_lock_is_reported_not_stolen_and_force_unlock_removes_it(s: &Store) {
    let b = &s.backend;
    let stale = remote_lock("crashed-run-1");
    s.put(
        &format!("{ENV}.lock"),
        &serde_json::to_vec(&stale).expect("json"),
    )
    .await;
    let err = b
        .lock(STACK, ENV, "plan")
        .await
        .expect_err("a stale lock still holds");
    let text = err.to_string();
    assert!(
        matches!(&err, StateError::Locked { lock, holder_dead: false, alive: false, .. } if lock.id == "crashed-run-1"),
        "{err:?}"
    );
    for part in [
        "locked by ci@builder",
        "running `apply`",
        "since 2025-03-04T05:06:07Z",
        "lock id: crashed-run-1",
        "its lease runs until",
        "regionctl force-unlock crashed-run-1",
    ] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
    // Not stolen: the stale lock is still there, unchanged.
    assert_eq!(
        b.lock_info(ENV).await.expect("info").expect("still held"),
        stale
    );
    // A lock-only environment is listed, so force-unlock can find it by id.
    assert_eq!(b.envs().await.expect("envs"), [ENV]);
    let (env, found) = b.find_lock("crashed-run-1").await.expect("found by id");
    assert_eq!((env.as_str(), &found), (ENV, &stale));
    let wrong = b.force_unlock(ENV, "another-id").await;
    assert!(
        matches!(&wrong, Err(StateError::LockMismatch { current, .. }) if current.id == "crashed-run-1"),
        "{wrong:?}"
    );
    let missing = b.find_lock("no-such-lock").await;
    assert!(
        matches!(&missing, Err(StateError::LockNotFound { held, .. }) if held == &[format!("{ENV}: crashed-run-1")]),
        "{missing:?}"
    );

    let removed = b.force_unlock(ENV, "crashed-run-1").await.expect("removed");
    assert_eq!(removed, stale);
    assert!(b.lock_info(ENV).await.expect("info").is_none());
    let session = b.lock(STACK, ENV, "plan").await.expect("lock after force");
    session.unlock().await.expect("unlock");
    let gone = b.force_unlock(ENV, "crashed-run-1").await;
    assert!(
        matches!(gone, Err(StateError::LockNotFound { .. })),
        "{gone:?}"
    );
}

async fn a_corrupt_lock_is_an_error_that_says_what_to_do(s: &Store) {
    s.put(&format!("{ENV}.lock"), b"not json").await;
    let err = s
        .backend
        .lock(STACK, ENV, "plan")
        .await
        .expect_err("corrupt lock");
    assert!(matches!(err, StateError::CorruptLock { .. }), "{err:?}");
    assert!(err.to_string().contains("then delete it"), "{err}");
}

/// Run A holds the lock; B force-unlocks it, locks and writes; A's write must fail and leave
/// B's state. `existing` says whether a state existed before A read it (If-Match) or not
/// (If-None-Match: *).
async fn cas_conflict(s: &Store, existing: bool) {
    let b = &s.backend;
    if existing {
        let mut seed = b.lock(STACK, ENV, "seed").await.expect("lock");
        seed.state.resources.insert(addr("seed"), vpc("vpc-0"));
        seed.save().await.expect("seed");
        seed.unlock().await.expect("unlock");
    }
    let mut a = b.lock(STACK, ENV, "apply").await.expect("A locks");
    let a_serial = a.state.serial;
    a.state.resources.insert(addr("from_a"), vpc("vpc-a"));

    let other = b.clone();
    other
        .force_unlock(ENV, &a.lock().id.clone())
        .await
        .expect("B force-unlocks A");
    let mut run_b = other.lock(STACK, ENV, "apply").await.expect("B locks");
    run_b.state.resources.insert(addr("from_b"), vpc("vpc-b"));
    run_b.save().await.expect("B saves");
    let b_state = run_b.state.clone();

    let err = a.save().await.expect_err("A's save must fail");
    assert!(matches!(err, StateError::Conflict { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("changed since it was read"), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
    assert_eq!(a.state.serial, a_serial, "the serial is restored on error");
    assert_eq!(
        b.read(ENV).await.expect("read").expect("state"),
        b_state,
        "the stored state is B's"
    );

    // A's unlock must not remove B's lock.
    let b_id = run_b.lock().id.clone();
    let refused = a.unlock().await;
    assert!(
        matches!(&refused, Err(StateError::LockTakenOver { now: Some(now), .. }) if now.id == b_id),
        "{refused:?}"
    );
    assert_eq!(b.lock_info(ENV).await.expect("info").expect("B's").id, b_id);
    run_b.unlock().await.expect("B unlocks");
}

async fn a_lost_update_on_the_first_write_is_refused(s: &Store) {
    cas_conflict(s, false).await;
}

async fn a_lost_update_after_a_force_unlock_is_refused(s: &Store) {
    cas_conflict(s, true).await;
}

async fn an_interrupted_write_leaves_the_previous_state(s: &Store) {
    let b = &s.backend;
    let mut session = b.lock(STACK, ENV, "apply").await.expect("lock");
    session.state.resources.insert(addr("main"), vpc("vpc-1"));
    session.save().await.expect("save");
    let saved = session.state.clone();
    session.unlock().await.expect("unlock");

    s.interrupted_write().await;
    assert_eq!(b.read(ENV).await.expect("read").expect("state"), saved);
    assert_eq!(
        b.envs().await.expect("envs"),
        [ENV],
        "temp files are no env"
    );
    // The next run works normally, from the previous state.
    let mut session = b.lock(STACK, ENV, "apply").await.expect("lock");
    assert_eq!(session.state, saved);
    session.save().await.expect("save over the leftovers");
    session.unlock().await.expect("unlock");
    assert_eq!(b.read(ENV).await.expect("read").expect("state").serial, 2);
}

async fn a_newer_format_is_refused_and_the_lock_released(s: &Store) {
    let b = &s.backend;
    let mut state = State::new(STACK, ENV);
    state.format_version = regionctl::state::STATE_FORMAT_VERSION + 1;
    let doc = serde_json::to_vec(&state).expect("json");
    s.put(&format!("{ENV}.json"), &doc).await;
    let err = b.read(ENV).await.expect_err("newer format");
    assert!(matches!(err, StateError::NewerFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("upgrade regionctl"), "{err}");
    let err = b.lock(STACK, ENV, "plan").await.expect_err("newer format");
    assert!(matches!(err, StateError::NewerFormat { .. }), "{err:?}");
    assert!(
        b.lock_info(ENV).await.expect("info").is_none(),
        "the lock is released when the read fails"
    );
    assert_eq!(s.get(&format!("{ENV}.json")).await.expect("kept"), doc);
}

async fn a_state_of_another_stack_or_env_is_refused(s: &Store) {
    let b = &s.backend;
    let foreign = serde_json::to_vec(&State::new("other-project", ENV)).expect("json");
    s.put(&format!("{ENV}.json"), &foreign).await;
    let err = b.lock(STACK, ENV, "plan").await.expect_err("another stack");
    assert!(matches!(err, StateError::WrongStack { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("belongs to other-project/eu-west-1, not to platform/eu-west-1"),
        "{err}"
    );
    assert!(b.lock_info(ENV).await.expect("info").is_none());
    let err = b
        .clone()
        .with_stack(STACK)
        .read(ENV)
        .await
        .expect_err("another stack");
    assert!(matches!(err, StateError::WrongStack { .. }), "{err:?}");

    let moved = serde_json::to_vec(&State::new(STACK, "us-east-1")).expect("json");
    s.put(&format!("{ENV}.json"), &moved).await;
    let err = b.read(ENV).await.expect_err("another env");
    assert!(matches!(err, StateError::WrongStack { .. }), "{err:?}");

    s.put(&format!("{ENV}.json"), b"{\"format_version\": 1, \"ser")
        .await;
    let err = b.read(ENV).await.expect_err("corrupt");
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
}

/// Takes the lock with `lock` planted in its place; returns what the takeover said.
async fn take_over(s: &Store, planted: &LockInfo) -> String {
    s.put(
        &format!("{ENV}.lock"),
        &serde_json::to_vec(planted).expect("json"),
    )
    .await;
    let session = s
        .backend
        .lock(STACK, ENV, "apply")
        .await
        .unwrap_or_else(|e| panic!("a provably gone holder's lock is taken over, got: {e}"));
    let takeover = session.takeover().expect("reported as a takeover").clone();
    assert_eq!(&takeover.previous, planted);
    let held = s.backend.lock_info(ENV).await.expect("info").expect("held");
    assert_eq!(held.id, session.lock().id, "the lock is the new run's now");
    session.unlock().await.expect("unlock");
    assert!(s.backend.lock_info(ENV).await.expect("info").is_none());
    takeover.to_string()
}

async fn a_gone_holder_on_this_host_is_taken_over_and_a_live_one_never(s: &Store) {
    // Its process no longer runs.
    let text = take_over(s, &crashed_lock("crashed-run-1")).await;
    for part in [
        "took over the lock of eu-west-1 from ci@builder (pid 999999999 on ",
        "running `apply` since 2025-03-04T05:06:07Z, lock id crashed-run-1)",
        "its process 999999999 no longer runs on this host",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
    if !std::path::Path::new("/proc/1/stat").exists() {
        return;
    }
    // PID 1 runs, but it is not the process that took the lock: it started at another time.
    let init_start = regionctl::state::lock::process_start(1).expect("pid 1's start time");
    let reused = LockInfo {
        pid: 1,
        process_start: Some(init_start + 1),
        ..LockInfo::new(ENV, "apply")
    };
    let text = take_over(s, &reused).await;
    assert!(text.contains("started later"), "{text}");
    // PID 1 with its own start time is alive: never taken over.
    let live = LockInfo {
        pid: 1,
        process_start: Some(init_start),
        ..reused
    };
    s.put(
        &format!("{ENV}.lock"),
        &serde_json::to_vec(&live).expect("json"),
    )
    .await;
    let err = s.backend.lock(STACK, ENV, "plan").await.expect_err("alive");
    assert!(
        matches!(&err, StateError::Locked { alive: true, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("still running on this host"),
        "{err}"
    );
    assert_eq!(
        s.backend.lock_info(ENV).await.expect("info").expect("kept"),
        live
    );
}

async fn an_expired_lease_is_taken_over_and_a_running_one_is_not(s: &Store) {
    let running = remote_lock("remote-run-1");
    s.put(
        &format!("{ENV}.lock"),
        &serde_json::to_vec(&running).expect("json"),
    )
    .await;
    let err = s
        .backend
        .lock(STACK, ENV, "plan")
        .await
        .expect_err("leased");
    assert!(
        matches!(
            &err,
            StateError::Locked {
                alive: false,
                holder_dead: false,
                ..
            }
        ),
        "{err:?}"
    );
    let mut expired = remote_lock("remote-run-2");
    expired.expires_ms = Some(now_ms() - 5_000);
    let text = take_over(s, &expired).await;
    assert!(text.contains("its lease expired at "), "{text}");
    assert!(text.contains("without being renewed"), "{text}");
}

async fn a_held_lease_is_renewed_and_outlives_its_length(s: &Store) {
    let b = s.backend.clone().with_lease(Some(Duration::from_secs(2)));
    let mut session = b.lock(STACK, ENV, "apply").await.expect("lock");
    let first = b.lock_info(ENV).await.expect("info").expect("held");
    assert_eq!(first.lease_ms, Some(2_000));
    let first_expiry = first.expires_ms.expect("leased");
    // Longer than the lease: without renewals it would have run out.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let now = b.lock_info(ENV).await.expect("info").expect("held");
    assert_eq!(now.id, first.id);
    let expiry = now.expires_ms.expect("leased");
    assert!(expiry > first_expiry, "renewed: {first_expiry} -> {expiry}");
    assert!(expiry > now_ms(), "the lease has not run out");
    let err = b.lock(STACK, ENV, "plan").await.expect_err("still held");
    assert!(matches!(err, StateError::Locked { .. }), "{err:?}");
    session.check_lock().expect("still this run's");
    session.save().await.expect("a renewed holder writes");
    session.unlock().await.expect("unlock");
    assert!(b.lock_info(ENV).await.expect("info").is_none());
}

async fn an_old_holder_cannot_renew_or_write_after_losing_its_lock(s: &Store) {
    let b = s.backend.clone().with_lease(Some(Duration::from_secs(2)));
    let mut a = b.lock(STACK, ENV, "apply").await.expect("A locks");
    a.state.resources.insert(addr("from_a"), vpc("vpc-a"));
    a.save().await.expect("A saves while it holds the lock");
    let saved = b.read(ENV).await.expect("read").expect("state");
    // Another run takes the lock over (as if A had stalled past its lease).
    let other = remote_lock("run-b");
    s.put(
        &format!("{ENV}.lock"),
        &serde_json::to_vec(&other).expect("json"),
    )
    .await;
    // A's next renewal (a third of the lease) fails its condition: A knows it lost the lock.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while a.check_lock().is_ok() {
        assert!(std::time::Instant::now() < deadline, "A never noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let err = a.check_lock().expect_err("lost");
    assert!(matches!(err, StateError::LockLost { .. }), "{err:?}");
    assert!(err.to_string().contains("took the lock over"), "{err}");
    a.state.resources.insert(addr("late"), vpc("vpc-late"));
    let refused = a.save().await.expect_err("A may not write any more");
    assert!(
        matches!(refused, StateError::LockLost { .. }),
        "{refused:?}"
    );
    assert_eq!(b.read(ENV).await.expect("read").expect("state"), saved);
    // A's renewals stopped: B's lock stays as B wrote it.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(b.lock_info(ENV).await.expect("info").expect("B's"), other);
    let released = a.unlock().await;
    assert!(
        matches!(&released, Err(StateError::LockTakenOver { now: Some(now), .. }) if now.id == "run-b"),
        "{released:?}"
    );
    assert_eq!(b.lock_info(ENV).await.expect("info").expect("B's"), other);
}

/// Where a store is, for a contender process to rebuild its backend.
fn race_target(s: &Store) -> String {
    match (&s.raw, &s._emulator) {
        (Raw::Local(dir), _) => format!(
            "local:{}",
            dir.parent()
                .and_then(|p| p.parent())
                .expect("<root>/.regionctl/state")
                .display()
        ),
        (Raw::S3(_), Some(emulator)) => format!("s3:{}", emulator.endpoint),
        (Raw::S3(_), None) => panic!("an S3 store without its emulator"),
    }
}

async fn a_takeover_race_between_two_processes_has_one_winner(s: &Store) {
    let rounds = match s.raw {
        Raw::Local(_) => 8,
        Raw::S3(_) => 4,
    };
    let exe = std::env::current_exe().expect("this test binary");
    for round in 0..rounds {
        let dead = format!("dead-run-{round}");
        s.put(
            &format!("{ENV}.lock"),
            &serde_json::to_vec(&crashed_lock(&dead)).expect("json"),
        )
        .await;
        // Both start their attempt at the same instant, well after both processes are up.
        let at = now_ms() + 1_500;
        let contenders: Vec<std::process::Child> = (0..2)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        // The test's name in this binary: its module path without the crate.
                        &format!(
                            "{}::race_contender",
                            module_path!().split_once("::").map_or("", |(_, m)| m)
                        ),
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("REGIONCTL_RACE", race_target(s))
                    .env("REGIONCTL_RACE_AT", at.to_string())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("start a contender")
            })
            .collect();
        let outputs: Vec<String> = contenders
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().expect("a contender ends");
                String::from_utf8_lossy(&out.stdout).into_owned()
            })
            .collect();
        let won: Vec<&String> = outputs.iter().filter(|o| o.contains("RACE WON ")).collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one winner: {outputs:#?}"
        );
        assert!(
            won[0].contains(&format!("RACE TOOK {dead}")),
            "round {round}: {outputs:#?}"
        );
        let winner_id = won[0]
            .lines()
            // libtest prints `test race_contender ... ` before the test's own output.
            .find_map(|l| l.split_once("RACE WON ").map(|(_, id)| id))
            .expect("the winner's lock id")
            .trim()
            .to_owned();
        let lost: Vec<&String> = outputs
            .iter()
            .filter(|o| o.contains("RACE LOST "))
            .collect();
        assert_eq!(lost.len(), 1, "round {round}: {outputs:#?}");
        assert!(
            lost[0].contains(&format!("RACE LOST to {winner_id}")),
            "the loser names the winner, a live holder: {outputs:#?}"
        );
        assert!(s.backend.lock_info(ENV).await.expect("info").is_none());
    }
}

/// One contender of [`a_takeover_race_between_two_processes_has_one_winner`], run in its own
/// process by that test (with `REGIONCTL_RACE` set); on its own it does nothing.
#[tokio::test(flavor = "multi_thread")]
async fn race_contender() {
    let Ok(target) = std::env::var("REGIONCTL_RACE") else {
        return;
    };
    let at: u64 = std::env::var("REGIONCTL_RACE_AT")
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("REGIONCTL_RACE_AT");
    let backend = if let Some(root) = target.strip_prefix("local:") {
        let clients = Clients::from_config(aws_config::SdkConfig::builder().build());
        Backend::for_project(std::path::Path::new(root), &BackendDef::Local, &clients)
    } else {
        let endpoint = target.strip_prefix("s3:").expect("local: or s3:");
        let clients = clients_at(endpoint).await;
        Backend::for_project(
            std::path::Path::new("/nonexistent"),
            &BackendDef::S3 {
                bucket: BUCKET.into(),
                key_prefix: format!("/{PREFIX}/"),
                region: ENV.into(),
            },
            &clients,
        )
    };
    tokio::time::sleep(Duration::from_millis(at.saturating_sub(now_ms()))).await;
    match backend.lock(STACK, ENV, "apply").await {
        Ok(session) => {
            println!("\nRACE WON {}", session.lock().id);
            if let Some(t) = session.takeover() {
                println!("RACE TOOK {}", t.previous.id);
            }
            // Held long enough that the loser's attempt is surely over.
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            session.unlock().await.expect("the winner unlocks");
        }
        Err(StateError::Locked { lock, alive, .. }) => {
            println!("RACE LOST to {} (alive: {alive})", lock.id);
        }
        Err(e) => println!("RACE ERROR {e}"),
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = super::Store::local(stringify!($name));
                    super::$name(&store).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let store = super::Store::s3().await;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

conformance!(
    first_save_creates_serial_one_and_reads_back,
    a_held_lock_refuses_a_second_run_and_names_its_holder,
    a_stale_lock_is_reported_not_stolen_and_force_unlock_removes_it,
    a_corrupt_lock_is_an_error_that_says_what_to_do,
    a_lost_update_on_the_first_write_is_refused,
    a_lost_update_after_a_force_unlock_is_refused,
    an_interrupted_write_leaves_the_previous_state,
    a_newer_format_is_refused_and_the_lock_released,
    a_state_of_another_stack_or_env_is_refused,
    a_gone_holder_on_this_host_is_taken_over_and_a_live_one_never,
    an_expired_lease_is_taken_over_and_a_running_one_is_not,
    a_held_lease_is_renewed_and_outlives_its_length,
    an_old_holder_cannot_renew_or_write_after_losing_its_lock,
    a_takeover_race_between_two_processes_has_one_winner,
);

#[tokio::test]
async fn local_files_are_private_and_writes_leave_no_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let store = Store::local("modes");
    let Raw::Local(dir) = &store.raw else {
        unreachable!()
    };
    let mut session = store.backend.lock(STACK, ENV, "apply").await.expect("lock");
    let mode = |p: PathBuf| {
        std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(dir.join(format!("{ENV}.lock"))), 0o600);
    session.save().await.expect("save");
    assert_eq!(mode(dir.join(format!("{ENV}.json"))), 0o600);
    assert_eq!(mode(dir.clone()), 0o700);
    assert_eq!(mode(dir.parent().expect(".regionctl").to_path_buf()), 0o700);
    session.unlock().await.expect("unlock");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [format!("{ENV}.json")]);
    assert_eq!(
        store.backend.location(ENV),
        ".regionctl/state/eu-west-1.json"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_names_its_objects_and_refuses_a_missing_bucket() {
    let store = Store::s3().await;
    assert_eq!(
        store.backend.location(ENV),
        "s3://regionctl-state/stacks/platform/eu-west-1.json"
    );
    let session = store.backend.lock(STACK, ENV, "plan").await.expect("lock");
    assert!(
        store.get(&format!("{ENV}.lock")).await.is_some(),
        "the lock object is under the prefix"
    );
    session.unlock().await.expect("unlock");
    assert!(store.get(&format!("{ENV}.lock")).await.is_none());

    let Raw::S3(client) = &store.raw else {
        unreachable!()
    };
    let missing = Backend::S3(regionctl::state::S3Backend::new(
        client.clone(),
        "no-such-bucket",
        "p",
        ENV,
    ));
    let err = missing.read(ENV).await.expect_err("no bucket");
    assert!(matches!(err, StateError::NoBucket { .. }), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = missing
        .lock(STACK, ENV, "plan")
        .await
        .expect_err("no bucket");
    assert!(matches!(err, StateError::NoBucket { .. }), "{err:?}");
}
