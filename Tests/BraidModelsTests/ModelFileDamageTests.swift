import BraidCore
import BraidTestSupport
@testable import BraidModels
import Foundation
import Testing

/// A model file whose checksum is right but whose contents are not (written by a bug, edited by
/// hand, crafted) is refused with an error or loads into a model that answers: it never stops
/// the process. Every model's file is damaged one way at a time (`ModelFileDamage`: each array
/// shortened, lengthened, emptied, given out-of-range indices or non-finite values; each scalar
/// and configuration number made negative, zero or huge; a vocabulary shortened), then loaded
/// and asked for scores, lists, similar items, a history's scores and explanations.
@Suite struct ModelFileDamageTests {
    /// The contract cases (every model but content-dense, which needs the text model:
    /// BraidTextTests damages its files), each fitted on ratings with timestamps and item
    /// metadata.
    @Test(arguments: ModelContract.cases.indices)
    func damagedFilesAreRefusedOrAnswer(index: Int) throws {
        let c = ModelContract.cases[index]
        let archive = ModelRegistry.archive(try ModelContract.fit(c, Fixtures.randomRatings(users: 12, items: 10, perUser: 4)))
        let problems = ModelFileDamage.problems(archive, subject: "\(c)")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
