use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use zip::write::SimpleFileOptions;

use super::*;

/// An archive of `(name, unix mode, content)` files.
fn archive(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, mode, content) in files {
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        w.start_file(*name, opts).expect("start");
        w.write_all(content).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// `bytes` with every occurrence of `from` replaced by `to` (same length): entry names the
/// writer would not produce itself.
fn patch(mut bytes: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    let mut n = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            n += 1;
        }
        i += 1;
    }
    assert!(n > 0, "nothing patched");
    bytes
}

fn dest(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("fn").join("code")
}

/// Nothing but the destination's parent (no temporary folder left behind).
fn left_behind(dir: &tempfile::TempDir) -> Vec<String> {
    match std::fs::read_dir(dir.path().join("fn")) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    }
}

#[test]
fn unpacks_files_and_folders_keeping_the_executable_bit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = archive(&[
        ("bootstrap", 0o755, b"#!/bin/sh\n"),
        ("lib/app.py", 0o644, b"def handler(e, c): return e\n"),
        ("./lib/data.txt", 0o600, b"x"),
    ]);
    let size = unpack(&zip, &dest(&dir)).expect("unpack");
    assert_eq!(size, 10 + 28 + 1);
    let d = dest(&dir);
    let mode = |p: &str| {
        std::fs::metadata(d.join(p))
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("bootstrap"), 0o755);
    assert_eq!(mode("lib/app.py"), 0o644);
    assert_eq!(mode("lib/data.txt"), 0o644);
    assert_eq!(
        std::fs::read_to_string(d.join("lib/app.py")).expect("read"),
        "def handler(e, c): return e\n"
    );
    assert_eq!(left_behind(&dir), vec!["code".to_owned()]);
}

#[test]
fn refuses_unsafe_and_broken_archives_and_writes_nothing() {
    let good = || archive(&[("xx/evil", 0o644, b"boom"), ("ok.txt", 0o644, b"ok")]);
    let mut symlink = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    symlink
        .add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
        .expect("symlink");
    let symlink = symlink.finish().expect("finish").into_inner();
    let mut truncated = good();
    truncated.truncate(truncated.len() / 2);
    let mut bad_crc = archive(&[("f.txt", 0o644, b"hello hello hello hello")]);
    // Flip a byte of the compressed data (which ends where the central directory begins).
    let cd = bad_crc
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("central directory");
    bad_crc[cd - 4] ^= 0xff;

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("parent", patch(good(), b"xx/evil", b"../evil"), "'../evil'"),
        (
            "nested parent",
            patch(good(), b"xx/evil", b"a/../.."),
            "'a/../..'",
        ),
        (
            "absolute",
            patch(good(), b"xx/evil", b"/x/evil"),
            "'/x/evil'",
        ),
        (
            "backslash",
            patch(good(), b"xx/evil", b"..\\evil"),
            "'..\\evil'",
        ),
        ("symlink", symlink, "symbolic links"),
        (
            "file then folder of one name",
            archive(&[("a", 0o644, b"file"), ("a/b", 0o644, b"inside")]),
            "'a/b': it cannot be written",
        ),
        (
            "name too long",
            archive(&[(&"n".repeat(300), 0o644, b"x")]),
            "it cannot be written",
        ),
        ("not a zip", b"PK\x03\x04 not really".to_vec(), UNZIP_FAILED),
        ("truncated", truncated, UNZIP_FAILED),
        ("bad data", bad_crc, UNZIP_FAILED),
    ];
    for (what, zip, expect) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = unpack(&zip, &dest(&dir)).expect_err(what);
        assert!(err.is_package_error(), "{what}: {err}");
        assert!(err.to_string().contains(expect), "{what}: {err}");
        assert!(err.to_string().starts_with(UNZIP_FAILED), "{what}: {err}");
        assert!(!dest(&dir).exists(), "{what}: destination written");
        assert!(
            left_behind(&dir).is_empty(),
            "{what}: {:?}",
            left_behind(&dir)
        );
        assert!(!dir.path().join("evil").exists() && !dir.path().join("fn/evil").exists());
    }
}

#[test]
fn refuses_packages_over_250_mb_unzipped() {
    // Declared size over the limit in the central directory: refused before writing.
    let zip = archive(&[("big.bin", 0o644, &[0u8; 1000])]);
    let mut patched = zip.clone();
    let cd = patched
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("central directory");
    patched[cd + 24..cd + 28].copy_from_slice(&(MAX_UNZIPPED as u32).to_le_bytes());
    let dir = tempfile::tempdir().expect("tempdir");
    let err = unpack(&patched, &dest(&dir)).expect_err("too large");
    assert_eq!(
        err.to_string(),
        "Unzipped size must be smaller than 262144000 bytes"
    );
    assert!(!dest(&dir).exists());

    // Actual bytes count too, whatever the header says (limit lowered for the test).
    let dir = tempfile::tempdir().expect("tempdir");
    let err = unpack_limited(&zip, &dest(&dir), 1000).expect_err("limit");
    assert!(matches!(err, CodeError::TooLarge), "{err}");
    assert!(left_behind(&dir).is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(unpack_limited(&zip, &dest(&dir), 1001).expect("fits"), 1000);
}

#[test]
fn ensure_unpacked_restores_a_missing_folder_from_the_archive() {
    let root = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(root.path()).expect("data dir");
    let zip = archive(&[("app.py", 0o644, b"print(1)\n")]);
    let sha = "ab+/c=";
    let zip_file = zip_path(&data, "f", sha);
    std::fs::create_dir_all(zip_file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&zip_file, &zip).expect("write");
    assert!(zip_file.ends_with("functions/f/ab-_cx.zip"));

    let folder = ensure_unpacked(&data, "f", sha).expect("unpack");
    assert_eq!(folder, unpacked_path(&data, "f", sha));
    std::fs::remove_dir_all(&folder).expect("remove");
    let again = ensure_unpacked(&data, "f", sha).expect("unpack again");
    assert_eq!(
        std::fs::read_to_string(again.join("app.py")).expect("read"),
        "print(1)\n"
    );
    // A missing archive is an I/O error, not the package's fault.
    let err = ensure_unpacked(&data, "g", sha).expect_err("no archive");
    assert!(!err.is_package_error());
}

#[test]
fn remove_unreferenced_keeps_only_the_named_packages() {
    let root = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(root.path()).expect("data dir");
    let zip = archive(&[("app.py", 0o644, b"x = 1\n")]);
    for sha in ["a+1=", "b/2=", "c3"] {
        let path = zip_path(&data, "f", sha);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &zip).expect("write");
        ensure_unpacked(&data, "f", sha).expect("unpack");
    }
    std::fs::create_dir_all(data.function_dir("f").join(".unpack-crashed")).expect("mkdir");
    assert_eq!(
        remove_unreferenced(&data, "f", &["a+1=", "c3"]).expect("gc"),
        2
    );
    let mut left: Vec<String> = std::fs::read_dir(data.function_dir("f"))
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [".unpack-crashed", "a-1x", "a-1x.zip", "c3", "c3.zip"]
    );
    assert_eq!(remove_unreferenced(&data, "absent", &[]).expect("none"), 0);
}
