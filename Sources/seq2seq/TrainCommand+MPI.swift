import ArgumentParser
import Corpus
import Distributed
import Foundation
import Training

/// The communicator is what the trainer needs of a group of ranks: same methods, same meaning.
extension Communicator: TrainingGroup {}

/// The ranks of an `mpirun` disagree about what to train (refused on every rank alike).
struct RanksDisagree: Error, CustomStringConvertible {
    let description: String
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
        do {
            try train(world: world)
        } catch let code as ExitCode {
            world.finalize()
            throw code
        } catch let error as RanksDisagree {
            if world.rank == 0 { printError("seq2seq: error: \(error)") }
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

    /// Compares, across the ranks, fingerprints of what each rank is about to train: the config
    /// (architecture, training options, ranks, --accumulate), both vocabularies, the shard
    /// manifest, and the starting weights, optimizer and training state. Throws ``RanksDisagree``
    /// on every rank, naming the ranks and what differs, when any rank's differs from rank 0's.
    func checkRanksAgree(world: Communicator, directory: ModelDirectory, shardSet: ShardSet, trainer: Trainer) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let parts: [(String, [UInt8])] = [
            ("model size and training options (config)", Array(try encoder.encode(directory.config))),
            ("source vocabulary", Array(directory.sourceVocabulary.serialized().utf8)),
            ("target vocabulary", Array(directory.targetVocabulary.serialized().utf8)),
            ("shard folder (manifest)", Array(try encoder.encode(shardSet.manifest))),
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
            throw RanksDisagree(description: "the \(world.size) MPI ranks must train the same model from the same data, "
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
