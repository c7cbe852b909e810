//! Reading log files back for `readLog`, `readProcess*Log` and
//! `tailProcess*Log`: the windows come from `sv_core::logtext`, the bytes
//! from the file, and the text is decoded leniently — invalid UTF-8, or a
//! multi-byte character cut by the window, becomes U+FFFD instead of the
//! HTTP 500 Supervisor answers (spec §9.2). Characters XML 1.0 forbids are
//! replaced by the XML-RPC encoder (spec §9.1). Offsets stay byte offsets.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sv_api::TailChunk;
use sv_core::logtext::{read_window, tail_window};

/// Why a read failed, mapped to Supervisor's faults by the RPC layer
/// (`From<ReadError> for RpcError` in `rpc/faults.rs`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// `NO_FILE`: the log file does not exist; `None` when none is
    /// configured (Supervisor then gives the bare `NO_FILE`, no detail).
    #[error("NO_FILE: {}", .0.as_deref().unwrap_or("None"))]
    NoFile(Option<String>),
    /// `BAD_ARGUMENTS`: the window makes no sense for this file (a
    /// negative offset with a length, say).
    #[error("BAD_ARGUMENTS")]
    BadArguments,
    /// `FAILED`: the file exists but could not be read; the I/O error.
    #[error("FAILED: {0}")]
    Failed(String),
}

fn read_range(file: &mut File, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len.min(16 << 20) as usize);
    file.seek(SeekFrom::Start(start))?;
    file.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Supervisor's `readFile(path, offset, length)`.
pub fn read_log(path: Option<&Path>, offset: i64, length: i64) -> Result<String, ReadError> {
    let Some(path) = path else {
        return Err(ReadError::NoFile(None));
    };
    let mut file =
        File::open(path).map_err(|_| ReadError::NoFile(Some(path.display().to_string())))?;
    let size = file
        .metadata()
        .map_err(|e| ReadError::Failed(e.to_string()))?
        .len();
    let (start, len) = read_window(size, offset, length).map_err(|_| ReadError::BadArguments)?;
    let bytes = read_range(&mut file, start, len).map_err(|e| ReadError::Failed(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Supervisor's `tailFile(path, offset, length)` as `tailProcess*Log`
/// answers it. A log not configured or not written yet answers
/// `('', 0, false)`; one that exists but cannot be read answers `('',
/// offset, false)`.
pub fn tail_log(path: Option<&Path>, offset: i64, length: i64) -> TailChunk {
    let Some(path) = path.filter(|p| p.exists()) else {
        return TailChunk::default();
    };
    let unreadable = TailChunk {
        offset: offset.max(0),
        ..TailChunk::default()
    };
    let Ok(mut file) = File::open(path) else {
        return unreadable;
    };
    let Ok(size) = file.metadata().map(|m| m.len()) else {
        return unreadable;
    };
    let (start, len, overflow) = tail_window(size, offset, length);
    match read_range(&mut file, start, len) {
        Ok(bytes) => TailChunk {
            bytes: String::from_utf8_lossy(&bytes).into_owned(),
            offset: size as i64,
            overflow,
        },
        Err(_) => unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_and_colours_read_back_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"ok \x88 bad \x1b[31mred\x1b[0m \xc3\xa9t\xc3\xa9\n").unwrap();
        let text = read_log(Some(&path), 0, 0).unwrap();
        assert_eq!(text, "ok \u{fffd} bad \x1b[31mred\x1b[0m \u{e9}t\u{e9}\n");
        // A window that cuts "é" in half.
        let cut = read_log(Some(&path), 0, 26).unwrap();
        assert!(cut.ends_with('\u{fffd}'), "{cut:?}");
        let tail = tail_log(Some(&path), 0, 4);
        assert_eq!(
            (tail.bytes.as_str(), tail.offset, tail.overflow),
            ("t\u{e9}\n", 28, true)
        );
    }

    #[test]
    fn errors_are_supervisors() {
        assert_eq!(read_log(None, 0, 0), Err(ReadError::NoFile(None)));
        assert_eq!(
            read_log(Some(Path::new("/nonexistent/x.log")), 0, 0),
            Err(ReadError::NoFile(Some("/nonexistent/x.log".into())))
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.log");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(read_log(Some(&path), -1, 2), Err(ReadError::BadArguments));
        assert_eq!(read_log(Some(&path), 5, 0), Ok(String::new()));
        // No log, or none yet: nothing, from the start.
        assert_eq!(tail_log(None, 7, 10), TailChunk::default());
        assert_eq!(
            tail_log(Some(&dir.path().join("later.log")), 7, 10),
            TailChunk::default()
        );
    }

    #[test]
    fn tail_follows_across_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let mut f = crate::logfile::RotatingFile::open(&path, 10, 1).unwrap();
        f.write(b"0123456");
        let TailChunk { bytes, offset, .. } = tail_log(Some(&path), 0, 100);
        assert_eq!((bytes.as_str(), offset), ("0123456", 7));
        f.write(b"789ab"); // 12 bytes: rotated at 10, "ab" starts the new file
        // The file shrank below the client's offset: nothing now, and the
        // offset follows the new file (as Supervisor's tailFile does).
        let TailChunk {
            bytes,
            offset,
            overflow,
        } = tail_log(Some(&path), offset, 100);
        assert_eq!((bytes.as_str(), offset, overflow), ("", 2, false));
        f.write(b"cd");
        // tailFile answers the last `length` bytes whenever offset + length
        // passes the end, whatever the offset: "ab" comes back too.
        let TailChunk { bytes, offset, .. } = tail_log(Some(&path), offset, 100);
        assert_eq!((bytes.as_str(), offset), ("abcd", 4));
    }
}
