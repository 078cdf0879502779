import Foundation

// Every byte the tool writes to standard output or standard error goes through this file.
//
// Standard output: one buffered writer (`StandardOutput.shared`) for every command. Bytes collect in
// memory and go out in `write(2)` calls when the buffer passes 64 KiB, when a command flushes (translate
// flushes after every batch) and at exit (`Seq2Seq.main`). Every write is checked: a full disk (ENOSPC,
// `> /dev/full`), a standard output the caller closed (`>&-`) or any other failure becomes one line
// `seq2seq: error: stdout: <reason>` and exit status 1, never lost output with status 0. A reader
// that left (`| head`: EPIPE; SIGPIPE is ignored so it arrives as an error) is the one quiet case:
// the command stops at once with no message and status 141 (128 + SIGPIPE), which is what `cat`
// and the other standard tools end with there.
//
// Standard error: `printError` writes one line and never traps; if standard error itself cannot be
// written, the line is dropped (there is nowhere left to say so) and the exit status, already non-zero
// for an error, says it.

/// Standard output, buffered, with every `write(2)` checked (see the comment at the top of this file).
///
/// Use from the main thread only (every command writes from there).
final class StandardOutput {
    /// The process's one writer to file descriptor 1.
    static let shared = StandardOutput(fileDescriptor: 1)

    /// Bytes not yet written.
    private var pending: [UInt8] = []
    private let fileDescriptor: Int32
    /// Buffered bytes above which `write` goes out to the descriptor.
    private let threshold = 1 << 16
    /// On a terminal every call goes out at once, as C's line-buffered stdout would do.
    private let isTerminal: Bool

    /// Set when the caller started us with this descriptor closed (it now points at /dev/null).
    private var closedByCaller = false

    /// Records that the caller closed the descriptor (`>&-`): any output then fails with
    /// "stdout: closed by the caller" instead of vanishing into /dev/null.
    func markClosedByCaller() { closedByCaller = true }

    /// For commands that write files and then report them on standard output (`plot`, `average`):
    /// fails before any file is written when the caller closed standard output.
    /// - Throws: `StandardOutputError` "closed by the caller".
    func requireOpen() throws {
        if closedByCaller { throw StandardOutputError(reason: "closed by the caller (Bad file descriptor)", code: EBADF) }
    }

    private init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        isTerminal = isatty(fileDescriptor) != 0
        pending.reserveCapacity(threshold + 4096)
    }

    /// Appends `text` (no newline added); writes the buffer out once it passes 64 KiB (at once on a
    /// terminal).
    /// - Throws: `StandardOutputError` when the write fails.
    func write(_ text: String) throws {
        pending.append(contentsOf: text.utf8)
        if pending.count >= threshold || isTerminal { try flush() }
    }

    /// Appends `text` and a newline; writes the buffer out once it passes 64 KiB (at once on a
    /// terminal).
    /// - Throws: `StandardOutputError` when the write fails.
    func writeLine(_ text: String) throws {
        pending.append(contentsOf: text.utf8)
        pending.append(0x0A)
        if pending.count >= threshold || isTerminal { try flush() }
    }

    /// Lets `body` append bytes directly to the buffer (the tokenizer writes UTF-8 in place), then
    /// writes the buffer out once it passes 64 KiB (at once on a terminal).
    /// - Throws: what `body` throws, or `StandardOutputError` when the write fails.
    func append(_ body: (inout [UInt8]) throws -> Void) throws {
        try body(&pending)
        if pending.count >= threshold || isTerminal { try flush() }
    }

    /// Writes every buffered byte now (retrying short writes and EINTR).
    /// - Throws: `StandardOutputError` naming the reason (e.g. "No space left on device", "Broken
    ///   pipe"); the unwritten bytes are dropped so that a later flush does not repeat the error.
    func flush() throws {
        var written = 0
        defer { pending.removeAll(keepingCapacity: true) }
        if closedByCaller && !pending.isEmpty {
            throw StandardOutputError(reason: "closed by the caller (Bad file descriptor)", code: EBADF)
        }
        while written < pending.count {
            let n = pending.withUnsafeBytes { Foundation.write(fileDescriptor, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    // A non-blocking stdout (inherited O_NONBLOCK) that is full: wait until it drains.
                    var ready = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, -1)
                    continue
                }
                throw StandardOutputError(reason: String(cString: strerror(errno)), code: errno)
            }
            written += n
        }
    }
}

/// Standard output could not be written (disk full, closed by the caller, the reader left, …).
struct StandardOutputError: Error, CustomStringConvertible {
    /// `strerror` of the failed `write(2)`.
    let reason: String
    /// `errno` of the failed `write(2)`.
    let code: Int32
    var description: String { "stdout: \(reason)" }
    /// The reader of a pipe went away (EPIPE): a quiet exit, not an error line.
    var readerLeft: Bool { code == EPIPE }
    /// The exit status after the reader left: 128 + SIGPIPE, what a tool killed by SIGPIPE ends with.
    static let readerLeftStatus: Int32 = 128 + SIGPIPE
}

/// `text` with every control character but the tab and newline written as an escape (`\x1B`,
/// `\u0085`): error lines quote bytes from the user's files, and a terminal must show them, not act
/// on them (an ESC sequence that clears the screen, a NUL, a carriage return).
func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { isControl($0.value) }) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
        let v = scalar.value
        if !isControl(v) { result.unicodeScalars.append(scalar); continue }
        result += v < 0x80 ? String(format: "\\x%02X", v) : String(format: "\\u%04X", v)
    }
    return result
}

/// C0 controls (but the tab and the newline: `demo` and reports print several lines on purpose,
/// and an error is cut to its first line before it is printed), DEL and the C1 controls.
private func isControl(_ v: UInt32) -> Bool { (v < 0x20 && v != 0x09 && v != 0x0A) || v == 0x7F || (0x80...0x9F).contains(v) }

/// Writes `line` and a newline to standard error in one `write(2)` call (retried on EINTR and short
/// writes). Never traps: when standard error cannot be written the line is dropped.
func printError(_ line: String) {
    var bytes = Array(terminalSafe(line).utf8)
    bytes.append(0x0A)
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress! + written, $0.count - written) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        written += n
    }
}
