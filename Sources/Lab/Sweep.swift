import Basics
import Dispatch
import Foundation

/// Runs a ``SweepPlan`` into a folder, resumably and in parallel:
///
/// - `plan.json`: the plan (written once; a folder made by another plan is refused, so records of
///   different plans never mix);
/// - `trials.jsonl`: one ``TrialRecord`` per line, appended as each trial ends (whole lines, one
///   write each). A rerun skips the trials already recorded; a last line cut short by an
///   interruption is dropped and its trial run again.
///
/// Every trial depends only on its key and the plan (its seeds derive from the key), so the
/// records are the same whatever the number of workers and the order trials finish in, except
/// `wallSeconds`.
public struct Sweep {
    public let plan: SweepPlan
    public let directory: String
    /// Worker threads, each running whole trials.
    public let workers: Int

    /// A sweep of `plan` into `directory` (created when missing) with `workers` threads (at least 1).
    public init(plan: SweepPlan, directory: String, workers: Int) {
        self.plan = plan
        self.directory = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.workers = max(1, workers)
    }

    /// `DIR/trials.jsonl` and `DIR/plan.json`.
    public var recordsPath: String { directory + "/trials.jsonl" }
    public var planPath: String { directory + "/plan.json" }

    /// Runs every trial not yet in `trials.jsonl` and returns all the plan's records, sorted by key.
    /// `progress` is called (under a lock) after each trial with the record and the count done.
    /// Throws a ``LabError`` naming the file for an unreadable or foreign folder, a malformed record
    /// or a failed write.
    public func run(progress: (TrialRecord, Int, Int) -> Void = { _, _, _ in }) throws -> [TrialRecord] {
        try plan.validate()
        try prepareDirectory()
        var done = try Sweep.readRecords(recordsPath, truncatingTornLine: true)
        let keys = plan.trials
        let wanted = Set(keys)
        // Records of this plan only, the first one per key (a copied line is not counted twice).
        var seen = Set<TrialKey>()
        done = done.filter { wanted.contains($0.key) && seen.insert($0.key).inserted }
        let finished = Set(done.map(\.key))
        let remaining = keys.filter { !finished.contains($0) }
        guard let handle = FileHandle(forWritingAtPath: recordsPath) else { throw LabError("\(recordsPath): cannot open for writing") }
        defer { try? handle.close() }
        do { try handle.seekToEnd() } catch { throw LabError("\(recordsPath): \(error.localizedDescription)") }

        let lock = NSLock()
        var next = 0, count = done.count, failure: Error?
        var results = done
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let plan = self.plan, total = keys.count, path = recordsPath
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                lock.lock()
                guard failure == nil, next < remaining.count else { lock.unlock(); return }
                let key = remaining[next]
                next += 1
                lock.unlock()
                let record = TrialRecord.run(key, plan: plan)
                lock.lock()
                defer { lock.unlock() }
                do {
                    var line = try encoder.encode(record)
                    line.append(0x0A)
                    try handle.write(contentsOf: line)
                    results.append(record)
                    count += 1
                    progress(record, count, total)
                } catch {
                    failure = LabError("\(path): cannot append a record: \(error.localizedDescription)")
                }
            }
        }
        if let failure { throw failure }
        return results.sorted { $0.key < $1.key }
    }

    /// Creates the folder and `plan.json`, or checks that an existing `plan.json` holds this plan.
    private func prepareDirectory() throws {
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw LabError("\(directory): cannot create the folder: \(error.localizedDescription)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        if let data = fm.contents(atPath: planPath) {
            let existing: SweepPlan
            do { existing = try JSONDecoder().decode(SweepPlan.self, from: data) } catch {
                throw LabError("\(planPath): not a lab plan (\(error.localizedDescription))")
            }
            if existing != plan {
                throw LabError("\(planPath): this folder holds a sweep with another plan; choose a new --output folder (or delete it)")
            }
        } else {
            do {
                let writer = try AtomicFileWriter(path: planPath)
                try writer.write(String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n")
                try writer.commit()
            } catch { throw LabError("\(planPath): cannot write: \(error)") }
        }
        if !fm.fileExists(atPath: recordsPath) && !fm.createFile(atPath: recordsPath, contents: nil) {
            throw LabError("\(recordsPath): cannot create")
        }
    }

    /// The records of a `trials.jsonl` (none when the file does not exist). A last line without
    /// its newline is an interrupted append: it is ignored, and with `truncatingTornLine` cut from
    /// the file. Any other line that is not a record throws a ``LabError`` naming the file and line.
    public static func readRecords(_ path: String, truncatingTornLine: Bool = false) throws -> [TrialRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw LabError("\(path): cannot read") }
            return []
        }
        let bytes = [UInt8](data)
        var complete = bytes.count
        if let lastNewline = bytes.lastIndex(of: 0x0A) { complete = lastNewline + 1 } else { complete = 0 }
        if complete < bytes.count && truncatingTornLine {
            guard truncate(path, off_t(complete)) == 0 else { throw LabError("\(path): cannot drop the interrupted last line") }
        }
        let decoder = JSONDecoder()
        var records: [TrialRecord] = []
        var lineNumber = 0
        for line in bytes[0..<complete].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            lineNumber += 1
            if line.isEmpty { continue }
            do { records.append(try decoder.decode(TrialRecord.self, from: Data(line))) } catch {
                throw LabError("\(path):\(lineNumber): not a trial record (\(Sweep.reason(error)))")
            }
        }
        return records
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: return "\(error)"
        }
    }
}
