/// Items in descending order of their scores, ties by ascending index: the fusion's candidates
/// per member, and the rankings LambdaRank's gradients and NDCG read.
enum DescendingOrder {
    /// `items` by descending score, ties by ascending index (only the first `prefix` when
    /// given): each becomes one integer key (the score's bits made order-preserving and
    /// inverted, then the index), so the order compares integers instead of calling a closure —
    /// the fusion's hottest loop when serving. A prefix much shorter than the list is selected
    /// through a bounded max-heap of keys instead of sorting them all.
    static func of(_ items: some Collection<Int>, _ scores: [Float], prefix: Int? = nil) -> [Int] {
        func key(_ item: Int) -> UInt64 {
            let score = scores[item] == 0 ? 0 : scores[item]  // −0 ties with +0
            let bits = score.bitPattern
            let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            return UInt64(~ascending) << 32 | UInt64(UInt32(item))
        }
        var keys: [UInt64]
        if let prefix, prefix * 8 < items.count {
            keys = smallest(max(0, prefix), of: items.lazy.map(key))
        } else {
            keys = items.map(key)
            radixSort(&keys)
            if let prefix { keys.removeLast(max(0, keys.count - max(0, prefix))) }
        }
        return keys.map { Int(UInt32(truncatingIfNeeded: $0)) }
    }

    /// Sorts `keys` ascending: least significant byte first, one stable counting pass per byte
    /// in which the keys differ (a catalogue's indices leave their high bytes alike), below a
    /// few hundred keys by comparison.
    static func radixSort(_ keys: inout [UInt64]) {
        guard keys.count >= 512 else { keys.sort(); return }
        var differing: UInt64 = 0
        let first = keys[0]
        for key in keys { differing |= key ^ first }
        var scratch = [UInt64](repeating: 0, count: keys.count)
        for shift in stride(from: 0, to: 64, by: 8) where (differing >> UInt64(shift)) & 0xFF != 0 {
            var starts = [Int](repeating: 0, count: 257)
            for key in keys { starts[Int((key >> UInt64(shift)) & 0xFF) + 1] += 1 }
            for b in 1...256 { starts[b] += starts[b - 1] }
            for key in keys {
                let b = Int((key >> UInt64(shift)) & 0xFF)
                scratch[starts[b]] = key
                starts[b] += 1
            }
            swap(&keys, &scratch)
        }
    }

    /// The `count` smallest of `values`, ascending, through a max-heap of at most `count`.
    static func smallest(_ count: Int, of values: some Sequence<UInt64>) -> [UInt64] {
        guard count > 0 else { return [] }
        var heap: [UInt64] = []
        heap.reserveCapacity(count)
        for value in values {
            if heap.count < count {
                heap.append(value)
                var child = heap.count - 1
                while child > 0, heap[(child - 1) / 2] < heap[child] {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if value < heap[0] {
                heap[0] = value
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var largest = parent
                    if left < count, heap[left] > heap[largest] { largest = left }
                    if right < count, heap[right] > heap[largest] { largest = right }
                    if largest == parent { break }
                    heap.swapAt(parent, largest)
                    parent = largest
                }
            }
        }
        heap.sort()
        return heap
    }

}
