import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Evaluate is not implemented yet") }
}
