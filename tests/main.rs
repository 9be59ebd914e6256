//! Integration tests: the CLI end to end.
