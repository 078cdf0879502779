import Foundation
import Testing
import TestSupport

/// What `seq2seq lab` refuses, through the built binary (the sweep itself is tested in LabTests).
@Suite("lab through the binary")
struct LabCLITests {
    @Test func anOutputThatIsAFileIsOneErrorLineNamingIt() throws {
        let dir = makeTemporaryDirectory("lab-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("not-a-folder").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        expectOneLineError(try runSeq2seq(["lab", "--quick", "--output", file]), mentions: [file])
    }

    @Test func aFolderOfAnotherPlanIsOneErrorLineNamingItsPlan() throws {
        let dir = makeTemporaryDirectory("lab-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("plan.json").path
        try Data(#"{"tasks": ["latch"]}"#.utf8).write(to: URL(fileURLWithPath: plan))
        expectOneLineError(try runSeq2seq(["lab", "--quick", "--output", dir.path]), mentions: [plan, "not a lab plan"])
    }

    @Test func workersOutOfRangeAreRefused() throws {
        let dir = makeTemporaryDirectory("lab-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        expectOneLineError(try runSeq2seq(["lab", "--quick", "--workers", "0", "--output", dir.path]), mentions: ["--workers"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("plan.json").path))
    }
}
