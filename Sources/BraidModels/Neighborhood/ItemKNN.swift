public import BraidCore
public import Foundation

/// Item-based k-nearest-neighbours collaborative filtering (Sarwar et al. 2001; Deshpande &
/// Karypis 2004): items are similar when the same users interact with them.
public struct ItemKNN: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        public var neighborhood = NeighborhoodSettings()
        public init() {}
        public init(parameters: ModelParameters) throws(ModelError) {
            neighborhood = try NeighborhoodSettings(parameters: parameters, model: ItemKNN.name)
        }
    }

    public static let name = "itemknn"
    public static let summary = "item-based k-nearest neighbours (cosine, pearson, adjusted cosine, jaccard, msd, pearson-baseline)"

    public let configuration: Configuration
    public let data: InteractionMatrix
    let index: NeighborhoodIndex

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        index = try NeighborhoodIndex(fitting: data, orientation: .items, settings: configuration.neighborhood)
    }

    /// The item × item similarities kept by the model.
    public var similarities: SparseMatrix { index.similarities }

    public func scores(forUser user: Int) -> [Float] { index.scores(forUser: user, data: data) }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? { index.predict(user: user, item: item, data: data) }

    public func itemSimilarities(to item: Int) -> [Float]? {
        var scores = [Float](repeating: 0, count: data.itemCount)
        for k in index.similarities.entries(ofRow: item) { scores[Int(index.similarities.columns[k])] = index.similarities.values[k] }
        return scores
    }

    public func archive(into archive: inout ModelArchive) { index.archive(into: &archive) }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        index = try NeighborhoodIndex(archive: archive, data: data, orientation: .items, settings: configuration.neighborhood)
    }
}
