public import BraidCore

/// An error from fitting, configuring, loading or querying a model.
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let unknownModel = Code("unknownModel")
        public static let invalidParameter = Code("invalidParameter")
        public static let unknownParameter = Code("unknownParameter")
        public static let noTrainingData = Code("noTrainingData")
        public static let unknownUser = Code("unknownUser")
        public static let unknownItem = Code("unknownItem")
        public static let unsupported = Code("unsupported")
        public static let corruptModel = Code("corruptModel")
        public static let diverged = Code("diverged")
        public static let tooLarge = Code("tooLarge")
        public static let needsGradedValues = Code("needsGradedValues")
    }

    public var code: Code
    public var message: String
    public var hint: String?
    /// The data error behind this one, if any.
    public var cause: DataError?

    public init(_ code: Code, _ message: String, hint: String? = nil, cause: DataError? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.cause = cause
    }

    public var description: String {
        var text = message
        if let cause { text += ": \(cause)" }
        if let hint { text += ". " + hint }
        return text
    }
}

extension InteractionMatrix {
    /// Throws `needsGradedValues` when the data has interactions that all carry one value (for
    /// instance ratings turned into positives by a threshold): a model that centres values or
    /// regresses on them would see only zeros and rank items by index.
    public func requireGradedValues(model: String, because reason: String) throws(ModelError) {
        guard interactionCount > 0, !hasGradedValues else { return }
        throw ModelError(.needsGradedValues,
                         "model \(model) needs graded values (\(reason)), but every training value is \(byUser.values[0])",
                         hint: "Give it ratings or counts (no --threshold), or use a model for implicit feedback (pop, itemknn, userknn with cosine or jaccard, ease, als, bpr)")
    }
}
