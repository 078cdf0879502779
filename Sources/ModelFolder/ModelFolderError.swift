/// A model folder (or one of its files) that cannot be used: one line naming the file and what is
/// wrong with it, and where it helps, what to do.
public struct ModelFolderError: Error, CustomStringConvertible, Equatable {
    /// The file (or folder) at fault.
    public let path: String
    public let message: String

    // Alike on purpose: a public memberwise init, written out (Swift synthesizes only an internal one).
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
