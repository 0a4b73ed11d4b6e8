/// Items in descending order of their scores, ties by ascending index: the fusion's candidates
/// per member, the rankings LambdaRank's gradients and NDCG read, and the neighbours a
/// similarity row keeps.
public enum DescendingOrder {
    /// `items` by descending score, ties by ascending index (only the first `prefix` when
    /// given): each becomes one integer key (the score's bits made order-preserving and
    /// inverted, then the index), so the order compares integers instead of calling a closure —
    /// the fusion's hottest loop when serving. A prefix much shorter than the list is selected
    /// through a bounded max-heap of keys instead of sorting them all.
    @inlinable public static func of(_ items: some Collection<Int>, _ scores: [Float], prefix: Int? = nil) -> [Int] {
        var keys: [UInt64]
        if let prefix, prefix * 8 < items.count {
            keys = smallest(max(0, prefix), of: items, scores)
        } else {
            keys = items.map { key($0, scores[$0]) }
            radixSort(&keys)
            if let prefix { keys.removeLast(max(0, keys.count - max(0, prefix))) }
        }
        return keys.map { Int(UInt32(truncatingIfNeeded: $0)) }
    }

    /// The `count` first of `items` in descending order of their scores, ties by ascending
    /// index, as a set in no particular order: a selection in linear expected time (Hoare's
    /// quickselect on the integer keys), for when the order itself is not read.
    @inlinable public static func first(_ count: Int, of items: some Collection<Int>, _ scores: [Float]) -> [Int] {
        var keys = items.map { key($0, scores[$0]) }
        let target = count - 1
        if target < 0 { return [] }
        var low = 0, high = keys.count - 1, rounds = 0
        while low < high && target < keys.count - 1 {
            rounds += 1
            if rounds > 64 { radixSort(&keys); break }  // a pathological run of pivots: sort instead
            let a = keys[low], b = keys[low + (high - low) / 2], c = keys[high]
            let pivot = max(min(a, b), min(max(a, b), c))  // the median of three
            var i = low, j = high
            while i <= j {
                while keys[i] < pivot { i += 1 }
                while keys[j] > pivot { j -= 1 }
                if i <= j {
                    keys.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { break }
        }
        return keys.prefix(count).map { Int(UInt32(truncatingIfNeeded: $0)) }
    }

    /// One item's key: its score's bits made order-preserving and inverted (so ascending keys
    /// are descending scores, −0 tied with +0), then its index.
    /// Without a branch on the sign, which random signs would mispredict half the time.
    @inlinable @inline(__always) public static func key(_ item: Int, _ score: Float) -> UInt64 {
        UInt64(~ascendingBits(score)) << 32 | UInt64(UInt32(item))
    }

    /// A score's bits made order-preserving: unsigned integers that ascend as the scores do,
    /// −0 as +0.
    @inlinable @inline(__always) public static func ascendingBits(_ score: Float) -> UInt32 {
        let bits = (score == 0 ? 0 : score).bitPattern
        // All ones for a negative score (every bit flipped), else the sign bit alone.
        let flip = UInt32(bitPattern: Int32(bitPattern: bits) >> 31) | 0x8000_0000
        return bits ^ flip
    }

    /// `values` ascending (−0 as +0), by a radix sort of their `ascendingBits`: the same
    /// values as a comparison sort's, in linear time.
    public static func ascending(_ values: [Float]) -> [Float] {
        var keys = values.map { UInt64(ascendingBits($0)) }
        radixSort(&keys)
        return keys.map { key in
            let bits = UInt32(truncatingIfNeeded: key)
            return Float(bitPattern: bits & 0x8000_0000 != 0 ? bits ^ 0x8000_0000 : ~bits)
        }
    }

    /// Sorts `keys` ascending: least significant byte first, one stable counting pass per byte
    /// in which the keys differ (a catalogue's indices leave their high bytes alike), below a
    /// few hundred keys by comparison.
    @inlinable public static func radixSort(_ keys: inout [UInt64]) {
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

    /// The `count` smallest keys of `items`, ascending, through a max-heap of at most `count`.
    /// Once it is full, an item whose score is below the worst kept one's is passed over on a
    /// float comparison (most items, in a catalogue much longer than `count`); only the others
    /// are keyed (a tie, a −0, a NaN: the key decides).
    @inlinable static func smallest(_ count: Int, of items: some Collection<Int>, _ scores: [Float]) -> [UInt64] {
        guard count > 0 else { return [] }
        var heap: [UInt64] = []
        heap.reserveCapacity(count)
        var worstScore = -Float.infinity
        for item in items {
            let score = scores[item]
            if heap.count == count && score < worstScore { continue }
            let value = key(item, score)
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
            } else {
                continue
            }
            if heap.count == count { worstScore = Self.score(heap[0]) }
        }
        heap.sort()
        return heap
    }

    /// The score a key was made from (`key`), with −0 as +0.
    @inlinable @inline(__always) static func score(_ key: UInt64) -> Float {
        let ascending = ~UInt32(truncatingIfNeeded: key >> 32)
        return Float(bitPattern: ascending & 0x8000_0000 != 0 ? ascending ^ 0x8000_0000 : ~ascending)
    }

}
