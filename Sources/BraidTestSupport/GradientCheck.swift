internal import BraidCore

/// Finite-difference checks of backward passes.
public enum GradientCheck {
    /// Relative error ‖numeric − analytic‖ / max(‖numeric‖, ‖analytic‖) over up to `samples`
    /// coordinates (seeded), each numeric derivative by central differences of `loss` with the
    /// coordinate moved by ±`epsilon` through `set`.
    public static func relativeError(count: Int, analytic: [Float], samples: Int = 40, epsilon: Float = 1e-2,
                                     get: (Int) -> Float, set: (Int, Float) -> Void, loss: () -> Double) -> Double {
        var g = SeededGenerator(seed: 99)
        let indices = count <= samples ? Array(0..<count) : (0..<samples).map { _ in Int(g.next() % UInt64(count)) }
        var difference = 0.0, numericNorm = 0.0, analyticNorm = 0.0
        for i in indices {
            let original = get(i)
            set(i, original + epsilon)
            let plus = loss()
            set(i, original - epsilon)
            let minus = loss()
            set(i, original)
            let numeric = (plus - minus) / Double(2 * epsilon)
            difference += (numeric - Double(analytic[i])) * (numeric - Double(analytic[i]))
            numericNorm += numeric * numeric
            analyticNorm += Double(analytic[i]) * Double(analytic[i])
        }
        return difference.squareRoot() / max(numericNorm.squareRoot(), analyticNorm.squareRoot(), 1e-12)
    }
}
