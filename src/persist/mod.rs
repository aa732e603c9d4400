//! The durable log (issue 11, docs/persistence.md): one record stream per
//! shard on glommio's direct-I/O files.
//!
//! Storage layer: [`frame`] (the record frame), [`layout`] (the data
//! directory), [`scan`] (reading a stream back), [`writer`] (the per-shard
//! appender), [`check`] (`shardmq check-data`).

pub mod check;
pub mod frame;
pub mod layout;
pub mod scan;
pub mod writer;

#[cfg(test)]
mod testdir;
