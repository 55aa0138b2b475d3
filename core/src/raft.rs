//! The Raft server.
