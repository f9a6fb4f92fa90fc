/// One page of a ranking without sorting everything: the `limit` items after the first
/// `offset` in `areInIncreasingOrder`'s order, found by keeping the best `offset + limit`
/// seen so far. `/api/users` ranks 100,000 users for a page of 100; a full sort took
/// 150-270 ms there. Pages deep in the ranking (over a quarter of it) are sorted in full.
public enum PageSelection {
    public static func page<Item>(
        of items: some Collection<Item>, offset: Int, limit: Int, by areInIncreasingOrder: (Item, Item) -> Bool
    ) -> [Item] {
        guard limit > 0, offset < items.count else { return [] }
        let (keep, overflow) = offset.addingReportingOverflow(limit)
        guard !overflow, keep <= items.count / 4 else {
            return Array(items.sorted(by: areInIncreasingOrder).dropFirst(offset).prefix(limit))
        }
        // The best `keep` so far, in order; a new item goes in by binary search when it
        // beats the last.
        var best: [Item] = []
        best.reserveCapacity(keep + 1)
        for item in items {
            if best.count == keep {
                guard let last = best.last, areInIncreasingOrder(item, last) else { continue }
            }
            best.insert(item, at: best.partitioningIndex { areInIncreasingOrder(item, $0) })
            if best.count > keep { best.removeLast() }
        }
        return Array(best.dropFirst(offset))
    }
}
