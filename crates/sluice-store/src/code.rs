//! Deployment packages of zip functions: the archive as uploaded and its unpacked folder.
//!
//! # Layout
//!
//! ```text
//! DIR/functions/<name>/<sha>.zip    the archive, content-addressed (written by the API, fsync'd)
//! DIR/functions/<name>/<sha>/       the archive unpacked: the function's LAMBDA_TASK_ROOT
//! ```
//!
//! `<sha>` is the base64 `CodeSha256` made file-safe ([`file_key`]). A folder appears only
//! by rename of a fully written temporary folder, so a folder that exists is complete; a
//! missing one (deleted, or a crash before the rename) is unpacked again from the archive
//! ([`ensure_unpacked`]), which is how code survives a restart. Packages nothing uses any
//! more are removed after an update ([`remove_unreferenced`]).
//!
//! # Safety
//!
//! [`unpack`] refuses, before writing anything it cannot take back: archives that do not
//! parse ("Could not unzip uploaded file…", AWS's text), entries whose path is absolute or
//! climbs out with `..` (zip-slip), symlink entries, and content over
//! [`MAX_UNZIPPED`] (AWS's 250 MB). Sizes are checked twice: declared sizes before
//! writing, and actual bytes while inflating (a lying header cannot make a zip bomb).
//! The unix mode's executable bits are kept (a `bootstrap` must stay executable); nothing
//! else of the mode is (no setuid, no world-writable files).

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use crate::DataDir;

/// Largest unpacked size of a deployment package, as on Lambda (250 MB).
pub const MAX_UNZIPPED: u64 = 262_144_000;

/// AWS's text for an archive that cannot be read.
pub const UNZIP_FAILED: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// Why a package was refused or could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    /// Not a readable zip archive.
    #[error("{UNZIP_FAILED}")]
    Corrupt,
    /// Unpacked, the package would be larger than [`MAX_UNZIPPED`].
    #[error("Unzipped size must be smaller than {MAX_UNZIPPED} bytes")]
    TooLarge,
    /// An entry Sluice will not write: a path out of the folder, or a symlink.
    #[error("{UNZIP_FAILED} Sluice refuses the entry '{entry}': {reason}.")]
    Unsafe { entry: String, reason: &'static str },
    /// The disk failed; not the package's fault.
    #[error("cannot unpack function code at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl CodeError {
    /// True when the package itself is at fault (the client gets a 4xx).
    pub fn is_package_error(&self) -> bool {
        !matches!(self, Self::Io { .. })
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CodeError + '_ {
    move |source| CodeError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// `CodeSha256` (base64) as a file name: `/` and `+` and `=` replaced.
pub fn file_key(sha256_b64: &str) -> String {
    sha256_b64
        .chars()
        .map(|c| match c {
            '/' => '_',
            '+' => '-',
            '=' => 'x',
            c => c,
        })
        .collect()
}

/// Where function `name`'s archive with this `CodeSha256` is kept.
pub fn zip_path(dir: &DataDir, name: &str, sha256_b64: &str) -> PathBuf {
    dir.function_dir(name)
        .join(format!("{}.zip", file_key(sha256_b64)))
}

/// Where that archive is unpacked.
pub fn unpacked_path(dir: &DataDir, name: &str, sha256_b64: &str) -> PathBuf {
    dir.function_dir(name).join(file_key(sha256_b64))
}

/// One entry to write, checked.
struct Entry {
    index: usize,
    path: PathBuf,
    dir: bool,
    executable: bool,
}

/// Reads the central directory and checks every entry; nothing is written.
fn plan(
    archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    limit: u64,
) -> Result<Vec<Entry>, CodeError> {
    let mut declared: u64 = 0;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let file = archive
            .by_index_raw(index)
            .map_err(|_| CodeError::Corrupt)?;
        let name = file.name().map_err(|_| CodeError::Corrupt)?.into_owned();
        let unsafe_entry = |reason| CodeError::Unsafe {
            entry: name.clone(),
            reason,
        };
        if file.is_symlink() {
            return Err(unsafe_entry("symbolic links are not unpacked"));
        }
        let raw = Path::new(&name);
        let mut path = PathBuf::new();
        for c in raw.components() {
            match c {
                Component::Normal(part) => path.push(part),
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                    return Err(unsafe_entry("its path leaves the function's folder"));
                }
            }
        }
        if name.contains('\\') || name.contains('\0') {
            return Err(unsafe_entry("its path leaves the function's folder"));
        }
        if path.as_os_str().is_empty() {
            continue;
        }
        declared = declared.saturating_add(file.size());
        if declared >= limit {
            return Err(CodeError::TooLarge);
        }
        entries.push(Entry {
            index,
            path,
            dir: file.is_dir(),
            executable: file.unix_mode().is_some_and(|m| m & 0o111 != 0),
        });
    }
    Ok(entries)
}

/// Checks `zip` and unpacks it into `dest` (which must not exist): into a temporary
/// sibling first, renamed into place when complete. Returns the unpacked size.
///
/// When `dest` appears meanwhile (another unpack of the same archive won), that one is
/// kept and this one discarded.
pub fn unpack(zip: &[u8], dest: &Path) -> Result<u64, CodeError> {
    unpack_limited(zip, dest, MAX_UNZIPPED)
}

/// [`unpack`] with another size limit (tests).
pub(crate) fn unpack_limited(zip: &[u8], dest: &Path, limit: u64) -> Result<u64, CodeError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|_| CodeError::Corrupt)?;
    let entries = plan(&mut archive, limit)?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = parent.join(format!(".unpack-{}", uuid::Uuid::new_v4().simple()));
    let written = write_entries(&mut archive, &entries, &tmp, limit);
    let size = match written {
        Ok(size) => size,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if let Err(e) = std::fs::rename(&tmp, dest) {
        let _ = std::fs::remove_dir_all(&tmp);
        if !dest.is_dir() {
            return Err(io(dest)(e));
        }
    }
    Ok(size)
}

fn write_entries(
    archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    entries: &[Entry],
    root: &Path,
    limit: u64,
) -> Result<u64, CodeError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(root).map_err(io(root))?;
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for e in entries {
        let path = root.join(&e.path);
        // In a fresh folder, creating a path fails for the package's own reasons: a file
        // and a folder of one name, a name too long.
        let clash = |err: std::io::Error| {
            use std::io::ErrorKind::*;
            match err.kind() {
                AlreadyExists | NotADirectory | IsADirectory | InvalidFilename | InvalidInput => {
                    CodeError::Unsafe {
                        entry: e.path.display().to_string(),
                        reason: "it cannot be written (it clashes with another entry or its name is too long)",
                    }
                }
                _ => io(&path)(err),
            }
        };
        if e.dir {
            std::fs::create_dir_all(&path).map_err(clash)?;
            continue;
        }
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(clash)?;
        }
        let mut file = archive.by_index(e.index).map_err(|_| CodeError::Corrupt)?;
        let mut out = std::fs::File::create(&path).map_err(clash)?;
        loop {
            // A read error here is a damaged stream (bad CRC, truncated data).
            let n = file.read(&mut buf).map_err(|_| CodeError::Corrupt)?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total >= limit {
                return Err(CodeError::TooLarge);
            }
            out.write_all(&buf[..n]).map_err(io(&path))?;
        }
        let mode = if e.executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(io(&path))?;
    }
    Ok(total)
}

/// The unpacked folder of function `name`'s archive, unpacked again from the stored
/// archive when missing.
pub fn ensure_unpacked(dir: &DataDir, name: &str, sha256_b64: &str) -> Result<PathBuf, CodeError> {
    let dest = unpacked_path(dir, name, sha256_b64);
    if dest.is_dir() {
        return Ok(dest);
    }
    let zip_file = zip_path(dir, name, sha256_b64);
    let zip = std::fs::read(&zip_file).map_err(io(&zip_file))?;
    unpack(&zip, &dest)?;
    tracing::info!(function = %name, folder = %dest.display(), "Function code unpacked.");
    Ok(dest)
}

/// Removes the packages (archive and folder) of function `name` whose `CodeSha256` is not
/// in `keep`; returns how many. Temporary folders (an unpack in progress) stay. Callers keep what
/// `$LATEST`, every published version and the code just replaced use (instances retired by
/// an update may still be finishing an invocation there).
pub fn remove_unreferenced(dir: &DataDir, name: &str, keep: &[&str]) -> Result<usize, CodeError> {
    let folder = dir.function_dir(name);
    let kept: Vec<String> = keep.iter().map(|k| file_key(k)).collect();
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(&folder)(e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io(&folder))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let key = file_name.strip_suffix(".zip").unwrap_or(&file_name);
        // Temporary folders may belong to an unpack in progress.
        if kept.iter().any(|k| k == key) || file_name.starts_with(".unpack-") {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        gone.map_err(io(&path))?;
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
