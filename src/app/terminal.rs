//! The terminal, probed once per run, and the progress bars the edges report to through
//! [`crate::edge::progress`]. Nothing outside the app layer draws or asks what a stream is.

use std::io::{self, IsTerminal};
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::edge::progress::{Progress, Task};

/// Which standard streams are terminals, and how wide stdout's is.
#[derive(Clone, Copy, Debug)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// The columns of the terminal on stdout, when it is one and reports its size.
    pub stdout_columns: Option<u16>,
}

static TERMINAL: OnceLock<Terminal> = OnceLock::new();

/// The terminal facts of this run, probed on first use and never again.
pub fn terminal() -> Terminal {
    *TERMINAL.get_or_init(|| {
        let stdout = io::stdout().is_terminal();
        Terminal {
            stdin: io::stdin().is_terminal(),
            stdout,
            stderr: io::stderr().is_terminal(),
            stdout_columns: stdout
                .then(|| console::Term::stdout().size_checked().map(|(_rows, columns)| columns))
                .flatten(),
        }
    })
}

/// Whether progress may be drawn: stderr is a terminal and `-q` was not given.
pub fn shows_progress(quiet: bool) -> bool {
    !quiet && terminal().stderr
}

/// One progress line per listed kind: `      deployments.apps ⠁ 1,234 read done`.
const KIND_TEMPLATE: &str = "{prefix:>40} {spinner} {human_pos} read {msg}";

/// A progress bar as an edge task.
#[derive(Debug)]
pub struct Bar(pub ProgressBar);

impl Task for Bar {
    fn set_message(&self, message: &str) {
        self.0.set_message(message.to_owned());
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn reset(&self) {
        self.0.set_position(0);
    }
    fn finish(&self, message: &str) {
        self.0.finish_with_message(message.to_owned());
    }
    fn abandon(&self, message: &str) {
        self.0.abandon_with_message(message.to_owned());
    }
}

/// Spinners on stderr, one per task (the live source's kinds).
pub struct Spinners {
    multi: MultiProgress,
    style: ProgressStyle,
}

impl std::fmt::Debug for Spinners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spinners")
    }
}

impl Spinners {
    pub fn new() -> Spinners {
        let style = ProgressStyle::with_template(KIND_TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Spinners { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), style }
    }
}

impl Progress for Spinners {
    fn task(&self, label: &str) -> Box<dyn Task> {
        let bar = self.multi.add(
            ProgressBar::no_length()
                .with_style(self.style.clone())
                .with_prefix(label.to_owned())
                .with_message("queued"),
        );
        Box::new(Bar(bar))
    }
    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

/// A bar over `len` items on stderr (apply, rollback), hidden when progress is not shown.
pub fn bar(len: usize, quiet: bool) -> ProgressBar {
    if !shows_progress(quiet) {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr()).with_style(style)
}

#[cfg(test)]
mod tests {
    #[test]
    fn progress_template_is_valid() {
        assert!(indicatif::ProgressStyle::with_template(super::KIND_TEMPLATE).is_ok());
    }
}
