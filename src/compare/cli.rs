//! Command-line parsing for the `compare` example.
