import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Train is not implemented yet") }
}
