//! Setting up the load benchmark's team: app devices, plain members in a child process (so
//! that their memory is not counted as the apps'), the room, and sessions out.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer;

/// The child process's order: register and join the plain members.
pub const MEMBERS_VAR: &str = "RELAY_LOAD_MEMBERS";

/// The child process: registers `count` plain members, prints their ids, reads the room id
/// once they are invited, joins them all, and exits.
pub async fn plain_members(spec: &str) {
    let parts: Vec<String> = spec.split(' ').map(str::to_owned).collect();
    let (port, count): (u16, usize) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
    let mut clients = Vec::new();
    for batch in (0..count).collect::<Vec<usize>>().chunks(10) {
        let mut made = tokio::task::JoinSet::new();
        for i in batch {
            let (name, token) = (format!("member{i}"), parts[1].clone());
            made.spawn(async move {
                volunteer::volunteer(&name, &Synapse::running_at(port, &token)).await
            });
        }
        for client in made.join_all().await {
            println!("{}", client.user_id().expect("signed in"));
            clients.push(client);
        }
    }
    println!("READY");
    std::io::stdout().flush().ok();
    let mut room = String::new();
    std::io::stdin().read_line(&mut room).expect("room id");
    for batch in clients.chunks(10) {
        let mut joined = tokio::task::JoinSet::new();
        for client in batch {
            let (client, room) = (client.clone(), room.trim().to_owned());
            joined.spawn(async move { volunteer::join_as_volunteer(&client, &room).await });
        }
        joined.join_all().await;
    }
    println!("JOINED");
}

/// Makes a team of `devices` in one room, with the reader and `plain` more members from a
/// child process.
pub async fn team(
    devices: &[Device],
    server: &Synapse,
    plain: usize,
    reader: Option<&matrix_sdk::Client>,
) -> (String, Vec<String>) {
    let team = devices[0].team.create_team("Ward team").await.unwrap();
    for device in &devices[1..] {
        devices[0]
            .team
            .invite(&team.room_id, &device.user_id)
            .await
            .unwrap();
        device.join_when_invited(&team.link, "Ward team").await;
    }
    if let Some(reader) = reader {
        let reader_id = reader.user_id().unwrap().to_string();
        devices[0]
            .team
            .invite(&team.room_id, &reader_id)
            .await
            .unwrap();
        volunteer::join_as_volunteer(reader, &team.room_id).await;
    }
    let mut members = Vec::new();
    if plain > 0 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(
                MEMBERS_VAR,
                format!("{} {} {plain}", server.port, server.token),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the plain members' process");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line == "READY" {
                break;
            }
            members.push(line);
        }
        for member in &members {
            devices[0].team.invite(&team.room_id, member).await.unwrap();
        }
        writeln!(child.stdin.take().unwrap(), "{}", team.room_id).unwrap();
        assert!(
            lines.any(|l| l.map(|l| l == "JOINED").unwrap_or(false)),
            "the plain members did not join"
        );
        assert!(child.wait().unwrap().success());
    }
    let everyone = devices.len() + usize::from(reader.is_some()) + plain;
    wait_until("everyone has joined", Duration::from_secs(120), || async {
        devices[0]
            .team
            .members(&team.room_id)
            .await
            .map(|m| m.len() >= everyone)
            .unwrap_or(false)
    })
    .await;
    (team.room_id, members)
}

/// Starts `count` sessions named `prefix` and a number, spread over the devices, shared in
/// `room` with one plain member each on chat; waits until every device has them all.
pub async fn sessions_out(
    devices: &[Device],
    room: &str,
    members: &[String],
    prefix: &str,
    count: usize,
) -> Vec<(String, usize)> {
    let mut sessions = Vec::new();
    for i in 0..count {
        let (title, owner) = (format!("{prefix} {i:03}"), i % devices.len());
        let canvasser = format!("Canvasser {i}");
        let id = devices[owner].start(&title, &[canvasser.as_str()], "", "", 5);
        let on_chat: Vec<String> = members.get(i).cloned().into_iter().collect();
        devices[owner].share(id, room, &on_chat);
        sessions.push((title, owner));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let missing: Vec<(usize, Vec<&str>)> = devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let lacks = sessions
                    .iter()
                    .filter(|(title, _)| d.session(title).is_none())
                    .map(|(title, _)| title.as_str())
                    .collect::<Vec<_>>();
                (i, lacks)
            })
            .filter(|(_, lacks)| !lacks.is_empty())
            .collect();
        if missing.is_empty() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let mut seen = Vec::new();
            for (i, lacks) in &missing {
                seen.push(format!(
                    "device {i} lacks {lacks:?}; {}",
                    devices[*i].report().await
                ));
            }
            panic!(
                "waited 300 s for every device to have every session:\n{}",
                seen.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sessions
}

pub async fn devices(names: std::ops::Range<usize>, server: &Synapse) -> Vec<Device> {
    let mut made = Vec::new();
    for i in names {
        made.push(Device::new(&format!("app{i}"), server).await);
    }
    made
}
