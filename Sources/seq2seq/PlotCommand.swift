import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("plot is not implemented yet") }
}
