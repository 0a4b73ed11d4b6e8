public import BraidCore
public import Foundation

/// User-based k-nearest-neighbours collaborative filtering (Resnick et al. 1994; Herlocker
/// et al. 1999): users are similar when they rate the same items alike.
public struct UserKNN: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        public var neighborhood = NeighborhoodSettings()
        public init() {}
        public init(parameters: ModelParameters) throws(ModelError) {
            neighborhood = try NeighborhoodSettings(parameters: parameters, model: UserKNN.name)
        }
    }

    public static let name = "userknn"
    public static let summary = "user-based k-nearest neighbours (cosine, pearson, adjusted cosine, jaccard, msd, pearson-baseline)"

    public let configuration: Configuration
    public let data: InteractionMatrix
    let index: NeighborhoodIndex

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        index = try NeighborhoodIndex(fitting: data, orientation: .users, settings: configuration.neighborhood)
    }

    /// The user × user similarities kept by the model.
    public var similarities: SparseMatrix { index.similarities }

    public func scores(forUser user: Int) -> [Float] { index.scores(forUser: user, data: data) }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? { index.predict(user: user, item: item, data: data) }

    public func archive(into archive: inout ModelArchive) { index.archive(into: &archive) }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        index = try NeighborhoodIndex(archive: archive, data: data, orientation: .users, settings: configuration.neighborhood)
    }
}
