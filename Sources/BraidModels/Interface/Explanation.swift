internal import BraidCore

/// Why a model scored an item for a user: the parts that add up to the score, where the model
/// is additive in them (`sumsToScore`), else the signals it weighed.
public struct Explanation: Sendable, Equatable {
    /// The user's history items and how much each contributed (item kNN, EASE, ALS, content).
    public var items: [(index: Int32, weight: Float)]
    /// Neighbour users and how much each contributed (user kNN).
    public var users: [(index: Int32, weight: Float)]
    /// Members' standardized scores for the item (fusion), by member.
    public var members: [(name: String, score: Float)]
    /// Whether the item and user contributions add up to the served score.
    public var sumsToScore: Bool
    /// What each part of an additive second stage added to the score (the linear fusion: each
    /// member's score and rank together, and each item and user feature); when there are any,
    /// they add up to the served score.
    public var contributions: [(name: String, weight: Float)]
    /// What the weights of `items` are.
    public var itemWeights: ItemWeights

    /// What an explanation's history-item weights measure.
    public enum ItemWeights: String, Sendable {
        /// Each history item's share of the score (kNN, RP3beta, adjacency, EASE, GF-CF, ALS, content).
        case contribution
        /// Each history item's similarity to the recommended item in the model's own item
        /// space, for models whose score is no sum over the history (BPR, SVD, biased MF,
        /// SASRec, the two-tower model, NeuMF): which of the user's items the model finds nearest.
        case similarity
        /// How much the score falls when the history is scored again without the item (every
        /// occurrence of it): positive where the item raised the score (BERT4Rec, whose score is
        /// no sum over the history and whose item embeddings do not group items). They need not
        /// add up to the score: the items act together.
        case occlusion
    }

    public init(items: [(index: Int32, weight: Float)] = [], users: [(index: Int32, weight: Float)] = [],
                members: [(name: String, score: Float)] = [], sumsToScore: Bool, contributions: [(name: String, weight: Float)] = [],
                itemWeights: ItemWeights = .contribution) {
        self.items = items
        self.users = users
        self.members = members
        self.sumsToScore = sumsToScore
        self.contributions = contributions
        self.itemWeights = itemWeights
    }

    /// The history's items (each once) weighted by their similarity to the recommended item,
    /// `similarities` holding every item's: most similar first, ties by index, so a history
    /// gives the same reasons in any order.
    public static func nearest(_ history: some Sequence<Int32>, similarities: [Float],
                               contributions: [(name: String, weight: Float)] = []) -> Explanation {
        var seen = Set<Int32>()
        let items = history.filter { seen.insert($0).inserted && Int($0) < similarities.count && $0 >= 0 }
            .map { (index: $0, weight: similarities[Int($0)]) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.index < $1.index }
        return Explanation(items: items, sumsToScore: false, contributions: contributions, itemWeights: .similarity)
    }

    /// The contributions, largest first, without zeros (similarities: the most similar first;
    /// occlusions: the largest rise first, without zeros).
    public func sorted() -> Explanation {
        var out = self
        out.items = switch itemWeights {
        case .similarity: items.sorted { $0.weight > $1.weight }
        case .occlusion: items.filter { $0.weight != 0 }.sorted { $0.weight > $1.weight }
        case .contribution: items.filter { $0.weight != 0 }.sorted { abs($0.weight) > abs($1.weight) }
        }
        out.users = users.filter { $0.weight != 0 }.sorted { abs($0.weight) > abs($1.weight) }
        return out
    }

    /// `members` by name (the first of a repeated name), as the CLI and the server write them.
    public var memberScores: [String: Float] { Dictionary(members.map { ($0.name, $0.score) }) { first, _ in first } }

    /// `contributions` by name (the first of a repeated name), as the CLI and the server write them.
    public var contributionWeights: [String: Float] { Dictionary(contributions.map { ($0.name, $0.weight) }) { first, _ in first } }

    public static func == (a: Explanation, b: Explanation) -> Bool {
        a.sumsToScore == b.sumsToScore && a.itemWeights == b.itemWeights && a.items.elementsEqual(b.items) { $0 == $1 } && a.users.elementsEqual(b.users) { $0 == $1 }
            && a.members.elementsEqual(b.members) { $0 == $1 } && a.contributions.elementsEqual(b.contributions) { $0 == $1 }
    }
}
