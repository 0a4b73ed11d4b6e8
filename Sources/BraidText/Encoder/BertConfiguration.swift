internal import Foundation

/// The parts of a BERT-family `config.json` the encoder needs.
public struct BertConfiguration: Sendable, Equatable, Decodable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maximumPositions: Int
    public var layerNormEpsilon: Float
    public var activation: String
    public var typeVocabularySize: Int
    public var vocabularySize: Int

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", layers = "num_hidden_layers", heads = "num_attention_heads"
        case intermediateSize = "intermediate_size", maximumPositions = "max_position_embeddings"
        case layerNormEpsilon = "layer_norm_eps", activation = "hidden_act", typeVocabularySize = "type_vocab_size"
        case vocabularySize = "vocab_size"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        maximumPositions = try c.decodeIfPresent(Int.self, forKey: .maximumPositions) ?? 512
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu"
        typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? 2
        vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? 0
    }

    public init(hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int, maximumPositions: Int = 512,
                layerNormEpsilon: Float = 1e-12, activation: String = "gelu", typeVocabularySize: Int = 2, vocabularySize: Int = 0) {
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maximumPositions = maximumPositions
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
        self.typeVocabularySize = typeVocabularySize
        self.vocabularySize = vocabularySize
    }
}
