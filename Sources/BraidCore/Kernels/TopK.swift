/// An item index with its score.
public struct ScoredIndex: Sendable, Equatable, Hashable {
    public var index: Int32
    public var score: Float
    public init(index: Int32, score: Float) {
        self.index = index
        self.score = score
    }
}

/// Selects the `count` highest scores, best first. Scores that are NaN or `-infinity` are never
/// selected.
///
/// Ties go to the lower index by default, so serving is deterministic. Evaluation passes a
/// `tieBreakSeed`: tied items are then ordered by a seeded pseudo-random key per index, so a
/// model that cannot tell items apart scores like a random ranking, not like the index order.
///
/// - Complexity: O(n log count) with a bounded min-heap.
public struct TopKSelector {
    @usableFromInline var heap: [ScoredIndex] = []
    public let capacity: Int
    /// Orders ties pseudo-randomly when set.
    public let tieBreakSeed: UInt64?

    public init(count: Int, tieBreakSeed: UInt64? = nil) {
        capacity = max(0, count)
        self.tieBreakSeed = tieBreakSeed
        heap.reserveCapacity(capacity)
    }

    /// The tie-break key of `index` under `seed`: one SplitMix64 output of their mix.
    @inlinable public static func tieKey(_ index: Int32, seed: UInt64) -> UInt64 {
        var generator = SeededGenerator(seed: seed ^ (UInt64(UInt32(bitPattern: index)) &* 0xD1B5_4A32_D192_ED03))
        return generator.next()
    }

    /// `a` ranks above `b`.
    @inlinable func ranksAbove(_ a: ScoredIndex, _ b: ScoredIndex) -> Bool {
        if a.score != b.score { return a.score > b.score }
        guard let seed = tieBreakSeed else { return a.index < b.index }
        let ka = Self.tieKey(a.index, seed: seed), kb = Self.tieKey(b.index, seed: seed)
        return ka != kb ? ka < kb : a.index < b.index
    }

    /// Offers one candidate. Once the heap is full, a score below the lowest kept one (or NaN)
    /// is turned away inline, without a call: most of a catalogue's items, in a top-k.
    @inlinable @inline(__always)
    public mutating func offer(index: Int32, score: Float) {
        if heap.count == capacity, capacity > 0, !(score >= heap[0].score) { return }
        admit(index: index, score: score)
    }

    /// `offer` past its inline test.
    @usableFromInline mutating func admit(index: Int32, score: Float) {
        guard capacity > 0, score > -.infinity else { return }  // also rejects NaN
        let candidate = ScoredIndex(index: index, score: score)
        if heap.count < capacity {
            heap.append(candidate)
            siftUp(heap.count - 1)
        } else if ranksAbove(candidate, heap[0]) {
            heap[0] = candidate
            siftDown(0)
        }
    }

    /// The lowest score currently kept, or −∞ while the heap is not full (+∞ when it holds
    /// nothing at all): a score below it would be turned away.
    @inlinable public var threshold: Float { capacity == 0 ? .infinity : heap.count < capacity ? -.infinity : heap[0].score }

    /// Offers `scores[k]` for every k (as index `k`) for which `include(k)` holds, in index
    /// order: the same selection as offering each in turn, but the runs of scores below
    /// `threshold` (most of a catalogue, once the heap is full) are skipped eight at a time
    /// (`VectorKernels.firstAtLeast`), and `include` is asked only of the others.
    public mutating func offer(_ scores: UnsafeBufferPointer<Float>, where include: (Int) -> Bool) {
        guard let base = scores.baseAddress else { return }
        var k = 0
        while true {
            k = VectorKernels.firstAtLeast(base, from: k, count: scores.count, threshold: threshold)
            guard k < scores.count else { return }
            if include(k) { offer(index: Int32(k), score: base[k]) }
            k += 1
        }
    }

    /// The selection, best first.
    public func sorted() -> [ScoredIndex] { heap.sorted(by: ranksAbove) }

    // The heap's root is the worst kept candidate.
    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            if ranksAbove(heap[parent], heap[child]) { heap.swapAt(parent, child); child = parent } else { return }
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= heap.count { return }
            var worst = left
            let right = left + 1
            if right < heap.count && ranksAbove(heap[left], heap[right]) { worst = right }
            if ranksAbove(heap[parent], heap[worst]) { heap.swapAt(parent, worst); parent = worst } else { return }
        }
    }
}

extension Array where Element == Float {
    /// The indices of the `count` highest values, best first (ties: lower index first).
    public func topK(_ count: Int, where include: (Int) -> Bool = { _ in true }) -> [ScoredIndex] {
        var selector = TopKSelector(count: count)
        for (index, score) in enumerated() where include(index) { selector.offer(index: Int32(index), score: score) }
        return selector.sorted()
    }
}
