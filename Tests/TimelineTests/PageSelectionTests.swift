import Testing
import Timeline

@Suite("One page of a ranking without sorting everything")
struct PageSelectionTests {
    /// The same page as a full sort, for every offset and limit around the edges, with
    /// ties broken by a second key (as /api/users breaks them by user id).
    @Test("equals sorted().dropFirst(offset).prefix(limit) for random, sorted, reversed and tied input")
    func matchesAFullSort() {
        var generator = SystemRandomNumberGenerator()
        let inputs: [[(Int, Int)]] = [
            (0..<1000).map { ($0 % 7, $0) }.shuffled(using: &generator),
            (0..<1000).map { ($0, $0) },
            (0..<1000).reversed().map { ($0, $0) },
            (0..<1000).map { _ in (1, Int.random(in: 0..<5000, using: &generator)) },
            [],
            [(3, 1)],
        ]
        let order: ((Int, Int), (Int, Int)) -> Bool = { ($0.0, $1.1) > ($1.0, $0.1) }
        for input in inputs {
            let sorted = input.sorted(by: order)
            for offset in [0, 1, 5, 99, 249, 250, 251, 999, 1000, 5000] {
                for limit in [0, 1, 10, 100, 1000] {
                    let page = PageSelection.page(of: input, offset: offset, limit: limit, by: order)
                    let expected = Array(sorted.dropFirst(offset).prefix(limit))
                    #expect(page.map(\.0) == expected.map(\.0) && page.map(\.1) == expected.map(\.1), "offset \(offset) limit \(limit) of \(input.count)")
                }
            }
        }
        // An offset near Int.max does not overflow.
        #expect(PageSelection.page(of: [(1, 1), (2, 2)], offset: Int.max, limit: 5, by: order).isEmpty)
        #expect(PageSelection.page(of: Array(0..<100), offset: 2, limit: Int.max, by: <) == Array(2..<100))
    }
}
