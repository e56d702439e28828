//! The S3 backend: `s3://<bucket>/<key_prefix>/<env>.json` and `<env>.lock`.
//!
//! Every write is conditional, so S3 itself arbitrates between runs (no DynamoDB table):
//! - the lock object is created with `If-None-Match: *` (412 when a lock exists);
//! - the state is written with `If-Match: <etag read>` (or `If-None-Match: *` for the first
//!   write), so a write based on an outdated read fails instead of losing an update;
//! - the lock is deleted with `If-Match: <its own etag>`, so a run never deletes a lock another
//!   run took after a force-unlock;
//! - the lock is renewed (a new lease) and taken over from a provably gone holder with
//!   `If-Match: <etag read>`: of two runs taking over one dead lock exactly one gets a 200, and
//!   a holder whose lock was taken over can never renew it again.
//!
//! An interrupted PUT leaves the old object: S3 writes are all-or-nothing.

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::Deleted;
use super::error::{StateError, s3_answer};

#[derive(Debug, Clone)]
pub struct S3Backend {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Without leading or trailing slashes; may be empty.
    prefix: String,
    region: String,
    pub(crate) stack: Option<String>,
    /// The lease of the locks taken; `None` for the default.
    pub(crate) lease: Option<std::time::Duration>,
}

/// Codes meaning "a condition did not hold": 412, and 409 when two conditional writes race.
const PRECONDITION: &[&str] = &["PreconditionFailed", "ConditionalRequestConflict"];
const NOT_FOUND: &[&str] = &["NoSuchKey", "NotFound"];

impl S3Backend {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: &str,
        key_prefix: &str,
        region: &str,
    ) -> S3Backend {
        S3Backend {
            client,
            bucket: bucket.to_owned(),
            prefix: key_prefix.trim_matches('/').to_owned(),
            region: region.to_owned(),
            stack: None,
            lease: None,
        }
    }

    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    fn state_key(&self, env: &str) -> String {
        self.key(&format!("{env}.json"))
    }

    fn lock_key(&self, env: &str) -> String {
        self.key(&format!("{env}.lock"))
    }

    pub(crate) fn location(&self, env: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.state_key(env))
    }

    pub(crate) fn lock_location(&self, env: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.lock_key(env))
    }

    fn object(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    pub(crate) fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key(""))
    }

    /// Maps an SDK error about `key` that no caller handles specially.
    fn error<E>(
        &self,
        err: SdkError<E, HttpResponse>,
        key: &str,
        operation: &'static str,
    ) -> StateError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match s3_answer(&err) {
            Some(answer) if answer.code == "NoSuchBucket" => StateError::NoBucket {
                bucket: self.bucket.clone(),
                region: self.region.clone(),
            },
            Some(answer) => StateError::Aws {
                object: self.object(key),
                region: self.region.clone(),
                operation,
                code: answer.code,
                message: answer.message,
            },
            None => StateError::Unreachable {
                object: self.object(key),
                region: self.region.clone(),
                operation,
                message: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    /// An object's bytes and etag; `None` if it does not exist.
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if s3_answer(&e).is_some_and(|a| NOT_FOUND.contains(&a.code.as_str())) => {
                return Ok(None);
            }
            Err(e) => return Err(self.error(e, key, "GetObject")),
        };
        let etag = out.e_tag().map(str::to_owned);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StateError::Unreachable {
                object: self.object(key),
                region: self.region.clone(),
                operation: "GetObject",
                message: format!("reading the object failed: {e}"),
            })?
            .into_bytes()
            .to_vec();
        let etag = etag.ok_or_else(|| StateError::Aws {
            object: self.object(key),
            region: self.region.clone(),
            operation: "GetObject",
            code: "NoETag".to_owned(),
            message: "the answer has no ETag, which conditional writes need; is this an \
                      S3-compatible store without conditional requests?"
                .to_owned(),
        })?;
        Ok(Some((bytes, etag)))
    }

    pub(crate) async fn read_raw(
        &self,
        env: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StateError> {
        self.get(&self.state_key(env)).await
    }

    pub(crate) async fn write_state(
        &self,
        env: &str,
        bytes: Vec<u8>,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let key = self.state_key(env);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        put = match expected {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => Ok(out.e_tag().unwrap_or_default().to_owned()),
            Err(e)
                if s3_answer(&e).is_some_and(|a| {
                    PRECONDITION.contains(&a.code.as_str())
                        // If-Match on a state someone deleted.
                        || (expected.is_some() && NOT_FOUND.contains(&a.code.as_str()))
                }) =>
            {
                Err(StateError::Conflict {
                    location: self.location(env),
                })
            }
            Err(e) => Err(self.error(e, &key, "PutObject")),
        }
    }

    /// Creates the lock object; `None` if one exists.
    pub(crate) async fn create_lock(
        &self,
        env: &str,
        body: Vec<u8>,
    ) -> Result<Option<String>, StateError> {
        let key = self.lock_key(env);
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(out) => match out.e_tag() {
                Some(etag) => Ok(Some(etag.to_owned())),
                None => Err(StateError::Aws {
                    object: self.object(&key),
                    region: self.region.clone(),
                    operation: "PutObject",
                    code: "NoETag".to_owned(),
                    message: "the answer has no ETag, which releasing the lock needs".to_owned(),
                }),
            },
            Err(e) if s3_answer(&e).is_some_and(|a| PRECONDITION.contains(&a.code.as_str())) => {
                Ok(None)
            }
            Err(e) => Err(self.error(e, &key, "PutObject")),
        }
    }

    /// Overwrites the lock object with `body` if its etag is still `etag`; the new etag, or
    /// `None` when the lock changed or is gone.
    pub(crate) async fn replace_lock(
        &self,
        env: &str,
        etag: &str,
        body: Vec<u8>,
    ) -> Result<Option<String>, StateError> {
        let key = self.lock_key(env);
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .if_match(etag)
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_owned())),
            Err(e)
                if s3_answer(&e).is_some_and(|a| {
                    PRECONDITION.contains(&a.code.as_str()) || NOT_FOUND.contains(&a.code.as_str())
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(self.error(e, &key, "PutObject")),
        }
    }

    pub(crate) async fn read_lock_raw(
        &self,
        env: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StateError> {
        self.get(&self.lock_key(env)).await
    }

    /// Deletes the lock if its etag is still `etag`: `Some(Yes)` deleted, `Some(AlreadyGone)` no
    /// lock, `None` another lock is in its place.
    pub(crate) async fn delete_lock(
        &self,
        env: &str,
        etag: &str,
    ) -> Result<Option<Deleted>, StateError> {
        let key = self.lock_key(env);
        let deleted = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .if_match(etag)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(Some(Deleted::Yes)),
            Err(e) => match s3_answer(&e) {
                Some(a) if PRECONDITION.contains(&a.code.as_str()) => Ok(None),
                Some(a) if NOT_FOUND.contains(&a.code.as_str()) => Ok(Some(Deleted::AlreadyGone)),
                _ => Err(self.error(e, &key, "DeleteObject")),
            },
        }
    }

    /// Environments with a state or lock object directly under the prefix.
    pub(crate) async fn envs(&self) -> Result<Vec<String>, StateError> {
        let prefix = self.key("");
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        let mut envs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error(e, &prefix, "ListObjectsV2"))?;
            for object in page.contents() {
                let Some(name) = object.key().and_then(|k| k.strip_prefix(&prefix)) else {
                    continue;
                };
                if let Some(env) = name
                    .strip_suffix(".json")
                    .or_else(|| name.strip_suffix(".lock"))
                    .filter(|env| !env.is_empty())
                {
                    envs.push(env.to_owned());
                }
            }
        }
        Ok(envs)
    }
}
