//! Project tasks, so that one command does all set-up on a fresh Debian/Ubuntu machine:
//!
//! - `cargo xtask run [ARGS]`: install missing system packages, then `cargo run` (the app on the
//!   embedded SQLite default).
//! - `cargo xtask test`: install what the tests need (system packages, PostgreSQL binaries,
//!   tauri-driver), then formatting, clippy, and every test: unit, the core suite on SQLite and on
//!   a throwaway PostgreSQL, and the end-to-end suite in the real webview under Xvfb.
//! - `cargo xtask setup`: only the installation step.
//! - `cargo xtask bundle [ARGS]`: the installable packages (`.deb` and `.rpm` by default) through
//!   tauri-cli, installed once into `target/tools`; ARGS go to `cargo tauri build`.
//! - `cargo xtask bench [--leads N] [--backend sqlite|postgres]`: the benchmarks (optimised
//!   build), printing figures for both backends; with `--window`, the release app in its webview
//!   (click to painted result, memory) on SQLite.
//! - `cargo xtask soak [--computers N] [--seconds S | --minutes M]`: many office computers
//!   working the same records on PostgreSQL (optimised build), printing errors and invariants.
//!
//! Std only, so it builds in seconds before anything else is installed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages the app needs to build and run (from ../shared/PLATFORM.md).
const APP_PACKAGES: &[&str] =
    &["libwebkit2gtk-4.1-dev", "libgtk-3-dev", "librsvg2-dev", "libssl-dev", "build-essential", "pkg-config", "file"];

/// Extra packages for the tests: a display, WebKit's WebDriver, a PostgreSQL server and PgBouncer
/// in front of it, openssl (its test certificates).
const TEST_PACKAGES: &[&str] = &["xvfb", "xauth", "webkit2gtk-driver", "postgresql", "pgbouncer", "openssl"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => setup(false).and_then(|()| cargo(&[&["run", "--"][..], &str_args(&args[1..])].concat(), &[])),
        Some("test") => setup(true).and_then(|()| test()),
        Some("setup") => setup(true),
        Some("bundle") => setup(false).and_then(|()| bundle(&str_args(&args[1..]))),
        // PostgreSQL is needed too: the benchmark measures both backends.
        // `--window`: the release app in its webview instead (tests/window), on both backends.
        Some("bench") if args.iter().any(|a| a == "--window") => setup(true).and_then(|()| {
            let driver = ensure_tauri_driver()?;
            let driver = driver.to_str().ok_or("non-UTF-8 path")?.to_owned();
            let bench = ["bench", "--bench", "window", "--"];
            cargo(&[&bench[..], &str_args(&args[1..])].concat(), &[("CRM_TAURI_DRIVER", driver.as_str())])
        }),
        Some("bench") => setup(true).and_then(|()| {
            let bench = ["bench", "--no-default-features", "--bench", "crm", "--"];
            cargo(&[&bench[..], &str_args(&args[1..])].concat(), &[])
        }),
        // The shared office under load (PostgreSQL): long runs, figures printed.
        Some("soak") => setup(true).and_then(|()| {
            let soak = ["bench", "--no-default-features", "--bench", "soak", "--"];
            cargo(&[&soak[..], &str_args(&args[1..])].concat(), &[])
        }),
        // Random input into every use case on both backends: long runs, failures printed.
        Some("fuzz") => setup(true).and_then(|()| {
            let fuzz = ["bench", "--no-default-features", "--bench", "fuzz", "--"];
            cargo(&[&fuzz[..], &str_args(&args[1..])].concat(), &[])
        }),
        _ => {
            eprintln!("usage: cargo xtask <run [ARGS] | test | setup | bundle [ARGS] | bench [ARGS] | soak [ARGS] | fuzz [ARGS]>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn str_args(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}

fn test() -> Result<(), String> {
    let driver = ensure_tauri_driver()?;
    let driver = driver.to_str().ok_or("non-UTF-8 path")?.to_owned();
    // 8 MiB for each test's thread (libtest's default is 2): a debug build's future of every
    // use case (the permissions' matrix on PostgreSQL) polls through deep frames and overflowed
    // the default once in a while (measured: it overflows at 0.7 MiB)
    let env = [("CRM_TAURI_DRIVER", driver.as_str()), ("RUST_MIN_STACK", "8388608")];
    step("formatting");
    cargo(&["fmt", "--all", "--", "--check"], &[]).map_err(|e| format!("{e}\n(run `cargo fmt --all`)"))?;
    step("clippy");
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])?;
    step("tests: unit, core suite on SQLite and PostgreSQL, end-to-end in the webview");
    cargo(&["test", "--workspace", "--no-fail-fast"], &env)?;
    // checked, not built: a window-less `target/debug/crm` would replace the app's, and the
    // next `cargo xtask run` would rebuild it
    step("the core and CLI without the desktop feature: clippy");
    cargo(&["clippy", "--workspace", "--all-targets", "--no-default-features", "--", "-D", "warnings"], &[])?;
    Ok(())
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed", args.join(" ")))
    }
}

/// Installs the missing Debian packages as root, or says exactly what to install.
fn setup(for_tests: bool) -> Result<(), String> {
    let mut wanted: Vec<&str> = APP_PACKAGES.to_vec();
    if for_tests {
        wanted.extend_from_slice(TEST_PACKAGES);
    }
    if !Path::new("/usr/bin/dpkg-query").exists() {
        // Not Debian/Ubuntu: we cannot check packages by name, so check the one library that
        // matters and leave the rest to the system's own package names.
        let webkit = Command::new("pkg-config").args(["--exists", "webkit2gtk-4.1"]).status();
        return match webkit {
            Ok(s) if s.success() => Ok(()),
            _ => Err("WebKitGTK 4.1 development files were not found (pkg-config webkit2gtk-4.1). \
                      Install your system's webkit2gtk-4.1, GTK 3 and librsvg development packages \
                      (see https://v2.tauri.app/start/prerequisites/)"
                .into()),
        };
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing system packages: {0}\ninstall them with:\n  sudo apt-get install -y --no-install-recommends {0}",
            missing.join(" ")
        ));
    }
    step(&format!("installing system packages: {}", missing.join(" ")));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed"))
    }
}

/// `cargo tauri build` with tauri-cli from `target/tools` (installed once: it takes minutes).
fn bundle(args: &[&str]) -> Result<(), String> {
    let cli = ensure_tool("tauri-cli", "cargo-tauri")?;
    step("building the installable packages (release build)");
    run(Command::new(cli).arg("tauri").arg("build").args(args).current_dir(root()))?;
    eprintln!("packages: {}", root().join("target/release/bundle").display());
    Ok(())
}

/// tauri-driver (the WebDriver bridge to WebKitWebDriver) in `target/tools`, installed once.
fn ensure_tauri_driver() -> Result<PathBuf, String> {
    ensure_tool("tauri-driver", "tauri-driver")
}

/// A Tauri 2 tool from crates.io in `target/tools/bin`, installed on first use (pinned to major
/// version 2: crates.io also serves Tauri 3 alphas).
fn ensure_tool(package: &str, binary: &str) -> Result<PathBuf, String> {
    let tools = root().join("target").join("tools");
    let path = tools.join("bin").join(binary);
    if path.exists() {
        return Ok(path);
    }
    step(&format!("installing {package} into target/tools"));
    let tools_str = tools.to_str().ok_or("non-UTF-8 path")?;
    cargo(&["install", package, "--version", "^2", "--locked", "--root", tools_str], &[])?;
    Ok(path)
}
