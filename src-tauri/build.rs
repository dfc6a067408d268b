fn main() {
    // The desktop window's build step (app manifest, icons, capabilities) runs only with the
    // `desktop` feature, so the core and CLI build on machines without WebKitGTK.
    #[cfg(feature = "desktop")]
    desktop();
}

/// Lists our commands in the app manifest: tauri-build then generates an `allow-<command>`
/// permission for each, and a command is callable only where a capability grants it.
#[cfg(feature = "desktop")]
fn desktop() {
    let commands: Vec<&'static str> = include_str!("desktop/commands.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let commands: &'static [&'static str] = Box::leak(commands.into_boxed_slice());
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri-build");
}
