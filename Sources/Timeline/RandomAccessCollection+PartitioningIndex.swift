extension RandomAccessCollection {
    /// The first index whose element satisfies `belongsAfter`, by binary search: the
    /// predicate must be false for a prefix of the collection and true for the rest
    /// (`endIndex` when it is true for none). Where a new item goes in a sorted array,
    /// and where the entries after a version start.
    func partitioningIndex(where belongsAfter: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if belongsAfter(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}
