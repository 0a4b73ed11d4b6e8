public import BraidCore
import BraidNeural
import Foundation

/// Neural matrix factorization, NeuMF (He et al. 2017): a generalized matrix factorization
/// branch (the element-wise product of user and item embeddings) and a multi-layer perceptron
/// branch over separate, concatenated user and item embeddings (a tower that halves its width
/// per layer down to the predictive factors), joined by one output layer. Trained from scratch
/// (the paper also pretrains each branch) on each positive pair and `negatives` uniformly
/// sampled unobserved items, with binary cross-entropy and Adam, as the paper's experiments.
/// Scores only the users it was trained on.
public struct NeuMF: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        /// Predictive factors f: the GMF embedding width and the MLP's last layer; the MLP
        /// embeddings are 2f wide and its layers 4f → 2f → f.
        public var factors = 32
        /// Sampled negatives per positive.
        public var negatives = 4
        public var training = NeuralTrainingSettings(epochs: 20, batchSize: 256, patience: 5)

        public init() {}

        static let factorRange = NeuralTrainingSettings.factorRange

        public func checkSaved() throws(ModelError) { try expectSaved("factors", factors, in: Self.factorRange) }

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["factors", "negatives"] + NeuralTrainingSettings.keys)
            factors = try parameters.int("factors", default: factors, range: Self.factorRange)
            negatives = try parameters.int("negatives", default: negatives, range: 1...1000)
            training = try NeuralTrainingSettings(parameters: parameters, defaults: training)
        }
    }

    public static let name = "neumf"
    public static let summary = "NeuMF neural collaborative filtering (He et al. 2017): GMF + MLP, sampled negatives, binary cross-entropy"
    public static var trainsByEpochs: Bool { true }

    public let configuration: Configuration
    public let data: InteractionMatrix
    let network: Network
    /// `network.itemHalf()`, kept so that a user's scores cost one pass of the small layers.
    let itemHalf: [Float]

    struct Network: Sendable {
        let userGMF: Embedding, itemGMF: Embedding, userMLP: Embedding, itemMLP: Embedding
        let layer1: Linear, layer2: Linear, output: Linear
        let f: Int

        init(users: Int, items: Int, factors f: Int, seed: UInt64) {
            var g = SeededGenerator(seed: seed, stream: 0x4E)
            self.f = f
            userGMF = Embedding("user.gmf", count: users, width: f, std: 0.01, generator: &g)
            itemGMF = Embedding("item.gmf", count: items, width: f, std: 0.01, generator: &g)
            userMLP = Embedding("user.mlp", count: users, width: 2 * f, std: 0.01, generator: &g)
            itemMLP = Embedding("item.mlp", count: items, width: 2 * f, std: 0.01, generator: &g)
            layer1 = Linear("mlp.1", input: 4 * f, output: 2 * f, std: (2 / Float(4 * f)).squareRoot(), generator: &g)
            layer2 = Linear("mlp.2", input: 2 * f, output: f, std: (2 / Float(2 * f)).squareRoot(), generator: &g)
            output = Linear("output", input: 2 * f, output: 1, std: (1 / Float(2 * f)).squareRoot(), generator: &g)
        }

        var parameters: [Parameter] {
            userGMF.parameters + itemGMF.parameters + userMLP.parameters + itemMLP.parameters + layer1.parameters + layer2.parameters + output.parameters
        }

        struct Tape {
            var pg: [Float], qg: [Float], x: [Float], z1: [Float], a1: [Float], z2: [Float], joined: [Float]
        }

        /// Logits of (users[r], items[r]) pairs.
        func forward(users: [Int32], items: [Int32]) -> (logits: [Float], tape: Tape) {
            let rows = users.count
            let pg = userGMF.forward(users), qg = itemGMF.forward(items)
            let pm = userMLP.forward(users), qm = itemMLP.forward(items)
            var x = [Float](repeating: 0, count: rows * 4 * f)
            for r in 0..<rows {
                x.replaceSubrange((r * 4 * f)..<(r * 4 * f + 2 * f), with: pm[(r * 2 * f)..<((r + 1) * 2 * f)])
                x.replaceSubrange((r * 4 * f + 2 * f)..<((r + 1) * 4 * f), with: qm[(r * 2 * f)..<((r + 1) * 2 * f)])
            }
            let z1 = layer1.forward(x, rows: rows)
            let a1 = Activation.relu.forward(z1)
            let top = upper(a1, gmf: zip(pg, qg).map { $0 * $1 }, rows: rows)
            return (top.logits, Tape(pg: pg, qg: qg, x: x, z1: z1, a1: a1, z2: top.z2, joined: top.joined))
        }

        /// The network above the first MLP layer: the second layer and its ReLU, joined to the
        /// GMF products (rows × f each), then the output layer.
        func upper(_ a1: [Float], gmf: [Float], rows: Int) -> (logits: [Float], z2: [Float], joined: [Float]) {
            let z2 = layer2.forward(a1, rows: rows)
            let a2 = Activation.relu.forward(z2)
            var joined = [Float](repeating: 0, count: rows * 2 * f)
            joined.withUnsafeMutableBufferPointer { out in
                gmf.withUnsafeBufferPointer { g in
                    a2.withUnsafeBufferPointer { a in
                        for r in 0..<rows {
                            (out.baseAddress! + r * 2 * f).update(from: g.baseAddress! + r * f, count: f)
                            (out.baseAddress! + r * 2 * f + f).update(from: a.baseAddress! + r * f, count: f)
                        }
                    }
                }
            }
            return (output.forward(joined, rows: rows), z2, joined)
        }

        /// The item half of the first MLP layer for every item, Q_mlp · W₁[2f..<4f] (items × 2f):
        /// with it, a user's scores over the catalogue compute the layer's user half once
        /// instead of once per item.
        func itemHalf() -> [Float] {
            let width = 2 * f
            var half = [Float](repeating: 0, count: itemMLP.count * width)
            Matmul.multiply(itemMLP.table.value, Array(layer1.weight.value[(width * width)...]), m: itemMLP.count, n: width, k: width, into: &half)
            return half
        }

        /// Every item's logit for `user`, equal to `forward` over every (user, item) pair.
        func allItemLogits(user: Int32, itemHalf: [Float]) -> [Float] {
            let width = 2 * f, n = itemHalf.count / width, f = f, u = Int(user)
            // The same sums as element by element, through pointers: the loops vectorize.
            var userHalf = layer1.bias.value
            layer1.weight.value.withUnsafeBufferPointer { w in
                userMLP.table.value.withUnsafeBufferPointer { pm in
                    userHalf.withUnsafeMutableBufferPointer { half in
                        for k in 0..<width {
                            let x = pm[u * width + k]
                            for j in 0..<width { half[j] += x * w[k * width + j] }
                        }
                    }
                }
            }
            var a1 = itemHalf
            a1.withUnsafeMutableBufferPointer { a in
                userHalf.withUnsafeBufferPointer { half in
                    for r in 0..<n {
                        let row = a.baseAddress! + r * width
                        for j in 0..<width { row[j] = max(0, row[j] + half[j]) }
                    }
                }
            }
            var gmf = [Float](repeating: 0, count: n * f)
            userGMF.table.value.withUnsafeBufferPointer { pg in
                itemGMF.table.value.withUnsafeBufferPointer { qg in
                    gmf.withUnsafeMutableBufferPointer { out in
                        let p = pg.baseAddress! + u * f
                        for r in 0..<n {
                            for k in 0..<f { out[r * f + k] = p[k] * qg[r * f + k] }
                        }
                    }
                }
            }
            return upper(a1, gmf: gmf, rows: n).logits
        }

        func backward(_ dLogits: [Float], tape: Tape, users: [Int32], items: [Int32]) {
            let rows = users.count
            let dJoined = output.backward(dLogits, input: tape.joined, rows: rows)
            var dPg = [Float](repeating: 0, count: rows * f), dQg = dPg, dA2 = dPg
            for r in 0..<rows {
                for k in 0..<f {
                    let dg = dJoined[r * 2 * f + k]
                    dPg[r * f + k] = dg * tape.qg[r * f + k]
                    dQg[r * f + k] = dg * tape.pg[r * f + k]
                    dA2[r * f + k] = dJoined[r * 2 * f + f + k]
                }
            }
            let dA1 = layer2.backward(Activation.relu.backward(dA2, input: tape.z2), input: tape.a1, rows: rows)
            let dX = layer1.backward(Activation.relu.backward(dA1, input: tape.z1), input: tape.x, rows: rows)
            var dPm = [Float](repeating: 0, count: rows * 2 * f), dQm = dPm
            for r in 0..<rows {
                dPm.replaceSubrange((r * 2 * f)..<((r + 1) * 2 * f), with: dX[(r * 4 * f)..<(r * 4 * f + 2 * f)])
                dQm.replaceSubrange((r * 2 * f)..<((r + 1) * 2 * f), with: dX[(r * 4 * f + 2 * f)..<((r + 1) * 4 * f)])
            }
            userGMF.backward(dPg, indices: users)
            itemGMF.backward(dQg, indices: items)
            userMLP.backward(dPm, indices: users)
            itemMLP.backward(dQm, indices: items)
        }
    }

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "NeuMF needs interactions") }
        self.configuration = configuration
        self.data = data
        let c = configuration, itemCount = data.itemCount
        let network = Network(users: data.userCount, items: itemCount, factors: c.factors, seed: c.training.seed)
        self.network = network
        let (histories, validation) = NextItemValidation.carve(data.histories, patience: c.training.patience)
        let seen = histories.map { Set($0) }
        var pairs: [(user: Int32, item: Int32)] = []
        for (u, history) in histories.enumerated() { for item in history { pairs.append((Int32(u), item)) } }
        guard !pairs.isEmpty else { throw ModelError(.noTrainingData, "NeuMF needs interactions") }
        var adam = c.training.optimizer()
        let parameters = network.parameters, negatives = c.negatives
        TrainingLog.report("neumf: \(pairs.count) positives, \(negatives) negatives each, \(parameters.reduce(0) { $0 + $1.count }) parameters")
        try trainByEpochs(model: Self.name, parameters: parameters, settings: c.training, examples: pairs.count, step: { batch, generator in
            var users: [Int32] = [], items: [Int32] = [], labels: [Float] = []
            for k in batch {
                let (u, i) = pairs[k]
                users.append(u); items.append(i); labels.append(1)
                let userSeen = seen[Int(u)]
                guard userSeen.count < itemCount else { continue }
                for _ in 0..<negatives {
                    var j: Int32
                    repeat { j = Int32(generator.next() % UInt64(itemCount)) } while userSeen.contains(j)
                    users.append(u); items.append(j); labels.append(0)
                }
            }
            let (logits, tape) = network.forward(users: users, items: items)
            let (loss, dLogits) = BinaryCrossEntropy.withLogits(logits, labels: labels)
            network.backward(dLogits, tape: tape, users: users, items: items)
            adam.update(parameters)
            return loss
        }, validate: validation.map { v in {
            let half = network.itemHalf()
            return v.ndcg { network.allItemLogits(user: Int32($0.user), itemHalf: half) }
        } })
        itemHalf = network.itemHalf()
    }

    /// The logit of every item.
    public func scores(forUser user: Int) -> [Float] { network.allItemLogits(user: Int32(user), itemHalf: itemHalf) }

    /// Similar items: cosine between the items' GMF embeddings, the matrix-factorization half
    /// of the network's item representation.
    public func itemSimilarities(to item: Int) -> [Float]? {
        network.itemGMF.table.value.withUnsafeBufferPointer {
            VectorKernels.rowCosines($0.baseAddress!, count: data.itemCount, width: configuration.factors, to: item)
        }
    }

    public func archive(into archive: inout ModelArchive) {
        NeuralArchive.store(network.parameters, prefix: "neumf.", into: &archive)
    }

    /// New items get zero embeddings and the trained network stays (`extendingArchive(to:rows:)`):
    /// no epoch of 20 over every interaction again.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: [ItemRows(key: "neumf.item.gmf"), ItemRows(key: "neumf.item.mlp")])
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        try NeuralArchive.expect("neumf.item.gmf", count: data.itemCount * configuration.factors, in: archive)
        network = Network(users: data.userCount, items: data.itemCount, factors: configuration.factors, seed: 0)
        try NeuralArchive.restore(network.parameters, prefix: "neumf.", from: archive)
        itemHalf = network.itemHalf()
    }
}
