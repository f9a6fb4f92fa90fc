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
        // Port 1 on loopback: nobody listens there (as in the app's unreachable-Kafka tests).
        let port = 1

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
