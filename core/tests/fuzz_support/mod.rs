//! What the fuzz tests share: the real files they mutate, the mutations,
//! and the check that an error reads as words.

#![allow(dead_code)]

use proptest::prelude::*;

/// Cases per fuzz property (issue 17: at least 10,000 each).
pub const CASES: u32 = 10_000;

/// A file of the repository, read at test time.
pub fn repo_file(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// One change to some bytes: flip one, insert one, delete one, or cut
/// the tail off.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// XOR the byte at `at` with `mask`.
    Flip { at: usize, mask: u8 },
    /// Put `byte` before `at`.
    Insert { at: usize, byte: u8 },
    /// Remove the byte at `at`.
    Delete { at: usize },
    /// Keep only the first `at` bytes.
    Cut { at: usize },
}

/// Up to `max` mutations.
pub fn mutations(max: usize) -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Delete { at }),
        any::<usize>().prop_map(|at| Mutation::Cut { at }),
    ];
    proptest::collection::vec(one, 1..=max)
}

/// `bytes` with `changes` applied (positions taken modulo the length).
pub fn mutate(bytes: &[u8], changes: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in changes {
        let len = b.len();
        match *m {
            Mutation::Flip { at, mask } if len > 0 => b[at % len] ^= mask,
            Mutation::Insert { at, byte } => b.insert(at % (len + 1), byte),
            Mutation::Delete { at } if len > 0 => {
                b.remove(at % len);
            }
            Mutation::Cut { at } => b.truncate(at % (len + 1)),
            _ => {}
        }
    }
    b
}

/// `text` with whatever it quotes ("...", `...`) left out: a message may
/// quote the user's own input, braces and all.
fn unquoted(text: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '`' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// An error message in words: not empty, no Rust debug output, no JSON
/// parser jargon (positions in columns, "EOF", "expected value").
pub fn assert_words(what: &str, message: &str) {
    assert!(!message.trim().is_empty(), "{what}: empty error");
    let own = unquoted(message);
    for bad in [
        "Error(",
        "Some(",
        "None",
        "{",
        "}",
        "column",
        "EOF",
        "expected value",
        "u64",
        "usize",
    ] {
        assert!(
            !own.contains(bad),
            "{what}: the error {message:?} holds {bad:?}"
        );
    }
}
