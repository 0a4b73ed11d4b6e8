/// An item index with its score.
public struct ScoredIndex: Sendable, Equatable, Hashable {
    public var index: Int32
    public var score: Float
    public init(index: Int32, score: Float) {
        self.index = index
        self.score = score
    }
}

/// Selects the `count` highest scores, best first; ties go to the lower index, so results are
/// deterministic. Scores that are NaN or `-infinity` are never selected.
///
/// - Complexity: O(n log count) with a bounded min-heap.
public struct TopKSelector {
    private var heap: [ScoredIndex] = []
    public let capacity: Int

    public init(count: Int) {
        capacity = max(0, count)
        heap.reserveCapacity(capacity)
    }

    /// `a` ranks above `b`.
    @inlinable static func ranksAbove(_ a: ScoredIndex, _ b: ScoredIndex) -> Bool {
        a.score > b.score || (a.score == b.score && a.index < b.index)
    }

    /// Offers one candidate.
    @inline(__always)
    public mutating func offer(index: Int32, score: Float) {
        guard capacity > 0, score > -.infinity else { return }  // also rejects NaN
        let candidate = ScoredIndex(index: index, score: score)
        if heap.count < capacity {
            heap.append(candidate)
            siftUp(heap.count - 1)
        } else if Self.ranksAbove(candidate, heap[0]) {
            heap[0] = candidate
            siftDown(0)
        }
    }

    /// The lowest score currently kept, or -infinity while the heap is not full.
    public var threshold: Float { heap.count < capacity ? -.infinity : heap[0].score }

    /// The selection, best first.
    public func sorted() -> [ScoredIndex] { heap.sorted(by: Self.ranksAbove) }

    // The heap's root is the worst kept candidate.
    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            if Self.ranksAbove(heap[parent], heap[child]) { heap.swapAt(parent, child); child = parent } else { return }
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= heap.count { return }
            var worst = left
            let right = left + 1
            if right < heap.count && Self.ranksAbove(heap[left], heap[right]) { worst = right }
            if Self.ranksAbove(heap[parent], heap[worst]) { heap.swapAt(parent, worst); parent = worst } else { return }
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
