//! A log file with Supervisor's rotation (Python's `RotatingFileHandler`):
//! after each write, once the file has reached `maxbytes`, `f.N-1` → `f.N`
//! … `f` → `f.1` and a fresh `f`; `backups = 0` truncates instead;
//! `maxbytes = 0` never rotates. `reopen` serves SIGUSR2 (logrotate's
//! `copytruncate`-free rotation).
//!
//! Writes never fail upward: a full disk or a vanished directory costs the
//! bytes (counted in `dropped`), never the daemon or the child.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An append-only file that rotates by size.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u32,
    file: Option<File>,
    /// Bytes in the current file (rotation is decided on this).
    size: u64,
    /// Bytes that could not be written.
    pub dropped: u64,
}

fn open_append(path: &Path) -> io::Result<(File, u64)> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    // Not seekable (a FIFO, /dev/stdout): the size stays 0 and it never rotates.
    let size = file.seek(SeekFrom::End(0)).unwrap_or(0);
    Ok((file, size))
}

impl RotatingFile {
    /// Open (creating it if needed) `path`. `maxbytes <= 0` disables rotation.
    pub fn open(path: impl Into<PathBuf>, maxbytes: i64, backups: i64) -> io::Result<Self> {
        let path = path.into();
        let (file, size) = open_append(&path)?;
        Ok(RotatingFile {
            path,
            maxbytes: maxbytes.max(0) as u64,
            backups: backups.clamp(0, 10_000) as u32,
            file: Some(file),
            size,
            dropped: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `data` whole, then rotate if the size limit is reached.
    pub fn write(&mut self, data: &[u8]) {
        if self.file.is_none() {
            self.reopen();
        }
        let Some(file) = self.file.as_mut() else {
            self.dropped += data.len() as u64;
            return;
        };
        match file.write_all(data) {
            Ok(()) => self.size += data.len() as u64,
            Err(_) => {
                self.dropped += data.len() as u64;
                return;
            }
        }
        if self.maxbytes > 0 && self.size >= self.maxbytes {
            self.rotate();
        }
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
            Err(_) => self.file = None,
        }
    }

    /// Close and open the path again (after an external rotation).
    pub fn reopen(&mut self) {
        match open_append(&self.path) {
            Ok((file, size)) => {
                self.file = Some(file);
                self.size = size;
            }
            Err(_) => self.file = None,
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
        f.write(b"0123456789abc"); // overshoots by one write, then rotates
        assert_eq!(read(&path), "");
        assert_eq!(read(&dir.path().join("x.log.1")), "0123456789abc");
        f.write(b"second-----");
        f.write(b"third------");
        assert_eq!(read(&dir.path().join("x.log.1")), "third------");
        assert_eq!(read(&dir.path().join("x.log.2")), "second-----");
        assert!(!dir.path().join("x.log.3").exists(), "oldest backup is .2");
    }

    #[test]
    fn zero_backups_truncate_and_zero_maxbytes_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.log");
        let mut f = RotatingFile::open(&path, 4, 0).unwrap();
        f.write(b"abcdef");
        assert_eq!(read(&path), "");
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
}
