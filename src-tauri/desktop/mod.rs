//! The Tauri window: a static UI in `ui/` calling thin commands over the core.
//!
//! Each command parses its arguments, loads the signed-in [`crate::Actor`] afresh, calls one use
//! case of [`crate::Crm`] and maps the error to `{code, message, fields}` in the user's language
//! ([`error::UiError`]). Business rules and permission checks live in the core only. Every command
//! is listed in `commands.txt`: build.rs puts them in the app manifest and the main window's
//! capability in `tauri.conf.json` grants exactly those, nothing else.

mod account;
mod backups;
mod catalog;
mod documents;
mod error;
mod exports;
mod imports;
mod sales;
mod secret;
mod setup;
mod state;
mod work;

use std::process::ExitCode;

pub use error::UiError;
pub use state::Desktop;

/// Chooses how WebKit paints, before anything starts GTK (the environment is read once, and
/// must not change while other threads run). WebKitGTK paints with Skia on the GPU through
/// OpenGL; a computer without a GPU (no DRM render node: a virtual machine, a remote desktop,
/// this project's test machine) gets Mesa's software OpenGL, which does a GPU's work on the CPU
/// and keeps every tile and texture as the page process's memory. There Skia's own CPU
/// painting is the better fit: at a million leads, after every page, WebKit's page process held
/// 206 MB instead of 301 (20 MB above an empty database's instead of 58), and clicks were
/// painted as soon (tests/window). An explicit `WEBKIT_SKIA_ENABLE_CPU_RENDERING` is left as it is.
///
/// Painting on the CPU, a computer of two or three cores paints with two threads where WebKit
/// would use one: on this project's two-core machine the frame after a click was on screen
/// sooner in every run (at a million leads, a changed period 324-394 ms instead of 439-520, next
/// page 127-138 instead of 152-195; tests/window, README "In the window"). An explicit
/// `WEBKIT_SKIA_CPU_PAINTING_THREADS` is left as it is.
pub fn before_start() {
    #[cfg(target_os = "linux")]
    {
        const CPU_PAINTING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
        const PAINTING_THREADS: &str = "WEBKIT_SKIA_CPU_PAINTING_THREADS";
        let has_gpu = std::fs::read_dir("/dev/dri")
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
            .unwrap_or(false);
        if !has_gpu && std::env::var_os(CPU_PAINTING).is_none() {
            std::env::set_var(CPU_PAINTING, "1");
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            if cores <= 3 && std::env::var_os(PAINTING_THREADS).is_none() {
                std::env::set_var(PAINTING_THREADS, "2");
            }
        }
    }
}

/// Opens the window. `database_url` (from `--database-url` / `CRM_DATABASE_URL`) skips the
/// first-run screen.
pub fn run(database_url: Option<String>) -> ExitCode {
    crate::auth::warm_up();
    let state = Desktop::new(database_url.filter(|u| !u.trim().is_empty()), setup::initial_language());
    let result = tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            setup::app_start,
            setup::set_language,
            setup::diagnostics,
            setup::choose_local_database,
            setup::test_office_database,
            setup::choose_office_database,
            setup::set_up_office_database,
            setup::pick_ca_file,
            account::create_first_admin,
            account::sign_in,
            account::sign_out,
            account::change_password,
            account::list_users,
            account::create_user,
            account::update_user,
            account::reset_password,
            account::list_roles,
            account::list_permissions,
            account::set_role_permissions,
            catalog::list_services,
            catalog::get_service,
            catalog::create_service,
            catalog::update_service,
            catalog::set_service_archived,
            catalog::delete_service,
            catalog::service_options,
            catalog::campaign_stats,
            catalog::stats_series,
            catalog::server_notices,
            catalog::client_sales,
            sales::list_campaigns,
            sales::campaign_options,
            sales::create_campaign,
            sales::update_campaign,
            sales::start_campaign,
            sales::finish_campaign,
            sales::set_campaign_archived,
            sales::list_channels,
            sales::create_channel,
            sales::rename_channel,
            sales::set_channel_archived,
            sales::list_leads,
            sales::get_lead,
            sales::create_lead,
            sales::update_lead,
            sales::set_lead_archived,
            sales::convert_lead,
            sales::list_clients,
            sales::update_client,
            sales::set_client_archived,
            sales::add_contract_to_client,
            sales::list_contracts,
            sales::create_contract,
            sales::update_contract,
            sales::attach_document,
            sales::set_contract_archived,
            documents::pick_document,
            documents::open_document,
            documents::save_document_copy,
            work::lead_card,
            work::client_card,
            work::timeline,
            work::add_note,
            work::history,
            work::set_lead_status,
            work::set_owner,
            work::user_options,
            work::list_lost_reasons,
            work::create_lost_reason,
            work::rename_lost_reason,
            work::set_lost_reason_archived,
            work::create_task,
            work::update_task,
            work::set_task_done,
            work::list_tasks,
            work::task_counts,
            work::my_day,
            work::lead_board,
            work::board_column,
            work::bulk_leads,
            work::bulk_clients,
            work::bulk_archive,
            work::saved_filters,
            work::save_filter,
            work::delete_saved_filter,
            work::lead_duplicates,
            work::merge_leads,
            backups::list_backups,
            backups::back_up_now,
            backups::progress,
            backups::restore_backup,
            backups::move_to_office,
            exports::export_list,
            imports::pick_import_file,
            imports::preview_import,
            imports::run_import,
            imports::cancel_import,
            imports::save_rejected_rows,
            imports::undo_import,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crm: cannot open the window: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// The commands the main window may call are exactly those of the app manifest.
    #[test]
    fn the_capability_grants_exactly_the_listed_commands() {
        let listed: Vec<String> = include_str!("commands.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).expect("tauri.conf.json parses");
        let capabilities = conf["app"]["security"]["capabilities"].as_array().expect("inline capabilities");
        assert_eq!(capabilities.len(), 1, "one capability, for the main window");
        assert_eq!(capabilities[0]["windows"], serde_json::json!(["main"]));
        let granted: Vec<String> = capabilities[0]["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| p.as_str().expect("plain permission").to_owned())
            .collect();
        assert_eq!(granted, listed);
    }
}
