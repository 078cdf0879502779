import Foundation
import Testing
import TestSupport

/// Examples/Translate, a package that depends on this one by version (a tag 0.1.0 on a clone of
/// this repository's HEAD, through a file:// URL, as a user's package depends on a release), is
/// built with SwiftPM's defaults and translates as `seq2seq translate` does. A flag or dependency
/// that would break our users (an unsafe flag, a product that does not build alone) fails here.
@Suite("the example package")
struct ExamplePackageCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func run(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: "/usr/bin/env"), [executable] + arguments, currentDirectory: directory, environment: environment)
    }

    @Test func aPackageDependingOnATaggedReleaseBuildsAndTranslates() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("example-package")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The dependency: this repository's HEAD, cloned (the directory name is the package's
        // identity) and tagged 0.1.0, with no other tag that `from: "0.1.0"` could prefer.
        let clone = dir.appendingPathComponent("seq2seq")
        let cloned = try run("git", ["clone", "--quiet", "--no-local", Self.root.path, clone.path])
        try #require(cloned.status == 0, "\(cloned.stderrText)")
        let tags = try run("git", ["-C", clone.path, "tag", "--list"])
        for tag in tags.stdoutText.split(separator: "\n") { _ = try run("git", ["-C", clone.path, "tag", "-d", String(tag)]) }
        let tagged = try run("git", ["-C", clone.path, "-c", "user.name=test", "-c", "user.email=test@localhost", "tag", "0.1.0"])
        try #require(tagged.status == 0, "\(tagged.stderrText)")
        let example = dir.appendingPathComponent("example")
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("Examples/Translate"), to: example)
        let environment = ["SEQ2SEQ_PACKAGE_URL": "file://" + clone.path]
        let build = try run("swift", ["build", "--package-path", example.path], environment: environment)
        try #require(build.status == 0, "\(build.stdoutText.suffix(3000)) \(build.stderrText.suffix(3000))")
        let input = Data("one two three\n\nfour five\nsix seven eight nine\n".utf8)
        let translated = try runProcess(example.appendingPathComponent(".build/debug/translate"), [p.model], stdin: input)
        let reference = try runSeq2seq(["translate", "--model", p.model], stdin: input)
        #expect(translated.status == 0, "\(translated.stderrText)")
        #expect(translated.stdoutText == reference.stdoutText)
    }
}
