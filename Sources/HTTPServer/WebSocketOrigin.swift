/// Which pages may open the WebSocket: browsers send the page's origin with the upgrade,
/// and a page on another site must not read the class's live stream through a
/// visitor's browser.
public enum WebSocketOrigin {
    /// Whether an upgrade with this `Origin` may open: none sent (not a browser), the
    /// origin's authority equals the `Host` the request was sent to (the page's own), or
    /// it is listed exactly.
    public static func isAllowed(_ origin: String?, host: String?, listed: Set<String>) -> Bool {
        guard let origin else { return true }
        if listed.contains(origin) { return true }
        guard let host, !host.isEmpty else { return false }
        let lowered = origin.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            return lowered.dropFirst(scheme.count) == host.lowercased()
        }
        return false
    }
}
