import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Detokenize is not implemented yet") }
}
