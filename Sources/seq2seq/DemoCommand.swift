import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Demo is not implemented yet") }
}
