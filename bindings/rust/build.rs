//! Finds libgguftk, in this order:
//!   1. GGUFTK_DIR: an install prefix (`cmake --install build --prefix DIR`): DIR/include and
//!      DIR/lib (or lib64), the shared library;
//!   2. pkg-config's `gguftk` module (PKG_CONFIG_PATH for a non-system prefix): the shared library;
//!   3. else the static library built with CMake from the repository this crate sits in (CUDA
//!      off), into OUT_DIR. GGUFTK_FROM_SOURCE=1 skips 1 and 2.
//! For 1 and 2 this crate's own tests and examples get an rpath to the library's directory; a
//! program depending on the crate needs the library on its loader path (system prefix,
//! LD_LIBRARY_PATH, or its own `-Wl,-rpath`): DEP_GGUFTK_LIBDIR names the directory.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Found {
    include_dir: PathBuf,
    lib_dir: PathBuf,
    shared: bool,
}

fn main() {
    for var in ["GGUFTK_DIR", "GGUFTK_FROM_SOURCE", "PKG_CONFIG_PATH", "PKG_CONFIG"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let from_source = env::var_os("GGUFTK_FROM_SOURCE").map_or(false, |v| v == "1");
    let found = if from_source {
        build_from_source()
    } else if let Some(dir) = env::var_os("GGUFTK_DIR") {
        from_prefix(Path::new(&dir))
    } else {
        from_pkg_config().unwrap_or_else(build_from_source)
    };

    println!("cargo:rustc-link-search=native={}", found.lib_dir.display());
    if found.shared {
        println!("cargo:rustc-link-lib=dylib=gguftk");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", found.lib_dir.display());
    } else {
        // The archive holds C++ objects: their runtime comes with it (libm and libpthread
        // Rust's std links anyway).
        println!("cargo:rustc-link-lib=static=gguftk");
        println!("cargo:rustc-link-lib=dylib=stdc++");
    }
    let header = found.include_dir.join("gguftk").join("gguftk.h");
    if !header.is_file() {
        panic!("gguftk: no header at {}", header.display());
    }
    // The header test (tests/header.rs) compiles C against the same header.
    println!("cargo:rustc-env=GGUFTK_INCLUDE_DIR={}", found.include_dir.display());
    println!("cargo:include={}", found.include_dir.display());
    println!("cargo:libdir={}", found.lib_dir.display());
}

fn from_prefix(prefix: &Path) -> Found {
    let lib_dir = ["lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"]
        .iter()
        .map(|d| prefix.join(d))
        .find(|d| d.join("libgguftk.so").exists())
        .unwrap_or_else(|| panic!("gguftk: GGUFTK_DIR={}: no lib/libgguftk.so under it", prefix.display()));
    Found { include_dir: prefix.join("include"), lib_dir, shared: true }
}

fn pkg_config_variable(pkg_config: &str, name: &str) -> Option<PathBuf> {
    let out = Command::new(pkg_config).args(["--variable", name, "gguftk"]).output().ok()?;
    let value = String::from_utf8(out.stdout).ok()?.trim().to_string();
    if out.status.success() && !value.is_empty() {
        Some(PathBuf::from(value))
    } else {
        None
    }
}

fn from_pkg_config() -> Option<Found> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let status = Command::new(&pkg_config).args(["--atleast-version=0.1", "gguftk"]).status().ok()?;
    if !status.success() {
        return None;
    }
    Some(Found {
        include_dir: pkg_config_variable(&pkg_config, "includedir")?,
        lib_dir: pkg_config_variable(&pkg_config, "libdir")?,
        shared: true,
    })
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("gguftk: cannot run {cmd:?}: {e}"));
    if !status.success() {
        panic!("gguftk: {cmd:?} failed ({status})");
    }
}

/// The repository's libgguftk.a, built by its own CMake project with only what the archive needs.
fn build_from_source() -> Found {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let source = manifest.join("../..");
    let include_dir = source.join("lib/include");
    if !source.join("CMakeLists.txt").is_file() || !include_dir.join("gguftk/gguftk.h").is_file() {
        panic!(
            "gguftk: libgguftk not found: set GGUFTK_DIR to its install prefix or install it where \
             pkg-config finds it (this copy of the crate is not inside the gguftk repository, so it \
             cannot build it)"
        );
    }
    for dir in ["CMakeLists.txt", "cmake", "lib", "kernels"] {
        println!("cargo:rerun-if-changed={}", source.join(dir).display());
    }
    let build = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("cmake-build");
    run(Command::new("cmake").arg("-S").arg(&source).arg("-B").arg(&build).args([
        "-DCMAKE_BUILD_TYPE=Release",
        "-DGGUFTK_CUDA=OFF",
        "-DGGUFTK_REMOTE=OFF",
        "-DBUILD_TESTING=OFF",
    ]));
    let jobs = env::var("NUM_JOBS").unwrap_or_else(|_| "2".to_string());
    run(Command::new("cmake").arg("--build").arg(&build).args(["--target", "gguftk_static", "--parallel", &jobs]));
    // lib/src/capi/libgguftk.a: the C API with the core in it (lib/libgguftk.a is the core alone).
    Found { include_dir, lib_dir: build.join("lib/src/capi"), shared: false }
}
