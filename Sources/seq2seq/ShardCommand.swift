import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Shard: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Shard is not implemented yet") }
}
