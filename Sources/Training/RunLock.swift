import Foundation

/// An advisory lock that keeps two `train` runs out of one model folder: `flock` on the hidden file
/// `.NAME.lock` beside the folder (beside it, because a new folder is only renamed into place after
/// its first files are written). Held until the value is released or the process ends, `kill -9`
/// included, so it never goes stale.
///
/// The lock file is removed when the lock is released, so a run that ends (finished, refused or
/// failed) leaves the tree as it found it. Removing a locked file is safe because taking the lock
/// checks, after `flock`, that the file locked is still the one at the path (same inode); a run that
/// locked a file another run had just removed retries on the new one. After `kill -9` the empty file
/// stays behind and is reused by the next run.
public final class RunLock {
    private let fd: Int32
    private let lockPath: String

    /// Takes the lock for the model folder `path`. Throws `TrainingError.file` naming the folder
    /// when another process holds it, or when the lock file cannot be made.
    public init(modelFolder path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        lockPath = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".lock"
        while true {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw TrainingError.file(path: path, message: "cannot create its lock file \(lockPath): \(String(cString: strerror(errno)))")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let busy = errno == EWOULDBLOCK
                let reason = String(cString: strerror(errno))
                close(fd)
                throw TrainingError.file(path: path, message: busy
                    ? "another seq2seq train is writing this model folder; wait for it to end"
                    : "cannot lock \(lockPath): \(reason)")
            }
            // The holder before us may have removed the file between our open and our flock: then
            // the lock we hold is on a file nobody else will open; take it again on the path's file.
            var held = stat(), atPath = stat()
            if fstat(fd, &held) == 0 && stat(lockPath, &atPath) == 0
                && held.st_ino == atPath.st_ino && held.st_dev == atPath.st_dev {
                self.fd = fd
                return
            }
            close(fd)
        }
    }

    deinit {
        // Unlink while still holding the lock (see the type's comment), then release.
        unlink(lockPath)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
