//! Pools and the hub: which pools subscribe to an event, the global and
//! per-pool serials (both wrap as Supervisor's do), each pool's bounded
//! buffer, and the dispatch of buffered events to the first free listener.

use std::collections::VecDeque;
use std::rc::Rc;

use sv_api::EventListenerState;

use super::{Event, EventType, Listener, LogLines, envelope};
use crate::config::LogLevel;

/// An event with its global serial, shared by every pool that took it.
#[derive(Debug)]
pub struct Stamped {
    /// The global serial (`serial:` in the envelope).
    pub serial: u64,
    /// The event itself.
    pub event: Event,
    /// The payload, rendered once.
    pub payload: String,
}

/// An event in one pool's buffer (or assigned to one of its listeners).
#[derive(Debug, Clone)]
pub struct Queued {
    /// The event and its global serial, shared with the other pools.
    pub stamped: Rc<Stamped>,
    /// This pool's serial for it (`poolserial:` in the envelope).
    pub pool_serial: u64,
}

impl Queued {
    /// The event's global serial.
    pub fn serial(&self) -> u64 {
        self.stamped.serial
    }
}

/// Supervisor's serials wrap from `sys.maxsize` to 0.
fn next_serial(last: &mut Option<u64>) -> u64 {
    let next = match *last {
        Some(n) if n < i64::MAX as u64 => n + 1,
        _ => 0,
    };
    *last = Some(next);
    next
}

/// One `[eventlistener:x]` pool: its subscriptions and its buffer.
#[derive(Debug)]
pub struct Pool {
    /// The pool's name (the `[eventlistener:x]` section name after the colon).
    pub name: String,
    buffer_size: usize,
    subscriptions: Vec<EventType>,
    buffer: VecDeque<Queued>,
    serial: Option<u64>,
}

impl Pool {
    /// `events` are type names as configured (unknown names are ignored:
    /// the config loader has refused them already).
    pub fn new(name: &str, buffer_size: i64, events: &[String]) -> Pool {
        Pool {
            name: name.to_string(),
            buffer_size: buffer_size.max(0) as usize,
            subscriptions: events.iter().filter_map(|e| EventType::parse(e)).collect(),
            buffer: VecDeque::new(),
            serial: None,
        }
    }

    /// Whether this pool receives events of `event_type` (it subscribed to the type or an ancestor).
    pub fn subscribes(&self, event_type: EventType) -> bool {
        self.subscriptions.iter().any(|s| event_type.is_a(*s))
    }

    /// Whether any TICK type reaches this pool (so the daemon must evaluate ticks).
    pub fn subscribes_to_ticks(&self) -> bool {
        [EventType::Tick5, EventType::Tick60, EventType::Tick3600]
            .into_iter()
            .any(|t| self.subscribes(t))
    }

    /// Events waiting for a listener.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Serials of the buffered events, oldest first.
    pub fn buffered_serials(&self) -> Vec<u64> {
        self.buffer.iter().map(Queued::serial).collect()
    }

    /// Supervisor's `_acceptEvent` for an event seen for the first time.
    fn accept_new(&mut self, stamped: Rc<Stamped>, log: &mut LogLines) {
        let pool_serial = next_serial(&mut self.serial);
        self.push(
            Queued {
                stamped,
                pool_serial,
            },
            false,
            log,
        );
    }

    /// Put back an event this pool had already accepted (a rejection, a
    /// listener that died, or no free listener), at the head of the buffer.
    pub fn requeue(&mut self, queued: Queued, log: &mut LogLines) {
        log.push((
            LogLevel::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                queued.serial(),
                self.name,
                self.buffer.len(),
                self.buffer_size
            ),
        ));
        self.push(queued, true, log);
    }

    fn push(&mut self, queued: Queued, head: bool, log: &mut LogLines) {
        if self.buffer.len() >= self.buffer_size
            && let Some(discarded) = self.buffer.pop_front()
        {
            log.push((
                LogLevel::Error,
                format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name,
                    discarded.serial()
                ),
            ));
        }
        if head {
            self.buffer.push_front(queued);
        } else {
            self.buffer.push_back(queued);
        }
    }

    /// Supervisor's `dispatch`: hand the buffered events, oldest first, to
    /// the first listener (in config order) that is RUNNING and READY.
    ///
    /// `listeners` are the pool's listeners in config order, each with
    /// whether its process is RUNNING; `write(i, envelope)` queues the
    /// envelope on listener `i`'s stdin and returns false when its stdin is
    /// closed (Supervisor's EPIPE). Stops at the first event no listener
    /// takes, which goes back to the head of the buffer.
    pub fn dispatch(
        &mut self,
        server: &str,
        listeners: &mut [(bool, &mut Listener)],
        mut write: impl FnMut(usize, &[u8]) -> bool,
        log: &mut LogLines,
    ) {
        if !listeners
            .iter()
            .any(|(running, l)| *running && l.state() == EventListenerState::Ready)
        {
            return;
        }
        while let Some(queued) = self.buffer.pop_front() {
            let mut sent = false;
            for (i, (running, listener)) in listeners.iter_mut().enumerate() {
                if !*running || listener.state() != EventListenerState::Ready {
                    continue;
                }
                let stamped = &queued.stamped;
                let text = envelope(
                    server,
                    stamped.serial,
                    &self.name,
                    queued.pool_serial,
                    stamped.event.event_type(),
                    &stamped.payload,
                );
                if !write(i, text.as_bytes()) {
                    log.push((
                        LogLevel::Debug,
                        format!(
                            "epipe occurred while sending event {} to listener {}, listener state unchanged",
                            stamped.serial, listener.name
                        ),
                    ));
                    continue;
                }
                listener.sent(queued.clone());
                log.push((
                    LogLevel::Debug,
                    format!(
                        "event {} sent to listener {}",
                        stamped.serial, listener.name
                    ),
                ));
                sent = true;
                break;
            }
            if !sent {
                self.requeue(queued, log);
                break;
            }
        }
    }
}

/// Every pool in subscription order, and the global serial.
#[derive(Debug, Default)]
pub struct Hub {
    pools: Vec<Pool>,
    serial: Option<u64>,
}

impl Hub {
    /// A hub with no pools whose first serial will be 0.
    pub fn new() -> Hub {
        Hub::default()
    }

    /// A hub whose global serial goes on after `last` (a restart keeps the
    /// counter; the pools and their serials start over).
    pub fn continuing(last: Option<u64>) -> Hub {
        Hub {
            pools: Vec::new(),
            serial: last,
        }
    }

    /// The last global serial handed out.
    pub fn last_serial(&self) -> Option<u64> {
        self.serial
    }

    /// Subscribe a pool (Supervisor subscribes when the pool is created, so
    /// later pools come later in its callback list).
    pub fn add_pool(&mut self, pool: Pool) {
        self.pools.retain(|p| p.name != pool.name);
        self.pools.push(pool);
    }

    /// Unsubscribe a pool; its buffered events are dropped.
    pub fn remove_pool(&mut self, name: &str) -> Option<Pool> {
        let index = self.pools.iter().position(|p| p.name == name)?;
        Some(self.pools.remove(index))
    }

    /// The pool named `name`.
    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.name == name)
    }

    /// The pool named `name`, to buffer into or dispatch from.
    pub fn pool_mut(&mut self, name: &str) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.name == name)
    }

    /// Every pool, in subscription order.
    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools.iter()
    }

    /// Whether any pool subscribes to some type of `event_type`'s (so a
    /// producer can skip building events nobody wants).
    pub fn wants(&self, event_type: EventType) -> bool {
        self.pools.iter().any(|p| p.subscribes(event_type))
    }

    /// Whether any pool receives TICK events.
    pub fn wants_ticks(&self) -> bool {
        self.pools.iter().any(Pool::subscribes_to_ticks)
    }

    /// Supervisor's `notify`: every subscribed pool accepts the event. The
    /// global serial is taken only if some pool does. Returns the names of
    /// the pools that took it (to dispatch).
    pub fn notify(&mut self, event: Event, log: &mut LogLines) -> Vec<String> {
        let event_type = event.event_type();
        // The event (a log chunk's bytes included) moves into the one
        // stamped copy every taking pool shares; it is never cloned.
        let mut event = Some(event);
        let mut stamped: Option<Rc<Stamped>> = None;
        let mut takers = Vec::new();
        for pool in &mut self.pools {
            if !pool.subscribes(event_type) {
                continue;
            }
            let shared = match (&stamped, event.take()) {
                (Some(s), _) => s.clone(),
                (None, Some(event)) => {
                    let serial = next_serial(&mut self.serial);
                    let payload = event.payload();
                    let s = Rc::new(Stamped {
                        serial,
                        event,
                        payload,
                    });
                    stamped = Some(s.clone());
                    s
                }
                // The event is taken exactly when the first copy is made.
                (None, None) => break,
            };
            pool.accept_new(shared, log);
            takers.push(pool.name.clone());
        }
        takers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::testkit::*;
    use crate::process::State;

    #[test]
    fn serials_are_global_and_per_pool_and_taken_only_when_accepted() {
        let mut hub = Hub::new();
        hub.add_pool(Pool::new("a", 10, &["PROCESS_STATE".into()]));
        hub.add_pool(Pool::new("b", 10, &["event".into()]));
        let mut log = Vec::new();
        assert_eq!(hub.notify(Event::SupervisorRunning, &mut log), ["b"]);
        assert_eq!(
            hub.notify(state(State::Starting, State::Stopped, true, 0, 0), &mut log),
            ["a", "b"]
        );
        // Nobody takes a TICK... except b; and an event nobody wants takes no serial.
        let mut hub2 = Hub::new();
        hub2.add_pool(Pool::new("a", 10, &["TICK_5".into()]));
        assert!(hub2.notify(Event::SupervisorRunning, &mut log).is_empty());
        hub2.notify(Event::Tick { period: 5, when: 5 }, &mut log);
        assert_eq!(hub2.pool("a").unwrap().buffered_serials(), [0]);

        assert_eq!(hub.pool("a").unwrap().buffered_serials(), [1]);
        assert_eq!(hub.pool("b").unwrap().buffered_serials(), [0, 1]);
        let mut ls = names(1);
        ready(&mut ls[0]);
        let sent = dispatch_all(hub.pool_mut("a").unwrap(), &mut ls, &mut log);
        assert_eq!(
            sent[0].1,
            "ver:3.0 server:sv serial:1 pool:a poolserial:0 eventname:PROCESS_STATE_STARTING len:56\nprocessname:cat groupname:grp from_state:STOPPED tries:0"
        );
        assert!(log.is_empty() || log.iter().all(|(l, _)| *l == LogLevel::Debug));
    }

    #[test]
    fn overflow_discards_the_oldest_with_supervisors_line() {
        let mut hub = Hub::new();
        hub.add_pool(Pool::new("p", 2, &["EVENT".into()]));
        let mut log = Vec::new();
        for i in 0..3 {
            hub.notify(Event::GroupAdded(format!("g{i}")), &mut log);
        }
        assert_eq!(hub.pool("p").unwrap().buffered_serials(), [1, 2]);
        assert_eq!(
            log,
            [(
                LogLevel::Error,
                "pool p event buffer overflowed, discarding event 0".to_string()
            )]
        );
    }

    #[test]
    fn dispatch_goes_to_the_first_free_listener_and_requeues_when_none_is() {
        let mut pool = Pool::new("p", 10, &["EVENT".into()]);
        let mut hub = Hub::new();
        hub.add_pool(pool);
        let mut log = Vec::new();
        for i in 0..3 {
            hub.notify(Event::GroupAdded(format!("g{i}")), &mut log);
        }
        pool = hub.remove_pool("p").unwrap();
        let mut ls = names(3);
        ready(&mut ls[1]);
        ready(&mut ls[2]);
        let mut log = Vec::new();
        let sent = dispatch_all(&mut pool, &mut ls, &mut log);
        assert_eq!(sent.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(ls[1].state(), EventListenerState::Busy);
        assert_eq!(ls[1].event().unwrap().serial(), 0);
        assert_eq!(pool.buffered_serials(), [2]);
        assert_eq!(
            log,
            [
                (LogLevel::Debug, "event 0 sent to listener l1".to_string()),
                (LogLevel::Debug, "event 1 sent to listener l2".to_string()),
                (
                    LogLevel::Debug,
                    "rebuffering event 2 for pool p (buf size=0, max=10)".to_string()
                ),
            ]
        );
        // Nobody READY: dispatch does nothing at all (no rebuffering line).
        let mut log = Vec::new();
        assert!(dispatch_all(&mut pool, &mut ls, &mut log).is_empty());
        assert!(log.is_empty());
    }

    #[test]
    fn a_listener_not_running_or_with_a_closed_stdin_is_skipped() {
        let mut hub = Hub::new();
        hub.add_pool(Pool::new("p", 10, &["EVENT".into()]));
        let mut log = Vec::new();
        hub.notify(Event::SupervisorRunning, &mut log);
        let mut pool = hub.remove_pool("p").unwrap();
        let mut ls = names(3);
        for l in &mut ls {
            ready(l);
        }
        let (a, rest) = ls.split_at_mut(1);
        let (b, c) = rest.split_at_mut(1);
        let mut slots = vec![(false, &mut a[0]), (true, &mut b[0]), (true, &mut c[0])];
        let mut log = Vec::new();
        let mut tried = Vec::new();
        pool.dispatch(
            "sv",
            &mut slots,
            |i, _| {
                tried.push(i);
                i != 1
            },
            &mut log,
        );
        assert_eq!(tried, [1, 2]);
        assert_eq!(
            log,
            [
                (
                    LogLevel::Debug,
                    "epipe occurred while sending event 0 to listener l1, listener state unchanged"
                        .to_string()
                ),
                (LogLevel::Debug, "event 0 sent to listener l2".to_string()),
            ]
        );
        assert_eq!(ls[1].state(), EventListenerState::Ready);
        assert_eq!(ls[2].state(), EventListenerState::Busy);
    }

    /// A pool with one listener that was sent event 0.
    #[test]
    fn a_dead_listeners_event_is_taken_back_and_keeps_its_serials() {
        let (mut pool, mut l) = busy_listener();
        let q = l.take_event().unwrap();
        let mut log = Vec::new();
        pool.requeue(q, &mut log);
        assert_eq!(
            log,
            [dbg("rebuffering event 0 for pool p (buf size=0, max=10)")]
        );
        l.reset();
        feed(&mut l, b"READY\n");
        let mut ls = vec![l];
        let sent = dispatch_all(&mut pool, &mut ls, &mut log);
        assert!(sent[0].1.contains("serial:0 pool:p poolserial:0 "));
    }

    #[test]
    fn requeue_into_a_full_buffer_discards_the_oldest_first() {
        let mut hub = Hub::new();
        hub.add_pool(Pool::new("p", 1, &["EVENT".into()]));
        let mut log = Vec::new();
        hub.notify(Event::SupervisorRunning, &mut log);
        let mut ls = names(1);
        ready(&mut ls[0]);
        dispatch_all(hub.pool_mut("p").unwrap(), &mut ls, &mut log);
        hub.notify(Event::SupervisorStopping, &mut log);
        let pool = hub.pool_mut("p").unwrap();
        let q = ls[0].take_event().unwrap();
        let mut log = Vec::new();
        pool.requeue(q, &mut log);
        assert_eq!(pool.buffered_serials(), [0]);
        assert_eq!(
            log,
            [
                dbg("rebuffering event 0 for pool p (buf size=1, max=1)"),
                (
                    LogLevel::Error,
                    "pool p event buffer overflowed, discarding event 1".to_string()
                )
            ]
        );
    }
}
