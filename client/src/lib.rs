//! The spindle CLI: submit, status, kill, logs.
