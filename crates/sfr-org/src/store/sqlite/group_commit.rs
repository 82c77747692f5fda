//! Group commit: the token grants that arrive while a transaction is committing share the next one.
//!
//! Every grant must be durable before its answer is sent (a token whose response was sent survives a crash of
//! the process), and SQLite has one writer. A commit's cost (taking the write lock, appending the WAL frames of
//! every page touched) barely depends on how many rows it carries, so committing grants one by one caps the
//! server at one commit's rate. Here a caller queues its work and then takes the writer; whoever holds the writer
//! runs everything queued so far in one `BEGIN IMMEDIATE` transaction, each piece under its own savepoint (a
//! failing piece is rolled back alone, the others commit), commits once, and hands every caller its result
//! before letting go of the writer. A caller whose work a previous holder already committed finds its result
//! waiting and returns without touching the database. Under no load a batch is one piece and this is exactly
//! one transaction per call; under load batches grow by themselves, with no timer and no added latency.
//!
//! A result is handed out only after the batch's `COMMIT` returned: nothing is reported done before it is in
//! the WAL.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, MutexGuard};

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

struct Work<T, F> {
    f: F,
    reply: SyncSender<StoreResult<T>>,
}

struct Ran<T> {
    out: StoreResult<T>,
    reply: SyncSender<StoreResult<T>>,
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
        // The caller is blocked on the other end until it hears back; it cannot have gone away.
        let _ = self.reply.send(Err(error));
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
        let _ = self.reply.send(out);
    }
}

/// The queue of work waiting for the writer.
#[derive(Default)]
pub(super) struct GroupCommit {
    queue: Mutex<Vec<Box<dyn Piece>>>,
}

impl GroupCommit {
    /// Runs `f` in a write transaction, possibly together with other callers' work, and returns once that
    /// transaction committed (or `f`'s own error, with `f`'s writes rolled back).
    pub(super) fn write<T, F>(&self, writer: &Mutex<Connection>, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, result): (_, Receiver<StoreResult<T>>) = sync_channel(1);
        self.lock_queue()?.push(Box::new(Work { f, reply }));
        let conn = writer
            .lock()
            .map_err(|_| StoreError::Internal("writer connection poisoned".into()))?;
        // The previous holder of the writer may have committed our work already.
        if let Ok(done) = result.try_recv() {
            return done;
        }
        let batch = std::mem::take(&mut *self.lock_queue()?);
        run_batch(&conn, batch);
        drop(conn);
        result
            .recv()
            .map_err(|_| StoreError::Internal("a group commit lost a result".into()))?
    }

    fn lock_queue(&self) -> StoreResult<MutexGuard<'_, Vec<Box<dyn Piece>>>> {
        self.queue
            .lock()
            .map_err(|_| StoreError::Internal("group-commit queue poisoned".into()))
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
