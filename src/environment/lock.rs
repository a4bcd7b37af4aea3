//! The env lock: an exclusive `flock` on `<venv>/.plonk/lock`, held while a plonk process
//! changes the environment, so that two processes never interleave their changes.
//!
//! The kernel releases a `flock` when its holder exits, however it exits, so a killed plonk
//! never leaves a stale lock behind (the journal, not the lock, recovers its half-done work).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs4::{FileExt, TryLockError};

use super::error::EnvError;

/// An acquired env lock; released when dropped.
#[derive(Debug)]
pub struct EnvLock {
    file: File,
    path: PathBuf,
}

impl EnvLock {
    /// Takes the exclusive lock of the environment at `env_root`.
    ///
    /// When another process holds it, `on_wait` is called once (so the CLI can say "waiting
    /// for another plonk process") and this waits: forever with `timeout: None`, else up to
    /// `timeout` before failing with [`EnvError::LockTimeout`].
    pub fn acquire(
        env_root: &Path,
        timeout: Option<Duration>,
        on_wait: impl FnOnce(),
    ) -> Result<EnvLock, EnvError> {
        let dir = env_root.join(".plonk");
        std::fs::create_dir_all(&dir)
            .map_err(|err| EnvError::io("create the folder", &dir, err))?;
        let path = dir.join("lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| EnvError::io("open the lock file", &path, err))?;
        let lock_error = |err| EnvError::io("lock", &path, err);

        match FileExt::try_lock(&file) {
            Ok(()) => return Ok(Self::locked(file, path)),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(err)) => return Err(lock_error(err)),
        }
        on_wait();
        let Some(timeout) = timeout else {
            FileExt::lock(&file).map_err(lock_error)?;
            return Ok(Self::locked(file, path));
        };
        let deadline = Instant::now() + timeout;
        // flock has no timed wait: poll, backing off so a long wait costs nothing.
        let mut pause = Duration::from_millis(10);
        loop {
            match FileExt::try_lock(&file) {
                Ok(()) => return Ok(Self::locked(file, path)),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(err)) => return Err(lock_error(err)),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(EnvError::LockTimeout { path, timeout });
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    fn locked(mut file: File, path: PathBuf) -> EnvLock {
        // The holder's pid helps whoever inspects a long wait; it is not part of the protocol,
        // so failing to write it is harmless.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        EnvLock { file, path }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate even if
        // a child process inherited the descriptor.
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn uncontended_lock_does_not_wait() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = EnvLock::acquire(tmp.path(), None, || panic!("waited")).unwrap();
        assert_eq!(lock.path(), tmp.path().join(".plonk/lock"));
        let pid = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        drop(lock);
        // Released on drop: taken again at once.
        EnvLock::acquire(tmp.path(), Some(Duration::ZERO), || panic!("waited")).unwrap();
    }

    #[test]
    fn threads_are_serialised() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let inside = Arc::new(AtomicUsize::new(0));
        let waits = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (root, inside, waits, start) =
                    (root.clone(), inside.clone(), waits.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..5 {
                        let _lock = EnvLock::acquire(&root, Some(Duration::from_secs(30)), || {
                            waits.fetch_add(1, Ordering::SeqCst);
                        })
                        .unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        std::thread::sleep(Duration::from_millis(5));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert!(waits.load(Ordering::SeqCst) > 0);
    }

    #[test]
    fn another_process_makes_us_wait_then_time_out_or_succeed() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".plonk")).unwrap();
        let lock_path = tmp.path().join(".plonk/lock");
        // A separate process holds the flock until we close its stdin.
        let mut holder = Command::new("python3")
            .args([
                "-c",
                "import fcntl, sys\n\
                 f = open(sys.argv[1], 'a')\n\
                 fcntl.flock(f, fcntl.LOCK_EX)\n\
                 print('locked', flush=True)\n\
                 sys.stdin.read()",
            ])
            .arg(&lock_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");

        let mut waited = false;
        let err = EnvLock::acquire(tmp.path(), Some(Duration::from_millis(150)), || {
            waited = true
        })
        .unwrap_err();
        assert!(waited);
        assert!(matches!(err, EnvError::LockTimeout { .. }), "{err}");
        assert!(err.to_string().contains(".plonk/lock"), "{err}");

        // Release it a little later: a waiting acquire gets it.
        let stdin = holder.stdin.take().unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(stdin);
        });
        let mut waited = false;
        EnvLock::acquire(tmp.path(), Some(Duration::from_secs(30)), || waited = true).unwrap();
        assert!(waited);
        releaser.join().unwrap();
        holder.wait().unwrap();
    }

    #[test]
    fn unwritable_root_is_an_error_naming_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = EnvLock::acquire(&file, None, || {}).unwrap_err();
        assert!(err.to_string().contains(".plonk"), "{err}");
    }
}
