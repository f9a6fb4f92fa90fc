/// Brings a sorted array up to date when some of its items changed: the changed items'
/// old entries are dropped and their new ones merged in, O(n + m log m) for m changes
/// instead of sorting all n again.
public enum SortedMerge {
    /// `sorted` (in `areInIncreasingOrder`'s order) with every item whose key is among
    /// `changed`'s replaced by its entry in `changed`; items of `changed` not in `sorted`
    /// are added. When a key repeats in `changed`, the last entry wins.
    public static func replacing<Item, Key: Hashable>(
        in sorted: [Item], with changed: [Item], key: (Item) -> Key, by areInIncreasingOrder: (Item, Item) -> Bool
    ) -> [Item] {
        guard !changed.isEmpty else { return sorted }
        var latest: [Key: Item] = [:]
        for item in changed { latest[key(item)] = item }
        let fresh = latest.values.sorted(by: areInIncreasingOrder)
        var merged: [Item] = []
        merged.reserveCapacity(sorted.count + fresh.count)
        var next = fresh.startIndex
        for item in sorted where latest[key(item)] == nil {
            while next < fresh.endIndex, areInIncreasingOrder(fresh[next], item) {
                merged.append(fresh[next])
                next += 1
            }
            merged.append(item)
        }
        merged.append(contentsOf: fresh[next...])
        return merged
    }
}
