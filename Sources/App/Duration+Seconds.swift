extension Duration {
    /// As fractional seconds, for reports and `Thread.sleep`.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
