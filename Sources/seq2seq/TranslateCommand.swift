import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Translate is not implemented yet") }
}
