public import Hummingbird

/// An error answered to the client as `{"error": {"code", "message"}}` with its status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    var body: JSONValue { ["error": ["code": .string(code), "message": .string(message)]] }
}
