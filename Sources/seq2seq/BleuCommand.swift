import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct Bleu: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("Bleu is not implemented yet") }
}
