//! Group commit: the token grants that arrive while a transaction is committing share the next one.
//!
//! Every grant must be durable before its answer is sent (a token whose response was sent survives a crash of
//! the process), and SQLite has one writer. A commit's cost (taking the write lock, appending the WAL frames of
//! every page touched) barely depends on how many rows it carries, so committing grants one by one caps the
//! server at one commit's rate. Here callers queue their work for the store's writer thread, which runs
//! everything queued so far in one `BEGIN IMMEDIATE` transaction, each piece under its own savepoint (a failing
//! piece is rolled back alone, the others commit), commits once and hands every caller its result. Under no load
//! a batch is one piece and this is exactly one transaction per call; under load batches grow by themselves,
//! with no timer and no added latency.
//!
//! Callers wait either on a blocking thread (`write`) or as a future (`write_async`): an async request handler
//! queues its grant and yields its worker thread to other connections until the commit, with no hop to a
//! blocking thread.
//!
//! A result is handed out only after the batch's `COMMIT` returned: nothing is reported done before it is in
//! the WAL.

use std::future::Future;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::cached::CachedStatements as _;

use super::db_err;
use crate::store::{StoreError, StoreResult};

/// One caller's queued work.
trait Piece: Send {
    /// Runs inside the batch's transaction; returns what to send once the commit's outcome is known.
    fn run(self: Box<Self>, conn: &Connection, alone: bool) -> Box<dyn Settle>;
    /// The batch could not start: the work never ran.
    fn fail(self: Box<Self>, error: StoreError);
}

/// A ran piece waiting for the batch's commit.
trait Settle: Send {
    /// Whether the piece's own work failed (and was rolled back).
    fn failed(&self) -> bool;
    fn settle(self: Box<Self>, commit: Result<(), &StoreError>);
}

/// Where a piece's result goes: a caller blocked on a thread, or a future.
enum Reply<T> {
    Blocking(SyncSender<StoreResult<T>>),
    Future(tokio::sync::oneshot::Sender<StoreResult<T>>),
}

impl<T> Reply<T> {
    fn send(self, out: StoreResult<T>) {
        // A caller that went away (a dropped future: the client hung up) needs no answer; its work stands.
        match self {
            Self::Blocking(tx) => {
                let _ = tx.send(out);
            }
            Self::Future(tx) => {
                let _ = tx.send(out);
            }
        }
    }
}

struct Work<T, F> {
    f: F,
    reply: Reply<T>,
}

struct Ran<T> {
    out: StoreResult<T>,
    reply: Reply<T>,
}

const SAVEPOINT: &str = "SAVEPOINT grant_piece";
const RELEASE: &str = "RELEASE grant_piece";
const ROLLBACK_TO: &str = "ROLLBACK TO grant_piece";

impl<T, F> Piece for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send,
{
    fn run(self: Box<Self>, conn: &Connection, alone: bool) -> Box<dyn Settle> {
        let Work { f, reply } = *self;
        let out = if alone {
            // The batch is this piece: a failure rolls the whole transaction back, no savepoint needed.
            f(conn)
        } else {
            savepoint(conn, f)
        };
        Box::new(Ran { out, reply })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        self.reply.send(Err(error));
    }
}

fn savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut begin = conn.prepare_cached(SAVEPOINT).map_err(db_err)?;
    begin.execute([]).map_err(db_err)?;
    let out = f(conn);
    let end = if out.is_ok() {
        conn.prepare_cached(RELEASE)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
    } else {
        conn.prepare_cached(ROLLBACK_TO)
            .and_then(|mut s| s.execute([]))
            .and_then(|_| conn.prepare_cached(RELEASE)?.execute([]))
            .map(|_| ())
    };
    match (out, end) {
        (out, Ok(())) => out,
        (Err(e), Err(_)) => Err(e),
        (Ok(_), Err(e)) => Err(db_err(e)),
    }
}

impl<T: Send> Settle for Ran<T> {
    fn failed(&self) -> bool {
        self.out.is_err()
    }

    fn settle(self: Box<Self>, commit: Result<(), &StoreError>) {
        let out = match (self.out, commit) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e.clone()),
            (Err(e), _) => Err(e),
        };
        self.reply.send(out);
    }
}

/// The queue of work waiting for the writer thread.
#[derive(Default)]
struct Queue {
    pieces: Vec<Box<dyn Piece>>,
    closing: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Transactions the writer thread ran (for tests: fewer than the pieces means grants shared commits).
    batches: std::sync::atomic::AtomicU64,
}

/// The store's writer thread and its queue.
pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommit {
    /// Starts the writer thread on `writer` (which other write paths may lock too, between batches).
    pub(super) fn start(writer: Arc<Mutex<Connection>>) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("sfr-org-writer".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || writer_loop(&shared, &writer)
            })?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `f` in a write transaction, possibly together with other callers' work, and returns once that
    /// transaction committed (or `f`'s own error, with `f`'s writes rolled back). Blocks the calling thread.
    pub(super) fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, result) = sync_channel(1);
        self.submit(Box::new(Work {
            f,
            reply: Reply::Blocking(reply),
        }))?;
        result
            .recv()
            .map_err(|_| StoreError::Internal("the writer thread stopped".into()))?
    }

    /// `write` as a future: the caller's thread is free until the commit.
    pub(super) fn write_async<T, F>(
        &self,
        f: F,
    ) -> impl Future<Output = StoreResult<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, result) = tokio::sync::oneshot::channel();
        let submitted = self.submit(Box::new(Work {
            f,
            reply: Reply::Future(reply),
        }));
        async move {
            submitted?;
            result
                .await
                .map_err(|_| StoreError::Internal("the writer thread stopped".into()))?
        }
    }

    fn submit(&self, piece: Box<dyn Piece>) -> StoreResult<()> {
        let mut queue = lock(&self.shared.queue)?;
        if queue.closing {
            return Err(StoreError::Internal("the store is closing".into()));
        }
        queue.pieces.push(piece);
        drop(queue);
        self.shared.ready.notify_one();
        Ok(())
    }
}

impl Drop for GroupCommit {
    /// Lets the writer thread finish what is queued, then stop.
    fn drop(&mut self) {
        if let Ok(mut queue) = self.shared.queue.lock() {
            queue.closing = true;
        }
        self.shared.ready.notify_one();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> StoreResult<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| StoreError::Internal("group-commit state poisoned".into()))
}

fn writer_loop(shared: &Shared, writer: &Mutex<Connection>) {
    loop {
        let batch = {
            let Ok(mut queue) = shared.queue.lock() else {
                return;
            };
            while queue.pieces.is_empty() && !queue.closing {
                queue = match shared.ready.wait(queue) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
            if queue.pieces.is_empty() {
                return; // closing, nothing left
            }
            std::mem::take(&mut queue.pieces)
        };
        shared
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match writer.lock() {
            Ok(conn) => run_batch(&conn, batch),
            Err(_) => {
                for piece in batch {
                    piece.fail(StoreError::Internal("writer connection poisoned".into()));
                }
            }
        }
    }
}

fn run_batch(conn: &Connection, batch: Vec<Box<dyn Piece>>) {
    // BEGIN/COMMIT from the statement cache: `Connection::transaction` parses them anew on every call.
    if let Err(e) = conn.execute_cached("BEGIN IMMEDIATE", []) {
        let error = db_err(e);
        for piece in batch {
            piece.fail(error.clone());
        }
        return;
    }
    let alone = batch.len() == 1;
    let ran: Vec<Box<dyn Settle>> = batch.into_iter().map(|p| p.run(conn, alone)).collect();
    // A lone piece that failed must not leave its writes behind.
    let commit = if alone && ran.iter().any(|r| r.failed()) {
        conn.execute_cached("ROLLBACK", []).map(|_| ())
    } else {
        conn.execute_cached("COMMIT", []).map(|_| ())
    };
    let commit = commit.map_err(|e| {
        // A failed COMMIT can leave the transaction open; end it so the next batch starts clean.
        if !conn.is_autocommit() {
            let _ = conn.execute_cached("ROLLBACK", []);
        }
        db_err(e)
    });
    for r in ran {
        r.settle(commit.as_ref().map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (tempfile::TempDir, Arc<Mutex<Connection>>) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.sqlite")).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER PRIMARY KEY);")
            .unwrap();
        (dir, Arc::new(Mutex::new(conn)))
    }

    fn rows(writer: &Mutex<Connection>) -> Vec<i64> {
        let conn = writer.lock().unwrap();
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn insert(v: i64) -> impl FnOnce(&Connection) -> StoreResult<i64> + Send + 'static {
        move |c| {
            c.execute("INSERT INTO t (v) VALUES (?1)", [v])
                .map_err(db_err)?;
            Ok(v)
        }
    }

    #[test]
    fn pieces_queued_while_the_writer_is_busy_share_one_commit() {
        let (_dir, writer) = table();
        let group = GroupCommit::start(Arc::clone(&writer)).unwrap();
        let held = writer.lock().unwrap();
        let pending: Vec<_> = (1..=10).map(|v| group.write_async(insert(v))).collect();
        drop(held);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let results: Vec<i64> = runtime.block_on(async {
            let mut out = Vec::new();
            for p in pending {
                out.push(p.await.unwrap());
            }
            out
        });
        assert_eq!(results, (1..=10).collect::<Vec<_>>());
        assert_eq!(rows(&writer), (1..=10).collect::<Vec<_>>());
        let batches = group
            .shared
            .batches
            .load(std::sync::atomic::Ordering::Relaxed);
        // The writer may have taken the first piece before the others were queued, never more than that.
        assert!(
            (1..=2).contains(&batches),
            "10 pieces in {batches} transactions"
        );
    }

    #[test]
    fn a_failing_piece_is_rolled_back_alone() {
        let (_dir, writer) = table();
        let group = GroupCommit::start(Arc::clone(&writer)).unwrap();
        let held = writer.lock().unwrap();
        let ok1 = group.write_async(insert(1));
        let bad = group.write_async(|c: &Connection| -> StoreResult<()> {
            c.execute("INSERT INTO t (v) VALUES (2)", [])
                .map_err(db_err)?;
            Err(StoreError::Invalid {
                field: "test",
                message: "refused after writing".into(),
            })
        });
        let dup = group.write_async(insert(1)); // violates the primary key
        let ok3 = group.write_async(insert(3));
        drop(held);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            assert_eq!(ok1.await.unwrap(), 1);
            assert!(matches!(bad.await, Err(StoreError::Invalid { .. })));
            assert!(matches!(dup.await, Err(StoreError::Database(_))));
            assert_eq!(ok3.await.unwrap(), 3);
        });
        assert_eq!(rows(&writer), vec![1, 3]);
    }

    #[test]
    fn blocking_callers_and_closing_the_store() {
        let (_dir, writer) = table();
        let group = Arc::new(GroupCommit::start(Arc::clone(&writer)).unwrap());
        let threads: Vec<_> = (1..=8)
            .map(|v| {
                let group = Arc::clone(&group);
                std::thread::spawn(move || group.write(insert(v)).unwrap())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(rows(&writer), (1..=8).collect::<Vec<_>>());
        let group = Arc::into_inner(group).unwrap();
        let late = group.write_async(insert(9));
        drop(group); // finishes what is queued, then stops
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(runtime.block_on(late).unwrap(), 9);
        assert_eq!(rows(&writer).last(), Some(&9));
    }
}
