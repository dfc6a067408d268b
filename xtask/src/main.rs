//! Project tasks, so that one command does all set-up on a fresh Debian/Ubuntu machine:
//!
//! - `cargo xtask run [ARGS]`: install missing system packages, then `cargo run` (the app on the
//!   embedded SQLite default).
//! - `cargo xtask test`: install what the tests need (system packages, PostgreSQL binaries,
//!   tauri-driver), then formatting, clippy, and every test: unit, the core suite on SQLite and on
//!   a throwaway PostgreSQL, and the end-to-end suite in the real webview under Xvfb.
//! - `cargo xtask setup`: only the installation step.
//! - `cargo xtask bench [--leads N] [--backend sqlite|postgres]`: the benchmarks (optimised
//!   build), printing figures for both backends.
//!
//! Std only, so it builds in seconds before anything else is installed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages the app needs to build and run (from ../shared/PLATFORM.md).
const APP_PACKAGES: &[&str] =
    &["libwebkit2gtk-4.1-dev", "libgtk-3-dev", "librsvg2-dev", "libssl-dev", "build-essential", "pkg-config", "file"];

/// Extra packages for the tests: a display, WebKit's WebDriver, a PostgreSQL server.
const TEST_PACKAGES: &[&str] = &["xvfb", "xauth", "webkit2gtk-driver", "postgresql"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => setup(false).and_then(|()| cargo(&[&["run", "--"][..], &str_args(&args[1..])].concat(), &[])),
        Some("test") => setup(true).and_then(|()| test()),
        Some("setup") => setup(true),
        // PostgreSQL is needed too: the benchmark measures both backends.
        Some("bench") => setup(true).and_then(|()| {
            let bench = ["bench", "--no-default-features", "--bench", "crm", "--"];
            cargo(&[&bench[..], &str_args(&args[1..])].concat(), &[])
        }),
        _ => {
            eprintln!("usage: cargo xtask <run [ARGS] | test | setup | bench [ARGS]>");
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
    let env = [("CRM_TAURI_DRIVER", driver.as_str())];
    step("formatting");
    cargo(&["fmt", "--all", "--", "--check"], &[]).map_err(|e| format!("{e}\n(run `cargo fmt --all`)"))?;
    step("clippy");
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])?;
    step("tests: unit, core suite on SQLite and PostgreSQL, end-to-end in the webview");
    cargo(&["test", "--workspace", "--no-fail-fast"], &env)?;
    step("the core and CLI without the desktop feature");
    cargo(&["build", "--no-default-features", "--bin", "crm"], &[])?;
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

/// tauri-driver (the WebDriver bridge to WebKitWebDriver) in `target/tools`, installed once.
fn ensure_tauri_driver() -> Result<PathBuf, String> {
    let tools = root().join("target").join("tools");
    let driver = tools.join("bin").join("tauri-driver");
    if driver.exists() {
        return Ok(driver);
    }
    step("installing tauri-driver into target/tools");
    let tools_str = tools.to_str().ok_or("non-UTF-8 path")?;
    cargo(&["install", "tauri-driver", "--version", "^2", "--locked", "--root", tools_str], &[])?;
    Ok(driver)
}
