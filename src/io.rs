//! Bounded input: files read through a size cap, so a hostile or mistaken path (`/dev/zero`,
//! a multi-gigabyte log) fails fast with a typed error instead of filling memory.
//!
//! The file is read through [`Read::take`]`(cap + 1)`: at most one byte more than the cap is
//! ever read, whatever the file claims its size to be (devices and pipes report 0).
//!
//! ```
//! use adbandit::io::read_capped;
//! let e = read_capped("/dev/zero", 1024).unwrap_err();
//! assert!(e.to_string().contains("1024"));
//! ```

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Default cap for a sweep file (4 MiB: a sweep with a few hundred thousand explicit seeds).
pub const MAX_SWEEP_FILE_BYTES: u64 = 4 << 20;
/// Default cap for a scenario file (64 MiB: far above the largest realistic market).
pub const MAX_SCENARIO_FILE_BYTES: u64 = 64 << 20;

/// Reads at most `cap` bytes of the file at `path`.
///
/// # Errors
/// [`Error::Io`] if it cannot be opened or read; [`Error::InvalidValue`] naming the path and
/// the cap if it holds more than `cap` bytes (only `cap + 1` bytes are read to find out).
pub fn read_capped(path: impl AsRef<Path>, cap: u64) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(Error::invalid(
            path.display().to_string(),
            format!("more than {cap} bytes"),
            format!("input files are limited to {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`], as UTF-8 text.
///
/// # Errors
/// As [`read_capped`], and [`Error::Parse`] with the line of the first invalid byte for a
/// file that is not UTF-8.
pub fn read_to_string_capped(path: impl AsRef<Path>, cap: u64) -> Result<String> {
    let path = path.as_ref();
    let bytes = read_capped(path, cap)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        Error::Parse {
            file: path.display().to_string(),
            line,
            column: format!("byte {}", at + 1),
            reason: "not UTF-8 text".into(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_are_exact_and_devices_fail_fast() {
        let dir = std::env::temp_dir().join(format!("adbandit-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ten.txt");
        std::fs::write(&f, "0123456789").unwrap();
        assert_eq!(read_capped(&f, 10).unwrap().len(), 10);
        assert!(matches!(
            read_capped(&f, 9),
            Err(Error::InvalidValue { .. })
        ));
        std::fs::write(&f, b"ok\n\xff").unwrap();
        assert!(matches!(
            read_to_string_capped(&f, 100),
            Err(Error::Parse { line: 2, .. })
        ));
        assert!(matches!(
            read_capped(dir.join("missing"), 10),
            Err(Error::Io { .. })
        ));
        #[cfg(unix)]
        {
            let t = std::time::Instant::now();
            assert!(read_capped("/dev/zero", MAX_SCENARIO_FILE_BYTES).is_err());
            assert!(t.elapsed().as_secs() < 5);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
