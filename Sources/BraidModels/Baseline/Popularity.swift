public import BraidCore
internal import Foundation

/// Recommends the items with the most training interactions to everyone.
public struct Popularity: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        public init() {}
        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown([])
        }
    }

    public static let name = "pop"
    public static let summary = "most popular items (number of interacting users)"

    public let configuration: Configuration
    public let data: InteractionMatrix
    /// Interactions per item.
    public let counts: [Float]

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "popularity needs at least one interaction") }
        self.configuration = configuration
        self.data = data
        counts = (0..<data.itemCount).map { Float(data.byItem.count(ofRow: $0)) }
    }

    public func scores(forUser user: Int) -> [Float] { counts }

    public var scoresAnyHistory: Bool { true }

    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return counts
    }

    /// The item's number of interacting users, which is its score, for anyone.
    public func explanation(user: Int, item: Int) -> Explanation? {
        guard (0..<data.userCount).contains(user), (0..<data.itemCount).contains(item) else { return nil }
        return Explanation(sumsToScore: false, contributions: [("popularity", counts[item])])
    }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return Explanation(sumsToScore: false, contributions: [("popularity", counts[item])])
    }

    public func archive(into archive: inout ModelArchive) {
        archive.arrays["counts"] = .float32(FloatBuffer(counts))
    }

    /// New items have no interactions: a count of 0, as a fit gives them.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: [ItemRows(key: "counts")])
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        counts = try ModelArchive.mapError { () throws(DataError) in try archive.floats("counts") }
        guard counts.count == data.itemCount else { throw ModelError(.corruptModel, "popularity counts do not match the items") }
    }
}

extension ModelArchive {
    /// Runs a decoding step, turning its `DataError` into a `ModelError`.
    public static func mapError<T>(_ body: () throws(DataError) -> T) throws(ModelError) -> T {
        do { return try body() } catch { throw ModelError(.corruptModel, "cannot restore the model", cause: error) }
    }
}
