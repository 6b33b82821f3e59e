//! Cooperative cancellation: a flag that long runs (sweeps, comparisons) check between jobs
//! and between simulated days, and [`Cancel::on_termination_signals`], which sets it on
//! SIGTERM or SIGINT.
//!
//! Kubernetes, Slurm, `docker stop` and Ctrl-C all ask a process to stop with SIGTERM or
//! SIGINT and kill it a grace period later. A sweep that sees the flag stops starting jobs,
//! abandons the running ones at their next day boundary (a job is re-run whole on resume,
//! so a half-finished job is worth nothing), and returns with every finished job's line
//! already on disk. A second signal exits at once (status 128 + signal), for a user who
//! does not want to wait.
//!
//! ```
//! use adbandit::cancel::Cancel;
//! let c = Cancel::new();
//! let worker = c.clone();
//! assert!(worker.check().is_ok());
//! c.cancel();
//! assert!(matches!(worker.check(), Err(adbandit::Error::Cancelled { signal: None })));
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Value of the signal slot when [`Cancel::cancel`] (not a signal) asked to stop.
const BY_CALLER: usize = usize::MAX;

/// A shared cancellation flag; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

/// Exit status of a process stopped by `signal`: 128 + the signal number, as shells report.
pub fn signal_exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal.clamp(0, 127)).unwrap_or(u8::MAX)
}

impl Cancel {
    /// A flag nobody has set.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// A flag set by SIGTERM or SIGINT (on Windows by Ctrl-C and the console's close
    /// event, which the C runtime maps to those two). A second such signal exits the
    /// process at once with status 128 + signal. Handlers stay installed for the life of
    /// the process; call this once (e.g. in `main`). Feature `signals` (a default).
    ///
    /// # Errors
    /// [`Error::Io`] if the operating system refuses a handler.
    #[cfg(feature = "signals")]
    pub fn on_termination_signals() -> Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let c = Cancel::new();
        for sig in [SIGTERM, SIGINT] {
            let err = |e: std::io::Error| Error::Io {
                path: format!("signal {sig}"),
                reason: e.to_string(),
            };
            // Order matters: the shutdown check runs before the flag is set, so the first
            // signal only sets the flag and the second one exits.
            signal_hook::flag::register_conditional_shutdown(
                sig,
                i32::from(signal_exit_status(sig)),
                Arc::clone(&c.stop),
            )
            .map_err(err)?;
            let slot = usize::try_from(sig).unwrap_or(BY_CALLER);
            signal_hook::flag::register_usize(sig, Arc::clone(&c.signal), slot).map_err(err)?;
            signal_hook::flag::register(sig, Arc::clone(&c.stop)).map_err(err)?;
        }
        Ok(c)
    }

    /// Asks every holder of the flag to stop.
    pub fn cancel(&self) {
        let _ = self
            .signal
            .compare_exchange(0, BY_CALLER, Ordering::SeqCst, Ordering::SeqCst);
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether stopping was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The signal that asked to stop, if a signal did.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 | BY_CALLER => None,
            s => i32::try_from(s).ok(),
        }
    }

    /// `Ok` while not cancelled.
    ///
    /// # Errors
    /// [`Error::Cancelled`] with the signal, once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Cancelled {
                signal: self.signal(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag_and_exit_statuses_follow_the_shell() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
        assert_eq!(b.signal(), None);
        assert_eq!(signal_exit_status(15), 143);
        assert_eq!(signal_exit_status(2), 130);
    }
}
