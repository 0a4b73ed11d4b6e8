public import BraidCore
internal import Foundation

/// Ranks items at random, reproducibly per (seed, user, item): the floor every model must beat.
public struct RandomScores: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        public var seed: UInt64 = 42
        public init() {}
        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["seed"])
            seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
        }
    }

    public static let name = "random"
    public static let summary = "random ranking (seeded): the floor to beat"

    public let configuration: Configuration
    public let data: InteractionMatrix

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "random needs the training catalogue") }
        self.configuration = configuration
        self.data = data
    }

    public var scoresItemsWithoutInteractions: Bool { true }

    public func scores(forUser user: Int) -> [Float] {
        (0..<data.itemCount).map { item in
            var generator = SeededGenerator(seed: configuration.seed, stream: UInt64(user) << 32 | UInt64(item))
            return Float(generator.nextUnit())
        }
    }

    public func archive(into archive: inout ModelArchive) {}

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
    }
}
