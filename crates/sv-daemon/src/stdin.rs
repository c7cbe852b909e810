//! A child's stdin: the bytes `sendProcessStdin` sends and the event
//! envelopes a listener is given, queued for a writer task so a child that
//! does not read never blocks the daemon.
//!
//! The queue is bounded ([`STDIN_QUEUE_LIMIT`]): a client cannot make the
//! daemon hold more than that for a child that never reads (Supervisor
//! queues without limit). A call into an empty queue is always taken, so
//! one call of any size the HTTP body limit admits works as in Supervisor.

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
    /// them down as it writes).
    queued: Rc<Cell<usize>>,
}

impl StdinQueue {
    /// A client's bytes (`sendProcessStdin`): refused when earlier bytes
    /// still wait and the total would pass [`STDIN_QUEUE_LIMIT`].
    pub fn send(&self, data: Vec<u8>) -> Result<(), StdinError> {
        let queued = self.queued.get();
        if queued > 0 && queued.saturating_add(data.len()) > STDIN_QUEUE_LIMIT {
            return Err(StdinError::Full { queued });
        }
        self.push(data)
    }

    /// An event envelope for a listener: never refused for size, since a
    /// listener is given one event at a time.
    pub fn send_event(&self, data: Vec<u8>) -> Result<(), StdinError> {
        self.push(data)
    }

    fn push(&self, data: Vec<u8>) -> Result<(), StdinError> {
        let len = data.len();
        self.tx.send(data).map_err(|_| StdinError::Closed)?;
        self.queued.set(self.queued.get().saturating_add(len));
        Ok(())
    }
}

/// The writer of a child's stdin: it writes queued bytes when the pipe has
/// room. The queue closes when the child's stdin does (EPIPE).
fn start_stdin_writer(fd: OwnedFd) -> StdinQueue {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let queued = Rc::new(Cell::new(0usize));
    let queue = StdinQueue {
        tx,
        queued: queued.clone(),
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
        assert_eq!(queue.send_event(vec![0; 100]), Ok(()), "events pass");
    }

    #[test]
    fn a_closed_stdin_refuses_everything() {
        let (queue, rx) = stalled();
        drop(rx);
        assert_eq!(queue.send(vec![1]), Err(StdinError::Closed));
        assert_eq!(queue.send_event(vec![1]), Err(StdinError::Closed));
    }
}
