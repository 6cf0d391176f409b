//! The data directory.
//!
//! ```text
//! DIR/
//!   SLUICE              marker: "sluice-data-dir\nformat=1\n"
//!   meta.redb           metadata (see `meta`)
//!   functions/NAME/     code of functions deployed through the API
//! ```
//!
//! A directory is adopted only when it does not exist, is empty, or carries the marker with
//! a format this build reads. Anything else (someone's home directory, another program's
//! state, a newer Sluice's files) is refused with a message naming the directory and the
//! reason; nothing in it is touched.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StoreError;

const MARKER: &str = "SLUICE";
const MAGIC: &str = "sluice-data-dir";
/// The on-disk format this build writes and reads.
pub const FORMAT: u32 = 1;

/// An adopted data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DataDir {
    /// Adopts `root`, creating it if needed. Refuses a foreign directory.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let marker = root.join(MARKER);
        match fs::read_to_string(&marker) {
            Ok(text) => check_marker(root, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if root.exists() {
                    if !root.is_dir() {
                        return Err(StoreError::Foreign(format!(
                            "data directory {} is not a directory",
                            root.display()
                        )));
                    }
                    let mut entries = fs::read_dir(root).map_err(io(root))?;
                    if let Some(entry) = entries.next() {
                        let entry = entry.map_err(io(root))?;
                        return Err(StoreError::Foreign(format!(
                            "data directory {} is not empty and has no {MARKER} marker (found {:?}); refusing to use it. Point --data-dir at an empty or new directory",
                            root.display(),
                            entry.file_name()
                        )));
                    }
                } else {
                    fs::create_dir_all(root).map_err(io(root))?;
                }
                write_marker(root)?;
            }
            Err(e) => return Err(io(&marker)(e)),
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The metadata database file.
    pub fn meta_path(&self) -> PathBuf {
        self.root.join("meta.redb")
    }

    /// The folder of one API-deployed function's code.
    pub fn function_dir(&self, name: &str) -> PathBuf {
        self.root.join("functions").join(name)
    }
}

fn check_marker(root: &Path, text: &str) -> Result<(), StoreError> {
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(StoreError::Foreign(format!(
            "data directory {}: {MARKER} marker is not Sluice's; refusing to use it",
            root.display()
        )));
    }
    let format = lines
        .find_map(|l| l.strip_prefix("format="))
        .and_then(|f| f.trim().parse::<u32>().ok());
    match format {
        Some(FORMAT) => Ok(()),
        Some(other) => Err(StoreError::Foreign(format!(
            "data directory {} has format {other}; this Sluice reads format {FORMAT}",
            root.display()
        ))),
        None => Err(StoreError::Foreign(format!(
            "data directory {}: {MARKER} marker is damaged (no format line)",
            root.display()
        ))),
    }
}

/// Writes the marker durably: temp file, fsync, rename, fsync the directory.
fn write_marker(root: &Path) -> Result<(), StoreError> {
    let tmp = root.join(format!("{MARKER}.tmp"));
    let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(format!("{MAGIC}\nformat={FORMAT}\n").as_bytes())
        .map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    let marker = root.join(MARKER);
    fs::rename(&tmp, &marker).map_err(io(&marker))?;
    fs::File::open(root)
        .and_then(|d| d.sync_all())
        .map_err(io(root))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn adopts_new_and_empty_and_own_dirs() {
        let t = tempfile::tempdir().unwrap();
        let new = t.path().join("new");
        DataDir::open(&new).unwrap();
        assert!(new.join(MARKER).exists());
        DataDir::open(&new).unwrap();
        DataDir::open(t.path().join("new").as_path()).unwrap();
        let empty = t.path().join("empty");
        fs::create_dir(&empty).unwrap();
        DataDir::open(&empty).unwrap();
    }

    #[test]
    fn refuses_foreign_dirs_untouched() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("notes.txt"), "mine").unwrap();
        let e = DataDir::open(t.path()).unwrap_err();
        assert!(matches!(e, StoreError::Foreign(_)), "{e}");
        assert_eq!(
            fs::read_to_string(t.path().join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(!t.path().join(MARKER).exists());

        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join(MARKER), "something else").unwrap();
        assert!(matches!(
            DataDir::open(t.path()),
            Err(StoreError::Foreign(_))
        ));
        fs::write(t.path().join(MARKER), "sluice-data-dir\nformat=99\n").unwrap();
        let e = DataDir::open(t.path()).unwrap_err();
        assert!(e.to_string().contains("format 99"), "{e}");
    }
}
