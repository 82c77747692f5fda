//! A VFS over SQLite's default one that writes each commit's WAL frames in one system call.
//!
//! SQLite appends a frame to the WAL as two writes, its 24-byte header and then its page, so a commit of twelve
//! pages (a batch of grants, `group_commit`) was 24 `pwrite`s. Measured on this host, two writes per frame cost
//! 1.75 µs, one 1.05 µs, and twelve frames in one write 0.3 µs a frame: the system call and the file system's
//! per-write work, not the copy, are the cost. This VFS keeps a WAL file's contiguous writes in a buffer and
//! hands them to the default VFS as one write when the commit frame's page arrives (a commit frame's header
//! names the database size, other frames' a zero), before anything else touches the file (a read, a sync, a
//! truncation, a size, a lock or a file control), when a write lands anywhere but right after the buffer, or
//! would take it past `MAX_WRITE` bytes.
//!
//! Nothing a reader can see is late, and nothing committed is less durable: SQLite publishes a commit to other
//! connections (the WAL index in shared memory) only after the write of its last frame returned, and that write
//! returns only once the whole commit is in the file, exactly as the last of the two dozen writes did. Frames of a
//! transaction that has not committed are invisible to readers wherever they are. Every other file (the database,
//! temporary files) is the default VFS's own, untouched.

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

/// The VFS's name, for `Connection::open_with_flags_and_vfs`.
pub(super) const NAME: &CStr = c"sfr-wal-frames";

const FRAME_HEADER: usize = 24;

/// Bytes one write hands the default VFS at most: SQLite's unix VFS writes fewer than 128 KiB per call (it masks
/// a larger length, and reports the short write as a full disk). A commit larger than this (31 frames of 4 KiB
/// pages) takes a write per 31 frames.
const MAX_WRITE: usize = 0x1_ffff;

/// The default VFS this one wraps.
struct Inner(*mut ffi::sqlite3_vfs);

// SAFETY: the pointer is to SQLite's registered default VFS, which lives as long as the process and which
// SQLite itself calls from any thread.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

static REGISTERED: OnceLock<Result<Inner, c_int>> = OnceLock::new();

/// Registers the VFS (once per process) and returns its name.
pub(super) fn register() -> rusqlite::Result<&'static CStr> {
    let registered = REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find` initialises SQLite if needed and returns the default VFS or null. The copy
        // is leaked: SQLite keeps the pointer for the life of the process.
        unsafe {
            let inner = ffi::sqlite3_vfs_find(ptr::null());
            if inner.is_null() {
                return Err(ffi::SQLITE_ERROR);
            }
            let mut vfs = *inner;
            // The wrapped file first, the default VFS's file behind it (`WalFile::inner`); its other files are
            // the default VFS's alone, written over the same memory.
            vfs.szOsFile = c_int::try_from(std::mem::size_of::<WalFile>())
                .map_err(|_| ffi::SQLITE_ERROR)?
                + (*inner).szOsFile;
            vfs.pNext = ptr::null_mut();
            vfs.zName = NAME.as_ptr();
            vfs.xOpen = Some(open);
            // `pAppData` and every other method stay the default VFS's: called with this VFS, they read the
            // same fields as with their own.
            let vfs = Box::leak(Box::new(vfs));
            match ffi::sqlite3_vfs_register(vfs, 0) {
                ffi::SQLITE_OK => Ok(Inner(inner)),
                rc => Err(rc),
            }
        }
    });
    match registered {
        Ok(_) => Ok(NAME),
        Err(rc) => Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(*rc),
            Some("cannot register the WAL-frames VFS".into()),
        )),
    }
}

fn inner_vfs() -> Option<*mut ffi::sqlite3_vfs> {
    match REGISTERED.get() {
        Some(Ok(Inner(vfs))) => Some(*vfs),
        _ => None,
    }
}

/// A WAL file: SQLite's file handle, the default VFS's file it forwards to, and the writes held back.
#[repr(C)]
struct WalFile {
    /// First, so a pointer to the handle SQLite holds is a pointer to this.
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    pending: Vec<u8>,
    /// The file offset of `pending`'s first byte.
    pending_at: i64,
    /// Where the page of the commit frame whose header was the last write goes: the write that ends the commit.
    commit_page_at: Option<i64>,
    /// Writes handed to the default VFS (for tests).
    writes: u64,
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(inner_vfs) = inner_vfs() else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY (whole function): SQLite hands `file` with `szOsFile` bytes, 8-byte aligned, which holds a
    // `WalFile` followed by the default VFS's file (`register`), or the default VFS's file alone.
    unsafe {
        let Some(inner_open) = (*inner_vfs).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return inner_open(inner_vfs, name, file, flags, out_flags);
        }
        let inner = file
            .cast::<u8>()
            .add(std::mem::size_of::<WalFile>())
            .cast::<ffi::sqlite3_file>();
        let rc = inner_open(inner_vfs, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // SQLite closes a file whose open failed only if it has methods: this one has none, so close the
            // default VFS's file here if it got as far as having some.
            if let Some(close) = (*inner).pMethods.as_ref().and_then(|m| m.xClose) {
                close(inner);
            }
            (*file).pMethods = ptr::null();
            return rc;
        }
        ptr::write(
            file.cast::<WalFile>(),
            WalFile {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                inner,
                pending: Vec::new(),
                pending_at: 0,
                commit_page_at: None,
                writes: 0,
            },
        );
        ffi::SQLITE_OK
    }
}

/// The `WalFile` behind a handle this VFS opened with `METHODS`.
///
/// # Safety
/// `file` must be a handle `open` initialised as a WAL file and not yet closed.
unsafe fn wal<'a>(file: *mut ffi::sqlite3_file) -> &'a mut WalFile {
    unsafe { &mut *file.cast::<WalFile>() }
}

impl WalFile {
    fn methods(&self) -> &ffi::sqlite3_io_methods {
        // SAFETY: the default VFS's file was opened successfully (`open`) and keeps its methods until closed.
        unsafe { &*(*self.inner).pMethods }
    }

    /// Hands what is held back to the default VFS.
    fn flush(&mut self) -> c_int {
        if self.pending.is_empty() {
            return ffi::SQLITE_OK;
        }
        let Some(write) = self.methods().xWrite else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let Ok(len) = c_int::try_from(self.pending.len()) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        // SAFETY: `inner` is open, and the buffer outlives the call.
        let rc = unsafe {
            write(
                self.inner,
                self.pending.as_ptr().cast(),
                len,
                self.pending_at,
            )
        };
        self.pending.clear();
        self.writes += 1;
        rc
    }

    /// Holds `data` back for a write at `at`; returns when it is in the file or waits in the buffer.
    fn write(&mut self, data: &[u8], at: i64) -> c_int {
        let end = self.pending_at + self.pending.len() as i64;
        if !self.pending.is_empty() && (at != end || self.pending.len() + data.len() > MAX_WRITE) {
            let rc = self.flush();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        if self.pending.is_empty() {
            self.pending_at = at;
        }
        self.pending.extend_from_slice(data);
        let ends_commit = self.commit_page_at == Some(at);
        // A frame header's bytes 4..8 are the database's size in pages after a commit, zero in other frames.
        self.commit_page_at = (data.len() == FRAME_HEADER && data[4..8] != [0; 4])
            .then_some(at + FRAME_HEADER as i64);
        if ends_commit {
            return self.flush();
        }
        ffi::SQLITE_OK
    }
}

/// Flushes, then forwards to the default VFS's method `pick`; `missing` if it has none.
macro_rules! flushed {
    ($file:expr, $pick:ident, $missing:expr, $($arg:expr),*) => {{
        // SAFETY: SQLite calls these methods only on a file `open` initialised.
        let w = unsafe { wal($file) };
        let rc = w.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        match w.methods().$pick {
            // SAFETY: forwarded with SQLite's own arguments to the file they were meant for.
            Some(f) => unsafe { f(w.inner, $($arg),*) },
            None => $missing,
        }
    }};
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file once, after its last use; the buffer is dropped here and the memory is
    // SQLite's to free.
    unsafe {
        let w = wal(file);
        let flushed = w.flush();
        let closed = match w.methods().xClose {
            Some(close) => close(w.inner),
            None => ffi::SQLITE_OK,
        };
        ptr::drop_in_place(&mut w.pending);
        (*file).pMethods = ptr::null();
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    flushed!(file, xRead, ffi::SQLITE_IOERR_READ, buf, amount, offset)
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: SQLite passes `amount` readable bytes at `buf`, and a file `open` initialised.
    unsafe {
        let data = std::slice::from_raw_parts(buf.cast::<u8>(), len);
        wal(file).write(data, offset)
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    flushed!(file, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, size)
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    flushed!(file, xSync, ffi::SQLITE_IOERR_FSYNC, flags)
}

unsafe extern "C" fn file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    flushed!(file, xFileSize, ffi::SQLITE_IOERR_FSTAT, size)
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    flushed!(file, xLock, ffi::SQLITE_IOERR_LOCK, level)
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    flushed!(file, xUnlock, ffi::SQLITE_IOERR_UNLOCK, level)
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    flushed!(
        file,
        xCheckReservedLock,
        ffi::SQLITE_IOERR_CHECKRESERVEDLOCK,
        out
    )
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    flushed!(file, xFileControl, ffi::SQLITE_NOTFOUND, op, arg)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as `flushed!`; nothing is written, so nothing needs flushing.
    let w = unsafe { wal(file) };
    match w.methods().xSectorSize {
        Some(f) => unsafe { f(w.inner) },
        None => 4096,
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as `sector_size`.
    let w = unsafe { wal(file) };
    match w.methods().xDeviceCharacteristics {
        Some(f) => unsafe { f(w.inner) },
        None => 0,
    }
}

/// Writes the WAL file of `conn`'s main database handed to the default VFS so far, if `conn` writes through this
/// VFS and has its WAL open.
#[cfg(test)]
pub(super) fn writes_of(conn: &rusqlite::Connection) -> Option<u64> {
    let mut file: *mut ffi::sqlite3_file = ptr::null_mut();
    // SAFETY: in WAL mode the journal pointer is the WAL file's handle; the out-pointer is a valid place for it.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_JOURNAL_POINTER,
            (&raw mut file).cast(),
        )
    };
    if rc != ffi::SQLITE_OK || file.is_null() {
        return None;
    }
    // SAFETY: a WAL file this VFS opened has `METHODS`; any other is left alone.
    unsafe {
        if !ptr::eq((*file).pMethods, &METHODS) {
            return None;
        }
        Some(wal(file).writes)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, OpenFlags};

    use super::*;

    fn open(path: &std::path::Path) -> Connection {
        let conn =
            Connection::open_with_flags_and_vfs(path, OpenFlags::default(), register().unwrap())
                .unwrap();
        // No automatic checkpoint: a restart of the WAL writes its header apart, and the tests count writes.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;",
        )
        .unwrap();
        conn
    }

    /// The rows of `t` as another process (the default VFS) reads them, once SQLite found the file sound.
    fn rows_of_sound_file(path: &std::path::Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_commit_of_many_pages_is_one_write_and_readers_see_it_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let writer = open(&path);
        writer
            .execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;")
            .unwrap();
        // Another process's view: the default VFS.
        let reader = Connection::open(&path).unwrap();
        let wal = dir.path().join("t.sqlite-wal");
        let frame = 4096 + FRAME_HEADER as u64;
        let mut frames_in_all = 0;
        for round in 0..50_i64 {
            let before = writes_of(&writer).expect("the writer's WAL goes through this VFS");
            let wal_before = std::fs::metadata(&wal).unwrap().len();
            let tx = writer.unchecked_transaction().unwrap();
            // Rows at spread keys, big enough that the commit writes a dozen pages or more.
            for i in 0..12 {
                tx.execute(
                    "INSERT INTO t (k, v) VALUES (?1, zeroblob(900))",
                    [format!("{:04}-{round:03}", i * 97 % 1000)],
                )
                .unwrap();
            }
            tx.commit().unwrap();
            let writes = writes_of(&writer).unwrap() - before;
            let frames = (std::fs::metadata(&wal).unwrap().len() - wal_before) / frame;
            let fit = (MAX_WRITE as u64) / frame;
            assert!(frames > 1, "round {round}: {frames} frames");
            assert_eq!(
                writes,
                frames.div_ceil(fit),
                "round {round}: {frames} frames, {fit} to a write"
            );
            frames_in_all += frames;
            let seen: i64 = reader
                .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(seen, (round + 1) * 12, "the reader sees every commit");
        }
        assert!(frames_in_all > 50 * 4, "{frames_in_all} frames");
        drop(writer);
        drop(reader);
        // Reopened (the WAL replayed or checkpointed), everything is there.
        assert_eq!(rows_of_sound_file(&path), 600);
    }

    /// A transaction of `rows` rows of 1.5 KB on a 10-page cache: it spills frames to the WAL before it ends, and
    /// reads them back.
    fn spilling_transaction(writer: &Connection, rows: usize) -> rusqlite::Transaction<'_> {
        writer
            .execute_batch("PRAGMA cache_size=10; CREATE TABLE t (v BLOB);")
            .unwrap();
        let tx = writer.unchecked_transaction().unwrap();
        for _ in 0..rows {
            tx.execute("INSERT INTO t (v) VALUES (randomblob(1500))", [])
                .unwrap();
        }
        tx
    }

    #[test]
    fn a_transaction_larger_than_the_buffer_and_the_cache_commits_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let writer = open(&path);
        let tx = spilling_transaction(&writer, 2_000);
        let sum: i64 = tx
            .query_row("SELECT SUM(length(v)) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sum, 3_000_000);
        tx.commit().unwrap();
        assert_eq!(rows_of_sound_file(&path), 2_000);
    }

    #[test]
    fn a_rolled_back_transaction_leaves_nothing_and_the_next_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let writer = open(&path);
        spilling_transaction(&writer, 500).rollback().unwrap();
        writer
            .execute("INSERT INTO t (v) VALUES (x'01')", [])
            .unwrap();
        assert_eq!(rows_of_sound_file(&path), 1);
    }
}
