//! The durable log (docs/persistence.md): one record stream per shard on
//! glommio's direct-I/O files, written from the shard's own executor.
//!
//! Storage: [`frame`] (the record frame), [`layout`] (the data directory),
//! [`scan`] (reading a stream back), [`writer`] (the per-shard appender and
//! its group commit), [`check`] (`shardmq check-data`).
//!
//! Meaning: [`record`] (kinds and bodies), [`book`] (ids of sessions and
//! messages), [`observer`] (session events → records), [`snapshot`] (live
//! state → records), [`compact`] (the background snapshot that bounds the
//! log), [`image`] (records → plain state), [`recover`] (start-up: read,
//! re-home, install), [`durable`] (answers that wait for the disk),
//! [`state`] (what a shard keeps).

pub mod book;
pub mod check;

pub mod compact;
pub mod durable;
pub mod frame;
pub mod image;
#[cfg(test)]
mod image_tests;
pub mod install;
pub mod layout;
pub mod observer;
pub mod qos2;
pub mod record;
pub mod recover;
pub mod scan;
pub mod snapshot;
pub mod start;
pub mod state;
pub mod writer;

#[cfg(test)]
mod testdir;

pub use state::Persist;
