public import BraidCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A paired comparison of two models on the same users: the mean of the per-user differences
/// A − B with a bootstrap 95% confidence interval, the Wilcoxon signed-rank test and the paired
/// t-test. "A beats B" is a measured statement when the interval excludes zero.
public struct PairedComparison: Sendable, Equatable {
    public struct Test: Sendable, Equatable {
        /// W+ (Wilcoxon) or t (t-test).
        public var statistic: Double
        /// The z score (Wilcoxon, normal approximation) or degrees of freedom (t-test).
        public var auxiliary: Double
        /// Two-sided p-value.
        public var p: Double
    }

    public var pairs: Int
    public var meanA: Double
    public var meanB: Double
    /// Mean of A − B over the pairs.
    public var meanDifference: Double
    /// The 2.5% and 97.5% percentiles of the bootstrap distribution of the mean difference.
    public var lower: Double
    public var upper: Double
    /// Wilcoxon signed-rank: zero differences dropped, tied |d| given their mean rank, normal
    /// approximation with the tie correction and no continuity correction (SciPy's
    /// `wilcoxon(d, method="approx")`).
    public var wilcoxon: Test
    /// Paired t-test on the differences, n − 1 degrees of freedom.
    public var tTest: Test

    /// Compares paired samples `a[k]` and `b[k]`.
    ///
    /// - Parameters:
    ///   - resamples: bootstrap resamples of the users (with replacement).
    ///   - seed: seeds the resampling.
    public init(a: [Double], b: [Double], resamples: Int = 10_000, seed: UInt64 = 42) throws(DataError) {
        guard a.count == b.count, a.count >= 2 else {
            throw DataError(.invalidArgument, "a paired comparison needs at least two pairs, and as many values of A as of B (got \(a.count) and \(b.count))")
        }
        guard resamples >= 100 else { throw DataError(.invalidArgument, "the bootstrap needs at least 100 resamples, not \(resamples)") }
        guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else {
            throw DataError(.invalidValue, "the paired values must be finite numbers")
        }
        let d = zip(a, b).map { $0 - $1 }
        let n = d.count
        pairs = n
        meanA = a.reduce(0, +) / Double(n)
        meanB = b.reduce(0, +) / Double(n)
        meanDifference = d.reduce(0, +) / Double(n)
        (lower, upper) = Self.bootstrapInterval(d, resamples: resamples, seed: seed)
        wilcoxon = Self.wilcoxon(d)
        tTest = Self.pairedT(d)
    }

    /// Percentile bootstrap 95% interval of the mean of `d`.
    static func bootstrapInterval(_ d: [Double], resamples: Int, seed: UInt64) -> (Double, Double) {
        let n = d.count
        // Each worker resamples its own share with a generator seeded by its chunk, so the
        // result does not depend on the thread count.
        let chunk = 256
        let means: [[Double]] = parallelMap((resamples + chunk - 1) / chunk) { c in
            var rng = SeededGenerator(seed: seed, stream: UInt64(c))
            return (c * chunk..<min(resamples, (c + 1) * chunk)).map { _ in
                var sum = 0.0
                for _ in 0..<n { sum += d[Int(rng.next() % UInt64(n))] }
                return sum / Double(n)
            }
        }
        let sorted = means.flatMap { $0 }.sorted()
        return (quantile(sorted: sorted, 0.025), quantile(sorted: sorted, 0.975))
    }

    static func wilcoxon(_ d: [Double]) -> Test {
        let nonzero = d.filter { $0 != 0 }
        let n = nonzero.count
        guard n > 0 else { return Test(statistic: 0, auxiliary: 0, p: 1) }
        let order = nonzero.indices.sorted { abs(nonzero[$0]) < abs(nonzero[$1]) }
        var ranks = [Double](repeating: 0, count: n)
        var tieTerm = 0.0
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && abs(nonzero[order[end]]) == abs(nonzero[order[start]]) { end += 1 }
            let rank = Double(start + end + 1) / 2
            for k in start..<end { ranks[order[k]] = rank }
            let t = Double(end - start)
            tieTerm += t * t * t - t
            start = end
        }
        let plus = zip(nonzero, ranks).reduce(0.0) { $0 + ($1.0 > 0 ? $1.1 : 0) }
        let count = Double(n)
        let mean = count * (count + 1) / 4
        let variance = count * (count + 1) * (2 * count + 1) / 24 - tieTerm / 48
        guard variance > 0 else { return Test(statistic: plus, auxiliary: 0, p: 1) }
        let z = (plus - mean) / variance.squareRoot()
        return Test(statistic: plus, auxiliary: z, p: min(1, erfc(abs(z) / 2.0.squareRoot())))
    }

    static func pairedT(_ d: [Double]) -> Test {
        let n = Double(d.count)
        let mean = d.reduce(0, +) / n
        let variance = d.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let df = n - 1
        guard variance > 0 else { return Test(statistic: mean == 0 ? 0 : .infinity, auxiliary: df, p: mean == 0 ? 1 : 0) }
        let t = mean / (variance / n).squareRoot()
        // P(|T| > |t|) = I_{df/(df + t²)}(df/2, 1/2).
        let p = regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
        return Test(statistic: t, auxiliary: df, p: min(1, max(0, p)))
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
    public static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(1 - x, b, a)
        }
        let tiny = 1e-300
        var c = 1.0
        var dd = 1 - (a + b) * x / (a + 1)
        if abs(dd) < tiny { dd = tiny }
        dd = 1 / dd
        var f = dd
        for m in 1...300 {
            let mm = Double(m)
            // Even step.
            var numerator = mm * (b - mm) * x / ((a + 2 * mm - 1) * (a + 2 * mm))
            dd = 1 + numerator * dd
            if abs(dd) < tiny { dd = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            dd = 1 / dd
            f *= dd * c
            // Odd step.
            numerator = -(a + mm) * (a + b + mm) * x / ((a + 2 * mm) * (a + 2 * mm + 1))
            dd = 1 + numerator * dd
            if abs(dd) < tiny { dd = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            dd = 1 / dd
            let delta = dd * c
            f *= delta
            if abs(delta - 1) < 1e-14 { break }
        }
        return exp(logFront) * f / a
    }
}
