#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Reads the kept fuzz inputs from disk (the core itself may not: clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! Replays the inputs kept in `fuzz/regressions/<target>/` (minimised fuzz findings) and the
//! seed corpora in `fuzz/seeds/<target>/` through the fuzz targets' checks, on stable Rust.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            check(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn challenges() {
    assert!(replay("challenges", checks::challenges) > 100);
}

#[test]
fn credentials() {
    assert!(replay("credentials", checks::credentials) > 10);
}

#[test]
fn receipts() {
    assert!(replay("receipts", checks::receipts) > 10);
}
