import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Vocab: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Vocab is not implemented yet") }
}
