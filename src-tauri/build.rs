//! Declares the app's own commands so Tauri checks them against the capabilities in
//! `src-tauri/capabilities/`: without an app manifest every command would be open to every window.

/// Every command the front end may be granted. Keep in step with `commands::handler()`.
const COMMANDS: &[&str] = &[
    "app_status",
    "unlock_record",
    "keep_key_under_passphrase",
    "lock_status",
    "lock_now",
    "lock_unlock",
    "lock_set_pin",
    "lock_set_duress_pin",
    "lock_set_idle",
    "backup_status",
    "backup_write",
    "backup_restore",
    "startup_probe",
    "app_first_screen_drawn",
    "emergency_info",
    "settings_time_zone",
    "settings_set_time_zone",
    "settings_location_days",
    "settings_set_location_days",
    "advice_list",
    "advice_section",
    "advice_set_tick",
    "sos_guides",
    "sos_resolve",
    "sos_guide",
    "sos_set_tick",
    "sos_devices",
    "sos_add_device",
    "sos_remove_device",
    "contacts_list",
    "contacts_save",
    "contacts_clear",
    "dnk_register",
    "dnk_add",
    "dnk_keep",
    "dnk_remove",
    "dnk_preview",
    "dnk_import",
    "dnk_export",
    "dnk_for_place",
    "plans_choices",
    "plans_list",
    "plans_detail",
    "plans_create",
    "plans_update",
    "plans_answer_risks",
    "plans_copy",
    "plans_delete",
    "plans_start",
    "aftercare_debrief",
    "aftercare_debriefed",
    "aftercare_follow_ups",
    "aftercare_complete",
    "aftercare_support",
    "review_status",
    "review_record",
    "review_set_weeks",
    "checkins_active",
    "checkins_detail",
    "checkins_start",
    "checkins_check_in",
    "checkins_extend",
    "checkins_end",
    "checkins_acknowledge",
    "checkins_ask",
    "checkins_acknowledge_duress",
    "checkins_snooze",
    "alarms_open",
    "incidents_vocabulary",
    "incidents_list",
    "incidents_detail",
    "incidents_record",
    "incidents_amend",
    "incidents_withdraw",
    "incidents_erase",
    "incidents_attach",
    "incidents_people",
    "incidents_person",
    "incidents_verify",
    "incidents_export_folder",
    "incidents_export",
    "incidents_import",
    "team_status",
    "team_sign_in",
    "team_confirm_device",
    "team_keep_recovery_key",
    "team_confirm_with_kept_key",
    "team_acknowledge_identity",
    "team_compare_start",
    "team_compare_accept",
    "team_compare_answer",
    "team_compare_stop",
    "team_create",
    "team_join",
    "team_invite",
    "team_set_duress_word",
    "team_members",
    "team_leave",
    "team_sign_out",
    "team_reconnect",
    "checkins_share",
    "choose_folder",
    "choose_file",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    // Content is embedded with include_dir!, which cargo does not track by itself.
    println!("cargo:rerun-if-changed=content");
    println!("cargo:rerun-if-changed=src-tauri/migrations");
    println!("cargo:rerun-if-changed=ui");

    pack_relative_relocations();

    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}

/// Links the program with its relative relocations packed (DT_RELR). As a position-
/// independent program of this size it carries 3.5 MB of them, which the loader reads at
/// every start and which then stay in memory; packed, they take a few kilobytes. Needs
/// glibc 2.36 where the program runs (a package built here depends on it) and GNU ld 2.38;
/// anywhere else (other systems, phones, older glibc, cross builds) the link is unchanged.
fn pack_relative_relocations() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let native_gnu_linux = var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && var("HOST") == var("TARGET");
    if native_gnu_linux && glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc is `major.minor` or newer (`getconf GNU_LIBC_VERSION`
/// prints "glibc 2.36").
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(output) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut numbers = text
        .trim()
        .trim_start_matches("glibc ")
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let found = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    found >= (major, minor)
}
