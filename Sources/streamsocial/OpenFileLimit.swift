import Glibc

/// The process's open-file limit, raised before anything opens a socket: every client of
/// the Kafka gateway costs three descriptors here (its connection, the gateway's to the
/// broker, and the embedded broker's end of that one), so a default soft limit of 1,024
/// would refuse a class of a few hundred connections before the gateway's own bounds do.
enum OpenFileLimit {
    /// Raises the soft limit to the hard one (at most `ceiling`); returns the limit now.
    @discardableResult
    static func raise(ceiling: rlim_t = 65_536) -> rlim_t {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        let wanted = min(limit.rlim_max, ceiling)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        return limit.rlim_cur
    }
}
