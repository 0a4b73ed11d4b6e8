public import BraidCore
/// Deterministic synthetic implicit-feedback data for scale tests: power-law user activity
/// and item popularity, and latent taste clusters (users mostly pick items of their own
/// cluster), so that collaborative models have structure to find.
public struct SyntheticInteractions: Sendable, Equatable {
    public var users: Int
    public var items: Int
    public var interactions: Int
    public var clusters: Int = 20
    /// Share of a user's picks made inside their cluster.
    public var clusterAffinity: Double = 0.8
    /// Exponent of the Zipf-like popularity and activity laws.
    public var exponent: Double = 0.9
    public var seed: UInt64 = 1

    public init(users: Int, items: Int, interactions: Int, seed: UInt64 = 1) {
        self.users = users
        self.items = items
        self.interactions = interactions
        self.seed = seed
    }

    /// Parses `users=100000,items=20000,interactions=1600000[,clusters=20,seed=1]`.
    public init(specification: String) throws(DataError) {
        var values: [String: Double] = [:]
        for part in specification.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, let number = Double(pair[1].replacingOccurrences(of: "_", with: "")) else {
                throw DataError(.invalidArgument, "synthetic data setting \(DataError.quote(String(part))) is not key=number",
                                hint: "e.g. synth:users=100000,items=20000,interactions=1600000,seed=1")
            }
            values[pair[0]] = number
        }
        guard let users = values["users"], let items = values["items"], let interactions = values["interactions"],
              users >= 1, items >= 1, interactions >= 1, interactions <= users * items / 2 else {
            throw DataError(.invalidArgument, "synthetic data needs users, items and interactions (at most half of users × items)")
        }
        self.init(users: Int(users), items: Int(items), interactions: Int(interactions), seed: UInt64(values["seed"] ?? 1))
        if let clusters = values["clusters"] { self.clusters = max(1, Int(clusters)) }
    }

    /// Generates the interactions (value 1; each user's timestamps increase, and users'
    /// histories interleave in time); ids are `u<n>` and `i<n>`.
    public func generate() -> InteractionTable {
        var rng = SeededGenerator(seed: seed)
        // Activity: Zipf weights over a shuffled user order, scaled to the interaction budget.
        var activity = (0..<users).map { pow(Double($0 + 1), -exponent) }
        activity.shuffle(using: &rng)
        let total = activity.reduce(0, +)
        let maximumPerUser = max(1, items / 2)
        var counts = activity.map { max(1, min(maximumPerUser, Int((Double(interactions) * $0 / total).rounded()))) }
        var surplus = counts.reduce(0, +) - interactions
        var cursor = 0
        while surplus != 0 && cursor < users * 4 {
            let u = cursor % users
            if surplus > 0 && counts[u] > 1 { counts[u] -= 1; surplus -= 1 } else if surplus < 0 && counts[u] < maximumPerUser { counts[u] += 1; surplus += 1 }
            cursor += 1
        }
        // Popularity: Zipf over a shuffled item order; clusters assigned at random.
        var popularity = (0..<items).map { pow(Double($0 + 1), -exponent) }
        popularity.shuffle(using: &rng)
        let itemCluster = (0..<items).map { _ in Int(rng.next() % UInt64(clusters)) }
        let global = CumulativeSampler(popularity)
        var members = [[Int]](repeating: [], count: clusters)
        for i in 0..<items { members[itemCluster[i]].append(i) }
        let local = members.map { CumulativeSampler($0.map { popularity[$0] }) }

        var table = InteractionTable()
        for u in 0..<users { table.users.insert("u\(u)") }
        for i in 0..<items { table.items.insert("i\(i)") }
        table.userIndices.reserveCapacity(interactions)
        // Time, from a stream of its own (the interactions are those of the seed either way):
        // each user starts at a moment drawn over two years and interacts at exponential gaps,
        // a day on average, in an order drawn at random. Users' histories then interleave as
        // in logged data, and the data has no order in time that a model could learn. Before
        // 2026-12-06 the times followed the draws, user after user: an item's first appearance
        // said which users drew it, and a user's later items were the less popular ones (a
        // repeated draw is skipped, and the popular items come early), so a temporal split's
        // test held the tail.
        var clock = SeededGenerator(seed: seed, stream: 1)
        let span = 2.0 * 365 * 86_400, meanGap = 86_400.0
        var seen = Set<Int>()
        var drawn: [Int] = []
        for u in 0..<users {
            let cluster = Int(rng.next() % UInt64(clusters))
            seen.removeAll(keepingCapacity: true)
            drawn.removeAll(keepingCapacity: true)
            var attempts = 0
            while seen.count < counts[u] && attempts < counts[u] * 20 {
                attempts += 1
                let item: Int
                if rng.nextUnit() < clusterAffinity, !members[cluster].isEmpty {
                    item = members[cluster][local[cluster].sample(rng.nextUnit())]
                } else {
                    item = global.sample(rng.nextUnit())
                }
                if seen.insert(item).inserted { drawn.append(item) }
            }
            drawn.shuffle(using: &clock)
            var time = 1_600_000_000 + Int64(clock.nextUnit() * span)
            for item in drawn {
                time += 1 + Int64(-log(1 - clock.nextUnit()) * meanGap)
                table.append(user: Int32(u), item: Int32(item), value: 1, timestamp: time)
            }
        }
        return table
    }
}

/// Samples an index with probability proportional to its weight, by binary search over the
/// cumulative weights.
struct CumulativeSampler {
    let cumulative: [Double]

    init(_ weights: [Double]) {
        var running = 0.0
        cumulative = weights.map { running += $0; return running }
    }

    func sample(_ unit: Double) -> Int {
        let target = unit * (cumulative.last ?? 0)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] <= target { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
