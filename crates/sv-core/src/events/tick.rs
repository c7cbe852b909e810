//! TICK_5 / TICK_60 / TICK_3600: which periods' time slices changed since
//! the last evaluation, and when the next boundary falls.

use super::Event;

/// The TICK periods, shortest first.
pub const TICK_PERIODS: [u32; 3] = [5, 60, 3600];

/// Supervisor's `tick()`: which TICK events are due.
#[derive(Debug, Clone, Default)]
pub struct Ticks {
    last: Option<[i64; 3]>,
}

/// Supervisor's `timeslice`: the start of the period containing `when`.
pub fn timeslice(period: u32, when: f64) -> i64 {
    let p = f64::from(period);
    (when - when.rem_euclid(p)) as i64
}

impl Ticks {
    /// Nothing recorded yet: the first evaluation only records the slices.
    pub fn new() -> Ticks {
        Ticks::default()
    }

    /// Evaluate at wall-clock time `now` (Unix seconds). The first
    /// evaluation only records the current slices; later ones emit a TICK
    /// for each period whose slice changed (once, however late).
    pub fn evaluate(&mut self, now: f64) -> Vec<Event> {
        let slices = TICK_PERIODS.map(|p| timeslice(p, now));
        let Some(last) = self.last.as_mut() else {
            self.last = Some(slices);
            return Vec::new();
        };
        let mut due = Vec::new();
        for (i, period) in TICK_PERIODS.into_iter().enumerate() {
            if slices[i] != last[i] {
                last[i] = slices[i];
                due.push(Event::Tick {
                    period,
                    when: slices[i],
                });
            }
        }
        due
    }

    /// Forget the recorded slices (no subscriber is left).
    pub fn clear(&mut self) {
        self.last = None;
    }

    /// The wall-clock time of the next slice boundary after `now` (every
    /// period is a multiple of the shortest).
    pub fn next_due(now: f64) -> f64 {
        (timeslice(TICK_PERIODS[0], now) + i64::from(TICK_PERIODS[0])) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_record_first_then_fire_once_per_changed_slice() {
        let mut t = Ticks::new();
        assert!(t.evaluate(1_000_003.5).is_empty());
        assert!(t.evaluate(1_000_004.9).is_empty());
        assert_eq!(
            t.evaluate(1_000_005.0),
            [Event::Tick {
                period: 5,
                when: 1_000_005
            }]
        );
        // Late by many slices: one tick each, no catch-up.
        let got = t.evaluate(1_003_600.2);
        assert_eq!(
            got,
            [
                Event::Tick {
                    period: 5,
                    when: 1_003_600
                },
                Event::Tick {
                    period: 60,
                    when: 1_003_560
                },
                Event::Tick {
                    period: 3600,
                    when: 1_000_800
                },
            ]
        );
        assert_eq!(Ticks::next_due(1_000_003.5), 1_000_005.0);
        assert_eq!(Ticks::next_due(1_000_005.0), 1_000_010.0);
        assert_eq!(timeslice(60, 1795305425.7), 1795305420);
    }
}
