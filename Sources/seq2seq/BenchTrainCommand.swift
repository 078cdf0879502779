import ArgumentParser

// Not yet implemented: replaced by the module's owner.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("BenchTrain is not implemented yet") }
}
