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

    /// Reports `line` the first time this process gives it, and drops it after: a note on the
    /// data (such as GF-CF leaving out its linear filter) that every trial of a search would
    /// otherwise repeat.
    public static func reportOnce(_ line: String) {
        guard let handler = state.get(), state.firstTime(line) else { return }
        handler(line)
    }
}

private final class HandlerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var handler: (@Sendable (String) -> Void)?
    private var given: Set<String> = []
    func set(_ value: (@Sendable (String) -> Void)?) { lock.withLock { handler = value } }
    func get() -> (@Sendable (String) -> Void)? { lock.withLock { handler } }
    func firstTime(_ line: String) -> Bool { lock.withLock { given.insert(line).inserted } }
}
