import ArgumentParser
import Foundation

/// The signal (SIGINT or SIGTERM) that asked `translate` to stop, or 0. Written only by the handler.
nonisolated(unsafe) private var receivedStopSignal: sig_atomic_t = 0
/// 1 while the main thread waits for input with every finished line already written.
nonisolated(unsafe) private var waitingForInput: sig_atomic_t = 0

/// SIGINT/SIGTERM for `translate`: stop reading, keep every finished line, exit 130/143.
///
/// The handler only records the signal, and the command checks `exitStatus` between batches. While
/// the command waits for input (a terminal, a slow pipe) it may never come back to check, so there
/// the handler ends the process itself with `_exit(128 + signal)`: at that point every finished line
/// has been written (`whileWaitingForInput` is entered with standard output flushed), so nothing is
/// lost and no line is cut.
enum StopSignals {
    /// Installs the handler for SIGINT and SIGTERM (with SA_RESTART, so other system calls are not
    /// interrupted) and unblocks both: a blocked mask survives exec, and some launchers (Foundation's
    /// Process among them) start children with SIGINT blocked.
    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            receivedStopSignal = signal
            if waitingForInput != 0 { _exit(128 + signal) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
    }

    /// 128 + the signal once SIGINT (130) or SIGTERM (143) has arrived, else nil.
    static var exitStatus: Int32? {
        receivedStopSignal == 0 ? nil : 128 + receivedStopSignal
    }

    /// Runs `read` (a blocking read of input) with the handler allowed to exit at once. Call it only
    /// with every finished line written and standard output flushed. A signal that arrived before
    /// the call exits here.
    static func whileWaitingForInput<T>(_ read: () throws -> T) throws -> T {
        waitingForInput = 1
        defer { waitingForInput = 0 }
        if let status = exitStatus { throw ExitCode(status) }
        return try read()
    }
}
