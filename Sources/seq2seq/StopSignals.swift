import ArgumentParser
import Foundation
import Synchronization

/// The signal (SIGINT or SIGTERM) that asked `translate` to stop, or 0. Written only by the handler.
/// Lock-free atomics (async-signal-safe), sequentially consistent so that the main thread's
/// "waiting" store and its read of the signal are never reordered around the handler's.
private let receivedStopSignal = Atomic<Int32>(0)
/// 1 while the main thread waits for input with every finished line already written.
private let waitingForInput = Atomic<Int32>(0)

/// SIGINT/SIGTERM for `translate`: stop reading, translate and write the lines already read, exit
/// 130/143; a second signal exits at once (every line written so far is whole).
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
        // Initialise both globals here, not on first use inside the handler (not signal-safe).
        _ = receivedStopSignal.load(ordering: .relaxed) + waitingForInput.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            let earlier = receivedStopSignal.exchange(signal, ordering: .sequentiallyConsistent)
            // A second signal stops at once (the first is finishing the lines already read).
            if earlier != 0 || waitingForInput.load(ordering: .sequentiallyConsistent) != 0 { _exit(128 + signal) }
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
        let signal = receivedStopSignal.load(ordering: .sequentiallyConsistent)
        return signal == 0 ? nil : 128 + signal
    }

    /// Runs `read` (a blocking read of input) with the handler allowed to exit at once. Call it only
    /// with every finished line written and standard output flushed. A signal that arrived before
    /// the call exits here.
    static func whileWaitingForInput<T>(_ read: () throws -> T) throws -> T {
        waitingForInput.store(1, ordering: .sequentiallyConsistent)
        defer { waitingForInput.store(0, ordering: .sequentiallyConsistent) }
        if let status = exitStatus { throw ExitCode(status) }
        return try read()
    }
}
