import BraidCore
import Foundation
import Testing

@Suite struct KernelTests {
    /// Worked by hand: det = 4·14 − 2·6 = 44; the adjugate is [[14, −6, 2], [−6, 12, −4], [2, −4, 16]].
    @Test func inverseOfAThreeByThreeMatrix() {
        var a: [Float] = [4, 2, 0,
                          2, 5, 1,
                          0, 1, 3]
        #expect(BLAS.invertSymmetricPositiveDefinite(&a, n: 3) == 0)
        let expected: [Float] = [14, -6, 2, -6, 12, -4, 2, -4, 16].map { $0 / 44 }
        for k in 0..<9 { #expect(abs(a[k] - expected[k]) < 1e-6, "entry \(k): \(a[k]) vs \(expected[k])") }
    }

    /// Several blocks (and a ragged last one) on two threads: A · A⁻¹ = I.
    @Test func blockedInverseOnSeveralThreads() {
        let n = 300
        var rng = SeededGenerator(seed: 3)
        let m = (0..<(n * n)).map { _ in Float(rng.nextUnit() - 0.5) }
        var a = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            var s: Float = 0
            for k in 0..<n { s += m[k * n + i] * m[k * n + j] }
            a[i * n + j] = s + (i == j ? Float(n) / 10 : 0)
        } }
        var inverse = a
        let info = Parallelism.withThreadCount(2) { BLAS.invertSymmetricPositiveDefinite(&inverse, n: n) }
        #expect(info == 0)
        var worst: Float = 0
        for i in 0..<n { for j in 0..<n {
            var s: Float = 0
            for k in 0..<n { s += a[i * n + k] * inverse[k * n + j] }
            worst = max(worst, abs(s - (i == j ? 1 : 0)))
        } }
        #expect(worst < 1e-4, "largest entry of A·A⁻¹ − I is \(worst)")
    }

    @Test func notPositiveDefiniteNamesTheMinor() {
        var a: [Float] = [1, 2, 2, 1]
        #expect(BLAS.invertSymmetricPositiveDefinite(&a, n: 2) == 2)
    }

    /// Streams of one seed must not replay each other: the old per-worker seeds (seed + k·γ,
    /// γ SplitMix64's increment) made stream k + 1 stream k shifted by one draw, so BPR's epochs
    /// and the bootstrap's chunks reused almost the same samples.
    @Test func seededStreamsShareNoOutputs() {
        var seen = Set<UInt64>()
        for stream in 0..<8 as Range<UInt64> {
            var rng = SeededGenerator(seed: 42, stream: stream)
            for _ in 0..<1000 { seen.insert(rng.next()) }
        }
        #expect(seen.count == 8000)
        var a = SeededGenerator(seed: 42, stream: 1), b = SeededGenerator(seed: 42, stream: 1)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
    }

    /// The count bound for one caller is seen by its parallel workers and by no other thread.
    @Test func threadCountIsBoundPerCaller() async {
        let outside = Parallelism.threadCount
        let seen = Parallelism.withThreadCount(1) { parallelMap(4) { _ in Parallelism.threadCount } }
        #expect(seen == [1, 1, 1, 1])
        let insideTwo = Parallelism.withThreadCount(2) { parallelMap(64, minimumChunk: 1) { _ in Parallelism.threadCount } }
        #expect(insideTwo.allSatisfy { $0 == 2 })
        async let other = Task.detached { Parallelism.threadCount }.value
        let bound = Parallelism.withThreadCount(7) { Parallelism.threadCount }
        #expect(bound == 7)
        #expect(await other == outside)
        #expect(Parallelism.threadCount == outside)
    }
}
