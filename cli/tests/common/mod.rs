//! What the CLI's test files share: a scratch directory and running the
//! `raftlab` binary.

#![allow(dead_code)] // each test file uses its own part of this

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_raftlab");

/// A fresh scratch directory per test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `prefix` keeps test files' directories apart when they run at once.
    pub fn new(prefix: &str, name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("raftlab-{prefix}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn raftlab(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the raftlab binary runs")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output then standard error.
pub fn out(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}
