//! The state machine against Supervisor's transition table (spec §2.3–§2.5).

use proptest::prelude::*;

use super::*;

fn at(secs_f: f64) -> Now {
    Now {
        mono: Duration::from_secs_f64(secs_f),
        wall: 1_700_000_000 + secs_f as i64,
    }
}

fn proc_with(edit: impl FnOnce(&mut ProcessConfig)) -> Process {
    let mut config = ProcessConfig::with_defaults("web", "/bin/web");
    edit(&mut config);
    Process::new("web", config)
}

fn step(p: &mut Process, input: Input, t: f64) -> Vec<Effect> {
    p.step(input, at(t), true)
        .unwrap_or_else(|e| panic!("refused: {e}"))
}

fn states(fx: &[Effect]) -> Vec<(State, State)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StateChanged { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

fn logs(fx: &[Effect]) -> Vec<(LogLevel, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Log { level, message } => Some((*level, message.clone())),
            _ => None,
        })
        .collect()
}

fn signals(fx: &[Effect]) -> Vec<(i32, i32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Signal { pid, signal } => Some((*pid, *signal)),
            _ => None,
        })
        .collect()
}

fn spawns(fx: &[Effect]) -> usize {
    fx.iter().filter(|e| **e == Effect::Spawn).count()
}

/// Start and spawn with `pid` at time `t`.
fn started(p: &mut Process, pid: u32, t: f64) {
    let fx = step(p, Input::Start, t);
    assert_eq!(spawns(&fx), 1);
    step(p, Input::Spawned { pid }, t);
}

#[test]
fn state_codes_and_names_are_supervisors() {
    let table: Vec<(i32, &str)> = State::ALL.iter().map(|s| (s.code(), s.name())).collect();
    assert_eq!(
        table,
        [
            (0, "STOPPED"),
            (10, "STARTING"),
            (20, "RUNNING"),
            (30, "BACKOFF"),
            (40, "STOPPING"),
            (100, "EXITED"),
            (200, "FATAL"),
            (1000, "UNKNOWN")
        ]
    );
    let stopped: Vec<State> = State::ALL.into_iter().filter(|s| s.is_stopped()).collect();
    assert_eq!(
        stopped,
        [State::Stopped, State::Exited, State::Fatal, State::Unknown]
    );
}

#[test]
fn start_then_running_after_startsecs() {
    let mut p = proc_with(|_| {});
    assert!(p.wants_autostart());
    let fx = step(&mut p, Input::Start, 0.0);
    assert_eq!(states(&fx), [(State::Stopped, State::Starting)]);
    assert_eq!(spawns(&fx), 1);
    let fx = step(&mut p, Input::Spawned { pid: 42 }, 0.0);
    assert_eq!(
        logs(&fx),
        [(LogLevel::Info, "spawned: 'web' with pid 42".to_string())]
    );
    assert_eq!(p.deadline(), Some(Duration::from_secs(1)));
    // An early or stale deadline does nothing.
    assert!(step(&mut p, Input::Deadline, 0.5).is_empty());
    let fx = step(&mut p, Input::Deadline, 1.0);
    assert_eq!(states(&fx), [(State::Starting, State::Running)]);
    assert_eq!(
        logs(&fx),
        [(
            LogLevel::Info,
            "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)".to_string()
        )]
    );
    assert!(!p.wants_autostart(), "started once: autostart is spent");
}

#[test]
fn startsecs_zero_runs_at_once() {
    let mut p = proc_with(|c| c.startsecs = 0);
    started(&mut p, 7, 3.0);
    assert_eq!(p.deadline(), Some(Duration::from_secs(3)));
    let fx = step(&mut p, Input::Deadline, 3.0);
    assert_eq!(states(&fx), [(State::Starting, State::Running)]);
}

#[test]
fn backoff_follows_the_worked_example_then_fatal() {
    // spec §2.4: startretries=3 → 4 spawns, waits of 1, 2, 3 s, then FATAL.
    let mut p = proc_with(|c| c.startretries = 3);
    let mut t = 0.0;
    let mut spawned = 0;
    let mut fx = step(&mut p, Input::Start, t);
    loop {
        spawned += spawns(&fx);
        step(
            &mut p,
            Input::Spawned {
                pid: 100 + spawned as u32,
            },
            t,
        );
        let fx_exit = step(
            &mut p,
            Input::Exited {
                status: ExitStatus::Exited(1),
            },
            t + 0.1,
        );
        assert_eq!(
            logs(&fx_exit)[0],
            (
                LogLevel::Warn,
                "exited: web (exit status 1; not expected)".to_string()
            )
        );
        if p.state() == State::Fatal {
            assert_eq!(
                states(&fx_exit),
                [
                    (State::Starting, State::Backoff),
                    (State::Backoff, State::Fatal)
                ]
            );
            assert_eq!(
                logs(&fx_exit)[1].1,
                "gave up: web entered FATAL state, too many start retries too quickly"
            );
            break;
        }
        assert_eq!(p.state(), State::Backoff);
        assert_eq!(
            p.spawnerr(),
            Some("Exited too quickly (process log may have details)")
        );
        let wait = p.backoff() as f64;
        assert_eq!(p.deadline(), Some(Duration::from_secs_f64(t + 0.1 + wait)));
        t += 0.1 + wait;
        fx = step(&mut p, Input::Deadline, t);
        assert_eq!(states(&fx), [(State::Backoff, State::Starting)]);
        assert!(matches!(fx[0], Effect::StateChanged { tries, .. } if tries == p.backoff()));
    }
    assert_eq!(spawned, 4);
    assert_eq!(p.backoff(), 0, "give_up resets the counter");
    assert_eq!(p.deadline(), None);
}

#[test]
fn startretries_zero_means_one_attempt() {
    let mut p = proc_with(|c| c.startretries = 0);
    started(&mut p, 5, 0.0);
    step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(2),
        },
        0.2,
    );
    assert_eq!(p.state(), State::Fatal);
}

#[test]
fn spawn_error_goes_to_backoff() {
    let mut p = proc_with(|_| {});
    step(&mut p, Input::Start, 0.0);
    let fx = step(
        &mut p,
        Input::SpawnFailed {
            error: "can't find command 'nope'".into(),
        },
        0.0,
    );
    assert_eq!(logs(&fx)[0].1, "spawnerr: can't find command 'nope'");
    assert_eq!(states(&fx), [(State::Starting, State::Backoff)]);
    assert_eq!(p.spawnerr(), Some("can't find command 'nope'"));
}

#[test]
fn running_exit_expected_and_unexpected() {
    // autorestart=unexpected (the default): expected exit stays EXITED.
    let mut p = proc_with(|_| {});
    started(&mut p, 9, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(0),
        },
        5.0,
    );
    assert_eq!(states(&fx), [(State::Running, State::Exited)]);
    assert_eq!(
        logs(&fx),
        [(
            LogLevel::Info,
            "exited: web (exit status 0; expected)".to_string()
        )]
    );
    assert_eq!(p.exitstatus(), Some(0));
    assert_eq!(p.laststop_wall, 1_700_000_005);

    // An unexpected one restarts at once, with no tick.
    let mut p = proc_with(|_| {});
    started(&mut p, 9, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(3),
        },
        5.0,
    );
    assert_eq!(
        states(&fx),
        [
            (State::Running, State::Exited),
            (State::Exited, State::Starting)
        ]
    );
    assert!(matches!(
        fx.iter().find(|e| matches!(
            e,
            Effect::StateChanged {
                to: State::Exited,
                ..
            }
        )),
        Some(Effect::StateChanged {
            expected: false,
            ..
        })
    ));
    assert_eq!(spawns(&fx), 1);
    assert_eq!(p.spawnerr(), None, "spawn clears the previous spawnerr");
}

#[test]
fn autorestart_true_false_and_no_autospawn() {
    let mut p = proc_with(|c| c.autorestart = AutoRestart::Always);
    started(&mut p, 9, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(0),
        },
        2.0,
    );
    assert_eq!(spawns(&fx), 1);

    let mut p = proc_with(|c| c.autorestart = AutoRestart::Never);
    started(&mut p, 9, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(1),
        },
        2.0,
    );
    assert_eq!(spawns(&fx), 0);
    assert_eq!(p.state(), State::Exited);
    assert_eq!(p.spawnerr(), Some("Bad exit code 1"));

    // While the daemon shuts down nothing restarts.
    let mut p = proc_with(|c| c.autorestart = AutoRestart::Always);
    started(&mut p, 9, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    let fx = p
        .step(
            Input::Exited {
                status: ExitStatus::Exited(1),
            },
            at(2.0),
            false,
        )
        .unwrap();
    assert_eq!(spawns(&fx), 0);
}

#[test]
fn exit_after_startsecs_before_the_deadline_ran_goes_through_running() {
    let mut p = proc_with(|_| {});
    started(&mut p, 9, 0.0);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(0),
        },
        1.5,
    );
    assert_eq!(
        states(&fx),
        [
            (State::Starting, State::Running),
            (State::Running, State::Exited)
        ]
    );
}

#[test]
fn stop_sends_stopsignal_then_sigkill_after_stopwaitsecs() {
    let mut p = proc_with(|c| c.stopwaitsecs = 5);
    started(&mut p, 300, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    let fx = step(&mut p, Input::Stop, 10.0);
    assert_eq!(states(&fx), [(State::Running, State::Stopping)]);
    assert_eq!(signals(&fx), [(300, 15)]);
    assert_eq!(p.deadline(), Some(Duration::from_secs(15)));
    // A second stop while stopping changes nothing.
    assert!(step(&mut p, Input::Stop, 11.0).is_empty());
    let fx = step(&mut p, Input::Deadline, 15.0);
    assert_eq!(
        logs(&fx)[0],
        (
            LogLevel::Warn,
            "killing 'web' (300) with SIGKILL".to_string()
        )
    );
    assert_eq!(signals(&fx), [(300, 9)]);
    assert_eq!(
        p.deadline(),
        Some(Duration::from_secs(20)),
        "SIGKILL repeats"
    );
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Signaled {
                signal: 9,
                core_dumped: false,
            },
        },
        16.0,
    );
    assert_eq!(states(&fx), [(State::Stopping, State::Stopped)]);
    assert_eq!(
        logs(&fx),
        [(
            LogLevel::Warn,
            "stopped: web (terminated by SIGKILL)".to_string()
        )]
    );
    assert_eq!(p.exitstatus(), Some(-1));
    assert_eq!(p.pid(), 0);
    assert!(p.administrative_stop);
    assert!(
        !p.wants_autostart(),
        "an operator's stop is not undone by autostart"
    );
}

/// Issue 15, hole 2: a signal the kernel refuses (EPERM…) is logged and
/// changes nothing — not the state, not the pid, not a stop's SIGKILL
/// deadline (Supervisor went to UNKNOWN and forgot the pid, orphaning the
/// child and breaking stop and start).
#[test]
fn a_failed_signal_changes_no_state() {
    let mut p = proc_with(|c| c.stopwaitsecs = 5);
    started(&mut p, 300, 0.0);
    step(&mut p, Input::Deadline, 1.0);
    step(&mut p, Input::Signal { signal: 34 }, 2.0);
    let fx = step(
        &mut p,
        Input::SignalFailed {
            error: "Operation not permitted".into(),
        },
        2.0,
    );
    assert!(states(&fx).is_empty());
    assert_eq!(
        logs(&fx),
        [(
            LogLevel::Critical,
            "unknown problem sending sig web (300):Operation not permitted".to_string()
        )]
    );
    assert_eq!((p.state(), p.pid()), (State::Running, 300));

    step(&mut p, Input::Stop, 10.0);
    let fx = step(
        &mut p,
        Input::SignalFailed {
            error: "Operation not permitted".into(),
        },
        10.0,
    );
    assert!(states(&fx).is_empty());
    assert_eq!(
        logs(&fx)[0].1,
        "unknown problem killing web (300):Operation not permitted"
    );
    assert_eq!((p.state(), p.pid()), (State::Stopping, 300));
    assert_eq!(
        p.deadline(),
        Some(Duration::from_secs(15)),
        "SIGKILL still follows"
    );
    assert_eq!(signals(&step(&mut p, Input::Deadline, 15.0)), [(300, 9)]);
}

#[test]
fn stop_and_kill_as_group() {
    let mut p = proc_with(|c| {
        c.stopasgroup = true;
        c.killasgroup = true;
        c.stopwaitsecs = 1;
    });
    started(&mut p, 300, 0.0);
    assert_eq!(signals(&step(&mut p, Input::Stop, 0.5)), [(-300, 15)]);
    assert_eq!(signals(&step(&mut p, Input::Deadline, 1.5)), [(-300, 9)]);

    let mut p = proc_with(|c| {
        c.killasgroup = true;
        c.stopwaitsecs = 1;
    });
    started(&mut p, 300, 0.0);
    assert_eq!(
        signals(&step(&mut p, Input::Stop, 0.5)),
        [(300, 15)],
        "stopasgroup=false"
    );
    assert_eq!(
        signals(&step(&mut p, Input::Deadline, 1.5)),
        [(-300, 9)],
        "killasgroup=true"
    );
}

#[test]
fn stop_out_of_backoff_and_not_running() {
    let mut p = proc_with(|_| {});
    started(&mut p, 9, 0.0);
    step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(1),
        },
        0.1,
    );
    let fx = step(&mut p, Input::Stop, 0.2);
    assert_eq!(states(&fx), [(State::Backoff, State::Stopped)]);
    assert!(signals(&fx).is_empty());
    assert_eq!(p.deadline(), None, "no retry after an operator's stop");
    assert_eq!(
        p.backoff(),
        1,
        "Supervisor keeps the counter (spec §2.3 notes)"
    );

    let err = p.step(Input::Stop, at(1.0), true).unwrap_err();
    assert_eq!(
        err,
        Refused::NotRunning("attempted to kill web with sig SIGTERM but it wasn't running".into())
    );
}

#[test]
fn refused_inputs_change_nothing() {
    let mut p = proc_with(|_| {});
    assert!(p.step(Input::GiveUp, at(0.0), true).is_err());
    assert!(p.step(Input::Spawned { pid: 1 }, at(0.0), true).is_err());
    assert!(
        p.step(
            Input::Exited {
                status: ExitStatus::Exited(0)
            },
            at(0.0),
            true
        )
        .is_err()
    );
    assert!(p.step(Input::Signal { signal: 1 }, at(0.0), true).is_err());
    assert_eq!(p.state(), State::Stopped);
    started(&mut p, 9, 0.0);
    let fx = step(&mut p, Input::Start, 0.5);
    assert_eq!(
        logs(&fx),
        [(LogLevel::Warn, "process 'web' already running".to_string())]
    );
    assert_eq!(p.state(), State::Starting);
}

#[test]
fn give_up_and_signal() {
    let mut p = proc_with(|_| {});
    started(&mut p, 9, 0.0);
    let fx = step(&mut p, Input::Signal { signal: 1 }, 0.5);
    assert_eq!(signals(&fx), [(9, 1)]);
    assert_eq!(logs(&fx)[0].1, "sending web (pid 9) sig SIGHUP");
    step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(1),
        },
        0.6,
    );
    let fx = step(&mut p, Input::GiveUp, 0.7);
    assert_eq!(states(&fx), [(State::Backoff, State::Fatal)]);
}

#[test]
fn wait_messages() {
    assert_eq!(ExitStatus::Exited(3).decode(), (3, "exit status 3".into()));
    assert_eq!(
        ExitStatus::Signaled {
            signal: 11,
            core_dumped: true
        }
        .decode(),
        (-1, "terminated by SIGSEGV (core dumped)".into())
    );
    assert_eq!(
        ExitStatus::Signaled {
            signal: 40,
            core_dumped: false
        }
        .decode(),
        (-1, "terminated by signal 40".into())
    );
}

#[test]
fn namespec() {
    let p = Process::new("web", ProcessConfig::with_defaults("web", "x"));
    assert_eq!(p.namespec(), "web");
    let p = Process::new("pool", ProcessConfig::with_defaults("w_01", "x"));
    assert_eq!(p.namespec(), "pool:w_01");
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Start),
        (1u32..5).prop_map(|pid| Input::Spawned { pid }),
        Just(Input::SpawnFailed {
            error: "boom".into()
        }),
        (0i32..4).prop_map(|c| Input::Exited {
            status: ExitStatus::Exited(c)
        }),
        Just(Input::Exited {
            status: ExitStatus::Signaled {
                signal: 15,
                core_dumped: false
            }
        }),
        Just(Input::Deadline),
        Just(Input::Stop),
        Just(Input::GiveUp),
        Just(Input::Signal { signal: 1 }),
        Just(Input::SignalFailed {
            error: "EPERM".into()
        }),
    ]
}

fn any_config() -> impl Strategy<Value = ProcessConfig> {
    (0i64..3, 0i64..4, 0usize..3, any::<bool>(), any::<bool>()).prop_map(
        |(startsecs, startretries, restart, stopasgroup, killasgroup)| {
            let mut c = ProcessConfig::with_defaults("p", "x");
            c.startsecs = startsecs;
            c.startretries = startretries;
            c.autorestart = [
                AutoRestart::Never,
                AutoRestart::Unexpected,
                AutoRestart::Always,
            ][restart];
            c.stopasgroup = stopasgroup;
            c.killasgroup = killasgroup || stopasgroup;
            c.stopwaitsecs = 2;
            c
        },
    )
}

proptest! {
    /// Whatever arrives in whatever order, the process stays in a state the
    /// spec defines, with the bookkeeping that state implies.
    #[test]
    fn no_input_sequence_reaches_an_undefined_state(
        config in any_config(),
        script in proptest::collection::vec((any_input(), 0u64..3000, any::<bool>()), 1..60),
    ) {
        let mut p = Process::new("g", config);
        let mut t = Duration::ZERO;
        for (input, dt_ms, autospawn) in script {
            t += Duration::from_millis(dt_ms);
            let before = (p.state(), p.pid(), p.deadline(), p.backoff());
            let now = Now { mono: t, wall: t.as_secs() as i64 };
            match p.step(input, now, autospawn) {
                Ok(fx) => {
                    // Every Spawn is a STARTING process without a pid yet.
                    if fx.contains(&Effect::Spawn) {
                        prop_assert_eq!(p.state(), State::Starting);
                        prop_assert_eq!(p.pid(), 0);
                    }
                    // Every signal goes to the process's pid or its group.
                    for (pid, _) in signals(&fx) {
                        prop_assert!(pid != 0);
                        prop_assert_eq!(pid.unsigned_abs(), p.pid());
                    }
                    // The state-change chain is continuous.
                    let chain = states(&fx);
                    for pair in chain.windows(2) {
                        prop_assert_eq!(pair[0].1, pair[1].0);
                    }
                    if let (Some(first), Some(last)) = (chain.first(), chain.last()) {
                        prop_assert_eq!(first.0, before.0);
                        prop_assert_eq!(last.1, p.state());
                    }
                }
                Err(_) => {
                    prop_assert_eq!(before, (p.state(), p.pid(), p.deadline(), p.backoff()));
                }
            }
            let s = p.state();
            // A pid exists only while something may be alive.
            if p.pid() != 0 {
                prop_assert!(matches!(s, State::Starting | State::Running | State::Stopping | State::Unknown), "{s:?} with pid");
            } else {
                prop_assert!(!matches!(s, State::Running | State::Stopping), "{s:?} without pid");
            }
            // Only STARTING, BACKOFF and STOPPING wait for a deadline.
            if p.deadline().is_some() {
                prop_assert!(matches!(s, State::Starting | State::Backoff | State::Stopping), "{s:?} with deadline");
            }
            if matches!(s, State::Stopping) || (s == State::Starting && p.pid() != 0) {
                prop_assert!(p.deadline().is_some(), "{s:?} without deadline");
            }
            prop_assert!(i64::from(p.backoff()) <= p.config.startretries + 1);
        }
    }
}

/// Supervisor's state events carry the pid at the change: EXITED and
/// STOPPED report the child that just ended, STOPPED from BACKOFF reports 0.
#[test]
fn state_changes_carry_the_pid_at_the_change() {
    fn pids(fx: &[Effect]) -> Vec<(State, u32)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::StateChanged { to, pid, .. } => Some((*to, *pid)),
                _ => None,
            })
            .collect()
    }
    let mut p = proc_with(|c| {
        c.autorestart = AutoRestart::Always;
        c.startsecs = 1;
    });
    let fx = step(&mut p, Input::Start, 0.0);
    assert_eq!(pids(&fx), [(State::Starting, 0)]);
    step(&mut p, Input::Spawned { pid: 41 }, 0.0);
    let fx = step(&mut p, Input::Deadline, 1.0);
    assert_eq!(pids(&fx), [(State::Running, 41)]);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(3),
        },
        5.0,
    );
    assert_eq!(pids(&fx), [(State::Exited, 41), (State::Starting, 0)]);
    assert_eq!(p.pid(), 0);
    step(&mut p, Input::Spawned { pid: 42 }, 5.0);
    step(&mut p, Input::Deadline, 6.0);
    let fx = step(&mut p, Input::Stop, 7.0);
    assert_eq!(pids(&fx), [(State::Stopping, 42)]);
    let fx = step(
        &mut p,
        Input::Exited {
            status: ExitStatus::Exited(0),
        },
        7.5,
    );
    assert_eq!(pids(&fx), [(State::Stopped, 42)]);
    assert_eq!(p.pid(), 0);
}
