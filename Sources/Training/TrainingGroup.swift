/// The processes that train one model together (data parallelism over MPI), as the trainer needs
/// them: its rank and the group's size, and collectives whose results are the same on every rank,
/// bit for bit, because every sum is taken in a fixed order.
///
/// The trainer does not import MPI: the CLI passes the `Distributed` module's communicator, which
/// has exactly these methods. Every rank must call the collectives in the same order with the same
/// counts. Each method throws when the exchange fails (the error names the MPI call).
public protocol TrainingGroup: AnyObject {
    /// This process's rank, 0..<size; rank 0 writes the model folder.
    var rank: Int { get }
    /// Processes in the group (N ≥ 1).
    var size: Int { get }
    /// Whether a thread other than the one that created the group may call the collectives (never
    /// two threads at once): the overlapped exchange runs `allreduceBitwiseOr` and
    /// `sumInRankOrder` on a thread of its own while the backward pass goes on.
    var supportsExchangeThread: Bool { get }
    /// Every rank's `values`, indexed by rank (each rank passes the same count).
    func allgather(_ values: [Double]) throws -> [[Double]]
    /// Every rank's `values`, indexed by rank (each rank passes the same count).
    func allgather(_ values: [UInt64]) throws -> [[UInt64]]
    /// The bitwise OR of every rank's `flags`, in place (each rank passes the same count).
    func allreduceBitwiseOr(_ flags: inout [UInt8]) throws
    /// The element-wise sum over the ranks, in place and identical on every rank: element i becomes
    /// ((+0 + x₀[i]) + x₁[i]) + … + x_{N−1}[i], always in rank order, so the result does not depend
    /// on the transport or on timing.
    func sumInRankOrder(_ buffer: UnsafeMutableBufferPointer<Float>) throws
}
