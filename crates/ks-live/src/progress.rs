//! A progress line on stderr for scans that take longer than a second: nothing when stderr
//! is not a terminal or the user asked for quiet, and nothing for quick scans.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shown only after this long.
const DELAY: Duration = Duration::from_secs(1);

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: Mutex<bool>,
    objects: std::sync::atomic::AtomicUsize,
}

impl Progress {
    /// `wanted`: the user did not pass `--quiet`. The terminal check is made here.
    pub fn new(wanted: bool) -> Progress {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, started: Instant::now(), shown: Mutex::new(false), objects: Default::default() }
    }

    /// Show the line after [`DELAY`] even if nothing happens meanwhile (a slow request).
    pub fn reveal_later(self: &std::sync::Arc<Self>) {
        if self.bar.is_some() {
            let me = std::sync::Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(DELAY).await;
                if let Some(bar) = &me.bar
                    && !bar.is_finished()
                {
                    me.show_if_slow(bar);
                }
            });
        }
    }

    fn show_if_slow(&self, bar: &ProgressBar) {
        if self.started.elapsed() < DELAY || bar.is_finished() {
            return;
        }
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if !*shown {
            *shown = true;
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    pub fn message(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            let n = self.objects.load(std::sync::atomic::Ordering::Relaxed);
            bar.set_message(format!("{msg}; {n} objects read"));
            self.show_if_slow(bar);
        }
    }

    /// `n` more objects were read.
    pub fn add_objects(&self, n: usize) {
        if let Some(bar) = &self.bar {
            self.objects.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            self.show_if_slow(bar);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
