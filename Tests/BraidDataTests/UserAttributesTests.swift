import BraidCore
import BraidData
import BraidTestSupport
import Foundation
import Testing

@Suite struct UserAttributesTests {
    func load(_ text: String, name: String) throws(DataError) -> [String: UserRecord] {
        try UserAttributesImporter().importFile(Fixtures.temporaryFile(text, name: name))
    }

    func error(_ text: String, name: String) -> DataError? {
        do { _ = try load(text, name: name); return nil } catch { return error }
    }

    @Test func movieLens100kUsers() throws {
        let users = try load("1|24|M|technician|85711\n2|53|F|other|94043\n", name: "u.user")
        #expect(users.count == 2)
        #expect(users["1"] == UserRecord(id: "1", categories: ["gender=M", "occupation=technician", "zip=85711"], attributes: ["age": 24]))
        #expect(users["2"]?.attributes["age"] == 53)
    }

    @Test func movieLens1MUsersKeepTheirCodesAsCategories() throws {
        let users = try load("1::F::1::10::48067\n", name: "users.dat")
        #expect(users["1"] == UserRecord(id: "1", categories: ["gender=F", "age=1", "occupation=10", "zip=48067"]))
    }

    @Test func aGenericFileReadsNumbersAsAttributesAndTheRestAsCategories() throws {
        // The id column is found by its name, wherever it is; `|` separates several values; an
        // empty cell gives nothing; a column with one value that is not a number is categorical.
        let users = try load("country,user_id,tenure,plan\nFR,u1,3.5,pro|team\nDE,u2,,free\n,u3,12,7\n", name: "people.csv")
        #expect(users["u1"] == UserRecord(id: "u1", categories: ["country=FR", "plan=pro", "plan=team"], attributes: ["tenure": 3.5]))
        #expect(users["u2"] == UserRecord(id: "u2", categories: ["country=DE", "plan=free"]))
        #expect(users["u3"] == UserRecord(id: "u3", categories: ["plan=7"], attributes: ["tenure": 12]))
    }

    @Test func aUserDescribedTwiceNamesBothLines() {
        let error = error("user,country\na,FR\nb,DE\na,IT\n", name: "people.csv")
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("\"a\" is described twice, on lines 2 and 4") == true)
        #expect(error?.location?.line == 4)
    }

    @Test func badRowsAndEmptyFilesAreNamed() {
        let short = error("1|24|M|technician\n", name: "u.user")
        #expect(short?.code == .wrongColumnCount && short?.location?.line == 1)
        let ragged = error("user,country\na,FR,extra\n", name: "people.csv")
        #expect(ragged?.code == .wrongColumnCount && ragged?.location?.line == 2)
        #expect(error("user,country\n", name: "people.csv")?.code == .noDataRows)
        #expect(error(",FR\n", name: "people.csv") != nil)  // a header only
        let noID = error("user,country\n,FR\n", name: "people.csv")
        #expect(noID?.code == .invalidValue && noID?.location?.column == "user")
    }
}
