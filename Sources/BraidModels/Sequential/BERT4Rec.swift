public import BraidCore
import BraidNeural
import Foundation

/// BERT4Rec (Sun et al. 2019): a bidirectional transformer over the user's history trained
/// by the cloze task — a share of the items in each window is replaced by a mask token and
/// predicted from both sides, full softmax over every item through an output head
/// (dense, GELU, layer norm, tied item embeddings plus a bias), as RecBole implements it.
/// A history is scored by appending the mask token after its latest items and predicting it.
public struct BERT4Rec: SequenceModel {
    public struct Configuration: ModelConfiguration {
        public var encoder = SequenceEncoderSettings(dropout: 0.2, attentionDropout: 0.2)
        /// The share of each window's items masked for training.
        public var maskRatio: Float = 0.2
        /// The share of examples that mask only their latest item instead, as scoring does
        /// (the paper's extra samples, section 3.6; RecBole's `ft_ratio`): a history's prefix
        /// ending at a point drawn inside the window, as RecBole draws from every prefix.
        public var lastMaskRatio: Float = 0.5
        /// How many times an epoch draws each window (masks and ends drawn anew each time).
        /// The default, 5 (one over the mask ratio), makes an epoch mask about as many
        /// positions as the windows hold, so that an epoch's gain shows above the validation's
        /// noise and early stopping's patience spans enough training.
        public var repeats = 5
        public var training = NeuralTrainingSettings(refit: true)

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(SequenceEncoderSettings.keys + ["mask-ratio", "last-mask", "repeats", "refit"] + NeuralTrainingSettings.keys)
            encoder = try SequenceEncoderSettings(parameters: parameters, defaults: encoder)
            maskRatio = try parameters.float("mask-ratio", default: maskRatio, range: 0.01...1)
            lastMaskRatio = try parameters.float("last-mask", default: lastMaskRatio, range: 0...1)
            repeats = try parameters.int("repeats", default: repeats, range: 1...1000)
            training = try NeuralTrainingSettings(parameters: parameters, defaults: training)
        }

        public func checkSaved() throws(ModelError) { try encoder.checkSaved() }
    }

    public static let name = "bert4rec"
    public static let summary = "BERT4Rec bidirectional masked-item transformer (Sun et al. 2019), trained natively with full softmax"
    public static var trainsByEpochs: Bool { true }

    public let configuration: Configuration
    public let data: InteractionMatrix
    let network: Network

    /// The encoder (tokens: 0 padding, 1…n items, n + 1 the mask) and the output head.
    struct Network: Sendable {
        let encoder: SequenceEncoder
        let head: Linear
        let headNorm: LayerNorm
        let outputBias: Parameter
        let maskToken: Int32

        init(_ c: Configuration, items: Int) {
            encoder = c.encoder.encoder(tokens: items + 2, causal: false, seed: c.training.seed)
            var generator = SeededGenerator(seed: c.training.seed, stream: 0xB4)
            head = Linear("head", input: c.encoder.factors, output: c.encoder.factors, std: 0.02, generator: &generator)
            headNorm = LayerNorm("head.norm", width: c.encoder.factors)
            outputBias = Parameter("output.bias", shape: [items], constant: 0)
            maskToken = Int32(items + 1)
        }

        var parameters: [Parameter] { encoder.parameters + head.parameters + headNorm.parameters + [outputBias] }
    }

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "BERT4Rec needs at least one interaction") }
        self.configuration = configuration
        self.data = data
        let c = configuration.encoder, ratio = Double(configuration.maskRatio), lastRatio = Double(configuration.lastMaskRatio)
        let itemCount = data.itemCount, d = c.factors
        network = try fitSequenceNetwork(model: Self.name, histories: data.histories, settings: configuration.training,
                                         make: { Network(configuration, items: itemCount) }) { network, histories, validation, settings throws(ModelError) in
            // Windows cut as for SASRec, but of the items themselves: (history, range).
            let windows = histories.indices.flatMap { h in trainingWindows(count: histories[h].count, length: c.maximumLength).map { (h, $0.range) } }
            var adam = settings.optimizer()
            let parameters = network.parameters
            TrainingLog.report("bert4rec: \(windows.count) windows of up to \(c.maximumLength) items, \(parameters.reduce(0) { $0 + $1.count }) parameters")
            return try trainByEpochs(model: Self.name, parameters: parameters, settings: settings, examples: windows.count * configuration.repeats, step: { batch, generator in
                // A cloze example is its window; a last-item example is the history up to a point
                // drawn anew each time inside the window (its latest `maximumLength` items), so
                // over the epochs the task scoring asks — the item after a prefix — is taught at
                // every position, not only at each window's end.
                let examples = batch.map { w -> (items: ArraySlice<Int32>, onlyLast: Bool) in
                    let (h, range) = windows[w % windows.count]
                    guard generator.nextUnit() < lastRatio else { return (histories[h][range], false) }
                    let ends = Self.lastItemEnds(range)
                    let end = ends.lowerBound + Int(generator.next() % UInt64(ends.count))
                    return (histories[h][max(0, end - c.maximumLength + 1)...end], true)
                }
                let counts = examples.map(\.items.count)
                let length = counts.max() ?? 0
                var tokens = [Int32](repeating: 0, count: batch.count * length)
                var targets = [Int32](repeating: -1, count: batch.count * length)
                for (b, example) in examples.enumerated() {
                    let window = Array(example.items)
                    var masked = false
                    for (p, item) in window.enumerated() {
                        if example.onlyLast ? p == window.count - 1 : generator.nextUnit() < ratio {
                            tokens[b * length + p] = network.maskToken
                            targets[b * length + p] = item
                            masked = true
                        } else {
                            tokens[b * length + p] = item + 1
                        }
                    }
                    if !masked {  // every window teaches something: mask one position
                        let p = Int(generator.next() % UInt64(window.count))
                        tokens[b * length + p] = network.maskToken
                        targets[b * length + p] = window[p]
                    }
                }
                let (hidden, tape) = network.encoder.forward(tokens: tokens, batch: batch.count, length: length, counts: counts,
                                                             dropout: c.dropout, attentionDropout: c.attentionDropout, generator: &generator)
                // The head runs on the masked positions only.
                let rows = targets.indices.filter { targets[$0] >= 0 }
                var picked = [Float](repeating: 0, count: rows.count * d)
                for (k, r) in rows.enumerated() { picked.replaceSubrange((k * d)..<((k + 1) * d), with: hidden[(r * d)..<((r + 1) * d)]) }
                let z = network.head.forward(picked, rows: rows.count)
                let a = Activation.gelu.forward(z)
                let n = network.headNorm.forward(a, rows: rows.count)
                let (loss, dN) = SoftmaxCrossEntropy.full(hidden: n.output, rows: rows.count, width: d, targets: rows.map { targets[$0] },
                                                          table: network.encoder.items.table, first: 1, classes: itemCount, bias: network.outputBias)
                let dA = network.headNorm.backward(dN, normalized: n.normalized, inverseStd: n.inverseStd, rows: rows.count)
                let dPicked = network.head.backward(Activation.gelu.backward(dA, input: z), input: picked, rows: rows.count)
                var dHidden = [Float](repeating: 0, count: hidden.count)
                for (k, r) in rows.enumerated() { dHidden.replaceSubrange((r * d)..<((r + 1) * d), with: dPicked[(k * d)..<((k + 1) * d)]) }
                network.encoder.backward(dHidden, tape: tape, batch: batch.count, length: length)
                adam.update(parameters)
                return loss
            }, validate: validation.map { v in { v.ndcg { Self.sequenceScores(network, c, items: itemCount, history: $0.history) } } })
        }
    }

    /// Where a last-item example drawn in a training window may end: any of its positions with
    /// an item before it in the history (a history of one item has only that one).
    static func lastItemEnds(_ window: Range<Int>) -> Range<Int> {
        min(max(window.lowerBound, 1), window.upperBound - 1)..<window.upperBound
    }

    /// Scores of every item for the mask placed after `history`'s latest items.
    func sequenceScores(_ history: [Int32]) -> [Float] {
        Self.sequenceScores(network, configuration.encoder, items: data.itemCount, history: history)
    }

    /// How many of a history's latest items scoring reads: the window less the mask's place.
    static func readLength(_ c: SequenceEncoderSettings) -> Int { c.maximumLength - 1 }

    static func sequenceScores(_ network: Network, _ c: SequenceEncoderSettings, items itemCount: Int, history: [Int32]) -> [Float] {
        let d = c.factors
        let tokens = history.suffix(readLength(c)).map { $0 + 1 } + [network.maskToken]
        var none = SeededGenerator(seed: 0)
        let (hidden, _) = network.encoder.forward(tokens: tokens, batch: 1, length: tokens.count, counts: [tokens.count], dropout: 0,
                                                  attentionDropout: 0, generator: &none)
        let last = Array(hidden[((tokens.count - 1) * d)..<(tokens.count * d)])
        let h = network.headNorm.forward(Activation.gelu.forward(network.head.forward(last, rows: 1)), rows: 1).output
        return network.encoder.itemScores(h, items: itemCount, bias: network.outputBias.value)
    }

    /// Explained by occlusion (`Explanation.ItemWeights.occlusion`): each history item the
    /// scoring reads, by how much the item's score falls without it.
    public func explanations(user: Int, items: [Int]) -> [Explanation?] {
        guard (0..<data.userCount).contains(user), items.allSatisfy({ (0..<data.itemCount).contains($0) }) else { return items.map { _ in nil } }
        return occlusionExplanations(history: data.history(ofUser: user), window: Self.readLength(configuration.encoder), items: items)
    }

    public func explanation(user: Int, item: Int) -> Explanation? { explanations(user: user, items: [item])[0] }

    public func explanations(history: [Int32], values: [Float], trainedUser user: Int?, items: [Int]) -> [Explanation?] {
        guard explainable(history, values: values, items: items) else { return items.map { _ in nil } }
        return occlusionExplanations(history: history, window: Self.readLength(configuration.encoder), items: items)
    }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        explanations(history: history, values: values, trainedUser: user, items: [item])[0]
    }

    public func archive(into archive: inout ModelArchive) {
        NeuralArchive.store(network.parameters, prefix: "bert4rec.", into: &archive)
    }

    /// New items get zero embeddings between the known items' and the mask token's, and a zero
    /// output bias; the trained network stays (`extendingArchive(to:rows:)`).
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: [ItemRows(key: "bert4rec.items", before: 1, after: 1), ItemRows(key: "bert4rec.output.bias")])
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        try configuration.encoder.checkStored(tokens: data.itemCount + 2, prefix: "bert4rec.", in: archive)
        network = Network(configuration, items: data.itemCount)
        try NeuralArchive.restore(network.parameters, prefix: "bert4rec.", from: archive)
    }
}
