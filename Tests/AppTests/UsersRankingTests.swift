@testable import App
import Foundation
import HTTPTestSupport
import Kafka
import Testing
import Timeline

@Suite("/api/users' kept rankings")
struct UsersRankingTests {
    /// `count` users with one post each, `busy` with five, applied as the consumer does.
    static func service(users count: Int, busy: String) -> (TimelineService, Int64) {
        let service = TimelineService(partitionCount: 6, timelineCapacity: 100, recentMessages: 10, logger: quietLogger)
        var offset: Int64 = 0
        for index in 0..<count {
            _ = service.apply(TimelineServiceTests.record(String(format: "u%06d", index), seq: 1, partition: 0, offset: offset), now: 1)
            offset += 1
        }
        for seq in 1...5 {
            _ = service.apply(TimelineServiceTests.record(busy, seq: Int64(seq), partition: 1, offset: Int64(seq - 1)), now: 1)
        }
        return (service, offset)
    }

    @Test("a small class is ranked exactly on every request: a new post counts at once")
    func smallIsExact() {
        let (service, offset) = Self.service(users: 200, busy: "zed")
        let ranking = UsersRanking(service: service)
        #expect(ranking.page(order: .posts, offset: 0, limit: 2).users.map(\.key) == ["zed", "u000000"])
        for seq in 2...7 {
            _ = service.apply(TimelineServiceTests.record("u000199", seq: Int64(seq), partition: 0, offset: offset + Int64(seq)), now: 1)
        }
        #expect(ranking.page(order: .posts, offset: 0, limit: 2).users.map(\.key) == ["u000199", "zed"])
        #expect(ranking.page(order: .user, offset: 199, limit: 5).users.map(\.key) == ["u000199", "zed"])
        #expect(ranking.page(order: .posts, offset: 0, limit: 2).total == 201)
    }

    @Test("a large class is served from the kept ranking, at most a second behind, then the rebuilt one")
    func largeIsKeptThenRebuilt() async {
        let (service, offset) = Self.service(users: UsersRanking.exactBelow, busy: "zed")
        let ranking = UsersRanking(service: service)
        let first = ranking.page(order: .posts, offset: 0, limit: 3)
        #expect(first.total == UsersRanking.exactBelow + 1)
        #expect(first.users.map(\.key) == ["zed", "u000000", "u000001"])
        #expect(first.users.first?.value.postCount == 5)
        // The same pages as a full sort, deep ones included.
        let sorted = service.standings().standings.sorted(by: UsersRanking.precedes(.violations)).map(\.key)
        #expect(ranking.page(order: .violations, offset: 5_000, limit: 100).users.map(\.key) == Array(sorted[5_000..<5_100]))
        #expect(ranking.page(order: .user, offset: 10_000, limit: 100).users.map(\.key) == ["zed"])
        #expect(ranking.page(order: .user, offset: 20_000, limit: 100).users.isEmpty)

        // A new leader: the kept ranking answers at once, the rebuilt one within a second or so.
        for seq in 2...9 {
            _ = service.apply(TimelineServiceTests.record("u009999", seq: Int64(seq), partition: 0, offset: offset + Int64(seq)), now: 1)
        }
        #expect(ranking.page(order: .posts, offset: 0, limit: 1).users.map(\.key) == ["zed"])
        #expect(await eventuallyAsync(timeout: .seconds(5)) { ranking.page(order: .posts, offset: 0, limit: 1).users.map(\.key) == ["u009999"] })
        #expect(ranking.page(order: .posts, offset: 0, limit: 1).users.first?.value.postCount == 9)
        // Brought up to date by moving the changed user, not by ranking everyone again:
        // still the very order of a full sort, every page of it.
        let everyone = service.standings().standings.sorted(by: UsersRanking.precedes(.posts)).map(\.key)
        #expect(ranking.page(order: .posts, offset: 0, limit: everyone.count).users.map(\.key) == everyone)
    }

    @Test("a failed send that explains a gap moves its user in the kept violations ranking")
    func holeWithdrawsAViolation() async {
        let (service, offset) = Self.service(users: UsersRanking.exactBelow, busy: "zed")
        // zzgappy posts 1 then 3: a gap (2 missing), one violation, first in the ranking.
        _ = service.apply(TimelineServiceTests.record("zzgappy", seq: 1, partition: 2, offset: offset), now: 1)
        _ = service.apply(TimelineServiceTests.record("zzgappy", seq: 3, partition: 2, offset: offset + 1), now: 1)
        let ranking = UsersRanking(service: service)
        #expect(ranking.page(order: .violations, offset: 0, limit: 1).users.map(\.key) == ["zzgappy"])
        // Post 2's send failed: a known hole, not a gap. Nobody has a violation now, so
        // the ranking is by name and zzgappy is last.
        service.sendFailed(userID: "zzgappy", sequence: 2)
        #expect(await eventuallyAsync(timeout: .seconds(5)) {
            ranking.page(order: .violations, offset: 0, limit: 1).users.map(\.key) == ["u000000"]
        })
        let everyone = service.standings().standings.sorted(by: UsersRanking.precedes(.violations)).map(\.key)
        #expect(everyone.last == "zzgappy")
        #expect(ranking.page(order: .violations, offset: 0, limit: everyone.count).users.map(\.key) == everyone)
    }
}
