import Kernels

/// The GRU cell (Cho et al. 2014) with PyTorch's `nn.GRU` equations, so weights interoperate: gate
/// blocks **r, z, n** (reset, update, new), the reset gate applied after the hidden product:
///
///     x_* = x_t·W_i*ᵀ + b_i*,  h_* = h_{t−1}·W_h*ᵀ + b_h*          ([B, 3H] each, kept apart)
///     r = σ(x_r + h_r),  z = σ(x_z + h_z),  n = tanh(x_n + r ⊙ h_n)
///     h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
///
/// Derivatives, per unmasked row: dn = dh ⊙ (1 − z), dz = dh ⊙ (h_{t−1} − n), dh_{t−1} gets dh ⊙ z
/// directly; a_n = dn ⊙ (1 − n²), dr = a_n ⊙ h_n; the input side's pre-activation gradient is
/// [dr·r(1−r), dz·z(1−z), a_n] and the recurrent side's [dr·r(1−r), dz·z(1−z), a_n ⊙ r].
/// `recurrent` keeps h_r, h_z, h_n through forward (backward needs h_n); no other cache.
enum GRUCell: RecurrentCell {
    static let gateCount = 3
    static let hasMemory = false
    static let separateRecurrentProduct = true
    static let cacheWidth = 0

    // Alike on purpose: the RecurrentCell protocol's requirement, implemented per cell.
    @inline(__always)
    static func forward(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                        previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                        hidden: UnsafeMutablePointer<Scalar>, cell: UnsafeMutablePointer<Scalar>?,
                        cache: UnsafeMutablePointer<Scalar>?, rows: Int, width: Int, mask: UnsafePointer<Scalar>?,
                        norm: CellNorm?) {
        let recurrent = recurrent!
        for row in 0..<rows {
            let g = gates + row &* 3 &* width, u = recurrent + row &* 3 &* width
            let hp = previousHidden + row &* width, hn = hidden + row &* width
            if let mask, mask[row] == 0 {
                if hn != UnsafeMutablePointer(mutating: hp) { hn.update(from: hp, count: width) }
                continue
            }
            let r = g, z = g + width, n = g + 2 &* width
            // Sums first, then the buffer forms (CVector's kernels for this CPU): the same bits.
            for j in 0..<(2 &* width) { r[j] = r[j] + u[j] }
            Activation.sigmoid(UnsafeMutableBufferPointer(start: r, count: 2 &* width))
            let un = u + 2 &* width
            for j in 0..<width { n[j] = n[j] + r[j] * un[j] }
            Activation.tanh(UnsafeMutableBufferPointer(start: n, count: width))
            for j in 0..<width { hn[j] = (1 - z[j]) * n[j] + z[j] * hp[j] }
        }
    }

    @inline(__always)
    static func backward(_ s: CellGradientStep) {
        let recurrent = s.recurrent!, width = s.width
        for row in 0..<s.rows {
            let g = s.gates + row &* 3 &* width, u = recurrent + row &* 3 &* width
            let dh = s.hiddenGradient + row &* width, dhp = s.previousHiddenGradient + row &* width
            if let mask = s.mask, mask[row] == 0 {
                dhp.update(from: dh, count: width)
                g.update(repeating: 0, count: 3 &* width)
                u.update(repeating: 0, count: 3 &* width)
                continue
            }
            let hp = s.previousHidden + row &* width
            let r = g, z = g + width, n = g + 2 &* width
            let ur = u, uz = u + width, un = u + 2 &* width
            for j in 0..<width {
                let rj = r[j], zj = z[j], nj = n[j], d = dh[j]
                let an = d * (1 - zj) * (1 - nj * nj)
                let ar = an * un[j] * rj * (1 - rj)
                let az = d * (hp[j] - nj) * zj * (1 - zj)
                dhp[j] = d * zj
                r[j] = ar; z[j] = az; n[j] = an
                ur[j] = ar; uz[j] = az; un[j] = an * rj
            }
        }
    }
}
