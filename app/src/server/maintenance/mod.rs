//! Housekeeping that runs as jobs on the queue, scheduled by every serving or worker process.

pub mod cleanup;
