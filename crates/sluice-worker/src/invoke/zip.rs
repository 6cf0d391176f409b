//! Zip functions: code deployed through CreateFunction / UpdateFunctionCode, run as
//! `command` functions ([`super::process`]).
//!
//! The package is unpacked under the data dir ([`sluice_store::code`]); the command comes
//! from the `Runtime`:
//!
//! | Runtime | command (cwd and `LAMBDA_TASK_ROOT` = the unpacked folder) |
//! |---|---|
//! | `provided`, `provided.al2`, `provided.al2023` | `<folder>/bootstrap` |
//! | `python3.x` | `python3.x -u -c <bootstrap.py>` (`python3` when `python3.x` does not run here) |
//! | `nodejsN.x` | `node -e <bootstrap.js>` |
//!
//! `bootstrap.py` and `bootstrap.js` are small runtime clients embedded in the binary
//! (standard library only) that import the `Handler` and speak the Runtime API. The
//! interpreter is the one installed on this machine: Sluice does not ship Python or Node.
//!
//! The unpacked folder is named after the code's SHA-256, so new code is a new folder, a
//! new command spec, and the process pool retires the old instances by itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use sluice_core::function::{FunctionCode, FunctionRecord, InvokeError, RuntimeKind};
use sluice_store::DataDir;

/// The Python runtime client.
pub const PYTHON_BOOTSTRAP: &str = include_str!("zip/bootstrap.py");
/// The Node runtime client.
pub const NODE_BOOTSTRAP: &str = include_str!("zip/bootstrap.js");

/// The command that runs a function of `runtime` unpacked in `folder`.
pub fn command(runtime: &str, folder: &Path) -> Option<Vec<String>> {
    Some(match RuntimeKind::of(runtime)? {
        RuntimeKind::Provided => vec![folder.join("bootstrap").to_string_lossy().into_owned()],
        RuntimeKind::Python => vec![
            python_for(runtime),
            "-u".into(),
            "-c".into(),
            PYTHON_BOOTSTRAP.into(),
        ],
        RuntimeKind::Node => vec!["node".into(), "-e".into(), NODE_BOOTSTRAP.into()],
    })
}

/// `python3.x` when that interpreter runs here, else `python3`. Probed once per version
/// (running it: a pyenv shim is on PATH for versions it has not installed); blocking.
fn python_for(runtime: &str) -> String {
    static PROBED: Mutex<BTreeMap<String, bool>> = Mutex::new(BTreeMap::new());
    let mut probed = PROBED.lock().unwrap_or_else(PoisonError::into_inner);
    let runs = *probed.entry(runtime.to_owned()).or_insert_with(|| {
        std::process::Command::new(runtime)
            .args(["-c", ""])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if runs {
        runtime.to_owned()
    } else {
        "python3".to_owned()
    }
}

/// Function `f` (zip) as the `command` function that runs it, its package unpacked under
/// `dir` (again, when the folder is missing). Blocking: unpacking writes files.
pub fn as_command(dir: &DataDir, f: &FunctionRecord) -> Result<FunctionRecord, InvokeError> {
    let FunctionCode::Zip { sha256, .. } = &f.code else {
        return Ok(f.clone());
    };
    let runtime = f.runtime.as_deref().unwrap_or_default();
    if RuntimeKind::of(runtime).is_none() {
        return Err(InvokeError::Unsupported(
            f.name.clone(),
            format!(
                "runtime '{runtime}' is not supported; supported: {}",
                sluice_core::function::SUPPORTED_RUNTIMES
            ),
        ));
    }
    let folder = sluice_store::code::ensure_unpacked(dir, &f.name, sha256).map_err(|e| {
        tracing::warn!(function = %f.name, error = %e, "Function code cannot be unpacked.");
        InvokeError::Unreachable(f.name.clone(), e.to_string())
    })?;
    let command = command(runtime, &folder).unwrap_or_default();
    Ok(FunctionRecord {
        code: FunctionCode::Command {
            command,
            workdir: Some(folder.to_string_lossy().into_owned()),
            concurrency: None,
        },
        ..f.clone()
    })
}

/// Unpacks the package of every zip function and published version whose folder is missing
/// (a restart after the folders were removed); failures are logged and left to Invoke,
/// which tries again. Blocking.
pub fn unpack_missing(store: &sluice_store::MetaStore, dir: &DataDir) {
    let functions = match store.list_functions() {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot list functions to unpack their code.");
            return;
        }
    };
    for f in functions {
        let versions = store.list_versions(&f.name).unwrap_or_default();
        for f in std::iter::once(f).chain(versions) {
            if let FunctionCode::Zip { sha256, .. } = &f.code
                && let Err(e) = sluice_store::code::ensure_unpacked(dir, &f.name, sha256)
            {
                tracing::warn!(function = %f.name, error = %e, "Function code cannot be unpacked.");
            }
        }
    }
}

#[cfg(test)]
mod tests;
