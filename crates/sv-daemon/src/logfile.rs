//! A log file with Supervisor's rotation scheme (Python's
//! `RotatingFileHandler`): once the file reaches `maxbytes`, `f.N-1` → `f.N`
//! … `f` → `f.1` and a fresh `f`; `backups = 0` truncates instead;
//! `maxbytes = 0` never rotates. One deliberate improvement: a write that
//! crosses `maxbytes` is split at the boundary, so every rotated file holds
//! exactly `maxbytes` bytes (Supervisor overshoots by up to one read chunk). `reopen` serves SIGUSR2 (logrotate's
//! `copytruncate`-free rotation).
//!
//! Writes never fail upward: a full disk or a vanished directory costs the
//! bytes (counted in `dropped`), never the daemon or the child.
//!
//! Targets that are not regular files (`/dev/stdout`, a FIFO, a terminal)
//! are written as they are: no seek, no rotation, so no "Illegal seek". A
//! log file deleted underneath us is noticed on the next write (its link
//! count drops to 0) and recreated.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How often a log file is checked for having been deleted underneath us.
const DELETION_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// An append-only file that rotates by size.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u32,
    file: Option<File>,
    /// Bytes in the current file (rotation is decided on this).
    size: u64,
    /// Whether the target is a regular file (only those rotate).
    regular: bool,
    /// When the file was last checked for deletion (a stat per write would
    /// double the syscalls of a chatty child).
    checked_at: Option<std::time::Instant>,
    /// Bytes that could not be written.
    pub dropped: u64,
    /// The last write or open error, for the daemon's report.
    pub last_error: Option<io::Error>,
}

fn open_append(path: &Path) -> io::Result<(File, u64, bool)> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !regular {
        // A pipe, FIFO or terminal whose reader stalls must not stall the
        // daemon: writes that would block are dropped (and counted) instead.
        set_nonblocking(&file);
    }
    let size = if regular {
        file.seek(SeekFrom::End(0)).unwrap_or(0)
    } else {
        0
    };
    Ok((file, size, regular))
}

fn set_nonblocking(file: &File) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    if let Ok(flags) = fcntl(file, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        let _ = fcntl(file, FcntlArg::F_SETFL(flags));
    }
}

impl RotatingFile {
    /// Open (creating it if needed) `path`. `maxbytes <= 0` disables rotation.
    pub fn open(path: impl Into<PathBuf>, maxbytes: i64, backups: i64) -> io::Result<Self> {
        let path = path.into();
        let (file, size, regular) = open_append(&path)?;
        Ok(RotatingFile {
            path,
            maxbytes: maxbytes.max(0) as u64,
            backups: backups.clamp(0, 10_000) as u32,
            file: Some(file),
            size,
            regular,
            checked_at: None,
            dropped: 0,
            last_error: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current size of the file (what `tail` and `readLog` see).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append `data` whole, then rotate if the size limit is reached.
    pub fn write(&mut self, data: &[u8]) {
        if self.file.is_none() || self.deleted() {
            self.reopen();
        }
        let mut rest = data;
        while !rest.is_empty() {
            let rotating = self.regular && self.maxbytes > 0;
            let room = if rotating {
                self.maxbytes.saturating_sub(self.size).max(1) as usize
            } else {
                rest.len()
            };
            let (part, tail) = rest.split_at(room.min(rest.len()));
            let Some(file) = self.file.as_mut() else {
                self.dropped += rest.len() as u64;
                return;
            };
            if let Err(e) = file.write_all(part) {
                // Part of it may be on disk; count it all as lost rather than
                // retrying and blocking the reader.
                self.dropped += rest.len() as u64;
                self.last_error = Some(e);
                return;
            }
            self.size += part.len() as u64;
            if rotating && self.size >= self.maxbytes {
                self.rotate();
            }
            rest = tail;
        }
    }

    /// Whether the open file was unlinked, checked at most once a second.
    fn deleted(&mut self) -> bool {
        if !self.regular
            || self
                .checked_at
                .is_some_and(|at| at.elapsed() < DELETION_CHECK_EVERY)
        {
            return false;
        }
        self.checked_at = Some(std::time::Instant::now());
        self.file
            .as_ref()
            .is_some_and(|f| f.metadata().is_ok_and(|m| m.nlink() == 0))
    }

    /// Empty the file and start again (`clearProcessLogs`, `clearLog`).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let (file, size, regular) = open_append(&self.path)?;
        self.file = Some(file);
        self.size = size;
        self.regular = regular;
        Ok(())
    }

    fn backup_name(&self, n: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) {
        self.file = None;
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                let from = self.backup_name(i);
                if from.exists() {
                    let _ = std::fs::rename(&from, self.backup_name(i + 1));
                }
            }
            let _ = std::fs::rename(&self.path, self.backup_name(1));
        }
        match OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)
        {
            Ok(file) => {
                self.file = Some(file);
                self.size = 0;
            }
            Err(e) => {
                self.file = None;
                self.last_error = Some(e);
            }
        }
    }

    /// Close and open the path again (after an external rotation).
    pub fn reopen(&mut self) {
        match open_append(&self.path) {
            Ok((file, size, regular)) => {
                self.file = Some(file);
                self.size = size;
                self.regular = regular;
            }
            Err(e) => {
                self.file = None;
                self.last_error = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn rotates_with_backups_like_python() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut f = RotatingFile::open(&path, 10, 2).unwrap();
        f.write(b"0123456789abc"); // split at the boundary
        assert_eq!(read(&path), "abc");
        assert_eq!(read(&dir.path().join("x.log.1")), "0123456789");
        f.write(b"defghijklmnopqrstuvwxyz");
        assert_eq!(read(&dir.path().join("x.log.2")), "abcdefghij");
        assert_eq!(read(&dir.path().join("x.log.1")), "klmnopqrst");
        assert_eq!(read(&path), "uvwxyz");
        f.write(b"0123");
        assert_eq!(read(&path), "", "exactly maxbytes: rotated");
        assert_eq!(read(&dir.path().join("x.log.1")), "uvwxyz0123");
        assert_eq!(read(&dir.path().join("x.log.2")), "klmnopqrst");
        assert!(!dir.path().join("x.log.3").exists(), "oldest backup is .2");
    }

    #[test]
    fn zero_backups_truncate_and_zero_maxbytes_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.log");
        let mut f = RotatingFile::open(&path, 4, 0).unwrap();
        f.write(b"abcdef");
        assert_eq!(read(&path), "ef");
        assert!(!dir.path().join("y.log.1").exists());
        let mut g = RotatingFile::open(dir.path().join("z.log"), 0, 3).unwrap();
        for _ in 0..100 {
            g.write(b"0123456789");
        }
        assert_eq!(read(&dir.path().join("z.log")).len(), 1000);
    }

    #[test]
    fn reopen_follows_an_external_move_and_missing_dirs_drop_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let mut f = RotatingFile::open(&path, 0, 0).unwrap();
        f.write(b"one\n");
        std::fs::rename(&path, dir.path().join("r.log.old")).unwrap();
        f.reopen();
        f.write(b"two\n");
        assert_eq!(read(&path), "two\n");
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_dir_all(dir.path()).unwrap();
        f.reopen();
        f.write(b"lost");
        assert_eq!(f.dropped, 4);
    }

    #[test]
    fn a_deleted_file_is_recreated_on_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.log");
        let mut f = RotatingFile::open(&path, 0, 0).unwrap();
        f.write(b"before\n");
        std::fs::remove_file(&path).unwrap();
        f.checked_at = None; // as if a second had passed
        f.write(b"after\n");
        assert_eq!(read(&path), "after\n");
    }

    #[test]
    fn non_regular_targets_never_rotate_or_seek() {
        // /dev/null stands for /dev/stdout, a FIFO or a terminal.
        let mut f = RotatingFile::open("/dev/null", 10, 2).unwrap();
        for _ in 0..10 {
            f.write(b"0123456789abcdef");
        }
        assert_eq!(f.dropped, 0);
        assert!(!Path::new("/dev/null.1").exists());
    }

    #[test]
    fn a_full_disk_drops_and_counts() {
        let mut f = RotatingFile::open("/dev/full", 0, 0).unwrap();
        f.write(b"0123456789");
        assert_eq!(f.dropped, 10);
        assert_eq!(
            f.last_error.as_ref().and_then(|e| e.raw_os_error()),
            Some(28)
        );
    }

    #[test]
    fn clear_empties_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut f = RotatingFile::open(&path, 0, 0).unwrap();
        f.write(b"data");
        f.clear().unwrap();
        assert_eq!(read(&path), "");
        f.write(b"new");
        assert_eq!(read(&path), "new");
    }
}
