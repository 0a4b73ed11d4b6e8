public import BraidCore

/// One post-norm transformer block (as BERT and RecBole's SASRec): h = LN(x + drop(attn(x))),
/// out = LN(h + drop(W₂·act(W₁·h))).
public struct TransformerBlock: ParameterContainer, Sendable {
    public let attention: SelfAttention
    public let attentionNorm: LayerNorm
    public let inner: Linear
    public let outer: Linear
    public let outputNorm: LayerNorm
    public let activation: Activation

    public init(_ name: String, width: Int, heads: Int, innerWidth: Int, causal: Bool, activation: Activation,
                std: Float, layerNormEpsilon: Float, generator: inout SeededGenerator) {
        attention = SelfAttention(name + ".attention", width: width, heads: heads, causal: causal, std: std, generator: &generator)
        attentionNorm = LayerNorm(name + ".attention.norm", width: width, epsilon: layerNormEpsilon)
        inner = Linear(name + ".ffn.inner", input: width, output: innerWidth, std: std, generator: &generator)
        outer = Linear(name + ".ffn.outer", input: innerWidth, output: width, std: std, generator: &generator)
        outputNorm = LayerNorm(name + ".ffn.norm", width: width, epsilon: layerNormEpsilon)
        self.activation = activation
    }

    public var parameters: [Parameter] {
        attention.parameters + attentionNorm.parameters + inner.parameters + outer.parameters + outputNorm.parameters
    }

    public struct Tape: Sendable {
        var attention: SelfAttention.Tape
        var attentionDrop: [Float]?
        var norm1: (normalized: [Float], inverseStd: [Float])
        var h: [Float]
        var innerIn: [Float]
        var activated: [Float]
        var outputDrop: [Float]?
        var norm2: (normalized: [Float], inverseStd: [Float])
    }

    public func forward(_ x: [Float], batch: Int, length: Int, counts: [Int], dropout: Float, attentionDropout: Float,
                        generator: inout SeededGenerator) -> (output: [Float], tape: Tape) {
        let rows = batch * length
        let (a, attentionTape) = attention.forward(x, batch: batch, length: length, counts: counts, dropout: attentionDropout, generator: &generator)
        let drop1 = Dropout.mask(count: a.count, probability: dropout, generator: &generator)
        let n1 = attentionNorm.forward(adding(x, Dropout.apply(a, mask: drop1)), rows: rows)
        let innerIn = inner.forward(n1.output, rows: rows)
        let activated = activation.forward(innerIn)
        let f = outer.forward(activated, rows: rows)
        let drop2 = Dropout.mask(count: f.count, probability: dropout, generator: &generator)
        let n2 = outputNorm.forward(adding(n1.output, Dropout.apply(f, mask: drop2)), rows: rows)
        return (n2.output, Tape(attention: attentionTape, attentionDrop: drop1, norm1: (n1.normalized, n1.inverseStd), h: n1.output,
                                innerIn: innerIn, activated: activated, outputDrop: drop2, norm2: (n2.normalized, n2.inverseStd)))
    }

    public func backward(_ dy: [Float], tape: Tape, batch: Int, length: Int) -> [Float] {
        let rows = batch * length
        let dSum2 = outputNorm.backward(dy, normalized: tape.norm2.normalized, inverseStd: tape.norm2.inverseStd, rows: rows)
        let dF = Dropout.apply(dSum2, mask: tape.outputDrop)
        let dActivated = outer.backward(dF, input: tape.activated, rows: rows)
        let dInner = activation.backward(dActivated, input: tape.innerIn)
        let dH = adding(dSum2, inner.backward(dInner, input: tape.h, rows: rows))
        let dSum1 = attentionNorm.backward(dH, normalized: tape.norm1.normalized, inverseStd: tape.norm1.inverseStd, rows: rows)
        let dA = Dropout.apply(dSum1, mask: tape.attentionDrop)
        return adding(dSum1, attention.backward(dA, tape: tape.attention, batch: batch, length: length))
    }
}

/// Item and position embeddings, layer norm and dropout, then a stack of transformer blocks:
/// the sequence encoder of SASRec (causal) and BERT4Rec (bidirectional). Item row 0 is the
/// padding; callers add 1 to an item index (and BERT4Rec keeps a mask token after the items).
public struct SequenceEncoder: ParameterContainer, Sendable {
    public let items: Embedding
    public let positions: Embedding
    public let inputNorm: LayerNorm
    public let blocks: [TransformerBlock]
    public let width: Int
    public let maximumLength: Int

    public init(tokens: Int, width: Int, maximumLength: Int, layers: Int, heads: Int, innerWidth: Int, causal: Bool,
                activation: Activation, std: Float = 0.02, layerNormEpsilon: Float = 1e-12, seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: 0x5E0)
        self.width = width
        self.maximumLength = maximumLength
        items = Embedding("items", count: tokens, width: width, std: std, generator: &generator)
        positions = Embedding("positions", count: maximumLength, width: width, std: std, generator: &generator)
        inputNorm = LayerNorm("input.norm", width: width, epsilon: layerNormEpsilon)
        blocks = (0..<layers).map { k in
            TransformerBlock("block\(k)", width: width, heads: heads, innerWidth: innerWidth, causal: causal,
                             activation: activation, std: std, layerNormEpsilon: layerNormEpsilon, generator: &generator)
        }
    }

    public var parameters: [Parameter] {
        items.parameters + positions.parameters + inputNorm.parameters + blocks.flatMap(\.parameters)
    }

    public struct Tape: Sendable {
        var tokens: [Int32]
        var norm: (normalized: [Float], inverseStd: [Float])
        var inputDrop: [Float]?
        var blocks: [TransformerBlock.Tape]
    }

    /// Hidden states of `batch` sequences of `length` tokens (row-major, `length` per
    /// sequence, padding token 0 after `counts[b]` real ones).
    public func forward(tokens: [Int32], batch: Int, length: Int, counts: [Int], dropout: Float, attentionDropout: Float,
                        generator: inout SeededGenerator) -> (hidden: [Float], tape: Tape) {
        let rows = batch * length
        let positionIndices = (0..<rows).map { Int32($0 % length) }
        let x = adding(items.forward(tokens), positions.forward(positionIndices))
        let normed = inputNorm.forward(x, rows: rows)
        let drop = Dropout.mask(count: x.count, probability: dropout, generator: &generator)
        var hidden = Dropout.apply(normed.output, mask: drop)
        var tapes: [TransformerBlock.Tape] = []
        for block in blocks {
            let (out, tape) = block.forward(hidden, batch: batch, length: length, counts: counts, dropout: dropout,
                                            attentionDropout: attentionDropout, generator: &generator)
            hidden = out
            tapes.append(tape)
        }
        return (hidden, Tape(tokens: tokens, norm: (normed.normalized, normed.inverseStd), inputDrop: drop, blocks: tapes))
    }

    /// Scores of item tokens `1...items` for one hidden state: their embeddings · h, plus
    /// `bias` (one per item) when given.
    public func itemScores(_ h: [Float], items: Int, bias: [Float]? = nil) -> [Float] {
        var scores = bias ?? [Float](repeating: 0, count: items)
        let d = width
        self.items.table.value.withUnsafeBufferPointer { e in
            h.withUnsafeBufferPointer { hp in
                scores.withUnsafeMutableBufferPointer { s in
                    BLAS.gemm(m: items, n: 1, k: d, a: e.baseAddress! + d, lda: d, b: hp.baseAddress!, ldb: 1,
                              beta: bias == nil ? 0 : 1, c: s.baseAddress!, ldc: 1)
                }
            }
        }
        return scores
    }

    public func backward(_ dHidden: [Float], tape: Tape, batch: Int, length: Int) {
        let rows = batch * length
        var d = dHidden
        for (block, blockTape) in zip(blocks, tape.blocks).reversed() { d = block.backward(d, tape: blockTape, batch: batch, length: length) }
        d = Dropout.apply(d, mask: tape.inputDrop)
        let dx = inputNorm.backward(d, normalized: tape.norm.normalized, inverseStd: tape.norm.inverseStd, rows: rows)
        items.backward(dx, indices: tape.tokens)
        positions.backward(dx, indices: (0..<rows).map { Int32($0 % length) })
    }
}
