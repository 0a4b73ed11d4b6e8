import BraidNeural
import Foundation
import Testing

@Suite(.serialized) struct TrainingLogTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    /// A note given once per process (GF-CF's, in every trial of `create`) reaches the handler
    /// once; other lines as often as they are given. Other suites may report meanwhile, so
    /// only this test's own lines are counted.
    @Test func aNoteIsReportedOnce() {
        let lines = Lines()
        TrainingLog.setHandler { lines.append($0) }
        defer { TrainingLog.setHandler(nil) }
        let note = "training-log test: note \(UUID().uuidString)", line = "training-log test: line \(UUID().uuidString)"
        for _ in 0..<3 {
            TrainingLog.reportOnce(note)
            TrainingLog.report(line)
        }
        #expect(lines.all.filter { $0 == note }.count == 1)
        #expect(lines.all.filter { $0 == line }.count == 3)
    }
}
