//! Trace format version 1 (see docs/trace-format.md): types, writer and reader.
