//! Reads shared by the kinds of one refresh, so each thing is read from AWS once.
//!
//! Several kinds start from the same list: every EKS kind from the region's clusters
//! (ListClusters + DescribeCluster each), zones and records from the stack's hosted zones
//! (ListHostedZones + ListTagsForResources). [`super::Provider::refresh_many`] runs one task per
//! (kind, region), all at once; the memo it hands them makes the first task to ask do the read
//! and the others wait for its answer instead of asking AWS again.
//!
//! The memo lives only as long as that one batch of refreshes: a provider outside it (apply's
//! reads and waits, `find` after a lost answer) always reads afresh, since what it needs is what
//! AWS says now. A failed read is not remembered; the next task to ask tries again and reports
//! its own error.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::ProviderError;

type Shared = Arc<dyn Any + Send + Sync>;
type Cells = HashMap<(&'static str, String), Arc<OnceCell<Shared>>>;

/// Shared reads of one refresh batch; the default remembers nothing.
#[derive(Clone, Default)]
pub struct Memo(Option<Arc<Mutex<Cells>>>);

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Memo(on)"
        } else {
            "Memo(off)"
        })
    }
}

impl Memo {
    /// A memo that remembers: one per refresh batch.
    pub fn on() -> Memo {
        Memo(Some(Arc::default()))
    }

    /// Whether this memo remembers (inside one refresh batch).
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The value of `read` for `(what, key)`: read once per memo, then shared. `what` names the
    /// read (and so its type: one `what` must always be read as the same `T`); `key` is usually
    /// the region. Without a memo it simply reads.
    pub async fn get_or_read<T, F, Fut>(
        &self,
        what: &'static str,
        key: &str,
        read: F,
    ) -> Result<Arc<T>, ProviderError>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let Some(cells) = &self.0 else {
            return read().await.map(Arc::new);
        };
        let cell = {
            // A poisoned lock only means another task panicked while inserting; the map is
            // still consistent (an insert is one step).
            let mut cells = cells.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry((what, key.to_owned())).or_default().clone()
        };
        let shared = cell
            .get_or_try_init(|| async { read().await.map(|v| Arc::new(v) as Shared) })
            .await?
            .clone();
        Ok(shared
            .downcast::<T>()
            .expect("one memo entry is always read as one type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn failure() -> ProviderError {
        ProviderError::Failed {
            subject: super::super::Subject::Kind(crate::kind::Kind::EksCluster),
            region: "us-east-1".to_owned(),
            status: "boom".to_owned(),
        }
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_read_per_key() {
        let memo = Memo::on();
        let reads = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (memo, reads) = (memo.clone(), reads.clone());
            let region = if i % 2 == 0 { "us-east-1" } else { "eu-west-1" };
            tasks.spawn(async move {
                memo.get_or_read("clusters", region, || async {
                    reads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    Ok(vec![region.to_owned()])
                })
                .await
                .map(|v| v[0].clone())
            });
        }
        let mut got = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            got.push(joined.expect("task").expect("read"));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2, "one read per region");
        assert_eq!(got.iter().filter(|r| *r == "us-east-1").count(), 4);
    }

    #[tokio::test]
    async fn without_a_memo_every_ask_reads() {
        let memo = Memo::default();
        let reads = AtomicUsize::new(0);
        for _ in 0..3 {
            memo.get_or_read("x", "r", || async {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(1_u8)
            })
            .await
            .expect("read");
        }
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_remembered() {
        let memo = Memo::on();
        let first: Result<Arc<u8>, _> = memo
            .get_or_read("x", "r", || async { Err(failure()) })
            .await;
        assert!(first.is_err());
        let second = memo
            .get_or_read("x", "r", || async { Ok(7_u8) })
            .await
            .expect("the second ask reads again");
        assert_eq!(*second, 7);
    }
}
