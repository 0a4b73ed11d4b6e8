import BraidCore
import Foundation
import Testing

@Suite struct KernelTests {
    /// Debian's OpenBLAS reads a CPU newer than it knows as "Prescott" and runs SSE3 kernels;
    /// Braid then switches it to the kernels the CPU can run. On a CPU with AVX2 and FMA, with
    /// no core named in the environment, OpenBLAS must not be left on Prescott's kernels, and a
    /// switch Braid reports is the core OpenBLAS runs. (Elsewhere there is nothing to check.)
    @Test func openBLASRunsKernelsForThisCPU() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, VectorKernels.path == "avx2+fma" else { return }
        #expect(BLAS.coreName.lowercased() != "prescott")
        if let upgraded = BLAS.upgradedCore { #expect(BLAS.coreName == upgraded) }
    }

    /// e^x on eight lanes within 3e-7 of the libm value over [−87, 88], e^0 = 1 exactly, and
    /// inputs past the clamp (±1000) give e^−87.3 and e^88.3, finite and positive.
    @Test func vectorExpFollowsLibm() {
        var x = Array(stride(from: Float(-87), to: 88, by: 0.37))
        let inputs = x
        x.withUnsafeMutableBufferPointer { VectorKernels.exp($0.baseAddress!, $0.count) }
        for (input, e) in zip(inputs, x) {
            #expect(abs(Double(e) / Foundation.exp(Double(input)) - 1) < 3e-7, "x = \(input): \(e)")
        }
        var edges: [Float] = [0, -1000, 1000]
        edges.withUnsafeMutableBufferPointer { VectorKernels.exp($0.baseAddress!, $0.count) }
        #expect(edges[0] == 1)
        #expect(abs(Double(edges[1]) / Foundation.exp(-87.3) - 1) < 1e-5 && edges[1] > 0)
        #expect(abs(Double(edges[2]) / Foundation.exp(88.3) - 1) < 1e-5 && edges[2].isFinite)
    }

    /// Softmax and GELU in the C kernels, over eleven and thirteen values (a block of eight and a
    /// tail): known answers from Python's math.exp and math.erf.
    @Test func softmaxAndGELUKnownAnswers() {
        var logits: [Float] = [0.5, -1.25, 3.0, 0.0, 2.0, -0.75, 1.5, 4.0, -2.0, 1.0, 0.25]
        logits.withUnsafeMutableBufferPointer { VectorKernels.softmax($0.baseAddress!, $0.count) }
        let probabilities: [Float] = [0.01752101, 0.0030447, 0.21344961, 0.01062703, 0.07852372, 0.00501985, 0.04762704, 0.58021619,
                                      0.00143821, 0.02888726, 0.01364538]
        #expect(zip(logits, probabilities).allSatisfy { abs($0 - $1) < 1e-6 }, "\(logits)")
        var x: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 2, 3, -2.5, 1.5, 0.1, -0.1, 5]
        x.withUnsafeMutableBufferPointer { VectorKernels.gelu($0.baseAddress!, $0.count) }
        let gelu: [Float] = [-0.00404969, -0.15865525, -0.15426877, 0, 0.34573123, 0.84134475, 1.95449974, 2.99595031, -0.01552416, 1.3997892,
                             0.05398278, -0.04601722, 4.99999857]
        #expect(zip(x, gelu).allSatisfy { abs($0 - $1) < 1e-6 }, "\(x)")
        // Φ at the same points: 0.5·(1 + erf(x/√2)) from Python's math.erf.
        var phi: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 2, 3, -2.5, 1.5, 0.1, -0.1, 5]
        phi.withUnsafeMutableBufferPointer { VectorKernels.normalCDF($0.baseAddress!, $0.count) }
        let expected: [Float] = [0.0013499, 0.15865525, 0.30853754, 0.5, 0.69146246, 0.84134475, 0.97724987, 0.9986501, 0.00620967,
                                 0.9331928, 0.53982784, 0.46017216, 0.99999971]
        #expect(zip(phi, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(phi)")
    }

    /// Adam's step in the C kernels over eleven values (a block of eight and a tail). First step
    /// from zero moments: m̂ = g and v̂ = g², so each weight moves by lr·sign(g) after the decay
    /// 1 − lr·wd = 0.999 (lr 0.01, wd 0.1): 0.989 for g > 0, 1.009 for g < 0, 0.999 for g = 0;
    /// the gradient is zeroed and Σ g² returned. Then a second step, as a scalar loop in the
    /// kernel's order of operations computes it, bit for bit.
    @Test func adamStepKnownAnswers() {
        let g0: [Float] = [0.5, -3, 2, -0.25, 1, -1, 4, 0.125, -2, 3, 0]
        var w = [Float](repeating: 1, count: 11), g = g0, m = [Float](repeating: 0, count: 11), v = m
        let first = VectorKernels.AdamStep(clip: 1, beta1: 0.9, beta2: 0.999, rate: 0.01 / 0.1, correction2: 1 - 0.999, epsilon: 1e-8, decay: 0.999)
        let squares = VectorKernels.adamStep(&w, &g, &m, &v, 11, first)
        #expect(squares == 44.328125)
        #expect(zip(w, g0).allSatisfy { abs($0 - ($1 > 0 ? 0.989 : $1 < 0 ? 1.009 : 0.999)) < 1e-6 }, "\(w)")
        #expect(g.allSatisfy { $0 == 0 })
        // Step two, clipped by half: the scalar formula, value by value.
        let g1: [Float] = [1, 0.5, -1.5, 2, -0.75, 0.25, 3, -4, 1.25, -0.5, 2.5]
        let second = VectorKernels.AdamStep(clip: 0.5, beta1: 0.9, beta2: 0.999, rate: 0.01 / (1 - 0.81), correction2: 1 - 0.998001,
                                           epsilon: 1e-8, decay: 0.999)
        var (wr, mr, vr) = (w, m, v)
        for i in 0..<11 {
            let gi = g1[i] * second.clip
            mr[i] = second.beta1 * mr[i] + (1 - second.beta1) * gi
            vr[i] = second.beta2 * vr[i] + (1 - second.beta2) * gi * gi
            wr[i] = wr[i] * second.decay - second.rate * mr[i] / ((vr[i] / second.correction2).squareRoot() + second.epsilon)
        }
        g = g1
        _ = VectorKernels.adamStep(&w, &g, &m, &v, 11, second)
        #expect(w.map(\.bitPattern) == wr.map(\.bitPattern) && m.map(\.bitPattern) == mr.map(\.bitPattern) && v.map(\.bitPattern) == vr.map(\.bitPattern))
        // Σ k² for k = 1…17 is 17·18·35/6 = 1785 (two blocks and a tail).
        let ramp = (1...17).map(Float.init)
        #expect(VectorKernels.sumOfSquares(ramp, 17) == 1785)
    }

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
    /// Draws named by position are the draws made in turn, and the generator goes on after them.
    /// SplitMix64 from state 0: its first output is 0xE220A8397B1DCDAF (Vigna's reference code).
    @Test func upcomingDrawsAreTheDrawsInTurn() {
        var inTurn = SeededGenerator(seed: 0), byPosition = SeededGenerator(seed: 0)
        let draws = byPosition.upcoming(1000)
        #expect(draws.value(0) == 0xE220A8397B1DCDAF)
        let values = (0..<1000).map { _ in inTurn.next() }
        #expect((0..<1000).map(draws.value) == values)
        #expect(draws.unit(999) == Double(values[999] >> 11) * 0x1.0p-53)
        #expect(byPosition.next() == inTurn.next())
    }

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

    /// The integer-key order equals sorting by descending score with ties by index.
    /// Rows packed in panels of 32: row j's factor d at 32·f·(j / 32) + 32·d + j mod 32, the
    /// last panel padded with zeros. Item j of 37 has factors (j, 1, −2) and x = (2, −1, 0.5),
    /// so its score is 2j − 1 − 1 = 2j − 2 (small integers: exact in float). Scoring only the
    /// second panel (items 32–36) gives the same five scores.
    @Test func panelScoresOfRowsPackedByHand() {
        let square: [Float] = [1, 2, 3, 4]
        let packed2 = square.withUnsafeBufferPointer { VectorKernels.packPanels($0, 2, 2) }
        var expected2 = [Float](repeating: 0, count: 64)
        expected2[0] = 1; expected2[1] = 3; expected2[32] = 2; expected2[33] = 4
        #expect(packed2 == expected2)

        let n = 37, f = 3
        let rows: [Float] = (0..<n).flatMap { j -> [Float] in [Float(j), 1, -2] }
        let packed = rows.withUnsafeBufferPointer { VectorKernels.packPanels($0, n, f) }
        #expect(packed.count == 64 * f)
        let x: [Float] = [2, -1, 0.5]
        var all = [Float](repeating: .nan, count: n), tail = [Float](repeating: .nan, count: 5)
        packed.withUnsafeBufferPointer { p in
            VectorKernels.scorePanels(p.baseAddress!, n, f, x, &all)
            VectorKernels.scorePanels(p.baseAddress! + 32 * f, 5, f, x, &tail)
        }
        #expect(all == (0..<n).map { Float(2 * $0 - 2) })
        #expect(tail == Array(all[32...]))
    }

    /// Scoring rows without packing them all (`scoreRows`) gives the panels' scores bit for
    /// bit: 150 rows of 7 random factors (two full runs of 64 and a tail of 22), and the
    /// 37 rows of the test before, whose scores are 2j − 2.
    @Test func rowScoresAreThePanelScores() {
        let n = 150, f = 7
        var rng = SeededGenerator(seed: 11)
        let rows = (0..<(n * f)).map { _ in Float(rng.nextGaussianPair().0) }
        let x = (0..<f).map { _ in Float(rng.nextGaussianPair().0) }
        let packed = rows.withUnsafeBufferPointer { VectorKernels.packPanels($0, n, f) }
        var fromPanels = [Float](repeating: .nan, count: n), fromRows = [Float](repeating: .nan, count: n)
        packed.withUnsafeBufferPointer { VectorKernels.scorePanels($0.baseAddress!, n, f, x, &fromPanels) }
        rows.withUnsafeBufferPointer { VectorKernels.scoreRows($0.baseAddress!, n, f, x, &fromRows) }
        #expect(fromRows.map(\.bitPattern) == fromPanels.map(\.bitPattern))

        let small: [Float] = (0..<37).flatMap { j -> [Float] in [Float(j), 1, -2] }
        var scores = [Float](repeating: .nan, count: 37)
        small.withUnsafeBufferPointer { VectorKernels.scoreRows($0.baseAddress!, 37, 3, [2, -1, 0.5], &scores) }
        #expect(scores == (0..<37).map { Float(2 * $0 - 2) })
    }

    /// The first score at or above a threshold, eight at a time: never a NaN, and `count` when
    /// none is.
    @Test func firstScoreAtLeastAThreshold() {
        var scores = (0..<20).map(Float.init)
        scores[12] = .nan
        scores.withUnsafeBufferPointer { s in
            let p = s.baseAddress!
            #expect(VectorKernels.firstAtLeast(p, from: 0, count: 20, threshold: 9.5) == 10)
            #expect(VectorKernels.firstAtLeast(p, from: 11, count: 20, threshold: 9.5) == 11)
            #expect(VectorKernels.firstAtLeast(p, from: 12, count: 20, threshold: 12.5) == 13)
            #expect(VectorKernels.firstAtLeast(p, from: 0, count: 20, threshold: 100) == 20)
            #expect(VectorKernels.firstAtLeast(p, from: 0, count: 9, threshold: 8) == 8)
            #expect(VectorKernels.firstAtLeast(p, from: 5, count: 5, threshold: -1) == 5)
        }
    }

    /// Offering a whole buffer selects what offering each score in turn selects: NaN and −∞
    /// never, ties to the lower index, an excluded index never, at every size around the
    /// eight-score groups and every capacity. By hand: the top 3 of
    /// [1, 5, NaN, 5, −∞, 3, 2, 9, 0] are 9 (item 7), then 5 and 5 (items 1 and 3).
    @Test func topKOfABufferEqualsOfferingEachScore() {
        var selector = TopKSelector(count: 3)
        let given: [Float] = [1, 5, .nan, 5, -.infinity, 3, 2, 9, 0]
        given.withUnsafeBufferPointer { selector.offer($0, where: { _ in true }) }
        #expect(selector.sorted() == [ScoredIndex(index: 7, score: 9), ScoredIndex(index: 1, score: 5), ScoredIndex(index: 3, score: 5)])
        var rng = SeededGenerator(seed: 8)
        for size in [0, 1, 7, 8, 9, 16, 17, 100, 1000] {
            let scores: [Float] = (0..<size).map { k in
                k % 11 == 3 ? .nan : k % 13 == 5 ? -.infinity : Float(Int(rng.next() % 40)) - 20
            }
            for capacity in [0, 1, 5, 40] {
                let include = { (k: Int) in k % 6 != 1 }
                var each = TopKSelector(count: capacity), buffer = TopKSelector(count: capacity)
                for (k, score) in scores.enumerated() where include(k) { each.offer(index: Int32(k), score: score) }
                scores.withUnsafeBufferPointer { buffer.offer($0, where: include) }
                #expect(buffer.sorted() == each.sorted(), "size \(size), capacity \(capacity)")
            }
        }
    }

    @Test func descendingOrderMatchesTheComparator() {
        var rng = SeededGenerator(seed: 3)
        let scores: [Float] = (0..<500).map { k in
            switch k % 5 {
            case 0: 0
            case 1: -0.0
            case 2: Float(Int(rng.next() % 7)) - 3  // many ties
            default: Float(Double(rng.next() % 1_000_000) / 1000 - 500)
            }
        }
        .enumerated().map { k, score in k == 13 ? -.infinity : k == 26 ? .infinity : score }
        let items = Array((0..<500).filter { $0 % 7 != 0 })
        let expected = items.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        #expect(DescendingOrder.of(items, scores) == expected)
        // A short prefix is selected through the heap, a long one by sorting: both are the
        // full order's first items, the infinities included.
        for prefix in [0, 1, 10, 50, 100, 431, 1000] {
            #expect(DescendingOrder.of(items, scores, prefix: prefix) == Array(expected.prefix(prefix)))
        }
        #expect(DescendingOrder.of(items, scores, prefix: 1) == [26])
        // The unordered selection is the same set, the ties at its edge included.
        for count in [0, 1, 2, 10, 57, 100, 250, 428, 429, 1000] {
            #expect(DescendingOrder.first(count, of: items, scores).sorted() == Array(expected.prefix(count)).sorted(), "\(count)")
        }
        let tied = [Float](repeating: 0.5, count: 300)
        #expect(DescendingOrder.first(40, of: Array((0..<300).reversed()), tied).sorted() == Array(0..<40))
        #expect(DescendingOrder.of([3, 1, 2, 13], scores, prefix: 8).last == 13)
        // Through the heap: one finite score among −∞s, then the −∞s by index.
        let sunk = [Float](repeating: -.infinity, count: 20).enumerated().map { $0 == 7 ? -1 : $1 }
        #expect(DescendingOrder.of(Array((0..<20).reversed()), sunk, prefix: 2) == [7, 0])
    }

    /// A short prefix of a long list, selected through the heap, is the full order's first
    /// items (the radix sort's), with NaNs (which the key places) and many ties, in lists of
    /// several lengths, and with every item better than the heap's worst.
    @Test func longListsSelectTheirPrefixAsTheyWouldSort() {
        var rng = SeededGenerator(seed: 5)
        for length in [2000, 2001, 2007] {
            let scores: [Float] = (0..<length).map { k in k % 97 == 5 ? .nan : Float(Int(rng.next() % 300)) / 10 }
            let items = Array((0..<length).reversed())
            let full = DescendingOrder.of(items, scores)
            for prefix in [1, 10, 50, 200] {
                #expect(DescendingOrder.of(items, scores, prefix: prefix) == Array(full.prefix(prefix)), "\(length), \(prefix)")
            }
        }
        // Rising scores: each item is better than the heap's worst.
        let rising = (0..<1000).map { Float($0) }
        #expect(DescendingOrder.of(Array(0..<1000), rising, prefix: 5) == [999, 998, 997, 996, 995])
    }

    /// The radix sort of floats: the order written out by hand, through both signs, the
    /// smallest subnormals, −0 (as +0) and the infinities; and a long list (the counting passes,
    /// not the short lists' comparison sort) equal to the standard library's sort.
    @Test func floatsAscendByTheirBits() {
        let tiny = Float.leastNonzeroMagnitude
        let values: [Float] = [3, -1, 0, -0.0, 2.5, -7, .infinity, -.infinity, tiny, -tiny, -1, 1e30]
        let ascending = DescendingOrder.ascending(values)
        #expect(ascending.map(\.bitPattern) == ([-.infinity, -7, -1, -1, -tiny, 0, 0, tiny, 2.5, 3, 1e30, .infinity] as [Float]).map(\.bitPattern))
        var random = SeededGenerator(seed: 9)
        let long = (0..<5000).map { k in k % 50 == 0 ? Float(0) : Float.random(in: -1e6...1e6, using: &random) / Float(1 + k % 13) }
        #expect(DescendingOrder.ascending(long) == long.sorted())
    }
}
