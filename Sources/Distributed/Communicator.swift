import CMPI
import Foundation
import Glibc
import Synchronization

/// A failed MPI call: the call's name, Open MPI's error code and its text.
public struct DistributedError: Error, CustomStringConvertible, Sendable {
    /// The MPI function that failed, e.g. `MPI_Allgather`.
    public var call: String
    /// Open MPI's error code (-1 for a count this wrapper refused before calling MPI).
    public var code: Int32
    /// MPI_Error_string's text, or why the wrapper refused.
    public var message: String

    public var description: String { "\(call) failed: \(message) (MPI error \(code))" }
}

/// Open MPI's world communicator (all processes `mpirun` started), with Swift errors instead of
/// MPI's default abort-on-error, and only Swift types in its API.
///
/// Every collective must be called by every rank in the same order with the same counts. MPI is
/// initialised for serialized threads (`MPI_THREAD_SERIALIZED`): any thread may call a method, but
/// never two at once (the trainer's exchange thread runs while the thread that started it waits).
/// Collectives block until every rank has joined; the gradient sum and the OR of flags wait by
/// testing their non-blocking request with short sleeps between tests, so a rank waiting on the
/// network leaves its core to the backward pass beside it. A rank that dies is noticed by `mpirun`, which
/// then stops every other rank (SIGTERM, then SIGKILL): a collective never waits for a dead rank
/// for long. A rank that hangs without dying is caught by ``startWatchdog(timeout:report:)``.
public final class Communicator {
    /// This process's rank, 0..<size.
    public let rank: Int
    /// Processes in the world (N).
    public let size: Int
    /// The host this rank runs on (MPI_Get_processor_name).
    public let processorName: String
    private var finalized = false
    /// Scratch of ``sumInRankOrder(_:)``: N received chunks and the summed chunk, kept between
    /// calls so a training step allocates nothing once warm.
    private var scratch: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)

    /// Whether this process was started by Open MPI's `mpirun`/`mpiexec` (which sets
    /// `OMPI_COMM_WORLD_SIZE`); a plain start never initialises MPI.
    public static var isLaunchedByMPI: Bool { getenv("OMPI_COMM_WORLD_SIZE") != nil }

    /// Initialises MPI (once per process) and returns the world communicator, whose errors are
    /// returned to the caller (MPI_ERRORS_RETURN). Throws ``DistributedError`` when MPI cannot
    /// start.
    public static func world() throws -> Communicator {
        var initialized: Int32 = 0
        try check(MPI_Initialized(&initialized), "MPI_Initialized")
        var provided: Int32 = 0
        if initialized == 0 {
            try check(MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided), "MPI_Init_thread")
        } else {
            try check(MPI_Query_thread(&provided), "MPI_Query_thread")
        }
        let comm = cmpi_comm_world()
        try check(MPI_Comm_set_errhandler(comm, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(comm, &size), "MPI_Comm_size")
        var name = [CChar](repeating: 0, count: Int(cmpi_max_processor_name()) + 1)
        var length: Int32 = 0
        try check(MPI_Get_processor_name(&name, &length), "MPI_Get_processor_name")
        return Communicator(rank: Int(rank), size: Int(size), processorName: String(cString: name),
                            supportsExchangeThread: provided >= cmpi_thread_serialized())
    }

    /// Whether MPI runs with `MPI_THREAD_SERIALIZED` or more, so a thread other than the one that
    /// started MPI may call collectives (one at a time): what an overlapped exchange needs.
    public let supportsExchangeThread: Bool

    private init(rank: Int, size: Int, processorName: String, supportsExchangeThread: Bool) {
        self.rank = rank
        self.size = size
        self.processorName = processorName
        self.supportsExchangeThread = supportsExchangeThread
    }

    deinit { scratch.deallocate() }

    /// Ends MPI in this process (MPI_Finalize); every rank must call it, after its last
    /// collective. Later calls do nothing.
    public func finalize() {
        if finalized { return }
        finalized = true
        MPI_Finalize()
    }

    /// Stops every rank of the job at once (MPI_Abort) with exit status `code`: for a rank that
    /// cannot go on while the others may be waiting in a collective.
    public func abort(code: Int32) -> Never {
        MPI_Abort(cmpi_comm_world(), code)
        _exit(code)
    }

    /// Waits until every rank has called it.
    public func barrier() throws {
        try collective("MPI_Barrier") { MPI_Barrier(cmpi_comm_world()) }
    }

    /// Rank `root`'s bytes on every rank (the length is sent first, so the others' `bytes` may
    /// have any length on entry).
    public func broadcast(_ bytes: inout [UInt8], root: Int = 0) throws {
        var count = [UInt64(bytes.count)]
        try count.withUnsafeMutableBufferPointer {
            let pointer = $0.baseAddress
            try collective("MPI_Bcast") { MPI_Bcast(pointer, 1, cmpi_uint64(), Int32(root), cmpi_comm_world()) }
        }
        guard count[0] <= UInt64(Int32.max) else {
            throw DistributedError(call: "MPI_Bcast", code: -1, message: "\(count[0]) bytes is more than one broadcast carries")
        }
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(count[0])) }
        try bytes.withUnsafeMutableBufferPointer {
            let (pointer, count) = ($0.baseAddress, Int32($0.count))
            try collective("MPI_Bcast") { MPI_Bcast(pointer, count, cmpi_uint8(), Int32(root), cmpi_comm_world()) }
        }
    }

    /// The element-wise reduction of every rank's `values` under `operation`, in place. MPI does
    /// not fix the order of a floating-point sum; use ``sumInRankOrder(_:)`` where bits matter.
    public func allreduce(_ values: inout [Int64], _ operation: ReductionOperation) throws {
        try allreduce(&values, datatype: cmpi_int64(), operation)
    }

    /// See ``allreduce(_:_:)-(Int64)``; `bitwiseOr` is not defined for floating point.
    public func allreduce(_ values: inout [Double], _ operation: ReductionOperation) throws {
        precondition(operation != .bitwiseOr, "MPI defines no bitwise OR of doubles")
        try allreduce(&values, datatype: cmpi_double(), operation)
    }

    /// See ``allreduce(_:_:)-(Int64)``; `bitwiseOr` is not defined for floating point. MPI's own
    /// order of summation (it may differ with the rank count, the transport and the algorithm
    /// Open MPI picks); `bench allreduce` compares it with ``sumInRankOrder(_:)``.
    public func allreduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {
        precondition(operation != .bitwiseOr, "MPI defines no bitwise OR of floats")
        let count = try Self.int32(values.count, "MPI_Allreduce")
        try collective("MPI_Allreduce") {
            MPI_Allreduce(cmpi_in_place(), values.baseAddress, count, cmpi_float(), operation.handle, cmpi_comm_world())
        }
    }

    /// See ``allreduce(_:_:)-(Int64)``.
    public func allreduce(_ values: inout [UInt8], _ operation: ReductionOperation) throws {
        try allreduce(&values, datatype: cmpi_uint8(), operation)
    }

    /// The bitwise OR of every rank's `flags`, in place (MPI_Iallreduce, waited for by polling).
    public func allreduceBitwiseOr(_ flags: inout [UInt8]) throws {
        let count = try Self.int32(flags.count, "MPI_Allreduce")
        try flags.withUnsafeMutableBufferPointer {
            let pointer = $0.baseAddress
            try polled("MPI_Allreduce") {
                MPI_Iallreduce(cmpi_in_place(), pointer, count, cmpi_uint8(), cmpi_op_bor(), cmpi_comm_world(), &$0)
            }
        }
    }

    private func allreduce<T>(_ values: inout [T], datatype: MPI_Datatype, _ operation: ReductionOperation) throws {
        let count = try Self.int32(values.count, "MPI_Allreduce")
        try values.withUnsafeMutableBufferPointer {
            let pointer = $0.baseAddress
            try collective("MPI_Allreduce") {
                MPI_Allreduce(cmpi_in_place(), pointer, count, datatype, operation.handle, cmpi_comm_world())
            }
        }
    }

    /// Every rank's `values`, indexed by rank (every rank passes the same count).
    public func allgather(_ values: [Double]) throws -> [[Double]] {
        try allgather(values, datatype: cmpi_double())
    }

    /// Every rank's `values`, indexed by rank (every rank passes the same count).
    public func allgather(_ values: [UInt64]) throws -> [[UInt64]] {
        try allgather(values, datatype: cmpi_uint64())
    }

    private func allgather<T: Numeric>(_ values: [T], datatype: MPI_Datatype) throws -> [[T]] {
        let count = try Self.int32(values.count, "MPI_Allgather")
        _ = try Self.int32(values.count * size, "MPI_Allgather")
        var all = [T](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { send in
            try all.withUnsafeMutableBufferPointer { receive in
                try collective("MPI_Allgather") {
                    MPI_Allgather(send.baseAddress, count, datatype, receive.baseAddress, count, datatype, cmpi_comm_world())
                }
            }
        }
        return (0..<size).map { Array(all[$0 * values.count..<($0 + 1) * values.count]) }
    }

    /// The element-wise sum of every rank's `buffer`, in place and identical on every rank, with a
    /// fixed order: element i becomes ((+0 + x₀[i]) + x₁[i]) + … + x_{N−1}[i] whatever the
    /// transport or timing, so N ranks give the bits of the same sum taken in one process.
    ///
    /// A reduce-scatter then an allgather, as a ring allreduce moves data: the buffer is cut into
    /// N chunks; rank c receives chunk c of every rank (MPI_Alltoallv), adds them in rank order,
    /// and every rank receives every summed chunk (MPI_Allgatherv), both non-blocking and waited for
    /// by polling. Each rank sends and receives 2·(N−1)/N of the buffer. Throws when the buffer has
    /// more than 2³¹−1 elements or a call fails.
    public func sumInRankOrder(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        let n = buffer.count, ranks = size
        _ = try Self.int32(n, "MPI_Alltoallv")
        if ranks == 1 {
            // (+0 + x₀): the same operation as below, for the one rank.
            for i in 0..<n { buffer[i] = 0 + buffer[i] }
            return
        }
        func start(_ chunk: Int) -> Int { chunk * n / ranks }
        let starts = (0...ranks).map(start)
        let mine = starts[rank + 1] - starts[rank]
        let needed = mine * (ranks + 1)
        if scratch.count < needed {
            scratch.deallocate()
            scratch = .allocate(capacity: needed)
        }
        let received = scratch.baseAddress!, summed = scratch.baseAddress! + mine * ranks
        // Send counts and offsets, then receive counts and offsets, in one array whose pointer
        // stays valid until both non-blocking collectives complete (they may read the counts
        // until then).
        let counts: [Int32] = (0..<ranks).map { Int32(starts[$0 + 1] - starts[$0]) } + (0..<ranks).map { Int32(starts[$0]) }
            + [Int32](repeating: Int32(mine), count: ranks) + (0..<ranks).map { Int32($0 * mine) }
        try counts.withUnsafeBufferPointer { counts in
            let sendCounts = counts.baseAddress!, sendOffsets = sendCounts + ranks
            let receiveCounts = sendCounts + 2 * ranks, receiveOffsets = sendCounts + 3 * ranks
            try polled("MPI_Alltoallv") {
                MPI_Ialltoallv(buffer.baseAddress, sendCounts, sendOffsets, cmpi_float(),
                               received, receiveCounts, receiveOffsets, cmpi_float(), cmpi_comm_world(), &$0)
            }
            for i in 0..<mine { summed[i] = 0 }
            for r in 0..<ranks {
                let part = received + r * mine
                for i in 0..<mine { summed[i] = summed[i] + part[i] }
            }
            try polled("MPI_Allgatherv") {
                MPI_Iallgatherv(summed, Int32(mine), cmpi_float(), buffer.baseAddress, sendCounts, sendOffsets,
                                cmpi_float(), cmpi_comm_world(), &$0)
            }
        }
    }

    // MARK: Watchdog

    /// Monotonic nanoseconds at which the collective now running began; 0 when none runs.
    private let collectiveStart = Atomic<Int64>(0)
    /// Index into `collectiveNames` of the collective now running.
    private let collectiveIndex = Atomic<Int>(0)
    private static let collectiveNames = ["", "MPI_Barrier", "MPI_Bcast", "MPI_Allreduce", "MPI_Allgather",
                                          "MPI_Alltoallv", "MPI_Allgatherv"]

    /// Runs one blocking collective, with its start visible to the watchdog, and checks its code.
    private func collective(_ call: String, _ body: () -> Int32) throws {
        collectiveIndex.store(Self.collectiveNames.firstIndex(of: call) ?? 0, ordering: .relaxed)
        collectiveStart.store(Self.monotonicNanoseconds(), ordering: .sequentiallyConsistent)
        let code = body()
        collectiveStart.store(0, ordering: .sequentiallyConsistent)
        try Self.check(code, call)
    }

    /// Starts one non-blocking collective (`start` sets the request and returns the start's code)
    /// and waits for it, visible to the watchdog like ``collective(_:_:)``: a few tests in a row,
    /// then a test every 50 µs, sleeping between (Open MPI moves TCP data inside the tests; the
    /// kernel's socket buffers carry it meanwhile), so the waiting thread takes almost no CPU.
    private func polled(_ call: String, _ start: (inout MPI_Request?) -> Int32) throws {
        collectiveIndex.store(Self.collectiveNames.firstIndex(of: call) ?? 0, ordering: .relaxed)
        collectiveStart.store(Self.monotonicNanoseconds(), ordering: .sequentiallyConsistent)
        defer { collectiveStart.store(0, ordering: .sequentiallyConsistent) }
        var request: MPI_Request? = cmpi_request_null()
        try Self.check(start(&request), call)
        var done: Int32 = 0
        var tests = 0
        var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
        while true {
            try Self.check(MPI_Test(&request, &done, cmpi_status_ignore()), call)
            if done != 0 { return }
            tests += 1
            if tests > 32 { nanosleep(&pause, nil) }
        }
    }

    /// Stops this process when one collective has waited longer than `seconds` for the other
    /// ranks (a rank that hangs without dying, a stalled network, which `mpirun` does not notice):
    /// a background thread checks about once a second, calls `report` with one line of text
    /// ("no answer from the other ranks for 30 s in MPI_Allgather") and ends the process with
    /// status 1, after which `mpirun` stops the other ranks. No effect for `seconds` ≤ 0.
    public func startWatchdog(timeout seconds: Double, report: @escaping (String) -> Void) {
        guard seconds > 0, seconds.isFinite else { return }
        let limit = Int64(min(seconds, 1e9) * 1e9)
        let interval = min(1, seconds / 4)
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: interval)
                let start = collectiveStart.load(ordering: .sequentiallyConsistent)
                if start != 0 && Self.monotonicNanoseconds() - start > limit {
                    let call = Self.collectiveNames[collectiveIndex.load(ordering: .relaxed)]
                    report("no answer from the other ranks for \(Int(seconds.rounded())) s in \(call) (a rank hangs or the network stalled)")
                    _exit(1)
                }
            }
        }
        thread.name = "seq2seq.MPIWatchdog"
        thread.start()
    }

    private static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    // MARK: Errors

    static func check(_ code: Int32, _ call: String) throws {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw DistributedError(call: call, code: code, message: String(cString: text))
    }

    private static func int32(_ count: Int, _ call: String) throws -> Int32 {
        guard let value = Int32(exactly: count) else {
            throw DistributedError(call: call, code: -1, message: "\(count) elements is more than one MPI call carries (2^31 − 1)")
        }
        return value
    }
}

/// An element-wise reduction of ``Communicator/allreduce(_:_:)-(Int64)``.
public enum ReductionOperation: Sendable {
    case sum, max, min, bitwiseOr

    var handle: MPI_Op {
        switch self {
        case .sum: return cmpi_op_sum()
        case .max: return cmpi_op_max()
        case .min: return cmpi_op_min()
        case .bitwiseOr: return cmpi_op_bor()
        }
    }
}
