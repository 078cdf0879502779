import Hummingbird

/// Errors of the Serving module. `status` is the HTTP answer to a request that caused it; the
/// description is the one line shown to the client (in `{"error": …}`) or on the command line.
public enum ServingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A server setting is unusable; the text names the option.
    case invalidSetting(String)
    /// The request is malformed (not UTF-8, not JSON, wrong fields, bad option values).
    case badRequest(String)
    /// The request is larger than a limit (body, line count, line length).
    case tooLarge(String)
    /// No route for this method and path.
    case notFound(method: String, path: String)
    /// The queue holds `ServerSettings.queueCapacity` sentences already.
    case queueFull
    /// The server is shutting down and takes no new work.
    case shuttingDown
    /// The listening socket could not be opened; the text names the address and the reason.
    case cannotListen(String)

    /// The HTTP status a request that caused this error is answered with.
    public var status: HTTPResponse.Status {
        switch self {
        case .invalidSetting, .cannotListen: return .internalServerError
        case .badRequest: return .badRequest
        case .tooLarge: return .contentTooLarge
        case .notFound: return .notFound
        case .queueFull, .shuttingDown: return .serviceUnavailable
        }
    }

    public var description: String {
        switch self {
        case .invalidSetting(let message), .badRequest(let message), .tooLarge(let message): return message
        case .notFound(let method, let path): return "no route for \(method) \(path)"
        case .queueFull: return "the translation queue is full; retry later"
        case .shuttingDown: return "the server is shutting down"
        case .cannotListen(let message): return "cannot listen on \(message)"
        }
    }
}
