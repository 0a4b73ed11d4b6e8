/// A dense row-major matrix of `Float`.
public struct DenseMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var storage: FloatBuffer

    /// A zero matrix.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, storage: [Float](repeating: 0, count: rows * columns))
    }

    public init(rows: Int, columns: Int, storage: [Float]) {
        self.init(rows: rows, columns: columns, storage: FloatBuffer(storage))
    }

    /// A matrix over `storage` as it is (owned or mapped from a model file).
    public init(rows: Int, columns: Int, storage: FloatBuffer) {
        precondition(storage.count == rows * columns, "storage holds \(storage.count) values, not \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from nested arrays (for tests and small inputs).
    public init(_ nested: [[Float]]) {
        let width = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == width }, "rows differ in length")
        self.init(rows: nested.count, columns: width, storage: nested.flatMap { $0 })
    }

    @inlinable public subscript(row: Int, column: Int) -> Float {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// A copy of one row.
    public func row(_ index: Int) -> [Float] {
        storage.withUnsafeBufferPointer { Array($0[(index * columns)..<((index + 1) * columns)]) }
    }

    /// The rows `indices` in that order, as a matrix of their own.
    public func rows(_ indices: [Int]) -> DenseMatrix {
        var out = [Float]()
        out.reserveCapacity(indices.count * columns)
        storage.withUnsafeBufferPointer { all in
            for index in indices { out.append(contentsOf: all[(index * columns)..<((index + 1) * columns)]) }
        }
        return DenseMatrix(rows: indices.count, columns: columns, storage: out)
    }

    /// The transpose.
    public func transposed() -> DenseMatrix {
        var result = DenseMatrix(rows: columns, columns: rows)
        for r in 0..<rows { for c in 0..<columns { result.storage[c * rows + r] = storage[r * columns + c] } }
        return result
    }
}
