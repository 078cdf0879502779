import Basics
import Kernels

/// Embedding lookup: row `id` of a table [V, E] per position. The padding id 0 never receives a
/// gradient, so its row keeps its initial value and padded positions cannot leak into training.
enum Embedding {
    /// out[r] = table[ids[r]], out [ids.count, E].
    static func forward(table: UnsafePointer<Scalar>, width: Int, ids: UnsafeBufferPointer<Int32>,
                        into out: UnsafeMutablePointer<Scalar>) {
        Vector.gatherRows(table, rows: ids, width: width, into: out)
    }

    /// gradTable[ids[r]] += outputGradient[r] for every id ≠ 0 (d lookup/d table is a selection);
    /// each row written is marked touched in `store`, the sparse table's owner.
    static func backward(gradTable: UnsafeMutablePointer<Scalar>, width: Int, ids: UnsafeBufferPointer<Int32>,
                         outputGradient: UnsafePointer<Scalar>, store: ParameterStore) {
        for (r, id) in ids.enumerated() where id != TokenID.pad {
            let row = gradTable + Int(id) &* width
            Vector.axpy(1, outputGradient + r &* width, row, count: width)
            store.markGradientsTouched(row, count: width)
        }
    }
}
