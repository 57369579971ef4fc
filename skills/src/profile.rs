//! Per-operation timings of forward passes: off (one thread-local check
//! per operation) unless [`profiled`] runs code, which then gets the
//! milliseconds spent in each kind of operation of [`crate::model`]'s
//! inference path, in order of first appearance. The clock is the
//! caller's: `performance.now()` in the browser, `Instant` natively.
use std::cell::RefCell;

struct State {
    clock: fn() -> f64,
    last: f64,
    ms: Vec<(&'static str, f64)>,
}

thread_local! {
    static PROFILE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Ends the current lap: the time since the previous lap is `name`'s.
pub fn lap(name: &'static str) {
    PROFILE.with_borrow_mut(|p| {
        if let Some(s) = p {
            let now = (s.clock)();
            add(&mut s.ms, name, now - s.last);
            s.last = now;
        }
    })
}

/// Adds `ms` to `name`'s entry of `sums` (a new entry at the end if it
/// has none): how laps add up, and how callers sum several profiled runs.
pub fn add(sums: &mut Vec<(&'static str, f64)>, name: &'static str, ms: f64) {
    match sums.iter_mut().find(|(k, _)| *k == name) {
        Some(e) => e.1 += ms,
        None => sums.push((name, ms)),
    }
}

/// Runs `f` with timing on; returns its result and the milliseconds per
/// operation (time not claimed by a lap is `other`).
pub fn profiled<R>(clock: fn() -> f64, f: impl FnOnce() -> R) -> (R, Vec<(&'static str, f64)>) {
    let start = clock();
    PROFILE.with_borrow_mut(|p| {
        *p = Some(State {
            clock,
            last: start,
            ms: Vec::new(),
        })
    });
    let r = f();
    lap("other");
    let ms = PROFILE.with_borrow_mut(|p| p.take().map(|s| s.ms).unwrap_or_default());
    (r, ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> f64 {
        thread_local!(static T: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) });
        T.with(|t| {
            t.set(t.get() + 1.0);
            t.get()
        })
    }

    #[test]
    fn laps_add_up_by_name() {
        lap("ignored"); // off: nothing happens
        let (r, ms) = profiled(clock, || {
            lap("a");
            lap("b");
            lap("a");
            7
        });
        assert_eq!(r, 7);
        assert_eq!(ms, vec![("a", 2.0), ("b", 1.0), ("other", 1.0)]);
        assert!(profiled(clock, || ()).1.iter().all(|(k, _)| *k == "other"));
    }
}
