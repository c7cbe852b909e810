//! A child's stdin: the bytes `sendProcessStdin` sends and the event
//! envelopes a listener is given. When nothing waits, they are written into
//! the pipe at once, in the caller's turn (a listener's next event goes out
//! in the same turn as its READY is read, as Supervisor writes it from
//! `process.write`); what the pipe cannot take at once is queued for a
//! writer task, so a child that does not read never blocks the daemon.
//!
//! The queue is bounded ([`STDIN_QUEUE_LIMIT`]): a client cannot make the
//! daemon hold more than that for a child that never reads (Supervisor
//! queues without limit). A call into an empty queue is always taken, so
//! one call of any size the HTTP body limit admits works as in Supervisor.

use std::borrow::Cow;
use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::rc::Rc;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

/// The most bytes queued for one child's stdin, not yet written into its
/// pipe, before `sendProcessStdin` is refused (the pipe's own 64 KiB
/// buffer comes on top).
pub const STDIN_QUEUE_LIMIT: usize = 4 << 20;

/// Why bytes could not be queued for a child's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StdinError {
    /// The child closed its stdin (the writer saw EPIPE) or has none.
    #[error("stdin closed")]
    Closed,
    /// Earlier bytes still wait for the child to read them.
    #[error(
        "stdin queue full: {queued} bytes not yet read by the child (limit {STDIN_QUEUE_LIMIT})"
    )]
    Full {
        /// Bytes queued and not yet written into the pipe.
        queued: usize,
    },
}

/// A child's stdin pipe. The writer task and its queue start on first use:
/// most children never get input, and a task, a channel and a poll
/// registration for each of 1000 children would cost about 2 KB apiece.
#[derive(Debug)]
pub struct StdinPipe {
    /// The pipe end until the writer takes it.
    idle: Option<OwnedFd>,
    writer: Option<StdinQueue>,
}

impl StdinPipe {
    pub fn new(fd: OwnedFd) -> Self {
        StdinPipe {
            idle: Some(fd),
            writer: None,
        }
    }

    /// The queue to the child's stdin, starting its writer if needed
    /// (on the actor's thread).
    pub fn sender(&mut self) -> Option<StdinQueue> {
        if let Some(fd) = self.idle.take() {
            self.writer = Some(start_stdin_writer(fd));
        }
        self.writer.clone()
    }
}

/// The sending side of a child's stdin queue.
#[derive(Debug, Clone)]
pub struct StdinQueue {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    /// Bytes sent and not yet written into the pipe (the writer counts
    /// them down as it writes). Zero means the writer has nothing in hand,
    /// so a direct write cannot overtake earlier bytes.
    queued: Rc<Cell<usize>>,
    /// The pipe, shared with the writer, for those direct writes (none when
    /// it could not be made non-blocking or registered: then everything
    /// goes through the queue, whose writer is gone, and is refused).
    fd: Option<Rc<AsyncFd<OwnedFd>>>,
}

impl StdinQueue {
    /// A client's bytes (`sendProcessStdin`): refused when earlier bytes
    /// still wait and the total would pass [`STDIN_QUEUE_LIMIT`].
    pub fn send(&self, data: Vec<u8>) -> Result<(), StdinError> {
        let queued = self.queued.get();
        if queued > 0 && queued.saturating_add(data.len()) > STDIN_QUEUE_LIMIT {
            return Err(StdinError::Full { queued });
        }
        self.push(Cow::Owned(data))
    }

    /// An event envelope for a listener: never refused for size, since a
    /// listener is given one event at a time. Copied only if the pipe
    /// cannot take it whole at once.
    pub fn send_event(&self, data: &[u8]) -> Result<(), StdinError> {
        self.push(Cow::Borrowed(data))
    }

    fn push(&self, data: Cow<'_, [u8]>) -> Result<(), StdinError> {
        let written = match &self.fd {
            Some(fd) if self.queued.get() == 0 && !self.tx.is_closed() => {
                write_now(fd.get_ref(), &data)
            }
            _ => 0,
        };
        if written == data.len() {
            return Ok(());
        }
        // The rest waits for room; an error (EPIPE) is left to the writer,
        // which closes the queue, exactly as for bytes it writes itself.
        let rest = match data {
            Cow::Owned(mut bytes) => {
                bytes.drain(..written);
                bytes
            }
            Cow::Borrowed(bytes) => bytes[written..].to_vec(),
        };
        let len = rest.len();
        self.tx.send(rest).map_err(|_| StdinError::Closed)?;
        self.queued.set(self.queued.get().saturating_add(len));
        Ok(())
    }
}

/// Write as much of `data` as the non-blocking pipe takes now; how much.
fn write_now(fd: &OwnedFd, data: &[u8]) -> usize {
    let mut written = 0;
    while written < data.len() {
        match nix::unistd::write(fd, &data[written..]) {
            Ok(n) => written += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    written
}

/// The writer of a child's stdin: it writes queued bytes when the pipe has
/// room. The queue closes when the child's stdin does (EPIPE).
fn start_stdin_writer(fd: OwnedFd) -> StdinQueue {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let queued = Rc::new(Cell::new(0usize));
    let mut queue = StdinQueue {
        tx,
        queued: queued.clone(),
        fd: None,
    };
    if nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .is_err()
    {
        return queue;
    }
    // SAFETY: the AsyncFd owns this open pipe end from here on.
    let Ok(async_fd) = (unsafe { AsyncFd::register_with_interest(fd, Interest::WRITABLE) }) else {
        return queue;
    };
    let async_fd = Rc::new(async_fd);
    queue.fd = Some(Rc::clone(&async_fd));
    tokio::task::spawn_local(async move {
        while let Some(data) = rx.recv().await {
            let mut rest = &data[..];
            while !rest.is_empty() {
                let Ok(mut guard) = async_fd.writable().await else {
                    return;
                };
                match nix::unistd::write(async_fd.get_ref(), rest) {
                    Ok(n) => {
                        rest = &rest[n..];
                        queued.set(queued.get().saturating_sub(n));
                    }
                    Err(nix::errno::Errno::EAGAIN) => guard.clear_ready(),
                    Err(nix::errno::Errno::EINTR) => {}
                    // EPIPE and friends: the child closed its stdin.
                    Err(_) => return,
                }
            }
        }
    });
    queue
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue with no writer: nothing is ever written, as for a child
    /// that never reads.
    fn stalled() -> (StdinQueue, mpsc::UnboundedReceiver<Vec<u8>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = StdinQueue {
            tx,
            queued: Rc::new(Cell::new(0)),
            fd: None,
        };
        (queue, rx)
    }

    #[test]
    fn client_bytes_are_bounded_but_one_call_into_an_empty_queue_is_taken() {
        let (queue, _rx) = stalled();
        assert_eq!(queue.send(vec![0; STDIN_QUEUE_LIMIT + 1]), Ok(()));
        assert_eq!(
            queue.send(vec![0; 1]),
            Err(StdinError::Full {
                queued: STDIN_QUEUE_LIMIT + 1
            })
        );
        let (queue, _rx) = stalled();
        assert_eq!(queue.send(vec![0; STDIN_QUEUE_LIMIT - 1]), Ok(()));
        assert_eq!(queue.send(vec![0; 1]), Ok(()), "exactly the limit");
        assert!(queue.send(vec![0; 1]).is_err());
        assert_eq!(queue.send_event(&[0; 100]), Ok(()), "events pass");
    }

    /// Run `body` on a current-thread runtime, as the actor runs.
    fn on_actor_thread(body: impl std::future::Future<Output = ()>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        tokio::task::LocalSet::new().block_on(&rt, body);
    }

    /// A pipe whose write end is a child's stdin, and its non-blocking read
    /// end (the child).
    fn child_stdin() -> (StdinPipe, OwnedFd) {
        let (read_end, write_end) = nix::unistd::pipe().expect("pipe");
        nix::fcntl::fcntl(
            &read_end,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .expect("non-blocking");
        (StdinPipe::new(write_end), read_end)
    }

    /// What the child can read now, without waiting.
    fn readable_now(fd: &OwnedFd) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = nix::unistd::read(fd, &mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// Regression (issue 19, the events cycle): an envelope waited in a
    /// channel for the writer task, i.e. for the actor's turn to end and
    /// the runtime to poll once more, before it reached the listener. It
    /// is now in the pipe before the caller yields even once.
    #[test]
    fn an_event_is_in_the_pipe_within_the_turn_that_sent_it() {
        on_actor_thread(async {
            let (mut pipe, child) = child_stdin();
            let queue = pipe.sender().expect("writer");
            let envelope = b"ver:3.0 server:supervisor serial:0 pool:p poolserial:0 eventname:TICK_5 len:4\nwhen";
            queue.send_event(envelope).expect("sent");
            assert_eq!(readable_now(&child), envelope, "no yield in between");
            queue.send(b"typed\n".to_vec()).expect("sent");
            assert_eq!(readable_now(&child), b"typed\n");
            assert_eq!(queue.queued.get(), 0);
        });
    }

    /// What the pipe cannot take at once waits for the writer, and later
    /// bytes queue behind it instead of overtaking it.
    #[test]
    fn bytes_beyond_the_pipe_queue_in_order() {
        on_actor_thread(async {
            let (mut pipe, child) = child_stdin();
            let queue = pipe.sender().expect("writer");
            let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            queue.send(big.clone()).expect("sent");
            assert!(queue.queued.get() > 0, "a 64 KiB pipe cannot take it all");
            queue.send_event(b"after").expect("queued behind");
            let mut expected = big;
            expected.extend_from_slice(b"after");
            let mut got = Vec::new();
            // Each round the child reads what is there and the writer task
            // refills the pipe; a few rounds of 64 KiB suffice.
            for _ in 0..1000 {
                got.extend(readable_now(&child));
                if got.len() >= expected.len() {
                    break;
                }
                tokio::task::yield_now().await;
            }
            assert_eq!(got.len(), expected.len());
            assert!(got == expected, "bytes out of order");
            assert_eq!(queue.queued.get(), 0);
        });
    }

    #[test]
    fn a_closed_stdin_refuses_everything() {
        let (queue, rx) = stalled();
        drop(rx);
        assert_eq!(queue.send(vec![1]), Err(StdinError::Closed));
        assert_eq!(queue.send_event(&[1]), Err(StdinError::Closed));
    }
}
