import ArgumentParser
import Corpus
import Distributed
import Foundation
import Training

/// The communicator is what the trainer needs of a group of ranks: same methods, same meaning.
extension Communicator: TrainingGroup {}

/// An error every rank of an `mpirun` stops on alike (the ranks disagree; a rank's setup failed),
/// printed by one rank only (`message` nil on the others).
struct CollectiveFailure: Error {
    let message: String?
}

/// Whether the ranks have compared their setups yet: before, a failing rank must take part in the
/// comparison (the others wait there); after, every collective is the training loop's.
final class RankSetup {
    var compared = false
}

extension Train {
    /// One rank of `mpirun -np N seq2seq train …`: starts MPI, trains, ends MPI.
    ///
    /// An error every rank meets alike (the ranks disagree; too many bad batches) is printed by
    /// rank 0 and every rank ends MPI and exits 1. Any other error may be this rank's alone while
    /// the others wait in a collective, so the rank prints it (naming itself) and stops the whole
    /// job with MPI_Abort. Rank 0 writes checkpoints atomically, so the last one stays intact.
    func runAsRank() throws {
        let world: Communicator
        do {
            world = try Communicator.world()
        } catch {
            throw CLIError("cannot start MPI under mpirun: \(error)")
        }
        let (rank, size, output) = (world.rank, world.size, self.output)
        world.startWatchdog(timeout: mpiTimeout) { reason in
            printError("seq2seq: error: rank \(rank) of \(size): \(reason); stopping the job; the last checkpoint in "
                       + "\(output) is intact: continue with --resume and the same mpirun -np")
        }
        do {
            try train(world: world)
        } catch let code as ExitCode {
            world.finalize()
            throw code
        } catch let error as CollectiveFailure {
            if let message = error.message { printError("seq2seq: error: \(message)") }
            world.finalize()
            throw ExitCode(1)
        } catch let error as TrainingError {
            if case .tooManyBadBatches = error {
                if world.rank == 0 { printError("seq2seq: error: \(error)") }
                world.finalize()
                throw ExitCode(1)
            }
            abort(world, error)
        } catch {
            abort(world, error)
        }
        world.finalize()
    }

    private func abort(_ world: Communicator, _ error: Error) -> Never {
        let message = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        printError("seq2seq: error: rank \(world.rank) of \(world.size): \(message)")
        world.abort(code: 1)
    }

    /// This rank failed before the ranks compared their setups: it joins the comparison with a
    /// failure, and the lowest failing rank prints its error (naming itself unless it is rank 0).
    /// Throws ``CollectiveFailure`` on every rank.
    func reportSetupFailure(world: Communicator, setup: RankSetup, error: Error) throws -> Never {
        setup.compared = true
        let status = try world.allgather([UInt64(1)])
        let firstFailed = status.firstIndex { $0[0] != 0 } ?? world.rank
        guard firstFailed == world.rank else { throw CollectiveFailure(message: nil) }
        let text = (error as? CLIError)?.description ?? "\(error)"
        let line = text.split(separator: "\n").first.map(String.init) ?? text
        throw CollectiveFailure(message: world.rank == 0 ? line : "rank \(world.rank) of \(world.size): \(line)")
    }

    /// Compares, across the ranks, fingerprints of what each rank is about to train: the config
    /// (architecture, training options, ranks, --accumulate), both vocabularies, the shard
    /// manifest, and the starting weights, optimizer and training state. Throws ``CollectiveFailure``
    /// on every rank (rank 0 prints it), naming the ranks and what differs, when any rank's differs from rank 0's.
    func checkRanksAgree(world: Communicator, setup: RankSetup, directory: ModelDirectory, shardSet: ShardSet,
                         trainer: Trainer) throws {
        // First whether every rank got this far (see reportSetupFailure).
        setup.compared = true
        if try world.allgather([UInt64(0)]).contains(where: { $0[0] != 0 }) { throw CollectiveFailure(message: nil) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let parts: [(String, [UInt8])] = [
            ("model size and training options (config)", Array(try encoder.encode(directory.config))),
            ("source vocabulary", Array(directory.sourceVocabulary.serialized().utf8)),
            ("target vocabulary", Array(directory.targetVocabulary.serialized().utf8)),
            ("shard folder (manifest)", Array(try encoder.encode(shardSet.manifest))),
            // The overlapped exchange calls other collectives in another order: every rank must
            // exchange the same way.
            ("the gradient exchange (--no-overlap-exchange)", [overlapExchange && world.supportsExchangeThread ? 1 : 0]),
            ("starting weights and training state (checkpoint)",
             withUnsafeBytes(of: trainer.model.parameters.checksum()) { Array($0) } + Array(try encoder.encode(trainer.state))
                + withUnsafeBytes(of: trainer.optimizer.stepCount) { Array($0) }),
        ]
        let all = try world.allgather(parts.map { fnv1a64($0.1) })
        var differences: [String] = []
        for rank in 1..<world.size {
            let differing = parts.indices.filter { all[rank][$0] != all[0][$0] }.map { parts[$0].0 }
            if !differing.isEmpty { differences.append("rank \(rank): \(differing.joined(separator: ", "))") }
        }
        if !differences.isEmpty {
            throw CollectiveFailure(message: world.rank != 0 ? nil : "the \(world.size) MPI ranks must train the same model from the same data, "
                + "but these differ from rank 0's: \(differences.joined(separator: "; ")) "
                + "(give every rank the same arguments, vocabularies and shard folder); nothing was trained")
        }
    }

    /// Under mpirun, SIGINT/SIGTERM come from the launcher, which stops every rank when one dies
    /// or on Ctrl-C (and kills those still running a few seconds later): the rank says so in one
    /// line and exits at once, since the others may already be gone. The checkpoint on disk is
    /// whole (written under a temporary name, then renamed).
    func installRankStopHandler(rank: Int) {
        let line = Array("seq2seq: error: rank \(rank) stopped by a signal from mpirun (a rank died, or Ctrl-C); the last checkpoint in \(output) is intact: continue with --resume and the same mpirun -np\n".utf8)
        // Never freed: the handler may run until the process ends.
        let text = UnsafeMutablePointer<UInt8>.allocate(capacity: line.count)
        text.initialize(from: line, count: line.count)
        rankStopText = (UnsafePointer(text), line.count)
        signal(SIGINT) { signal in
            if let start = rankStopText.start { _ = write(2, start, rankStopText.count) }
            _exit(128 + signal)
        }
        signal(SIGTERM) { signal in
            if let start = rankStopText.start { _ = write(2, start, rankStopText.count) }
            _exit(128 + signal)
        }
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
    }
}

/// The stop line of a rank, prepared before the handler is installed (the handler only writes it).
nonisolated(unsafe) private var rankStopText: (start: UnsafePointer<UInt8>?, count: Int) = (nil, 0)

/// FNV-1a, 64 bits: a fingerprint for comparing what the ranks read (not a cryptographic hash).
private func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    return hash
}
