import Foundation

/// Where training reports its progress (epoch, loss, validation metric): nowhere by default;
/// the CLI sends it to stderr.
public enum TrainingLog {
    private static let state = HandlerBox()

    /// Sets the handler for progress lines (nil: discard them).
    public static func setHandler(_ handler: (@Sendable (String) -> Void)?) { state.set(handler) }

    public static func report(_ line: @autoclosure () -> String) {
        guard let handler = state.get() else { return }
        handler(line())
    }
}

private final class HandlerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var handler: (@Sendable (String) -> Void)?
    func set(_ value: (@Sendable (String) -> Void)?) { lock.withLock { handler = value } }
    func get() -> (@Sendable (String) -> Void)? { lock.withLock { handler } }
}
