import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct BenchTranslate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("BenchTranslate is not implemented yet") }
}
