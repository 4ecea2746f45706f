//! Reading a live change back: libvirt accepts a new balloon target at
//! once, but the running guest reaches it only if its balloon driver
//! answers, so vmctl waits for the memory to arrive or to stop moving.

use std::time::{Duration, Instant};

/// How long vmctl waits for a running guest's memory to reach its target.
#[derive(Debug, Clone, Copy)]
pub(super) struct Patience {
    /// Time between two reads.
    pub poll: Duration,
    /// Give up when the memory has not moved for this long.
    pub stall: Duration,
    /// Give up after this long in any case.
    pub limit: Duration,
}

impl Patience {
    /// Long enough for a guest's driver to start moving pages; a guest
    /// with no driver is given up on after `stall`.
    pub const BALLOON: Patience = Patience {
        poll: Duration::from_millis(200),
        stall: Duration::from_secs(3),
        limit: Duration::from_secs(30),
    };
}

/// How close the balloon must come to its target (it moves in pages).
const SLACK_KIB: u64 = 1024;

/// Reads the guest's memory (KiB) until it is within a page run of
/// `target`, or stops moving; returns the last value read.
pub(super) fn wait_for_memory<E>(
    target: u64,
    patience: Patience,
    mut read: impl FnMut() -> Result<u64, E>,
) -> Result<u64, E> {
    let start = Instant::now();
    let mut last = read()?;
    let mut moved = start;
    loop {
        if last.abs_diff(target) <= SLACK_KIB {
            return Ok(last);
        }
        if moved.elapsed() >= patience.stall || start.elapsed() >= patience.limit {
            return Ok(last);
        }
        std::thread::sleep(patience.poll);
        let now = read()?;
        if now != last {
            moved = Instant::now();
            last = now;
        }
    }
}

/// True when `kib` is the target `asked`, within the balloon's slack.
pub(super) fn reached(kib: u64, asked: u64) -> bool {
    kib.abs_diff(asked) <= SLACK_KIB
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Patience = Patience {
        poll: Duration::from_millis(1),
        stall: Duration::from_millis(30),
        limit: Duration::from_secs(5),
    };

    #[test]
    fn memory_that_never_moves_is_given_up_on_after_the_stall() {
        let start = Instant::now();
        let last = wait_for_memory::<()>(131_072, QUICK, || Ok(262_144)).unwrap();
        assert_eq!(last, 262_144);
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn memory_that_moves_is_followed_to_its_target() {
        let mut now = 262_144u64;
        let last = wait_for_memory::<()>(131_072, QUICK, || {
            now = now.saturating_sub(16_384).max(131_072);
            Ok(now)
        })
        .unwrap();
        assert_eq!(last, 131_072);
        assert!(reached(last, 131_072));
    }

    #[test]
    fn a_read_error_ends_the_wait() {
        assert_eq!(wait_for_memory(1, QUICK, || Err("gone")), Err("gone"));
    }
}
