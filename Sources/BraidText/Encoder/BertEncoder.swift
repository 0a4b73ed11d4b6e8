internal import BraidCore
public import BraidNeural
internal import Foundation

/// A BERT-family transformer encoder: token, position and segment embeddings with LayerNorm,
/// then N layers of multi-head self-attention (padding masked) and a feed-forward layer (GELU,
/// or the nonlinearity `hidden_act` names), each with residual connections and LayerNorm. Dense
/// products run through BLAS sgemm over the whole batch; attention runs per sequence and head on
/// the worker threads.
public struct BertEncoder: Sendable {
    struct Dense: Sendable {
        /// Row-major [out, in], as PyTorch stores it.
        let weight: [Float]
        let bias: [Float]
        let inputs: Int, outputs: Int
    }

    struct Norm: Sendable {
        let gamma: [Float], beta: [Float]
    }

    struct Layer: Sendable {
        let query: Dense, key: Dense, value: Dense, attentionOutput: Dense
        let attentionNorm: Norm
        let intermediate: Dense, output: Dense
        let outputNorm: Norm
    }

    public let configuration: BertConfiguration
    /// The feed-forward nonlinearity, `hidden_act`.
    public let activation: Activation
    let wordEmbeddings: [Float], positionEmbeddings: [Float], typeEmbeddings: [Float]
    let embeddingNorm: Norm
    let layers: [Layer]

    /// How many token ids the word embeddings have rows for.
    public var vocabularyRows: Int { wordEmbeddings.count / configuration.hiddenSize }

    /// Loads the weights from a safetensors file (names with or without a `bert.` prefix).
    public init(weights: SafetensorsFile, configuration: BertConfiguration) throws(TextModelError) {
        self.configuration = configuration
        let h = configuration.hiddenSize
        guard configuration.heads > 0, h % configuration.heads == 0 else {
            throw TextModelError(.invalidConfiguration, "hidden size \(h) is not divisible by \(configuration.heads) heads")
        }
        // Sizes a config.json cannot mean (the tensors' shapes are compared with the rest).
        for (key, value, least) in [("hidden_size", h, 1), ("num_hidden_layers", configuration.layers, 0), ("intermediate_size", configuration.intermediateSize, 1),
                                    ("max_position_embeddings", configuration.maximumPositions, 2), ("type_vocab_size", configuration.typeVocabularySize, 1)]
        where value < least {
            throw TextModelError(.invalidConfiguration, "config.json gives \(key) = \(value), below \(least)")
        }
        guard configuration.layerNormEpsilon.isFinite, configuration.layerNormEpsilon > 0 else {
            throw TextModelError(.invalidConfiguration, "config.json gives layer_norm_eps = \(configuration.layerNormEpsilon), not a finite number above 0")
        }
        guard let activation = Activation.huggingFaceNames[configuration.activation] else {
            throw TextModelError(.invalidConfiguration, "config.json gives hidden_act = \"\(configuration.activation)\", which Braid does not run",
                                 hint: "Braid runs \(Activation.huggingFaceNames.keys.sorted().joined(separator: ", "))")
        }
        self.activation = activation
        let prefix = weights.tensors["embeddings.word_embeddings.weight"] != nil ? "" : "bert."
        func tensor(_ name: String, _ shape: [Int]) throws(TextModelError) -> [Float] {
            let (values, actual) = try weights.floats(prefix + name)
            guard actual == shape else {
                throw TextModelError(.invalidConfiguration, "tensor \(prefix + name) has shape \(actual), config.json implies \(shape)")
            }
            return values
        }
        func dense(_ name: String, _ inputs: Int, _ outputs: Int) throws(TextModelError) -> Dense {
            Dense(weight: try tensor(name + ".weight", [outputs, inputs]), bias: try tensor(name + ".bias", [outputs]), inputs: inputs, outputs: outputs)
        }
        func norm(_ name: String) throws(TextModelError) -> Norm {
            Norm(gamma: try tensor(name + ".weight", [h]), beta: try tensor(name + ".bias", [h]))
        }
        let vocabularyRows = weights.tensors[prefix + "embeddings.word_embeddings.weight"]?.shape.first ?? 0
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [vocabularyRows, h])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [configuration.maximumPositions, h])
        typeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [configuration.typeVocabularySize, h])
        embeddingNorm = try norm("embeddings.LayerNorm")
        var layers: [Layer] = []
        for l in 0..<configuration.layers {
            let p = "encoder.layer.\(l)."
            layers.append(Layer(query: try dense(p + "attention.self.query", h, h), key: try dense(p + "attention.self.key", h, h),
                                value: try dense(p + "attention.self.value", h, h),
                                attentionOutput: try dense(p + "attention.output.dense", h, h),
                                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                                intermediate: try dense(p + "intermediate.dense", h, configuration.intermediateSize),
                                output: try dense(p + "output.dense", configuration.intermediateSize, h),
                                outputNorm: try norm(p + "output.LayerNorm")))
        }
        self.layers = layers
    }

    /// The last hidden states of a batch of token-id sequences, padded to the longest:
    /// `[batch × length × hidden]` row-major, with the length.
    public func hiddenStates(_ batch: [[Int32]]) -> (states: [Float], length: Int) {
        let h = configuration.hiddenSize
        let length = batch.map(\.count).max() ?? 0
        let rows = batch.count * length
        var x = [Float](repeating: 0, count: rows * h)
        // Embeddings.
        for (b, ids) in batch.enumerated() {
            for t in 0..<length {
                let row = (b * length + t) * h
                let id = t < ids.count ? Int(ids[t]) : 0
                let word = min(max(0, id), wordEmbeddings.count / h - 1)
                for d in 0..<h {
                    x[row + d] = wordEmbeddings[word * h + d] + positionEmbeddings[t * h + d] + typeEmbeddings[d]
                }
            }
        }
        layerNorm(&x, rows: rows, embeddingNorm)
        let lengths = batch.map(\.count)
        var work = Workspace()
        for layer in layers { apply(layer, to: &x, batch: batch.count, length: length, lengths: lengths, work: &work) }
        return (x, length)
    }

    /// A batch's intermediate arrays, allocated at its first layer and reused by the others
    /// (fresh ones per layer page-faulted on every allocation: the intermediate activations of
    /// 32 passages of 256 tokens take 50 MB). Padding rows may hold an earlier layer's values;
    /// no real token reads them (attention reads the real tokens' rows only, the rest is row by row).
    struct Workspace {
        var q: [Float] = [], k: [Float] = [], v: [Float] = [], context: [Float] = []
        var attended: [Float] = [], intermediate: [Float] = [], output: [Float] = []

        /// `array` with `count` values: kept as it is when it has them, else new zeros.
        static func size(_ array: inout [Float], _ count: Int) {
            if array.count != count { array = [Float](repeating: 0, count: count) }
        }
    }

    func apply(_ layer: Layer, to x: inout [Float], batch: Int, length: Int, lengths: [Int], work: inout Workspace) {
        let h = configuration.hiddenSize, heads = configuration.heads, dh = h / heads
        let rows = batch * length
        dense(x, rows: rows, layer.query, into: &work.q)
        dense(x, rows: rows, layer.key, into: &work.k)
        dense(x, rows: rows, layer.value, into: &work.v)
        Workspace.size(&work.context, rows * h)
        let scale = 1 / Float(dh).squareRoot()
        work.q.withUnsafeBufferPointer { qb in work.k.withUnsafeBufferPointer { kb in work.v.withUnsafeBufferPointer { vb in
            work.context.withUnsafeMutableBufferPointer { cb in
                let qp = UnsafeSendablePointer(qb.baseAddress!), kp = UnsafeSendablePointer(kb.baseAddress!), vp = UnsafeSendablePointer(vb.baseAddress!)
                let out = SharedBuffer(cb)
                let longest = lengths.max() ?? 0
                parallelChunks(batch * heads) { jobs in
                    // One score buffer per chunk of jobs, reused: fresh 256 KB buffers per head
                    // would page-fault on every allocation.
                    var scores = [Float](repeating: 0, count: longest * longest)
                    scores.withUnsafeMutableBufferPointer { sb in
                        let s = sb.baseAddress!
                        for job in jobs {
                            let b = job / heads, head = job % heads
                            let n = lengths[b]
                            guard n > 0 else { continue }
                            let base = b * length * h + head * dh
                            // scores = Q_h K_hᵀ / √d over the real tokens only (padding keys are masked).
                            BLAS.gemm(m: n, n: n, k: dh, alpha: scale, a: qp.pointer + base, lda: h,
                                      b: kp.pointer + base, ldb: h, transposeB: true, c: s, ldc: n)
                            for i in 0..<n { VectorKernels.softmax(s + i * n, n) }
                            BLAS.gemm(m: n, n: dh, k: n, a: s, lda: n, b: vp.pointer + base, ldb: h, c: out.base + base, ldc: h)
                        }
                    }
                }
            }
        } } }
        dense(work.context, rows: rows, layer.attentionOutput, into: &work.attended)
        layerNorm(&work.attended, rows: rows, layer.attentionNorm, adding: x)
        dense(work.attended, rows: rows, layer.intermediate, into: &work.intermediate)
        work.intermediate.withUnsafeMutableBufferPointer { ib in
            let buffer = SharedBuffer(ib)
            parallelChunks(buffer.count, minimumChunk: 4096) { range in
                activation.apply(buffer.base + range.lowerBound, range.count)
            }
        }
        dense(work.intermediate, rows: rows, layer.output, into: &work.output)
        layerNorm(&work.output, rows: rows, layer.outputNorm, adding: work.attended)
        swap(&x, &work.output)
    }

    /// `out = input · Wᵀ + b` for `rows` input rows (`out` reused when it has the size), split
    /// in row blocks across the worker threads, each block one single-threaded sgemm
    /// (OpenBLAS's own threads would spin against the workers running attention).
    func dense(_ input: [Float], rows: Int, _ layer: Dense, into out: inout [Float]) {
        Workspace.size(&out, rows * layer.outputs)
        input.withUnsafeBufferPointer { a in
            layer.weight.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { c in
                    let ap = UnsafeSendablePointer(a.baseAddress!), wp = UnsafeSendablePointer(w.baseAddress!), cp = SharedBuffer(c)
                    let blocks = max(1, min(Parallelism.threadCount * 2, rows / 64))
                    let blockRows = (rows + blocks - 1) / blocks
                    parallelFor(blocks) { block in
                        let start = block * blockRows, count = min(blockRows, rows - start)
                        guard count > 0 else { return }
                        let target = cp.base + start * layer.outputs
                        for r in 0..<count { (target + r * layer.outputs).update(from: layer.bias, count: layer.outputs) }
                        BLAS.gemm(m: count, n: layer.outputs, k: layer.inputs, a: ap.pointer + start * layer.inputs, lda: layer.inputs,
                                  b: wp.pointer, ldb: layer.inputs, transposeB: true, beta: 1, c: target, ldc: layer.outputs)
                    }
                }
            }
        }
    }

    /// `x = LayerNorm(x + residual)` row by row on the worker threads (residual optional).
    func layerNorm(_ x: inout [Float], rows: Int, _ norm: Norm, adding residual: [Float]? = nil) {
        let h = configuration.hiddenSize, epsilon = configuration.layerNormEpsilon
        x.withUnsafeMutableBufferPointer { xb in
            let buffer = SharedBuffer(xb)
            parallelChunks(rows, minimumChunk: 64) { range in
                for r in range {
                    let row = buffer.base + r * h
                    if let residual { for d in 0..<h { row[d] += residual[r * h + d] } }
                    var mean: Float = 0
                    for d in 0..<h { mean += row[d] }
                    mean /= Float(h)
                    var variance: Float = 0
                    for d in 0..<h { let c = row[d] - mean; variance += c * c }
                    let inverse = 1 / (variance / Float(h) + epsilon).squareRoot()
                    for d in 0..<h { row[d] = (row[d] - mean) * inverse * norm.gamma[d] + norm.beta[d] }
                }
            }
        }
    }
}
