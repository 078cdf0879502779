import Foundation
import Testing
import TestSupport

/// The documentation a user navigates: README.md and docs/ link only to files and headings that
/// exist, and docs/reference/cli.md is exactly what the binary's `--help` prints.
@Suite struct DocsCLITests {
    /// The repository's root folder (this file is Tests/CLITests/DocsCLITests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every Markdown file of the documentation: README.md and docs/**.md.
    static func documents() throws -> [URL] {
        var files = [root.appendingPathComponent("README.md")]
        let walker = FileManager.default.enumerator(at: root.appendingPathComponent("docs"), includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            if url.pathExtension == "md" { files.append(url) }
        }
        return files
    }

    /// GitHub's anchor of a heading: lowercased, punctuation dropped, spaces as hyphens.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) || $0 == " " || $0 == "-" || $0 == "_"
        }.map(Character.init)).replacingOccurrences(of: " ", with: "-")
    }

    /// The anchors of a Markdown file's headings (outside fenced code).
    static func anchors(of text: String) throws -> Set<String> {
        var result: Set<String> = [], fenced = false
        let heading = try Regex("^#{1,6} (.*)$")
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { fenced.toggle(); continue }
            if !fenced, let match = try heading.firstMatch(in: line), let title = match.output[1].substring {
                result.insert(anchor(String(title)))
            }
        }
        return result
    }

    @Test func everyRelativeLinkResolvesToAFileAndHeading() throws {
        var checked = 0
        for file in try Self.documents() {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: try Regex("\\]\\(([^)\\s]+)\\)")) {
                guard let found = match.output[1].substring else { continue }
                let target = String(found)
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let linked = parts[0].isEmpty ? file : file.deletingLastPathComponent().appendingPathComponent(parts[0]).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: linked.path), "\(file.lastPathComponent): \(target) does not exist")
                if parts.count == 2, linked.pathExtension == "md", FileManager.default.fileExists(atPath: linked.path) {
                    let headings = try Self.anchors(of: try String(contentsOf: linked, encoding: .utf8))
                    #expect(headings.contains(parts[1]), "\(file.lastPathComponent): \(target) names no heading")
                }
                checked += 1
            }
        }
        #expect(checked > 30)
        #expect(try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).count <= 250)
    }

    @Test func theCommandLineReferenceMatchesTheBinarysHelp() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.root.appendingPathComponent("scripts/cli-reference.sh").path, "--check", seq2seqBinary().path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text.prefix(3000))")
    }
}
