/// An error loading or running a text model: a missing or corrupt model directory, a
/// truncated weight file, an inconsistent configuration.
public struct TextModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let modelNotFound = Code("modelNotFound")
        public static let corruptWeights = Code("corruptWeights")
        public static let checksumMismatch = Code("checksumMismatch")
        public static let invalidConfiguration = Code("invalidConfiguration")
        public static let missingTensor = Code("missingTensor")
        public static let unreadable = Code("unreadable")
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message). \($0)" } ?? message }
}
