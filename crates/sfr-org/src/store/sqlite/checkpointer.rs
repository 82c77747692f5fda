//! WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold: that commit copies the WAL's
//! pages into the database file and fsyncs it while every grant queued behind it waits, which is where the
//! p99 spikes of a grant came from. The writer connection has automatic checkpoints off; this thread runs a
//! `PASSIVE` checkpoint (it never waits for, or blocks, readers and the writer) on its own connection every
//! `EVERY`, doing the copying and the fsync of the database file. A passive checkpoint alone never lets the
//! log start over under a steady load (the writer appends while it copies, some reader always holds the log),
//! and the file grew by 1.9 GB in 30 s of grants; so once the log passes `RESTART_ABOVE_FRAMES` the thread
//! runs a `RESTART` checkpoint, which holds commits while it copies what is left and waits for the readers of
//! the moment, and the next commit writes the log from its start. Those restarts are the grants' p99 (each holds
//! commits for an fsync of what was copied since the last one, BENCHMARKS.md): checkpoints four times as often
//! and restarts at a quarter of the log, against every 100 ms and 16 MB, took the p99 of client_credentials and
//! refresh at full load from 23–35 to 14–17 ms and at half load by 15–40 %, for 3–7 % of peak throughput (side
//! by side); checkpoints every 10 ms and restarts at 1 MB cost more throughput again for no lower p99. Other
//! processes that open the file (the admin commands) keep SQLite's default
//! and may checkpoint too; that is harmless.

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
        let restart =
            match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
                Ok(frames) => frames > RESTART_ABOVE_FRAMES,
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                    false
                }
            };
        if restart && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "WAL restart failed; the next checkpoint retries");
        }
        if last {
            return;
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
