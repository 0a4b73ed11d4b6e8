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
