import BraidCore
import BraidNeural
import Testing

/// A parameter's gradient exists only while training writes it: a network that only scores
/// (read from its file, or fitted and done) holds its values alone.
@Suite struct ParameterTests {
    @Test func theGradientIsAllocatedByTheFirstWriteAndFreedAfterTraining() {
        let p = Parameter("w", shape: [2, 3], value: [1, 2, 3, 4, 5, 6])
        #expect(!p.holdsGradient && p.gradient == [0, 0, 0, 0, 0, 0], "reads as zeros before any write")
        #expect(!p.holdsGradient, "reading does not allocate")
        p.zeroGradient()
        #expect(!p.holdsGradient)
        p.gradient[4] += 2
        #expect(p.holdsGradient && p.gradient == [0, 0, 0, 0, 2, 0])
        // One Adam step from a gradient of 2 at index 4: the bias-corrected moments are 2 and 4,
        // so the step is lr·2/(√4 + ε) = lr (Kingma & Ba's first step is ±lr), and the
        // gradient is zeroed; indices without a gradient move by 0.
        var adam = Adam(learningRate: 0.1)
        adam.update([p])
        #expect(abs(p.value[4] - 4.9) < 1e-6 && p.value[0] == 1 && p.gradient == [0, 0, 0, 0, 0, 0])
        p.releaseTrainingState()
        #expect(!p.holdsGradient && p.gradient.count == 6 && p.value[4] < 5)
        // Training again after the release works from zeros.
        p.gradient.withUnsafeMutableBufferPointer { $0[0] = 1 }
        #expect(p.gradient == [1, 0, 0, 0, 0, 0])
    }
}
