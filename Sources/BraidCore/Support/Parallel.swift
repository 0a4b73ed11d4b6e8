import Dispatch
import Foundation

/// How many worker threads Braid's kernels use: the count bound by `withThreadCount` for the
/// current task or thread, else `BRAID_THREADS`, else every core the process may run on.
///
/// There is no process-wide switch: a server fitting a model on two threads while it answers
/// queries on others binds the count around the fit only, and the parallel loops carry it into
/// their workers.
public enum Parallelism {
    @TaskLocal static var bound: Int?

    public static var threadCount: Int {
        if let bound { return bound }
        if let text = getenvString("BRAID_THREADS"), let value = Int(text), value > 0 { return value }
        return max(1, System.activeProcessorCount)
    }

    /// Runs `body` with `count` worker threads (nil: the default) for every parallel loop it
    /// starts, on this thread and the workers those loops use.
    public static func withThreadCount<R, Failure: Error>(_ count: Int?, _ body: () throws(Failure) -> R) throws(Failure) -> R {
        let result: Result<R, Failure> = $bound.withValue(count.map { max(1, $0) }) {
            do throws(Failure) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
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
    // Workers are not in the caller's task: carry its thread count into them, so that loops
    // nested inside `body` keep to it.
    let bound = Parallelism.bound
    // One Dispatch iteration per worker (Dispatch would otherwise run chunks on every core);
    // each worker takes the next chunk until none is left, so uneven chunks balance out.
    let workers = min(threads, chunks)
    let next = ChunkCounter(limit: chunks)
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        Parallelism.$bound.withValue(bound) {
            while let chunk = next.take() {
                let start = chunk * chunkTarget
                body(start..<min(count, start + chunkTarget))
            }
        }
    }
}

/// Hands out chunk numbers 0..<limit, each once, to whichever worker asks first.
final class ChunkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}

/// OpenBLAS set up once (`BLAS.configure`), before the first BLAS call or parallel loop: every
/// BLAS call and parallel loop reads this first, so none runs while the kernels are chosen.
/// The core Braid switched OpenBLAS to, if it did.
let blasConfigured: String? = BLAS.configure()

/// Runs `body` on contiguous parts of `0..<count`, one part per worker thread (each at least
/// `minimumPart` long, so a small count runs inline as one part): for a pass in which every part
/// walks the whole input and keeps only the writes that fall in its own part, so that the
/// writes to each index stay in the input's order whatever the thread count.
public func parallelParts(_ count: Int, minimumPart: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
    let threads = Parallelism.threadCount
    parallelChunks(count, minimumChunk: max(minimumPart, (count + threads - 1) / threads), body)
}

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
/// (Inlinable, as `parallelMap`, so that callers' element types are specialized.)
@inlinable public func parallelArray<Element>(
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

/// Maps `0..<count` to results in parallel, keeping the order. Inlinable, so that it is
/// specialized for the caller's `T`: unspecialized, gathering millions of results costs a
/// generic metadata lookup each.
@inlinable public func parallelMap<T: Sendable>(_ count: Int, minimumChunk: Int = 1, _ transform: @Sendable (Int) -> T) -> [T] {
    var slots = [T?](repeating: nil, count: count)
    slots.withUnsafeMutableBufferPointer { buffer in
        let shared = SharedBuffer(buffer)
        parallelChunks(count, minimumChunk: minimumChunk) { range in
            for index in range { shared[index] = transform(index) }
        }
    }
    return slots.map { $0! }
}
