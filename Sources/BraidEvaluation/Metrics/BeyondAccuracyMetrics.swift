internal import BraidCore

/// Properties of a whole set of recommendation lists rather than of their accuracy.
public enum BeyondAccuracyMetrics {
    /// Distinct recommended items over the catalogue size.
    public static func coverage(_ lists: [[Int32]], catalogueSize: Int) -> Double {
        guard catalogueSize > 0 else { return 0 }
        return Double(Set(lists.joined()).count) / Double(catalogueSize)
    }

    /// Mean self-information `−log2(p_i)` of recommended items, where `p_i` is the share of
    /// training users who interacted with item i (Zhou et al. 2010). Higher is more novel.
    public static func novelty(_ lists: [[Int32]], itemUserCounts: [Int], userCount: Int) -> Double {
        var total = 0.0, n = 0
        for item in lists.joined() {
            let p = Double(max(1, itemUserCounts[Int(item)])) / Double(max(1, userCount))
            total += -log2(p)
            n += 1
        }
        return n == 0 ? 0 : total / Double(n)
    }

    /// Mean over lists of the mean pairwise category distance `1 − Jaccard(C_i, C_j)`
    /// (Ziegler et al. 2005 with a categorical distance). Lists shorter than two are skipped.
    public static func intraListDiversity(_ lists: [[Int32]], categories: [[String]]) -> Double {
        let sets = categories.map(Set.init)
        var total = 0.0, counted = 0
        for list in lists where list.count > 1 {
            var sum = 0.0, pairs = 0
            for a in 0..<list.count {
                for b in (a + 1)..<list.count {
                    let x = sets[Int(list[a])], y = sets[Int(list[b])]
                    let union = x.union(y).count
                    sum += union == 0 ? 0 : 1 - Double(x.intersection(y).count) / Double(union)
                    pairs += 1
                }
            }
            total += sum / Double(pairs)
            counted += 1
        }
        return counted == 0 ? 0 : total / Double(counted)
    }

    /// Gini coefficient of how often each catalogue item is recommended: 0 when exposure is
    /// equal, near 1 when a few items take it all.
    public static func exposureGini(_ lists: [[Int32]], catalogue: [Int32]) -> Double {
        var counts = [Int32: Double](uniqueKeysWithValues: catalogue.map { ($0, 0) })
        for item in lists.joined() { counts[item, default: 0] += 1 }
        return Gini.coefficient(Array(counts.values))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
