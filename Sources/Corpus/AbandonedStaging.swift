import Foundation

/// Staging folders (`.NAME.partial-PID`, `.NAME.old-PID`) that `shard` and `train` write beside
/// their output and rename into place; a run killed by a signal or `kill -9` leaves them behind.
public enum AbandonedStaging {
    /// Removes `.NAME.partial-PID` and `.NAME.old-PID` folders beside the output whose process no
    /// longer runs (a run killed by a signal or `kill -9` cannot clean up after itself), so a
    /// retry leaves nothing behind either.
    public static func remove(parent: String, name: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries {
            // An `.old-PID` folder is the earlier corpus of an interrupted --overwrite: it goes only
            // once a corpus stands at the output again.
            let outputExists = FileManager.default.fileExists(atPath: parent + "/" + name)
            for marker in [".\(name).partial-"] + (outputExists ? [".\(name).old-"] : []) where entry.hasPrefix(marker) {
                guard let pid = Int32(entry.dropFirst(marker.count)), pid != getpid() else { continue }
                if kill(pid, 0) != 0 && errno == ESRCH {
                    try? FileManager.default.removeItem(atPath: parent + "/" + entry)
                }
            }
        }
    }
}
