import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Tokenize is not implemented yet") }
}
