fn main() {
    // The desktop window's build step (app manifest, icons, capabilities) runs only with the
    // `desktop` feature, so the core and CLI build on machines without WebKitGTK.
    #[cfg(feature = "desktop")]
    tauri_build::build();
}
