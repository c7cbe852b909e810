//! Following a log file as it grows: the one follower behind both
//! `/logtail` (`supervisorctl tail -f`) and the web page's live log view
//! (`/logevents`).
//!
//! A [`Follower`] watches a path, not a descriptor, because the logs it
//! follows are rotated (renamed, a new file created under the name) and
//! cleared (truncated) underneath it. Every [`FOLLOW_POLL`] it looks at the
//! path's inode and size:
//!
//! * bytes past its offset are read and handed out ([`Event::Data`]);
//! * a different inode (or none: removed) is a rotation — what the old file
//!   still received is drained first, then [`Event::Rotated`], then the new
//!   file is followed from its start;
//! * a size below the offset (or a starting offset past the end) is a
//!   clear: [`Event::Truncated`], then following goes on from byte 0.
//!
//! Only regular files are read: a log may be `/dev/stdout` or a FIFO, and
//! reading one would block or steal output meant for someone else.
//!
//! This module owns the file watching and nothing of either wire format:
//! `/logtail` writes the bytes raw (and a line for a clear), the log view
//! wraps them in server-sent events with whole UTF-8 characters. The file
//! work is blocking, so [`Follower::next`] runs it on tokio's blocking pool,
//! never on the workers that serve requests and the actor.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use axum::body::Bytes;
use tokio::time::Instant;

/// How often a followed log is looked at.
pub const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Where following starts, at the first open of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the file's end: only what is written from now on.
    End,
    /// The last `n` bytes, then what is written (`tail -f`).
    LastBytes(u64),
    /// At this byte offset (where a reader left off); past the end, the
    /// file was cleared since, which is reported as [`Event::Truncated`].
    Offset(u64),
}

/// What a follower saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes appended to the file.
    Data(Bytes),
    /// The file was replaced (rotated or removed); what follows comes from
    /// the new file's start.
    Rotated,
    /// The file shrank (cleared); what follows comes from its new start.
    Truncated,
}

/// What waiting on a follower gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    /// Something happened to the file.
    Event(Event),
    /// Nothing happened for the whole idle period (time for a heartbeat).
    Idle,
}

/// One follower of one log file.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    /// The open file; `None` before the first open and after a rotation.
    file: Option<File>,
    /// The inode of `file`, to tell a rotation from growth.
    inode: Option<u64>,
    /// Where to begin at the first successful open.
    start: Start,
    /// Whether `start` was used; later opens (after a rotation) begin at 0.
    opened: bool,
    /// The next byte of `file` to read.
    offset: u64,
    /// The most bytes one [`Event::Data`] carries.
    max_read: usize,
}

impl Follower {
    /// A follower of `path`, handing out at most `max_read` bytes at a time.
    pub fn new(path: PathBuf, start: Start, max_read: usize) -> Follower {
        Follower {
            path,
            file: None,
            inode: None,
            start,
            opened: false,
            offset: 0,
            max_read: max_read.max(1),
        }
    }

    /// The offset of the next byte to be read in the current file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next event if the file has one now. Blocking (a `stat`, maybe a
    /// read): call it from the blocking pool, as [`Follower::next`] does.
    pub fn step(&mut self) -> Option<Event> {
        let meta = std::fs::metadata(&self.path).ok().filter(|m| m.is_file());
        if let Some(inode) = self.inode
            && meta.as_ref().is_none_or(|m| m.ino() != inode)
        {
            // Rotated (or removed): first what the old file still got, so
            // the lines written just before the rotation are not lost.
            if let Some(data) = self.read_more() {
                return Some(data);
            }
            self.file = None;
            self.inode = None;
            self.offset = 0;
            return Some(Event::Rotated);
        }
        let meta = meta?;
        if self.file.is_none() {
            // Not opened yet, or the new file after a rotation. An open
            // that fails is tried again at the next poll, with the same
            // starting point.
            let file = File::open(&self.path).ok()?;
            self.file = Some(file);
            self.inode = Some(meta.ino());
            if !self.opened {
                self.opened = true;
                match self.start {
                    Start::End => self.offset = meta.len(),
                    Start::LastBytes(n) => self.offset = meta.len().saturating_sub(n),
                    // Cleared or rotated since the reader saw it.
                    Start::Offset(start) if start > meta.len() => {
                        self.offset = 0;
                        return Some(Event::Truncated);
                    }
                    Start::Offset(start) => self.offset = start,
                }
            }
        }
        if meta.len() < self.offset {
            self.offset = 0;
            return Some(Event::Truncated);
        }
        self.read_more()
    }

    /// What the open file holds past the offset, if anything.
    fn read_more(&mut self) -> Option<Event> {
        let file = self.file.as_mut()?;
        // The open file's own size: after a rotation the path names another.
        let len = file.metadata().ok()?.len();
        if len <= self.offset {
            return None;
        }
        let want = usize::try_from(len - self.offset)
            .unwrap_or(usize::MAX)
            .min(self.max_read);
        let mut buf = vec![0u8; want];
        let n = file
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| file.read(&mut buf))
            .ok()
            .filter(|&n| n > 0)?;
        buf.truncate(n);
        self.offset += n as u64;
        Some(Event::Data(Bytes::from(buf)))
    }

    /// Wait for the next event, looking every [`FOLLOW_POLL`]; after `idle`
    /// without one (when given), [`Waited::Idle`]. Each look runs on the
    /// blocking pool. `None` if that pool failed the look (a panic), which
    /// ends the stream.
    pub async fn next(mut self, idle: Option<Duration>) -> Option<(Follower, Waited)> {
        let idle_until = idle.map(|idle| Instant::now() + idle);
        loop {
            let (back, event) = tokio::task::spawn_blocking(move || {
                let event = self.step();
                (self, event)
            })
            .await
            .ok()?;
            self = back;
            if let Some(event) = event {
                return Some((self, Waited::Event(event)));
            }
            if idle_until.is_some_and(|until| Instant::now() >= until) {
                return Some((self, Waited::Idle));
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn data(text: &str) -> Option<Event> {
        Some(Event::Data(Bytes::copy_from_slice(text.as_bytes())))
    }

    #[test]
    fn a_rotated_file_is_drained_before_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"one\n").unwrap();
        let mut follower = Follower::new(path.clone(), Start::Offset(0), 1 << 20);
        assert_eq!(follower.step(), data("one\n"));
        assert_eq!(follower.step(), None);
        // Written just before the rotation, then rotated, then new output.
        let mut old = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        old.write_all(b"two\n").unwrap();
        std::fs::rename(&path, dir.path().join("x.log.1")).unwrap();
        std::fs::write(&path, b"three\n").unwrap();
        assert_eq!(follower.step(), data("two\n"));
        assert_eq!(follower.step(), Some(Event::Rotated));
        assert_eq!(follower.step(), data("three\n"));
        assert_eq!(follower.offset(), 6);
        // Cleared: truncated, then what comes.
        std::fs::write(&path, b"").unwrap();
        assert_eq!(follower.step(), Some(Event::Truncated));
        std::fs::write(&path, b"4\n").unwrap();
        assert_eq!(follower.step(), data("4\n"));
    }

    #[test]
    fn a_start_past_the_end_is_a_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"new\n").unwrap();
        // The reader had 100 bytes of a file since cleared.
        let mut follower = Follower::new(path.clone(), Start::Offset(100), 1 << 20);
        assert_eq!(follower.step(), Some(Event::Truncated));
        assert_eq!(follower.step(), data("new\n"));
        // From the end: nothing until something is written.
        let mut follower = Follower::new(path, Start::End, 1 << 20);
        assert_eq!(follower.step(), None);
    }

    #[test]
    fn last_bytes_then_growth_in_bounded_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut follower = Follower::new(path.clone(), Start::LastBytes(4), 3);
        assert_eq!(follower.step(), data("678"));
        assert_eq!(follower.step(), data("9"));
        assert_eq!(follower.step(), None);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"ab")
            .unwrap();
        assert_eq!(follower.step(), data("ab"));
    }

    #[test]
    fn a_missing_file_is_waited_for_and_read_from_its_start_after_a_removal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut follower = Follower::new(path.clone(), Start::LastBytes(1024), 1 << 20);
        assert_eq!(follower.step(), None, "not there yet");
        std::fs::write(&path, b"first\n").unwrap();
        assert_eq!(follower.step(), data("first\n"));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(follower.step(), Some(Event::Rotated));
        assert_eq!(follower.step(), None);
        std::fs::write(&path, b"second\n").unwrap();
        assert_eq!(
            follower.step(),
            data("second\n"),
            "from the new file's start"
        );
    }

    #[test]
    fn what_is_not_a_regular_file_is_never_read() {
        let mut follower = Follower::new(PathBuf::from("/dev/null"), Start::Offset(0), 1024);
        assert_eq!(follower.step(), None);
    }

    #[tokio::test]
    async fn next_reports_idle_after_the_idle_period() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"x").unwrap();
        let follower = Follower::new(path, Start::End, 1024);
        let (_, waited) = follower
            .next(Some(Duration::from_millis(1)))
            .await
            .expect("the blocking pool works");
        assert_eq!(waited, Waited::Idle);
    }
}
