import Foundation
import HTTPTestSupport
import Synchronization
import Testing

@Suite("The tests' blocking socket")
struct TestSocketTests {
    /// A refused connect closed its descriptor, and the deinit of the half-made socket
    /// closed the same number again. By then another thread could own that number: the
    /// full suite died in SwiftNIO ("unacceptable errno 9 Bad file descriptor in write")
    /// when the gateway's socket was the one closed. Here one thread keeps opening and
    /// checking descriptors while another makes refused connects.
    @Test("a refused connect closes its descriptor once, never another thread's")
    func refusedConnectClosesOnce() throws {
        // A port nobody listens on: bound, never listened to, then released.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(probe)

        let done = Atomic(false)
        let lost = Atomic(0)
        let owner = Thread {
            while !done.load(ordering: .acquiring) {
                let fd = open("/dev/null", O_RDONLY)
                guard fd >= 0 else { continue }
                for _ in 0..<20 where fcntl(fd, F_GETFD) == -1 { lost.add(1, ordering: .relaxed) }
                if close(fd) != 0 { lost.add(1, ordering: .relaxed) }
            }
        }
        owner.start()
        var refused = 0
        for _ in 0..<3000 {
            if (try? TestSocket(host: "127.0.0.1", port: port)) == nil { refused += 1 }
        }
        done.store(true, ordering: .releasing)
        #expect(refused == 3000)
        #expect(lost.load(ordering: .relaxed) == 0, "descriptors of another thread closed under it")
    }
}
