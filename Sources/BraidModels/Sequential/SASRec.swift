public import BraidCore
import BraidNeural
import Foundation

/// SASRec, self-attentive sequential recommendation (Kang & McAuley 2018), in the form RecBole
/// implements: item + learned position embeddings, layer norm and dropout, post-norm
/// transformer blocks with causal attention, and the last position's hidden state scored
/// against the (tied) item embeddings. Trained with the full softmax over every item at every
/// position of each window of a user's history in time order — the sum over positions is the
/// objective of training on every prefix separately, computed in one pass — by Adam, with
/// early stopping on each user's latest item, then (`refit`) trained afresh for the epochs it
/// chose on the whole histories, those latest items included. A history longer than a window is cut into
/// overlapping windows (`windowStride`), each position trained once, in the window that gives
/// it the most context.
///
/// A history is read in time order (`InteractionMatrix.sequence`; without timestamps, item
/// order); `scores(forHistory:)` takes the items oldest first, so one new event changes the
/// next list at once.
public struct SASRec: SequenceModel {
    public struct Configuration: ModelConfiguration {
        public var encoder = SequenceEncoderSettings()
        public var training = NeuralTrainingSettings(refit: true)
        /// Training windows of a long history end this many positions apart (`trainingWindows`):
        /// below `maximumLength` they overlap, so a target late in a history is trained with at
        /// least `maximumLength − windowStride` items before it, nearer what it sees when
        /// scored. Nil: half of `maximumLength`.
        public var windowStride: Int?

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(SequenceEncoderSettings.keys + NeuralTrainingSettings.keys + ["window-stride", "refit"])
            encoder = try SequenceEncoderSettings(parameters: parameters, defaults: encoder)
            training = try NeuralTrainingSettings(parameters: parameters, defaults: training)
            if parameters.string("window-stride") != nil { windowStride = try parameters.int("window-stride", default: 1, range: 1...4096) }
        }

        public func checkSaved() throws(ModelError) { try encoder.checkSaved() }
    }

    public static let name = "sasrec"
    public static let summary = "SASRec self-attentive sequential model (Kang & McAuley 2018), trained natively with full softmax"
    public static var trainsByEpochs: Bool { true }

    public let configuration: Configuration
    public let data: InteractionMatrix
    let encoder: SequenceEncoder

    static func makeEncoder(_ c: Configuration, items: Int) -> SequenceEncoder {
        c.encoder.encoder(tokens: items + 1, causal: true, seed: c.training.seed)
    }

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "SASRec needs at least one interaction") }
        self.configuration = configuration
        self.data = data
        let c = configuration.encoder, itemCount = data.itemCount
        encoder = try fitSequenceNetwork(model: Self.name, histories: data.histories, settings: configuration.training,
                                         make: { Self.makeEncoder(configuration, items: itemCount) }) { encoder, histories, validation, settings throws(ModelError) in
            let windows = NextItemWindows(histories, length: c.maximumLength, stride: configuration.windowStride ?? max(1, c.maximumLength / 2))
            guard windows.count > 0 else {
                throw ModelError(.noTrainingData, "SASRec needs a user with at least two interactions to learn what comes next")
            }
            var adam = settings.optimizer()
            let parameters = encoder.parameters
            TrainingLog.report("sasrec: \(windows.count) windows of up to \(c.maximumLength) items, \(parameters.reduce(0) { $0 + $1.count }) parameters")
            return try trainByEpochs(model: Self.name, parameters: parameters, settings: settings, examples: windows.count, step: { batch, generator in
                let (tokens, targets, counts, length) = windows.batch(batch)
                let (hidden, tape) = encoder.forward(tokens: tokens, batch: batch.count, length: length, counts: counts,
                                                     dropout: c.dropout, attentionDropout: c.attentionDropout, generator: &generator)
                let (loss, dHidden) = SoftmaxCrossEntropy.full(hidden: hidden, rows: batch.count * length, width: c.factors, targets: targets,
                                                               table: encoder.items.table, first: 1, classes: itemCount)
                encoder.backward(dHidden, tape: tape, batch: batch.count, length: length)
                adam.update(parameters)
                return loss
            }, validate: validation.map { v in { v.ndcg { Self.sequenceScores(encoder, c, items: itemCount, history: $0.history) } } })
        }
    }

    /// Scores of every item after `history` (oldest first; the latest `maximumLength` count).
    func sequenceScores(_ history: [Int32]) -> [Float] {
        Self.sequenceScores(encoder, configuration.encoder, items: data.itemCount, history: history)
    }

    static func sequenceScores(_ encoder: SequenceEncoder, _ c: SequenceEncoderSettings, items itemCount: Int, history: [Int32]) -> [Float] {
        guard !history.isEmpty else { return [Float](repeating: 0, count: itemCount) }
        let recent = history.suffix(c.maximumLength).map { $0 + 1 }
        var none = SeededGenerator(seed: 0)
        let (hidden, _) = encoder.forward(tokens: recent, batch: 1, length: recent.count, counts: [recent.count], dropout: 0,
                                          attentionDropout: 0, generator: &none)
        let d = c.factors
        return encoder.itemScores(Array(hidden[((recent.count - 1) * d)..<(recent.count * d)]), items: itemCount)
    }

    /// Similar items: cosine between item embeddings.
    public func itemSimilarities(to item: Int) -> [Float]? { encoder.itemSimilarities(to: item, count: data.itemCount) }

    public func archive(into archive: inout ModelArchive) {
        NeuralArchive.store(encoder.parameters, prefix: "sasrec.", into: &archive)
    }

    /// New items get zero embeddings after the known items' (token 0 is padding) and the
    /// trained encoder stays (`extendingArchive(to:rows:)`): a new item scores 0.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: [ItemRows(key: "sasrec.items", before: 1)])
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        try configuration.encoder.checkStored(tokens: data.itemCount + 1, prefix: "sasrec.", in: archive)
        encoder = Self.makeEncoder(configuration, items: data.itemCount)
        try NeuralArchive.restore(encoder.parameters, prefix: "sasrec.", from: archive)
    }
}

/// Next-item training windows: for each history s, inputs s₀…s_{n−2} and targets s₁…s_{n−1},
/// cut by `trainingWindows`; a window's positions before its `lossFrom` carry no target.
struct NextItemWindows: Sendable {
    var inputs: [[Int32]] = []
    var targets: [[Int32]] = []

    init(_ histories: [[Int32]], length: Int, stride: Int) {
        for history in histories where history.count >= 2 {
            let input = Array(history.dropLast()), target = Array(history.dropFirst())
            for window in trainingWindows(count: input.count, length: length, stride: stride) {
                inputs.append(Array(input[window.range]))
                targets.append(target[window.range].enumerated().map { $0.offset < window.lossFrom ? -1 : $0.element })
            }
        }
    }

    var count: Int { inputs.count }

    /// Tokens (item + 1, 0 after the end), targets (−1 after the end), real lengths, and the
    /// padded length (the longest window in the batch).
    func batch(_ indices: [Int]) -> (tokens: [Int32], targets: [Int32], counts: [Int], length: Int) {
        let length = indices.map { inputs[$0].count }.max() ?? 0
        var tokens = [Int32](repeating: 0, count: indices.count * length)
        var out = [Int32](repeating: -1, count: indices.count * length)
        for (b, w) in indices.enumerated() {
            for (p, item) in inputs[w].enumerated() {
                tokens[b * length + p] = item + 1
                out[b * length + p] = targets[w][p]
            }
        }
        return (tokens, out, indices.map { inputs[$0].count }, length)
    }
}
