//! The Tauri window (being written).
