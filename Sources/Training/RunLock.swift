import Foundation

/// An advisory lock that keeps two `train` runs out of one model folder: `flock` on the hidden file
/// `.NAME.lock` beside the folder (beside it, because a new folder is only renamed into place after
/// its first files are written). Held until the value is released or the process ends, `kill -9`
/// included, so it never goes stale. The lock file itself stays (a few bytes, hidden).
public final class RunLock {
    private let fd: Int32

    /// Takes the lock for the model folder `path`. Throws `TrainingError.file` naming the folder
    /// when another process holds it, or when the lock file cannot be made.
    public init(modelFolder path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let lockPath = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".lock"
        fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
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
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
