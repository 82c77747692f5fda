//! Group commit: the token grants that arrive while a transaction is committing share the next one.
//!
//! Every grant must be durable before its answer is sent (a token whose response was sent survives a crash of
//! the process), and SQLite has one writer. A commit's cost (taking the write lock, appending the WAL frames of
//! every page touched) barely depends on how many rows it carries, so committing grants one by one caps the
//! server at one commit's rate. Here callers queue their work for the store's writer thread, which runs
//! everything queued so far in one `BEGIN IMMEDIATE` transaction, commits once and hands every caller its
//! result. Under no load a batch is one piece and this is exactly one transaction per call; under load batches
//! grow by themselves, with no timer and no added latency.
//!
//! A piece that fails is rolled back alone when it failed before writing anything, which is how a grant's work
//! fails (the facts it was decided on changed, or a constraint refused its statement, which SQLite undoes by
//! itself): the others commit. Pieces run without savepoints, which cost a copy of every page a piece changes
//! (about 5 % of a client_credentials grant's CPU when each grant had one). Only a database fault can fail a
//! piece after it wrote (a full disk, an I/O error, a 256-bit hash colliding): its writes cannot be told from
//! those before it, so the transaction is rolled back, the pieces that ran before it answer with an error that
//! says nothing of theirs was written, and the pieces after it run in a new transaction. SQLite rolls the whole
//! transaction back by itself on some of these faults anyway.
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
use super::in_batch::InBatch;
use super::writer_memo::WriterMemo;
use crate::store::{StoreError, StoreResult};

/// One caller's queued work.
trait Piece: Send {
    /// Runs inside the batch's transaction; returns what to send once the commit's outcome is known.
    fn run(self: Box<Self>, tx: &InBatch<'_>) -> Box<dyn Settle>;
    /// The batch could not start: the work never ran.
    fn fail(self: Box<Self>, error: StoreError);
}

/// A ran piece waiting for the batch's commit.
trait Settle: Send {
    /// Whether the piece's own work failed.
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

impl<T, F> Piece for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&InBatch<'_>) -> StoreResult<T> + Send,
{
    fn run(self: Box<Self>, tx: &InBatch<'_>) -> Box<dyn Settle> {
        let Work { f, reply } = *self;
        Box::new(Ran { out: f(tx), reply })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        self.reply.send(Err(error));
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
    /// The writer thread sleeps on `Shared::ready` and no one has woken it yet. Under load it is busy with a
    /// batch when work arrives, and a wake-up then would be a wasted system call per grant.
    writer_asleep: bool,
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
        F: FnOnce(&InBatch<'_>) -> StoreResult<T> + Send + 'static,
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
        F: FnOnce(&InBatch<'_>) -> StoreResult<T> + Send + 'static,
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
        let wake = std::mem::take(&mut queue.writer_asleep);
        drop(queue);
        if wake {
            self.shared.ready.notify_one();
        }
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
    let memo = WriterMemo::default();
    loop {
        let batch = {
            let Ok(mut queue) = shared.queue.lock() else {
                return;
            };
            while queue.pieces.is_empty() && !queue.closing {
                queue.writer_asleep = true;
                queue = match shared.ready.wait(queue) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
            queue.writer_asleep = false;
            if queue.pieces.is_empty() {
                return; // closing, nothing left
            }
            std::mem::take(&mut queue.pieces)
        };
        shared
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match writer.lock() {
            Ok(conn) => run_batch(&conn, &memo, batch),
            Err(_) => {
                for piece in batch {
                    piece.fail(StoreError::Internal("writer connection poisoned".into()));
                }
            }
        }
    }
}

fn run_batch(conn: &Connection, memo: &WriterMemo, batch: Vec<Box<dyn Piece>>) {
    let mut pending = batch.into_iter();
    // Each turn is one transaction; a turn ends early only when a piece failed after writing.
    while pending.len() > 0 {
        run_transaction(conn, memo, &mut pending);
    }
}

/// Runs pieces from `pending` in one transaction until it is empty or a piece fails after writing, and settles
/// every piece it ran.
fn run_transaction(
    conn: &Connection,
    memo: &WriterMemo,
    pending: &mut std::vec::IntoIter<Box<dyn Piece>>,
) {
    // BEGIN/COMMIT from the statement cache: `Connection::transaction` parses them anew on every call.
    if let Err(e) = conn.execute_cached("BEGIN IMMEDIATE", []) {
        let error = db_err(e);
        for piece in pending {
            piece.fail(error.clone());
        }
        return;
    }
    let tx = InBatch::new(conn, memo);
    let mut ran: Vec<Box<dyn Settle>> = Vec::with_capacity(pending.len());
    for piece in pending.by_ref() {
        // Before a piece, not after: the counter read for the pieces before it must still hold for this one
        // (a lone piece reads nothing more, so the statement counts of `query_count` stay the release build's).
        tx.check_facts_unchanged();
        let before = conn.total_changes();
        let done = piece.run(&tx);
        // A failed statement's rows are undone by SQLite and not counted: no change means nothing to undo.
        let wrote = conn.total_changes() != before || conn.is_autocommit();
        if done.failed() && wrote {
            abandon(conn, ran, done);
            return;
        }
        ran.push(done);
    }
    // A lone piece that failed wrote nothing, but there is nothing to commit either.
    let commit = if ran.len() == 1 && ran[0].failed() {
        conn.execute_cached("ROLLBACK", []).map(|_| ())
    } else {
        conn.execute_cached("COMMIT", []).map(|_| ())
    };
    let commit = commit.map_err(|e| {
        // A failed COMMIT can leave the transaction open; end it so the next batch starts clean.
        end_transaction(conn);
        db_err(e)
    });
    for r in ran {
        r.settle(commit.as_ref().map(|_| ()));
    }
}

/// Rolls the transaction back after `failed` failed with writes of its own: it answers with its error, the
/// pieces that ran before it with one saying their work was undone with it.
fn abandon(conn: &Connection, ran: Vec<Box<dyn Settle>>, failed: Box<dyn Settle>) {
    end_transaction(conn);
    failed.settle(Ok(()));
    let undone = StoreError::Database(
        "this write shared a transaction with one that failed after writing, and was rolled back with it; \
         nothing of it was stored, so retrying is safe"
            .into(),
    );
    for r in ran {
        r.settle(Err(&undone));
    }
}

fn end_transaction(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_cached("ROLLBACK", []);
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

    fn insert(v: i64) -> impl FnOnce(&InBatch<'_>) -> StoreResult<i64> + Send + 'static {
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
        let results: Vec<i64> = super::super::tests::await_all(pending)
            .into_iter()
            .map(Result::unwrap)
            .collect();
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

    /// A piece's work, boxed so one batch can mix several.
    type Job<T> = Box<dyn FnOnce(&InBatch<'_>) -> StoreResult<T> + Send>;

    /// Runs `pieces` as one batch on the calling thread, the way the writer thread runs what it took from the
    /// queue, and returns each piece's answer in order.
    fn one_batch<T: Send + 'static>(
        writer: &Mutex<Connection>,
        pieces: Vec<Job<T>>,
    ) -> Vec<StoreResult<T>> {
        let (batch, answers): (Vec<Box<dyn Piece>>, Vec<_>) = pieces
            .into_iter()
            .map(|f| {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let piece: Box<dyn Piece> = Box::new(Work {
                    f,
                    reply: Reply::Future(reply),
                });
                (piece, answer)
            })
            .unzip();
        run_batch(&writer.lock().unwrap(), &WriterMemo::default(), batch);
        answers
            .into_iter()
            .map(|mut a| a.try_recv().expect("every piece is answered"))
            .collect()
    }

    fn refuse(write_first: Option<i64>) -> Job<i64> {
        Box::new(move |c| {
            if let Some(v) = write_first {
                insert(v)(c)?;
            }
            Err(StoreError::Invalid {
                field: "test",
                message: "refused".into(),
            })
        })
    }

    #[test]
    fn a_piece_that_fails_before_writing_fails_alone() {
        let (_dir, writer) = table();
        let answers = one_batch(
            &writer,
            vec![
                Box::new(insert(1)),
                refuse(None),
                Box::new(insert(1)), // violates the primary key: SQLite undoes the statement
                // A statement that writes two rows and fails on the second: SQLite undoes the first too.
                Box::new(|c: &InBatch<'_>| {
                    c.execute("INSERT INTO t (v) VALUES (2), (1)", [])
                        .map_err(db_err)?;
                    Ok(0)
                }),
                Box::new(insert(3)),
            ],
        );
        assert_eq!(answers[0].as_ref().unwrap(), &1);
        assert!(matches!(answers[1], Err(StoreError::Invalid { .. })));
        assert!(matches!(answers[2], Err(StoreError::Database(_))));
        assert!(matches!(answers[3], Err(StoreError::Database(_))));
        assert_eq!(answers[4].as_ref().unwrap(), &3);
        assert_eq!(rows(&writer), vec![1, 3]);
    }

    #[test]
    fn a_piece_that_fails_after_writing_undoes_its_transaction_and_the_rest_run_in_another() {
        let (_dir, writer) = table();
        let answers = one_batch(
            &writer,
            vec![
                Box::new(insert(1)),
                refuse(Some(2)),
                Box::new(insert(1)), // runs after the rollback: 1 is free again
                Box::new(insert(3)),
            ],
        );
        match &answers[0] {
            Err(StoreError::Database(m)) => assert!(m.contains("retrying is safe"), "{m}"),
            other => panic!("the piece before the failure: {other:?}"),
        }
        assert!(matches!(answers[1], Err(StoreError::Invalid { .. })));
        assert_eq!(answers[2].as_ref().unwrap(), &1);
        assert_eq!(answers[3].as_ref().unwrap(), &3);
        assert_eq!(rows(&writer), vec![1, 3]);
        assert!(
            writer.lock().unwrap().is_autocommit(),
            "no transaction left open"
        );
    }

    /// A batch reads the facts' counter once for all its pieces (`InBatch::confirm_facts`), so a piece that
    /// moves it after that is a bug the batch stops on in debug builds, before the next piece is confirmed on
    /// the old count.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "changed a table of the grants' facts")]
    fn a_batch_stops_on_a_piece_that_moves_the_facts_counter() {
        let (_dir, writer) = table();
        writer
            .lock()
            .unwrap()
            .execute_batch(
                "CREATE TABLE facts_version (n INTEGER); INSERT INTO facts_version VALUES (0);",
            )
            .unwrap();
        let confirm: Job<i64> = Box::new(|c| c.confirm_facts(Some(0)).map(|()| 0));
        let bump: Job<i64> = Box::new(|c| {
            c.execute_batch("UPDATE facts_version SET n = n + 1")
                .map_err(db_err)?;
            Ok(0)
        });
        one_batch(&writer, vec![confirm, bump, Box::new(insert(1))]);
    }

    #[test]
    fn a_lone_piece_that_fails_leaves_nothing() {
        let (_dir, writer) = table();
        let answers = one_batch(&writer, vec![refuse(Some(5))]);
        assert!(matches!(answers[0], Err(StoreError::Invalid { .. })));
        assert_eq!(rows(&writer), Vec::<i64>::new());
        assert!(writer.lock().unwrap().is_autocommit());
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
