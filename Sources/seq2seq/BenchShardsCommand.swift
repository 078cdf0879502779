import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct BenchShards: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("BenchShards is not implemented yet") }
}
