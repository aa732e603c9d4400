//! One segment file under direct I/O: whole blocks only.
//!
//! The data rarely ends on a block boundary, so the partial last block is
//! kept in memory (`tail`) and written again, zero-padded, with the next
//! write. Its prefix never changes between rewrites, so a rewrite torn by
//! a crash cannot damage records that were already durable: at worst the
//! new records after them are half there (a torn tail).

use glommio::io::{DmaFile, OpenOptions};
use glommio::GlommioError;
use std::io;
use std::path::{Path, PathBuf};

/// Block size of every write: the page size, a multiple of the device's
/// logical block on any disk we run on (glommio reports 512 or 4096).
const BLOCK: usize = 4096;

pub(super) struct SegFile {
    pub number: u64,
    pub path: PathBuf,
    file: DmaFile,
    block: usize,
    /// File offset of the first byte of `tail` (block aligned).
    block_start: u64,
    /// The bytes of the partial last block (fewer than `block`).
    tail: Vec<u8>,
    /// A write or fsync failed: the bytes after `data_len` are unknown.
    pub broken: bool,
}

impl SegFile {
    /// Creates the file. `exclusive`: fail if it exists (a new process
    /// never overwrites a segment); otherwise truncate it (a retry after a
    /// failed creation of this same segment).
    pub async fn create(path: PathBuf, number: u64, exclusive: bool) -> io::Result<SegFile> {
        let mut opts = OpenOptions::new();
        opts.write(true);
        match exclusive {
            true => opts.create_new(true),
            false => opts.create(true).truncate(true),
        };
        let file = opts.dma_open(&path).await.map_err(plain)?;
        let block = BLOCK.max(file.alignment() as usize);
        sync_parent(&path).await?;
        Ok(SegFile {
            number,
            path,
            file,
            block,
            block_start: 0,
            tail: Vec::new(),
            broken: false,
        })
    }

    /// Bytes of data in the file (without the padding).
    pub fn data_len(&self) -> u64 {
        self.block_start + self.tail.len() as u64
    }

    /// Size of the file on disk (whole blocks).
    pub fn file_len(&self) -> u64 {
        self.block_start + self.tail.len().next_multiple_of(self.block) as u64
    }

    /// What the file would grow by if `n` more bytes were written.
    pub fn growth(&self, n: usize) -> u64 {
        let after = (self.tail.len() + n).next_multiple_of(self.block) as u64;
        (self.block_start + after).saturating_sub(self.file_len())
    }

    /// Writes `bytes` after the data: one `write_at` of the tail block
    /// and the new bytes, zero-padded to a whole block.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let total = self.tail.len() + bytes.len();
        let padded = total.next_multiple_of(self.block);
        let mut buf = self.file.alloc_dma_buffer(padded);
        let b = buf.as_bytes_mut();
        b[..self.tail.len()].copy_from_slice(&self.tail);
        b[self.tail.len()..total].copy_from_slice(bytes);
        b[total..].fill(0);
        let whole = total / self.block * self.block;
        let new_tail = b[whole..total].to_vec();
        let n = self
            .file
            .write_at(buf, self.block_start)
            .await
            .map_err(plain)?;
        if n != padded {
            // Short write: the device ran out of space part way.
            let msg = format!("short write ({n} of {padded} bytes)");
            return Err(io::Error::new(io::ErrorKind::StorageFull, msg));
        }
        self.block_start += whole as u64;
        self.tail = new_tail;
        Ok(())
    }

    pub async fn sync(&self) -> io::Result<()> {
        self.file.fdatasync().await.map_err(plain)
    }

    /// After a failed write: drops whatever the failure left after the
    /// data, so that this segment can be followed by another (only the
    /// last segment may have a torn tail), and makes that durable.
    pub async fn cut_to_data(&self) -> io::Result<()> {
        self.file.truncate(self.data_len()).await.map_err(plain)?;
        self.sync().await
    }

    pub async fn close(self) -> io::Result<()> {
        self.file.close().await.map_err(plain)
    }
}

/// fsync of the directory holding `path`: the new name is durable too.
pub(super) async fn sync_parent(path: &Path) -> io::Result<()> {
    sync_dir(path.parent().unwrap_or(Path::new("."))).await
}

/// fsync of a directory: names created or removed in it are durable.
pub(super) async fn sync_dir(dir: &Path) -> io::Result<()> {
    let d = glommio::io::Directory::open(dir).await.map_err(plain)?;
    d.sync().await.map_err(plain)?;
    d.close().await.map_err(plain)
}

/// glommio's error as the io::Error it wraps, so that the errno survives
/// (its own conversion keeps only the kind and the text). The log line
/// names the file itself.
pub(super) fn plain(e: GlommioError<()>) -> io::Error {
    match e {
        GlommioError::EnhancedIoError { source, .. } => source,
        GlommioError::IoError(source) => source,
        other => other.into(),
    }
}
