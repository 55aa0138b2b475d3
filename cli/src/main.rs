//! `raftlab`: the native runner (filled in by the simulator work).
fn main() {
    println!("raftlab {}", env!("CARGO_PKG_VERSION"));
}
