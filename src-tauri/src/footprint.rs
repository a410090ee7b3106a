//! What start-up alone needed, handed back once the first screen is drawn (issue 25 §6).
//!
//! - **The program's own code.** The kernel maps 64 KB of the program file around each page
//!   of code first run, and start-up runs much that is not run again: opening and upgrading
//!   the record, reading the content, building the window. Those mappings are dropped. The
//!   pages stay in the system's file cache, so code that runs later is mapped again from
//!   memory as it runs, without reading the disk.
//! - **The heap's free pages**, which glibc keeps for reuse.
//!
//! Only the program file's executable mapping is dropped. It is never written (a
//! position-independent program has no relocations in its code), so nothing is lost: the
//! next use maps the same bytes again. Relocated data, the heap's used pages and the stacks
//! are left alone.

use std::sync::atomic::{AtomicBool, Ordering};

static HANDED_BACK: AtomicBool = AtomicBool::new(false);

/// Hands back start-up's code mappings and free heap pages, once per run; later calls do
/// nothing. Returns the size of the code mappings dropped, in bytes.
pub fn hand_back_start_up() -> usize {
    if HANDED_BACK.swap(true, Ordering::SeqCst) {
        return 0;
    }
    let dropped = drop_code_mappings();
    free_heap_pages();
    tracing::info!(
        "Start-up is over: {} KiB of the program's code mappings handed back",
        dropped / 1024
    );
    dropped
}

/// Hands the heap's free pages back to the system: glibc keeps them for reuse otherwise. The
/// one place the app does this (start-up's end here, a team's bursts in
/// relay/matrix/memory.rs); a walk over the heap, so not for hot paths.
pub fn free_heap_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drops the mappings of this program file's code (not its data), in bytes.
#[cfg(target_os = "linux")]
fn drop_code_mappings() -> usize {
    let (Ok(program), Ok(maps)) = (
        std::fs::read_link("/proc/self/exe"),
        std::fs::read_to_string("/proc/self/maps"),
    ) else {
        return 0;
    };
    let mut dropped = 0;
    for mapping in maps.lines().filter_map(code_mapping) {
        if mapping.path != program.as_os_str() {
            continue;
        }
        // SAFETY: the range is this program file's own code, mapped read-only and
        // executable from the file and never written; MADV_DONTNEED drops the page table
        // entries only, and the next use of any page maps the same bytes from the file.
        let done = unsafe {
            libc::madvise(
                mapping.start as *mut libc::c_void,
                mapping.end - mapping.start,
                libc::MADV_DONTNEED,
            )
        };
        if done == 0 {
            dropped += mapping.end - mapping.start;
        }
    }
    dropped
}

/// Elsewhere (Android, iOS) the program is mapped by the system's own loader: left alone.
#[cfg(not(target_os = "linux"))]
fn drop_code_mappings() -> usize {
    0
}

/// An executable, private mapping of a file, from one line of /proc/self/maps.
#[derive(Debug, PartialEq, Eq)]
struct CodeMapping<'a> {
    start: usize,
    end: usize,
    path: &'a str,
}

/// "start-end perms offset dev inode   /path": only read-only, executable, private mappings
/// of a file.
fn code_mapping(line: &str) -> Option<CodeMapping<'_>> {
    let mut fields = line.split_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    if fields.next()? != "r-xp" {
        return None;
    }
    // The path is the rest of the line from its first '/': nothing before it has one, and
    // the path itself may hold spaces.
    let path = &line[line.find('/')?..];
    Some(CodeMapping {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        path,
    })
    .filter(|mapping| mapping.end > mapping.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_executable_private_file_mappings() {
        assert_eq!(
            code_mapping("5581c0a00000-5581c1e00000 r-xp 00400000 fd:01 1234   /opt/Campaign Safe/campaign-safe"),
            Some(CodeMapping {
                start: 0x5581c0a00000,
                end: 0x5581c1e00000,
                path: "/opt/Campaign Safe/campaign-safe",
            })
        );
        for not_code in [
            "5581c0a00000-5581c1e00000 r--p 00000000 fd:01 1234 /usr/bin/campaign-safe",
            "5581c0a00000-5581c1e00000 rw-p 00000000 fd:01 1234 /usr/bin/campaign-safe",
            "5581c0a00000-5581c1e00000 r-xs 00000000 fd:01 1234 /usr/bin/campaign-safe",
            "7ffd1000-7ffd3000 r-xp 00000000 00:00 0 [vdso]",
            "7ffd3000-7ffd1000 r-xp 00000000 fd:01 1 /usr/bin/campaign-safe",
            "not a mapping",
            "",
        ] {
            assert_eq!(code_mapping(not_code), None, "{not_code}");
        }
    }

    /// How much of this program's code is mapped now, from /proc/self/smaps, in KiB.
    #[cfg(target_os = "linux")]
    fn code_resident_kib() -> u64 {
        let program = std::fs::read_link("/proc/self/exe").unwrap();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut in_code = false;
        let mut kib = 0;
        for line in smaps.lines() {
            // A mapping's first line starts with its address range; its figures follow.
            let starts_mapping = line.split_whitespace().next().is_some_and(|first| {
                first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            });
            if starts_mapping {
                in_code = code_mapping(line).is_some_and(|m| m.path == program.as_os_str());
            } else if let (true, Some(rss)) = (in_code, line.strip_prefix("Rss:")) {
                kib += rss.trim().trim_end_matches(" kB").parse::<u64>().unwrap();
            }
        }
        kib
    }

    /// Maps every page of this program's code, as a long start-up would: each is read once.
    #[cfg(target_os = "linux")]
    fn map_all_code() {
        let program = std::fs::read_link("/proc/self/exe").unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for mapping in maps.lines().filter_map(code_mapping) {
            if mapping.path == program.as_os_str() {
                for page in (mapping.start..mapping.end).step_by(4096) {
                    // SAFETY: a readable page of this program's own code mapping, read as a byte.
                    unsafe { std::ptr::read_volatile(page as *const u8) };
                }
            }
        }
    }

    /// The test program keeps running on the code it has just let go of, maps back only what
    /// it runs, and hands back once per run.
    #[cfg(target_os = "linux")]
    #[test]
    fn code_let_go_of_is_mapped_again_as_it_runs_and_only_once_per_run() {
        // Run alone, in a process of its own: other tests running beside it map code back
        // meanwhile, and the figures would say as much about them as about this.
        const ALONE: &str = "CAMPAIGN_SAFE_FOOTPRINT_TEST_ALONE";
        if std::env::var_os(ALONE).is_none() {
            let run = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "footprint::tests::code_let_go_of_is_mapped_again_as_it_runs_and_only_once_per_run",
                    "--test-threads=1",
                ])
                .env(ALONE, "1")
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&run.stdout);
            assert!(
                run.status.success() && said.contains("1 passed"),
                "alone, the test said:\n{said}{}",
                String::from_utf8_lossy(&run.stderr)
            );
            return;
        }
        map_all_code();
        let before = code_resident_kib();
        let dropped = hand_back_start_up();
        let after = code_resident_kib();
        assert!(dropped > 0, "no code mapping was found to drop");
        assert!(
            after < before / 2,
            "the program's code mapped: {before} KiB before, {after} KiB after"
        );
        assert_eq!(hand_back_start_up(), 0, "handed back once per run");
        // Code not run since is mapped again from the file as it runs.
        reads_only_executable_private_file_mappings();
    }
}
