//! Running commands: announced before they start, with the tool directories
//! xtask installs into put on PATH, and optionally echoed while their
//! closing lines are collected.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// Where xtask works and the PATH it gives to every command.
pub struct Ctx {
    /// The repository root (the workspace directory).
    pub root: PathBuf,
    /// PATH with `e2e/node_modules/.bin` and `$CARGO_HOME/bin` (where
    /// `cargo install` puts binaries) in front.
    pub path: OsString,
    /// True when the CI environment variable says so.
    pub ci: bool,
}

impl Ctx {
    pub fn new() -> Ctx {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives one level below the workspace root")
            .to_path_buf();
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_else(|| PathBuf::from(".cargo"));
        let cargo_bin = cargo_home.join("bin");
        let mut dirs = vec![root.join("e2e/node_modules/.bin"), cargo_bin];
        if let Some(old) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&old));
        }
        let path = std::env::join_paths(dirs).expect("PATH entries contain no separator");
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        Ctx { root, path, ci }
    }

    /// A command for `program`, run at the repository root with xtask's PATH.
    pub fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.which(program).unwrap_or_else(|| program.into()));
        cmd.current_dir(&self.root).env("PATH", &self.path);
        if std::io::stdout().is_terminal() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
            // Our pipes would otherwise turn cargo's colours off.
            cmd.env("CARGO_TERM_COLOR", "always");
        }
        cmd
    }

    /// The first executable called `program` on xtask's PATH.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        let suffixes: &[&str] = if cfg!(windows) {
            &[".exe", ".cmd", ""]
        } else {
            &[""]
        };
        std::env::split_paths(&self.path)
            .flat_map(|dir| {
                suffixes
                    .iter()
                    .map(move |s| dir.join(format!("{program}{s}")))
            })
            .find(|candidate| is_executable(candidate))
    }

    /// What `program arg...` prints on stdout, trimmed; None if it cannot
    /// run or fails.
    pub fn output_of(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = self
            .cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Prints a step's headline so the reader knows what is about to happen.
pub fn announce(what: &str) {
    println!("\n==> {what}");
    let _ = std::io::stdout().flush();
}

/// The command line as a reader would type it.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(cmd.get_program())
        .to_string_lossy()
        .into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Runs `cmd` with inherited stdio; Err describes how it failed.
pub fn run(mut cmd: Command) -> Result<(), String> {
    let line = describe(&cmd);
    println!("    $ {line}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    check(&line, status)
}

/// Runs `cmd`, echoing its stdout and stderr as they come, and returns the
/// lines that `keep` selects (a test runner's closing lines, say).
pub fn run_collecting(
    mut cmd: Command,
    keep: fn(&str) -> bool,
) -> (Result<(), String>, Vec<String>) {
    let line = describe(&cmd);
    println!("    $ {line}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return (Err(format!("could not start `{line}`: {e}")), Vec::new()),
    };
    let out = child.stdout.take().expect("stdout is piped");
    let err = child.stderr.take().expect("stderr is piped");
    let err_thread = std::thread::spawn(move || echo(err, std::io::stderr(), keep));
    let mut kept = echo(out, std::io::stdout(), keep);
    kept.extend(err_thread.join().unwrap_or_default());
    let result = match child.wait() {
        Ok(status) => check(&line, status),
        Err(e) => Err(format!("`{line}` could not be waited for: {e}")),
    };
    (result, kept)
}

fn echo(from: impl Read, mut to: impl Write, keep: fn(&str) -> bool) -> Vec<String> {
    let mut kept = Vec::new();
    let mut reader = BufReader::new(from);
    let mut buf = Vec::new();
    while let Ok(n) = reader.read_until(b'\n', &mut buf) {
        if n == 0 {
            break;
        }
        let _ = to.write_all(&buf);
        let _ = to.flush();
        let text = strip_ansi(&String::from_utf8_lossy(&buf));
        let text = text.trim_end();
        if keep(text) {
            kept.push(text.to_string());
        }
        buf.clear();
    }
    kept
}

/// Removes ANSI colour sequences (`ESC [ ... letter`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn check(line: &str, status: ExitStatus) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}

/// 0.4s, 41.2s, 3m 07s.
pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(fmt_duration(Duration::from_millis(41_250)), "41.2s");
        assert_eq!(fmt_duration(Duration::from_secs(187)), "3m 07s");
    }

    #[test]
    fn ansi_colours_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[1m\u{1b}[32mtest result: ok\u{1b}[0m."),
            "test result: ok."
        );
    }

    #[test]
    fn run_collecting_keeps_selected_lines_and_reports_failure() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo one; echo 'keep: two'; echo 'keep: three' >&2; exit 3",
        ]);
        let (result, kept) = run_collecting(cmd, |l| l.starts_with("keep:"));
        assert!(result.unwrap_err().contains("failed"));
        kept.iter().for_each(|l| assert!(l.starts_with("keep:")));
        assert_eq!(kept.len(), 2);
    }
}
