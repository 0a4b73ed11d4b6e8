import Dispatch

/// How many worker threads Braid's kernels use: `BRAID_THREADS` when set, otherwise every
/// core the process may run on.
public enum Parallelism {
    nonisolated(unsafe) private static var override: Int?

    public static var threadCount: Int {
        if let override { return override }
        if let text = getenvString("BRAID_THREADS"), let value = Int(text), value > 0 { return value }
        return max(1, System.activeProcessorCount)
    }

    /// Sets the worker count for this process (the CLI's `--threads`). Call before any work starts.
    public static func setThreadCount(_ count: Int?) {
        precondition(count.map { $0 > 0 } ?? true, "thread count must be positive")
        override = count
    }
}

/// Runs `body` over `0..<count` split in contiguous chunks across the worker threads.
///
/// - Parameters:
///   - count: the number of indices.
///   - minimumChunk: do not split finer than this; small loops run inline.
///   - body: called with a range of indices; calls run concurrently.
public func parallelChunks(_ count: Int, minimumChunk: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
    guard count > 0 else { return }
    _ = blasConfigured
    let threads = Parallelism.threadCount
    let chunkTarget = max(minimumChunk, (count + threads * 8 - 1) / (threads * 8))
    let chunks = (count + chunkTarget - 1) / chunkTarget
    if threads == 1 || chunks == 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = chunk * chunkTarget
        body(start..<min(count, start + chunkTarget))
    }
}

/// OpenBLAS runs single-threaded except inside `BLAS.parallel`; set once, before the first
/// parallel loop.
let blasConfigured: Bool = {
    BLAS.singleThreaded()
    return true
}()

/// Runs `body(index)` for every index in `0..<count` on the worker threads.
public func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: @Sendable (Int) -> Void) {
    parallelChunks(count, minimumChunk: minimumChunk) { range in
        for index in range { body(index) }
    }
}

/// A mutable buffer that parallel workers write to at disjoint indices.
///
/// The caller guarantees that no two workers touch the same element, which is what makes
/// sharing it across threads sound.
public struct SharedBuffer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public let count: Int

    public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        base = buffer.baseAddress ?? UnsafeMutablePointer<Element>.allocate(capacity: 0)
        count = buffer.count
    }

    @inlinable public subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// A pointer that parallel workers only read.
public struct UnsafeSendablePointer<Element>: @unchecked Sendable {
    public let pointer: UnsafePointer<Element>
    public init(_ pointer: UnsafePointer<Element>) { self.pointer = pointer }
}

/// Fills a new array of `count` elements in parallel; `body` writes a chunk of the array.
public func parallelArray<Element>(
    count: Int, repeating initial: Element, minimumChunk: Int = 1,
    _ body: @Sendable (Range<Int>, SharedBuffer<Element>) -> Void
) -> [Element] {
    var result = [Element](repeating: initial, count: count)
    result.withUnsafeMutableBufferPointer { buffer in
        let shared = SharedBuffer(buffer)
        parallelChunks(count, minimumChunk: minimumChunk) { range in body(range, shared) }
    }
    return result
}

/// Maps `0..<count` to results in parallel, keeping the order.
public func parallelMap<T: Sendable>(_ count: Int, minimumChunk: Int = 1, _ transform: @Sendable (Int) -> T) -> [T] {
    var slots = [T?](repeating: nil, count: count)
    slots.withUnsafeMutableBufferPointer { buffer in
        let shared = SharedBuffer(buffer)
        parallelChunks(count, minimumChunk: minimumChunk) { range in
            for index in range { shared[index] = transform(index) }
        }
    }
    return slots.map { $0! }
}
