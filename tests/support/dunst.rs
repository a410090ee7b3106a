//! dunst, a real notification daemon, on a test desktop's display and bus; read and driven
//! with its own `dunstctl`, as a person's keyboard shortcuts would.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{screenshot_dir, Desktop};

const WAIT: Duration = Duration::from_secs(30);

pub struct Dunst {
    child: Child,
    display: String,
    bus: String,
}

impl Dunst {
    /// Starts dunst with its default settings and waits until it answers.
    pub fn start(desktop: &Desktop) -> Self {
        let child = Command::new("dunst")
            .env("DISPLAY", &desktop.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst must be installed: run `make test`, which installs it");
        let dunst = Self {
            child,
            display: desktop.display.clone(),
            bus: desktop.bus.clone(),
        };
        let deadline = Instant::now() + WAIT;
        while dunst.try_ctl(&["count"]).is_none() {
            assert!(Instant::now() < deadline, "dunst did not answer on the bus");
            std::thread::sleep(Duration::from_millis(50));
        }
        dunst
    }

    fn try_ctl(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("dunstctl")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    pub fn ctl(&self, args: &[&str]) -> String {
        self.try_ctl(args)
            .unwrap_or_else(|| panic!("dunstctl {args:?} failed"))
    }

    /// Notices on screen or waiting to be.
    pub fn up(&self) -> usize {
        let count = self.ctl(&["count"]);
        let number = |label: &str| {
            count
                .lines()
                .find(|line| line.trim_start().starts_with(label))
                .and_then(|line| line.rsplit(':').next())
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or_else(|| panic!("dunstctl count said: {count}"))
        };
        number("Waiting") + number("Currently displayed")
    }

    /// Waits until exactly `count` notices are up, saying what was seen if they never are.
    pub fn wait_up(&self, count: usize, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let up = self.up();
            if up == count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: waited {WAIT:?} for {count} notices on dunst, {up} are up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The whole screen, where dunst draws its notices.
    pub fn screenshot(&self, name: &str) {
        let path = screenshot_dir().join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(format!("png:{}", path.display()))
            .status()
            .expect("ImageMagick's import must be installed: run `make test`");
        assert!(status.success(), "capturing {name}");
    }
}

impl Drop for Dunst {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
