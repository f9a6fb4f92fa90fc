import Testing
import Timeline

@Suite("Keeping a ranking sorted as its items change")
struct SortedMergeTests {
    struct Entry: Equatable {
        var key: Int
        var score: Int
    }

    /// Highest score first, ties by key: the shape of /api/users' orders.
    static func order(_ a: Entry, _ b: Entry) -> Bool { (a.score, b.key) > (b.score, a.key) }

    @Test("equals a full sort of the changed list: rounds of random changes, new items, repeats and ties")
    func matchesAFullSort() {
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 2, 10, 1000] {
            var current = (0..<size).map { Entry(key: $0, score: Int.random(in: 0..<5, using: &generator)) }
            var ranked = current.sorted(by: Self.order)
            for _ in 0..<20 {
                let changes = (0..<Int.random(in: 0...30, using: &generator)).map { _ in
                    // Keys past the end are new items; scores collide often.
                    Entry(key: Int.random(in: 0..<(size + 5), using: &generator), score: Int.random(in: 0..<8, using: &generator))
                }
                for change in changes {
                    if let index = current.firstIndex(where: { $0.key == change.key }) { current[index] = change } else { current.append(change) }
                }
                ranked = SortedMerge.replacing(in: ranked, with: changes, key: \.key, by: Self.order)
                #expect(ranked == current.sorted(by: Self.order), "size \(size)")
            }
        }
    }

    @Test("no change returns the list as it was")
    func noChange() {
        let sorted = [Entry(key: 1, score: 9), Entry(key: 0, score: 1)]
        #expect(SortedMerge.replacing(in: sorted, with: [], key: \.key, by: Self.order) == sorted)
    }
}

@Suite("Which users changed since a version")
struct UsersChangeLogTests {
    @Test("the users after a version, each once; nil once the log forgot that far back")
    func changedAfter() throws {
        var log = UsersChangeLog(capacity: 6)
        log.record("ada", at: 1)
        log.record("bob", at: 2)
        log.record("ada", at: 3)
        #expect(log.changed(after: 0) == ["ada", "bob"])
        #expect(log.changed(after: 2) == ["ada"])
        #expect(log.changed(after: 3) == [])
        #expect(log.changed(after: 99) == [])
        // Past the capacity the older half goes: versions 1-3 are forgotten.
        for version in 4...7 { log.record("u\(version)", at: UInt64(version)) }
        #expect(log.forgottenThrough == 3)
        #expect(log.changed(after: 2) == nil)
        #expect(log.changed(after: 3) == ["u4", "u5", "u6", "u7"])
        #expect(log.changed(after: 5) == ["u6", "u7"])
    }
}
