public import BraidCore
internal import Foundation

/// Which side a neighbourhood model compares: users (user-based) or items (item-based).
public protocol NeighborhoodSide: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var compares: NeighborhoodOrientation { get }
}

/// The rows a neighbourhood model finds neighbours among.
public enum NeighborhoodOrientation: Sendable {
    case users, items
}

/// Item-based k-nearest-neighbours collaborative filtering (Sarwar et al. 2001; Deshpande &
/// Karypis 2004): items are similar when the same users interact with them alike.
public typealias ItemKNN = NeighborhoodModel<ItemSide>

/// User-based k-nearest-neighbours collaborative filtering (Resnick et al. 1994; Herlocker et
/// al. 1999): users are similar when they interact with the same items alike.
public typealias UserKNN = NeighborhoodModel<UserSide>

public enum ItemSide: NeighborhoodSide {
    public static let name = "itemknn"
    public static let summary = "item-based k-nearest neighbours (cosine, pearson, adjusted cosine, jaccard, msd, pearson-baseline)"
    public static let compares = NeighborhoodOrientation.items
}

public enum UserSide: NeighborhoodSide {
    public static let name = "userknn"
    public static let summary = "user-based k-nearest neighbours (cosine, pearson, adjusted cosine, jaccard, msd, pearson-baseline)"
    public static let compares = NeighborhoodOrientation.users
}

/// A user- or item-based k-nearest-neighbours model; `ItemKNN` and `UserKNN` are its two
/// forms, sharing every line of code.
public struct NeighborhoodModel<Side: NeighborhoodSide>: RecommendationModel {
    public typealias Configuration = NeighborhoodSettings

    public static var name: String { Side.name }
    public static var summary: String { Side.summary }

    public let configuration: Configuration
    public let data: InteractionMatrix
    let index: NeighborhoodIndex

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        if configuration.similarity.centresValues {
            try data.requireGradedValues(model: Self.name, because: "\(configuration.similarity.rawValue) similarity centres each value")
        }
        self.configuration = configuration
        self.data = data
        index = try NeighborhoodIndex(fitting: data, orientation: Side.compares, settings: configuration)
    }

    /// The kept similarities between the compared rows (users or items), each row's columns
    /// ascending.
    public var similarities: SparseMatrix { index.similarities }

    public func scores(forUser user: Int) -> [Float] { index.scores(forUser: user, data: data) }

    /// Item-based neighbourhoods score any history with the same sum; user-based ones compare
    /// it with every training user first (`NeighborhoodIndex.scores(forNewUser:)`), with every
    /// similarity but pearson-baseline.
    public var scoresAnyHistory: Bool { Side.compares == .items || index.users != nil }

    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try scores(forHistory: items, values: values, trainedUser: nil)
    }

    /// Item-based: a history scores by the sum of its items' neighbour rows; user-based ones
    /// find the history's neighbours first, which no per-item term gives.
    public var scoresHistoryBySum: Bool { Side.compares == .items && configuration.neighborhood == .fixed }

    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to scores: inout [Float]) {
        guard scoresHistoryBySum else { return }
        index.addHistoryTerm(item: item, value: value, factor: factor, to: &scores)
    }

    public func scores(forHistory items: [Int32], values: [Float], trainedUser user: Int?) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        guard Side.compares == .items else {
            guard let scores = index.scores(forNewUser: items, values: values, data: data, excluding: user) else {
                throw ModelError(.unsupported, "\(Self.name) with pearson-baseline similarity scores only the users it was trained on",
                                 hint: "another similarity (cosine, pearson, ...) scores new histories")
            }
            return scores
        }
        return index.scores(forHistory: items, values: values, itemCount: data.itemCount)
    }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? { index.predict(user: user, item: item, data: data) }

    public func explanation(user: Int, item: Int) -> Explanation? { index.explanation(user: user, item: item, data: data) }

    /// Item-based: each history item's term; user-based: each of the history's neighbours'
    /// (found as `scores(forHistory:values:trainedUser:)` finds them, once for the whole list).
    public func explanations(history: [Int32], values: [Float], trainedUser user: Int?, items: [Int]) -> [Explanation?] {
        guard explainable(history, values: values, items: items) else { return items.map { _ in nil } }
        switch Side.compares {
        case .items:
            return items.map { index.explanation(of: $0, history: history, values: values) }
        case .users:
            guard let neighbours = index.neighbours(ofNewUser: history, values: values, excluding: user) else { return items.map { _ in nil } }
            return items.map { index.explanation(of: $0, neighbours: neighbours.columns, neighbours.values, data: data) }
        }
    }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        explanations(history: history, values: values, trainedUser: user, items: [item])[0]
    }

    public func itemSimilarities(to item: Int) -> [Float]? {
        guard Side.compares == .items else { return nil }
        return index.similarities.denseRow(item)
    }

    /// New items come without interactions, so the neighbourhoods stand: no fit of the
    /// similarities (`NeighborhoodIndex.extended(to:)`); data that is no such extension is fitted.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try Self(fitting: data, configuration: configuration) }
        return Self(configuration: configuration, data: data, index: index.extended(to: data))
    }

    init(configuration: Configuration, data: InteractionMatrix, index: NeighborhoodIndex) {
        self.configuration = configuration
        self.data = data
        self.index = index
    }

    public func archive(into archive: inout ModelArchive) { index.archive(into: &archive) }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        index = try NeighborhoodIndex(archive: archive, data: data, orientation: Side.compares, settings: configuration)
    }
}
