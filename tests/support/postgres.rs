//! PostgreSQL for Synapse, as a party would run it (issue 27 §2: "if Synapse on SQLite is the
//! limit, use PostgreSQL"). Only the load benchmark asks for it (`SYNAPSE_DB=postgres`).
//!
//! A cluster of its own in a temporary folder, started with Debian's `postgresql` programs and
//! reached only through a Unix socket in that folder: no TCP port, nothing shared with a
//! PostgreSQL the machine may run. Server settings are PostgreSQL's defaults (fsync on), so
//! the figures are those of a real server. PostgreSQL refuses to run as root; when this runs
//! as root, its programs run as the `postgres` user the package made.

use std::path::PathBuf;
use std::process::Command;

pub struct Postgres {
    /// The folder holding the cluster, its log and its socket.
    folder: PathBuf,
    bin: PathBuf,
    /// Removed once the server has stopped (fields drop after `Drop::drop`).
    _parent: tempfile::TempDir,
}

/// The newest PostgreSQL installed by Debian's `postgresql` package.
fn bin_folder() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path().join("bin"))
                .filter(|bin| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|version| version.file_name())
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found
        .pop()
        .expect("PostgreSQL is not installed: apt-get install postgresql")
}

fn running_as_root() -> bool {
    // SAFETY: geteuid only reads this process's user id.
    unsafe { libc::geteuid() == 0 }
}

impl Postgres {
    /// Makes a cluster in a temporary folder with one database, `synapse`, owned by the
    /// superuser `synapse` (C collation, as Synapse requires), and starts it.
    pub fn start() -> Self {
        let parent = tempfile::tempdir().expect("a folder for PostgreSQL");
        let folder = parent.path().join("postgres");
        std::fs::create_dir(&folder).expect("PostgreSQL's folder");
        if running_as_root() {
            // The postgres user must reach its folder: the temporary parent is root's, 0700.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o711))
                .expect("opening the folder to the postgres user");
            let chown = Command::new("chown").arg("postgres").arg(&folder).status();
            assert!(
                chown.is_ok_and(|status| status.success()),
                "chown postgres {}",
                folder.display()
            );
        }
        let server = Self {
            folder,
            bin: bin_folder(),
            _parent: parent,
        };
        let data = server.data();
        let socket = server.socket_dir();
        server.run("initdb", |c| {
            c.arg("-D").arg(&data);
            c.args(["--no-locale", "-E", "UTF8", "-U", "synapse", "--auth=trust"]);
        });
        let log = server.folder.join("postgres.log");
        server.run("pg_ctl", |c| {
            c.arg("-D").arg(&data).arg("-l").arg(&log);
            c.arg("-o")
                .arg(format!("-k {} -c listen_addresses=", socket.display()));
            c.args(["-w", "-t", "60", "start"]);
        });
        server.run("createdb", |c| {
            c.arg("-h").arg(&socket).args(["-U", "synapse", "synapse"]);
        });
        server
    }

    fn data(&self) -> PathBuf {
        self.folder.join("data")
    }

    /// Where the server's socket is: Synapse's `host`.
    pub fn socket_dir(&self) -> PathBuf {
        self.folder.clone()
    }

    /// The server's main process, while it runs (the benchmark adds its CPU and memory, and
    /// its children's, to Synapse's).
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// One of PostgreSQL's programs, as the `postgres` user when this runs as root.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, tool: &str, args: impl FnOnce(&mut Command)) {
        let mut command = self.command(tool);
        args(&mut command);
        let output = command.output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            output.status.success(),
            "{tool} failed: {}{} (log: {})",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.folder.join("postgres.log").display()
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let stopped = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .is_ok_and(|output| output.status.success());
        if !stopped {
            eprintln!(
                "PostgreSQL did not stop; its folder was {}",
                self.folder.display()
            );
        }
    }
}
