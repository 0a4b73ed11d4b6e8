#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Contiguous floats that Braid owns, or that it borrows from a memory-mapped model file.
///
/// A model loaded from a file reads its large matrices straight from the mapping (no copy, so
/// loading costs no memory beyond the mapped pages, which the kernel shares and can drop).
/// The first mutation copies the values into an owned array; reads never copy.
public struct FloatBuffer: Sendable, RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    @usableFromInline var owned: [Float]
    @usableFromInline var mapped: MappedFloats?

    public init(_ values: [Float]) {
        owned = values
        mapped = nil
    }

    public init(repeating value: Float, count: Int) { self.init([Float](repeating: value, count: count)) }

    public init(arrayLiteral elements: Float...) { self.init(elements) }

    /// `count` floats at `byteOffset` in `region`, read in place (the offset must be 4-byte
    /// aligned and the range inside the region; `ModelArchive` checks both).
    init(region: MappedRegion, byteOffset: Int, count: Int) {
        owned = []
        mapped = MappedFloats(region: region, base: (region.base + byteOffset).assumingMemoryBound(to: Float.self), count: count)
    }

    /// Whether the values are read from a mapped file rather than owned.
    public var isMapped: Bool { mapped != nil }

    public var startIndex: Int { 0 }
    public var endIndex: Int { mapped?.count ?? owned.count }

    @inlinable public subscript(index: Int) -> Float {
        get {
            if let mapped {
                precondition(index >= 0 && index < mapped.count, "index \(index) is outside 0..<\(mapped.count)")
                return mapped.base[index]
            }
            return owned[index]
        }
        set {
            materialize()
            owned[index] = newValue
        }
    }

    /// Copies mapped values into an owned array (before a mutation).
    @inlinable public mutating func materialize() {
        guard let mapped else { return }
        owned = Array(UnsafeBufferPointer(start: mapped.base, count: mapped.count))
        self.mapped = nil
    }

    @inlinable public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        if let mapped { return try body(UnsafeBufferPointer(start: mapped.base, count: mapped.count)) }
        let result: Result<R, E> = owned.withUnsafeBufferPointer { pointer in
            do throws(E) { return .success(try body(pointer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    @inlinable public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        materialize()
        return try owned.withUnsafeMutableBufferPointer(body)
    }

    /// Whether both read the same memory (one owned array's storage, or the same mapped
    /// values): copies of one buffer that neither has mutated since. A shared array is copied
    /// by its first mutation, so a buffer kept beside a value derived from it tells whether
    /// that value is still current.
    public func sharesStorage(with other: FloatBuffer) -> Bool {
        count == other.count && withUnsafeBufferPointer { a in other.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }

    /// Whether every value is finite (a contiguous scan, not element by element).
    public var allFinite: Bool { withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) } }

    /// Contiguous access for the standard library's algorithms.
    @inlinable public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R? {
        if let mapped { return try body(UnsafeBufferPointer(start: mapped.base, count: mapped.count)) }
        return try owned.withUnsafeBufferPointer(body)
    }

    /// The values as an array (a copy when mapped).
    public var array: [Float] { mapped == nil ? owned : withUnsafeBufferPointer { Array($0) } }

    /// The values as rows of `width`, with `count` rows of zeros inserted before row `row` (at
    /// most the number of rows): one new array, written once (a model's item table can be
    /// hundreds of megabytes).
    public func insertingZeroRows(_ count: Int, width: Int, before row: Int) -> FloatBuffer {
        let end = row * width
        var grown = [Float]()
        grown.reserveCapacity(self.count + count * width)
        withUnsafeBufferPointer { old in
            grown.append(contentsOf: old[..<end])
            grown.append(contentsOf: repeatElement(0, count: count * width))
            grown.append(contentsOf: old[end...])
        }
        return FloatBuffer(grown)
    }
}

extension FloatBuffer: Equatable {
    public static func == (a: FloatBuffer, b: FloatBuffer) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}

/// A typed view into a mapped region, which it keeps alive (the region is read-only, so the
/// pointer may be shared across threads).
public struct MappedFloats: @unchecked Sendable {
    let region: MappedRegion
    @usableFromInline let base: UnsafePointer<Float>
    @usableFromInline let count: Int
}

/// A read-only memory mapping of a whole file, unmapped when the last reader goes.
public final class MappedRegion: @unchecked Sendable {
    let base: UnsafeRawPointer
    public let length: Int

    /// Maps the file at `path`, or returns nil when it cannot be mapped (then read it instead).
    public init?(path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_size > 0 else { return nil }
        let length = Int(status.st_size)
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else { return nil }
        base = UnsafeRawPointer(address)
        self.length = length
    }

    /// The mapped bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: length) }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }
}
