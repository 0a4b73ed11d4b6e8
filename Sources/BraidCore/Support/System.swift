#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Small platform facts used by the kernels and the CLI.
public enum System {
    /// `value` with `digits` decimals, or "-" when it is not finite: how progress lines and
    /// tables print metrics.
    public static func fixed(_ value: Double, digits: Int = 4) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "-"
    }

    /// The cores the process may run on. Foundation reads the cgroup's CPU quota files for it on
    /// every call (eight system calls, about 36 µs on Linux), and every parallel loop asks, so
    /// the count is read again at most once a second: a quota changed while the process runs
    /// still takes effect.
    public static var activeProcessorCount: Int {
        processorCount.withLock { cached in
            let now = monotonicSeconds()
            if cached.count == 0 || now - cached.read >= 1 {
                cached = (ProcessInfo.processInfo.activeProcessorCount, now)
            }
            return cached.count
        }
    }

    private static let processorCount = Mutex<(count: Int, read: Double)>((0, 0))

    /// Seconds on a monotonic clock, for timing fits.
    public static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}

func getenvString(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}
