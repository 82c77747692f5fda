//! WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold: that commit copies the WAL's
//! pages into the database file and fsyncs it while every grant queued behind it waits, which is where the p99
//! spikes of a grant came from. The writer connection has automatic checkpoints off; this thread runs a `PASSIVE`
//! checkpoint (it never waits for, or blocks, readers and the writer) on its own connection every `EVERY`, doing the
//! copying (and the database file's fsync when it catches up). A passive checkpoint alone never lets the log start
//! over under a steady load (the writer appends while it copies, some reader always holds the log), and the file
//! grew by 1.9 GB in 30 s of grants; so once the log passes `RESTART_ABOVE_FRAMES` the thread runs a `RESTART`
//! checkpoint, which holds commits while it copies what is left and waits for the readers of the moment, and the
//! next commit writes the log from its start. Those restarts are the grants' p99 (each holds commits for an fsync of
//! what was copied since the last one, BENCHMARKS.md): checkpoints four times as often and restarts at a quarter of
//! the log, against every 100 ms and 16 MB, took the p99 of client_credentials and refresh at full load from 23–35
//! to 14–17 ms and at half load by 15–40 %, for 3–7 % of peak throughput (side by side); checkpoints every 10 ms and
//! restarts at 1 MB cost more throughput again for no lower p99. Other processes that open the file (the admin
//! commands) keep SQLite's default and may checkpoint too; that is harmless.
//!
//! What a restart holds commits for is mostly its fsyncs, and an fsync takes as long as the data it flushes
//! (here 80 µs for 4 KB, 0.5 ms for 1 MB, 2.3 ms for 4 MB). A passive checkpoint that cannot catch up with the
//! writer, as under load, copies pages into the database file without syncing it, so the restart's sync of the
//! database flushed every page copied since the last restart, about 4 MB, while commits waited: 2.4–3.1 ms a
//! restart, the writer asleep on the lock 4–6 % of the time. So before a restart the thread syncs both files
//! itself, without any lock (`sync_files`), copies what the writer added meanwhile, and does both again; the
//! restart's own syncs then flush only the last fraction of a millisecond of writes. Side by side, a restart
//! took 1.0–1.5 ms instead, and the writer slept on the lock 107–147 ms in 7 s of client_credentials or refresh
//! grants instead of 290–400 ms (BENCHMARKS.md, step 53).

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints.
const EVERY: Duration = Duration::from_millis(25);
/// WAL frames (pages) beyond which the checkpoint is a `RESTART`: 4 MB of log.
const RESTART_ABOVE_FRAMES: i64 = 1_024;

/// The checkpoint thread; stops (after one last checkpoint) when dropped.
pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> rusqlite::Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_handler(Some(super::busy_wait))?;
        conn.pragma_update(None, "journal_size_limit", super::WAL_SIZE_LIMIT)?;
        let (stop, stopped) = channel();
        let thread = std::thread::Builder::new()
            .name("sfr-org-checkpoint".into())
            .spawn(move || run(&conn, &stopped))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

fn run(conn: &Connection, stopped: &Receiver<()>) {
    loop {
        let last = match stopped.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => false,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        };
        let done = round(conn);
        if done.restarted {
            tracing::trace!(frames = done.frames, synced = done.synced, "WAL restarted");
        }
        if last {
            return;
        }
    }
}

/// What one round of the thread did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Round {
    /// Frames in the log at its passive checkpoint (`None`: it failed).
    frames: Option<i64>,
    /// Files synced before a restart (two rounds of the database and its log).
    synced: usize,
    /// A restart ran to its end: the next commit writes the log from its start.
    restarted: bool,
}

/// A passive checkpoint and, past `RESTART_ABOVE_FRAMES`, the syncs and the restart.
fn round(conn: &Connection) -> Round {
    let frames = passive(conn);
    let mut done = Round {
        frames,
        ..Round::default()
    };
    if frames.is_none_or(|frames| frames <= RESTART_ABOVE_FRAMES) {
        return done;
    }
    // Two rounds: the first sync flushes the pages of the passive checkpoint above (megabytes), the second what
    // the writer added while the first ran.
    for _ in 0..2 {
        match sync_files(conn) {
            Ok(synced) => done.synced += synced,
            Err(e) => {
                tracing::warn!(error = %e, "syncing the database before a WAL restart failed; the restart syncs");
                break;
            }
        }
        passive(conn);
    }
    match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
        Ok(busy) => done.restarted = busy == 0,
        Err(e) => tracing::warn!(error = %e, "WAL restart failed; the next checkpoint retries"),
    }
    done
}

/// A passive checkpoint: the frames in the log, or `None` (logged) when it failed.
fn passive(conn: &Connection) -> Option<i64> {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
        Ok(frames) => Some(frames),
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
            None
        }
    }
}

/// Syncs the database file and the WAL through `conn`'s own handles on them, as a checkpoint syncs them, and
/// returns how many it synced (the WAL only once the connection has opened it). SQLite's handles, not files
/// opened here: closing any other descriptor of the database would drop every POSIX lock this process holds on
/// it. It syncs only, so it needs no lock and never makes anything less durable.
fn sync_files(conn: &Connection) -> rusqlite::Result<usize> {
    use rusqlite::ffi;
    let mut synced = 0;
    for op in [
        ffi::SQLITE_FCNTL_FILE_POINTER,
        ffi::SQLITE_FCNTL_JOURNAL_POINTER,
    ] {
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: the handle is `conn`'s, alive for the call; both opcodes write one `sqlite3_file` pointer (to
        // the database file, or to the WAL in WAL mode) into `file`, which lives across the call.
        let rc = unsafe {
            ffi::sqlite3_file_control(conn.handle(), c"main".as_ptr(), op, (&raw mut file).cast())
        };
        if rc != ffi::SQLITE_OK {
            return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None));
        }
        // SAFETY: a non-null `file` is the connection's open or not-yet-opened file object, which SQLite keeps
        // until the connection closes; a file not opened yet has no methods. Only this thread uses `conn`, so
        // nothing else calls into the file meanwhile, and `xSync` only flushes it (and, once, its directory).
        let rc = unsafe {
            let Some(sync) = file
                .as_ref()
                .and_then(|f| f.pMethods.as_ref())
                .and_then(|m| m.xSync)
            else {
                continue;
            };
            sync(file, ffi::SQLITE_SYNC_NORMAL)
        };
        if rc != ffi::SQLITE_OK {
            return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None));
        }
        synced += 1;
    }
    Ok(synced)
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_files_syncs_the_database_and_the_log_once_it_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
            .unwrap();
        assert_eq!(
            sync_files(&conn).unwrap(),
            1,
            "a rollback journal closed between commits"
        );
        conn.execute_batch("PRAGMA journal_mode=WAL; INSERT INTO t VALUES (2);")
            .unwrap();
        assert_eq!(sync_files(&conn).unwrap(), 2, "the database and its WAL");
        let other = Connection::open(&path).unwrap();
        assert_eq!(
            sync_files(&other).unwrap(),
            1,
            "nothing read yet: no WAL opened"
        );
        other
            .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap();
        assert_eq!(sync_files(&other).unwrap(), 2);
        // The syncs leave both connections as they were: one writes, the other restarts the whole log.
        other.execute("INSERT INTO t VALUES (3)", []).unwrap();
        let (busy, log, copied): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(busy, 0, "the restart waited for nothing");
        assert!(log > 0 && copied == log, "{copied} of {log} frames copied");
    }

    /// A writer connection as the store opens it (WAL, no automatic checkpoint) with `pages` pages in its log.
    fn writer_with_log(path: &Path, pages: usize) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t (v BLOB);",
        )
        .unwrap();
        for _ in 0..pages {
            conn.execute("INSERT INTO t VALUES (zeroblob(3000))", [])
                .unwrap();
        }
        conn
    }

    #[test]
    fn a_round_restarts_a_long_log_after_syncing_both_files_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let writer = writer_with_log(&path, RESTART_ABOVE_FRAMES as usize + 50);
        let checkpointer = Connection::open(&path).unwrap();
        let done = round(&checkpointer);
        assert!(
            done.frames.is_some_and(|f| f > RESTART_ABOVE_FRAMES),
            "{done:?}"
        );
        assert_eq!(done.synced, 4, "the database and its log, twice: {done:?}");
        assert!(done.restarted, "{done:?}");
        // After it the log is short again, so the next round neither syncs nor restarts.
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let next = round(&checkpointer);
        assert!(next.frames.is_some_and(|f| f < 10), "{next:?}");
        assert_eq!((next.synced, next.restarted), (0, false), "{next:?}");
    }

    #[test]
    fn a_restart_a_reader_holds_back_is_not_reported_as_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let writer = writer_with_log(&path, RESTART_ABOVE_FRAMES as usize + 50);
        // A reader in the middle of a read transaction keeps its snapshot of the log, and the restart does not
        // wait for it here (no busy timeout on this connection; rusqlite's default would wait 5 s).
        let reader = Connection::open(&path).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM t;")
            .unwrap();
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let checkpointer = Connection::open(&path).unwrap();
        checkpointer.busy_timeout(Duration::ZERO).unwrap();
        let done = round(&checkpointer);
        assert_eq!(done.synced, 4, "{done:?}");
        assert!(!done.restarted, "{done:?}");
        reader.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn a_round_under_the_threshold_only_copies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let _writer = writer_with_log(&path, 20);
        let checkpointer = Connection::open(&path).unwrap();
        let done = round(&checkpointer);
        assert_eq!((done.synced, done.restarted), (0, false), "{done:?}");
        assert!(done.frames.is_some_and(|f| f >= 20), "{done:?}");
    }
}
