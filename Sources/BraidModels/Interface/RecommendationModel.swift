public import BraidCore
public import Foundation

/// A model's configuration: a `Codable` struct that the CLI, a config file, the model file
/// and the tuner all read.
public protocol ModelConfiguration: Codable, Sendable, Equatable {
    /// The defaults.
    init()
    /// Reads `key=value` parameters, starting from the defaults; unknown keys are errors.
    init(parameters: ModelParameters) throws(ModelError)
    /// What a field missing from a saved configuration means: by default `init()`'s value,
    /// except where files written before a field behaved otherwise (the hybrid's `warm`: none).
    static var savedDefaults: Self { get }
    /// Checks a configuration read from a model file, which is decoded rather than parsed, as
    /// `init(parameters:)` checks parameters: every value that sizes memory or bounds a loop
    /// when the model is loaded or queried in its parameter's range. A damaged file is then an
    /// error, never a crash. By default there is nothing to check.
    func checkSaved() throws(ModelError)
}

extension ModelConfiguration {
    public static var savedDefaults: Self { Self() }

    public func checkSaved() throws(ModelError) {}

    /// Decodes a configuration saved by this or an older version of Braid: every field the
    /// JSON lacks keeps its saved default (the saved fields are laid over `savedDefaults`'
    /// encoding), so a field added later never makes an old model file unreadable.
    ///
    /// A file with every field decodes directly, as `JSONDecoder` reads numbers exactly;
    /// only an older file's overlay goes through `JSONSerialization`, whose reading of a
    /// 17-digit `Double` can be one unit in the last place off (integers, seeds among them, and
    /// `Float` fields come back exact).
    public static func decodingSaved(_ json: Data) throws -> Self {
        do { return try JSONDecoder().decode(Self.self, from: json) } catch DecodingError.keyNotFound {}
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.savedDefaults))
        let saved = try JSONSerialization.jsonObject(with: json)
        guard saved is [String: Any] else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the configuration is not a JSON object"))
        }
        return try JSONDecoder().decode(Self.self, from: JSONSerialization.data(withJSONObject: overlay(saved, on: defaults)))
    }
}

/// Throws unless a saved configuration's `key` (its parameter's name) is in `range`
/// (`ModelConfiguration.checkSaved()`).
func expectSaved(_ key: String, _ value: Int, in range: ClosedRange<Int>) throws(ModelError) {
    guard range.contains(value) else {
        throw ModelError(.corruptModel, "the model file's configuration has \(key)=\(value), outside \(range.lowerBound)…\(range.upperBound)",
                         hint: "the file is damaged or was not written by Braid; train the model again")
    }
}

/// `top` laid over `base`: objects merge key by key, anything else in `top` wins.
private func overlay(_ top: Any, on base: Any) -> Any {
    guard let top = top as? [String: Any], var merged = base as? [String: Any] else { return top }
    for (key, value) in top { merged[key] = merged[key].map { overlay(value, on: $0) } ?? value }
    return merged
}

/// The one interface every Braid model implements.
///
/// A model is fitted from an `InteractionMatrix` by `init(fitting:configuration:)` and is
/// immutable afterwards, so it can be queried from many threads. A concrete model writes its
/// fit, its scores and its persistence; recommending with filters, batches, similar items
/// and rating lookup by external id are shared (`RecommendationModel+Recommend.swift`).
public protocol RecommendationModel: Sendable {
    associatedtype Configuration: ModelConfiguration

    /// The name the CLI uses (`--model itemknn`).
    static var name: String { get }
    /// One line on what the model is.
    static var summary: String { get }
    /// Whether fitting needs item metadata (`InteractionMatrix.catalog`).
    static var needsItemMetadata: Bool { get }
    /// Whether the model is a neural network trained by epochs of gradient steps (minutes on
    /// a laptop-sized dataset rather than seconds); `braid demo` leaves such models out.
    static var trainsByEpochs: Bool { get }

    var configuration: Configuration { get }
    /// The training interactions (histories to exclude, popularity fallback).
    var data: InteractionMatrix { get }

    /// Fits the model.
    init(fitting data: InteractionMatrix, configuration: Configuration) throws(ModelError)

    /// Ranking scores of every item for a user with training data; higher is better.
    /// The array has `data.itemCount` elements.
    func scores(forUser user: Int) -> [Float]

    /// Ranking scores of every item for a history given from outside the training data (a
    /// user's current history in the server, an anonymous session), without refitting:
    /// `items` are dense item indices, `values` their interaction values as in training.
    /// Models that score only their training users throw `.unsupported`.
    func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float]

    /// Whether `scores(forHistory:values:)` works for this model.
    var scoresAnyHistory: Bool { get }

    /// Whether `scores(forHistory:values:)` is made from a sum of one term per history item,
    /// `historySum(forHistory:values:)`, each term added to zeros by
    /// `addHistoryTerm(item:value:factor:to:)`: the scores themselves (EASE, item kNN, RP3beta),
    /// or what they are solved from (ALS: its fold-in's system). A history's sum can then be
    /// updated by the items that came and went instead of summed anew, as the server does for a
    /// user's next list after their feedback.
    var scoresHistoryBySum: Bool { get }

    /// The length of a history's sum (by default `data.itemCount`: the scores themselves).
    var historySumCount: Int { get }

    /// The sum of the history's terms where `scoresHistoryBySum` (by default its scores, for
    /// models whose scores are that sum). Throws as `scores(forHistory:values:)` does.
    func historySum(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float]

    /// Adds `factor` × the term of history item `item` with value `value` to `sum` (a history's
    /// sum, `historySumCount` values) where `scoresHistoryBySum`; does nothing elsewhere.
    /// An item outside the catalogue adds nothing, nor does one the model has no weights for,
    /// as in `scores(forHistory:values:)`.
    func addHistoryTerm(item: Int32, value: Float, factor: Float, to sum: inout [Float])

    /// The scores of every item from a history's sum (by default the sum itself):
    /// `scores(forHistory:values:)` is `scores(fromHistorySum: historySum(forHistory:values:))`.
    func scores(fromHistorySum sum: [Float]) -> [Float]

    /// The models whose scores of a history this one ranks from (the fusion's members; none by
    /// default). A caller that keeps some of their scores of a user's history (the server, for
    /// members whose scores are sums) passes them to `scores(forHistory:values:trainedUser:leading:partScores:)`.
    var historyParts: [any RecommendationModel] { get }

    /// `leadingScores(forHistory:values:trainedUser:)` when `leading` (nil where the model has
    /// no leading scores), else `scores(forHistory:values:trainedUser:)`, with part k's scores
    /// of the history taken from `partScores[k]` where it is not nil, as `historyParts[k]`
    /// gives them, instead of asking the part. By default (no parts) `partScores` is not read.
    func scores(forHistory items: [Int32], values: [Float], trainedUser user: Int?, leading: Bool,
                partScores: [[Float]?]) throws(ModelError) -> [Float]?

    /// `scores(forHistory:values:)` of training user `user`'s current history (their training
    /// row with newer feedback laid over it, as the server keeps it). The same scores, except
    /// where a model compares the history with its training users (user kNN): the user's own,
    /// older row is not their neighbour, so their unchanged row scores exactly as
    /// `scores(forUser:)`. By default `user` is not read.
    func scores(forHistory items: [Int32], values: [Float], trainedUser user: Int?) throws(ModelError) -> [Float]

    /// The scores of the items a two-stage model ranks first (the fusion's candidates), −∞ for
    /// every other item, or nil (the default) when the model ranks every item alike. As those
    /// items outrank all others in `scores(forUser:)`, a top-k chosen from these under any
    /// filter is the top-k of the full scores whenever it finds k items; only a shorter list
    /// needs the full scores. Cheaper to compute: the order of the rest is skipped.
    func leadingScores(forUser user: Int) -> [Float]?

    /// `scores(forUser:)` of several training users at once, the same values (the factor
    /// models score a block of users per pass over their item factors), or nil (the default)
    /// when the model scores one user at a time. `recommend(userIndices:count:filter:)` uses it.
    func scores(forUsers users: [Int]) -> [[Float]]?

    /// `leadingScores(forUser:)` of several training users at once, the same values, or nil
    /// (the default) when the model gives them one user at a time (the fusion's members that
    /// score blocks of users score them together). `recommend(userIndices:count:filter:)` uses it.
    func leadingScores(forUsers users: [Int]) -> [[Float]]?

    /// `leadingScores(forUser:)` of a history from outside the training data.
    func leadingScores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float]?

    /// `leadingScores(forHistory:values:)` of training user `user`'s current history, as
    /// `scores(forHistory:values:trainedUser:)`.
    func leadingScores(forHistory items: [Int32], values: [Float], trainedUser user: Int?) throws(ModelError) -> [Float]?

    /// Whether `predictRating` gives ratings on the training scale.
    var predictsRatings: Bool { get }

    /// The predicted rating of `item` by `user`, when the model predicts ratings.
    func predictRating(user: Int, item: Int) -> Float?

    /// Similarity of every item to `item`, when the model has its own notion of it. The
    /// default (nil) makes `similarItems` use cosine over the training interactions.
    func itemSimilarities(to item: Int) -> [Float]?

    /// Why `item` scored as it did for `user` (both dense indices), or nil when the model does
    /// not explain itself.
    func explanation(user: Int, item: Int) -> Explanation?

    /// `explanation(user:item:)` of each of `items`, in order: one call for a whole list, so a
    /// model that scores the user once per explanation (the fusion) does so once per list.
    func explanations(user: Int, items: [Int]) -> [Explanation?]

    /// Why `item` scored as it did for a history from outside the training data, as
    /// `scores(forHistory:values:trainedUser:)` scores it: each history item's (or neighbour's)
    /// share, as `explanation(user:item:)` gives a training user's. nil (the default) where the
    /// model does not explain histories.
    func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation?

    /// `explanation(history:values:trainedUser:item:)` of each of `items`, in one call.
    func explanations(history: [Int32], values: [Float], trainedUser user: Int?, items: [Int]) -> [Explanation?]

    /// `explanations(history:values:trainedUser:items:)` with part k's scores of the history
    /// taken from `partScores[k]` where it is not nil, as
    /// `scores(forHistory:values:trainedUser:leading:partScores:)` takes them (the server hands
    /// the fusion the scores its list was ranked from). By default `partScores` is not read.
    func explanations(history: [Int32], values: [Float], trainedUser user: Int?, items: [Int], partScores: [[Float]?]) -> [Explanation?]

    /// Whether the model can score items nobody interacted with in training (content models);
    /// such items are then candidates for recommendation.
    var scoresItemsWithoutInteractions: Bool { get }

    /// This model serving `data`, its training data with items added to the catalogue
    /// (`InteractionMatrix.addingItems(_:)`: the same users and interactions, the new items after
    /// the known ones, text or vectors of known items perhaps changed). The new items have no
    /// interactions, so only a model that scores items without them
    /// (`scoresItemsWithoutInteractions`) recommends them. By default the model is fitted
    /// again on `data` with its configuration (the content models: their document frequencies
    /// change); the collaborative models keep what they learned and give the new items zero
    /// parameters (`extendingArchive(to:rows:)`), the hybrid and the two-tower model learn only
    /// their map from content again, and the fusion and the blend extend each member and keep
    /// their ranker or weights, which learned from the interactions alone
    /// (`Fusion.extendingCatalogue(to:)`, `Blend.extendingCatalogue(to:)`).
    func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel

    /// Makes what the model would otherwise make at its first use in serving: a sparse content
    /// model's vectors by term (for scoring profiles), a latent-factor model's (and the
    /// hybrid's) item factors packed for scoring and, read from a file, a TF-IDF or BM25
    /// model's term counts (for `extendingCatalogue(to:)`; its fit kept them); the fusion and
    /// the blend ready their members. By default nothing. A server calls it in the background
    /// whenever it swaps a model in, so that neither its first list nor its first `POST /items`
    /// waits for them (one that comes first waits for them to be made, not for a second making).
    func prepareForServing()

    /// Saves the model's fitted state (the training matrix is saved by the caller).
    func archive(into archive: inout ModelArchive)

    /// Restores a fitted model from `archive`.
    init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError)
}

extension RecommendationModel {
    public static var needsItemMetadata: Bool { false }
    public static var trainsByEpochs: Bool { false }
    public var predictsRatings: Bool { false }
    public func predictRating(user: Int, item: Int) -> Float? { nil }
    public func itemSimilarities(to item: Int) -> [Float]? { nil }
    /// By default, where the model has its own item similarities (`itemSimilarities(to:)`),
    /// the user's history items by their similarity to `item` (`Explanation.nearest`); else nil.
    public func explanation(user: Int, item: Int) -> Explanation? {
        guard (0..<data.userCount).contains(user), (0..<data.itemCount).contains(item),
              let similarities = itemSimilarities(to: item) else { return nil }
        return .nearest(data.items(ofUser: user), similarities: similarities)
    }
    public func explanations(user: Int, items: [Int]) -> [Explanation?] { items.map { explanation(user: user, item: $0) } }
    /// By default, for a model that folds in any history and has its own item similarities,
    /// the history's items by their similarity to `item`, as a training user's; else nil.
    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard scoresAnyHistory, explainable(history, values: values, items: [item]),
              let similarities = itemSimilarities(to: item) else { return nil }
        return .nearest(history, similarities: similarities)
    }
    public func explanations(history: [Int32], values: [Float], trainedUser user: Int?, items: [Int]) -> [Explanation?] {
        items.map { explanation(history: history, values: values, trainedUser: user, item: $0) }
    }
    public func explanations(history: [Int32], values: [Float], trainedUser user: Int?, items: [Int], partScores: [[Float]?]) -> [Explanation?] {
        explanations(history: history, values: values, trainedUser: user, items: items)
    }
    public var scoresItemsWithoutInteractions: Bool { false }
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try Self(fitting: data, configuration: configuration)
    }
    public func prepareForServing() {}
    public var scoresAnyHistory: Bool { false }
    public var scoresHistoryBySum: Bool { false }
    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to sum: inout [Float]) {}
    public var historySumCount: Int { data.itemCount }
    public func historySum(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] { try scores(forHistory: items, values: values) }
    public func scores(fromHistorySum sum: [Float]) -> [Float] { sum }
    public var historyParts: [any RecommendationModel] { [] }
    public func scores(forHistory items: [Int32], values: [Float], trainedUser user: Int?, leading: Bool,
                       partScores: [[Float]?]) throws(ModelError) -> [Float]? {
        leading ? try leadingScores(forHistory: items, values: values, trainedUser: user) : try scores(forHistory: items, values: values, trainedUser: user)
    }
    public func leadingScores(forUser user: Int) -> [Float]? { nil }
    public func scores(forUsers users: [Int]) -> [[Float]]? { nil }
    public func leadingScores(forUsers users: [Int]) -> [[Float]]? { nil }
    public func leadingScores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float]? { nil }
    public func scores(forHistory items: [Int32], values: [Float], trainedUser user: Int?) throws(ModelError) -> [Float] {
        try scores(forHistory: items, values: values)
    }
    public func leadingScores(forHistory items: [Int32], values: [Float], trainedUser user: Int?) throws(ModelError) -> [Float]? {
        try leadingScores(forHistory: items, values: values)
    }
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        throw ModelError(.unsupported, "\(Self.name) scores only the users it was trained on",
                         hint: "use a model that folds in new histories: ease, itemknn, rp3beta, als, pop, content-*, hybrid")
    }
}
