//! The Debian package: built from the program the tests use, installed with apt-get like
//! any downloaded .deb, started from where it was installed, then removed, leaving the
//! user's data where it was. Needs root or password-less sudo, as installing does.

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{App, Desktop, Driver, APP_BINARY};

const PACKAGE: &str = "campaign-safe";
const INSTALLED_PROGRAM: &str = "/usr/bin/campaign-safe";
const DESKTOP_ENTRY: &str = "/usr/share/applications/uk.campaignsafe.app.desktop";
const ICON: &str = "/usr/share/icons/hicolor/512x512/apps/uk.campaignsafe.app.png";

/// Runs a command, as root (through sudo when the tests are not root), and says what it
/// printed when it fails.
fn run(program: &str, args: &[&str], as_root: bool) -> Output {
    let mut command = if as_root && !is_root() {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "--preserve-env=DEBIAN_FRONTEND", program]);
        sudo
    } else {
        Command::new(program)
    };
    let output = command
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|error| panic!("could not run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

/// Removes the package when the test ends, passed or failed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        if installed() {
            let (program, mut args) = if is_root() {
                ("apt-get", vec![])
            } else {
                ("sudo", vec!["-n", "apt-get"])
            };
            args.extend(["remove", "-y", "-qq", PACKAGE]);
            let _ = Command::new(program)
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
    }
}

#[tokio::test]
async fn the_package_installs_starts_and_uninstalls_keeping_the_data() {
    assert!(
        !installed(),
        "{PACKAGE} is already installed on this machine; this test installs and removes it, \
         so remove it first: apt-get remove {PACKAGE}"
    );
    let built = run("scripts/package.sh", &["--binary", APP_BINARY], false);
    let deb = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        String::from_utf8_lossy(&built.stdout)
            .lines()
            .last()
            .expect("package.sh prints the package's path"),
    );
    assert!(deb.is_file(), "no package at {}", deb.display());

    // The program is linked with packed relocations (src-tauri/build.rs): the package must
    // ask for the glibc whose loader reads them, or it would install where it cannot start.
    let fields = run(
        "dpkg-deb",
        &["--field", &deb.display().to_string(), "Depends"],
        false,
    );
    let depends = String::from_utf8_lossy(&fields.stdout).into_owned();
    let packed = String::from_utf8_lossy(&run("objdump", &["-p", APP_BINARY], false).stdout)
        .contains("GLIBC_ABI_DT_RELR");
    assert!(
        !packed || depends.contains("libc6 (>= 2.36)"),
        "the program needs glibc 2.36 but the package depends on: {depends}"
    );

    let _cleanup = Installed;
    run(
        "apt-get",
        &["install", "-y", "-qq", &deb.display().to_string()],
        true,
    );
    assert!(installed(), "dpkg does not list {PACKAGE} as installed");
    for path in [INSTALLED_PROGRAM, DESKTOP_ENTRY, ICON] {
        assert!(
            Path::new(path).is_file(),
            "the package did not install {path}"
        );
    }
    run("desktop-file-validate", &[DESKTOP_ENTRY], false);
    let entry = std::fs::read_to_string(DESKTOP_ENTRY).unwrap();
    assert!(entry.contains("\nExec=campaign-safe\n"), "{entry}");
    assert!(entry.contains("\nIcon=uk.campaignsafe.app\n"), "{entry}");

    // The installed program, started the way the desktop would, shows Today.
    let data = tempfile::tempdir().unwrap();
    {
        let desktop = Desktop::start();
        let driver = Driver::start(&desktop, data.path());
        let app = App::launch_program(&driver, Path::new(INSTALLED_PROGRAM)).await;
        app.wait_for_text("main h1", "Today").await;
        app.screenshots("installed-today").await;
        app.quit(&driver).await;
    }
    let database = data.path().join("campaign-safe.sqlite3");
    assert!(database.is_file(), "the installed app made no database");

    run("apt-get", &["remove", "-y", "-qq", PACKAGE], true);
    assert!(
        !installed(),
        "{PACKAGE} is still installed after apt-get remove"
    );
    assert!(!Path::new(INSTALLED_PROGRAM).exists());
    assert!(
        database.is_file(),
        "removing the package took the user's data with it"
    );
}
